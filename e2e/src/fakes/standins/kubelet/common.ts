// Shared bits of the kubelet STAND-IN: klog-style logging, fatal errors, its version, the machine's facts.
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Replaced by install.ts with the Kubernetes version the stand-in stands in for. */
const BAKED_VERSION = '__KUBELET_STANDIN_VERSION__';
/** Replaced by install.ts with "true" for a broken build: it runs, registers and reports, and is never Ready. */
const BAKED_NEVER_READY: string = '__KUBELET_STANDIN_NEVER_READY__';

/** A broken build (baked in, or KUBELET_STANDIN_NEVER_READY=1): the node never gets Ready (an upgrade's rollback test). */
export const neverReady = () => BAKED_NEVER_READY === 'true' || process.env.KUBELET_STANDIN_NEVER_READY === '1';
export const TAG = 'kubelet stand-in';
/** The name in every log line: the kubelet's, unless another stand-in built from these modules says its own. */
let logTag = TAG;
export function setLogTag(tag: string): void {
  logTag = tag;
}

export type Dict = Record<string, unknown>;

/** An error that ends the kubelet with its message (flags, config, credentials: what the real one exits on). */
export class Fatal extends Error {}

export function log(level: 'I' | 'W' | 'E', msg: string): void {
  const d = new Date();
  const ts = `${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')} ${d.toISOString().slice(11, 23)}`;
  process.stderr.write(`${level}${ts} ${String(process.pid).padStart(7)} ${logTag}] ${msg}\n`);
}

/** klog.Fatal: log and exit 1 at once, whatever is in flight. */
export function die(msg: string): never {
  log('E', msg);
  process.exit(1);
}

export function kubeletVersion(): string {
  if (!BAKED_VERSION.startsWith('__')) return BAKED_VERSION;
  if (process.env.KUBELET_STANDIN_VERSION) return normVersion(process.env.KUBELET_STANDIN_VERSION);
  try {
    return normVersion(readFileSync(`${realpathSync(process.argv[1]!)}.version`, 'utf8').trim());
  } catch {
    return 'v0.0.0-standin';
  }
}

function normVersion(v: string): string {
  return v.startsWith('v') ? v : `v${v}`;
}

export function arch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
}

export function readOr(path: string, dflt: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return dflt;
  }
}

/** Go durations (10s, 1m30s, 500ms) in milliseconds. */
export function duration(s: unknown, dflt: number): number {
  if (typeof s !== 'string') return dflt;
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) ms += Number(m[1]) * ({ ms: 1, s: 1000, m: 60000, h: 3600000 } as Record<string, number>)[m[2]!]!;
  return ms || dflt;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Run a stand-in's `main` when its module is the script node was started with (`moduleUrl`: its import.meta.url),
 * and end as the real binary does: exit 0, or the fatal error's message and exit 1.
 */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<void>): void {
  let isMain = false;
  try {
    isMain = moduleUrl === pathToFileURL(realpathSync(process.argv[1]!)).href;
  } catch {
    /* not a script */
  }
  if (!isMain) return;
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: unknown) => {
      if (!(e instanceof Fatal)) process.stderr.write(`${(e as Error).stack}\n`);
      die(`"command failed" err="${(e as Error).message}"`);
    },
  );
}
