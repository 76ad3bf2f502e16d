import type { StepInstance } from './step.js';

/**
 * What core calls on a step instance before a run changes anything (see {@link deferredStep}): a `Symbol.for` key,
 * so it works across the SDK copies plugins carry.
 */
export const LOAD_STEP = Symbol.for('flexnode.step.load');

/** A step instance made by {@link deferredStep}: its operations, and the load core awaits before a run. */
export interface DeferredStepInstance extends StepInstance {
  [LOAD_STEP](): Promise<void>;
}

/**
 * A step's operations from a module imported the first time one of them runs, so that the module a plugin's
 * `flexnode.plugin` entry names, which every command imports (`flexnode steps` included), holds its step
 * definitions only:
 *
 * ```ts
 * create: (deps) => deferredStep(async () => (await import('./impl.js')).createCniPlugins(deps)),
 * ```
 *
 * `load` runs once. Core awaits it for every step of a run before anything changes (as it creates every step
 * first), so a `ConfigError` thrown while creating the real instance stops the run before its first change, as one
 * thrown by `create` itself does.
 */
export function deferredStep(load: () => Promise<StepInstance>): DeferredStepInstance {
  let instance: Promise<StepInstance> | undefined;
  const loaded = () => (instance ??= load());
  return {
    check: async () => (await loaded()).check(),
    install: async () => (await loaded()).install(),
    uninstall: async () => (await loaded()).uninstall(),
    [LOAD_STEP]: async () => {
      await loaded();
    },
  };
}

/** Load a step instance's deferred operations, if it has any (what core does before a run). */
export async function loadStep(instance: StepInstance): Promise<void> {
  const load = (instance as Partial<DeferredStepInstance>)[LOAD_STEP];
  if (typeof load === 'function') await load.call(instance);
}
