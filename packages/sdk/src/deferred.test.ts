import { expect } from 'chai';
import { deferredStep, loadStep } from './deferred.js';
import { ConfigError } from './errors.js';
import { missing, ok, type StepInstance } from './step.js';

describe('@flexnode/sdk: deferredStep', () => {
  it('loads the operations once, on the first call, and forwards every operation to them', async () => {
    let loads = 0;
    const calls: string[] = [];
    const step = deferredStep(async () => {
      loads += 1;
      return {
        check: async () => (calls.push('check'), calls.length > 1 ? ok() : missing('not yet')),
        install: async () => void calls.push('install'),
        uninstall: async () => void calls.push('uninstall'),
      } satisfies StepInstance;
    });
    expect(loads).to.equal(0);
    expect(await step.check()).to.deep.equal(missing('not yet'));
    await step.install();
    expect(await step.check()).to.deep.equal(ok());
    await step.uninstall();
    expect(loads).to.equal(1);
    expect(calls).to.deep.equal(['check', 'install', 'check', 'uninstall']);
  });

  it('loadStep surfaces an error of creating the real instance before any operation runs', async () => {
    let checked = false;
    const step = deferredStep(async () => {
      throw new ConfigError('pluginConfig.x is invalid', [{ path: 'pluginConfig.x', message: 'bad' }]);
    });
    const error = await loadStep(step).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).issues).to.deep.equal([{ path: 'pluginConfig.x', message: 'bad' }]);
    // The same failure again, not a second load: an operation after it fails the same way.
    expect(
      await step
        .check()
        .then(() => (checked = true))
        .catch((e: Error) => e.message),
    ).to.equal('pluginConfig.x is invalid');
    expect(checked).to.equal(false);
  });

  it('loadStep does nothing to an ordinary instance', async () => {
    const plain: StepInstance = { check: async () => ok(), install: async () => undefined, uninstall: async () => undefined };
    await loadStep(plain);
    expect(await plain.check()).to.deep.equal(ok());
  });
});
