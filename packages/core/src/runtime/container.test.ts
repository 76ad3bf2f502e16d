import {
  ConfigError,
  ContainerRuntime,
  deferredStep,
  defineService,
  defineStep,
  loadStep,
  ok,
  Tokens,
  type ContainerRuntimeService,
  type LogFields,
} from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { nullLogger, type RunLogger } from '../logging/index.js';
import { resolvePlugins } from '../plugins/resolve.js';
import { loaded } from '../plugins/test-plugins.fixture.js';
import { buildContainer } from './container.js';

const crio: ContainerRuntimeService = { criEndpoint: 'unix:///var/run/crio/crio.sock', unit: 'crio.service', cgroupDriver: 'systemd' };

/** A logger that records each line with the fields of its child chain. */
function recordingLogger(lines: { message: string; fields: LogFields }[], fields: LogFields = {}): RunLogger {
  const log = (message: string, more?: LogFields) => lines.push({ message, fields: { ...fields, ...more } });
  return { debug: log, info: log, warn: log, error: log, child: (f) => recordingLogger(lines, { ...fields, ...f }), flush: async () => undefined };
}

/** The container of `plugins` for the test config; each step's Host is a MemoryHost's. */
function containerOf(plugins: Parameters<typeof resolvePlugins>[0], logger: RunLogger = nullLogger()) {
  const resolution = resolvePlugins(plugins, testConfig());
  const host = new MemoryHost();
  return buildContainer({ config: testConfig(), logger, resolution, steps: resolution.steps, hostFor: (id) => host.forStep(id) });
}

describe('the container: typed injection', () => {
  it("gives a step the chosen provider's service, by the names it injects", async () => {
    const seen: string[] = [];
    const kubelet = defineStep({
      id: 'kube.kubelet',
      title: 'k',
      after: [ContainerRuntime],
      inject: { host: Tokens.Host, runtime: ContainerRuntime, config: Tokens.Config },
      create: ({ host, runtime, config }) => {
        seen.push(host.root, runtime.unit, config.azure.tenantId);
        return { check: async () => ok(), install: async () => {}, uninstall: async () => {} };
      },
    });
    const runtime = loaded('@org/plugin-crio', 'user', [
      defineStep({
        id: 'crio.service',
        title: 'c',
        provides: [ContainerRuntime],
        create: () => ({ check: async () => ok(), install: async () => {}, uninstall: async () => {} }),
      }),
    ]);
    const withService = { ...runtime, definition: { ...runtime.definition, services: [defineService({ capability: ContainerRuntime, create: () => crio })] } };
    const { resolveStep } = containerOf([withService, loaded('@flexnode/plugin-kube', 'bundled', [kubelet])]);
    resolveStep('kube.kubelet');
    expect(seen).to.deep.equal(['/', 'crio.service', testConfig().azure.tenantId]);
  });

  it('names the dependency, the capability and the provider when a provider offers no service', () => {
    const kubelet = defineStep({
      id: 'kube.kubelet',
      title: 'k',
      inject: { runtime: ContainerRuntime },
      create: () => ({ check: async () => ok(), install: async () => {}, uninstall: async () => {} }),
    });
    const runtime = loaded('@org/plugin-half', 'user', [
      defineStep({
        id: 'half.service',
        title: 'h',
        provides: [ContainerRuntime],
        create: () => ({ check: async () => ok(), install: async () => {}, uninstall: async () => {} }),
      }),
    ]);
    const { resolveStep } = containerOf([runtime, loaded('@flexnode/plugin-kube', 'bundled', [kubelet])]);
    expect(() => resolveStep('kube.kubelet')).to.throw(
      /step kube\.kubelet of plugin @flexnode\/plugin-kube could not be created: step kube\.kubelet \(@flexnode\/plugin-kube\) injects "runtime" \(flexnode\.capability\.container-runtime\), but its provider @org\/plugin-half offers no "container-runtime" service/,
    );
  });

  it("a service whose factory throws is blamed on the service's plugin, not on the step that injects it", () => {
    const kubelet = defineStep({
      id: 'kube.kubelet',
      title: 'k',
      inject: { runtime: ContainerRuntime },
      create: () => ({ check: async () => ok(), install: async () => {}, uninstall: async () => {} }),
    });
    const provider = loaded('@org/plugin-broken', 'user', [
      defineStep({
        id: 'broken.rt',
        title: 'b',
        provides: [ContainerRuntime],
        create: () => ({ check: async () => ok(), install: async () => {}, uninstall: async () => {} }),
      }),
    ]);
    const withService = {
      ...provider,
      definition: {
        ...provider.definition,
        services: [
          defineService({
            capability: ContainerRuntime,
            create: (): ContainerRuntimeService => {
              throw new Error('no socket configured');
            },
          }),
        ],
      },
    };
    const { resolveStep } = containerOf([withService, loaded('@flexnode/plugin-kube', 'bundled', [kubelet])]);
    let error: (Error & { hint?: string }) | undefined;
    try {
      resolveStep('kube.kubelet');
    } catch (e) {
      error = e as Error & { hint?: string };
    }
    expect(error?.message).to.equal('service "container-runtime" of plugin @org/plugin-broken could not be created: no socket configured');
    expect(error?.hint).to.include('flexnode plugins uninstall @org/plugin-broken').and.not.include('plugin-kube');
  });

  it("reports a deferred step's failure to create its operations as a failure of create, at load and at its first operation", async () => {
    const step = defineStep({
      id: 'motd.banner',
      title: 'm',
      inject: { config: Tokens.Config },
      create: ({ config }) =>
        deferredStep(async () => {
          throw new ConfigError(`pluginConfig.motd is missing for tenant ${config.azure.tenantId}`, [{ path: 'pluginConfig.motd', message: 'missing' }]);
        }),
    });
    const { resolveStep } = containerOf([loaded('@org/plugin-motd', 'user', [step])]);
    const instance = resolveStep('motd.banner');
    for (const error of [await loadStep(instance).catch((e: unknown) => e), await instance.check().catch((e: unknown) => e)]) {
      expect(error).to.have.property('code', 'CONFIG_INVALID');
      expect((error as Error).message).to.match(/^step motd\.banner of plugin @org\/plugin-motd could not be created: pluginConfig\.motd is missing/);
      expect((error as { cause?: ConfigError }).cause?.issues).to.deep.equal([{ path: 'pluginConfig.motd', message: 'missing' }]);
    }
  });

  it('gives each step a Logger whose lines carry the step id', () => {
    const lines: { message: string; fields: LogFields }[] = [];
    const step = defineStep({
      id: 'motd.banner',
      title: 'm',
      inject: { log: Tokens.Logger },
      create: ({ log }) => {
        log.info('hello from the step');
        return { check: async () => ok(), install: async () => {}, uninstall: async () => {} };
      },
    });
    containerOf([loaded('@org/plugin-motd', 'user', [step])], recordingLogger(lines)).resolveStep('motd.banner');
    expect(lines).to.deep.equal([{ message: 'hello from the step', fields: { step: 'motd.banner' } }]);
  });
});
