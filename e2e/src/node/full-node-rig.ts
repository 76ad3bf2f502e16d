// The node-in-a-box rig for a whole node: a booted Debian machine with real systemd, the host-side mirror (the
// runtime built from Debian's binaries, the kubelet and azcmagent STAND-INS), the FAKE ARM, Entra, Arc HIMDS
// and Kubernetes API, and a config for all of them written to the machine. Used by the full-cycle test and by
// the bench (bench/box-node.mjs: time to a Ready node, status of a bootstrapped node).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { installStandin, standinPath } from '../fakes/standins/install.js';
import { startMachine, type Bind, type Machine } from '../machine/machine.js';
import { buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { writeConfig } from './cli-in-machine.js';
import { nodeConfig, SUBSCRIPTION, TENANT } from './node-config.js';

export const KUBE_VERSION = '1.30.4';
export const AGENT_VERSION = '1.50.02997.1';
export const NODE = 'box-node';
export const CLIENT_ID = 'cccccccc-0000-0000-0000-0000000000a1';
export const CLIENT_SECRET = 'e2e~Full.cycle-s3cret-never-printed';
export const CA_IN_MACHINE = '/etc/flexnode-e2e/fakes-ca.pem';

export interface FullNodeRig {
  machine: Machine;
  mirror: MirrorServer;
  manifest: ArtifactManifest;
  arm: FakeArm;
  entra: FakeEntra;
  himds: FakeHimds;
  kube: FakeKubeApi;
  /** Scratch directory on the host (removed by stop). */
  work: string;
  /** What the Arc agent provides a real node (its identity endpoint, the fakes' CA) and the stand-in's wiring. */
  env: Record<string, string>;
  /** Every fake's recorded requests, for the time they took. */
  fakes(): { label: string; requests: { at: number; ms?: number }[] }[];
  stop(): Promise<void>;
}

/** Boot the machine, start the fakes and the mirror, and write the config; `stop()` undoes all of it. */
export async function startFullNodeRig(options: { name?: string; bindRo?: Bind[] } = {}): Promise<FullNodeRig> {
  const work = mkdtempSync(join(tmpdir(), 'flexnode-full-'));
  const parts: Partial<FullNodeRig> = { work };
  const stop = async () => {
    await parts.machine?.stop();
    await Promise.all([parts.mirror?.close(), parts.arm?.stop(), parts.entra?.stop(), parts.himds?.stop(), parts.kube?.stop()].map((p) => p?.catch(() => undefined)));
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const keyDir = join(work, 'himds-keys');
    mkdirSync(keyDir, { mode: 0o700 });
    const machine = (parts.machine = await startMachine({
      name: options.name ?? 'full',
      bindRepo: true,
      binds: [{ host: keyDir, machine: '/var/opt/azcmagent/tokens' }],
      bindRo: options.bindRo,
    }));
    const host = machine.hostAddress; // the machine cannot reach the host's loopback
    const himds = (parts.himds = await FakeHimds.start({ keyDir, host }));
    const kube = (parts.kube = await FakeKubeApi.start({ host, version: `v${KUBE_VERSION}`, acceptToken: (t) => (himds.isIssued(t) ? `system:node:${NODE}` : false) }));
    const entra = (parts.entra = await FakeEntra.start({ host, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], tenantId: TENANT }));
    const operator = (t: string) => entra.lookup(t);
    const arm: FakeArm = (parts.arm = await FakeArm.start({
      host,
      tenantId: TENANT,
      acceptToken: (t) => {
        const issued = operator(t);
        if (issued) return { appId: issued.clientId, objectId: issued.objectId };
        // The Arc machine's managed identity: HIMDS tokens for ARM's audience (the public cloud's, as flexnode asks
        // for: clouds.ts) are Entra tokens of the machine's identity, which ARM accepts and authorizes by its role
        // assignments (below).
        const principal = arm.machine(NODE)?.principalId;
        return himds.lookup(t)?.resource.replace(/\/$/, '') === 'https://management.azure.com' && principal ? { appId: principal, objectId: principal } : false;
      },
      // Azure RBAC, coarsely: the operator's service principal may do anything; the machine identity only acts
      // at or below a scope where it holds a role assignment (effective at once: this fake does not propagate).
      authorize: ({ scope, caller }) =>
        caller.objectId === arm.machine(NODE)?.principalId
          ? arm.roleAssignments().some((a) => a.principalId === caller.objectId && `${scope.toLowerCase()}/`.startsWith(`${a.scope.toLowerCase()}/`))
          : true,
    }));
    arm.addCluster({
      subscriptionId: SUBSCRIPTION,
      resourceGroup: 'rg-aks',
      name: 'aks-1',
      serverUrl: kube.url,
      caData: kube.caData,
      kubernetesVersion: KUBE_VERSION,
      location: 'westus2',
      networkProfile: { serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
    });

    // The mirror: Debian's runtime in the upstream layout, plus the stand-ins where upstream ships binaries.
    const manifest = (parts.manifest = await buildArtifacts());
    const bins = join(work, 'bins');
    installStandin('kubelet', join(bins, 'kubelet'), { kubeletVersion: KUBE_VERSION });
    for (const b of ['kubectl', 'kubeadm']) writeFileSync(join(bins, b), `#!/bin/sh\necho "${b} stand-in"\n`, { mode: 0o755 });
    const kubePins: Record<string, string> = {};
    for (const b of ['kubelet', 'kubectl', 'kubeadm']) {
      kubePins[b] = (await manifest.addFile(`kubernetes/v${KUBE_VERSION}/${b}-linux-${manifest.arch}`, join(bins, b))).sha256;
    }
    const agent = await manifest.addFile(`azcmagent/v${AGENT_VERSION}/azcmagent-linux-${manifest.arch}`, standinPath('azcmagent'));
    const mirror = (parts.mirror = await startMirror(manifest, { host }));

    await machine.exec(['mkdir', '-p', '/etc/flexnode-e2e']);
    await machine.writeFile(CA_IN_MACHINE, readFileSync(arm.certPath));
    await machine.exec(['mkdir', '-p', '-m', '0700', '/etc/aks-flex-node']);
    await machine.writeFile('/etc/aks-flex-node/client-secret', CLIENT_SECRET, 0o600);
    const config = nodeConfig(manifest, mirror.url, {
      kubernetes: { version: KUBE_VERSION, sha256: kubePins },
      node: { name: NODE, labels: { 'flexnode.io/pool': 'edge' } },
      pluginConfig: {
        // nspawn keeps non-network sysctls read-only (they would reach the host): the kernel-wide settings the
        // kubelet's protectKernelDefaults needs cannot be set in the box; the unshare tier tests that step.
        '@flexnode/plugin-kube': { protectKernelDefaults: false },
        '@flexnode/plugin-arc': {
          agent: { source: 'binary', version: AGENT_VERSION, sha256: agent.sha256 },
          retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
          pollIntervalMs: 50,
          identityTimeoutSeconds: 20,
          propagationTimeoutSeconds: 5,
        },
      },
    });
    config.azure.arc.machineName = NODE;
    config.azure.servicePrincipal = { clientId: CLIENT_ID, clientSecretFile: '/etc/aks-flex-node/client-secret' };
    config.azure.endpoints = { resourceManager: arm.url, authorityHost: entra.url };
    await writeConfig(machine, config);
    const env = {
      NODE_EXTRA_CA_CERTS: CA_IN_MACHINE,
      ...himds.env(),
      AZCMAGENT_STANDIN_ARM: arm.url,
      AZCMAGENT_STANDIN_STATE: '/run/azcmagent-standin.json',
    };
    const servers = { arm, entra, himds, kube };
    return {
      machine,
      mirror,
      manifest,
      arm,
      entra,
      himds,
      kube,
      work,
      env,
      fakes: () => Object.entries(servers).map(([label, s]) => ({ label, requests: s.requests })),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
