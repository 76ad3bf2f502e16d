// flexnode's custom roles for the node identity (arc.node-role + arc.roles) with the REAL Azure SDK clients against
// the fake ARM: derived from NodeRules for the cluster's version, created idempotently, journaled, shared by the
// nodes of a cluster and deleted by the last one out; a missing roleDefinitions/write is named with the role that
// grants it. Also: the mapping agrees with the fake guard's, request by request.
import { expect } from 'chai';
import { NODE_RULES, arcSettings, nodeComponents, nodeRoleIdentities, rulesFor, scopedDataActions } from '@flexnode/plugin-arc';
import { dataActionOf } from '../fakes/kube/guard.js';
import { CLUSTER_ID, CLUSTER_RG, Fakes, MACHINE, Rig, SUB } from './rig.js';

const RG_SCOPE = `/subscriptions/${SUB}/resourceGroups/${CLUSTER_RG}`;
const MC = 'Microsoft.ContainerService/managedClusters';

describe("the node identity's custom roles (arc.node-role) against the fake ARM", function () {
  this.timeout(60_000);
  let fakes: Fakes;
  const rigs: Rig[] = [];
  const rig = (configure?: ConstructorParameters<typeof Rig>[1]) => {
    const r = new Rig(fakes, configure);
    rigs.push(r);
    return r;
  };
  const custom = () => fakes.arm.roleDefinitions().filter((d) => d.type === 'CustomRole');

  beforeEach(async () => {
    fakes = await Fakes.start();
    fakes.addTestCluster({ kubernetesVersion: '1.33.13' });
  });
  afterEach(async () => {
    for (const r of rigs.splice(0)) r.dispose();
    await fakes.stop();
  });

  it("defines the roles for the cluster's version, assigns them at the cluster and in kube-node-lease; a re-run changes nothing; unbootstrap removes exactly that", async () => {
    const r = rig();
    expect(await r.bootstrap()).to.deep.equal(['arc.connect', 'arc.node-role', 'arc.roles']);
    const cluster = arcSettings(r.config).cluster;
    // The kubelet's rules, and kube-proxy's: the default service proxy mode (auto) may resolve to flexnode's.
    expect(nodeComponents(r.config)).to.deep.equal(['kubelet', 'kube-proxy']);
    const expected = scopedDataActions(rulesFor('1.33.13', nodeComponents(r.config)));
    const [node, lease] = nodeRoleIdentities(cluster, nodeComponents(r.config));
    expect(
      custom().map((d) => ({
        id: d.id,
        name: d.roleName,
        scopes: d.assignableScopes,
        data: d.permissions[0]!.dataActions,
        actions: d.permissions[0]!.actions,
      })),
    ).to.deep.equal([
      { id: node!.guid, name: node!.roleName, scopes: [RG_SCOPE], data: expected.cluster, actions: [] },
      { id: lease!.guid, name: lease!.roleName, scopes: [RG_SCOPE], data: expected.namespaces['kube-node-lease'], actions: [] },
    ]);
    expect(expected.cluster).to.include(`${MC}/serviceaccounts/write`).and.not.include(`${MC}/resource.k8s.io/resourceclaims/read`);
    const principal = fakes.arm.machine(MACHINE)!.principalId!;
    const mine = fakes.arm.roleAssignments().filter((a) => a.principalId === principal);
    expect(mine.map((a) => `${a.roleDefinitionId.split('/').pop()} ${a.scope}`)).to.include.members([
      `${node!.guid} ${CLUSTER_ID}`,
      `${lease!.guid} ${CLUSTER_ID}/namespaces/kube-node-lease`,
    ]);
    // Through the fake's own Azure RBAC: the identity may write leases in kube-node-lease only, and no Secret.
    const may = (scope: string, action: string) => fakes.arm.checkAccess([principal], scope, `${MC}/${action}`, 'dataAction').allowed;
    expect(may(`${CLUSTER_ID}/namespaces/kube-node-lease`, 'coordination.k8s.io/leases/write')).to.equal(true);
    expect(may(`${CLUSTER_ID}/namespaces/default`, 'coordination.k8s.io/leases/write')).to.equal(false);
    expect(may(`${CLUSTER_ID}/namespaces/default`, 'secrets/read')).to.equal(true);
    expect(may(`${CLUSTER_ID}/namespaces/default`, 'secrets/write')).to.equal(false);
    expect(may(CLUSTER_ID, 'nodes/delete')).to.equal(false);
    expect(r.records('arc.node-role', 'arc.role-definition').map((d) => [d.guid, d.kubernetesMinor])).to.deep.equal([
      [node!.guid, '1.33'],
      [lease!.guid, '1.33'],
    ]);

    const writes = () => fakes.arm.requests.filter((q) => q.method !== 'GET').length;
    const before = writes();
    const journal = JSON.stringify([...r.host.journal]);
    expect(await r.bootstrap()).to.deep.equal([]);
    await r.step('arc.node-role').install(); // install on a converged node: GETs only
    expect(writes()).to.equal(before);
    expect(JSON.stringify([...r.host.journal])).to.equal(journal);

    await r.unbootstrap();
    expect(custom()).to.deep.equal([]);
    expect(fakes.arm.roleAssignments().filter((a) => a.principalId === principal)).to.deep.equal([]);
    expect(r.records('arc.node-role', 'arc.role-definition')).to.deep.equal([]);
  });

  it('two nodes share the roles: the first out keeps them (409 RoleDefinitionHasAssignments), the last deletes them; an upgraded cluster gets the new rules', async () => {
    const a = rig();
    await a.bootstrap();
    const created = custom().map((d) => d.createdOn);
    fakes.arm.updateCluster(CLUSTER_ID, (c) => {
      c.kubernetesVersion = '1.35.6';
      c.currentKubernetesVersion = '1.35.6';
    });
    // Another machine of the same cluster: same role GUIDs, updated for 1.35 (DRA and credential-provider reads).
    const b = rig((c) => {
      c.azure.arc = { ...c.azure.arc, machineName: 'edge-2' };
    });
    await b.bootstrap();
    expect(custom()).to.have.length(2);
    expect(custom().map((d) => d.createdOn)).to.deep.equal(created);
    expect(custom()[0]!.permissions[0]!.dataActions).to.include(`${MC}/resource.k8s.io/resourceclaims/read`).and.include(`${MC}/serviceaccounts/read`);
    expect(b.records('arc.node-role', 'arc.role-definition').map((d) => d.kubernetesMinor)).to.deep.equal(['1.35', '1.35']);

    await a.unbootstrap();
    expect(custom(), 'still assigned to edge-2').to.have.length(2);
    expect(fakes.arm.requests.filter((q) => q.method === 'DELETE' && q.path.includes('/roleDefinitions/')).map((q) => q.status)).to.deep.equal([409, 409]);
    expect(a.records('arc.node-role', 'arc.role-definition')).to.deep.equal([]);
    await b.unbootstrap();
    expect(custom()).to.deep.equal([]);
  });

  it('a custom role ARM has not replicated yet: arc.node-role waits until it reads back as written, arc.roles retries the transient refusals of its own role only', async () => {
    await fakes.stop();
    fakes = await Fakes.start({ roleReplicationMs: 400 });
    fakes.addTestCluster({ kubernetesVersion: '1.33.13' });
    const r = rig((c) => {
      c.azure.arc = { ...c.azure.arc, roles: ['flexnode-node'] }; // flexnode's own roles only: every assignment PUT names one
    });
    await r.step('arc.connect').install();
    // Another ARM replica took the assignment PUTs: twice more the role is not assignable there yet.
    const transient = fakes.arm.inject({
      method: 'PUT',
      pathMatch: /\/roleAssignments\//,
      status: 400,
      code: 'RoleAssignmentScopeNotAssignableToRoleDefinition',
      message: 'The role definition is not assignable at this scope.',
      times: 2,
    });
    expect(await r.bootstrap()).to.deep.equal(['arc.node-role', 'arc.roles']);
    const reads = fakes.arm.requests.filter((q) => q.method === 'GET' && /\/roleDefinitions\/[0-9a-f-]+$/i.test(q.path));
    expect(
      reads.map((q) => q.status),
      'read until replicated',
    )
      .to.include(404)
      .and.include(200);
    expect(transient.hits).to.equal(2);
    const principal = fakes.arm.machine(MACHINE)!.principalId!;
    const [node] = nodeRoleIdentities(arcSettings(r.config).cluster, nodeComponents(r.config));
    expect(fakes.arm.roleAssignments().some((a) => a.principalId === principal && a.roleDefinitionId.endsWith(node!.guid))).to.equal(true);
    expect(r.host.logLines.some((l) => l.message.includes('waiting for Azure to replicate the custom role'))).to.equal(true);
    await r.unbootstrap();

    // A role the operator named that does not exist is no replication lag: refused at once, not retried.
    const other = rig((c) => {
      c.azure.arc = { ...c.azure.arc, machineName: 'edge-3', roles: ['11111111-1111-1111-1111-111111111111'] };
    });
    await other.step('arc.connect').install();
    const puts = () => fakes.arm.requests.filter((q) => q.method === 'PUT' && q.path.includes('/roleAssignments/')).length;
    const before = puts();
    const started = Date.now();
    const error = await other
      .step('arc.roles')
      .install()
      .then(
        () => expect.fail('expected the refusal'),
        (x: Error) => x,
      );
    expect(error.message).to.include('RoleDefinitionDoesNotExist');
    expect(puts() - before, 'one PUT, no retry').to.equal(1);
    expect(Date.now() - started).to.be.below(1500);
  });

  it('a dataAction Azure does not publish is left out of the custom role with a warning, not the whole bootstrap', async () => {
    await fakes.stop();
    // Microsoft.ContainerService publishes the operations of Kubernetes' APIs as AKS ships them: say DRA is not yet.
    fakes = await Fakes.start({ publishedDataAction: (a) => !a.includes('/resource.k8s.io/') });
    fakes.addTestCluster({ kubernetesVersion: '1.35.1' });
    const r = rig();
    expect(await r.bootstrap()).to.deep.equal(['arc.connect', 'arc.node-role', 'arc.roles']);
    const refused = fakes.arm.requests.filter((q) => q.method === 'PUT' && q.path.includes('/roleDefinitions/') && q.status === 400);
    expect(refused.length, 'one refusal per unpublished action').to.be.at.least(1);
    const defined = custom().flatMap((d) => d.permissions[0]!.dataActions);
    expect(defined.filter((a) => a.includes('/resource.k8s.io/'))).to.deep.equal([]);
    expect(defined).to.include(`${MC}/nodes/read`);
    const warning = r.host.logLines.find((l) => l.level === 'warn' && l.message.includes('InvalidDataActionOrNotDataAction'));
    expect(warning?.message).to.include(`${MC}/resource.k8s.io/`);
    const [record] = r.records('arc.node-role', 'arc.role-definition');
    expect(record!.unpublished).to.be.an('array').that.is.not.empty;
    // A converged re-run checks from the record: no PUT, no warning again.
    const puts = fakes.arm.requests.filter((q) => q.method === 'PUT').length;
    expect(await r.bootstrap()).to.deep.equal([]);
    expect(fakes.arm.requests.filter((q) => q.method === 'PUT').length).to.equal(puts);
    await r.unbootstrap();
    expect(custom()).to.deep.equal([]);
  });

  it('RBAC Admin named in azure.arc.roles is granted with a warning, and no custom role is made', async () => {
    const r = rig((c) => {
      c.azure.arc = { ...c.azure.arc, roles: ['Azure Kubernetes Service Cluster User Role', 'Azure Kubernetes Service RBAC Admin'] };
    });
    expect(await r.bootstrap()).to.deep.equal(['arc.connect', 'arc.roles']);
    expect(custom()).to.deep.equal([]);
    const warning = r.host.logLines.find((l) => l.level === 'warn' && l.message.includes('RBAC Admin'));
    expect(warning?.message).to.include('read every Secret and write nearly every object in every namespace').and.include('"flexnode-node"');
    await r.unbootstrap();
  });

  it("the guard mapping agrees with the fake guard for every request a node's rules allow", () => {
    const scoped = scopedDataActions(rulesFor('1.35.0', ['kubelet', 'kube-proxy']));
    const seen = new Set<string>();
    for (const row of NODE_RULES.filter((x) => rulesFor('1.35.0', ['kubelet', 'kube-proxy']).includes(x))) {
      for (const apiGroup of row.apiGroups)
        for (const res of row.resources)
          for (const verb of row.verbs) {
            const [resource, subresource = ''] = res.split('/');
            const action = dataActionOf({
              verb,
              isResourceRequest: true,
              path: '',
              apiGroup,
              apiVersion: 'v1',
              resource: resource!,
              subresource,
              namespace: row.namespace ?? 'default',
              name: '',
            });
            const where = row.namespace ? (scoped.namespaces[row.namespace] ?? []) : scoped.cluster;
            expect(where, `${verb} ${apiGroup}/${res}`).to.include(action);
            seen.add(action);
          }
    }
    expect([...scoped.cluster, ...Object.values(scoped.namespaces).flat()].filter((a) => !seen.has(a))).to.deep.equal([]);
  });
});

