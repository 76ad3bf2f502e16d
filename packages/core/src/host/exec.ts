import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, posix } from 'node:path';
import { ExecError, type ExecOptions, type ExecResult, type HostExec } from '@flexnode/sdk';
import type { StepContext } from './context.js';
import { spawnCapture } from './spawn-capture.js';

const DEFAULT_TIMEOUT_MS = 120_000;

/** Replace the run's known secrets and the call's own secrets with `***`. */
export function redactWith(redact: (s: string) => string, secrets: readonly string[] | undefined, text: string): string {
  let out = redact(text);
  for (const secret of secrets ?? []) if (secret) out = out.split(secret).join('***');
  return out;
}

/**
 * Run a command (argument array, never a shell) and capture its output; no journal, no plan. The Host's parts
 * (systemd, apt, modules) use it and journal their own kind of change. Commands run on THIS host even when the
 * root is a prefix directory: a sandbox root has no processes of its own (tests put stubs first on PATH).
 * Non-zero exit → {@link ExecError} with redacted stderr, unless `allowFailure`; a timeout always throws.
 */
export async function runCommand(
  ctx: StepContext,
  command: string,
  args: readonly string[],
  options: Omit<ExecOptions, 'mutates' | 'describe'> = {},
): Promise<ExecResult> {
  const hide = (text: string) => redactWith(ctx.shared.redact, options.secrets, text);
  const line = hide([command, ...args].join(' '));
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  ctx.log.debug(`exec ${line}`);
  // Each command's time counts under its name (systemctl, azcmagent, ...) in the run's activity.
  const result = await ctx.shared.activity.time(posix.basename(command), () =>
    spawnCapture(command, args, { input: options.input, env: options.env, timeoutMs: timeout }),
  );
  const { stdout, stderr } = result;
  if (result.timedOut) {
    throw new ExecError(command, 124, hide(`timed out after ${Math.round(timeout / 1000)} s\n${stderr}`), `the command ${line} did not finish in time`);
  }
  const notFound = result.spawnError === 'ENOENT';
  const exitCode = result.exitCode;
  const errText = notFound ? `${command}: command not found` : result.spawnError ? `${command}: ${result.spawnError}\n${stderr}` : stderr;
  if (stdout || errText) ctx.log.debug(`exec ${command} → ${exitCode}`, { stdout: hide(stdout).slice(-4000), stderr: hide(errText).slice(-4000) });
  if (exitCode !== 0 && !options.allowFailure) {
    throw new ExecError(command, exitCode, hide(errText), notFound ? `install ${command} or put it on PATH` : undefined);
  }
  return { exitCode, stdout, stderr: errText };
}

/** The Host's exec: mutating commands are journaled (`exec`, not reversible) and only planned in a dry run. */
export function createExec(ctx: StepContext): HostExec {
  return {
    async run(command, args, options = {}) {
      const mutates = options.mutates !== false;
      if (mutates) {
        const hide = (text: string) => redactWith(ctx.shared.redact, options.secrets, text);
        const shown = hide([command, ...args].join(' '));
        if (ctx.dryRun) {
          ctx.planned('exec', shown, options.describe ? `(${options.describe})` : undefined);
          return { exitCode: 0, stdout: '', stderr: '' };
        }
        await ctx.journal({ kind: 'exec', command, args: args.map(hide), ...(options.describe ? { describe: options.describe } : {}) });
      }
      return runCommand(ctx, command, args, options);
    },
    which,
  };
}

/**
 * The absolute path of an executable on this process's PATH (commands run on this host, see runCommand).
 * Synchronous stats on purpose: a PATH search probes a dozen names that mostly do not exist, and each async probe
 * is a threadpool round trip plus a thrown ENOENT (~0.5 ms apiece in a status); a stat that returns undefined for
 * a missing name costs microseconds. Async stays the signature, for callers and for the Host's interface.
 */
export async function which(command: string): Promise<string | undefined> {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate, { throwIfNoEntry: false })?.isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not executable by us, or a PATH entry that is not a directory (ENOTDIR)
    }
  }
  return undefined;
}
