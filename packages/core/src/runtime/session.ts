import {
  capabilityName,
  ConfigError,
  ExitCode,
  FlexnodeError,
  isFlexnodeError,
  NodeMaintenance,
  type Capability,
  type ConfigIssue,
  type FlexnodeConfig,
  type Host,
  type RunContext,
  type UpgradePlan,
} from '@flexnode/sdk';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIssues, loadConfig, type LoadedConfig } from '../config/index.js';
import { selectSteps, type StepGraph } from '../graph/index.js';
import { createRealHost } from '../host/index.js';
import { consoleLogger, createFileLogger, nullLogger, Redactor, type RunLogger } from '../logging/index.js';
import { resolveSteps, type GraphStep, type PluginSource, type Resolution, type StepsView } from '../plugins/index.js';
import { acquireLock, Journal, type Lock } from '../state/index.js';
import { buildContainer } from './container.js';
import type { PlannedChange, RunListener } from './events.js';
import { runBootstrap, runPlan, runStatus, type RunReport } from './executor.js';
import { loadStep, underRoot } from '@flexnode/sdk';
import { DEFAULT_LOG_DIR, LOCK_DIR, STATE_DIR } from './paths.js';
import { applyProxyEnvironment } from './proxy-environment.js';
import { registerConfigSecrets } from './secrets.js';
import { runUninstall } from './uninstall.js';
import { undoPlan, type StepUndo } from './undo-plan.js';
import { recoverUpgrade, runUpgrade, type UpgradeContext, type UpgradeOptions, type UpgradeReport } from './upgrade.js';
import { readUpgradeState, type UpgradeState } from '../state/upgrade-state.js';
import { planMirror } from '../mirror/plan.js';

export interface SessionOptions {
  /** The command, shown in the lock file and logs, and given to steps (`Tokens.Run`). */
  command: string;
  /** `--force` of the command (unbootstrap: go on past a drain that cannot finish), given to steps. */
  force?: boolean;
  config: LoadedConfig;
  root: string;
  sources: readonly PluginSource[];
  listener?: RunListener;
  signal?: AbortSignal;
  concurrency?: number;
  /** Restrict bootstrap, plan and status to these steps (ids, capabilities or plugins) and their dependencies. */
  only?: readonly string[];
  /** Log here instead of a file logger of the session's own (the agent keeps one logger across config reloads). */
  logger?: RunLogger;
  /** Redact with this one (config secrets are added to it); lets a long-lived caller share it with its logger. */
  redactor?: Redactor;
  /**
   * The run lock is held by this process's parent (the agent, whose worker child installs while the agent's
   * cycle holds the lock): it is checked to name the parent, never taken or released here.
   */
  lockHeldByParent?: boolean;
  /**
   * `--verbose`: every log line (the steps' own Logger lines included, debug too) also goes to stderr, and each
   * failure carries its stack. Without it the stack goes to the log file only.
   */
  verbose?: boolean;
  /** How long one step's check may take (default the executor's CHECK_TIMEOUT_MS; 0: no limit, the agent's). */
  checkTimeoutMs?: number;
  /** Where the config's proxy is applied for what reads it from the environment (proxy-environment.ts); default process.env. */
  environment?: NodeJS.ProcessEnv;
}

/** What one cycle of a long-lived caller (the agent) can do while it holds the lock; see {@link Session.cycle}. */
export interface SessionCycle {
  /** The journal as it is on disk now. */
  readonly journal: Journal;
  /** Converge every step (the first bootstrap, resumable). */
  bootstrap(): Promise<RunReport & { removed: RunReport['results']; recovered?: string }>;
  /**
   * Every check, read-only (a dry-run Host that reads the journal). The Host, its hash cache and the step
   * instances are made once per session and reused by every cycle's check; only the journal they read is new.
   */
  check(): Promise<RunReport>;
  /** Read the journal from disk again (after another process, the agent's worker, changed it). */
  reread(): Promise<Journal>;
  /** Re-run check and install of these steps and check their dependents (installing those that no longer pass). */
  heal(stepIds: readonly string[]): Promise<RunReport>;
  /** `flexnode upgrade`'s transaction (an interrupted one is recovered first). Open the session as `upgrade`. */
  upgrade(options?: UpgradeOptions): Promise<UpgradeReport>;
  /** Finish or roll back an upgrade a killed run left; what was done, or undefined. */
  recoverUpgrade(): Promise<string | undefined>;
}

