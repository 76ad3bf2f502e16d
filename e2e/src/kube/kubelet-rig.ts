// What the kubelet end-to-end tests share: the mirror serving the kubelet and kube-proxy STAND-INs, the operator (a
// user signed in with Entra, as `az login` gives, holding an Azure RBAC role on the cluster), the node's Arc identity
// over the FAKE HIMDS with its exec credential plugin, flexnode's node roles in the fake ARM, starting the stand-ins
// with their units' ExecStart under a temp root, and a tree snapshot of that root.
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AzureContext, NodeIdentity, StepDefinition, StepInstance } from '@flexnode/sdk';
import { execStartOf } from '@flexnode/sdk/testing';
import { nodeRoleDefinitions, type NodeComponent } from '@flexnode/plugin-arc';
import { KUBE_BINARIES, KUBE_PROXY } from '@flexnode/plugin-kube';
import type { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import type { FakeHimds } from '../fakes/fake-himds.js';
import type { FakeKubeApi } from '../fakes/fake-kube-api.js';
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
    out[rel] =
      `${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() || st.isSymbolicLink() ? '' : readFileSync(join(root, rel)).toString('base64').slice(0, 40)}`;
    if (st.isDirectory()) Object.assign(out, tree(root, rel));
  }
  return out;
}

/**
 * A mirror serving the kubelet and kube-proxy stand-ins (their version baked in) and small files as kubectl and
 * kubeadm, with their pins; kube-proxy with the `.sha256` beside it, as dl.k8s.io publishes it (no pin in the config).
 */
export async function kubeletMirror(tmp: string, version: string): Promise<{ mirror: MirrorServer; pins: Record<string, string> }> {
  const manifest = new ArtifactManifest(debianArch());
  const bins = join(tmp, 'bins');
  installStandin('kubelet', join(bins, 'kubelet'), { kubeletVersion: version });
  installStandin('kube-proxy', join(bins, KUBE_PROXY), { kubeletVersion: version });
  const proxyPath = `kubernetes/v${version}/${KUBE_PROXY}-linux-${manifest.arch}`;
  await manifest.addFile(proxyPath, join(bins, KUBE_PROXY));
  await manifest.addChecksum(proxyPath, join(tmp, 'sums'));
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
export async function operator(
  arm: FakeArm,
  clusterId: string,
): Promise<{ azure: AzureContext; entra: FakeEntra; user: { upn: string; objectId: string }; revoke(): void; grant(): void }> {
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
    azure,
    entra,
    user,
    revoke: () => arm.removeRoleAssignment(assignment.scope, assignment.name),
    grant: () => {
      assignment = arm.grant(user.objectId, 'Azure Kubernetes Service RBAC Admin', clusterId, 'User');
    },
  };
}

/** flexnode's node roles (plugin-arc's derivation, as arc.node-role defines them) granted to `principal`. */
export function grantNodeRoles(
  arm: FakeArm,
  cluster: { id: string; name: string; resourceGroup: string; subscriptionId: string },
  version: string,
  principal: string,
  components: NodeComponent[] = ['kubelet'],
) {
  return nodeRoleDefinitions(cluster, components, version).map((d) => {
    arm.addRoleDefinition({
      id: d.guid,
      roleName: d.roleName,
      description: d.description,
      assignableScopes: [d.assignableScope],
      permissions: [{ dataActions: d.dataActions }],
    });
    return { definition: d, assignment: arm.grant(principal, d.guid, d.assignScope) };
  });
}

// The exec credential plugin of the test's node identity (plugin-arc's `flexnode token` stands here): the Arc
// challenge against the fake HIMDS, the key read from the host-side key directory.
const EXEC_PLUGIN = `
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
const url = process.env.IDENTITY_ENDPOINT + '?api-version=2020-06-01&resource=${AKS_APP}';
const first = await fetch(url, { headers: { Metadata: 'true' } });
const realm = first.headers.get('www-authenticate').split('Basic realm=')[1];
const key = readFileSync(join(process.env.KEY_DIR, basename(realm)), 'utf8');
const tok = await (await fetch(url, { headers: { Metadata: 'true', Authorization: 'Basic ' + key } })).json();
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
console.log(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential',
  status: { token: tok.access_token, expirationTimestamp: new Date(Number(tok.expires_on) * 1000).toISOString() } }));
`;

/** A NodeIdentity like plugin-arc's over the fake HIMDS (its keys in `keyDir`), its exec plugin written to `tmp`. */
export function himdsIdentity(himds: FakeHimds, keyDir: string, tmp: string): NodeIdentity {
  const pluginPath = join(tmp, 'exec-plugin.mjs');
  writeFileSync(pluginPath, EXEC_PLUGIN);
  return {
    async getToken(scope) {
      const url = `${himds.env().IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=${encodeURIComponent(scope.replace(/\/\.default$/, ''))}`;
      const first = await fetch(url, { headers: { Metadata: 'true' } });
      const realm = first.headers.get('www-authenticate')!.split('Basic realm=')[1]!;
      const key = readFileSync(join(keyDir, basename(realm)), 'utf8');
      const tok = (await (await fetch(url, { headers: { Metadata: 'true', Authorization: `Basic ${key}` } })).json()) as {
        access_token: string;
        expires_on: string;
      };
      return { token: tok.access_token, expiresOnTimestamp: Number(tok.expires_on) * 1000 };
    },
    principalId: async () => himds.principalId,
    execCredential: () => ({ command: process.execPath, args: [pluginPath], env: { IDENTITY_ENDPOINT: himds.env().IDENTITY_ENDPOINT, KEY_DIR: keyDir } }),
  };
}

/**
 * Run the kube-proxy stand-in as kube-proxy.service says (its config and kubeconfig under the root) until it makes
 * `calls` (`<verb> <resource>`, answered below 300) as `user`, then stop it. Returns what the API server refused
 * kube-proxy (a 401/403 also ends the stand-in).
 */
export async function runKubeProxy(root: string, unit: string, kube: FakeKubeApi, user: string, calls: string[]): Promise<unknown[]> {
  const argv = execStartOf(unit);
  let stderr = '';
  const child = spawn(join(root, argv[0]!), argv.slice(1), { env: { ...process.env, KUBE_PROXY_STANDIN_ROOT: root }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d) => (stderr += d));
  const made = () =>
    new Set(kube.audit.filter((e) => e.user === user && e.userAgent.startsWith('kube-proxy/') && e.code < 300).map((e) => `${e.verb} ${e.resource}`));
  try {
    await until(() => calls.every((c) => made().has(c)) || child.exitCode !== null, 20_000, `kube-proxy's calls (log:\n${stderr})`);
  } finally {
    await stop(child);
  }
  const denied = kube.denials().filter((e) => e.userAgent.startsWith('kube-proxy/'));
  if (denied.length === 0 && !calls.every((c) => made().has(c))) throw new Error(`kube-proxy stopped before its calls (log:\n${stderr})`);
  return denied;
}

/** Stop a stand-in as systemd would, and wait for it. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
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
  await stop(kubelet);
  for (const [, step] of [...steps].reverse()) await step.uninstall();
  await handle.dispose();
}
