import { expect } from 'chai';
import { MemoryHost } from '@flexnode/sdk/testing';
import { ArcNodeIdentity, cliEntryPoint } from './node-identity.js';
import { MACHINE_RECORD } from './paths.js';

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

  it('principalId comes from the record arc.connect writes', async () => {
    const host = new MemoryHost().seedFile(MACHINE_RECORD, JSON.stringify({ resourceId: '/x', principalId: 'p-1' }));
    expect(await new ArcNodeIdentity(host.forStep('service.arc-identity')).principalId()).to.equal('p-1');
    expect(await new ArcNodeIdentity(new MemoryHost().forStep('s')).principalId()).to.equal(undefined);
  });
});
