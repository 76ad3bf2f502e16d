// A flexnode plugin on disk for the agent's tests: plain objects (no SDK import, so it loads from a temp dir),
// steps that write files through the Host under the test's --root. Installs run in the agent's worker process,
// so the plugin talks to the tests through files under the root: every install is appended to
// <root>/test-installs.log; a marker <root>/test-failing/<id> makes that install throw, <root>/test-crash/<id>
// makes the worker process die in the middle of it (after a line on stderr), <root>/test-big/<id> makes it
// allocate 256 MB; the slow step sleeps <root>/test-slow-ms (default $AGENT_TEST_SLOW_MS) ms.
import { testConfig } from '@flexnode/sdk/testing';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginSource } from '../plugins/index.js';

export const PLUGIN = '@test/agent-plugin';
export const SECRET = 's3cr3t-value-never-logged';

const CODE = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
const HOST = Symbol.for('flexnode.host');
const CONFIG = Symbol.for('flexnode.config');
const ok = () => ({ status: 'ok' });
const missing = (reason) => ({ status: 'missing', reason });
const drifted = (reason) => ({ status: 'drifted', reason });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fileStep = (id, path, content, after = [], slow = false) => ({
  id, title: 'write ' + path, after, inject: { host: HOST, config: CONFIG },
  create: ({ host, config }) => {
    const want = () => (typeof content === 'function' ? content(config) : content);
    return {
      check: async () => {
        const c = await host.files.readText(path);
        return c === undefined ? missing(path + ' is absent') : c === want() ? ok() : drifted(path + ' differs');
      },
      install: async () => {
        appendFileSync(host.root + '/test-installs.log', id + ' ' + process.pid + '\\n');
        if (existsSync(host.root + '/test-big/' + id)) globalThis.__big = Buffer.alloc(256 * 1024 * 1024, 1); // resident: every page written
        if (existsSync(host.root + '/test-crash/' + id)) {
          process.stderr.write('test plugin: ' + id + ' brings its process down\\n');
          process.exit(70);
        }
        if (existsSync(host.root + '/test-failing/' + id)) throw new Error(id + ' is broken (token s3cr3t-value-never-logged)');
        if (slow) {
          await host.files.write(path + '.begin', 'begun\\n', { mode: 0o644 });
          const slowFile = host.root + '/test-slow-ms';
          await sleep(Number(existsSync(slowFile) ? readFileSync(slowFile, 'utf8') : (process.env.AGENT_TEST_SLOW_MS ?? 0)));
        }
        await host.files.write(path, want(), { mode: 0o644 });
      },
      uninstall: () => host.changes.revert(),
    };
  },
});
// Node maintenance as plugin-kube offers it, faked: the config's pluginConfig version is the pin (t.kube installs
// it), the installed one is what the last upgrade's waitReady saw (<root>/test-version, default plain).
const maintenance = {
  capability: 'node-maintenance',
  inject: [HOST, CONFIG],
  create: (host, config) => {
    const versionFile = host.root + '/test-version';
    const installed = () => (existsSync(versionFile) ? readFileSync(versionFile, 'utf8') : 'plain');
    const note = (what) => appendFileSync(host.root + '/test-installs.log', what + ' ' + process.pid + '\\n');
    return {
      upgradePlan: async () => {
        const pin = config.pluginConfig?.['${PLUGIN}']?.version ?? 'plain';
        return { from: installed(), to: pin, source: 'pinned', apiServer: pin, outsideSkew: false, config: {} };
      },
      begin: async () => note('maintenance.begin'),
      waitReady: async (v) => {
        note('maintenance.ready-' + v);
        writeFileSync(versionFile, v);
      },
      end: async () => note('maintenance.end'),
    };
  },
};
export default {
  name: '${PLUGIN}',
  apiVersion: 1,
  services: [maintenance],
  steps: [
    fileStep('t.base', '/etc/t/base', 'base\\n'),
    fileStep('t.dep', '/etc/t/dep', 'dep\\n', ['t.base']),
    fileStep('t.other', '/etc/t/other', (c) => 'other ' + (c.pluginConfig?.['${PLUGIN}']?.flavour ?? 'plain') + '\\n'),
    fileStep('t.flaky', '/etc/t/flaky', 'flaky\\n'),
    fileStep('t.slow', '/etc/t/slow', 'slow\\n', [], true),
    fileStep('t.after', '/etc/t/after', 'after\\n', ['t.slow']),
    fileStep('t.kube', '/etc/t/kube', (c) => 'kube ' + (c.pluginConfig?.['${PLUGIN}']?.version ?? 'plain') + '\\n'),
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
  /** The installs so far (in the order they ran, in any process). */
  installs(): Promise<string[]>;
  /** The pid of the process that ran each install. */
  installPids(): Promise<number[]>;
  /** Make the install of `id` throw (the marker file), or stop doing so. */
  failing(id: string, on?: boolean): Promise<void>;
  /** Make the worker process die in the middle of the install of `id`. */
  crashing(id: string, on?: boolean): Promise<void>;
  /** Make the install of `id` allocate (and write) 256 MB while it runs. */
  big(id: string, on?: boolean): Promise<void>;
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
    installs: async () => (await installLines(root)).map((l) => l.split(' ')[0]!),
    installPids: async () => (await installLines(root)).map((l) => Number(l.split(' ')[1])),
    failing: (id, on = true) => marker(join(root, 'test-failing', id), on),
    crashing: (id, on = true) => marker(join(root, 'test-crash', id), on),
    big: (id, on = true) => marker(join(root, 'test-big', id), on),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  await f.writeConfig();
  return f;
}

const installLines = async (root: string) => (await readFile(join(root, 'test-installs.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

async function marker(path: string, on: boolean): Promise<void> {
  if (!on) return rm(path, { force: true });
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, '');
}

/** Poll until `predicate` holds (or throw after `ms`). */
export async function until(predicate: () => boolean | Promise<boolean>, ms = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
