import { isFlexnodeError, type CheckResult } from '@flexnode/sdk';
import { getHeapStatistics } from 'node:v8';
import { loadConfig as coreLoadConfig, type LoadedConfig } from '../config/index.js';
import { Redactor } from '../logging/index.js';
import type { PluginSource } from '../plugins/index.js';
import { underRoot } from '@flexnode/sdk';
import { DEFAULT_LOG_DIR, STATE_DIR } from '../runtime/paths.js';
import { readUpgradeState } from '../state/upgrade-state.js';
import { processStartTicks } from '../state/lock.js';
import { Session, type SessionCycle } from '../runtime/session.js';
import type { RunReport, StepResult } from '../runtime/index.js';
import { defaultHealPolicy, HealTracker, type HealPolicy } from './heal.js';
import { createAgentLogger, type AgentLogger } from './log.js';
import { createNotifier, type Notifier } from './sd-notify.js';
import { writeAgentStatus, type AgentStatus } from './status-file.js';
import { defaultWorkerCommand, startWorker, WorkerError, type WorkerCommand, type WorkerReport, type WorkerRequest, type WorkerRun } from './worker.js';

export interface AgentOptions {
  configPath: string;
  root: string;
  sources: readonly PluginSource[];
  /** Restrict the agent to these steps, capabilities or plugins (and their dependencies), like `--only`. */
  only?: readonly string[];
  /** Overrides `agent.intervalSeconds` (tests and the soak bench use sub-second intervals). */
  intervalMs?: number;
  policy?: Partial<HealPolicy>;
  /** Stop after this many check cycles (the soak bench). */
  maxCycles?: number;
  /** Default: JSON lines in agent.logDir and human lines on stderr. */
  logger?: AgentLogger;
  /** JSON lines on stderr too (`agent --json`), from the agent and its workers. */
  json?: boolean;
  notifier?: Notifier;
  now?: () => number;
  /** Install SIGTERM/SIGINT (stop) and SIGHUP (reload) handlers; default true. */
  signals?: boolean;
  /** A cycle running longer than this stops the watchdog pings, so systemd restarts a stuck agent. Default 30 min. */
  stuckAfterMs?: number;
  /** Called after every cycle (tests, the bench). */
  onCycle?: (status: AgentStatus) => void;
  /** How to start the worker process that runs the first bootstrap and each heal (default: core's worker-main.js). */
  worker?: WorkerCommand;
  /** Where the worker's stderr (its human log lines) goes; default process.stderr. */
  workerStderr?: { write(chunk: string): unknown };
}

const DEFAULT_INTERVAL_SECONDS = 60;
/** With agent.autoUpgrade, how often the cluster's version is looked at while the node is fine. */
const UPGRADE_LOOK_MS = 10 * 60_000;
/** Heap growth (bytes) after which the agent collects garbage between cycles. */
const GC_SLACK = 1024 * 1024;
const LOCKED = 'LOCKED';

/**
 * `flexnode agent`: the first bootstrap (resumable), then a cycle every interval: every check (read-only); each
 * step that is not ok is logged as drift and healed alone, by re-running its install and checking (and if
 * needed installing) the steps that depend on it. Never the whole bootstrap: upstream re-bootstraps everything
 * on any false positive. A heal that fails backs off exponentially per step; after `maxAttempts` failures in
 * a row the step is reported `failing` and tried only at a slow rate.
 *
 * The lock is held for each cycle only (checks and heals see one consistent machine), so between cycles
 * `flexnode bootstrap`/`unbootstrap` by hand can run, and a cycle that finds the lock held skips its turn.
 * `flexnode status` takes no lock and works at any time. The plugins are resolved once per config (the Session
 * is kept, with the dry-run Host and step instances of its checks); each cycle reads the journal fresh from disk.
 *
 * This process only checks. What changes the machine, the first bootstrap and each heal, runs in a short-lived
 * worker process (worker.ts) under this cycle's lock: downloads, archives and SDK clients take memory that an
 * exiting process gives back to the OS, which a long-lived one would keep. SIGTERM/SIGINT are passed on to a
 * running worker, which stops after its step in progress; a worker that crashes fails its heal (with the tail of
 * its stderr) and the agent carries on.
 */
