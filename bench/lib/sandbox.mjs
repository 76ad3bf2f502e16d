// A sandbox node for benches: a temp --root with the kernel modules marked loaded, the e2e mirror of
// Debian-built artifacts in the upstream layout on loopback, and a config pinned to them.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(repo, 'packages/cli/bin/run.js');

/**
 * Start the mirror (building the artifacts once, cached in .cache/artifacts) in a child process; returns its
 * manifest (`get(name)`, `urlOf(path)`) and `close()`.
 */
export async function startBenchMirror() {
  const child = spawn(process.execPath, [join(repo, 'bench/lib/mirror-child.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const { url, artifacts } = JSON.parse(line);
  const manifest = { get: (name) => artifacts.find((a) => a.name === name) ?? raise(`no artifact ${name}`) };
  const mirror = {
    url,
    urlOf: (path) => `${url}/${path}`,
    close: async () => {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
  return { manifest, mirror };
}

const raise = (message) => {
  throw new Error(message);
};

/** A fresh sandbox root and its config file; `dispose()` removes both. */
export function sandbox(manifest, mirrorUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'flexnode-bench-'));
  const root = join(dir, 'root');
  // Modules belong to the running kernel; a sandbox root marks them loaded instead.
  for (const m of ['overlay', 'br_netfilter']) mkdirSync(join(root, 'sys/module', m), { recursive: true });
  const pin = (name) => ({ version: manifest.get(name).version, sha256: manifest.get(name).sha256 });
  const config = {
    azure: {
      subscriptionId: '11111111-2222-3333-4444-555555555555',
      tenantId: '66666666-7777-8888-9999-000000000000',
      targetCluster: {
        resourceId: '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks',
      },
    },
    agent: { logDir: '/var/log/flexnode-bench' },
    artifacts: { mirror: mirrorUrl },
    containerd: pin('containerd'),
    runc: pin('runc'),
    cni: { ...pin('cni-plugins'), podCIDR: '10.88.0.0/24' },
    // No Azure in these runs; the sandbox's disk and memory are the host's. The clock check reads the Date of
    // the Azure endpoint's answer, so it goes with it: no run looks management.azure.com up.
    pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['azure-endpoint', 'clock'] } },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
  return { dir, root, configPath, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The steps a sandbox can run end to end without Azure. */
export const SANDBOX_STEPS = 'container-runtime,cni';
