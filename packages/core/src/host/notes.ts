import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { checkNoteName, type HostNotes } from '@flexnode/sdk';
import { writeFileAtomic } from '../state/atomic-write.js';
import type { StepContext } from './context.js';

/**
 * A step's notes in `<state>/notes/<step>/<name>.json` (0600 in 0700 directories): observations, not changes, so
 * dry runs and read-only runs keep them too. Only where flexnode already holds state (its state directory exists):
 * `status` on a machine flexnode never touched must not create anything. A note that cannot be written is logged,
 * never a failure: it only makes a later reading less precise.
 */
export function createNotes(ctx: StepContext): HostNotes {
  const dir = join(ctx.shared.stateDir, 'notes', ctx.step);
  const file = (name: string) => join(dir, `${checkNoteName(name)}.json`);
  return {
    async read<T>(name: string): Promise<T | undefined> {
      try {
        return JSON.parse(await fs.readFile(file(name), 'utf8')) as T;
      } catch {
        return undefined; // absent, or torn by hand: no note
      }
    },
    async write(name, value) {
      const path = file(name);
      if (!existsSync(ctx.shared.stateDir)) return;
      try {
        await fs.mkdir(dir, { recursive: true, mode: 0o700 });
        await writeFileAtomic(path, `${JSON.stringify(value)}\n`, { mode: 0o600 });
      } catch (error) {
        ctx.log.debug(`note ${name} not written: ${(error as Error).message}`);
      }
    },
  };
}
