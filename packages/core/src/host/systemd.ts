import { existsSync } from 'node:fs';
import { FlexnodeError, type Change, type HostSystemd } from '@flexnode/sdk';
import type { StepContext } from './context.js';
import { runCommand } from './exec.js';
import { certainlyEnabled } from './unit-links.js';

/**
 * systemd through `systemctl`. With the host root (`/`) and a running systemd (/run/systemd/system), units are
 * really enabled, started and queried. Under a sandbox root (`--root DIR`) there is no service manager:
 * enablement uses `systemctl --root=DIR enable|disable` (which works offline, on the directory tree), while
 * start/stop are journaled but not performed, `available()` and `isActive()` are false. Every enable/disable/
 * start/stop is journaled with the previous state first; `daemon-reload` is never journaled.
 */
export function createSystemd(ctx: StepContext): HostSystemd {
  const sandbox = !ctx.paths.isHostRoot;
  const rootArgs = sandbox ? [`--root=${ctx.paths.root}`] : [];
  const available = () => !sandbox && existsSync('/run/systemd/system');
  const systemctl = (args: string[], allowFailure = false) => runCommand(ctx, 'systemctl', args, { allowFailure, timeoutMs: 90_000 });

  async function isEnabled(unit: string): Promise<boolean> {
    checkUnit(unit);
    if (await certainlyEnabled((path) => ctx.paths.resolve(path), unit)) return true;
    const result = await systemctl([...rootArgs, 'is-enabled', unit], true);
    return result.exitCode === 0 && /^enabled(-runtime)?$/.test(result.stdout.trim());
  }

  async function isActive(unit: string): Promise<boolean> {
    checkUnit(unit);
    if (!available()) return false;
    return ['active', 'reloading', 'activating'].includes(await ctx.shared.unitState(unit));
  }

  /** Journal, then act; without a service manager the start/stop is journaled and noted, not performed. */
  async function change(verb: 'enable' | 'disable' | 'start' | 'stop' | 'restart', unit: string, record: Change | undefined): Promise<void> {
    const runs = verb !== 'enable' && verb !== 'disable';
    // On the real root a missing service manager is an error, not a silent success: nothing would run.
    if (runs && !sandbox && !available()) {
      throw new FlexnodeError('SYSTEMD_UNAVAILABLE', `cannot ${verb} ${unit}: systemd is not running on this machine (no /run/systemd/system)`, {
        hint: 'flexnode needs a machine booted with systemd as PID 1 to run containerd and the kubelet',
      });
    }
    if (record) await ctx.journal(record);
    if (verb === 'enable' || verb === 'disable') {
      await systemctl([...rootArgs, verb, unit]);
    } else if (available()) {
      await systemctl([verb, unit]);
    } else {
      ctx.log.warn(`no service manager ${sandbox ? `under the root ${ctx.paths.root}` : 'is running'}: ${verb} ${unit} recorded, not performed`);
    }
  }

  return {
    available: async () => available(),
    async daemonReload() {
      if (ctx.dryRun || !available()) return;
      await systemctl(['daemon-reload']);
    },
    async enable(unit) {
      const wasEnabled = await isEnabled(unit);
      if (wasEnabled) return false;
      if (ctx.dryRun) return plan('enable', unit);
      await change('enable', unit, { kind: 'unit-enabled', unit, wasEnabled });
      return true;
    },
    async disable(unit) {
      const wasEnabled = await isEnabled(unit);
      if (!wasEnabled) return false;
      if (ctx.dryRun) return plan('disable', unit);
      await change('disable', unit, { kind: 'unit-disabled', unit, wasEnabled });
      return true;
    },
    async start(unit) {
      const wasActive = await isActive(unit);
      if (wasActive) return false;
      if (ctx.dryRun) return plan('start', unit);
      await change('start', unit, { kind: 'unit-started', unit, wasActive });
      return true;
    },
    async stop(unit) {
      const wasActive = await isActive(unit);
      if (!wasActive) return false;
      if (ctx.dryRun) return plan('stop', unit);
      await change('stop', unit, { kind: 'unit-stopped', unit, wasActive });
      return true;
    },
    async restart(unit) {
      const wasActive = await isActive(unit);
      if (ctx.dryRun) {
        plan('restart', unit);
        return;
      }
      // A restart of a stopped unit starts it: journal that, so revert stops it again.
      await change('restart', unit, wasActive ? undefined : { kind: 'unit-started', unit, wasActive });
    },
    isActive,
    isEnabled,
  };

  function plan(action: string, unit: string): true {
    ctx.planned(action, unit);
    return true;
  }
}

/** Undo a unit change: put enablement / activity back to what it was before flexnode touched it. */
export async function revertUnit(
  ctx: StepContext,
  change: Extract<Change, { kind: 'unit-enabled' | 'unit-disabled' | 'unit-started' | 'unit-stopped' }>,
): Promise<void> {
  const systemd = createSystemd(ctx);
  switch (change.kind) {
    case 'unit-enabled':
    case 'unit-disabled': {
      const enabled = await systemd.isEnabled(change.unit);
      if (enabled === change.wasEnabled) return;
      const verb = change.wasEnabled ? 'enable' : 'disable';
      await runCommand(ctx, 'systemctl', [...(ctx.paths.isHostRoot ? [] : [`--root=${ctx.paths.root}`]), verb, change.unit], { timeoutMs: 90_000 });
      return;
    }
    case 'unit-started':
    case 'unit-stopped': {
      if (!(await systemd.available())) return; // nothing was started or stopped for real
      const active = await systemd.isActive(change.unit);
      if (active === change.wasActive) return;
      await runCommand(ctx, 'systemctl', [change.wasActive ? 'start' : 'stop', change.unit], { timeoutMs: 90_000 });
      return;
    }
  }
}

/** Unit names go on argv: refuse anything that could be read as an option or a path. */
function checkUnit(unit: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9@._:\\-]*$/.test(unit)) {
    throw new FlexnodeError('UNIT_INVALID', `invalid systemd unit name ${JSON.stringify(unit)}`);
  }
}