/**
 * One run of flexnode against a machine: config, plugins, graph, Host, journal and lock wired together.
 * Commands call one of the run methods and then `close()`.
 */
export class Session {
  private lock?: Lock;
  private removeState = false;
  private disposers: (() => Promise<void>)[] = [];
  /** The check of {@link cycle}: one dry-run Host and container for the session, reading the current journal. */
  private checker?: { journal: { current: Journal }; input: ReturnType<Session['execInput']>; plan: PlannedChange[]; dispose(): Promise<void> };

  private constructor(
    readonly options: SessionOptions,
    readonly view: StepsView,
    readonly redactor: Redactor,
  ) {}

  static async open(options: SessionOptions): Promise<Session> {
    const redactor = options.redactor ?? new Redactor();
    await registerConfigSecrets(redactor, options.config.config, options.root);
    applyProxyEnvironment(options.config.config.proxy, options.environment);
    const view = await resolveSteps(options.sources, options.config.config);
    if (options.only?.length) selectSteps(view.graph, options.only); // bad names fail before anything is touched
    return new Session(options, view, redactor);
  }

  get config(): FlexnodeConfig {
    return this.options.config.config;
  }

  /** What steps are told of this run (`Tokens.Run`). */
  private get run(): RunContext {
    return { command: this.options.command, force: this.options.force ?? false };
  }

  private logger(): RunLogger {
    if (this.options.logger) return this.options.logger.child({ command: this.options.command });
    const logDir = underRoot(this.options.root, this.config.agent?.logDir ?? DEFAULT_LOG_DIR);
    const logger = createFileLogger({ logDir, level: this.config.agent?.logLevel, redactor: this.redactor, also: this.consoleLog() });
    this.disposers.push(async () => logger.flush());
    return logger.child({ command: this.options.command });
  }

  /**
   * The log lines on stderr: every line with --verbose, else warnings only (a Node left in the cluster,
   * roles not effective yet: what an operator must see without asking; failures are in the run's report). Read-only runs (plan, status), which
   * write no log file, log here only.
   */
  private consoleLog(): RunLogger {
    return consoleLogger((line) => process.stderr.write(line), this.redactor, {}, !this.options.verbose);
  }

  private readOnlyLog(): RunLogger {
    return this.consoleLog().child({ command: this.options.command });
  }

  /** The real Host of this session's root and config; the caller disposes of it. */
  private newHost(dryRun: boolean, journal: Journal | undefined, log: RunLogger, plan?: PlannedChange[]) {
    return createRealHost({
      root: this.options.root,
      dryRun,
      stateDir: STATE_DIR,
      journal,
      log,
      redact: (text: string) => this.redactor.redact(text),
      mirror: this.config.artifacts?.mirror,
      proxy: this.config.proxy,
      plan,
    });
  }

  /** A Host disposed of with this run (or this cycle). */
  private async host(dryRun: boolean, journal: Journal | undefined, log: RunLogger, plan?: PlannedChange[]) {
    const host = this.newHost(dryRun, journal, log, plan);
    this.disposers.push(() => host.dispose());
    return host;
  }

  private async exclusive(): Promise<{ journal: Journal; log: RunLogger }> {
    const log = this.logger();
    if (this.options.lockHeldByParent) await checkParentHoldsLock(underRoot(this.options.root, LOCK_DIR));
    else this.lock = await acquireLock(underRoot(this.options.root, LOCK_DIR), { command: this.options.command, log });
    const journal = await Journal.open(underRoot(this.options.root, STATE_DIR));
    return { journal, log };
  }

  /** The steps this run covers: all of them, or the `only` selection with its dependencies. */
  private get graph(): StepGraph<GraphStep> {
    return this.options.only?.length ? selectSteps(this.view.graph, this.options.only) : this.view.graph;
  }

  private execInput(hostFor: (id: string, plugin: string) => Host, log: RunLogger, config: FlexnodeConfig = this.config) {
    const { order: steps, dependencies } = this.graph;
    const { resolveStep } = buildContainer({
      config,
      logger: log,
      resolution: this.view.resolution,
      steps: steps.map((s) => s.resolved),
      hostFor,
      run: this.run,
    });
    return {
      steps,
      dependencies,
      resolveStep,
      logger: log,
      redact: (t: string) => this.redactor.redact(t),
      listener: this.options.listener,
      signal: this.options.signal,
      concurrency: this.options.concurrency,
      verbose: this.options.verbose,
      checkTimeoutMs: this.options.checkTimeoutMs,
    };
  }

