import type { FlexnodeConfig } from '../config.js';
import { instantiate, type AnyStepDefinition, type CheckResult, type StepInstance } from '../step.js';
import { Tokens, type RunContext } from '../tokens.js';
import { MemoryHost, type MemorySnapshot, type RecordedOp } from './memory-host.js';
import { typicalServices } from './typical-services.js';

/**
 * What a step needs besides the Host: the config and any capability services (token → value). The container
 * runtime's and the pod network's services default to a typical node's ({@link typicalServices}).
 */
export interface StepDeps {
  config: FlexnodeConfig;
  services?: ReadonlyMap<symbol, unknown>;
  /** The run the step is created for (`Tokens.Run`); default a bootstrap without `--force`. */
  run?: Partial<RunContext>;
}

/** Build a step's operations the way core does, resolving its `inject` tokens (object or legacy array form). */
export function createStep(step: AnyStepDefinition, host: MemoryHost, deps: StepDeps): StepInstance {
  const view = host.forStep(step.id);
  return instantiate(step, (token, name) => {
    if (token === Tokens.Host) return view;
    if (token === Tokens.Config) return deps.config;
    if (token === Tokens.Logger) return view.log;
    if (token === Tokens.Run) return { command: 'bootstrap', force: false, ...deps.run };
    if (deps.services?.has(token)) return deps.services.get(token);
    const typical = typicalServices(deps.config);
    if (typical.has(token)) return typical.get(token);
    throw new Error(`step ${step.id} injects ${name}: ${String(token.description)}, which the test did not provide in services`);
  });
}

/** What {@link runStepCycle} observed, for further assertions. */
export interface CycleReport {
  /** check results before install, by step id. */
  initial: Record<string, CheckResult>;
  /** Machine mutations made by the first install, in order. */
  installOps: RecordedOp[];
  /** The machine after install. */
  installed: MemorySnapshot;
  /** The machine before install (and, as asserted, after uninstall). */
  pristine: MemorySnapshot;
}

/** A failed expectation of the cycle; the message says which step and what happened. */
export class CycleAssertionError extends Error {
  override name = 'CycleAssertionError';
}

/**
 * Run the steps' whole life on a MemoryHost and assert the contract: check changes nothing; install makes
 * check ok; a second install pass changes nothing; uninstall (in reverse order) restores the machine exactly
 * (kernel modules it loaded excepted: they stay loaded, as on a real machine).
 * Steps run in the order given (their `after` order). Returns what it saw.
 */
export async function runStepCycle(steps: AnyStepDefinition | readonly AnyStepDefinition[], deps: StepDeps & { host?: MemoryHost }): Promise<CycleReport> {
  const list = Array.isArray(steps) ? (steps as readonly AnyStepDefinition[]) : [steps as AnyStepDefinition];
  const host = deps.host ?? new MemoryHost();
  const pristine = host.snapshot();
  const instances = list.map((s) => [s, createStep(s, host, deps)] as const);
  const initial: Record<string, CheckResult> = {};

  for (const [step, inst] of instances) {
    initial[step.id] = await readOnly(host, step.id, 'check', () => inst.check());
  }
  const start = host.ops.length;
  for (const [step, inst] of instances) {
    if ((await inst.check()).status !== 'ok') await inst.install();
    const after = await readOnly(host, step.id, 'check after install', () => inst.check());
    if (after.status !== 'ok') throw new CycleAssertionError(`${step.id}: check after install is ${after.status}: ${after.reason}`);
  }
  const installOps = host.ops.slice(start);
  const installed = host.snapshot();

  for (const [step, inst] of instances) {
    const again = await readOnly(host, step.id, 'second check', () => inst.check());
    if (again.status !== 'ok') throw new CycleAssertionError(`${step.id}: second check is ${again.status}: ${again.reason}`);
    const before = host.ops.length;
    await inst.install();
    const extra = host.ops.slice(before).filter((op) => !isHarmless(op));
    if (extra.length > 0) {
      throw new CycleAssertionError(`${step.id}: install on an installed machine changed it: ${describe(extra)}`);
    }
  }
  for (const [, inst] of [...instances].reverse()) await inst.uninstall();
  // Kernel modules flexnode loaded stay loaded (as on a real machine); everything else must be as it was.
  const after = { ...host.snapshot(), modules: pristine.modules };
  const diff = diffSnapshots(pristine, after);
  if (diff.length > 0) throw new CycleAssertionError(`uninstall did not restore the machine: ${diff.join('; ')}`);
  return { initial, installOps, installed, pristine };
}

/** Differences between two snapshots, one readable line each. */
export function diffSnapshots(a: MemorySnapshot, b: MemorySnapshot): string[] {
  const out: string[] = [];
  const keys = Object.keys(a) as (keyof MemorySnapshot)[];
  for (const key of keys) {
    const left = JSON.stringify(a[key]);
    const right = JSON.stringify(b[key]);
    if (left !== right) out.push(`${key}: ${left} → ${right}`);
  }
  return out;
}

async function readOnly<T>(host: MemoryHost, stepId: string, what: string, fn: () => Promise<T>): Promise<T> {
  const before = host.ops.length;
  const result = await fn();
  const ops = host.ops.slice(before);
  if (ops.length > 0) throw new CycleAssertionError(`${stepId}: ${what} changed the machine: ${describe(ops)}`);
  return result;
}

// A daemon-reload on an unchanged machine is idempotent; everything else counts as a change.
const isHarmless = (op: RecordedOp) => op.op === 'daemon-reload';
const describe = (ops: RecordedOp[]) => ops.map((o) => `${o.op} ${o.target}`).join(', ');
