// A fleet site for the rollout tests: N booted machines, one set of FAKE Azure and Kubernetes servers (one ARM,
// one Entra, one API server the nodes all join; one FAKE Arc HIMDS per machine, as each machine has its own
// agent), the "upstream" artifact hosts, and a mirror filled from them by the real `flexnode mirror sync`.
// The servers listen on the first machine's veth address; the other machines reach it through their own veth
// (a host route), so each machine's network can be cut down to exactly the mirror and the fakes.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { nativeRelease, type Release } from '../agent/release.js';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { armCallers } from '../fakes/arm-callers.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { standinPath } from '../fakes/standins/install.js';
import { startMachine, type Machine, type MachineOptions } from '../machine/machine.js';
import { buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { addKubeRelease } from '../mirror/kube-release.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { repoRoot } from '../mirror/paths.js';
import { run, type RunResult } from '../mirror/run.js';
import { nodeConfig, SUBSCRIPTION, TENANT } from '../node/node-config.js';

export const KUBE_VERSION = '1.30.4';
export const AGENT_VERSION = '1.50.02997.1';
export const CLIENT_ID = 'cccccccc-0000-0000-0000-0000000000f1';
export const CLIENT_SECRET = 'e2e~Fleet.rollout-s3cret-never-printed';
export const CA_IN_MACHINE = '/etc/flexnode-e2e/fakes-ca.pem';
/** Where the mirror serves the flexnode release tarballs (next to the artifacts, as an operator would). */
export const RELEASE_PREFIX = 'flexnode';

export interface FleetNode {
  name: string;
  machine: Machine;
  himds: FakeHimds;
}

/** The servers of a site, up while its machines still boot. */
export interface FleetServers {
  work: string;
  /** Address every server listens on: the first machine's veth address on the host. */
  anchor: string;
  arm: FakeArm;
  entra: FakeEntra;
  kube: FakeKubeApi;
  himds: Map<string, FakeHimds>;
  /** The upstream release hosts (stand-in: Debian-built artifacts and stand-ins in the upstream layout). */
  upstream: MirrorServer;
  manifest: ArtifactManifest;
  release: Release;
  /** Directory `flexnode mirror sync` fills, and the server that serves it (and the release) to the nodes. */
  mirrorDir: string;
  mirror: MirrorServer;
  /** The fakes' CA certificate (PEM), which nodes trust through NODE_EXTRA_CA_CERTS=CA_IN_MACHINE. */
  ca: Buffer;
  /** The config node `name` gets: the upstream layout's versions pinned, artifacts from the synced mirror. */
  configFor(name: string): Record<string, any>;
  /** The environment flexnode needs on node `name` to reach the fakes (CA, its HIMDS, the azcmagent stand-in). */
  envFor(name: string): Record<string, string>;
  /** `flexnode mirror sync` with the repo's CLI on this (host) side, from the upstream hosts into mirrorDir (for `config`, default node one's). */
  syncMirror(args?: string[], config?: Record<string, any>): Promise<RunResult>;
}

export interface FleetSite extends FleetServers {
  nodes: FleetNode[];
  /** Drop every packet a machine sends except to the mirror and the fakes (and replies). */
  cutNetwork(node: FleetNode): Promise<void>;
  close(): Promise<void>;
}

export interface FleetOptions {
  /** More options for a node's machine (a `prepare` of its disk, say). */
  machine?: (name: string) => MachineOptions;
  /** Runs once the servers are up, while the first machine still boots, with that machine's disk (host path). */
  onServers?: (servers: FleetServers, firstRoot: string) => Promise<void>;
}

type Closable = { stop?: () => Promise<void>; close?: () => Promise<void> };

/**
 * Boots `names.length` machines in parallel and starts the site around them: the servers come up on the first
 * machine's veth address as soon as it has one (its first boot may already need them).
 */
export async function startFleetSite(names: string[], opts: FleetOptions = {}): Promise<FleetSite> {
  const work = mkdtempSync(join(tmpdir(), 'flexnode-fleet-'));
  const closables: Closable[] = [];
  const machines: (Machine | undefined)[] = [];
  const assets = Promise.all([buildArtifacts(), nativeRelease()]);
  assets.catch(() => undefined);
  let servers: FleetServers | undefined;
  try {
    await Promise.all(
      names.map(async (name, i) => {
        const keyDir = join(work, `himds-${name}`);
        mkdirSync(keyDir, { mode: 0o700 });
        const extra = opts.machine?.(name) ?? {};
        machines[i] = await startMachine({
          name: 'fleet',
          bootTimeoutMs: 300_000, // the first machine's boot waits for the release build and the servers
          ...extra,
          binds: [...(extra.binds ?? []), { host: keyDir, machine: '/var/opt/azcmagent/tokens' }],
          ...(i === 0
            ? {
                onNetwork: async (net) => {
                  const [manifest, release] = await assets;
                  servers = await startServers(work, names, net.hostAddress, manifest, release, closables);
                  await opts.onServers?.(servers, net.root);
                },
              }
            : {}),
        });
      }),
    );
    const s = servers!;
    // The other machines reach the anchor address through their own veth: the host owns it, so it answers.
    for (const m of machines.slice(1)) await m!.execOrThrow(['ip', 'route', 'add', `${s.anchor}/32`, 'via', m!.hostAddress, 'dev', 'host0']);
    const nodes = names.map((name, i) => ({ name, machine: machines[i]!, himds: s.himds.get(name)! }));
    for (const node of nodes) {
      await node.machine.exec(['mkdir', '-p', '/etc/flexnode-e2e']);
      await node.machine.writeFile(CA_IN_MACHINE, s.ca);
    }
    const cutNetwork = async (node: FleetNode) => {
      const ports = [s.mirror.port, ...[s.arm, s.entra, s.kube, node.himds].map((f) => Number(new URL(f.url).port))];
      const rules = [
        ['-A', 'OUTPUT', '-o', 'lo', '-j', 'ACCEPT'],
        ['-A', 'OUTPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'],
        ...ports.map((p) => ['-A', 'OUTPUT', '-d', `${s.anchor}/32`, '-p', 'tcp', '--dport', String(p), '-j', 'ACCEPT']),
        ['-A', 'OUTPUT', '-j', 'REJECT'],
      ];
      for (const r of rules) await node.machine.execOrThrow(['iptables', '-w', ...r]);
      await node.machine.execOrThrow(['ip6tables', '-w', '-A', 'OUTPUT', '-o', 'lo', '-j', 'ACCEPT']);
      await node.machine.execOrThrow(['ip6tables', '-w', '-A', 'OUTPUT', '-j', 'REJECT']);
    };
    return { ...s, nodes, cutNetwork, close: () => closeAll(machines, closables, work) };
  } catch (error) {
    await closeAll(machines, closables, work);
    throw error;
  }
}

async function startServers(
  work: string,
  names: string[],
  anchor: string,
  manifest: ArtifactManifest,
  release: Release,
  closables: Closable[],
): Promise<FleetServers> {
  const started = <T extends Closable>(server: T): T => (closables.push(server), server);
  const himds = new Map<string, FakeHimds>();
  // The arm server is started below: each node's identity is the principalId ARM gave its Arc machine on connect.
  let arm: FakeArm | undefined;
  for (const name of names) {
    himds.set(
      name,
      started(
        await FakeHimds.start({ keyDir: join(work, `himds-${name}`), host: anchor, tenantId: TENANT, principalId: () => arm?.machine(name)?.principalId }),
      ),
    );
  }
  // The API server authorizes each kubelet as AKS does: guard checks its Entra token against the role assignments
  // flexnode makes on the cluster (attached to the ARM cluster below).
  // A kubenet cluster, as in the full cycle: node-ipam gives every Node a /24 of the pod range.
  const kube = started(
    await FakeKubeApi.start({ host: anchor, version: `v${KUBE_VERSION}`, podCidr: { clusterCidr: '10.244.0.0/16' }, serviceCidr: '10.96.0.0/16' }),
  );
  const entra = started(await FakeEntra.start({ host: anchor, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], tenantId: TENANT }));
  arm = started(
    await FakeArm.start({
      host: anchor,
      tenantId: TENANT,
      acceptToken: armCallers(
        entra,
        () => [...himds.values()],
        () => arm?.url,
      ),
    }),
  );
  arm.addCluster({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: 'rg-aks',
    name: 'aks-1',
    kube,
    kubernetesVersion: KUBE_VERSION,
    location: 'westus2',
    networkProfile: { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
  });
  // The operator holds RBAC Admin in the cluster (plugin-kube README, "The operator's Kubernetes credential"): the nodes'
  // own roles (flexnode's, derived from system:node) may not delete a Node, so unbootstrap deletes it as the operator.
  arm.grant(
    entra.clients[0]!.objectId,
    'Azure Kubernetes Service RBAC Admin',
    `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-1`,
  );

  // Upstream: the runtime built from Debian's packages, plus the stand-ins where upstream ships binaries.
  // kube-proxy with the .sha256 beside it, as dl.k8s.io publishes it: a mirror of a node that may run its own takes it.
  const kubePins = await addKubeRelease(manifest, work, KUBE_VERSION);
  const agent = await manifest.addFile(`azcmagent/v${AGENT_VERSION}/azcmagent-linux-${manifest.arch}`, standinPath('azcmagent'));
  const upstream = started(await startMirror(manifest, { host: anchor }));

  // The mirror the nodes use: what `mirror sync` wrote, and the release beside it.
  const mirrorDir = join(work, 'mirror');
  const releaseDir = join(work, 'release', RELEASE_PREFIX);
  await mkdir(releaseDir, { recursive: true });
  for (const f of [release.tarball, `${release.tarball}.sha256`]) await copyFile(f, join(releaseDir, f.split('/').pop()!));
  const mirror = started(
    await startMirror(
      {
        lookup: (p) => {
          const rel = normalize(p);
          if (rel.startsWith('..') || rel.startsWith('/')) return undefined;
          const file = join(rel.startsWith(`${RELEASE_PREFIX}/`) ? join(work, 'release') : mirrorDir, rel);
          return statSync(file, { throwIfNoEntry: false })?.isFile() ? { file } : undefined;
        },
      },
      { host: anchor },
    ),
  );

  const configFor = (name: string) => {
    const config = nodeConfig(manifest, mirror.url, {
      kubernetes: { version: KUBE_VERSION, sha256: kubePins },
      node: { name, labels: { 'flexnode.io/pool': 'fleet' } },
      pluginConfig: {
        // nspawn keeps non-network sysctls read-only: see the full-cycle test.
        '@flexnode/plugin-kube': { protectKernelDefaults: false, kernelTuning: false, skipPreflight: ['azure-endpoint'] },
        '@flexnode/plugin-arc': {
          agent: { source: 'binary', version: AGENT_VERSION, sha256: agent.sha256 },
          retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
          pollIntervalMs: 50,
          identityTimeoutSeconds: 20,
          propagationTimeoutSeconds: 5,
        },
      },
    });
    delete config.cni.podCIDR; // the cluster gives each Node its range
    config.azure.arc.machineName = name;
    config.azure.servicePrincipal = { clientId: CLIENT_ID };
    config.azure.endpoints = { resourceManager: arm.url, authorityHost: entra.url };
    return config;
  };
  const envFor = (name: string) => ({
    NODE_EXTRA_CA_CERTS: CA_IN_MACHINE,
    ...himds.get(name)!.env(),
    AZCMAGENT_STANDIN_ARM: arm.url,
    AZCMAGENT_STANDIN_STATE: '/run/azcmagent-standin.json',
  });
  const syncConfig = join(work, 'sync-config.json');
  writeFileSync(syncConfig, JSON.stringify(configFor(names[0]!)), { mode: 0o600 });
  const syncMirror = (args: string[] = [], config?: Record<string, any>) => {
    const file = config ? join(work, 'sync-config-given.json') : syncConfig;
    if (config) writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    return run(
      [process.execPath, join(repoRoot(), 'packages/cli/bin/run.js'), 'mirror', 'sync', '--to', mirrorDir, '--config', file, '--from', upstream.url, ...args],
      {
        allowFailure: true,
        timeoutMs: 300_000,
      },
    );
  };
  const ca = await readFile(arm.certPath);
  return { work, anchor, arm, entra, kube, himds, upstream, manifest, release, mirrorDir, mirror, ca, configFor, envFor, syncMirror };
}

async function closeAll(machines: (Machine | undefined)[], servers: Closable[], work: string): Promise<void> {
  await Promise.all(machines.map((m) => m?.stop().catch(() => undefined)));
  await Promise.all(servers.map((s) => (s.stop ?? s.close)?.call(s).catch(() => undefined)));
  rmSync(work, { recursive: true, force: true });
}
