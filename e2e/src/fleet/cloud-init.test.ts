// Fleet rollout through cloud-init (Debian's cloud-init, NoCloud datasource, the seed on the machine's disk): the
// shipped deploy/cloud-init/user-data.yaml, with its REPLACE values filled in, makes a booted machine's first boot
// install flexnode from the release URL (sha256 verified), write the config and the secret and start the agent,
// which bootstraps the node from the synced mirror against the FAKE Azure and Kubernetes servers.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { repoRoot } from '../mirror/paths.js';
import { CA_IN_MACHINE, CLIENT_SECRET, RELEASE_PREFIX, startFleetSite, type FleetServers, type FleetSite } from './site.js';

const NODE = 'cinit-a';
const SEED = 'var/lib/cloud/seed/nocloud';
const UNIT = 'flexnode-agent.service';

type WriteFile = { path: string; content: string; permissions?: string };

/** The shipped user-data with this site's values where it says REPLACE (and the config and agent environment). */
function userData(servers: FleetServers, name: string): string {
  const doc = parse(readFileSync(join(repoRoot(), 'deploy/cloud-init/user-data.yaml'), 'utf8')) as { write_files: WriteFile[]; runcmd: unknown[] };
  const file = (path: string) => {
    const f = doc.write_files.find((w) => w.path === path);
    if (!f) throw new Error(`user-data.yaml has no write_files entry for ${path}`);
    return f;
  };
  const release = servers.release;
  const env = file('/run/flexnode-firstboot/release.env');
  env.content = env.content
    .replace(/^FLEXNODE_RELEASE_URL=.*$/m, `FLEXNODE_RELEASE_URL=${servers.mirror.url}/${RELEASE_PREFIX}`)
    .replace(/^FLEXNODE_VERSION=.*$/m, `FLEXNODE_VERSION=${release.version}`)
    .replace(/^FLEXNODE_SHA256_X64=.*$/m, `FLEXNODE_SHA256_X64=${release.arch === 'x64' ? release.sha256 : '0'.repeat(64)}`)
    .replace(/^FLEXNODE_SHA256_ARM64=.*$/m, `FLEXNODE_SHA256_ARM64=${release.arch === 'arm64' ? release.sha256 : '0'.repeat(64)}`);
  if (/REPLACE/.test(env.content)) throw new Error(`release.env still has a REPLACE value:\n${env.content}`);
  const config = servers.configFor(name);
  config.azure.servicePrincipal.clientSecretFile = '/etc/aks-flex-node/client-secret';
  config.agent.intervalSeconds = 10; // so that the test sees a check cycle of the agent soon after its bootstrap
  file('/run/flexnode-firstboot/config.json').content = `${JSON.stringify(config, null, 2)}\n`;
  file('/run/flexnode-firstboot/client-secret').content = CLIENT_SECRET;
  const dropIn = file('/etc/systemd/system/flexnode-agent.service.d/10-environment.conf');
  dropIn.content += Object.entries(servers.envFor(name))
    .map(([k, v]) => `Environment="${k}=${v}"\n`)
    .join('');
  return `#cloud-config\n${stringify(doc)}`;
}

