// The built flexnode CLI (real core, real Host under a --root sandbox, real journal and logs) with plugin-arc
// against the fake ARM/Entra: plan, bootstrap, re-run, status, unbootstrap. The agent is the azcmagent STAND-IN,
// installed by arc.agent from a local artifact mirror (source "binary"). The child trusts the fakes through
// NODE_EXTRA_CA_CERTS; the client secret is given through AZURE_CLIENT_SECRET and must appear nowhere.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { standinPath } from '../fakes/standins/install.js';
import { ArtifactManifest, debianArch } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { ARC_RG, CLIENT_ID, CLIENT_SECRET, CLUSTER, CLUSTER_ID, Fakes, SUB, TENANT } from './rig.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'packages/cli/bin/run.js');
const VERSION = '1.50.02997.1';
const MACHINE = 'edge-cli';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('flexnode CLI with plugin-arc against the fakes', function () {
  this.timeout(120_000);
  let fakes: Fakes;
  let mirror: MirrorServer;
  let tmp: string;
  let root: string;
  let configPath: string;
  const runs: Run[] = [];

  /** The CLI as the operator runs it; `{operator: false}`: as a node runs it after the join, without the secret. */
  const cliAs = ({ operator }: { operator: boolean }, ...args: string[]) =>
    new Promise<Run>((resolve) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_EXTRA_CA_CERTS: fakes.arm.certPath,
        AZCMAGENT_STANDIN_ARM: fakes.arm.url,
        AZCMAGENT_STANDIN_STATE: join(tmp, 'azcmagent-state.json'),
        ...(operator ? { AZURE_CLIENT_SECRET: CLIENT_SECRET } : {}),
      };
      if (!operator) delete env.AZURE_CLIENT_SECRET;
      execFile(
        process.execPath,
        [CLI, ...args, '--config', configPath, '--root', root],
        {
          cwd: REPO,
          env,
        },
        (error, stdout, stderr) => {
          const run = { code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr };
          runs.push(run);
          resolve(run);
        },
      );
    });
  const cli = (...args: string[]) => cliAs({ operator: true }, ...args);
  const writes = () => fakes.arm.requests.filter((r) => r.method !== 'GET' && !r.path.startsWith('/__fake/'));

  before(async () => {
    fakes = await Fakes.start();
    fakes.addTestCluster();
    tmp = mkdtempSync(join(tmpdir(), 'arc-cli-'));
    root = join(tmp, 'root');
    const manifest = new ArtifactManifest(debianArch());
    const agent = await manifest.addFile(`azcmagent/v${VERSION}/azcmagent-linux-${debianArch()}`, standinPath('azcmagent'));
    mirror = await startMirror(manifest);
    configPath = join(tmp, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify(
        {
          azure: {
            subscriptionId: SUB,
            tenantId: TENANT,
            cloud: 'AzurePublicCloud',
            servicePrincipal: { clientId: CLIENT_ID },
            arc: { machineName: MACHINE, resourceGroup: ARC_RG, location: 'westeurope', tags: { env: 'edge' }, autoRoleAssignment: true },
            targetCluster: { resourceId: CLUSTER_ID, location: 'westeurope' },
            endpoints: { resourceManager: fakes.arm.url, authorityHost: fakes.entra.url },
          },
          agent: { logLevel: 'debug', logDir: '/var/log/aks-flex-node' },
          artifacts: { mirror: mirror.url },
          pluginConfig: {
            '@flexnode/plugin-arc': {
              agent: { source: 'binary', version: VERSION, sha256: agent.sha256 },
              retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
              pollIntervalMs: 20,
              identityTimeoutSeconds: 5,
              propagationTimeoutSeconds: 2,
            },
          },
        },
        null,
        2,
      ),
      { mode: 0o600 },
    );
  });

  after(async () => {
    await mirror?.close();
    await fakes?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('plan shows the Arc intents and writes nothing to Azure', async () => {
    const r = await cli('plan', '--only', '@flexnode/plugin-arc');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`connect machine ${MACHINE} to Azure Arc in ${ARC_RG}/westeurope`);
    expect(r.stdout).to.include('/opt/azcmagent/bin/azcmagent');
    // The default service proxy mode (auto) may resolve to flexnode's kube-proxy: its rules are in the node's role.
    expect(r.stdout).to.include(`create the custom role "flexnode node + kube-proxy (${CLUSTER}, resource group`);
    expect(writes()).to.deep.equal([]);
    expect(fakes.arm.machine(MACHINE)).to.equal(undefined);
  });

  it('bootstrap installs the agent from the mirror, connects, assigns the roles; a re-run changes nothing', async () => {
    const r = await cli('bootstrap', '--only', '@flexnode/plugin-arc');
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    const machine = fakes.arm.machine(MACHINE)!;
    expect(machine.principalId).to.match(/^[0-9a-f-]{36}$/);
    expect(fakes.arm.roleAssignments().filter((a) => a.principalId === machine.principalId)).to.have.length(3);
    expect(
      fakes.arm
        .roleDefinitions()
        .filter((d) => d.type === 'CustomRole')
        .map((d) => d.roleName.split(' (')[0]),
    ).to.deep.equal(['flexnode node + kube-proxy', 'flexnode node + kube-proxy, namespace kube-node-lease']);
    const state = JSON.parse(readFileSync(join(tmp, 'azcmagent-state.json'), 'utf8'));
    expect(state.secretsOnArgv).to.deep.equal([]);
    expect(statSync(join(root, 'opt/azcmagent/bin/azcmagent')).mode & 0o777).to.equal(0o755);

    const puts = writes().length;
    const again = await cli('bootstrap', '--only', '@flexnode/plugin-arc');
    expect(again.code, again.stderr).to.equal(0);
    expect(writes()).to.have.length(puts);
    const status = await cli('status', '--only', '@flexnode/plugin-arc');
    expect(status.code, `${status.stdout}\n${status.stderr}`).to.equal(0);
  });

  it('without the operator credential: status is healthy and asks Azure nothing; unbootstrap stops, naming the credential', async () => {
    const requests = fakes.arm.requests.length;
    const tokens = fakes.entra.issued.length;
    const status = await cliAs({ operator: false }, 'status', '--only', '@flexnode/plugin-arc', '--json');
    expect(status.code, `${status.stdout}\n${status.stderr}`).to.equal(0);
    const arc = (JSON.parse(status.stdout) as { results: { id: string; outcome: string }[] }).results.filter((r) => r.id.startsWith('arc.'));
    expect(arc.map((r) => `${r.id} ${r.outcome}`)).to.deep.equal([
      'arc.preflight healthy',
      'arc.agent healthy',
      'arc.connect healthy',
      'arc.node-role healthy',
      'arc.roles healthy',
    ]);
    // Only kube.preflight's reachability probe (no token) reaches ARM; Entra issued nothing.
    expect(
      fakes.arm.requests
        .slice(requests)
        .filter((r) => r.hasBearer)
        .map((r) => `${r.method} ${r.path}`),
    ).to.deep.equal([]);
    expect(fakes.entra.issued.length, 'tokens issued during status').to.equal(tokens);

    const principalId = fakes.arm.machine(MACHINE)!.principalId!;
    const undo = await cliAs({ operator: false }, 'unbootstrap');
    expect(undo.code).to.equal(1);
    expect(undo.stdout + undo.stderr)
      .to.include('unbootstrap of arc.roles (deleting the 3 role assignment(s) flexnode created')
      .and.include("needs the operator's Azure credential");
    expect(undo.stdout + undo.stderr).to.include('AZURE_CLIENT_SECRET');
    // Nothing in Azure was touched, and the agent that holds the registration stays.
    expect(fakes.arm.machine(MACHINE)).not.to.equal(undefined);
    expect(fakes.arm.roleAssignments().filter((a) => a.principalId === principalId)).to.have.length(3);
    expect(existsSync(join(root, 'opt/azcmagent/bin/azcmagent'))).to.equal(true);
  });

  it('unbootstrap removes exactly what bootstrap created', async () => {
    const principalId = fakes.arm.machine(MACHINE)!.principalId!;
    const r = await cli('unbootstrap');
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(fakes.arm.machine(MACHINE)).to.equal(undefined);
    expect(fakes.arm.roleAssignments().filter((a) => a.principalId === principalId)).to.deep.equal([]);
    expect(fakes.arm.roleDefinitions().filter((d) => d.type === 'CustomRole')).to.deep.equal([]);
    expect(existsSync(join(root, 'opt/azcmagent/bin/azcmagent'))).to.equal(false);
    expect(existsSync(join(root, 'var/lib/flexnode/arc/machine.json'))).to.equal(false);
  });

  it('the client secret and the ARM tokens appear in no output, log or journal file', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile()) files.push(p);
      }
    };
    walk(root);
    expect(
      files.some((f) => f.includes('aks-flex-node')),
      'a log file was written',
    ).to.equal(true);
    const text = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...files.map((f) => readFileSync(f, 'utf8'))].join('\n');
    expect(text).not.to.include(CLIENT_SECRET);
    for (const token of fakes.tokens()) expect(text.includes(token), 'an ARM token leaked').to.equal(false);
  });
});