export class Agent {
  private readonly abort = new AbortController();
  private readonly redactor = new Redactor();
  private readonly startedAt: string;
  private readonly now: () => number;
  private log!: AgentLogger;
  private notifier!: Notifier;
  private loaded!: LoadedConfig;
  private session!: Session;
  private tracker!: HealTracker;
  private wake?: () => void;
  private reloadRequested = false;
  private cycleStartedAt?: number;
  private journalSteps = 0;
  private status!: AgentStatus;
  private readonly cleanups: (() => void)[] = [];
  private worker?: WorkerRun;

  constructor(private readonly options: AgentOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = new Date(this.now()).toISOString();
  }

  get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private get intervalMs(): number {
    return this.options.intervalMs ?? (this.loaded.config.agent?.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS) * 1000;
  }

  /** Stop after the step in progress (SIGTERM, SIGINT). */
  stop(reason = 'stop requested'): void {
    if (this.stopping) return;
    this.log?.info('stopping after the step in progress', { reason });
    this.abort.abort();
    this.worker?.kill('SIGTERM');
    this.wake?.();
  }

  /** Reload the config at the end of the current cycle, or now when idle (SIGHUP). */
  requestReload(): void {
    this.reloadRequested = true;
    this.wake?.();
  }

  /** Run until stopped; resolves with the exit code. A config that cannot be loaded at start throws. */
  async run(): Promise<number> {
    this.loaded = await this.loadConfig();
    this.log =
      this.options.logger ??
      createAgentLogger({
        logDir: underRoot(this.options.root, this.loaded.config.agent?.logDir ?? DEFAULT_LOG_DIR),
        level: this.loaded.config.agent?.logLevel,
        redactor: this.redactor,
        json: this.options.json,
      });
    this.notifier = this.options.notifier ?? createNotifier({ onError: (m) => this.log.warn(m) });
    this.session = await this.openSession(this.loaded);
    this.tracker = new HealTracker(this.policy(), this.now);
    const startTicks = processStartTicks(process.pid);
    this.status = {
      version: 1,
      pid: process.pid,
      startedAt: this.startedAt,
      ...(startTicks !== undefined ? { startTicks } : {}),
      phase: 'starting',
      ready: false,
      intervalSeconds: this.intervalMs / 1000,
      cycles: 0,
      healthy: false,
      steps: {},
    };
    if (this.options.signals ?? true) this.installSignals();
    this.startWatchdog();
    this.log.info('agent started', { pid: process.pid, intervalSeconds: this.intervalMs / 1000, root: this.options.root, only: this.options.only });
    try {
      await this.writeStatus();
      await this.notify({ STATUS: 'bootstrapping' });
      // The first bootstrap resumes whatever a previous run left; it waits its turn while a run by hand holds the lock.
      while (!this.stopping) {
        if (await this.runCycle('bootstrap')) break;
        await this.sleep(this.intervalMs);
      }
      if (!this.stopping) {
        this.status.ready = true;
        this.status.phase = 'running';
        await this.writeStatus();
        await this.notify({ READY: 1, STATUS: this.summary() });
      }
      let cycles = 0;
      while (!this.stopping && (this.options.maxCycles === undefined || cycles < this.options.maxCycles)) {
        await this.sleep(this.intervalMs);
        if (this.stopping) break;
        if (this.reloadRequested) await this.reload();
        await this.runCycle('check');
        cycles++;
        if (this.unbootstrapped) {
          this.log.warn(
            'the journal was emptied since the last cycle: the node was unbootstrapped by hand; the agent stops rather than bootstrap it again (systemctl disable flexnode-agent to keep it off)',
          );
          break;
        }
      }
      return 0;
    } finally {
      this.status.phase = 'stopping';
      await this.writeStatus().catch(() => undefined);
      await this.notify({ STOPPING: 1, STATUS: 'stopping' });
      for (const cleanup of this.cleanups.splice(0)) cleanup();
      await this.session.close();
      this.log.info('agent stopped');
      this.log.flush();
    }
  }