describe('fleet: cloud-init first boot (NoCloud seed, the shipped user-data) installs flexnode and the agent joins the node', function () {
  this.timeout(600_000);
  let site: FleetSite | undefined;

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    site = await startFleetSite([NODE], {
      // cloud-init is off in the image: this machine turns it on, and its first stage waits for the seed, which
      // holds the servers' addresses (known once the machine has its network).
      machine: () => ({
        name: 'cinit',
        prepare: async (root) => {
          await rm(join(root, 'etc/cloud/cloud-init.disabled'));
          // The image, like a cloud image, says which of its locales cloud-init sets (minbase has C.UTF-8 only).
          await writeFile(join(root, 'etc/cloud/cloud.cfg.d/90-image-locale.cfg'), 'locale: C.UTF-8\n');
          const dropIn = join(root, 'etc/systemd/system/cloud-init-local.service.d');
          await mkdir(dropIn, { recursive: true });
          await writeFile(
            join(dropIn, 'e2e-wait-for-seed.conf'),
            `[Service]\nTimeoutStartSec=300\nExecStartPre=/bin/sh -c 'until [ -s /${SEED}/meta-data ]; do sleep 0.2; done'\n`,
          );
        },
      }),
      onServers: async (servers, root) => {
        await servers.syncMirror().then((r) => {
          if (r.exitCode !== 0) throw new Error(`mirror sync failed: ${r.stderr}`);
        });
        await mkdir(join(root, 'etc/flexnode-e2e'), { recursive: true });
        await writeFile(join(root, CA_IN_MACHINE), servers.ca);
        await mkdir(join(root, SEED), { recursive: true });
        await writeFile(join(root, SEED, 'user-data'), userData(servers, NODE), { mode: 0o600 });
        // meta-data last, by rename: its presence is what the first stage waits for.
        await writeFile(join(root, SEED, 'meta-data.tmp'), `instance-id: ${NODE}-0001\nlocal-hostname: ${NODE}\n`);
        await rename(join(root, SEED, 'meta-data.tmp'), join(root, SEED, 'meta-data'));
      },
    });
  });

  after(async () => {
    await site?.close();
  });

  it('after boot the node is bootstrapped (Ready in the cluster) and flexnode-agent runs', async () => {
    const s = site!;
    const m = s.nodes[0]!.machine;
    const status = await m.exec(['cloud-init', 'status', '--wait', '--long'], { allowFailure: true, timeoutMs: 300_000 });
    const output = async () =>
      `${status.stdout}\n--- cloud-init-output.log\n${await m.readFile('/var/log/cloud-init-output.log').catch((e: Error) => e.message)}\n--- ${UNIT}\n${await m.journal(UNIT, 60)}`;
    expect(status.exitCode, await output()).to.equal(0);
    expect(status.stdout).to.match(/status: done/);
    const result = JSON.parse(await m.readFile('/run/cloud-init/result.json')).v1;
    expect(result.errors, await output()).to.deep.equal([]);
    expect(result.datasource, 'the NoCloud seed on the disk').to.match(/^DataSourceNoCloud \[seed=\/var\/lib\/cloud\/seed\/nocloud\]/);

    // The agent bootstraps in the background (--no-block): wait for READY (active) and a Ready node.
    const deadline = Date.now() + 240_000;
    const active = async () => (await m.exec(['systemctl', 'is-active', UNIT], { allowFailure: true })).stdout.trim();
    while ((await active()) !== 'active' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    expect(await active(), await output()).to.equal('active');
    while (s.kube.readyCondition(NODE)?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(s.kube.readyCondition(NODE)?.status, await output()).to.equal('True');
    expect(s.arm.machine(NODE), 'Arc machine').to.not.equal(undefined);

    expect((await m.exec(['readlink', '/opt/flexnode/current'])).stdout.trim()).to.equal(s.release.version);
    expect((await m.exec(['systemctl', 'is-enabled', UNIT], { allowFailure: true })).stdout.trim()).to.equal('enabled');
    const modes = (await m.exec(['stat', '-c', '%a %n', '/etc/aks-flex-node', '/etc/aks-flex-node/config.json', '/etc/aks-flex-node/client-secret'])).stdout
      .trim()
      .split('\n');
    expect(modes).to.deep.equal(['700 /etc/aks-flex-node', '600 /etc/aks-flex-node/config.json', '600 /etc/aks-flex-node/client-secret']);
    // The staging files with the secret are gone; the status command agrees the node is healthy.
    expect((await m.exec(['test', '-e', '/run/flexnode-firstboot'], { allowFailure: true })).exitCode).to.not.equal(0);
    const health = await m.exec(['flexnode', 'status', '--json'], { allowFailure: true, env: s.envFor(NODE) });
    expect(
      health.exitCode,
      `${health.stdout.slice(0, 200)}${health.stderr}\n--- kubeconfig\n${await m.readFile('/var/lib/kubelet/kubeconfig')}\n--- agent log\n${(await m.readFile('/var/log/aks-flex-node/flexnode.log')).slice(-3000)}`,
    ).to.equal(0);
    expect(JSON.parse(health.stdout).agent, await output()).to.include({ healthy: true });
    for (const unit of ['containerd.service', 'kubelet.service'])
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.equal('active');
  });

  it('flexnode-agent keeps running through its check cycles (Azure calls in its own process): same pid, no restart', async () => {
    const m = site!.nodes[0]!.machine;
    const output = async () => `--- ${UNIT}\n${await m.journal(UNIT, 80)}`;
    const pid = (await m.exec(['systemctl', 'show', UNIT, '-p', 'MainPID', '--value'])).stdout.trim();
    const cyclesNow = async () => JSON.parse(await m.readFile('/var/lib/flexnode/status.json')).cycles as number;
    const first = await cyclesNow();
    const until = Date.now() + 40_000;
    while ((await cyclesNow()) < first + 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 1000));
    expect(await cyclesNow(), await output()).to.be.at.least(first + 1);
    const after = (await m.exec(['systemctl', 'show', UNIT, '-p', 'MainPID,NRestarts'])).stdout;
    expect(after, await output())
      .to.contain(`MainPID=${pid}`)
      .and.contain('NRestarts=0');
    expect(JSON.parse(await m.readFile('/var/lib/flexnode/status.json')).healthy, await output()).to.equal(true);
  });
});
