// The real Host (packages/core) over a temp root, and the artifact mirror, for the runtime plugins' integration
// tests (one rig for plugin-containerd and plugin-cni). Loaded from their built files at run time; without the
// builds the tests say SKIP with the reason.
import { createHash } from 'node:crypto';
import { access, lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instantiate, Tokens, type AnyStepDefinition, type FlexnodeConfig, type Host, type Logger, type StepInstance } from '@flexnode/sdk';
import { typicalServices } from '@flexnode/sdk/testing';

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
// core's real Host and journal, through its package exports (resolved to files: the tests say SKIP when unbuilt).
const CORE_HOST = fileURLToPath(import.meta.resolve('@flexnode/core/host'));
const CORE_STATE = fileURLToPath(import.meta.resolve('@flexnode/core/state'));
const MIRROR_BUILD = here('../mirror/build-artifacts.js');
const MIRROR_SERVER = here('../mirror/mirror-server.js');

/** What the tests use of the e2e mirror (see e2e/src/mirror). */
export interface MirrorArtifact {
  name: string;
  version: string;
  mirrorPath: string;
  sha256: string;
}
export interface Mirror {
  readonly url: string;
  setFault(mirrorPath: string, fault: 'corrupt' | undefined): void;
  requests(): { path: string; count: number }[];
  close(): Promise<void>;
}
export interface Stack {
  manifest: { get(name: string): MirrorArtifact };
  mirror: Mirror;
  /** A real Host over a fresh temp root, journal at <root>/var/lib/flexnode. */
  realRoot(root?: string): Promise<RealRoot>;
}
export interface RealRoot {
  root: string;
  host(stepId: string): Host;
  /** Remove staging directories and close connections (end of a run). */
  dispose(): Promise<void>;
  log: Logger & { lines: { level: string; message: string }[] };
}

/** Why the stack cannot run here, or undefined when it can. */
export async function stackUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (the real Host sets owners; systemctl --root)';
  for (const [file, what] of [
    [CORE_HOST, 'packages/core is not built (packages/core/dist/host)'],
    [MIRROR_BUILD, 'e2e is not built (e2e/dist/mirror)'],
    ['/usr/bin/containerd', 'Debian containerd is not installed (the mirror builds its tarball from it)'],
    ['/usr/sbin/runc', 'Debian runc is not installed'],
    ['/usr/lib/cni/bridge', 'Debian containernetworking-plugins is not installed'],
  ] as const) {
    if (
      !(await access(file).then(
        () => true,
        () => false,
      ))
    )
      return what;
  }
  return undefined;
}

/** Build (cached) the mirror's artifacts from Debian's binaries and serve them on loopback. */
export async function startStack(): Promise<Stack> {
  const { createRealHost } = await import(CORE_HOST);
  const { Journal } = await import(CORE_STATE);
  const { buildArtifacts } = await import(MIRROR_BUILD);
  const { startMirror } = await import(MIRROR_SERVER);
  const manifest = await buildArtifacts();
  const mirror: Mirror = await startMirror(manifest);
  return {
    manifest,
    mirror,
    async realRoot(existing?: string): Promise<RealRoot> {
      const root = existing ?? (await mkdtemp(join(tmpdir(), 'flexnode-root-')));
      const lines: { level: string; message: string }[] = [];
      const at = (level: string) => (message: string) => void lines.push({ level, message });
      const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
      const journal = await Journal.open(join(root, STATE_DIR));
      const real = createRealHost({
        root,
        dryRun: false,
        stateDir: STATE_DIR,
        journal,
        log,
        redact: (s: string) => s,
        mirror: mirror.url,
        download: { idleTimeoutMs: 5_000, retries: 1, backoffMs: 10 },
      });
      return { root, log, host: (id: string) => real.forStep(id, 'test'), dispose: () => real.dispose() };
    },
  };
}

export const STATE_DIR = '/var/lib/flexnode';

/** Every entry under `root` except flexnode's own state dir: path → type, mode and content hash / link target. */
export async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(join(root, dir)).catch(() => [])).sort()) {
      const rel = `${dir}/${name}`;
      if (rel === STATE_DIR || STATE_DIR.startsWith(`${rel}/`)) {
        if (rel !== STATE_DIR) await walk(rel);
        continue;
      }
      const st = await lstat(join(root, rel));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[rel] = `dir ${mode}`;
        await walk(rel);
      } else if (st.isSymbolicLink()) out[rel] = `link -> ${await readlink(join(root, rel))}`;
      else
        out[rel] = `file ${mode} ${createHash('sha256')
          .update(await readFile(join(root, rel)))
          .digest('hex')}`;
    }
  };
  await walk('');
  return out;
}

/** Remove a temp root made by {@link Stack.realRoot}. */
export const removeRoot = (root: string) => rm(root, { recursive: true, force: true });

/** Skip a test with a printed reason (never pass silently). */
export function skipWith(ctx: Mocha.Context, reason: string): never {
  console.log(`      SKIP: ${reason}`);
  ctx.skip();
}

/**
 * A step's operations on a real Host, its tokens resolved as core resolves them: the Host, the config, and a typical
 * node's services (the bundled providers' values; the pod range is the config's cni.podCIDR).
 */
export function createOn(step: AnyStepDefinition, host: Host, config: FlexnodeConfig): StepInstance {
  const services = typicalServices(config);
  return instantiate(step, (token, name) => {
    if (token === Tokens.Host) return host;
    if (token === Tokens.Config) return config;
    if (services.has(token)) return services.get(token);
    throw new Error(`step ${step.id} injects ${name} (${String(token.description)}), which this rig does not provide`);
  });
}
