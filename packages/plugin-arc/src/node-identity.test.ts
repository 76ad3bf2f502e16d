import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken } from '@flexnode/sdk';
import { MemoryHost } from '@flexnode/sdk/testing';
import { cliEntryPoint, tokenExecCommand } from './exec-command.js';
import { ArcNodeIdentity } from './node-identity.js';
import { MACHINE_RECORD } from './paths.js';
import { cachedToken } from './token-cache.js';

/** An identity whose endpoint is replaced by a counter (no HIMDS here, and never the cloud's metadata address). */
function countingIdentity(host: MemoryHost, cacheDir: string) {
  const id = new ArcNodeIdentity(host.forStep('service.arc-identity'), { cacheDir });
  const fetched: string[] = [];
  (id as unknown as { fetchToken(s: string): Promise<AccessToken> }).fetchToken = async (scope) => {
    fetched.push(scope);
    return { token: `fresh-${fetched.length}`, expiresOnTimestamp: Date.now() + 3_600_000 };
  };
  return { id, fetched };
}

describe('arc-identity service (ArcNodeIdentity)', () => {
  it('execCredential runs `flexnode token` with this Node.js and the CLI entry point', () => {
    const id = new ArcNodeIdentity(undefined, { bin: '/usr/lib/node_modules/@flexnode/cli/bin/run.js' });
    const exec = id.execCredential('6dae42f8-4368-4678-94ff-3960e28e3630');
    expect(exec.command).to.equal(process.execPath);
    expect(exec.args).to.deep.equal(['/usr/lib/node_modules/@flexnode/cli/bin/run.js', 'token', '--resource', '6dae42f8-4368-4678-94ff-3960e28e3630']);
  });

  it('finds the entry point from FLEXNODE_BIN or argv[1], never from an unrelated script', () => {
    expect(cliEntryPoint({ FLEXNODE_BIN: '/opt/flexnode/bin/run.js' }, ['node', '/x/mocha'])).to.equal('/opt/flexnode/bin/run.js');
    expect(cliEntryPoint({}, ['node', '/usr/local/bin/flexnode'])).to.equal('/usr/local/bin/flexnode');
    expect(cliEntryPoint({}, ['node', '/repo/packages/cli/bin/run.js'])).to.equal('/repo/packages/cli/bin/run.js');
    expect(cliEntryPoint({}, ['node', '/x/node_modules/mocha/bin/mocha.js'])).to.equal(undefined);
    expect(new ArcNodeIdentity(undefined, {}).execCredential('r').command).to.be.oneOf(['flexnode', process.execPath]);
  });

  it("runs the release's own command (FLEXNODE_COMMAND) as is: no version directory or Node.js binary in the kubeconfig", () => {
    const release = { FLEXNODE_COMMAND: '/opt/flexnode/current/bin/flexnode', FLEXNODE_BIN: '/opt/flexnode/0.1.0/lib/run.js', IMDS_ENDPOINT: 'http://i' };
    expect(tokenExecCommand('r', undefined, release)).to.deep.equal({
      command: '/opt/flexnode/current/bin/flexnode',
      args: ['token', '--resource', 'r'],
      env: { IMDS_ENDPOINT: 'http://i' },
    });
    // Not a command the kubelet could run from anywhere: the entry point with this Node.js, as without one.
    for (const bad of ['flexnode', 'bin/flexnode', '/opt/flex\nnode', ''])
      expect(tokenExecCommand('r', undefined, { FLEXNODE_COMMAND: bad, FLEXNODE_BIN: '/x/run.js' })).to.deep.equal({
        command: process.execPath,
        args: ['/x/run.js', 'token', '--resource', 'r'],
      });
    expect(tokenExecCommand('r', '/given/run.js', release).args[0], 'an explicit entry point wins').to.equal('/given/run.js');
  });

  it('principalId comes from the record arc.connect writes', async () => {
    const host = new MemoryHost().seedFile(MACHINE_RECORD, JSON.stringify({ resourceId: '/x', principalId: 'p-1' }));
    expect(await new ArcNodeIdentity(host.forStep('service.arc-identity')).principalId()).to.equal('p-1');
    expect(await new ArcNodeIdentity(new MemoryHost().forStep('s')).principalId()).to.equal(undefined);
  });

  it('without an Arc endpoint refuses before @azure/identity, which would ask 169.254.169.254, and caches nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flexnode-identity-'));
    try {
      let asked = 0;
      const id = new ArcNodeIdentity(new MemoryHost().forStep('s'), {
        cacheDir: dir,
        endpointProblem: () => (asked++, 'no Arc agent here'),
      });
      const error = await id.getToken('6dae42f8-4368-4678-94ff-3960e28e3630/.default').then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      expect(error?.code).to.equal('ARC_IDENTITY_UNAVAILABLE');
      expect(error?.message).to.equal('the Arc machine identity gave no token for 6dae42f8-4368-4678-94ff-3960e28e3630/.default: no Arc agent here');
      expect(asked).to.equal(1);
      expect(readdirSync(dir)).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('token cache (shared with `flexnode token`)', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flexnode-identity-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const scope = '6dae42f8-4368-4678-94ff-3960e28e3630/.default';

    it('answers from a token `flexnode token` cached, without asking the identity endpoint', async () => {
      await cachedToken(dir, scope, async () => ({ token: 'from-kubelet-plugin', expiresOnTimestamp: Date.now() + 3_600_000 }));
      const { id, fetched } = countingIdentity(new MemoryHost(), dir);
      expect((await id.getToken(scope)).token).to.equal('from-kubelet-plugin');
      expect(fetched).to.deep.equal([]);
    });

    it('on a miss asks the endpoint and caches the token; a dry run asks but writes nothing', async () => {
      const dry = countingIdentity(new MemoryHost({ dryRun: true }), dir);
      expect((await dry.id.getToken(scope)).token).to.equal('fresh-1');
      expect(readdirSync(dir)).to.deep.equal([]);
      const real = countingIdentity(new MemoryHost(), dir);
      expect((await real.id.getToken(scope)).token).to.equal('fresh-1');
      expect((await real.id.getToken(scope)).token).to.equal('fresh-1');
      expect(real.fetched).to.deep.equal([scope]);
      expect(readdirSync(dir)).to.have.length(1);
    });

    it('without a cache directory always asks the endpoint', async () => {
      const id = new ArcNodeIdentity(new MemoryHost().forStep('s'));
      let calls = 0;
      (id as unknown as { fetchToken(): Promise<AccessToken> }).fetchToken = async () => ({ token: `t${++calls}`, expiresOnTimestamp: Date.now() + 3_600_000 });
      await id.getToken(scope);
      await id.getToken(scope);
      expect(calls).to.equal(2);
    });
  });
});
