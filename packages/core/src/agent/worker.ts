import { spawn, type ChildProcess } from 'node:child_process';
import type { LogLevel } from '@flexnode/sdk';
import type { LoadedConfig } from '../config/index.js';
import { corePath } from '../package-require.js';
import type { PluginSource } from '../plugins/index.js';
import type { RunReport, StepResult } from '../runtime/index.js';

/**
 * The agent's worker: a short-lived child process that does the work with large transient memory (the first
 * bootstrap, and each heal: downloads, archives, the Azure SDK) while the agent's cycle holds the lock. When it
 * exits its memory goes back to the OS, so the long-lived agent keeps only what its idle checks need.
 *
 * Protocol (Node IPC channel): the agent sends one {@link WorkerRequest}; the worker answers one
 * {@link WorkerMessage} and exits. Its human log lines come on stderr (the agent passes them on to its own
 * stderr, the journal, and keeps the tail for a crash report); its JSON lines go to the same log file.
 * SIGTERM/SIGINT (forwarded by the agent) and a lost parent (IPC disconnect) stop it after the step in
 * progress, like the agent itself.
 */
export interface WorkerRequest {
  /** upgrade: `flexnode upgrade`'s transaction (the agent's automatic upgrade); recover: finish or roll back a killed one. */
  kind: 'bootstrap' | 'heal' | 'upgrade' | 'recover';
  /** heal: the steps to re-run (their dependents are checked too). */
  steps?: string[];
  /** The agent's current config (after any SIGHUP reload), passed whole: the worker never re-reads the file. */
  config: LoadedConfig;
  root: string;
  sources: readonly PluginSource[];
  only?: readonly string[];
  logDir: string;
  logLevel?: LogLevel;
  /** Stderr lines as JSON (`agent --json`). */
  json?: boolean;
}

export type WorkerReport = RunReport & {
  removed?: StepResult[];
  /** An upgrade's outcome (kinds upgrade and recover). */
  upgrade?: { from?: string; to?: string; changed: boolean; recovered?: string };
};

export type WorkerMessage = { type: 'report'; report: WorkerReport } | { type: 'error'; error: { code: string; message: string } };

/** How to start a worker: a command and its arguments (the agent adds nothing but the IPC channel). */
export interface WorkerCommand {
  command: string;
  args: readonly string[];
}

/** Core's own worker entry, found from the package root so that it works from dist/ and from a bundle. */
export function defaultWorkerCommand(): WorkerCommand {
  return { command: process.execPath, args: [corePath('dist/agent/worker-main.js')] };
}

/** The worker failed without a report: it crashed, was killed, or could not start. */
export class WorkerError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** The last lines it wrote on stderr. */
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}

export interface WorkerRun {
  readonly pid: number | undefined;
  readonly done: Promise<WorkerReport>;
  /** Pass a signal on (SIGTERM: stop after the step in progress). */
  kill(signal: NodeJS.Signals): void;
}

const TAIL = 2_000;

