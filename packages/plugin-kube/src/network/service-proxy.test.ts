import { expect } from 'chai';
import { ConfigError, type ClusterNetwork } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { AKS_CLUSTER_LABEL, decideProxyMode, defaultProxyMode, proxyPlan } from './service-proxy.js';

const RG = 'MC_rg-aks_aks-1_westus2';

describe('service proxy: who implements Services on the node', () => {
  it("the default follows the network profile (the README's decision table)", () => {
    const table: [ClusterNetwork, 'aks' | 'flexnode'][] = [
      [{ networkPlugin: 'kubenet', networkDataplane: 'azure', nodeResourceGroup: RG }, 'aks'],
      [{ networkPlugin: 'none', nodeResourceGroup: RG }, 'aks'],
      [{ networkPlugin: 'azure', networkPluginMode: 'overlay', networkDataplane: 'azure', nodeResourceGroup: RG }, 'flexnode'],
      [{ networkPlugin: 'azure', networkDataplane: 'azure', nodeResourceGroup: RG }, 'flexnode'],
      [{ networkPlugin: 'azure', networkPluginMode: 'overlay', networkDataplane: 'cilium', nodeResourceGroup: RG }, 'flexnode'],
      // Cilium's dataplane wins over any plugin: AKS runs no kube-proxy there.
      [{ networkPlugin: 'none', networkDataplane: 'cilium', nodeResourceGroup: RG }, 'flexnode'],
      [{ nodeResourceGroup: RG }, 'flexnode'],
      [{ networkPlugin: 'calico-someday', nodeResourceGroup: RG }, 'flexnode'],
    ];
    for (const [cluster, mode] of table) expect(defaultProxyMode(cluster).mode, JSON.stringify(cluster)).to.equal(mode);
    expect(defaultProxyMode({ networkPlugin: 'kubenet' }).why).to.contain(AKS_CLUSTER_LABEL);
    expect(defaultProxyMode({ networkDataplane: 'cilium' }).why).to.contain('runs no kube-proxy');
  });

  it('kubernetes.serviceProxy chooses; "auto" is the default; "aks" where AKS\'s kube-proxy cannot serve the node is exit 2', () => {
    const kubenet = { networkPlugin: 'kubenet', nodeResourceGroup: RG };
    expect(decideProxyMode(testConfig({ kubernetes: { serviceProxy: 'flexnode' } }), kubenet).mode).to.equal('flexnode');
    expect(decideProxyMode(testConfig({ kubernetes: { serviceProxy: 'none' } }), kubenet).mode).to.equal('none');
    expect(decideProxyMode(testConfig({ kubernetes: { serviceProxy: 'auto' } }), kubenet).mode).to.equal('aks');
    expect(decideProxyMode(testConfig({ kubernetes: { serviceProxy: 'aks' } }), { networkPlugin: 'none', nodeResourceGroup: RG }).mode).to.equal('aks');
    for (const [cluster, why] of [
      [{ networkPlugin: 'azure', networkDataplane: 'cilium', nodeResourceGroup: RG }, /Cilium dataplane runs no kube-proxy/],
      [{ networkPlugin: 'azure', networkPluginMode: 'overlay', nodeResourceGroup: RG }, /would also bring Azure CNI's DaemonSets/],
      [{ networkPlugin: 'kubenet' }, /reports no node resource group/],
    ] as const) {
      const error = (() => {
        try {
          decideProxyMode(testConfig({ kubernetes: { serviceProxy: 'aks' } }), cluster);
        } catch (e) {
          return e;
        }
      })();
      expect(error, JSON.stringify(cluster)).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).message).to.match(why);
      expect((error as ConfigError).issues[0]!.path).to.equal('kubernetes.serviceProxy');
    }
  });

  it("the plan: AKS's mode labels the node with the node resource group; the others label nothing", () => {
    const aks = proxyPlan(testConfig(), { networkPlugin: 'kubenet', nodeResourceGroup: RG });
    expect(aks.nodeLabels).to.deep.equal({ [AKS_CLUSTER_LABEL]: RG });
    expect(aks.implementedBy).to.contain("AKS's kube-proxy DaemonSet");
    const own = proxyPlan(testConfig(), { networkPlugin: 'azure', networkPluginMode: 'overlay', nodeResourceGroup: RG });
    expect(own).to.deep.include({ mode: 'flexnode', nodeLabels: {} });
    expect(proxyPlan(testConfig({ kubernetes: { serviceProxy: 'none' } }), { networkPlugin: 'kubenet', nodeResourceGroup: RG })).to.deep.include({
      mode: 'none',
      nodeLabels: {},
    });
  });
});
