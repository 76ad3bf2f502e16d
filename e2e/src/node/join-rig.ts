// The rig of the box tests that join a node: a booted Debian machine with real systemd, and on the host the FAKE
// ARM, FAKE Entra, FAKE Arc HIMDS and FAKE Kubernetes API (reached at the machine's view of the host), the artifact
// mirror (Debian's runtime in the upstream layout, the kubelet and kube-proxy STAND-INs where upstream ships
// binaries) and a config that points at all of them. Only Azure, the API server, azcmagent, the kubelet and kube-proxy
// are fakes or stand-ins: nothing else here can be had on these machines.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkProfile } from '../fakes/arm-shapes.js';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { armCallers } from '../fakes/arm-callers.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi, type FakeKubeApiOptions } from '../fakes/fake-kube-api.js';
import { standinPath } from '../fakes/standins/install.js';
import { startMachine, type Bind, type Machine } from '../machine/machine.js';
import { buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { addKubeRelease } from '../mirror/kube-release.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { repoRoot } from '../mirror/paths.js';
import { writeConfig } from './cli-in-machine.js';
import { nodeConfig, SUBSCRIPTION, TENANT } from './node-config.js';

export const AGENT_VERSION = '1.50.02997.1';
export const CLIENT_ID = 'cccccccc-0000-0000-0000-0000000000a1';
export const CLIENT_SECRET = 'e2e~Full.cycle-s3cret-never-printed';
export const CLUSTER_RG = 'rg-aks';
export const CLUSTER_NAME = 'aks-1';
export const CLUSTER_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${CLUSTER_RG}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER_NAME}`;
const CA_IN_MACHINE = '/etc/flexnode-e2e/fakes-ca.pem';
/** The machine's `flexnode` command: the repo's CLI on the machine's Node (see FLEXNODE_COMMAND below). */
export const CLI_LAUNCHER = '/usr/local/bin/flexnode';
/** Audiences ARM accepts (learn.microsoft.com, "Azure Resource Manager" token audiences: both are valid). */

/**
 * Written by anything that runs (logs, journald, systemd's own state), or by containerd itself at run time (its
 * content store): not flexnode's files. Pass to `machine.snapshot`. What the kubelet writes in /var/lib/kubelet
 * (certificates, pods) is not noise: unbootstrap removes it with the node.
 */
export const NOISE = ['/var/log', '/var/lib/systemd', '/var/cache', '/etc/machine-id', '/var/lib/containerd', '/var/tmp', '/root/.npm', '/root/.cache'];

export interface JoinRigOptions {
  /** Prefix of the machine's name. */
  name: string;
  kubernetesVersion: string;
  /** What the cluster was created with (the fake ARM fills in AKS's defaults). */
  networkProfile: Partial<NetworkProfile>;
  /** The fake API server's options (e.g. `podCidr` for a cluster whose node-ipam allocates ranges). */
  kube?: Partial<FakeKubeApiOptions>;
  node: { name: string; labels?: Record<string, string> };
  /** More of the config's `kubernetes` section (e.g. `auth`), beside the version and pins the rig sets. */
  kubernetes?: Record<string, unknown>;
  /** More read-only binds into the machine (e.g. other Node.js builds for the bench). */
  bindRo?: Bind[];
}

export interface JoinRig {
  machine: Machine;
  mirror: MirrorServer;
  manifest: ArtifactManifest;
  arm: FakeArm;
  entra: FakeEntra;
  himds: FakeHimds;
  kube: FakeKubeApi;
  /** The environment a real node would have for the CLI: the fakes' CA, the Arc agent's identity endpoint. */
  env: Record<string, string>;
  /** A scratch directory on the host. */
  work: string;
  /** The config for this rig, with `overrides` merged at the top level (written with {@link JoinRig.write}). */
  config(overrides?: Record<string, unknown>): Record<string, any>;
  write(config: Record<string, any>): Promise<void>;
  /** Every fake's recorded requests, for the time they took (the bench reports them apart). */
  fakes(): { label: string; requests: { at: number; ms?: number }[] }[];
  stop(): Promise<void>;
}

/** Start the rig; what was started is stopped again when a later part fails. */
export async function startJoinRig(opts: JoinRigOptions): Promise<JoinRig> {
  const work = mkdtempSync(join(tmpdir(), `flexnode-${opts.name}-`));
  const started: { stop(): Promise<unknown> }[] = [];
  try {
    return await start(opts, work, started);
  } catch (error) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

async function start(opts: JoinRigOptions, work: string, started: { stop(): Promise<unknown> }[]): Promise<JoinRig> {
  const keep = <T extends { stop(): Promise<unknown> }>(x: T) => (started.push(x), x);
  const keyDir = join(work, 'himds-keys');
  mkdirSync(keyDir, { mode: 0o700 });
  const machine = keep(
    await startMachine({ name: opts.name, bindRepo: true, binds: [{ host: keyDir, machine: '/var/opt/azcmagent/tokens' }], bindRo: opts.bindRo }),
  );
  const host = machine.hostAddress; // the machine cannot reach the host's loopback
  let arm: FakeArm | undefined;
  // The node identity is the Arc machine's: HIMDS tokens carry the principalId ARM gave the machine on connect.
  const himds = keep(await FakeHimds.start({ keyDir, host, tenantId: TENANT, principalId: () => arm?.machine(opts.node.name)?.principalId }));
  const kube = keep(await FakeKubeApi.start({ host, version: `v${opts.kubernetesVersion}`, ...opts.kube }));
  const entra = keep(await FakeEntra.start({ host, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], tenantId: TENANT }));
  arm = keep(
    await FakeArm.start({
      host,
      tenantId: TENANT,
      acceptToken: armCallers(
        entra,
        () => [himds],
        () => arm?.url,
      ),
      // Azure RBAC, coarsely: the operator's service principal may do anything; the machine identity only acts at or
      // below a scope where it holds a role assignment (effective at once: this fake does not propagate).
      authorize: ({ scope, caller }) =>
        caller.objectId !== undefined && caller.objectId === arm?.machine(opts.node.name)?.principalId
          ? arm.roleAssignments().some((a) => a.principalId === caller.objectId && `${scope.toLowerCase()}/`.startsWith(`${a.scope.toLowerCase()}/`))
          : true,
    }),
  );
  arm.addCluster({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: CLUSTER_RG,
    name: CLUSTER_NAME,
    location: 'westus2',
    kube, // guard checks the node identity's requests against the role assignments flexnode makes here
    kubernetesVersion: opts.kubernetesVersion,
    networkProfile: opts.networkProfile,
  });

  // The mirror: Debian's runtime in the upstream layout, the stand-ins where upstream ships binaries; kube-proxy
  // with the `.sha256` beside it, as dl.k8s.io publishes it (the config pins nothing for it).
  const v = opts.kubernetesVersion;
  const manifest = await buildArtifacts();
  const kubePins = await addKubeRelease(manifest, work, v);
  const agent = await manifest.addFile(`azcmagent/v${AGENT_VERSION}/azcmagent-linux-${manifest.arch}`, standinPath('azcmagent'));
  const mirror = await startMirror(manifest, { host });
  keep({ stop: () => mirror.close() });

  await machine.exec(['mkdir', '-p', '/etc/flexnode-e2e']);
  await machine.writeFile(CA_IN_MACHINE, readFileSync(arm.certPath));
  await machine.exec(['mkdir', '-p', '-m', '0700', '/etc/aks-flex-node']);
  await machine.writeFile('/etc/aks-flex-node/client-secret', CLIENT_SECRET, 0o600);
  // A release's bin/flexnode exports FLEXNODE_COMMAND, its own stable path, which the kubelet's kubeconfig then runs
  // for tokens (plugin-arc). The rig gives the repo's CLI the same: a launcher, so the kubeconfig names neither the
  // repo's entry nor the Node.js that ran the bootstrap (the bench runs status on Node 20, 22 and 24).
  await machine.writeFile(CLI_LAUNCHER, `#!/bin/sh\nexec node '${repoRoot()}/packages/cli/bin/run.js' "$@"\n`, 0o755);
  const cniPin = manifest.get('cni-plugins');
  const config = (overrides: Record<string, unknown> = {}) => {
    const c = nodeConfig(manifest, mirror.url, {
      kubernetes: { ...opts.kubernetes, version: v, sha256: kubePins },
      // The pod range comes from the cluster or the test: no cni.podCIDR unless an override gives one.
      cni: { version: cniPin.version, sha256: cniPin.sha256 },
      node: opts.node,
      pluginConfig: {
        // nspawn keeps non-network sysctls read-only (they would reach the host): the kernel-wide settings the
        // kubelet's protectKernelDefaults needs cannot be set in the box; the unshare tier tests that step.
        '@flexnode/plugin-kube': { protectKernelDefaults: false, kernelTuning: false },
        '@flexnode/plugin-arc': {
          agent: { source: 'binary', version: AGENT_VERSION, sha256: agent.sha256 },
          retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
          pollIntervalMs: 50,
          identityTimeoutSeconds: 20,
          propagationTimeoutSeconds: 5,
        },
      },
      ...overrides,
    });
    c.azure.arc.machineName = opts.node.name;
    c.azure.servicePrincipal = { clientId: CLIENT_ID, clientSecretFile: '/etc/aks-flex-node/client-secret' };
    c.azure.endpoints = { resourceManager: arm!.url, authorityHost: entra.url };
    return c;
  };
  // What the Arc agent provides a real node (its identity endpoint), and the stand-in's own wiring.
  const env = {
    NODE_EXTRA_CA_CERTS: CA_IN_MACHINE,
    ...himds.env(),
    AZCMAGENT_STANDIN_ARM: arm.url,
    AZCMAGENT_STANDIN_STATE: '/run/azcmagent-standin.json',
    FLEXNODE_COMMAND: CLI_LAUNCHER,
  };
  return {
    machine,
    mirror,
    manifest,
    arm,
    entra,
    himds,
    kube,
    env,
    work,
    config,
    write: (c) => writeConfig(machine, c),
    fakes: () => Object.entries({ arm, entra, himds, kube }).map(([label, s]) => ({ label, requests: s!.requests })),
    async stop() {
      await machine.stop();
      await Promise.all([mirror.close(), arm?.stop(), entra.stop(), himds.stop(), kube.stop()].map((p) => p?.catch(() => undefined)));
      rmSync(work, { recursive: true, force: true });
    },
  };
}