  /**
   * Config problems only the plugins can see (their step factories validate `pluginConfig` and derived settings):
   * every step of the run is created once against a dry-run Host with no journal, before a lock, a journal or a
   * log exists. Only ConfigErrors count; any other failure is the run's to report, step by step.
   */
  async configIssues(): Promise<ConfigIssue[]> {
    const host = this.newHost(true, undefined, nullLogger(), []);
    const issues: ConfigIssue[] = [];
    try {
      const { resolveStep } = buildContainer({
        config: this.config,
        logger: nullLogger(),
        resolution: this.view.resolution,
        steps: this.graph.order.map((s) => s.resolved),
        hostFor: (id, plugin) => host.forStep(id, plugin),
        run: this.run,
      });
      for (const step of this.graph.order) {
        try {
          // A deferred step (the SDK's deferredStep) creates its real instance on load: its ConfigErrors count too.
          await loadStep(resolveStep(step.id));
        } catch (error) {
          if (!isFlexnodeError(error) || error.code !== 'CONFIG_INVALID') continue;
          const cause = (error as { cause?: unknown }).cause;
          const found = cause instanceof ConfigError || (isFlexnodeError(cause) && 'issues' in cause) ? (cause as ConfigError).issues : [];
          issues.push(...(found.length ? found : [{ path: '', message: error.message }]));
        }
      }
    } finally {
      await host.dispose();
    }
    const seen = new Set<string>();
    return issues.filter((i) => !seen.has(`${i.path}\0${i.message}`) && seen.add(`${i.path}\0${i.message}`));
  }

  /**
   * Journaled steps no longer chosen (another provider won, or their plugin is gone), which bootstrap undoes first.
   * The steps of a plugin that is installed but left out stay as they are until it is fixed or uninstalled:
   * a plugin that fails to load once must not have its work undone by the next bootstrap.
   */
  private orphans(journal: Journal): [string, { plugin: string }][] {
    const active = new Set(this.view.graph.order.map((s) => s.id));
    const leftOut = new Set(this.view.resolution.problems.map((p) => p.plugin));
    return journal.entries().filter(([id, entry]) => !active.has(id) && !leftOut.has(entry.plugin));
  }

  /** The config's `plugins` choices must name what is there before anything is planned or changed (exit 2). */
  private refuseConfigIssues(): void {
    const issues = this.view.resolution.configIssues;
    if (issues.length === 0) return;
    throw new ConfigError(
      `the config's plugin choices are wrong:\n${formatIssues(issues)}`,
      issues,
      'fix the "plugins" section of the config (flexnode config validate checks it); nothing was changed',
    );
  }

  /** Converge the machine: uninstall steps no longer chosen (another provider won), then install in order. */
  async bootstrap(): Promise<RunReport & { removed: RunReport['results']; recovered?: string }> {
    this.refuseConfigIssues();
    const issues = await this.configIssues();
    if (issues.length > 0)
      throw new ConfigError(`the config is invalid (${issues.length} problem${issues.length > 1 ? 's' : ''}):\n${formatIssues(issues)}`, issues);
    const { journal, log } = await this.exclusive();
    return this.bootstrapWith(journal, log);
  }

  private async bootstrapWith(journal: Journal, log: RunLogger): Promise<RunReport & { removed: RunReport['results']; recovered?: string }> {
    this.refuseConfigIssues();
    // An upgrade a killed run left is finished or rolled back before anything converges (the node back in service).
    const recovered = await recoverUpgrade(this.upgradeContext(journal, log));
    const host = await this.host(false, journal, log);
    const input = this.execInput((id, plugin) => host.forStep(id, plugin), log);
    const orphans = new Set(this.orphans(journal).map(([id]) => id));
    let removed: RunReport['results'] = [];
    if (orphans.size > 0) {
      const cleanup = await this.uninstallWith(journal, log, host.forStep.bind(host), orphans);
      removed = cleanup.results;
      if (!cleanup.ok) return { ok: false, results: [], removed, ...(recovered ? { recovered } : {}) };
    }
    const report = await runBootstrap({ ...input, journal });
    return { ...report, removed, activity: host.activity(), ...(recovered ? { recovered } : {}) };
  }