  private unbootstrapped = false;

  private policy(): HealPolicy {
    return { ...defaultHealPolicy(this.intervalMs), ...this.options.policy };
  }

  private async loadConfig(): Promise<LoadedConfig> {
    return coreLoadConfig(this.options.configPath, { allowPlaceholders: false, root: this.options.root });
  }

  private openSession(loaded: LoadedConfig): Promise<Session> {
    return Session.open({
      command: 'agent',
      config: loaded,
      root: this.options.root,
      sources: this.options.sources,
      signal: this.abort.signal,
      only: this.options.only,
      logger: this.log,
      redactor: this.redactor,
      // No deadline on the agent's own checks: a hung one holds the cycle, the watchdog pings stop and systemd
      // restarts the agent (stuckAfterMs), which clears whatever was wedged. A deadline would fail it as drift
      // every cycle, heal it in a worker whose check hangs too, and leave each hung check running.
      checkTimeoutMs: 0,
    });
  }

  /** One cycle under the lock. Returns false when it could not run (lock held, unexpected error). */
  private async runCycle(kind: 'bootstrap' | 'check'): Promise<boolean> {
    this.cycleStartedAt = this.now();
    let ran = false;
    try {
      await this.session.cycle(async (run) => {
        const before = this.journalSteps;
        this.journalSteps = run.journal.entries().length;
        if (kind === 'check' && before > 0 && this.journalSteps === 0) {
          this.unbootstrapped = true;
          return;
        }
        if (kind === 'bootstrap') await this.bootstrap(run);
        else await this.checkAndHeal(run);
        this.journalSteps = run.journal.entries().length;
      });
      ran = true;
      delete this.status.lastCycleSkipped;
    } catch (error) {
      const message = this.redactor.redact(error instanceof Error ? error.message : String(error));
      if (isFlexnodeError(error) && error.code === LOCKED) this.log.info('cycle skipped: another flexnode run holds the lock', { error: message });
      else this.log.error('cycle failed', { error: message });
      this.status.lastCycleSkipped = message;
    } finally {
      this.cycleStartedAt = undefined;
    }
    this.status.cycles++;
    this.status.lastCycle = new Date(this.now()).toISOString();
    await this.writeStatus();
    if (this.status.ready) await this.notify({ STATUS: this.summary() });
    this.options.onCycle?.(this.status);
    this.collectGarbage();
    return ran;
  }

  private async bootstrap(run: SessionCycle): Promise<void> {
    this.log.info('bootstrap: converging every step');
    // A worker that fails without a report throws: the cycle failed, the bootstrap is tried again next interval.
    const report = await this.inWorker({ kind: 'bootstrap' }).finally(() => run.reread());
    for (const r of report.removed ?? []) this.log.info('removed a step no longer chosen', { step: r.id, outcome: r.outcome });
    this.record(report, true);
    this.log.info(report.ok ? 'bootstrap done' : 'bootstrap finished with failures; the agent retries them with backoff', {
      installed: report.results.filter((r) => r.outcome === 'installed').map((r) => r.id),
      failed: report.results.filter((r) => r.outcome === 'failed').map((r) => r.id),
    });
  }

