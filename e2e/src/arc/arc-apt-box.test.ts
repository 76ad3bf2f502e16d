// Node in a box, the Arc agent from a package repository: a stock Debian machine without Microsoft's repository,
// where the real CLI's arc.agent adds a REAL gpg-signed apt repository (generated here, served over HTTPS with a
// throwaway CA the machine trusts, laid out like packages.microsoft.com), installs the azcmagent STAND-IN package
// with the machine's real apt, sets the config's proxy on the agent, and unbootstrap leaves the tree pristine.
// A key that does not have the configured fingerprint is refused before apt ever reads the repository.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAzcmagentDeb, AZCMAGENT_STANDIN_VERSION } from '../fakes/standins/azcmagent-deb.js';
import { diffSnapshots, startMachine, type Machine } from '../machine/machine.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { debianArch } from '../mirror/build-artifacts.js';
import { CONFIG_PATH, explain, flexnode, writeConfig } from '../node/cli-in-machine.js';
import { SUBSCRIPTION, TENANT } from '../node/node-config.js';
import { buildSignedRepo, serveRepo, type RepoServer, type SignedRepo } from './signed-apt-repo.js';

const LIST = '/etc/apt/sources.list.d/flexnode-azcmagent.list';
const KEYRING = '/etc/apt/keyrings/flexnode-azcmagent.asc';
const AGENT = '/opt/azcmagent/bin/azcmagent';
const PROXY = 'http://proxy.invalid:3128';
// Written by anything that runs (logs, journald, systemd's state), and apt's and dpkg's own bookkeeping that any
// apt run rewrites (backups of dpkg's database, locks, apt's caches). dpkg's database itself is compared by its
// packages below (dpkg rewrites other packages' Priority fields from apt's data on every run). The repository's
// index files are NOT excluded: they must be gone after unbootstrap.
const NOISE = [
  '/var/log',
  '/var/lib/systemd',
  '/var/cache',
  '/etc/machine-id',
  '/var/tmp',
  '/root/.npm',
  '/root/.cache',
  '/var/lib/dpkg/status',
  '/var/lib/dpkg/status-old',
  '/var/lib/dpkg/lock',
  '/var/lib/dpkg/lock-frontend',
  '/var/lib/dpkg/triggers/Lock',
  '/var/lib/apt/lists/lock',
  '/var/lib/apt/lists/partial',
  '/var/lib/apt/lists/auxfiles',
  '/var/lib/apt/extended_states',
];

