import { spawn } from 'node:child_process';
import { childEnvironment } from '@flexnode/sdk';
import { constants } from 'node:os';

/** What one finished process gave back. */
export interface Captured {
  /** The exit code; 128 + N for a process killed by signal N (the shell's convention). */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Killed because it outlived `timeoutMs`. */
  timedOut: boolean;
  /** The spawn itself failed: `ENOENT` (no such command), `EACCES` (not executable), ... */
  spawnError?: string;
}

export interface CaptureOptions {
  input?: string | Uint8Array;
  /** Added to this process's environment (which reaches the child without its credential variables). */
  env?: Record<string, string>;
  timeoutMs: number;
  /** After the timeout's SIGTERM, a process that ignores it gets SIGKILL this much later (default 5 s). */
  killGraceMs?: number;
}

/** How long the pipes may stay open after the process exited (held by something it started in the background). */
const DRAIN_MS = 2_000;

/**
 * Run `command args` (no shell) from `/` and capture its output as text. Never rejects: every outcome, a
 * failed spawn included, is in the result. Plain node:child_process rather than execa: execa's module graph
 * costs ~80 ms at first use (bundled; ~150 ms as 113 separate files), which is most of a `flexnode status`,
 * and this needs only spawn, capture and a timeout.
 */
export function spawnCapture(command: string, args: readonly string[], options: CaptureOptions): Promise<Captured> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const child = spawn(command, [...args], {
      cwd: '/',
      // Explicit: this process's environment without credentials (AZURE_CLIENT_SECRET...), plus what the caller gives.
      env: childEnvironment(options.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE: the command exited without reading all its input
      child.stdin.end(options.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 5_000);
      killTimer.unref();
    }, options.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error.code ?? error.message;
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (drainTimer) clearTimeout(drainTimer);
      const exitCode = spawnError === 'ENOENT' ? 127 : spawnError === 'EACCES' ? 126 : (code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 128));
      resolve({ exitCode, stdout, stderr, timedOut, ...(spawnError ? { spawnError } : {}) });
    };
    // 'close' comes once the process exited and its pipes drained (also after a failed spawn's 'error').
    child.on('close', finish);
    // A background process it left behind may hold the pipes open for ever: after the exit, give them a moment
    // to drain, then stop reading.
    child.on('exit', (code, signal) => {
      drainTimer = setTimeout(
        () => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish(code, signal);
        },
        timedOut ? 0 : DRAIN_MS,
      );
    });
  });
}
