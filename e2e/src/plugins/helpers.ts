import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (e2e/dist/plugins → ../../..). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The built CLI, run as a user runs it. */
export const CLI = join(REPO, 'packages/cli/bin/run.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program without a shell, never throwing on a non-zero exit. */
export function run(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { cwd: options.cwd ?? REPO, env: options.env ?? process.env, timeout: options.timeoutMs ?? 90_000, maxBuffer: 32 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The environment of a flexnode run: no colours, no inherited FLEXNODE_* settings, then `extra`. */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('FLEXNODE_') || key.toLowerCase().startsWith('npm_config_')) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** `flexnode ARGS` with the built CLI. */
export const flexnode = (args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs?: number) => run(process.execPath, [CLI, ...args], { env, timeoutMs });

/** Parse a command's `--json` output, with the output in the error when it is not JSON. */
export function json<T = any>(result: Run, what: string): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`${what}: not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * A config that validates, whose Azure endpoints refuse at once (127.0.0.1:9): plans never wait on a network.
 * plugin-kube's preflight (which every other step comes after) is skipped: this machine is a test sandbox.
 */
export async function writeValidConfig(path: string): Promise<string> {
  const config = {
    azure: {
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      tenantId: '00000000-0000-0000-0000-000000000002',
      cloud: 'AzurePublicCloud',
      servicePrincipal: { clientId: '00000000-0000-0000-0000-000000000003', clientSecret: 'not-a-real-secret' },
      endpoints: { resourceManager: 'https://127.0.0.1:9/', authorityHost: 'https://127.0.0.1:9/' },
      arc: { machineName: 'edge-node-1', resourceGroup: 'edge-rg', location: 'westus', autoRoleAssignment: false },
      targetCluster: {
        resourceId:
          '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/edge-rg/providers/Microsoft.ContainerService/managedClusters/edge-cluster',
        location: 'westus',
      },
    },
    kubernetes: { version: '1.30.4' },
    cni: { podCIDR: '10.244.1.0/24' },
    agent: { logLevel: 'info', logDir: '/var/log/aks-flex-node' },
    pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['all'] } },
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/**
 * A plugin package as a third party might get it wrong: package.json with the `flexnode` and `oclif` fields
 * (so `plugins install` and `plugins link` accept it) and a plugin module whose code is `code`.
 */
export async function writePluginPackage(dir: string, name: string, code: string, version = '1.0.0'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const pkg = { name, version, type: 'module', license: 'MIT', flexnode: { plugin: './plugin.js' }, oclif: {}, files: ['plugin.js'] };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  await writeFile(join(dir, 'plugin.js'), code);
  return dir;
}
