import { FlexnodeError, type Change, type HostChanges } from '@flexnode/sdk';
import { revertPackage } from './apt.js';
import type { StepContext } from './context.js';
import { crashPoint } from '../state/crash-hook.js';
import { lstatOrUndefined, removeDirIfEmpty, restoreFile } from './file-state.js';
import { revertSysctl } from './sysctl.js';
import { revertUnit } from './systemd.js';

/**
 * A step's journaled changes and their undo. Revert goes newest first and removes each change from the journal
 * right after undoing it, so a revert killed halfway resumes where it stopped, and a second revert does nothing.
 * Custom records are the step's own to undo ({@link HostChanges.forget}); `exec` and `module` changes cannot be
 * undone by the Host and are left in the journal.
 */
export function createChanges(ctx: StepContext): HostChanges {
  return {
    list: () => [...ctx.changes()],
    async record(type, data) {
      if (ctx.dryRun) {
        ctx.planned('record', type);
        return;
      }
      await ctx.journal({ kind: 'custom', type, data });
    },
    async forget(type, match) {
      if (ctx.dryRun) return;
      await ctx.shared.journal?.removeChanges(ctx.step, (c) => c.kind === 'custom' && c.type === type && (!match || match(c.data)));
    },
    async revert() {
      const changes = [...ctx.changes()];
      for (let i = changes.length - 1; i >= 0; i--) {
        const change = changes[i]!;
        if (change.kind === 'custom') continue;
        if (change.kind === 'exec') {
          ctx.log.debug(`not reversible, left in the journal: ${change.describe ?? [change.command, ...change.args].join(' ')}`);
          continue;
        }
        if (change.kind === 'module') {
          ctx.log.info(`kernel module ${change.name} was loaded by flexnode and stays loaded (unloading a module in use is unsafe)`);
          continue;
        }
        if (ctx.dryRun) {
          const [action, target, detail] = describeUndo(change);
          ctx.planned(action, target, detail);
          continue;
        }
        try {
          await undo(ctx, change);
        } catch (error) {
          const [action, target] = describeUndo(change);
          throw new FlexnodeError('REVERT_FAILED', `step ${ctx.step}: could not ${action} ${target}: ${(error as Error).message}`, {
            hint: 'fix the cause and run the uninstall again: it resumes with this change',
            cause: error,
          });
        }
        crashPoint('revert:after-undo'); // undone, not yet struck from the journal
        await ctx.shared.journal!.removeChanges(ctx.step, (c) => c === change);
      }
    },
  };
}

async function undo(ctx: StepContext, change: Change): Promise<void> {
  switch (change.kind) {
    case 'file':
      return restoreFile(ctx, change);
    case 'mkdir':
      if (await removeDirIfEmpty(ctx, change.path, ctx.paths.resolve(change.path))) return;
      // Still there (not empty), not gone already (a run killed before its mkdir): hand it over.
      if ((await lstatOrUndefined(ctx.paths.resolve(change.path)))?.isDirectory()) await handOverDir(ctx, change.path);
      return;
    case 'unit-enabled':
    case 'unit-disabled':
    case 'unit-started':
    case 'unit-stopped':
      return revertUnit(ctx, change);
    case 'sysctl':
      return revertSysctl(ctx, change);
    case 'package':
      return revertPackage(ctx, change);
    case 'module':
    case 'exec':
    case 'custom':
      return;
  }
}

/**
 * A directory this step made that another step's journaled files or directories are still in: steps running in
 * parallel share parents (/etc/cni/net.d: containerd's config and the CNI's), and the order they are uninstalled in
 * is the order they were first journaled, which a killed and resumed run can turn around. Its removal goes to that
 * step, as its oldest change (after its own files); else the directory would outlive both. Not when another step
 * journaled it too (that one removes it), nor for what no step wrote there (the operator's files: it stays).
 */
async function handOverDir(ctx: StepContext, dir: string): Promise<void> {
  const journal = ctx.shared.journal;
  if (!journal) return;
  const others = journal.entries().filter(([id]) => id !== ctx.step);
  if (others.some(([, r]) => r.changes.some((c) => c.kind === 'mkdir' && c.path === dir))) return;
  const inside = (c: Change) => (c.kind === 'file' || c.kind === 'mkdir') && c.path.startsWith(`${dir}/`);
  const heir = others.find(([, r]) => r.changes.some(inside));
  if (!heir) return;
  await journal.prependChange(heir[0], { kind: 'mkdir', path: dir });
  ctx.log.debug(`${dir} holds what ${heir[0]} wrote: that step removes it after its own files`);
}

/** [action, target, detail] of an undo, for plans and error messages. */
export function describeUndo(change: Change): [string, string, string?] {
  switch (change.kind) {
    case 'file':
      return change.before.exists ? ['restore', change.path, `(previous ${change.before.type})`] : ['remove', change.path];
    case 'mkdir':
      return ['remove directory', change.path, '(when empty)'];
    case 'unit-enabled':
    case 'unit-disabled':
      return [change.wasEnabled ? 'enable' : 'disable', change.unit];
    case 'unit-started':
    case 'unit-stopped':
      return [change.wasActive ? 'start' : 'stop', change.unit];
    case 'sysctl':
      return ['sysctl', change.key, `→ ${change.before ?? '(unset)'}`];
    case 'package':
      return ['apt-get purge', change.name];
    case 'module':
      return ['keep module', change.name];
    case 'exec':
      return ['keep', change.command];
    case 'custom':
      return ['keep record', change.type];
  }
}