  private async checkAndHeal(run: SessionCycle): Promise<void> {
    // An upgrade a killed run left (the node may be cordoned): finished or rolled back before anything else.
    if (await readUpgradeState(underRoot(this.options.root, STATE_DIR))) {
      this.log.warn('an upgrade did not finish: finishing or rolling it back');
      await this.inWorker({ kind: 'recover' }).then(
        (r) => r.upgrade?.recovered && this.log.warn(r.upgrade.recovered),
        (error: unknown) =>
          this.log.error('recovering the interrupted upgrade failed', { error: this.redactor.redact(error instanceof Error ? error.message : String(error)) }),
      );
      await run.reread();
      return;
    }
    const report = await run.check();
    this.tracker.retain(report.results.map((r) => r.id));
    const broken: string[] = [];
    for (const r of report.results) {
      if (r.outcome === 'skipped') continue; // aborted before it was checked
      const wasOk = (this.tracker.get(r.id)?.state ?? 'ok') === 'ok';
      const result: CheckResult | { error: string } = r.check ?? { error: r.error?.message ?? 'check failed' };
      this.tracker.observe(r.id, result);
      if (r.outcome === 'healthy') continue;
      broken.push(r.id);
      const due = this.tracker.due(r.id);
      const fields = { step: r.id, status: r.check?.status ?? 'error', reason: r.check?.status === 'ok' ? undefined : (r.check?.reason ?? r.error?.message) };
      // Newly broken, or about to be healed: a warning; waiting out a backoff: debug, not a line per interval.
      if (wasOk || due) this.log.warn('drift', fields);
      else this.log.debug('drift (backing off)', { ...fields, nextAttemptAt: this.tracker.get(r.id)?.nextAttemptAt });
    }
    if (await this.upgradeInstead(run, broken.length > 0)) return;
    const covered = new Set<string>();
    let healed = false;
    for (const id of broken) {
      if (this.stopping) break;
      if (covered.has(id) || !this.tracker.due(id)) continue;
      this.log.info('healing', { step: id });
      healed = true;
      const report = await this.inWorker({ kind: 'heal', steps: [id] }).catch((error: unknown) => this.failedHeal(id, error));
      for (const r of report.results) covered.add(r.id);
      this.record(report, false);
    }
    if (healed) await run.reread();
  }

  private lastUpgradeLook = Number.NEGATIVE_INFINITY;
  private upgradeRetryAt = 0;

  /**
   * A new Kubernetes version is an upgrade, never a heal in place: when the config's kubernetes.version differs
   * from the installed kubelet, or the cluster moved past the version skew policy, the agent upgrades through
   * `flexnode upgrade`'s path (agent.autoUpgrade: a worker, slot, drain, rollback) or reports it and heals
   * nothing this cycle. Looked at when a step is not ok, and every 10 minutes with autoUpgrade (the cluster may
   * move while the node is fine). True when it took the cycle over.
   */
  private async upgradeInstead(run: SessionCycle, somethingBroken: boolean): Promise<boolean> {
    const auto = this.loaded.config.agent?.autoUpgrade === true;
    if (!somethingBroken && !(auto && this.now() - this.lastUpgradeLook >= UPGRADE_LOOK_MS)) return false;
    this.lastUpgradeLook = this.now();
    const plan = await this.session.upgradePlan();
    if (!plan || plan.to === plan.from || !(plan.source === 'pinned' || plan.outsideSkew)) {
      delete this.status.upgrade;
      return false;
    }
    const pending = `Kubernetes ${plan.from} to ${plan.to} (${plan.source === 'pinned' ? 'kubernetes.version' : `the API server runs ${plan.apiServer}, past the version skew policy`})`;
    if (!auto) {
      if (this.status.upgrade?.pending !== pending)
        this.log.warn('upgrade pending: not healed in place', { upgrade: pending, fix: 'run `flexnode upgrade`, or set agent.autoUpgrade' });
      this.status.upgrade = { pending };
      return true;
    }
    if (this.now() < this.upgradeRetryAt) return true;
    this.log.info('upgrading', { upgrade: pending });
    try {
      const report = await this.inWorker({ kind: 'upgrade' });
      this.record(report, false);
      if (report.upgrade?.recovered) this.log.warn(report.upgrade.recovered);
      this.log.info('upgraded', { upgrade: pending });
      this.status.upgrade = { last: pending, at: new Date(this.now()).toISOString() };
    } catch (error) {
      const message = this.redactor.redact(error instanceof Error ? error.message : String(error));
      this.upgradeRetryAt = this.now() + this.policy().slowRetryMs;
      this.log.error('automatic upgrade failed', { upgrade: pending, error: message, nextAttemptAt: new Date(this.upgradeRetryAt).toISOString() });
      this.status.upgrade = { pending, lastError: message, nextAttemptAt: new Date(this.upgradeRetryAt).toISOString() };
    } finally {
      await run.reread();
    }
    return true;
  }

