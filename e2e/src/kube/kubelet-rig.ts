// What the kubelet end-to-end tests share: the mirror serving the kubelet STAND-IN, the operator (a user signed in
// with Entra, as `az login` gives, holding an Azure RBAC role on the cluster), flexnode's node roles in the fake ARM,
// starting the stand-in with the drop-in's ExecStart under a temp root, and a tree snapshot of that root.
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AzureContext, StepDefinition, StepInstance } from '@flexnode/sdk';
import { execStartOf } from '@flexnode/sdk/testing';
import { nodeRoleDefinitions, type NodeComponent } from '@flexnode/plugin-arc';
import { KUBE_BINARIES } from '@flexnode/plugin-kube';
import type { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { installStandin } from '../fakes/standins/install.js';
import { trustPolicy } from '../fakes/tls.js';
import { ArtifactManifest, debianArch } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import type { RealHostHandle } from './real-host.js';

export const AKS_APP = '6dae42f8-4368-4678-94ff-3960e28e3630';

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** path → "mode sha-ish" for every file/dir under root, except flexnode's state and the verify-only system units. */
export function tree(root: string, dir = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const names = (() => {
    try {
      return readdirSync(join(root, dir));
    } catch {
      return [];
    }
  })();
  for (const name of names.sort()) {
    const rel = `${dir}/${name}`;
    if (rel === '/var/lib/flexnode' || rel === '/usr/lib/systemd') continue;
    const st = lstatSync(join(root, rel));
    out[rel] = `${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() || st.isSymbolicLink() ? '' : readFileSync(join(root, rel)).toString('base64').slice(0, 40)}`;
    if (st.isDirectory()) Object.assign(out, tree(root, rel));
  }
  return out;
}

/** A mirror serving the kubelet stand-in (its version baked in) and small files as kubectl and kubeadm, with their pins. */
export async function kubeletMirror(tmp: string, version: string): Promise<{ mirror: MirrorServer; pins: Record<string, string> }> {
  const manifest = new ArtifactManifest(debianArch());
  const bins = join(tmp, 'bins');
  installStandin('kubelet', join(bins, 'kubelet'), { kubeletVersion: version });
  for (const b of ['kubectl', 'kubeadm']) {
    mkdirSync(bins, { recursive: true });
    writeFileSync(join(bins, b), `#!/bin/sh\necho "${b} stand-in"\n`, { mode: 0o755 });
  }
  const pins: Record<string, string> = {};
  for (const b of KUBE_BINARIES) pins[b] = (await manifest.addFile(`kubernetes/v${version}/${b}-linux-${manifest.arch}`, join(bins, b))).sha256;
  return { mirror: await startMirror(manifest), pins };
}

/**
 * The operator as `az login` would make them: ARM calls with any token (the fake ARM accepts it), and for the
 * cluster an Entra user token of the cluster's tenant, which the fake API server authenticates as guard does. The
 * operator holds "Azure Kubernetes Service RBAC Admin" on the cluster (what plugin-kube's README asks for).
 */
export async function operator(arm: FakeArm, clusterId: string): Promise<{ azure: AzureContext; entra: FakeEntra; user: { upn: string; objectId: string }; revoke(): void; grant(): void }> {
  const entra = await FakeEntra.start();
  const user = { upn: 'alice@contoso.example', objectId: randomUUID() };
  let assignment = arm.grant(user.objectId, 'Azure Kubernetes Service RBAC Admin', clusterId, 'User');
  const azure: AzureContext = {
    credential: {
      getToken: async (scopes: string | string[]) => {
        const scope = [scopes].flat()[0]!;
        const token = scope.startsWith(AKS_APP) ? entra.userToken(user, scope, arm.tenantId).token : 'operator-token';
        return { token, expiresOnTimestamp: Date.now() + 3600_000 };
      },
    },
    subscriptionId: /^\/subscriptions\/([^/]+)/.exec(clusterId)![1]!,
    tenantId: arm.tenantId,
    resourceManagerEndpoint: arm.endpoint,
    armScope: 'https://management.azure.com/.default',
    clientOptions: { endpoint: arm.endpoint, additionalPolicies: [{ policy: trustPolicy(arm.cert), position: 'perCall' }], retryOptions: { maxRetries: 0 } },
  };
  return {
    azure, entra, user,
    revoke: () => arm.removeRoleAssignment(assignment.scope, assignment.name),
    grant: () => { assignment = arm.grant(user.objectId, 'Azure Kubernetes Service RBAC Admin', clusterId, 'User'); },
  };
}

/** flexnode's node roles (plugin-arc's derivation, as arc.node-role defines them) granted to `principal`. */
export function grantNodeRoles(arm: FakeArm, cluster: { id: string; name: string; resourceGroup: string; subscriptionId: string }, version: string, principal: string, components: NodeComponent[] = ['kubelet']) {
  return nodeRoleDefinitions(cluster, components, version).map((d) => {
    arm.addRoleDefinition({ id: d.guid, roleName: d.roleName, description: d.description, assignableScopes: [d.assignableScope], permissions: [{ dataActions: d.dataActions }] });
    return { definition: d, assignment: arm.grant(principal, d.guid, d.assignScope) };
  });
}

/** Start the stand-in exactly as the drop-in says, with the machine's paths under the root. */
export function startStandin(root: string, dropIn: string, env: Record<string, string> = {}): { child: ChildProcess; log: () => string } {
  const argv = execStartOf(dropIn).map((a) => a.replace(/=(\/(?:var|etc)\/)/, `=${root}$1`));
  let stderr = '';
  const child = spawn(join(root, argv[0]!), argv.slice(1), {
    env: { ...process.env, KUBELET_STANDIN_SKIP_CRI_CHECK: '1', KUBELET_STANDIN_HEARTBEAT_MS: '200', KUBELET_STANDIN_ROOT: root, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, log: () => stderr };
}

/** Unbootstrap as core does it, after stopping the kubelet as systemd would: the steps' uninstall in reverse order. */
export async function stopAndUninstall(kubelet: ChildProcess, steps: [StepDefinition, StepInstance][], handle: RealHostHandle): Promise<void> {
  const exited = new Promise((r) => kubelet.once('exit', r));
  kubelet.kill('SIGTERM');
  await exited;
  for (const [, step] of [...steps].reverse()) await step.uninstall();
  await handle.dispose();
}