/** Start a worker for `request`. `stderr` receives its stderr as it comes (the journal under systemd). */
export function startWorker(command: WorkerCommand, request: WorkerRequest, options: { stderr?: { write(chunk: string): unknown } } = {}): WorkerRun {
  const env = workerEnv(process.env, process.argv);
  const child: ChildProcess = spawn(command.command, [...command.args], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], env });
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    options.stderr?.write(chunk);
    tail = (tail + chunk).slice(-TAIL);
  });
  const done = new Promise<WorkerReport>((resolve, reject) => {
    let answer: WorkerMessage | undefined;
    child.on('message', (message: WorkerMessage) => (answer ??= message));
    child.on('error', (error) => reject(new WorkerError(`the agent's worker could not start: ${error.message}`, 'WORKER_FAILED', tail)));
    // 'close': the process exited and its stderr is read to the end.
    child.on('close', (code, signal) => {
      if (answer?.type === 'report') return resolve(answer.report);
      if (answer?.type === 'error') return reject(new WorkerError(answer.error.message, answer.error.code, tail));
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const last = tail.trim().split('\n').slice(-5).join(' | ');
      reject(new WorkerError(`the agent's worker (pid ${child.pid}) ${how} without a report${last ? `: ${last}` : ''}`, 'WORKER_CRASHED', tail));
    });
  });
  child.send(request, (error) => {
    if (error) child.kill('SIGKILL');
  });
  return {
    pid: child.pid,
    done,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/**
 * The worker's side, run by worker-main.js: wait for the request, run it under the parent's lock, answer, exit.
 * Imports the runtime lazily so that the agent, which imports this module for {@link startWorker}, does not
 * pay for what only the worker needs.
 */
export async function workerMain(): Promise<void> {
  if (!process.send) throw new Error('the agent worker must be started by the agent (no IPC channel)');
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => undefined); // the agent's reload signal is not ours
  process.on('disconnect', stop); // the agent is gone: finish the step in progress, then exit
  const request = await new Promise<WorkerRequest>((resolve) => process.once('message', (m) => resolve(m as WorkerRequest)));
  const [{ Redactor }, { Session }, { createAgentLogger }] = await Promise.all([
    import('../logging/index.js'),
    import('../runtime/session.js'),
    import('./log.js'),
  ]);
  const redactor = new Redactor();
  const log = createAgentLogger({ logDir: request.logDir, level: request.logLevel, redactor, json: request.json });
  let message: WorkerMessage;
  try {
    const upgrading = request.kind === 'upgrade' || request.kind === 'recover';
    const session = await Session.open({
      // The steps of an upgrade's run see `upgrade` (Tokens.Run): the node's cordon is that run's own.
      command: upgrading ? 'upgrade' : 'agent',
      config: request.config,
      root: request.root,
      sources: request.sources,
      only: request.only,
      signal: abort.signal,
      logger: log,
      redactor,
      lockHeldByParent: true,
    });
    try {
      const report: WorkerReport = await session.cycle(async (run): Promise<WorkerReport> => {
        if (request.kind === 'bootstrap') return run.bootstrap();
        if (request.kind === 'heal') return run.heal(request.steps ?? []);
        if (request.kind === 'recover') {
          const recovered = await run.recoverUpgrade();
          return { ok: true, results: [], upgrade: { changed: false, ...(recovered ? { recovered } : {}) } };
        }
        const u = await run.upgrade();
        return { ok: u.ok, results: u.results, upgrade: { from: u.from, to: u.to, changed: u.changed, ...(u.recovered ? { recovered: u.recovered } : {}) } };
      });
      message = { type: 'report', report };
    } finally {
      await session.close();
    }
  } catch (error) {
    const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'INTERNAL';
    message = { type: 'error', error: { code, message: redactor.redact(error instanceof Error ? error.message : String(error)) } };
  }
  log.flush();
  await new Promise<void>((resolve) => process.send!(message, () => resolve()));
  process.exit(message.type === 'report' ? 0 : 1);
}

/** The agent's entry script, when the agent runs as the CLI (`flexnode agent`: bin/run.js, or a `flexnode` wrapper). */
const CLI_ENTRY = /(^|\/)(flexnode|run\.js)$/;

/** The environment of a worker, from the agent's. */
export function workerEnv(parent: NodeJS.ProcessEnv, argv: readonly string[]): NodeJS.ProcessEnv {
  // Never hand the service manager's notification socket to a child (NotifyAccess=main refuses it anyway).
  const env = { ...parent };
  for (const key of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[key];
  // The agent's memory knobs (the unit's NODE_OPTIONS) suit a process that only checks. The worker downloads,
  // hashes and unpacks: it gets V8's JIT back.
  if (env.NODE_OPTIONS) env.NODE_OPTIONS = workerNodeOptions(env.NODE_OPTIONS);
  // The worker's own script is worker-main.js: steps that write the CLI's path into the machine (the kubelet's
  // exec credential runs `flexnode token`) must find the CLI's, or what the worker installs differs from what
  // the agent's checks (in the CLI's process) expect, and every cycle heals it again.
  const entry = argv[1];
  if (!env.FLEXNODE_BIN && entry && CLI_ENTRY.test(entry)) env.FLEXNODE_BIN = entry;
  return env;
}

/** NODE_OPTIONS for a worker: the agent's without --jitless. */
export function workerNodeOptions(options: string): string {
  return options
    .split(/\s+/)
    .filter((option) => option && option !== '--jitless')
    .join(' ');
}
