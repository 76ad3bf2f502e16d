// The REAL pinned Azure SDK clients and a real ClientSecretCredential against the fake ARM and fake Entra.
// The test process trusts the fakes' certificate through trustPolicy() (NODE_EXTRA_CA_CERTS is read only at
// process start); child processes (the azcmagent stand-in) get NODE_EXTRA_CA_CERTS.
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import { ClientSecretCredential } from '@azure/identity';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { FakeArm, PINNED_API_VERSIONS } from './fake-arm.js';
import { FakeEntra } from './fake-entra.js';
import { trustAgent, trustPolicy } from './tls.js';

const execFileP = promisify(execFile);
const SUB = '11111111-2222-3333-4444-555555555555';
const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const RG = 'rg-flex';
const CLIENT = { clientId: 'cccccccc-0000-0000-0000-000000000001', clientSecret: 's3cret-value' };
const AZCMAGENT = new URL('./standins/azcmagent.js', import.meta.url).pathname;
const ARM_SCOPE = 'https://management.azure.com/.default';
const AKS_USER_ROLE = '4abbcc35-e782-43d8-92c5-2d3f1bd2253f';

describe('fake ARM with the real Azure SDK clients', function () {
  let entra: FakeEntra;
  let arm: FakeArm;
  let cred: ClientSecretCredential;
  let tmp: string;
  const fast = { retryOptions: { maxRetries: 3, retryDelayInMs: 5, maxRetryDelayInMs: 20 } };
  let opts: { endpoint: string; additionalPolicies: { policy: ReturnType<typeof trustPolicy>; position: 'perCall' }[] } & typeof fast;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'fake-arm-test-'));
    entra = await FakeEntra.start({ clients: [CLIENT], tenantId: TENANT });
    arm = await FakeArm.start({
      tenantId: TENANT,
      acceptToken: (t) => {
        const i = entra.lookup(t);
        return i ? { appId: i.clientId, objectId: i.objectId } : false;
      },
    });
    const policy = trustPolicy(arm.cert);
    cred = new ClientSecretCredential(TENANT, CLIENT.clientId, CLIENT.clientSecret, {
      authorityHost: entra.url,
      disableInstanceDiscovery: true,
      additionalPolicies: [{ policy, position: 'perCall' }],
    });
    opts = { endpoint: arm.url, additionalPolicies: [{ policy, position: 'perCall' }], ...fast };
  });

  after(async () => {
    await arm?.stop();
    await entra?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  afterEach(() => arm.clearFaults());

  const hc = () => new HybridComputeManagementClient(cred, SUB, opts);
  const authz = () => new AuthorizationManagementClient(cred, SUB, { ...opts, credentialScopes: [ARM_SCOPE] });
  const aks = () => new ContainerServiceClient(cred, SUB, opts);

  async function standin(args: string[], state: string) {
    return execFileP(process.execPath, [AZCMAGENT, ...args], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: arm.certPath, AZCMAGENT_STANDIN_ARM: arm.url, AZCMAGENT_STANDIN_STATE: state },
    });
  }

  it('azcmagent stand-in connect -> machines.get returns the system-assigned identity', async () => {
    const token = (await cred.getToken(ARM_SCOPE)).token;
    const state = join(tmp, 'state1.json');
    await standin(
      [
        'connect',
        '--resource-group',
        RG,
        '--tenant-id',
        TENANT,
        '--location',
        'westeurope',
        '--subscription-id',
        SUB,
        '--resource-name',
        'node1',
        '--tags',
        'owner=flexnode,env=test',
        '--cloud',
        'AzureCloud',
        '--access-token',
        token,
      ],
      state,
    );
    const saved = JSON.parse(readFileSync(state, 'utf8'));

    const m = await hc().machines.get(RG, 'node1');
    expect(m.identity?.type).to.equal('SystemAssigned');
    expect(m.identity?.principalId)
      .to.equal(saved.principalId)
      .and.to.match(/^[0-9a-f-]{36}$/);
    expect(m.identity?.tenantId).to.equal(TENANT);
    expect(m.location).to.equal('westeurope');
    expect(m.tags).to.deep.equal({ owner: 'flexnode', env: 'test' });

    const gets = arm.requestsTo('/machines/node1', 'GET');
    expect(gets.at(-1)!.apiVersion).to.equal(PINNED_API_VERSIONS.hybridCompute);
    expect(gets.at(-1)!.hasBearer).to.equal(true);
    expect(entra.isIssued(gets.at(-1)!.bearer!)).to.equal(true);
    expect(arm.requestsTo('/__fake/machines/', 'PUT').at(-1)!.bearer).to.equal(token);

    const list = [];
    for await (const x of hc().machines.listByResourceGroup(RG)) list.push(x);
    expect(list.map((x) => x.name)).to.include('node1');
  });

  it('role assignments: list filtered by principal, create 201, duplicate 409 RoleAssignmentExists, delete', async () => {
    const principalId = arm.addMachine({ subscriptionId: SUB, resourceGroup: RG, name: 'node-ra' }).principalId!;
    const c = arm.addCluster({ subscriptionId: SUB, resourceGroup: RG, name: 'aks1', serverUrl: 'https://127.0.0.1:6443', caData: 'Q0E=' });
    const scope = `subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
    const client = authz();
    const filter = `principalId eq '${principalId}'`;
    const listed = async () => {
      const out = [];
      for await (const a of client.roleAssignments.listForScope(scope, { filter })) out.push(a);
      return out;
    };

    expect(await listed()).to.have.length(0);
    const roleDefinitionId = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${AKS_USER_ROLE}`;
    const created = await client.roleAssignments.create(scope, randomUUID(), { roleDefinitionId, principalId, principalType: 'ServicePrincipal' });
    expect(created.principalId).to.equal(principalId);
    expect(created.scope).to.equal(`/${scope}`);
    expect(arm.requestsTo('/roleAssignments/', 'PUT').at(-1)!.status).to.equal(201);
    expect((await listed()).map((a) => a.id)).to.deep.equal([created.id]);

    const dup = await client.roleAssignments.create(scope, randomUUID(), { roleDefinitionId, principalId, principalType: 'ServicePrincipal' }).then(
      () => undefined,
      (e: { statusCode?: number; code?: string }) => e,
    );
    expect(dup?.statusCode).to.equal(409);
    expect(dup?.code).to.equal('RoleAssignmentExists');

    const rd = await client.roleDefinitions.get(`subscriptions/${SUB}`, AKS_USER_ROLE);
    expect(rd.roleName).to.equal('Azure Kubernetes Service Cluster User Role');
    const byName = [];
    for await (const d of client.roleDefinitions.list(`subscriptions/${SUB}`, { filter: "roleName eq 'Azure Connected Machine Onboarding'" })) byName.push(d);
    expect(byName.map((d) => d.name)).to.deep.equal(['b64e21ea-ac4e-4cdf-9dc9-5b892992bee7']);

    await client.roleAssignments.delete(scope, created.name!);
    expect(await listed()).to.have.length(0);
    const ra = arm.requestsTo('/roleAssignments').at(-1)!;
    expect(ra.apiVersion).to.equal(PINNED_API_VERSIONS.roleAssignments);
    expect(arm.requestsTo('/roleDefinitions').at(-1)!.apiVersion).to.equal(PINNED_API_VERSIONS.roleDefinitions);
    expect(ra.path.startsWith('//')).to.equal(false);
  });

  it('role assignment on a cluster in another resource group is a 404', async () => {
    const scope = `subscriptions/${SUB}/resourceGroups/other-rg/providers/Microsoft.ContainerService/managedClusters/aks1`;
    const err = await authz()
      .roleAssignments.create(scope, randomUUID(), {
        roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${AKS_USER_ROLE}`,
        principalId: randomUUID(),
      })
      .then(
        () => undefined,
        (e: { statusCode?: number; code?: string }) => e,
      );
    expect(err?.statusCode).to.equal(404);
    expect(err?.code).to.equal('ResourceNotFound');
  });

  it('managedClusters.get and listClusterUserCredentials(format=exec)', async () => {
    arm.addCluster({
      subscriptionId: SUB,
      resourceGroup: RG,
      name: 'aks2',
      kubernetesVersion: '1.30.4',
      serverUrl: 'https://127.0.0.1:16443',
      caData: 'Q0FEQVRB',
      networkProfile: { podCidr: '10.200.0.0/16', serviceCidr: '10.100.0.0/16', dnsServiceIP: '10.100.0.10' },
    });
    const client = aks();
    const c = await client.managedClusters.get(RG, 'aks2');
    expect(c.kubernetesVersion).to.equal('1.30.4');
    expect(c.fqdn).to.equal('127.0.0.1');
    expect(c.aadProfile).to.include({ managed: true, enableAzureRbac: true }); // the SDK's name for enableAzureRBAC
    expect(c.networkProfile).to.include({ podCidr: '10.200.0.0/16', serviceCidr: '10.100.0.0/16', dnsServiceIP: '10.100.0.10' });

    const creds = await client.managedClusters.listClusterUserCredentials(RG, 'aks2', { format: 'exec' });
    const kc = parseYaml(Buffer.from(creds.kubeconfigs![0].value!).toString('utf8'));
    expect(kc.clusters[0].cluster.server).to.equal('https://127.0.0.1:16443');
    expect(kc.clusters[0].cluster['certificate-authority-data']).to.equal('Q0FEQVRB');
    expect(kc.users[0].user.exec.args).to.include('6dae42f8-4368-4678-94ff-3960e28e3630');
    const post = arm.requestsTo('/listClusterUserCredential', 'POST').at(-1)!;
    expect(post.query.format).to.equal('exec');
    expect(post.apiVersion).to.equal(PINNED_API_VERSIONS.containerService);
  });

  it('retries 429 and 503 honouring retry-after-ms', async () => {
    arm.addMachine({ subscriptionId: SUB, resourceGroup: RG, name: 'node-throttle' });
    const throttled = arm.inject({ pathMatch: /\/machines\/node-throttle$/, status: 429, times: 2, retryAfterMs: 20 });
    const unavailable = arm.inject({ pathMatch: /\/machines\/node-throttle$/, status: 503, times: 1, retryAfterMs: 20 });
    const t0 = Date.now();
    const m = await hc().machines.get(RG, 'node-throttle');
    expect(m.name).to.equal('node-throttle');
    expect(throttled.hits).to.equal(2);
    expect(unavailable.hits).to.equal(1);
    expect(arm.requestsTo('/machines/node-throttle').map((r) => r.status)).to.deep.equal([429, 429, 503, 200]);
    expect(Date.now() - t0).to.be.lessThan(3000);
  });

  it('retries a 500 and a dropped connection', async () => {
    arm.addMachine({ subscriptionId: SUB, resourceGroup: RG, name: 'node-flaky' });
    arm.inject({ pathMatch: '/machines/node-flaky', status: 500 });
    arm.inject({ pathMatch: '/machines/node-flaky', dropConnection: true });
    const m = await hc().machines.get(RG, 'node-flaky');
    expect(m.name).to.equal('node-flaky');
    expect(arm.requestsTo('/machines/node-flaky')).to.have.length(3);
  });

  it('403 AuthorizationFailed names the caller, the action and the scope', async () => {
    arm.inject({ method: 'PUT', pathMatch: '/roleAssignments/', status: 403 });
    arm.addCluster({ subscriptionId: SUB, resourceGroup: RG, name: 'aks3', serverUrl: 'https://127.0.0.1:1', caData: '' });
    const scope = `subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks3`;
    const err = await authz()
      .roleAssignments.create(scope, randomUUID(), {
        roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${AKS_USER_ROLE}`,
        principalId: randomUUID(),
      })
      .then(
        () => undefined,
        (e: { statusCode?: number; code?: string; message: string }) => e,
      );
    expect(err?.statusCode).to.equal(403);
    expect(err?.code).to.equal('AuthorizationFailed');
    expect(err?.message)
      .to.include(`The client '${CLIENT.clientId}' with object id '${entra.clients[0].objectId}'`)
      .and.to.include("perform action 'Microsoft.Authorization/roleAssignments/write'")
      .and.to.include(`over scope '/${scope}/providers/Microsoft.Authorization/roleAssignments/`);
  });

  it('404 ResourceNotFound for a missing machine; delete answers 200/204, or 202 in async mode', async () => {
    const err = await hc()
      .machines.get(RG, 'nope')
      .then(
        () => undefined,
        (e: { statusCode?: number; code?: string }) => e,
      );
    expect(err?.statusCode).to.equal(404);
    expect(err?.code).to.equal('ResourceNotFound');

    arm.addMachine({ subscriptionId: SUB, resourceGroup: RG, name: 'node-del' });
    await hc().machines.delete(RG, 'node-del');
    expect(arm.machine('node-del')).to.equal(undefined);
    await hc().machines.delete(RG, 'node-del');
    expect(arm.requestsTo('/machines/node-del', 'DELETE').map((r) => r.status)).to.deep.equal([200, 204]);

    arm.addMachine({ subscriptionId: SUB, resourceGroup: RG, name: 'node-async' });
    arm.machineDeleteMode = 'async';
    try {
      const e202 = await hc()
        .machines.delete(RG, 'node-async')
        .then(
          () => undefined,
          (e: { statusCode?: number }) => e,
        );
      expect(e202?.statusCode).to.equal(202); // arm-hybridcompute 3.0.0 has no LRO for delete (see azure.md)
      const del = arm.requestsTo('/machines/node-async', 'DELETE').at(-1)!;
      expect(del.status).to.equal(202);
    } finally {
      arm.machineDeleteMode = 'sync';
    }
  });

  it('a long-running operation that ends Failed rejects the poller; a successful one deletes', async () => {
    arm.addCluster({ subscriptionId: SUB, resourceGroup: RG, name: 'aks-lro', serverUrl: 'https://127.0.0.1:1', caData: '' });
    arm.injectLroFailure({ method: 'DELETE', pathMatch: '/managedClusters/aks-lro', code: 'OperationNotAllowed', message: 'Injected failure' });
    const err = await aks()
      .managedClusters.delete(RG, 'aks-lro', { updateIntervalInMs: 10 })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(String(err?.message)).to.include('Injected failure');
    expect(arm.clusters().some((c) => c.name === 'aks-lro')).to.equal(true);

    await aks().managedClusters.delete(RG, 'aks-lro', { updateIntervalInMs: 10 });
    expect(arm.clusters().some((c) => c.name === 'aks-lro')).to.equal(false);
  });

  it('answers 401 without a bearer token or with an unknown one', async () => {
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        import('node:https').then(({ request }) => {
          const req = request(
            `${arm.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.HybridCompute/machines/x?api-version=2021-05-20`,
            { agent: trustAgent(arm.cert), headers },
            (res) => {
              let body = '';
              res.on('data', (d) => {
                body += d;
              });
              res.on('end', () => resolve({ status: res.statusCode!, body }));
            },
          );
          req.on('error', reject);
          req.end();
        }, reject);
      });
    const none = await get({});
    expect(none.status).to.equal(401);
    expect(JSON.parse(none.body).error.code).to.equal('AuthenticationFailed');
    const bad = await get({ authorization: 'Bearer not-a-token' });
    expect(bad.status).to.equal(401);
    expect(JSON.parse(bad.body).error.code).to.equal('InvalidAuthenticationToken');
  });

  it('a wrong client secret fails at the fake Entra with an AADSTS error', async () => {
    const bad = new ClientSecretCredential(TENANT, CLIENT.clientId, 'wrong', {
      authorityHost: entra.url,
      disableInstanceDiscovery: true,
      additionalPolicies: [{ policy: trustPolicy(entra.cert), position: 'perCall' }],
    });
    const err = await bad.getToken(ARM_SCOPE).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(String(err?.message)).to.include('AADSTS7000215');
  });

  it('an unknown client id is 400 unauthorized_client (AADSTS700016), the wrong tenant suggested, as Entra answers', async () => {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: '99999999-0000-0000-0000-000000000000',
      client_secret: 'x',
      scope: ARM_SCOPE,
    });
    const { request } = await import('node:https');
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${entra.url}/${TENANT}/oauth2/v2.0/token`,
        { method: 'POST', agent: trustAgent(entra.cert), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end(form.toString());
    });
    expect(res.status).to.equal(400);
    const body = JSON.parse(res.body) as { error: string; error_description: string; error_codes: number[] };
    expect(body.error).to.equal('unauthorized_client');
    expect(body.error_codes).to.deep.equal([700016]);
    expect(body.error_description).to.include('You may have sent your authentication request to the wrong tenant.');
  });
});
