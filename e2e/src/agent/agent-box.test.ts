// Node in a box, the agent under systemd: install.sh installs the release tarball (served from the host side of
// the veth) into a booted Debian machine with real systemd; flexnode-agent.service (Type=notify) bootstraps the
// runtime and CNI from the host-side mirror, reports READY, heals a stopped containerd and a deleted CNI config
// within two intervals, survives a stop in the middle of a step, and uninstall.sh leaves the tree as it was.
// Upstream's names work from the release: `aks-flex-node`, the unit's alias, the log path.
// The machine has no bind of the repo: the release must carry everything (its own Node included).
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diffSnapshots, startMachine, type Machine } from '../machine/machine.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { repoRoot } from '../mirror/paths.js';
import { CONFIG_PATH, writeConfig } from '../node/cli-in-machine.js';
import { AGENT_ONLY, agentConfig, onlyDropIn } from './agent-config.js';
import { nativeRelease, serveRelease, type Release } from './release.js';

// Paths that change by running anything at all (logs, systemd bookkeeping), or that the test itself made.
// /var/backups: Debian's dpkg-db-backup.timer writes there at midnight, whoever is running then.
const NOISE = ['/var/log', '/var/lib/systemd', '/var/lib/containerd', '/etc/machine-id', '/var/tmp', '/root/.npm', '/root/.cache', '/var/backups'];
const UNIT = 'flexnode-agent.service';
const DROP_IN = `/etc/systemd/system/${UNIT}.d/e2e-only.conf`;
const INTERVAL_MS = 5_000;

