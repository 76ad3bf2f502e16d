import { expect } from 'chai';
import { isFlexnodeError } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { cloudEndpoints } from './clouds.js';
import { connectArgs } from './azcmagent.js';
import { arcSettings, assertNoPlaceholders, machineNameFromHostname, sdkScope } from './settings.js';

const CLUSTER = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/aks1';

describe('arc settings', () => {
  it('defaults the resource group and location to the cluster, as upstream', () => {
    const config = testConfig();
    config.azure.arc = { machineName: 'n1' };
    config.azure.targetCluster = { resourceId: CLUSTER, location: 'eastus2' };
    const s = arcSettings(config);
    expect(s.resourceGroup).to.equal('aks-rg');
    expect(s.location).to.equal('eastus2');
    expect(s.cluster).to.include({ name: 'aks1', resourceGroup: 'aks-rg' });
    expect(s.machineId).to.equal('/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/aks-rg/providers/Microsoft.HybridCompute/machines/n1');
    expect(s.cloud).to.equal('AzureCloud');
  });

  it('maps azure.cloud to azcmagent --cloud and the cloud endpoints; overrides keep the ARM audience', () => {
    expect(cloudEndpoints('AzureChinaCloud')).to.include({ azcmagentCloud: 'AzureChinaCloud', resourceManager: 'https://management.chinacloudapi.cn' });
    expect(cloudEndpoints('AzureUSGovernment')).to.include({ azcmagentCloud: 'AzureUSGovernment', authorityHost: 'https://login.microsoftonline.us' });
    const over = cloudEndpoints('AzurePublicCloud', { resourceManager: 'https://127.0.0.1:8443/', authorityHost: 'https://127.0.0.1:9443' });
    expect(over).to.include({ resourceManager: 'https://127.0.0.1:8443', armScope: 'https://management.azure.com/.default', authorityOverridden: true });
  });

  it('builds the connect argv with tags and no secret', () => {
    const config = testConfig();
    config.azure.arc = { ...config.azure.arc, tags: { env: 'edge', team: 'a=b' } };
    const args = connectArgs(arcSettings(config));
    expect(args).to.include.members(['--resource-group', 'test-rg', '--cloud', 'AzureCloud', '--tags', 'env=edge,team=a=b', '--resource-name', 'test-node']);
    expect(args.join(' ')).not.to.match(/token|secret/i);
  });

  it('refuses placeholders from the example config, naming each field', () => {
    const config = testConfig();
    config.azure.subscriptionId = 'your-subscription-id';
    config.azure.targetCluster.resourceId =
      '/subscriptions/your-subscription-id/resourceGroups/your-rg/providers/Microsoft.ContainerService/managedClusters/your-cluster';
    try {
      assertNoPlaceholders(config);
      expect.fail('no error');
    } catch (error) {
      expect(isFlexnodeError(error)).to.equal(true);
      expect((error as Error).message)
        .to.include('azure.subscriptionId')
        .and.include('azure.targetCluster.resourceId')
        .and.include('not contacted');
    }
  });

  it('refuses tags azcmagent cannot take', () => {
    const config = testConfig();
    config.azure.arc = { ...config.azure.arc, tags: { env: 'a,b' } };
    expect(() => arcSettings(config)).to.throw(/azure.arc.tags/);
  });

  it("defaults the machine name to the host's short name only when Azure would take it", () => {
    expect(machineNameFromHostname('edge-01.corp.example')).to.equal('edge-01');
    expect(machineNameFromHostname(`n${'1'.repeat(53)}`)).to.have.length(54);
    for (const host of [`n${'1'.repeat(54)}.corp`, '-edge', '']) {
      let error: unknown;
      try {
        machineNameFromHostname(host);
      } catch (e) {
        error = e;
      }
      expect(isFlexnodeError(error) && error.code, host).to.equal('CONFIG_INVALID');
      expect((error as Error).message).to.include('azure.arc.machineName is not set');
    }
  });

  it('strips the leading slash of scopes for the SDK', () => {
    expect(sdkScope(CLUSTER)).to.equal(CLUSTER.slice(1));
  });
});
