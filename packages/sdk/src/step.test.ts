import { expect } from 'chai';
import { capabilityName, defineCapability, isCapability } from './capability.js';
import { ContainerRuntime, type ContainerRuntimeService } from './capabilities.js';
import type { Host } from './host.js';
import { defineService } from './plugin.js';
import { defineStep, instantiate, ok, type StepInstance } from './step.js';
import { Tokens } from './tokens.js';

const noop: StepInstance = { check: async () => ok(), install: async () => undefined, uninstall: async () => undefined };

describe('@flexnode/sdk: typed injection and capabilities', () => {
  it('gives create the injected values by name', () => {
    const seen: unknown[] = [];
    const step = defineStep({
      id: 'test.typed',
      title: 'typed',
      inject: { host: Tokens.Host, runtime: ContainerRuntime },
      create: ({ host, runtime }) => {
        seen.push(host.root, runtime.criEndpoint);
        return noop;
      },
    });
    const values = new Map<symbol, unknown>([
      [Tokens.Host, { root: '/sandbox' }],
      [ContainerRuntime, { criEndpoint: 'unix:///run/x.sock', unit: 'x.service', cgroupDriver: 'systemd' }],
    ]);
    instantiate(step, (t) => values.get(t));
    expect(seen).to.deep.equal(['/sandbox', 'unix:///run/x.sock']);
  });

  it('still runs the positional form of plugin API version 1', () => {
    const step = defineStep({
      id: 'test.legacy',
      title: 'legacy',
      inject: [Tokens.Config, Tokens.Host],
      create: (config: { name: string }, host: Host) => {
        expect(config.name).to.equal('cfg');
        expect(host.root).to.equal('/r');
        return noop;
      },
    });
    const values = new Map<symbol, unknown>([
      [Tokens.Config, { name: 'cfg' }],
      [Tokens.Host, { root: '/r' }],
    ]);
    expect(instantiate(step, (t) => values.get(t))).to.equal(noop);
  });

  it('passes the name of each dependency to the resolver (for error messages)', () => {
    const asked: string[] = [];
    instantiate(defineStep({ id: 'test.names', title: 'n', inject: { a: Tokens.Host, b: Tokens.Logger }, create: () => noop }), (_t, name) => asked.push(name));
    expect(asked).to.deep.equal(['a', 'b']);
  });

  it('refuses an inject that holds something other than tokens', () => {
    expect(() => defineStep({ id: 'test.bad', title: 'b', inject: { host: 'flexnode.host' } as never, create: () => noop })).to.throw(
      /inject must be an object of tokens/,
    );
  });

  it('a capability is one token in every copy of the SDK, named by its declaration', () => {
    const again = defineCapability<ContainerRuntimeService>('container-runtime');
    expect(again).to.equal(ContainerRuntime);
    expect(capabilityName(ContainerRuntime)).to.equal('container-runtime');
    expect(capabilityName('cni')).to.equal('cni');
    expect(isCapability(ContainerRuntime)).to.equal(true);
    expect(isCapability(Tokens.Host)).to.equal(false);
    expect(() => capabilityName(Tokens.Host as never)).to.throw(/not a capability token/);
    expect(() => defineCapability('Bad Name')).to.throw(/lowercase words/);
  });

  it('a service is typed by its capability', () => {
    const service = defineService({
      capability: ContainerRuntime,
      inject: { config: Tokens.Config },
      create: () => ({ criEndpoint: 'unix:///run/c.sock', unit: 'c.service', cgroupDriver: 'systemd' as const }),
    });
    expect(instantiate(service, () => ({})).unit).to.equal('c.service');
  });
});

// Compile-time checks: these lines must NOT compile (tsc -b fails the build if one does).
export const compileChecks = [
  defineStep({
    id: 'test.wrong-type',
    title: 'w',
    inject: { runtime: ContainerRuntime },
    // @ts-expect-error criSocket is not a field of the container-runtime service
    create: ({ runtime }) => (runtime.criSocket ? noop : noop),
  }),
  defineStep({
    id: 'test.not-injected',
    title: 'w',
    inject: { host: Tokens.Host },
    // @ts-expect-error config was not injected
    create: ({ config }) => (config ? noop : noop),
  }),
  defineService({
    capability: ContainerRuntime,
    // @ts-expect-error a container-runtime service must say its unit and cgroup driver
    create: () => ({ criEndpoint: 'unix:///x' }),
  }),
];
