// A booted machine and the fakes a whole node needs (fake ARM, Entra and HIMDS; the fake Kubernetes API attached
// to the ARM cluster so guard authorizes the node identity with the roles flexnode assigns), a mirror with the
// runtime built from Debian's packages and what the test adds (Kubernetes releases of the kubelet STAND-IN, the
// azcmagent STAND-IN), and the config of a node pointed at all of them. Shared by the node tests that join a
// cluster (the full cycle, the lifecycle of a joined node).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { standinPath } from '../fakes/standins/install.js';
import { startMachine, type Machine } from '../machine/machine.js';
import { buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { writeConfig } from './cli-in-machine.js';
import { nodeConfig, SUBSCRIPTION, TENANT } from './node-config.js';

export const AGENT_VERSION = '1.50.02997.1';
export const CLIENT_ID = 'cccccccc-0000-0000-0000-0000000000a1';
export const CLIENT_SECRET = 'e2e~Full.cycle-s3cret-never-printed';
export const CA_IN_MACHINE = '/etc/flexnode-e2e/fakes-ca.pem';
export const CLUSTER_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-1`;
/**
 * Written by anything that runs (logs, journald, systemd's own state), or by the kubelet and containerd themselves
 * at run time: not flexnode's files.
 */
export const NOISE = ['/var/log', '/var/lib/systemd', '/var/cache', '/etc/machine-id', '/var/lib/containerd', '/var/tmp', '/root/.npm', '/root/.cache', '/var/lib/kubelet/pki'];

export interface JoinedNodeOptions {
  /** Machine name prefix. */
  name: string;
  node: string;
  /** The control plane's version (ARM's and the API server's). */
  kubeVersion: string;
  /** Adds the Kubernetes releases (and anything else) to the mirror before it starts. */
  mirror: (manifest: ArtifactManifest, work: string) => Promise<void>;
  /** Config fields over the node's (the `kubernetes` section, plugin-kube's settings...). */
  config?: (config: Record<string, any>) => void;
}

export interface JoinedNode {
  machine: Machine;
  kube: FakeKubeApi;
  arm: FakeArm;
  entra: FakeEntra;
  himds: FakeHimds;
  mirror: MirrorServer;
  manifest: ArtifactManifest;
  work: string;
  /** What the Arc agent provides a real node (its identity endpoint), and the azcmagent stand-in's wiring. */
  env: Record<string, string>;
  config: Record<string, any>;
  close(): Promise<void>;
}

export async function startJoinedNode(opts: JoinedNodeOptions): Promise<JoinedNode> {
  const work = mkdtempSync(join(tmpdir(), `flexnode-${opts.name}-`));
  const keyDir = join(work, 'himds-keys');
  mkdirSync(keyDir, { mode: 0o700 });
  const started: { stop?: () => Promise<void>; close?: () => Promise<void> }[] = [];
  let machine: Machine | undefined;
  try {
    machine = await startMachine({ name: opts.name, bindRepo: true, binds: [{ host: keyDir, machine: '/var/opt/azcmagent/tokens' }] });
    const host = machine.hostAddress; // the machine cannot reach the host's loopback
    let arm: FakeArm | undefined;
    // The node identity is the Arc machine's: HIMDS tokens carry the principalId ARM gave the machine on connect.
    const himds = await FakeHimds.start({ keyDir, host, tenantId: TENANT, principalId: () => arm?.machine(opts.node)?.principalId });
    started.push(himds);
    const kube = await FakeKubeApi.start({ host, version: `v${opts.kubeVersion}` });
    started.push(kube);
    const entra = await FakeEntra.start({ host, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], tenantId: TENANT });
    started.push(entra);
    arm = await FakeArm.start({
      host,
      tenantId: TENANT,
      acceptToken: (t) => {
        const issued = entra.lookup(t);
        return issued ? { appId: issued.clientId, objectId: issued.objectId } : false;
      },
    });
    started.push(arm);
    arm.addCluster({
      subscriptionId: SUBSCRIPTION,
      resourceGroup: 'rg-aks',
      name: 'aks-1',
      kube, // guard checks the node identity's requests against the role assignments flexnode makes here
      kubernetesVersion: opts.kubeVersion,
      location: 'westus2',
      networkProfile: { serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
    });
    const manifest = await buildArtifacts();
    await opts.mirror(manifest, work);
    const agent = await manifest.addFile(`azcmagent/v${AGENT_VERSION}/azcmagent-linux-${manifest.arch}`, standinPath('azcmagent'));
    const mirror = await startMirror(manifest, { host });
    started.push(mirror);

    await machine.exec(['mkdir', '-p', '/etc/flexnode-e2e']);
    await machine.writeFile(CA_IN_MACHINE, readFileSync(arm.certPath));
    await machine.exec(['mkdir', '-p', '-m', '0700', '/etc/aks-flex-node']);
    await machine.writeFile('/etc/aks-flex-node/client-secret', CLIENT_SECRET, 0o600);
    const config = nodeConfig(manifest, mirror.url, {
      node: { name: opts.node, labels: { 'flexnode.io/pool': 'edge' } },
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
    });
    config.azure.arc.machineName = opts.node;
    config.azure.servicePrincipal = { clientId: CLIENT_ID, clientSecretFile: '/etc/aks-flex-node/client-secret' };
    config.azure.endpoints = { resourceManager: arm.url, authorityHost: entra.url };
    opts.config?.(config);
    await writeConfig(machine, config);
    const env = { NODE_EXTRA_CA_CERTS: CA_IN_MACHINE, ...himds.env(), AZCMAGENT_STANDIN_ARM: arm.url, AZCMAGENT_STANDIN_STATE: '/run/azcmagent-standin.json' };
    const m = machine;
    return {
      machine: m, kube, arm, entra, himds, mirror, manifest, work, env, config,
      close: async () => {
        await m.stop();
        await Promise.all(started.map((s) => (s.stop ?? s.close)?.call(s).catch(() => undefined)));
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await machine?.stop();
    await Promise.all(started.map((s) => (s.stop ?? s.close)?.call(s).catch(() => undefined)));
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

/** A directory left only because the kubelet put its own run-time files in it is not flexnode's to delete. */
export async function kubeletOnly(machine: Machine, after: Map<string, { type: string }>, dir: string): Promise<boolean> {
  return after.get(dir)?.type === 'dir' && ![...after.keys()].some((p) => p.startsWith(`${dir}/`))
    && (await machine.exec(['ls', '-A', dir], { allowFailure: true })).stdout.trim() !== '';
}