  /** Run a bootstrap or heal in a worker process; SIGTERM is passed on to it (also when it came just before). */
  private async inWorker(request: Pick<WorkerRequest, 'kind' | 'steps'>): Promise<WorkerReport> {
    const config = this.loaded.config;
    const worker = startWorker(
      this.options.worker ?? defaultWorkerCommand(),
      {
        ...request,
        config: this.loaded,
        root: this.options.root,
        sources: this.options.sources,
        only: this.options.only,
        logDir: underRoot(this.options.root, config.agent?.logDir ?? DEFAULT_LOG_DIR),
        logLevel: config.agent?.logLevel,
        json: this.options.json,
      },
      { stderr: this.options.workerStderr ?? process.stderr },
    );
    this.worker = worker;
    if (this.stopping) worker.kill('SIGTERM');
    this.log.debug('worker started', { pid: worker.pid, kind: request.kind, steps: request.steps });
    try {
      return await worker.done;
    } finally {
      this.worker = undefined;
    }
  }

  /** A heal whose worker failed without a report: the step failed, with what the worker said last. */
  private failedHeal(id: string, error: unknown): WorkerReport {
    const message = this.redactor.redact(error instanceof Error ? error.message : String(error));
    const code = error instanceof WorkerError ? error.code : 'INTERNAL';
    return { ok: false, results: [{ id, title: id, plugin: '', outcome: 'failed', durationMs: 0, error: { code, message } }] };
  }

  /** Fold a bootstrap or heal report into the tracker and the log. */
  private record(report: RunReport, initial: boolean): void {
    for (const r of report.results) this.recordOne(r, initial);
  }

  private recordOne(r: StepResult, initial: boolean): void {
    if (r.outcome === 'installed' || r.outcome === 'unchanged') {
      const was = this.tracker.get(r.id)?.state;
      this.tracker.healed(r.id);
      if (r.outcome === 'installed' && !initial) this.log.info('healed', { step: r.id, durationMs: r.durationMs, was });
    } else if (r.outcome === 'failed') {
      const health = this.tracker.failed(r.id, r.error?.message ?? 'failed');
      this.log.error(health.state === 'failing' ? 'heal failed: step is failing, retried at a slow rate' : 'heal failed: backing off', {
        step: r.id,
        error: r.error?.message,
        consecutiveFailures: health.consecutiveFailures,
        nextAttemptAt: health.nextAttemptAt,
      });
    } else if (r.outcome === 'skipped' && !this.stopping) {
      this.tracker.observe(r.id, { status: 'missing', reason: 'not run: a step it depends on failed' });
    }
  }

  /** SIGHUP: load and resolve the new config; if anything is wrong, keep the old one and say why. */
  private async reload(): Promise<void> {
    this.reloadRequested = false;
    this.log.info('reloading the config', { config: this.options.configPath });
    let loaded: LoadedConfig;
    let session: Session;
    try {
      loaded = await this.loadConfig();
      session = await this.openSession(loaded);
    } catch (error) {
      this.log.error('config reload failed; keeping the previous config', { error: this.redactor.redact((error as Error).message) });
      await this.notify({ STATUS: `config reload failed, previous config kept; ${this.summary()}` });
      return;
    }
    const previous = this.session;
    const oldDir = this.loaded.config.agent?.logDir ?? DEFAULT_LOG_DIR;
    this.loaded = loaded;
    this.session = session;
    await previous.close();
    this.log.setLevel(loaded.config.agent?.logLevel);
    this.tracker.policy = this.policy();
    this.status.intervalSeconds = this.intervalMs / 1000;
    if ((loaded.config.agent?.logDir ?? DEFAULT_LOG_DIR) !== oldDir) this.log.warn('agent.logDir changed: it takes effect when the agent restarts');
    for (const warning of loaded.warnings) this.log.warn(warning);
    this.log.info('config reloaded', { intervalSeconds: this.intervalMs / 1000, logLevel: loaded.config.agent?.logLevel ?? 'info' });
  }