  /**
   * `flexnode upgrade` (see runUpgrade): under the lock, a killed upgrade finished or rolled back first. A dry run
   * takes no lock and changes nothing: it plans from the journal as it is.
   */
  async upgrade(options: UpgradeOptions = {}): Promise<UpgradeReport> {
    this.refuseConfigIssues();
    const journal = await Journal.read(underRoot(this.options.root, STATE_DIR));
    const readOnly = this.upgradeContext(journal, this.readOnlyLog(), true);
    if (options.dryRun) return runUpgrade(readOnly, options);
    // Bad input (a --to the cluster does not support, a node that never joined) is refused before the lock, the
    // journal or a log is touched: nothing is written.
    await readOnly.maintenance(this.config).upgradePlan(options.to);
    const { journal: open, log } = await this.exclusive();
    return runUpgrade(this.upgradeContext(open, log), options);
  }

  /**
   * What an upgrade would do now (read-only, no lock): undefined when no plugin provides node maintenance or the
   * node cannot say (not joined, the API server unreachable: logged). For the agent's automatic upgrades.
   */
  async upgradePlan(): Promise<UpgradePlan | undefined> {
    const journal = await Journal.read(underRoot(this.options.root, STATE_DIR));
    const log = this.readOnlyLog();
    try {
      return await this.upgradeContext(journal, log, true).maintenance(this.config).upgradePlan();
    } catch (error) {
      (this.options.logger ?? log).debug('no upgrade plan', { error: this.redactor.redact(error instanceof Error ? error.message : String(error)) });
      return undefined;
    }
  }

  /** An upgrade a killed run left, as status reports it (read-only). */
  async interruptedUpgrade(): Promise<UpgradeState | undefined> {
    return readUpgradeState(underRoot(this.options.root, STATE_DIR));
  }

  /** A capability's service for a run under `config` (the chosen provider's), or an error naming what is missing. */
  private service<T>(capability: Capability<T>, config: FlexnodeConfig, log: RunLogger, hostFor: (id: string, plugin: string) => Host): T {
    const { container } = buildContainer({ config, logger: log, resolution: this.view.resolution, steps: [], hostFor, run: this.run });
    if (!container.isRegistered(capability, true)) {
      throw new FlexnodeError('NO_PROVIDER', `no plugin provides "${capabilityName(capability)}", which this command needs`, {
        hint: 'flexnode steps lists the providers; the bundled @flexnode/plugin-kube provides it',
      });
    }
    return container.resolve(capability);
  }

  /** What an upgrade needs of this session: its journal and log, Hosts, plans and runs under another config. */
  private upgradeContext(journal: Journal | undefined, log: RunLogger, dryRun = false): UpgradeContext {
    let real: ReturnType<Session['newHost']> | undefined;
    let dry: ReturnType<Session['newHost']> | undefined;
    const hostOf = (mutating: boolean) => {
      if (mutating && !dryRun) {
        if (!real) this.disposers.push(() => real!.dispose());
        return (real ??= this.newHost(false, journal, log));
      }
      if (!dry) this.disposers.push(() => dry!.dispose());
      return (dry ??= this.newHost(true, journal, log, []));
    };
    return {
      root: this.options.root,
      stateDir: underRoot(this.options.root, STATE_DIR),
      journal,
      log,
      config: this.config,
      maintenance: (config) => this.service(NodeMaintenance, config, log, (id, plugin) => hostOf(!dryRun).forStep(id, plugin)),
      plan: async (config) => {
        const planned: PlannedChange[] = [];
        const host = await this.host(true, journal, log, planned);
        const report = await runPlan({ ...this.execInput((id, plugin) => host.forStep(id, plugin), log, config), planned });
        return { ...report, changes: planned };
      },
      prefetch: async (config, stepIds) => {
        const host = hostOf(true).forStep('upgrade.prefetch', '@flexnode/core');
        const ids = new Set(stepIds);
        for (const { artifact } of await planMirror(
          this.view.resolution.steps.filter((s) => ids.has(s.definition.id)),
          config,
          [host.arch],
        )) {
          const sha256 =
            artifact.sha256 ??
            (await host.downloads.checksum({
              name: artifact.name,
              url: artifact.sha256Url!,
              mirrorPath: artifact.sha256MirrorPath ?? `${artifact.mirrorPath}.sha256`,
            }));
          await host.downloads.fetch({ name: artifact.name, url: artifact.url, mirrorPath: artifact.mirrorPath, sha256 });
          log.info(`downloaded and verified ${artifact.name}`);
        }
      },
      converge: async (config) => {
        const host = hostOf(true);
        return runBootstrap({ ...this.execInput((id, plugin) => host.forStep(id, plugin), log, config), journal: journal! });
      },
      withDependents: (ids) => {
        const { order, dependencies } = this.graph;
        const wanted = withDependents(ids, order, dependencies);
        return order.map((s) => s.id).filter((id) => wanted.has(id));
      },
      hostFor: (id, plugin) => hostOf(true).forStep(id, plugin),
    };
  }

