import { expect } from 'chai';
import { testConfig } from '@flexnode/sdk/testing';
import { nodeRoleIdentities } from './node-role/definitions.js';
import { BUILTIN_ROLES, configuredRoleNames, configuredRoles, DEFAULT_ROLES, ELEVATED_ROLES } from './roles.js';
import { arcSettings } from './settings.js';

describe('roles of the node identity', () => {
  const cluster = arcSettings(testConfig()).cluster;

  it("arc-msi default: the Cluster User Role at the cluster, flexnode's roles at the cluster and in kube-node-lease", () => {
    const config = testConfig();
    expect(configuredRoleNames(config)).to.deep.equal(DEFAULT_ROLES);
    const { known, unknownNames } = configuredRoles(config, cluster);
    expect(unknownNames).to.deep.equal([]);
    // The default kubernetes.serviceProxy (auto) may resolve to flexnode's kube-proxy: its rules are in the role.
    const node = nodeRoleIdentities(cluster, ['kubelet', 'kube-proxy']);
    expect(node[0]!.roleName).to.match(/^flexnode node \+ kube-proxy \(/);
    expect(known).to.deep.equal([
      { name: 'Azure Kubernetes Service Cluster User Role', guid: BUILTIN_ROLES['Azure Kubernetes Service Cluster User Role'], scope: cluster.id },
      { name: node[0]!.roleName, guid: node[0]!.guid, scope: cluster.id, flexnode: true },
      { name: node[1]!.roleName, guid: node[1]!.guid, scope: `${cluster.id}/namespaces/kube-node-lease`, flexnode: true },
    ]);
    expect(known.some((r) => ELEVATED_ROLES[r.guid])).to.equal(false);
  });

  it("bootstrap-token default: only kube-proxy's role while flexnode may run it, else none; named roles are granted whatever the mode", () => {
    const proxy = testConfig({ kubernetes: { auth: 'bootstrap-token' } });
    expect(configuredRoleNames(proxy)).to.deep.equal(['flexnode-node']);
    const only = nodeRoleIdentities(cluster, ['kube-proxy']);
    expect(configuredRoles(proxy, cluster).known).to.deep.equal([{ name: only[0]!.roleName, guid: only[0]!.guid, scope: cluster.id, flexnode: true }]);
    expect(configuredRoleNames(testConfig({ kubernetes: { auth: 'bootstrap-token', serviceProxy: 'aks' } }))).to.deep.equal([]);
    const config = testConfig({ kubernetes: { auth: 'bootstrap-token' } });
    config.azure.arc = {
      ...config.azure.arc,
      roles: [
        ' azure kubernetes service rbac admin ',
        '/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/B1FF04BB-8A4E-4DC4-8EB5-8693973CE19B',
        'My Custom Role',
      ],
    };
    const { known, unknownNames } = configuredRoles(config, cluster);
    expect(known.map((r) => r.name)).to.deep.equal(['Azure Kubernetes Service RBAC Admin', 'Azure Kubernetes Service RBAC Cluster Admin']);
    expect(known.every((r) => ELEVATED_ROLES[r.guid])).to.equal(true);
    expect(unknownNames).to.deep.equal(['My Custom Role']);
  });
});
