import { expect } from 'chai';
import { testConfig } from '@flexnode/sdk/testing';
import { arcSettings } from '../settings.js';
import { nodeComponents } from './components.js';
import { dataActionsOf, guardAction, scopedDataActions } from './data-actions.js';
import { nodeRoleDefinitions, nodeRoleIdentities, stableGuid } from './definitions.js';
import { NODE_RULES, minorOf, nodeRoleExtras, rulesFor } from './node-rules.js';

const MC = 'Microsoft.ContainerService/managedClusters';
const mc = (xs: string[]) => xs.map((x) => `${MC}/${x}`).sort();

/** What a kubelet needs on every supported cluster (NodeRules without feature gates), mapped as guard maps it. */
const KUBELET_BASE = [
  'authentication.k8s.io/tokenreviews/write',
  'authorization.k8s.io/localsubjectaccessreviews/write',
  'authorization.k8s.io/subjectaccessreviews/write',
  'certificates.k8s.io/certificatesigningrequests/read',
  'certificates.k8s.io/certificatesigningrequests/write',
  'configmaps/read',
  'endpoints/read',
  'events/write',
  'node.k8s.io/runtimeclasses/read',
  'nodes/read',
  'nodes/write',
  'persistentvolumeclaims/read',
  'persistentvolumeclaims/write',
  'persistentvolumes/read',
  'pods/delete',
  'pods/read',
  'pods/write',
  'secrets/read',
  'serviceaccounts/write',
  'services/read',
  'storage.k8s.io/csidrivers/read',
  'storage.k8s.io/csinodes/delete',
  'storage.k8s.io/csinodes/read',
  'storage.k8s.io/csinodes/write',
  'storage.k8s.io/volumeattachments/read',
];
const DRA_AND_CREDENTIAL_PROVIDERS = [
  'resource.k8s.io/resourceclaims/read',
  'resource.k8s.io/resourceslices/delete',
  'resource.k8s.io/resourceslices/read',
  'resource.k8s.io/resourceslices/write',
  'serviceaccounts/read',
];
const LEASES = ['coordination.k8s.io/leases/delete', 'coordination.k8s.io/leases/read', 'coordination.k8s.io/leases/write'];