  /** The dry run: every check, and the changes each needed install would make. */
  async plan(): Promise<RunReport & { changes: PlannedChange[] }> {
    this.refuseConfigIssues();
    const planned: PlannedChange[] = [];
    // Read, never locked: checks that read their own journal records see them, as in status.
    const journal = await Journal.read(underRoot(this.options.root, STATE_DIR));
    const log = this.readOnlyLog();
    const host = await this.host(true, journal, log, planned);
    const report = await runPlan({ ...this.execInput((id, plugin) => host.forStep(id, plugin), log), planned });
    // What bootstrap will undo first: journaled steps no longer chosen (another provider won, or the plugin is gone).
    const orphans = journal ? this.orphans(journal) : [];
    const removals: PlannedChange[] = orphans.map(([id, entry]) => ({
      step: id,
      action: 'uninstall',
      target: `step ${id} of ${entry.plugin}`,
      detail: 'no longer chosen: bootstrap undoes its journaled changes first',
    }));
    return { ...report, changes: [...removals, ...planned] };
  }

  /**
   * Every check, read-only. Steps whose check reads their own journal records see them (read, never locked). The
   * node is not healthy while a plugin is left out or the config's plugin choices are wrong, whatever the checks say.
   */
  async status(): Promise<RunReport & Pick<Resolution, 'problems' | 'configIssues'> & { upgrade?: UpgradeState }> {
    const journal = await Journal.read(underRoot(this.options.root, STATE_DIR));
    const log = this.readOnlyLog();
    const host = await this.host(true, journal, log, []);
    const report = await runStatus(this.execInput((id, plugin) => host.forStep(id, plugin), log));
    const { problems, configIssues } = this.view.resolution;
    // An upgrade in progress, or one a killed run left: the node is out of service until it is finished.
    const upgrade = await this.interruptedUpgrade();
    return {
      ...report,
      ok: report.ok && problems.length === 0 && configIssues.length === 0 && !upgrade,
      problems,
      configIssues,
      ...(upgrade ? { upgrade } : {}),
    };
  }

  /**
   * One cycle of a long-lived caller (the agent, which keeps this session and its resolved plugins across
   * cycles): take the lock, read the journal fresh from disk (a run by hand may have changed it between
   * cycles), run `fn`, then release the lock and the cycle's Hosts. The check's dry-run Host and step instances
   * live as long as the session (their caches, such as file hashes by stat identity, stay warm; nothing is
   * rebuilt per cycle); they read the journal of the current cycle. Throws LOCKED when another run holds the lock.
   */
  async cycle<T>(fn: (run: SessionCycle) => Promise<T>): Promise<T> {
    const outer = this.disposers;
    this.disposers = [];
    try {
      const { journal: opened, log } = await this.exclusive();
      let journal = opened;
      return await fn({
        get journal() {
          return journal;
        },
        bootstrap: () => this.bootstrapWith(journal, log),
        check: async () => {
          const checker = await this.checkerFor(journal);
          checker.plan.length = 0; // checks plan nothing; never let it grow across cycles
          return runStatus(checker.input);
        },
        heal: async (stepIds) => {
          const host = await this.host(false, journal, log);
          const input = this.execInput((id, plugin) => host.forStep(id, plugin), log);
          const wanted = withDependents(stepIds, input.steps, input.dependencies);
          const steps = input.steps.filter((s) => wanted.has(s.id));
          const dependencies = new Map(steps.map((s) => [s.id, (input.dependencies.get(s.id) ?? []).filter((d) => wanted.has(d))]));
          return runBootstrap({ ...input, steps, dependencies, journal });
        },
        reread: async () => (journal = await Journal.open(underRoot(this.options.root, STATE_DIR))),
        upgrade: (options = {}) => runUpgrade(this.upgradeContext(journal, log), options),
        recoverUpgrade: () => recoverUpgrade(this.upgradeContext(journal, log)),
      });
    } finally {
      const mine = this.disposers;
      this.disposers = outer;
      for (const dispose of mine.reverse()) await dispose().catch(() => undefined);
      await this.lock?.release();
      this.lock = undefined;
    }
  }