describe('arc.node-role with an operator who may assign roles but not define them (fake ARM enforcing Azure RBAC)', function () {
  this.timeout(60_000);
  let fakes: Fakes;
  let r: Rig;
  before(async () => {
    fakes = await Fakes.start({ enforceRbac: true });
    fakes.addTestCluster();
    r = new Rig(fakes);
  });
  after(async () => {
    r.dispose();
    await fakes.stop();
  });

  it('a 403 names Microsoft.Authorization/roleDefinitions/write and User Access Administrator; nothing is journaled; with it, the re-run succeeds', async () => {
    fakes.arm.grant(fakes.operatorId, 'Role Based Access Control Administrator', RG_SCOPE);
    const step = r.step('arc.node-role');
    const e = await step.install().then(
      () => expect.fail('expected a 403'),
      (x: Error & { hint?: string }) => x,
    );
    expect(e.message).to.include("lacks the permission 'Microsoft.Authorization/roleDefinitions/write'").and.include(`on scope '${RG_SCOPE}'`);
    expect(e.hint)
      .to.include('User Access Administrator')
      .and.include('Role Based Access Control Administrator does not include it')
      .and.include(`--scope ${RG_SCOPE}`);
    expect(r.records('arc.node-role', 'arc.role-definition')).to.deep.equal([]);
    expect(fakes.arm.roleDefinitions().filter((d) => d.type === 'CustomRole')).to.deep.equal([]);

    fakes.arm.grant(fakes.operatorId, 'User Access Administrator', RG_SCOPE);
    await r.step('arc.node-role').install();
    expect((await r.step('arc.node-role').check()).status).to.equal('ok');
    expect(fakes.arm.roleDefinitions().filter((d) => d.type === 'CustomRole')).to.have.length(2);
    await r.step('arc.node-role').uninstall();
    expect(fakes.arm.roleDefinitions().filter((d) => d.type === 'CustomRole')).to.deep.equal([]);
  });
});
