import 'reflect-metadata';
import {
  FlexnodeError,
  Tokens,
  type RunContext,
  capabilityName,
  defineCapability,
  instantiate,
  isCapability,
  isFlexnodeError,
  type FlexnodeConfig,
  type Host,
  type StepInstance,
  type DeferredStepInstance,
  deferredStep,
  LOAD_STEP,
} from '@flexnode/sdk';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { ResolvedStep, Resolution } from '../plugins/index.js';
import { serviceCapability } from '../plugins/normalize.js';
import type { RunLogger } from '../logging/index.js';

/** The token a step's instance is registered under. */
export const stepToken = (id: string) => Symbol.for(`flexnode.step.${id}`);

export interface ContainerInput {
  config: FlexnodeConfig;
  logger: RunLogger;
  resolution: Pick<Resolution, 'services'> & Partial<Pick<Resolution, 'capabilities'>>;
  /** Steps whose instances can be resolved (active ones, and orphans that still have code). */
  steps: readonly ResolvedStep[];
  /** The Host a given step sees (journaled under its id). */
  hostFor: (stepId: string, plugin: string) => Host;
  /** The command and its options (`Tokens.Run`); default a bootstrap without `--force`. */
  run?: RunContext;
}

/**
 * Register config, logger, the chosen providers' services and every step with tsyringe, through factories:
 * plugins carry their own SDK copy, so decorator metadata would not survive the plugin boundary, but
 * `Symbol.for` tokens do. Each step gets a child container whose Host is journaled under the step's id.
 */
export function buildContainer(input: ContainerInput): { resolveStep(id: string): StepInstance; container: DependencyContainer } {
  const container = rootContainer.createChildContainer();
  container.register(Tokens.Config, { useValue: input.config });
  container.register(Tokens.Logger, { useValue: input.logger });
  container.register(Tokens.Run, { useValue: Object.freeze({ command: 'bootstrap', force: false, ...input.run }) });
  for (const { definition, plugin } of input.resolution.services) {
    const capability = serviceCapability(definition);
    container.register(defineCapability(capability), {
      useFactory: instanceCachingFactory((c) => {
        // A service reads the machine through a Host of its own; it is not a step, so it journals nothing.
        const scoped = c.createChildContainer();
        scoped.register(Tokens.Host, { useValue: input.hostFor(`service.${capability}`, plugin.name) });
        const what = `service "${capability}"`;
        return created(what, plugin.name, () => instantiate(definition, (token, name) => resolveIn(scoped, token, name, what, plugin.name, input)));
      }),
    });
  }
  for (const { definition, plugin } of input.steps) {
    container.register(stepToken(definition.id), {
      useFactory: instanceCachingFactory((c) => {
        const scoped = c.createChildContainer();
        scoped.register(Tokens.Host, { useValue: input.hostFor(definition.id, plugin.name) });
        // The step's own Logger: its lines carry the step id, as the SDK promises.
        scoped.register(Tokens.Logger, { useValue: input.logger.child({ step: definition.id }) });
        const what = `step ${definition.id}`;
        const step = created(what, plugin.name, () => {
          const instance = instantiate(definition, (token, name) => resolveIn(scoped, token, name, what, plugin.name, input)) as
            Partial<StepInstance> | undefined;
          for (const op of ['check', 'install', 'uninstall'] as const) {
            if (typeof instance?.[op] !== 'function') throw new TypeError(`its create() returned no ${op}() function`);
          }
          return instance as StepInstance;
        });
        return deferredCreation(what, plugin.name, step);
      }),
    });
  }
  return { resolveStep: (id) => container.resolve<StepInstance>(stepToken(id)), container };
}

/** Resolve one injected token, or say exactly what is missing: which dependency, which capability, whose service. */
function resolveIn(scoped: DependencyContainer, token: symbol, name: string, what: string, plugin: string, input: ContainerInput): unknown {
  if (scoped.isRegistered(token, true)) return scoped.resolve(token);
  const dependency = /^\d+$/.test(name) ? `${String(token.description)}` : `"${name}" (${String(token.description)})`;
  if (isCapability(token)) {
    const capability = capabilityName(token);
    const provider = input.resolution.capabilities?.find((c) => c.capability === capability)?.provider;
    const why = provider ? `its provider ${provider} offers no "${capability}" service` : `no plugin provides "${capability}"`;
    throw new Error(`${what} (${plugin}) injects ${dependency}, but ${why}`);
  }
  throw new Error(`${what} (${plugin}) injects ${dependency}, which nothing provides`);
}

/**
 * A step made with the SDK's deferredStep creates its real instance when first used: a failure there is reported
 * as a failure of `create` is (see {@link created}), whichever operation or core's load met it first.
 */
function deferredCreation(what: string, plugin: string, step: StepInstance): StepInstance {
  const load = (step as Partial<DeferredStepInstance>)[LOAD_STEP];
  if (typeof load !== 'function') return step;
  return deferredStep(async () => {
    await load.call(step).catch((error: unknown) =>
      created(what, plugin, () => {
        throw error;
      }),
    );
    return step;
  });
}

/**
 * Run a plugin's factory. Plugin code is not trusted to work: a factory that throws fails only what it builds
 * (the executor reports that step as failed and carries on with the steps that do not depend on it), with the
 * plugin's name in the message. A FlexnodeError the factory threw on purpose keeps its code.
 */
function created<T>(what: string, plugin: string, create: () => T): T {
  try {
    return create();
  } catch (error) {
    // A service this step injects failed to be created: that service's plugin is the one to name, not this one.
    if (error instanceof FlexnodeError && blamed.has(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const failure = new FlexnodeError(
      isFlexnodeError(error) ? error.code : 'PLUGIN_CREATE_FAILED',
      `${what} of plugin ${plugin} could not be created: ${reason}`,
      {
        hint: `the plugin ${plugin} is broken or misconfigured: fix its settings, update it, or remove it (flexnode plugins uninstall ${plugin})`,
        cause: error,
      },
    );
    blamed.add(failure);
    throw failure;
  }
}

/** Failures {@link created} has already put on the plugin at fault. */
const blamed = new WeakSet<FlexnodeError>();
