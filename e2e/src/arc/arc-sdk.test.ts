// plugin-arc's steps with the REAL Azure SDK clients against the fake ARM and fake Entra (HTTPS on loopback),
// and the azcmagent stand-in: register, idempotence, role assignments, unbootstrap, and each fault.
import { expect } from 'chai';
import { MACHINE_RECORD, arcSettings, nodeComponents, nodeRoleIdentities } from '@flexnode/plugin-arc';
import { ARC_RG, CLIENT_SECRET, CLUSTER_ID, CLUSTER_RG, Fakes, MACHINE, RBAC_ADMIN, Rig, SUB, USER_ROLE } from './rig.js';

const MACHINE_PATH = `/subscriptions/${SUB}/resourceGroups/${ARC_RG}/providers/Microsoft.HybridCompute/machines/${MACHINE}`;

describe('plugin-arc against the fake ARM (real Azure SDK clients)', function () {
  this.timeout(60_000);
  let fakes: Fakes;
  const rigs: Rig[] = [];

  before(async () => {
    fakes = await Fakes.start();
  });
  after(async () => {
    // No secret anywhere a person or another process could read, in any test of this file.
    for (const rig of rigs) {
      const text = rig.visibleText();
      expect(text, 'client secret leaked').not.to.include(CLIENT_SECRET);
      for (const token of fakes.tokens()) expect(text.includes(token), 'ARM token leaked').to.equal(false);
      rig.dispose();
    }
    await fakes?.stop();
  });
  beforeEach(() => {
    fakes.arm.clearFaults();
    fakes.arm.machineDeleteMode = 'sync';
    for (const m of fakes.arm.machines()) fakes.arm.removeMachine(m.subscriptionId, m.resourceGroup, m.name);
    fakes.addTestCluster(); // re-seeded idempotently
  });

  const rig = (configure?: ConstructorParameters<typeof Rig>[1]) => {
    const r = new Rig(fakes, configure);
    rigs.push(r);
    return r;
  };
  const ours = (r: Rig) => r.records('arc.roles', 'arc.role-assignment').map((d) => String(d.id).toLowerCase());
  const assignmentsOf = (principalId: string) => fakes.arm.roleAssignments().filter((a) => a.principalId === principalId);
  const err = async (p: Promise<unknown>) =>
    p.then(
      () => expect.fail('expected an error'),
      (e: Error & { hint?: string }) => e,
    );

  it('registers: azcmagent connect with the token never on argv, the identity, the default roles; unbootstrap removes exactly that', async () => {
    const r = rig();
    expect(await r.bootstrap()).to.deep.equal(['arc.connect', 'arc.node-role', 'arc.roles']);

    const standin = r.standin()!;
    expect(standin).to.include({ status: 'Connected', authMode: 'access-token' });
    expect(standin.secretsOnArgv).to.deep.equal([]);
    const connect = r.transcript.argv.find((a) => a[0] === 'connect')!;
    expect(connect).to.include.members([
      '--resource-group',
      ARC_RG,
      '--location',
      'westeurope',
      '--resource-name',
      MACHINE,
      '--cloud',
      'AzureCloud',
      '--tags',
      'env=edge,owner=flexnode',
      '--config',
    ]);
    expect(connect.join(' ')).not.to.match(/access-token/);

    const machine = fakes.arm.machine(MACHINE)!;
    expect(machine.principalId).to.match(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(r.host.files.get(MACHINE_RECORD)!.content.toString())).to.include({ principalId: machine.principalId, resourceId: MACHINE_PATH });
    expect(r.records('arc.connect', 'arc.connected')).to.have.length(1).and.to.have.nested.property('[0].phase', 'connected');

    const granted = assignmentsOf(machine.principalId!);
    const [node, lease] = nodeRoleIdentities(arcSettings(r.config).cluster, nodeComponents(r.config));
    expect(granted.map((a) => `${a.roleDefinitionId.split('/').pop()} ${a.scope}`).sort()).to.deep.equal(
      [`${USER_ROLE} ${CLUSTER_ID}`, `${node!.guid} ${CLUSTER_ID}`, `${lease!.guid} ${CLUSTER_ID}/namespaces/kube-node-lease`].sort(),
    );
    expect(granted.every((a) => a.principalType === 'ServicePrincipal')).to.equal(true);
    expect(granted.some((a) => a.roleDefinitionId.endsWith(RBAC_ADMIN))).to.equal(false);
    expect(ours(r).sort()).to.deep.equal(granted.map((a) => `${a.scope}/providers/Microsoft.Authorization/roleAssignments/${a.name}`.toLowerCase()).sort());
    expect(fakes.arm.requestsTo('//').length, 'a scope with a doubled slash').to.equal(0);

    await r.unbootstrap();
    expect(fakes.arm.machine(MACHINE)).to.equal(undefined);
    expect(assignmentsOf(machine.principalId!)).to.deep.equal([]);
    expect(r.standin()).to.equal(undefined);
    expect(r.records('arc.connect', 'arc.connected')).to.deep.equal([]);
    expect(ours(r)).to.deep.equal([]);
    expect(r.host.files.has(MACHINE_RECORD)).to.equal(false);
  });

  it('a re-run changes nothing: no connect, no assignment, no journal write', async () => {
    const r = rig();
    await r.bootstrap();
    const puts = fakes.arm.requestsTo('/roleAssignments/', 'PUT').length;
    const connects = r.transcript.argv.filter((a) => a[0] === 'connect').length;
    const journal = JSON.stringify([...r.host.journal]);
    const ops = r.host.ops.length;
    expect(await r.bootstrap()).to.deep.equal([]);
    for (const [, step] of r.steps()) await step.install(); // install on an installed machine is a no-op too
    expect(fakes.arm.requestsTo('/roleAssignments/', 'PUT')).to.have.length(puts);
    expect(r.transcript.argv.filter((a) => a[0] === 'connect')).to.have.length(connects);
    expect(JSON.stringify([...r.host.journal])).to.equal(journal);
    expect(r.host.ops).to.have.length(ops);
    await r.unbootstrap();
  });

  it('keeps a pre-existing assignment (not journaled, not removed) and treats a 409 RoleAssignmentExists as success', async () => {
    const r = rig((c) => {
      c.azure.arc = { ...c.azure.arc, roles: ['Azure Kubernetes Service Cluster User Role', 'Azure Kubernetes Service RBAC Admin'] };
    });
    // The resource and the identity exist already (re-onboarding keeps the identity), with the User Role granted by someone else.
    const principalId = fakes.arm.addMachine({ subscriptionId: SUB, resourceGroup: ARC_RG, name: MACHINE }).principalId!;
    const theirs = fakes.arm.addRoleAssignment({
      scope: CLUSTER_ID,
      roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${USER_ROLE}`,
      principalId,
      principalType: 'ServicePrincipal',
    });
    const admin = fakes.arm.addRoleAssignment({
      scope: CLUSTER_ID,
      roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${RBAC_ADMIN}`,
      principalId,
      principalType: 'ServicePrincipal',
    });
    // A concurrent grant: the listings miss the admin assignment, so the PUT meets it and answers 409.
    fakes.arm.inject({ method: 'GET', pathMatch: /\/roleAssignments$/, status: 200, body: { value: [] }, times: 2 });
    await r.bootstrap();
    const conflict = fakes.arm.requestsTo('/roleAssignments/', 'PUT').filter((q) => q.status === 409);
    expect(conflict.length).to.be.greaterThan(0);
    expect(ours(r)).to.deep.equal([]); // neither is ours
    await r.unbootstrap();
    expect(
      assignmentsOf(principalId)
        .map((a) => a.name)
        .sort(),
    ).to.deep.equal([theirs.name, admin.name].sort());
  });

  it('429 with retry-after-ms is retried by the SDK and succeeds', async () => {
    const r = rig();
    const throttle = fakes.arm.inject({ method: 'GET', pathMatch: /\/machines\/edge-1$/, status: 429, retryAfterMs: 20, times: 2 });
    await r.bootstrap();
    expect(throttle.hits).to.equal(2);
    await r.unbootstrap();

    const r2 = rig();
    fakes.arm.inject({ method: 'GET', pathMatch: /\/machines\/edge-1$/, status: 429, retryAfterMs: 5, times: Infinity });
    const e = await err(r2.bootstrap());
    expect(e.message).to.include('HTTP 429 SubscriptionRequestsThrottled').and.include('after retries');
    expect(e.hint).to.include('throttled');
    fakes.arm.clearFaults();
    await r2.bootstrap();
    await r2.unbootstrap();
  });

  it('a 500 that persists names the status after the retries, keeps a consistent journal, and a re-run recovers', async () => {
    const r = rig();
    fakes.arm.inject({ method: 'PUT', pathMatch: '/roleAssignments/', status: 500, times: Infinity });
    const e = await err(r.bootstrap());
    expect(e.message).to.include('HTTP 500').and.include('after retries').and.include('Azure Kubernetes Service');
    // The outcome of a 500 is unknown: the assignment stays journaled as possibly ours (deleting a missing one is a no-op).
    expect(ours(r)).to.have.length(1);
    fakes.arm.clearFaults();
    await r.bootstrap();
    const principalId = fakes.arm.machine(MACHINE)!.principalId!;
    expect(assignmentsOf(principalId)).to.have.length(3);
    await r.unbootstrap();
    expect(assignmentsOf(principalId)).to.deep.equal([]);
    expect(ours(r)).to.deep.equal([]);
  });

  it('a 503 that persists on the machine read is reported with its status', async () => {
    const r = rig();
    fakes.arm.inject({ method: 'GET', pathMatch: /\/machines\/edge-1$/, status: 503, retryAfterMs: 5, times: Infinity });
    const e = await err(r.bootstrap());
    expect(e.message).to.include('HTTP 503').and.include(`Arc machine resource ${MACHINE}`);
    fakes.arm.clearFaults();
    await r.bootstrap();
    await r.unbootstrap();
  });

  it('401 names the credential that was rejected', async () => {
    const r = rig();
    fakes.arm.inject({ pathMatch: /\/machines\/edge-1$/, status: 401, code: 'InvalidAuthenticationToken', times: Infinity });
    const e = await err(r.bootstrap());
    expect(e.message).to.include('rejected the token of the service principal cccccccc-0000-0000-0000-0000000000a1');
    fakes.arm.clearFaults();
    await r.bootstrap();
    await r.unbootstrap();
  });

  it('a wrong client secret is reported by Entra, without the secret', async () => {
    const r = rig((c) => {
      c.azure.servicePrincipal = { clientId: 'cccccccc-0000-0000-0000-0000000000ff', clientSecret: 'wrong-but-secret-value' };
    });
    const e = await err(r.bootstrap());
    expect(e.message).to.include('Microsoft Entra rejected the service principal cccccccc-0000-0000-0000-0000000000ff');
    expect(r.visibleText()).not.to.include('wrong-but-secret-value');
    expect(r.records('arc.connect', 'arc.connected')).to.deep.equal([]); // nothing connected, nothing journaled
  });

  it('403 names the missing permission, the role to grant and the scope; nothing is journaled; a re-run recovers', async () => {
    const r = rig();
    fakes.arm.inject({ method: 'PUT', pathMatch: '/roleAssignments/', status: 403, times: Infinity });
    const e = await err(r.bootstrap());
    expect(e.message).to.include("'Microsoft.Authorization/roleAssignments/write'").and.include(`scope '${CLUSTER_ID}'`).and.include(CLIENT_ID_SHORT());
    expect(e.hint).to.include('User Access Administrator').and.include(`--scope ${CLUSTER_ID}`);
    expect(ours(r)).to.deep.equal([]);
    fakes.arm.clearFaults();
    await r.bootstrap();
    expect(ours(r)).to.have.length(3);
    await r.unbootstrap();
  });

  it('404: a cluster that does not exist is named; a re-run after it exists recovers', async () => {
    const missingId = `/subscriptions/${SUB}/resourceGroups/${CLUSTER_RG}/providers/Microsoft.ContainerService/managedClusters/aks-missing`;
    const r = rig((c) => {
      c.azure.targetCluster = { resourceId: missingId, location: 'westeurope' };
    });
    const e = await err(r.bootstrap());
    expect(e.message).to.include(`the cluster aks-missing (resource group ${CLUSTER_RG}, subscription ${SUB}) was not found`);
    expect(ours(r)).to.deep.equal([]);
    fakes.arm.addCluster({ subscriptionId: SUB, resourceGroup: CLUSTER_RG, name: 'aks-missing', serverUrl: 'https://127.0.0.1:6443', caData: 'Q0E=' });
    await r.bootstrap();
    await r.unbootstrap();
    expect(fakes.arm.roleAssignments().filter((a) => a.scope === missingId)).to.deep.equal([]);
  });

  it('a failed long-running delete of the machine is reported; the journal keeps it; a re-run deletes it', async () => {
    const r = rig();
    await r.bootstrap();
    // The agent was disconnected locally only (azcmagent disconnect --force-local-only): the resource remains.
    r.host.onExec('azcmagent', (args) =>
      args[0] === 'show' ? { exitCode: 0, stdout: JSON.stringify({ status: 'Disconnected' }), stderr: '' } : { exitCode: 1, stdout: '', stderr: 'unexpected' },
    );
    fakes.arm.machineDeleteMode = 'async';
    fakes.arm.injectLroFailure({
      method: 'DELETE',
      pathMatch: /\/machines\/edge-1$/,
      code: 'DeleteFailed',
      message: 'Injected: the machine could not be deleted',
    });
    const e = await err(r.unbootstrap());
    expect(e.message).to.include(`delete the Arc machine resource ${MACHINE}`).and.include('Injected: the machine could not be deleted');
    expect(fakes.arm.machine(MACHINE)).not.to.equal(undefined);
    expect(r.records('arc.connect', 'arc.connected')).to.have.length(1);
    expect(ours(r)).to.deep.equal([]); // roles were removed first (reverse order)
    await r.unbootstrap();
    expect(fakes.arm.machine(MACHINE)).to.equal(undefined);
    expect(r.records('arc.connect', 'arc.connected')).to.deep.equal([]);
  });

  it('a dropped connection is retried; one that keeps dropping names the endpoint', async () => {
    const r = rig();
    fakes.arm.inject({ method: 'PUT', pathMatch: '/roleAssignments/', dropConnection: true, times: 1 });
    await r.bootstrap();
    expect(ours(r)).to.have.length(3);
    await r.unbootstrap();

    const r2 = rig();
    fakes.arm.inject({ method: 'GET', pathMatch: /\/machines\/edge-1$/, dropConnection: true, times: Infinity });
    const e = await err(r2.bootstrap());
    expect(e.message).to.include(`could not reach Azure Resource Manager at ${fakes.arm.url}`);
    fakes.arm.clearFaults();
    await r2.bootstrap();
    await r2.unbootstrap();
  });

  it('roles from azure.arc.roles by name or GUID; autoRoleAssignment false assigns nothing', async () => {
    const r = rig((c) => {
      c.azure.arc = { ...c.azure.arc, roles: ['Azure Kubernetes Service Cluster User Role', 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b'] };
    });
    await r.bootstrap();
    const principalId = fakes.arm.machine(MACHINE)!.principalId!;
    expect(
      assignmentsOf(principalId)
        .map((a) => a.roleDefinitionId.split('/').pop())
        .sort(),
    ).to.deep.equal([USER_ROLE, 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b'].sort());
    await r.unbootstrap();

    const off = rig((c) => {
      c.azure.arc = { ...c.azure.arc, autoRoleAssignment: false };
    });
    await off.bootstrap();
    expect(assignmentsOf(fakes.arm.machine(MACHINE)!.principalId!)).to.deep.equal([]);
    await off.unbootstrap();
  });
});

function CLIENT_ID_SHORT(): string {
  return 'cccccccc-0000-0000-0000-0000000000a1';
}