describe('node in a box: arc.agent installs azcmagent from a signed apt repository over HTTPS', function () {
  this.timeout(600_000);
  let machine: Machine | undefined;
  let repo: SignedRepo | undefined;
  let server: RepoServer | undefined;
  let work = '';
  const env = { AZCMAGENT_STANDIN_STATE: '/run/azcmagent-standin.json' };

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    work = mkdtempSync(join(tmpdir(), 'flexnode-arc-apt-'));
    const arch = debianArch();
    const deb = await buildAzcmagentDeb(join(work, 'debs'), { arch });
    repo = await buildSignedRepo({ path: 'debian/12/prod', suite: 'bookworm', arch, debs: [deb] });
    machine = await startMachine({ name: 'arcapt', bindRepo: true });
    server = await serveRepo(repo.root, machine.hostAddress); // the machine cannot reach the host's loopback
    // The throwaway CA, trusted by the machine's apt like any site CA.
    await machine.writeFile('/usr/local/share/ca-certificates/flexnode-e2e-repo.crt', server.tls.cert);
    await machine.execOrThrow(['update-ca-certificates']);
    const sources = await machine.exec(['sh', '-c', 'cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null; ls /etc/apt/keyrings 2>/dev/null'], {
      allowFailure: true,
    });
    expect(sources.stdout, 'a stock image: no Microsoft repository').not.to.match(/packages\.microsoft\.com|microsoft/i);
  });

  after(async () => {
    await machine?.stop();
    await server?.close();
    repo?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const configFor = (fingerprint: string) => ({
    azure: {
      subscriptionId: SUBSCRIPTION,
      tenantId: TENANT,
      arc: { machineName: 'box-node', resourceGroup: 'rg-edge', location: 'westus2' },
      targetCluster: {
        resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-1`,
        location: 'westus2',
      },
    },
    agent: { logLevel: 'debug', logDir: '/var/log/aks-flex-node' },
    // The agent must use the proxy; the repository (on the host's address) and Arc's own endpoints skip it.
    proxy: { https: PROXY, noProxy: `${machine!.hostAddress},.arc.azure.com,.guestconfiguration.azure.com` },
    pluginConfig: {
      '@flexnode/plugin-arc': {
        agent: {
          version: AZCMAGENT_STANDIN_VERSION,
          repository: { url: `${server!.url}/${repo!.path}`, key: `${server!.url}/keys/repo.asc`, fingerprint },
        },
      },
      // The box has no route to Azure or a release host: those reachability probes are not what this tests.
      '@flexnode/plugin-kube': { skipPreflight: ['azure-endpoint', 'artifact-endpoint'] },
    },
  });
  /** Every package dpkg knows, with its version and state: what the machine has installed. */
  const packages = async () => (await machine!.execOrThrow(['dpkg-query', '-W', '-f=${Package} ${Version} ${Status}\n'])).stdout.split('\n').sort();
  const dpkgStatus = async () => (await machine!.exec(['dpkg-query', '-W', '-f=${Status} ${Version}', 'azcmagent'], { allowFailure: true })).stdout.trim();

  it('adds the signed repository, installs the package with apt, sets the proxy; unbootstrap leaves the tree pristine', async () => {
    const m = machine!;
    await writeConfig(m, configFor(repo!.fingerprint));
    const pristine = await m.snapshot(NOISE);
    const installed = await packages();
    const first = await flexnode(m, ['bootstrap', '--only', 'arc.agent', '--config', CONFIG_PATH, '--json'], env);
    expect(first.exitCode, await explain(m, first)).to.equal(0);

    expect(await dpkgStatus()).to.equal(`install ok installed ${AZCMAGENT_STANDIN_VERSION}`);
    expect((await m.execOrThrow(['cat', LIST])).stdout).to.include(
      `deb [arch=${debianArch()} signed-by=${KEYRING}] ${server!.url}/${repo!.path} bookworm main`,
    );
    await m.execOrThrow(['mkdir', '-p', '-m', '0700', '/run/gnupg-check']);
    expect((await m.execOrThrow(['gpg', '--batch', '--with-colons', '--show-keys', KEYRING], { env: { GNUPGHOME: '/run/gnupg-check' } })).stdout).to.include(
      repo!.fingerprint,
    );
    expect((await m.execOrThrow([AGENT, 'version'], { env })).stdout).to.include(AZCMAGENT_STANDIN_VERSION);
    expect((await m.execOrThrow([AGENT, 'config', 'get', 'proxy.url'], { env })).stdout.trim()).to.equal(PROXY);
    expect((await m.execOrThrow([AGENT, 'config', 'get', 'proxy.bypass'], { env })).stdout.trim()).to.equal('Arc');
    // apt read the repository itself: the signed index, the package list and the package.
    expect(server!.log).to.include.members([
      '/keys/repo.asc',
      `/${repo!.path}/dists/bookworm/InRelease`,
      `/${repo!.path}/pool/main/a/azcmagent/azcmagent_${AZCMAGENT_STANDIN_VERSION}_${debianArch()}.deb`,
    ]);

    const again = await flexnode(m, ['bootstrap', '--only', 'arc.agent', '--config', CONFIG_PATH, '--json'], env);
    expect(again.exitCode, await explain(m, again)).to.equal(0);
    expect((JSON.parse(again.stdout) as { results: { id: string; outcome: string }[] }).results.find((r) => r.id === 'arc.agent')?.outcome).to.equal(
      'unchanged',
    );
    const status = await flexnode(m, ['status', '--only', 'arc.agent', '--config', CONFIG_PATH], env);
    expect(status.exitCode, await explain(m, status)).to.equal(0);

    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(undo.exitCode, await explain(m, undo)).to.equal(0);
    expect(await dpkgStatus()).not.to.include('installed');
    expect(await packages()).to.deep.equal(installed);
    const diff = diffSnapshots(pristine, await m.snapshot(NOISE));
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);
  });

  it('refuses a repository key without the configured fingerprint: nothing installed, nothing left', async () => {
    const m = machine!;
    await writeConfig(m, configFor(repo!.otherFingerprint));
    const pristine = await m.snapshot(NOISE);
    const installed = await packages();
    const served = server!.log.length;
    const run = await flexnode(m, ['bootstrap', '--only', 'arc.agent', '--config', CONFIG_PATH], env);
    expect(run.exitCode).to.equal(1);
    expect(run.stdout + run.stderr)
      .to.include('is not trusted: its fingerprint is')
      .and.include(`not ${repo!.otherFingerprint}; nothing was installed`);
    // The key was fetched and refused; apt never read the repository.
    expect(server!.log.slice(served)).to.deep.equal(['/keys/repo.asc']);
    expect(await packages()).to.deep.equal(installed);
    for (const path of [LIST, KEYRING, AGENT]) expect((await m.exec(['test', '-e', path], { allowFailure: true })).exitCode, path).to.not.equal(0);
    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH], env);
    expect(undo.exitCode, await explain(m, undo)).to.equal(0);
    const diff = diffSnapshots(pristine, await m.snapshot(NOISE));
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);
  });
});
