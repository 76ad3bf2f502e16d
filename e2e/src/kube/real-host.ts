// The REAL Host of packages/core (createRealHost + Journal), loaded at run time through core's package exports
// (@flexnode/core/host, @flexnode/core/state), so that a test file loads without core built and says SKIP.
import type { Host, Logger } from '@flexnode/sdk';

const CORE = (entry: 'host' | 'state') => `@flexnode/core/${entry}`;

export interface RealHostHandle {
  host(stepId: string): Host;
  dispose(): Promise<void>;
  lines: { level: string; message: string }[];
}

/** A real Host over `root` with its journal in `stateDir` (a path on this machine, not under root). */
export async function realHost(root: string, stateDir: string, opts: { dryRun?: boolean; mirror?: string } = {}): Promise<RealHostHandle> {
  const { createRealHost } = (await import(CORE('host'))) as {
    createRealHost: (o: Record<string, unknown>) => { forStep(id: string, plugin: string): Host; dispose(): Promise<void> };
  };
  const { Journal } = (await import(CORE('state'))) as { Journal: { open(dir: string): Promise<unknown> } };
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const journal = opts.dryRun ? undefined : await Journal.open(stateDir);
  // The Host prefixes the state dir with the root; with root '/' that is the path itself.
  const real = createRealHost({
    root,
    dryRun: !!opts.dryRun,
    stateDir: root === '/' ? stateDir : stateDir.slice(root.length),
    journal,
    log,
    redact: (s: string) => s,
    mirror: opts.mirror,
    download: { idleTimeoutMs: 5000, retries: 1, backoffMs: 10 },
  });
  return { host: (id) => real.forStep(id, '@flexnode/plugin-kube'), dispose: () => real.dispose(), lines };
}

export const coreBuilt = async () =>
  import(CORE('host')).then(
    () => true,
    () => false,
  );

/** Tests on the real Host need root (it sets owners; systemctl --root) and core's build: else SKIP, with the reason. */
export async function skipUnlessRealHost(ctx: Mocha.Context): Promise<void> {
  const why =
    process.getuid?.() !== 0 ? 'needs root (the real Host sets owners; systemctl --root)' : !(await coreBuilt()) ? 'packages/core is not built' : undefined;
  if (!why) return;
  console.log(`      SKIP: ${why}`);
  ctx.skip();
}
