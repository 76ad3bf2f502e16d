import type { Host } from './host.js';
import { RootPaths } from './root-path.js';

/**
 * Small helpers every plugin needs and none should write again: custom journal records, semantic comparison of
 * parsed config documents, the path of an unpacked archive and copying its files into place.
 */

/**
 * A custom record of what a step installed from a verified archive: the artifact (name and sha256) and the
 * sha256 of each file copied out of it, so `check` can verify the installed files without downloading again.
 */
export interface InstalledFiles {
  artifact: string;
  sha256: string;
  /** Installed path → sha256 of its content as copied from the verified archive. */
  files: Record<string, string>;
}

/** The newest custom record of `type` this step journaled (see `host.changes.record`), if any. */
export function findRecord<T>(host: Host, type: string): T | undefined {
  const changes = host.changes.list();
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i]!;
    if (change.kind === 'custom' && change.type === type) return change.data as T;
  }
  return undefined;
}

/**
 * Make `data` the step's one record of `type`, touching the journal only when it differs (an install on an
 * installed machine must change nothing, the journal included). Typical use: the hashes of files a step
 * installed from a verified archive, so `check` can verify them without downloading again.
 */
export async function replaceRecord(host: Host, type: string, data: object): Promise<void> {
  const current = findRecord<object>(host, type);
  if (current !== undefined && canonicalJson(current) === canonicalJson(data)) return;
  await host.changes.forget(type);
  await host.changes.record(type, data as Record<string, unknown>);
}

/** JSON with sorted keys: two semantically equal values give the same string. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * The first place where two parsed documents (JSON, TOML, YAML) differ, as a readable key path
 * (`plugins."io.containerd.grpc.v1.cri".sandbox_image is "x", expected "y"`), or undefined when they are
 * semantically equal: key order and formatting do not count. Use it in `check` to report drift precisely.
 */
export function firstDifference(expected: unknown, actual: unknown, path = ''): string | undefined {
  if (isObject(expected) && isObject(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    for (const key of keys) {
      const sub = path === '' ? quoteKey(key) : `${path}.${quoteKey(key)}`;
      if (!(key in actual)) return `${sub} is missing`;
      if (!(key in expected)) return `${sub} is unexpected`;
      const diff = firstDifference(expected[key], actual[key], sub);
      if (diff) return diff;
    }
    return undefined;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return `${path || 'document'} has ${actual.length} entries, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const diff = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (diff) return diff;
    }
    return undefined;
  }
  if (normalize(expected) === normalize(actual)) return undefined;
  return `${path || 'document'} is ${JSON.stringify(normalize(actual))}, expected ${JSON.stringify(normalize(expected))}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

// TOML parsers may hand back integers as bigint; compare them as numbers.
const normalize = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);

const quoteKey = (key: string) => (/^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key));

/**
 * `downloads.unpack` returns its staging directory as a path on the machine running flexnode (under the root
 * prefix), which `files.copyFrom` takes as is; `files.list` and `files.stat` take machine paths and add the
 * prefix. This gives the machine path that reads a staged path (the same path when the root is `/`).
 */
export function stagedPath(host: Host, staged: string): string {
  return new RootPaths(host.root).toTarget(staged);
}

/** Copies of the files of one unpacked release that run at once: each is fsynced, so the disk flushes overlap. */
const PARALLEL_COPIES = 4;

/**
 * Copy `<from>/<name>` to `<to>/<name>` (mode 0755) for each name, a few at a time, and return the installed
 * paths with their sha256 in the order of `names` (the {@link InstalledFiles} `files` map). The real Host
 * carries the hashes computed while the release was unpacked over to the copies, so nothing is read again for
 * them. After a failed copy no new one starts; those under way finish before the first error is thrown
 * (nothing keeps writing after the step has failed).
 */
export async function installFiles(host: Host, from: string, to: string, names: readonly string[]): Promise<Record<string, string>> {
  const hashes: string[] = new Array<string>(names.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < names.length) {
      const i = next++;
      const target = `${to}/${names[i]}`;
      try {
        await host.files.copyFrom(`${from}/${names[i]}`, target, { mode: 0o755 });
        hashes[i] = (await host.files.sha256(target))!;
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_COPIES, names.length) }, worker));
  if (failure) throw failure.error;
  return Object.fromEntries(names.map((name, i) => [`${to}/${name}`, hashes[i]!]));
}

/**
 * Enable `unit` and make it run with `inputs` (e.g. the hashes of its unit file, config and binary), recorded
 * as the step's `recordType` record: start it when stopped, restart it when it runs with other inputs (a new
 * config, or a package's postinst started it with its own). Without a running service manager (a sandbox root)
 * the unit is only enabled. Returns what was done. Pair it with {@link serviceInputsChanged} in `check`, and
 * forget the record in `uninstall`.
 */
export async function runServiceWith(
  host: Host,
  unit: string,
  inputs: object,
  recordType: string,
): Promise<'started' | 'restarted' | 'running' | 'enabled only'> {
  const managed = await host.systemd.available();
  if (managed) await host.systemd.daemonReload();
  await host.systemd.enable(unit);
  if (!managed) {
    // A sandbox root has no service manager: a bootstrap enables the unit in the tree, where it starts at boot.
    if (host.dryRun) host.log.info(`no service manager under this root: ${unit} would be enabled, to start when the tree boots`);
    else host.log.warn(`no service manager is running: ${unit} is enabled and will start at the next boot`);
    return 'enabled only';
  }
  let done: 'started' | 'restarted' | 'running' = 'running';
  if (!(await host.systemd.isActive(unit))) {
    await host.systemd.start(unit);
    done = 'started';
  } else if (serviceInputsChanged(host, inputs, recordType)) {
    await host.systemd.restart(unit);
    done = 'restarted';
  }
  await replaceRecord(host, recordType, inputs);
  return done;
}

/** True when the service was started with other inputs than `inputs` (or flexnode never started it). */
export function serviceInputsChanged(host: Host, inputs: object, recordType: string): boolean {
  const started = findRecord<object>(host, recordType);
  return !started || canonicalJson(started) !== canonicalJson(inputs);
}
