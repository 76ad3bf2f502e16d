import { expect } from 'chai';
import { ConfigError, PodCidrErrors } from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { fakeAzure, fakeIdentity } from './fixtures.test.helpers.js';
import type { MaintenanceOptions } from './maintenance/service.js';
import { createMaintenanceService, nodeMaintenanceService, podCidrService } from './services.js';

const deps = (config = testConfig()) => ({ host: new MemoryHost().forStep('service.test'), config, identity: fakeIdentity, azure: fakeAzure });

describe("plugin-kube's services: their capability at once, the real service (impl.ts) on the first call", () => {
  it('pod-cidr answers with the real service: cni.podCIDR, else its error as it made it', async () => {
    expect(await podCidrService.create(deps(testConfig({ cni: { podCIDR: '10.244.7.0/24' } }))).podCIDRs()).to.deep.equal(['10.244.7.0/24']);
    const pending = await podCidrService
      .create(deps())
      .podCIDRs()
      .catch((e: unknown) => e);
    expect(pending).to.have.property('code', PodCidrErrors.pending);
    expect((pending as Error).message).to.match(/cni\.podCIDR is not set and the node has not joined a cluster yet/);
  });

  it('node-maintenance: bad plugin settings fail its creation; its calls share one real service', async () => {
    const bad = testConfig({ pluginConfig: { '@flexnode/plugin-kube': { drainTimeoutSeconds: -1 } } });
    expect(() => nodeMaintenanceService.create(deps(bad))).to.throw(ConfigError, /drainTimeoutSeconds must be an integer between 0 and 86400/);

    // The real service reads `sleep` once, when it is created: the count of reads is the count of real services.
    let created = 0;
    const options: MaintenanceOptions = {
      get sleep() {
        created += 1;
        return async () => undefined;
      },
    };
    const service = createMaintenanceService(options).create(deps());
    expect(created).to.equal(0);
    for (const call of [() => service.end(), () => service.upgradePlan(), () => service.waitReady('1.30.4')]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).to.have.property('code', 'NOT_BOOTSTRAPPED');
    }
    expect(created).to.equal(1);
  });
});