describe('node in a box: flexnode-agent.service from the release tarball (install.sh, Type=notify, heal, uninstall.sh)', function () {
  this.timeout(300_000);
  let machine: Machine | undefined;
  let mirror: MirrorServer | undefined;
  let releases: MirrorServer | undefined;
  let manifest: ArtifactManifest;
  let release: Release;

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    [manifest, release] = await Promise.all([buildArtifacts(), nativeRelease()]);
    machine = await startMachine({ name: 'agent' });
    mirror = await startMirror(manifest, { host: machine.hostAddress });
    releases = await serveRelease(release, machine.hostAddress);
  });

  after(async () => {
    await machine?.stop();
    await mirror?.close();
    await releases?.close();
  });

  const active = async (unit: string) => (await machine!.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim();
  const show = async (unit: string, props: string[]) => {
    const out = (await machine!.exec(['systemctl', 'show', unit, '-p', props.join(',')], { allowFailure: true })).stdout;
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  };
  const agentLog = () => machine!.exec(['cat', '/var/log/aks-flex-node/flexnode.log'], { allowFailure: true }).then((r) => r.stdout);
  const why = async () => `\n--- journal ${UNIT}\n${await machine!.journal(UNIT, 80)}`;
  async function within(ms: number, what: string, predicate: () => Promise<boolean>): Promise<number> {
    const t0 = Date.now();
    while (!(await predicate())) {
      if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms${await why()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return Date.now() - t0;
  }

  let pristine: Awaited<ReturnType<Machine['snapshot']>>;

  it('install.sh downloads the tarball, verifies its sha256 and installs flexnode, the unit and the config dir', async () => {
    const m = machine!;
    pristine = await m.snapshot(NOISE);
    await m.writeFile('/tmp/install.sh', await readFile(join(repoRoot(), 'scripts/install.sh')), 0o755);
    // A wrong checksum installs nothing.
    const bad = await m.exec(['/tmp/install.sh', '--url', releases!.url, '--version', release.version, '--sha256', '0'.repeat(64)], { allowFailure: true });
    expect(bad.exitCode).to.equal(1);
    expect(bad.stderr).to.match(/sha256 mismatch/);
    expect(isEmptyDiff(diffSnapshots(pristine, await m.snapshot(NOISE)))).to.equal(true);

    const ok = await m.exec(['/tmp/install.sh', '--url', releases!.url, '--version', release.version], { allowFailure: true, timeoutMs: 180_000 });
    expect(ok.exitCode, `${ok.stdout}\n${ok.stderr}`).to.equal(0);
    expect(ok.stdout).to.match(/sha256 verified/);
    expect((await m.exec(['flexnode', '--version'])).stdout.trim()).to.equal(
      `@flexnode/cli/${release.version} linux-${release.arch} node-${release.nodeVersion}`,
    );
    expect((await m.exec(['stat', '-c', '%a', '/etc/aks-flex-node'])).stdout.trim()).to.equal('700');
    expect((await m.exec(['readlink', '/usr/local/bin/flexnode'])).stdout.trim()).to.equal('/opt/flexnode/current/bin/flexnode');
    // Upstream's (AKSFlexNode) command name: the same CLI.
    expect((await m.exec(['readlink', '/usr/local/bin/aks-flex-node'])).stdout.trim()).to.equal('/opt/flexnode/current/bin/aks-flex-node');
    const upstreamVersion = await m.exec(['aks-flex-node', 'version'], { allowFailure: true });
    expect(upstreamVersion.exitCode, upstreamVersion.stderr).to.equal(0);
    expect(upstreamVersion.stdout).to.match(new RegExp(`^flexnode ${release.version.replace(/\./g, '\\.')} \\(node v[0-9.]+, linux-${release.arch}\\)\n`));
    expect(upstreamVersion.stdout).to.include('@flexnode/plugin-kube@');
    expect(await m.readFile(`/etc/systemd/system/${UNIT}`))
      .to.include('Type=notify')
      .and.include('NotifyAccess=main');
    expect((await m.exec(['systemd-analyze', 'verify', `/etc/systemd/system/${UNIT}`], { allowFailure: true })).exitCode).to.equal(0);
  });

  it('systemctl enable --now returns once the agent has bootstrapped and sent READY; flexnode status reports healthy', async () => {
    const m = machine!;
    await writeConfig(m, agentConfig(manifest, mirror!.url));
    await m.writeFile(DROP_IN, onlyDropIn(AGENT_ONLY));
    await m.execOrThrow(['systemctl', 'daemon-reload']);
    const t0 = Date.now();
    const start = await m.exec(['systemctl', 'enable', '--now', UNIT], { allowFailure: true, timeoutMs: 240_000 });
    expect(start.exitCode, `${start.stderr}${await why()}`).to.equal(0);
    console.log(`    enable --now (first bootstrap included) took ${Date.now() - t0} ms`);
    const s = await show(UNIT, ['ActiveState', 'SubState', 'Type', 'NotifyAccess', 'StatusText', 'WatchdogUSec', 'MainPID']);
    expect(s, await why()).to.include({ ActiveState: 'active', SubState: 'running', Type: 'notify', NotifyAccess: 'main' });
    expect(s.StatusText).to.match(/^healthy: \d+ step\(s\) ok/);
    expect(await active('containerd.service')).to.equal('active');

    const status = await m.exec(['flexnode', 'status', '--config', CONFIG_PATH, '--only', AGENT_ONLY.join(','), '--json'], { allowFailure: true });
    expect(status.exitCode, `${status.stdout}\n${status.stderr}`).to.equal(0);
    const report = JSON.parse(status.stdout);
    expect(report.healthy).to.equal(true);
    expect(report.agent).to.include({ pid: Number(s.MainPID), fresh: true, healthy: true, phase: 'running' });
    const human = await m.exec(['flexnode', 'status', '--only', AGENT_ONLY.join(',')], { allowFailure: true });
    expect(human.stdout).to.match(new RegExp(`agent: pid ${s.MainPID}, running, \\d+ cycle\\(s\\)`));
    // The status file holds no secret and is 0644 in the 0700 state dir.
    expect((await m.exec(['stat', '-c', '%a', '/var/lib/flexnode/status.json'])).stdout.trim()).to.equal('644');
    // Upstream's names: the unit by its alias, the log at upstream's path.
    const byAlias = await m.exec(['systemctl', 'status', '--no-pager', 'aks-flex-node-agent'], { allowFailure: true });
    expect(byAlias.exitCode, `${byAlias.stdout}${byAlias.stderr}`).to.equal(0);
    expect(byAlias.stdout)
      .to.match(/^. flexnode-agent\.service - flexnode agent/)
      .and.match(/Active: active \(running\)/);
    expect((await m.exec(['systemctl', 'is-active', 'aks-flex-node-agent'], { allowFailure: true })).stdout.trim()).to.equal('active');
    const upstreamLog = await m.exec(['cat', '/var/log/aks-flex-node/aks-flex-node.log'], { allowFailure: true });
    expect(upstreamLog.exitCode, upstreamLog.stderr).to.equal(0);
    const first = (text: string) => text.split('\n')[0]!;
    expect(first(upstreamLog.stdout)).to.equal(first(await agentLog())); // the same file (the agent keeps writing it)
    expect(JSON.parse(first(upstreamLog.stdout))).to.include.keys('msg', 'time');
  });

  it('heals a stopped containerd within two intervals, and only that step', async () => {
    const m = machine!;
    const before = (await agentLog()).length;
    await m.execOrThrow(['systemctl', 'stop', 'containerd.service']);
    const took = await within(2 * INTERVAL_MS + 3_000, 'containerd active again', async () => (await active('containerd.service')) === 'active');
    console.log(`    containerd healed after ${took} ms`);
    const since = async () =>
      (await agentLog())
        .slice(before)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    await within(5_000, 'the heal to be logged', async () => (await since()).some((l) => l.msg === 'healed'));
    const lines = await since();
    const at = (msg: string) => lines.find((l) => l.msg === msg)?.time;
    console.log(`    drift logged ${at('drift')}, healing ${at('healing')}, healed ${at('healed')}`);
    const drift = lines.find((l) => l.msg === 'drift');
    expect(drift, JSON.stringify(lines, null, 1)).to.include({ step: 'containerd.service', status: 'drifted' });
    const healed = lines.filter((l) => l.msg === 'healed').map((l) => l.step);
    expect(healed).to.deep.equal(['containerd.service']);
    expect(lines.filter((l) => l.msg === 'bootstrap: converging every step')).to.deep.equal([]);
  });

  it('heals a deleted CNI config within two intervals', async () => {
    const m = machine!;
    await m.execOrThrow(['rm', '/etc/cni/net.d/99-bridge.conflist']);
    const took = await within(
      2 * INTERVAL_MS + 3_000,
      'the conflist back',
      async () => (await m.exec(['test', '-f', '/etc/cni/net.d/99-bridge.conflist'], { allowFailure: true })).exitCode === 0,
    );
    console.log(`    CNI config healed after ${took} ms`);
    expect(JSON.parse(await m.readFile('/etc/cni/net.d/99-bridge.conflist')).plugins[0].type).to.equal('bridge');
  });

  it('systemctl stop during a step waits for the step; the journal is consistent and the next start converges', async () => {
    const m = machine!;
    const runc = manifest.get('runc');
    // The runc download stalls: the heal of runc.binary is in progress until the mirror lets go.
    mirror!.setFault(runc.mirrorPath, 'stall');
    mirror!.resetRequests();
    await m.execOrThrow(['sh', '-c', 'rm -f /usr/bin/runc && rm -rf /var/lib/flexnode/cache']);
    await within(2 * INTERVAL_MS + 3_000, 'the runc download to start', async () => mirror!.count(runc.mirrorPath) > 0);
    await m.execOrThrow(['systemctl', 'stop', '--no-block', UNIT]);
    await new Promise((r) => setTimeout(r, 1_000));
    // SIGTERM was sent; the agent waits for the step in progress (KillMode=mixed: only the agent got it).
    expect((await show(UNIT, ['ActiveState'])).ActiveState).to.equal('deactivating');
    // Let the download go: the stalled connection is cut, the Host retries against a healthy mirror.
    const port = mirror!.port;
    await mirror!.close();
    mirror = await startMirror(manifest, { host: machine!.hostAddress, port });
    await within(60_000, 'the agent to stop', async () => ['inactive', 'failed'].includes((await show(UNIT, ['ActiveState'])).ActiveState));
    const s = await show(UNIT, ['ActiveState', 'Result']);
    expect(s, await why()).to.include({ ActiveState: 'inactive', Result: 'success' });
    const journal = JSON.parse(await m.readFile('/var/lib/flexnode/journal.json'));
    for (const [id, step] of Object.entries(journal.steps as Record<string, { status: string }>))
      expect(step.status, id).to.be.oneOf(['installed', 'installing']);
    expect(await m.exec(['test', '-e', '/run/flexnode/flexnode.lock'], { allowFailure: true }).then((r) => r.exitCode), 'lock released').to.not.equal(0);

    await m.execOrThrow(['systemctl', 'start', UNIT], { unit: UNIT, timeoutMs: 180_000 });
    expect((await show(UNIT, ['StatusText'])).StatusText).to.match(/^healthy/);
    expect((await m.exec(['sha256sum', '/usr/bin/runc'])).stdout.split(' ')[0]).to.equal(runc.sha256);
    const status = await m.exec(['flexnode', 'status', '--only', AGENT_ONLY.join(','), '--json'], { allowFailure: true });
    expect(status.exitCode, status.stdout).to.equal(0);
  });

  it('uninstall.sh refuses while bootstrapped; --force unbootstraps and removes everything install.sh put there', async () => {
    const m = machine!;
    const refused = await m.exec(['/opt/flexnode/current/uninstall.sh'], { allowFailure: true });
    expect(refused.exitCode).to.equal(1);
    expect(refused.stderr).to.match(/still bootstrapped .*flexnode unbootstrap/);
    expect(await active(UNIT)).to.equal('active');

    await m.execOrThrow(['rm', '-rf', `/etc/systemd/system/${UNIT}.d`]); // the test's own drop-in
    const r = await m.exec(['/opt/flexnode/current/uninstall.sh', '--force', '--purge-config'], { allowFailure: true, timeoutMs: 180_000 });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}${await why()}`).to.equal(0);
    expect(await active(UNIT)).to.not.equal('active');
    expect(await active('containerd.service')).to.not.equal('active');
    const diff = diffSnapshots(pristine, await m.snapshot(NOISE));
    expect(isEmptyDiff(diff), `${JSON.stringify(diff, null, 2)}\n--- uninstall.sh\n${r.stdout}\n${r.stderr}`).to.equal(true);
  });
});