describe('the node role, derived from NodeRules', () => {
  it('maps verbs and subresources as guard does: subresources dropped, pods/exec kept, deletecollection is delete', () => {
    expect(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'bind'].map(guardAction)).to.deep.equal([
      'read',
      'read',
      'read',
      'write',
      'write',
      'write',
      'delete',
      'delete',
      'bind/action',
    ]);
    expect(() => guardAction('proxy')).to.throw(/no action/);
    expect(dataActionsOf({ verbs: ['update', 'patch'], apiGroups: [''], resources: ['pods/status'] })).to.deep.equal([`${MC}/pods/write`]);
    expect(dataActionsOf({ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] })).to.deep.equal([`${MC}/serviceaccounts/write`]);
    expect(dataActionsOf({ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] })).to.deep.equal([`${MC}/pods/exec/action`]);
    expect(dataActionsOf({ verbs: ['create'], apiGroups: ['', 'events.k8s.io'], resources: ['events'] })).to.deep.equal([
      `${MC}/events/write`,
      `${MC}/events.k8s.io/events/write`,
    ]);
  });

  it('a 1.30-1.33 cluster: the base rules; leases only in kube-node-lease', () => {
    for (const v of ['1.30.4', '1.31.0', 'v1.33.13', '1.30.101-akslts']) {
      const scoped = scopedDataActions(rulesFor(v, ['kubelet']));
      expect(scoped.cluster, v).to.deep.equal(mc(KUBELET_BASE));
      expect(scoped.namespaces, v).to.deep.equal({ 'kube-node-lease': mc(LEASES) });
    }
  });

  it("from 1.34 the gates on by default add DRA and the credential providers' service-account reads; off gates add nothing", () => {
    for (const v of ['1.34.9', '1.35.6', '1.37.0']) {
      expect(scopedDataActions(rulesFor(v, ['kubelet'])).cluster, v).to.deep.equal(mc([...KUBELET_BASE, ...DRA_AND_CREDENTIAL_PROVIDERS]));
    }
    expect(rulesFor('1.35.0', ['kubelet']).some((r) => r.resources.includes('clustertrustbundles'))).to.equal(false);
    expect(NODE_RULES.some((r) => r.resources.includes('clustertrustbundles'))).to.equal(true);
    expect(() => rulesFor('latest', ['kubelet'])).to.throw(/not a Kubernetes version/);
    expect(minorOf('v1.36.2')).to.deep.equal([1, 36]);
  });

  it("no node rule grants a delete of Nodes, a write of Secrets or anything in other namespaces' leases", () => {
    const all = scopedDataActions(rulesFor('1.35.0', ['kubelet', 'kube-proxy']));
    for (const forbidden of ['nodes/delete', 'secrets/write', 'secrets/delete', 'namespaces/write', 'coordination.k8s.io/leases/write']) {
      expect(all.cluster, forbidden).to.not.include(`${MC}/${forbidden}`);
    }
  });

  it("kube-proxy's rows (system:node-proxier) come only with that component", () => {
    const kubelet = scopedDataActions(rulesFor('1.35.0', ['kubelet'])).cluster;
    const both = scopedDataActions(rulesFor('1.35.0', ['kubelet', 'kube-proxy'])).cluster;
    expect(both.filter((a) => !kubelet.includes(a))).to.deep.equal(
      mc(['discovery.k8s.io/endpointslices/read', 'events.k8s.io/events/write', 'networking.k8s.io/servicecidrs/read']),
    );
    expect(scopedDataActions(rulesFor('1.35.0', ['kube-proxy'])).cluster).to.deep.equal(
      mc([
        'discovery.k8s.io/endpointslices/read',
        'endpoints/read',
        'events.k8s.io/events/write',
        'events/write',
        'networking.k8s.io/servicecidrs/read',
        'nodes/read',
        'services/read',
      ]),
    );
    // Before 1.33 MultiCIDRServiceAllocator is off by default: kube-proxy watches no ServiceCIDRs, and the role has none.
    expect(scopedDataActions(rulesFor('1.32.4', ['kube-proxy'])).cluster).to.not.include(`${MC}/networking.k8s.io/servicecidrs/read`);
  });

  it('the components on the Arc identity: kube-proxy whenever flexnode may run it (auto may resolve to it), the kubelet unless it has its own certificate', () => {
    const components = (kubernetes: Record<string, unknown>, plugins?: Record<string, string>) =>
      nodeComponents(testConfig({ kubernetes, ...(plugins ? { plugins } : {}) }));
    expect(components({})).to.deep.equal(['kubelet', 'kube-proxy']);
    expect(components({ serviceProxy: 'auto' })).to.deep.equal(['kubelet', 'kube-proxy']);
    expect(components({ serviceProxy: 'flexnode' })).to.deep.equal(['kubelet', 'kube-proxy']);
    expect(components({ serviceProxy: 'aks' })).to.deep.equal(['kubelet']);
    expect(components({ serviceProxy: 'none' })).to.deep.equal(['kubelet']);
    // Another plugin implements Services (a kube-proxy replacement): flexnode runs no kube-proxy.
    expect(components({}, { 'service-proxy': '@org/plugin-cilium' })).to.deep.equal(['kubelet']);
    expect(components({}, { 'service-proxy': '@flexnode/plugin-kube' })).to.deep.equal(['kubelet', 'kube-proxy']);
    // bootstrap-token: the kubelet is system:node:<name> by its certificate; kube-proxy keeps the Arc identity.
    expect(components({ auth: 'bootstrap-token' })).to.deep.equal(['kube-proxy']);
    expect(components({ auth: 'bootstrap-token', serviceProxy: 'aks' })).to.deep.equal([]);
  });

  it('role definitions: stable GUIDs and unique names per cluster and components; at the cluster and in kube-node-lease', () => {
    const cluster = arcSettings(testConfig()).cluster;
    const roles = nodeRoleDefinitions(cluster, ['kubelet'], '1.35.6');
    expect(roles.map((r) => [r.assignScope, r.assignableScope])).to.deep.equal([
      [cluster.id, `/subscriptions/${cluster.subscriptionId}/resourceGroups/${cluster.resourceGroup}`],
      [`${cluster.id}/namespaces/kube-node-lease`, `/subscriptions/${cluster.subscriptionId}/resourceGroups/${cluster.resourceGroup}`],
    ]);
    expect(roles[0]!.roleName).to.equal(`flexnode node (test-cluster, resource group test-rg, subscription ${cluster.subscriptionId})`);
    expect(roles[1]!.roleName).to.match(/^flexnode node, namespace kube-node-lease \(/);
    expect(roles[1]!.dataActions).to.deep.equal(mc(LEASES));
    // A patch release changes nothing; the GUIDs need no version at all (arc.roles names them from the config).
    expect(nodeRoleDefinitions(cluster, ['kubelet'], '1.35.7')).to.deep.equal(roles);
    expect(nodeRoleIdentities(cluster, ['kubelet']).map((r) => r.guid)).to.deep.equal(roles.map((r) => r.guid));
    expect(roles[0]!.description).to.include('Kubernetes 1.35)').and.not.include('1.35.6');
    const proxy = nodeRoleIdentities(cluster, ['kube-proxy', 'kubelet']);
    expect(proxy[0]!.roleName).to.match(/^flexnode node \+ kube-proxy \(/);
    expect(proxy.map((r) => r.guid)).to.not.include.members(roles.map((r) => r.guid));
    const other = { ...cluster, id: cluster.id.replace('test-cluster', 'other'), name: 'other' };
    expect(nodeRoleIdentities(other, ['kubelet'])[0]!.guid).to.not.equal(roles[0]!.guid);
    // kube-proxy's rules alone (bootstrap-token mode): a role of its own, named for it, cluster-wide only.
    const proxyOnly = nodeRoleDefinitions(cluster, ['kube-proxy'], '1.35.6');
    expect(proxyOnly.map((r) => [r.roleName, r.assignScope])).to.deep.equal([
      [`flexnode kube-proxy (test-cluster, resource group test-rg, subscription ${cluster.subscriptionId})`, cluster.id],
    ]);
    expect(proxyOnly[0]!.dataActions).to.deep.equal(
      mc([
        'discovery.k8s.io/endpointslices/read',
        'endpoints/read',
        'events.k8s.io/events/write',
        'events/write',
        'networking.k8s.io/servicecidrs/read',
        'nodes/read',
        'services/read',
      ]),
    );
    expect(proxyOnly[0]!.guid).to.not.be.oneOf([...roles, ...proxy].map((r) => r.guid));
    expect(nodeRoleIdentities(cluster, [])).to.deep.equal([]);
    expect(stableGuid('x'))
      .to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      .and.equal(stableGuid('x'));
  });

  it("flexnode's own calls as the node (cordon, drain, upgrade slots) are within the role; slots in another namespace get a role there", () => {
    const cluster = arcSettings(testConfig()).cluster;
    // cordon = nodes patch, the drain = pods list + pods/eviction create (guard: pods/write), in arc-msi mode
    const roles = nodeRoleDefinitions(cluster, nodeComponents(testConfig()), '1.35.6', nodeRoleExtras(testConfig()));
    expect(roles[0]!.dataActions).to.include.members(mc(['nodes/write', 'pods/read', 'pods/write']));
    expect(roles.map((r) => r.namespace)).to.deep.equal([undefined, 'kube-node-lease'], "the default slots live with the kubelet's Lease: nothing more");
    const elsewhere = testConfig({ kubernetes: { upgrade: { leaseNamespace: 'fleet-upgrades' } } });
    const more = nodeRoleDefinitions(cluster, nodeComponents(elsewhere), '1.35.6', nodeRoleExtras(elsewhere));
    const slots = more.find((r) => r.namespace === 'fleet-upgrades')!;
    expect(slots.assignScope).to.equal(`${cluster.id}/namespaces/fleet-upgrades`);
    expect(slots.dataActions).to.deep.equal(mc(['coordination.k8s.io/leases/read', 'coordination.k8s.io/leases/write']));
    expect(slots.description).to.include("flexnode upgrade's slots");
    expect(more.filter((r) => r.namespace !== 'fleet-upgrades')).to.deep.equal(
      roles.filter((r) => r.namespace !== 'fleet-upgrades'),
      'the other roles are unchanged',
    );
    expect(nodeRoleIdentities(cluster, nodeComponents(elsewhere), nodeRoleExtras(elsewhere)).map((r) => r.guid)).to.deep.equal(more.map((r) => r.guid));
    // bootstrap-token: the operator holds the slots (a node's certificate may hold no Lease but its own)
    expect(nodeRoleExtras(testConfig({ kubernetes: { auth: 'bootstrap-token', upgrade: { leaseNamespace: 'fleet-upgrades' } } }))).to.deep.equal([]);
  });
});
