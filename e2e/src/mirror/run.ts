// Small process helpers shared by the mirror and the machine harness: argument arrays only, never a shell.
import { spawn } from 'node:child_process';
import { access, constants as fsConstants } from 'node:fs/promises';
import { constants } from 'node:os';

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  allowFailure?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutBuffer: Buffer;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Runs argv[0] with the rest as arguments; rejects on non-zero exit unless allowFailure. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    // detached: own process group, so a timeout can kill the whole group (nsenter forks a child).
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup(child.pid);
          }, opts.timeoutMs)
        : undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // the command may exit before reading its input
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBuffer = Buffer.concat(out);
      const result: RunResult = {
        exitCode: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0),
        stdout: stdoutBuffer.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (timedOut ? `\n[killed after ${opts.timeoutMs} ms]` : ''),
        stdoutBuffer,
      };
      if (timedOut && !opts.allowFailure) {
        reject(new CommandError(`${argv.join(' ')}: timed out after ${opts.timeoutMs} ms\n${tail(result.stderr)}`, result));
      } else if (result.exitCode !== 0 && !opts.allowFailure) {
        reject(new CommandError(`${argv.join(' ')}: exit ${result.exitCode}\nstdout:\n${tail(result.stdout)}\nstderr:\n${tail(result.stderr)}`, result));
      } else resolve(result);
    });
    child.stdin.end(opts.input ?? '');
  });
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Last `lines` lines of a text, for error messages that stay readable. */
export function tail(text: string, lines = 50): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** True when `cmd` is found in PATH. */
export async function hasCommand(cmd: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      await access(`${dir}/${cmd}`, fsConstants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}