  private async checkerFor(journal: Journal): Promise<NonNullable<Session['checker']>> {
    if (this.checker) {
      this.checker.journal.current = journal;
      return this.checker;
    }
    const ref = { current: journal };
    // The Host keeps the journal it was made with: give it a view that always reads the current cycle's one.
    const view = new Proxy({} as Journal, {
      get: (_target, key) => {
        const value = Reflect.get(ref.current, key, ref.current) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(ref.current) : value;
      },
    });
    const plan: PlannedChange[] = [];
    const host = this.newHost(true, view, nullLogger(), plan); // lives as long as the session: disposed in close()
    const input = this.execInput((id, plugin) => host.forStep(id, plugin), nullLogger());
    this.checker = { journal: ref, input, plan, dispose: () => host.dispose() };
    return this.checker;
  }

  /**
   * What unbootstrap would undo, from the journal alone (unbootstrap --dry-run): no lock, nothing changed, no step's
   * code run (a step's uninstall may call Azure or the API server, which a preview must not).
   */
  async unbootstrapPlan(): Promise<StepUndo[]> {
    const journal = await Journal.read(underRoot(this.options.root, STATE_DIR));
    return journal ? undoPlan(journal) : [];
  }

  /** Remove everything the journal says flexnode did, newest first. */
  async unbootstrap(): Promise<{ ok: boolean; results: RunReport['results'] }> {
    const { journal, log } = await this.exclusive();
    const host = await this.host(false, journal, log);
    const result = await this.uninstallWith(journal, log, host.forStep.bind(host));
    // Nothing left to undo: flexnode's own state goes too, so the machine is as it was (logs aside).
    this.removeState = result.ok && journal.entries().length === 0;
    return result;
  }

  private async uninstallWith(journal: Journal, log: RunLogger, hostFor: (id: string, plugin: string) => Host, only?: ReadonlySet<string>) {
    // Orphans may belong to providers that lost a capability: their code is still loaded, use it.
    const known = [...this.view.graph.order.map((s) => s.resolved), ...this.view.resolution.skipped];
    const byId = new Map(known.map((r) => [r.definition.id, r]));
    const { resolveStep } = buildContainer({ config: this.config, logger: log, resolution: this.view.resolution, steps: known, hostFor, run: this.run });
    return runUninstall({
      journal,
      only,
      instanceOf: (id) => (byId.has(id) ? resolveStep(id) : undefined),
      hostFor,
      titleOf: (id) => byId.get(id)?.definition.title ?? id,
      logger: log,
      redact: (t) => this.redactor.redact(t),
      listener: this.options.listener,
      verbose: this.options.verbose,
      dependenciesOf: (id) => this.view.graph.dependencies.get(id) ?? [],
    });
  }

  async close(): Promise<void> {
    await this.checker?.dispose().catch(() => undefined);
    this.checker = undefined;
    for (const dispose of this.disposers.reverse()) await dispose().catch(() => undefined);
    if (this.removeState) await removeTree(underRoot(this.options.root, STATE_DIR));
    await this.lock?.release();
    // The lock's directory is ours too (on a real node it lives on tmpfs anyway).
    if (this.lock) await rmdir(underRoot(this.options.root, LOCK_DIR)).catch(() => undefined);
  }
}

/** The given steps and every step that depends on them, directly or not. */
function withDependents(ids: readonly string[], steps: readonly { id: string }[], dependencies: ReadonlyMap<string, readonly string[]>): Set<string> {
  const wanted = new Set(ids);
  // Steps come in dependency order, so one pass sees every dependency before its dependents.
  for (const { id } of steps) if ((dependencies.get(id) ?? []).some((d) => wanted.has(d))) wanted.add(id);
  return wanted;
}

export { loadConfig };

/** A worker of the agent runs under its parent's lock: make sure the lock file names the parent. */
async function checkParentHoldsLock(lockDir: string): Promise<void> {
  const text = await readFile(join(lockDir, 'flexnode.lock'), 'utf8').catch(() => '');
  let pid: unknown;
  try {
    pid = (JSON.parse(text) as { pid?: unknown }).pid;
  } catch {
    // no lock, or an unreadable one: not held by the parent
  }
  if (pid !== process.ppid) {
    throw new FlexnodeError('LOCKED', `the run lock in ${lockDir} is not held by this worker's parent (pid ${process.ppid})`, {
      exitCode: ExitCode.Locked,
      hint: "the agent's worker runs only while the agent holds the lock",
    });
  }
}

/** Remove a directory tree; when it is a mount point (EBUSY), empty it and leave the mount point. */
async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
    for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
  }
}
