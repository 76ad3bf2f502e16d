// Fleet rollout through Ansible (Debian's ansible-core) against three booted machines at once, over ssh from the
// host side of their veths. First `flexnode mirror sync` fills a mirror from the upstream hosts; the machines
// then see nothing but that mirror and the FAKE Azure / Kubernetes servers (every other packet they send is
// rejected). The role installs the release with install.sh, writes the config with the secret from Ansible Vault
// (or a file), bootstraps (all three join the one fake cluster), reports no change on a second play, runs
// `flexnode plan` in check mode, and with flexnode_state=absent leaves each machine as it was.
import { expect } from 'chai';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { diffSnapshots, type Snapshot } from '../machine/machine.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { ansibleController, explainPlay, missingForAnsible, type AnsibleController } from './ansible.js';
import { addKubeRelease } from '../mirror/kube-release.js';
import { CLUSTER_ID } from '../node/join-rig.js';
import { CLIENT_SECRET, RELEASE_PREFIX, startFleetSite, type FleetSite } from './site.js';

const NODES = ['fleet-a', 'fleet-b', 'fleet-c'];
/** The version the control plane and then the fleet move to (the site starts at 1.30.4). */
const NEW_VERSION = '1.31.14';
// Written by anything that runs (logs, journald, systemd's own state, ansible's remote temp dir), or by the
// kubelet and containerd themselves: not flexnode's files.
const NOISE = [
  '/var/log',
  '/var/lib/systemd',
  '/var/cache',
  '/etc/machine-id',
  '/var/lib/containerd',
  '/var/tmp',
  '/root/.npm',
  '/root/.cache',
  '/root/.ansible',
];

