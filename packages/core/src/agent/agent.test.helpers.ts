// A flexnode plugin on disk for the agent's tests: plain objects (no SDK import, so it loads from a temp dir),
// steps that write files through the Host under the test's --root. Installs are counted in globalThis (tests
// in this process) and in <root>/installs.log (child processes).
import { testConfig } from '@flexnode/sdk/testing';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginSource } from '../plugins/index.js';

export const PLUGIN = '@test/agent-plugin';
export const SECRET = 's3cr3t-value-never-logged';

const CODE = `
import { appendFileSync } from 'node:fs';
const HOST = Symbol.for('flexnode.host');
const CONFIG = Symbol.for('flexnode.config');
const t = (globalThis.__agentTest ??= { installs: [], failing: new Set() });
const ok = () => ({ status: 'ok' });
const missing = (reason) => ({ status: 'missing', reason });
const drifted = (reason) => ({ status: 'drifted', reason });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fileStep = (id, path, content, after = [], slow = false) => ({
  id, title: 'write ' + path, after, inject: [HOST, CONFIG],
  create: (host, config) => {
    const want = () => (typeof content === 'function' ? content(config) : content);
    return {
      check: async () => {
        const c = await host.files.readText(path);
        return c === undefined ? missing(path + ' is absent') : c === want() ? ok() : drifted(path + ' differs');
      },
      install: async () => {
        t.installs.push(id);
        if (process.env.AGENT_TEST_LOG) appendFileSync(process.env.AGENT_TEST_LOG, id + '\\n');
        if (t.failing.has(id)) throw new Error(id + ' is broken (token s3cr3t-value-never-logged)');
        if (slow) {
          await host.files.write(path + '.begin', 'begun\\n', { mode: 0o644 });
          await sleep(Number(process.env.AGENT_TEST_SLOW_MS ?? 0));
        }
        await host.files.write(path, want(), { mode: 0o644 });
      },
      uninstall: () => host.changes.revert(),
    };
  },
});
export default {
  name: '${PLUGIN}',
  apiVersion: 1,
  steps: [
    fileStep('t.base', '/etc/t/base', 'base\\n'),
    fileStep('t.dep', '/etc/t/dep', 'dep\\n', ['t.base']),
    fileStep('t.other', '/etc/t/other', (c) => 'other ' + (c.pluginConfig?.['${PLUGIN}']?.flavour ?? 'plain') + '\\n'),
    fileStep('t.flaky', '/etc/t/flaky', 'flaky\\n'),
    fileStep('t.slow', '/etc/t/slow', 'slow\\n', [], true),
    fileStep('t.after', '/etc/t/after', 'after\\n', ['t.slow']),
  ],
};
`;

export interface Fixture {
  dir: string;
  root: string;
  configPath: string;
  sources: PluginSource[];
  writeConfig(extra?: Record<string, unknown>): Promise<void>;
  read(path: string): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

/** A temp dir with the plugin, a config (logs under the root) and an empty --root. */
export async function fixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'flexnode-agent-'));
  const pluginRoot = join(dir, 'plugin');
  const root = join(dir, 'root');
  await mkdir(pluginRoot, { recursive: true });
  // The machine's /etc/t exists already (core's Host: two steps creating the same missing parent at once race).
  await mkdir(join(root, 'etc/t'), { recursive: true });
  await writeFile(join(pluginRoot, 'package.json'), JSON.stringify({ name: PLUGIN, version: '0.0.1', type: 'module', flexnode: { plugin: './plugin.js' } }));
  await writeFile(join(pluginRoot, 'plugin.js'), CODE);
  const configPath = join(dir, 'config.json');
  const f: Fixture = {
    dir,
    root,
    configPath,
    sources: [{ name: PLUGIN, version: '0.0.1', root: pluginRoot, kind: 'linked' }],
    async writeConfig(extra = {}) {
      const config = { ...testConfig({ agent: { logLevel: 'debug', logDir: '/var/log/flexnode-test' } }), ...extra };
      // A secret the redactor learns from the config: it must appear in no log line and no status file.
      config.azure.servicePrincipal = { clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', clientSecret: SECRET };
      await writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
    },
    read: (path) => readFile(join(root, path), 'utf8').catch(() => undefined),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  await f.writeConfig();
  return f;
}

/** The in-process plugin's shared state. */
export function pluginState(): { installs: string[]; failing: Set<string> } {
  const g = globalThis as { __agentTest?: { installs: string[]; failing: Set<string> } };
  g.__agentTest ??= { installs: [], failing: new Set() };
  return g.__agentTest;
}

/** Poll until `predicate` holds (or throw after `ms`). */
export async function until(predicate: () => boolean | Promise<boolean>, ms = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