  private summary(): string {
    const steps = Object.entries(this.tracker.snapshot());
    const bad = steps.filter(([, s]) => s.state !== 'ok').map(([id, s]) => `${id} ${s.state}`);
    const when = this.status.lastCycle ? `; last cycle ${this.status.lastCycle}` : '';
    return bad.length === 0 ? `healthy: ${steps.length} step(s) ok${when}` : `NOT healthy: ${bad.join(', ')}${when}`;
  }

  private async writeStatus(): Promise<void> {
    this.status.steps = this.tracker?.snapshot() ?? {};
    this.status.healthy = this.status.ready && this.tracker.healthy && !this.status.lastCycleSkipped;
    try {
      await writeAgentStatus(this.options.root, this.status);
    } catch (error) {
      this.log.warn('could not write the status file', { error: (error as Error).message });
    }
  }

  private notify(fields: Record<string, string | number>): Promise<void> {
    return this.notifier.notify(fields);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || this.reloadRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private installSignals(): void {
    const stop = (signal: NodeJS.Signals) => () => this.stop(signal);
    const handlers: [NodeJS.Signals, () => void][] = [
      ['SIGTERM', stop('SIGTERM')],
      ['SIGINT', stop('SIGINT')],
      ['SIGHUP', () => this.requestReload()],
    ];
    for (const [signal, handler] of handlers) process.on(signal, handler);
    this.cleanups.push(() => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    });
  }

  /**
   * Between cycles the agent only sleeps, and V8 lets old garbage pile up until its next major GC, which an
   * idle process reaches late: RSS creeps up by tens of MB. When the heap has grown by GC_SLACK since the last
   * collection, collect now: about every other cycle, a full GC of a heap of ~10 MB, which at the default 60 s
   * interval is nothing. 1 MB rather than 4 MB: on Node 22 (the release's) the agent ended a 600-cycle soak at
   * 58.7 MB instead of 61.9 MB, its anonymous memory flat (growth 0.06 % against 5 %), at the same CPU per cycle
   * (bench/agent-soak.mjs). Needs --expose-gc, which the unit sets in NODE_OPTIONS; without it V8 decides alone.
   */
  private collectGarbage(): void {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (typeof gc !== 'function') return;
    const used = getHeapStatistics().used_heap_size;
    if (this.heapAfterGc !== undefined && used < this.heapAfterGc + GC_SLACK) return;
    gc();
    this.heapAfterGc = getHeapStatistics().used_heap_size;
  }

  private heapAfterGc?: number;

  /** WATCHDOG=1 at half of WATCHDOG_USEC while cycles make progress; a stuck cycle stops the pings. */
  private startWatchdog(): void {
    const every = this.notifier.watchdogIntervalMs;
    if (!every) return;
    const stuckAfter = this.options.stuckAfterMs ?? 30 * 60_000;
    let warned = false;
    const timer = setInterval(() => {
      const running = this.cycleStartedAt === undefined ? 0 : this.now() - this.cycleStartedAt;
      if (running > stuckAfter) {
        if (!warned) this.log.error('a cycle has run for too long: watchdog pings stop so that systemd restarts the agent', { runningMs: running });
        warned = true;
        return;
      }
      warned = false;
      void this.notify({ WATCHDOG: 1 });
    }, every);
    timer.unref();
    this.cleanups.push(() => clearInterval(timer));
  }
}