describe('fleet: mirror sync, then the Ansible role on three machines at once (join, no change, check mode, absent)', function () {
  this.timeout(900_000);
  let site: FleetSite | undefined;
  let ansible: AnsibleController;
  const pristine = new Map<string, Snapshot>();

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    const missing = await missingForAnsible();
    if (missing.length) {
      console.log(`      SKIP: the Ansible rollout needs ${missing.join(', ')}`);
      this.skip();
    }
    const t0 = Date.now();
    site = await startFleetSite(NODES);
    console.log(`      site up in ${((Date.now() - t0) / 1000).toFixed(1)} s (3 machines booted in parallel, fakes, release)`);
    ansible = await ansibleController(join(site.work, 'ansible'));
    for (const node of site.nodes) await ansible.authorize(node.machine);
  });

  after(async () => {
    await site?.close();
  });

  it('mirror sync fills the mirror from the upstream hosts (verified, 0644/0755, manifest), and a re-run downloads nothing', async () => {
    const s = site!;
    const first = await s.syncMirror(['--json']);
    expect(first.exitCode, first.stderr + first.stdout).to.equal(0);
    const report = JSON.parse(first.stdout);
    // Everything a node of this config downloads: the runtime, the CNI plugins, the Kubernetes binaries, the agent,
    // and the published .sha256 of a binary the config does not pin (kube-proxy); a pinned one needs none.
    const pinned = Object.keys(s.configFor(NODES[0]!).kubernetes.sha256 ?? {});
    const needless = (path: string) => pinned.some((b) => path.endsWith(`/${b}-linux-${s.manifest.arch}.sha256`));
    const synced = s.manifest.artifacts.filter((a) => !needless(a.mirrorPath));
    const wanted = synced.map((a) => a.mirrorPath).sort();
    expect(report.files.map((f: { file: string }) => f.file)).to.deep.equal(wanted);
    for (const a of synced) {
      const path = join(s.mirrorDir, a.mirrorPath);
      expect((await stat(path)).mode & 0o777, a.mirrorPath).to.equal(0o644);
      expect((await stat(join(path, '..'))).mode & 0o777).to.equal(0o755);
    }
    const manifest = JSON.parse(await readFile(join(s.mirrorDir, 'manifest.json'), 'utf8'));
    for (const a of synced) {
      expect(
        manifest.files.find((f: { file: string }) => f.file === a.mirrorPath),
        a.mirrorPath,
      ).to.include({ sha256: a.sha256, source: s.upstream.urlOf(a.mirrorPath) });
    }
    s.upstream.resetRequests();
    const again = await s.syncMirror();
    expect(again.exitCode, again.stderr).to.equal(0);
    expect(s.upstream.requests().filter((r) => r.path !== 'manifest.json')).to.deep.equal([]);
    expect(await readdir(s.mirrorDir)).to.include('manifest.json');
  });

  it('the role joins all three through the mirror alone: release from install.sh, config 0600, secret from the vault', async () => {
    const s = site!;
    for (const node of s.nodes) {
      pristine.set(node.name, await node.machine.snapshot(NOISE));
      await s.cutNetwork(node);
      // The cut is real: the upstream hosts are right there, and unreachable.
      const probe = await node.machine.exec(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', s.upstream.urlOf(s.manifest.artifacts[0]!.mirrorPath)], {
        allowFailure: true,
      });
      expect(probe.exitCode, `${node.name} reached the upstream hosts`).to.not.equal(0);
    }
    await ansible.vaultVariable('flexnode_client_secret', CLIENT_SECRET);
    // One host takes its secret from a file on the controller instead (0600, never in the inventory).
    const secretFile = join(ansible.dir, 'fleet-c.secret');
    await (await import('node:fs/promises')).writeFile(secretFile, CLIENT_SECRET, { mode: 0o600 });
    hostsWith(ansible, s, s.configFor);
    s.upstream.resetRequests();
    const t0 = Date.now();
    const play = await ansible.playbook();
    console.log(`      first play (install, bootstrap, agent on 3 machines): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(play.exitCode, explainPlay(play)).to.equal(0);
    for (const n of NODES) {
      expect(play.stats[n], n).to.include({ failures: 0, unreachable: 0 });
      expect(play.stats[n]!.changed, n).to.be.greaterThan(0);
      const bootstrap = play.tasks.find((t) => t.host === n && t.cmd?.includes('bootstrap'));
      expect(bootstrap?.changed, `${n}: the bootstrap task reported changed`).to.equal(true);
    }
    expect(s.upstream.requests(), 'nothing came from the upstream hosts').to.deep.equal([]);
    expect(play.stdout + play.stderr, 'the secret is never printed').to.not.contain(CLIENT_SECRET);

    const deadline = Date.now() + 60_000;
    while (NODES.some((n) => s.kube.readyCondition(n)?.status !== 'True') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    for (const n of NODES) expect(s.kube.readyCondition(n)?.status, `${n} Ready`).to.equal('True');
    for (const node of s.nodes) {
      const m = node.machine;
      expect(s.arm.machine(node.name), `${node.name}: Arc machine`).to.not.equal(undefined);
      const modes = (await m.exec(['stat', '-c', '%a %n', '/etc/aks-flex-node', '/etc/aks-flex-node/config.json', '/etc/aks-flex-node/client-secret'])).stdout
        .trim()
        .split('\n');
      expect(modes).to.deep.equal(['700 /etc/aks-flex-node', '600 /etc/aks-flex-node/config.json', '600 /etc/aks-flex-node/client-secret']);
      expect(await m.readFile('/etc/aks-flex-node/client-secret')).to.equal(CLIENT_SECRET);
      const config = JSON.parse(await m.readFile('/etc/aks-flex-node/config.json'));
      expect(config.azure.servicePrincipal).to.deep.equal({
        clientId: s.configFor(node.name).azure.servicePrincipal.clientId,
        clientSecretFile: '/etc/aks-flex-node/client-secret',
      });
      expect((await m.exec(['readlink', '/opt/flexnode/current'])).stdout.trim()).to.equal(s.release.version);
      for (const unit of ['containerd.service', 'kubelet.service', 'flexnode-agent.service']) {
        const state = (await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim();
        expect(state, `${node.name} ${unit}\n${await m.journal(unit, 40)}`).to.equal('active');
      }
    }
  });

  it('a second play reports no change on any host', async () => {
    const play = await ansible.playbook();
    expect(play.exitCode, explainPlay(play)).to.equal(0);
    for (const n of NODES) expect(play.stats[n], n).to.include({ changed: 0, failures: 0, unreachable: 0 });
    const bootstraps = play.tasks.filter((t) => t.cmd?.includes('bootstrap'));
    expect(bootstraps.map((t) => t.host).sort()).to.deep.equal(NODES);
  });

  it('check mode runs flexnode plan (and only that) and reports what would change', async () => {
    const s = site!;
    // A changed label on one host: check mode says that host would change, and changes nothing.
    const play = await ansible.playbook([
      '--check',
      '-e',
      JSON.stringify({ flexnode_config: { ...s.configFor('fleet-a'), node: { name: 'fleet-a', labels: { 'flexnode.io/pool': 'moved' } } } }),
      '--limit',
      'fleet-a',
    ]);
    expect(play.exitCode, explainPlay(play)).to.equal(0);
    const commands = play.tasks.filter((t) => t.cmd).map((t) => t.cmd!.slice(0, 2).join(' '));
    expect(commands).to.include('/usr/local/bin/flexnode plan');
    expect(commands.filter((c) => /flexnode (bootstrap|unbootstrap)/.test(c))).to.deep.equal([]);
    expect(play.stats['fleet-a']!.changed).to.be.greaterThan(0);
    // The plan ran against the config the play would write: it names the kubelet (its labels change).
    const plan = play.tasks.find((t) => t.cmd?.[1] === 'plan');
    expect(plan?.changed, 'the plan task reports the change').to.equal(true);
    const planned = JSON.parse(plan!.stdout!)
      .results.filter((r: { outcome: string }) => r.outcome === 'planned')
      .map((r: { id: string }) => r.id);
    expect(planned).to.include('kube.kubelet');
    const config = JSON.parse(await s.nodes[0]!.machine.readFile('/etc/aks-flex-node/config.json'));
    expect(config.node.labels['flexnode.io/pool'], 'check mode wrote nothing').to.equal('fleet');
  });

  it('an upgrade play moves the nodes to the new version one at a time (the Leases and cordons say so); a second one changes nothing', async () => {
    const s = site!;
    // The control plane moves first; the release reaches the site's mirror through mirror sync.
    await addKubeRelease(s.manifest, s.work, NEW_VERSION);
    s.kube.upgradeControlPlane(NEW_VERSION);
    s.arm.updateCluster(CLUSTER_ID, (c) => Object.assign(c, { kubernetesVersion: NEW_VERSION, currentKubernetesVersion: NEW_VERSION }));
    const upgraded = (name: string) => ({ ...s.configFor(name), kubernetes: { version: NEW_VERSION } }); // verified by the published .sha256
    const sync = await s.syncMirror([], upgraded('fleet-a'));
    expect(sync.exitCode, sync.stderr + sync.stdout).to.equal(0);
    hostsWith(ansible, s, upgraded);
    const from = s.kube.audit.length;
    const t0 = Date.now();
    const play = await ansible.playbook([], 'upgrade.yml');
    console.log(`      upgrade play (3 nodes, one at a time): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(play.exitCode, explainPlay(play)).to.equal(0);
    for (const n of NODES) {
      expect(play.stats[n], n).to.include({ failures: 0 });
      expect(
        play.tasks.find((t) => t.host === n && t.cmd?.[1] === 'upgrade' && !t.cmd.includes('--dry-run'))?.changed,
        `${n}: the upgrade task reported changed`,
      ).to.equal(true);
      const node = s.kube.node(n) as { spec?: { unschedulable?: boolean }; status?: { nodeInfo?: { kubeletVersion?: string } } };
      expect(node.status?.nodeInfo?.kubeletVersion, n).to.equal(`v${NEW_VERSION}`);
      expect(node.spec?.unschedulable, `${n} uncordoned`).to.not.equal(true);
      const m = s.nodes.find((x) => x.name === n)!.machine;
      expect((await m.exec(['systemctl', 'is-active', 'flexnode-agent.service'], { allowFailure: true })).stdout.trim(), `${n}: the agent runs again`).to.equal(
        'active',
      );
    }
    // From the cluster's own record: each node held the slot and was cordoned only while no other node was.
    const byPrincipal = new Map(NODES.map((n) => [s.arm.machine(n)!.principalId, n]));
    const windows = NODES.map((n) => {
      const mine = s.kube.audit
        .slice(from)
        .map((e, i) => ({ e, i: from + i }))
        .filter(({ e }) => byPrincipal.get(e.user) === n && e.userAgent === 'flexnode' && e.code < 300);
      // A create names its Lease in the body only (a POST to the collection).
      const slot = mine.filter(
        ({ e }) => e.resource === 'leases' && e.namespace === 'kube-node-lease' && (e.name === 'flexnode-upgrade-0' || e.verb === 'create') && e.verb !== 'get',
      );
      const cordons = mine.filter(({ e }) => e.resource === 'nodes' && e.verb === 'patch' && e.name === n);
      expect(slot.length, `${n}: took and released the slot`).to.be.at.least(2);
      expect(cordons.length, `${n}: cordoned and uncordoned`).to.equal(2);
      expect(slot[0]!.i < cordons[0]!.i && cordons[1]!.i < slot.at(-1)!.i, `${n}: cordoned only while holding the slot`).to.equal(true);
      return { n, start: slot[0]!.i, end: slot.at(-1)!.i };
    }).sort((a, b) => a.start - b.start);
    for (let i = 1; i < windows.length; i++)
      expect(windows[i]!.start, `${windows[i]!.n} began after ${windows[i - 1]!.n} was done`).to.be.greaterThan(windows[i - 1]!.end);
    const again = await ansible.playbook([], 'upgrade.yml');
    expect(again.exitCode, explainPlay(again)).to.equal(0);
    for (const n of NODES) expect(again.stats[n], n).to.include({ changed: 0, failures: 0 });
  });

  it('flexnode_state=absent unbootstraps and uninstalls: every machine is as it was', async () => {
    const s = site!;
    const play = await ansible.playbook(['-e', 'flexnode_state=absent']);
    expect(play.exitCode, explainPlay(play)).to.equal(0);
    for (const n of NODES) expect(play.stats[n]!.changed, n).to.be.greaterThan(0);
    expect(s.kube.nodes().map((n: { metadata: { name: string } }) => n.metadata.name)).to.not.include.members(NODES);
    for (const node of s.nodes) {
      expect(s.arm.machine(node.name), `${node.name}: Arc machine deleted`).to.equal(undefined);
      const after = await node.machine.snapshot(NOISE);
      const diff = diffSnapshots(pristine.get(node.name)!, after);
      expect(isEmptyDiff(diff), `${node.name}: ${JSON.stringify(diff, null, 2)}`).to.equal(true);
    }
    const again = await ansible.playbook(['-e', 'flexnode_state=absent']);
    expect(again.exitCode, explainPlay(again)).to.equal(0);
    for (const n of NODES) expect(again.stats[n], n).to.include({ changed: 0, failures: 0 });
  });
});

/** The role's inventory: each node with its config, the environment to reach the fakes, its secret (fleet-c's from a file). */
function hostsWith(ansible: AnsibleController, s: FleetSite, configOf: (name: string) => Record<string, any>): void {
  const secretFile = join(ansible.dir, 'fleet-c.secret');
  ansible.inventory(
    Object.fromEntries(
      s.nodes.map((n) => [
        n.name,
        {
          ansible_host: n.machine.address,
          ansible_become: false, // root already; the image has no sudo
          flexnode_config: configOf(n.name),
          flexnode_environment: s.envFor(n.name),
          ...(n.name === 'fleet-c' ? { flexnode_client_secret_src: secretFile, flexnode_client_secret: '' } : {}),
        },
      ]),
    ),
    { flexnode_version: s.release.version, flexnode_release_url: `${s.mirror.url}/${RELEASE_PREFIX}`, flexnode_release_sha256: s.release.sha256 },
  );
}
