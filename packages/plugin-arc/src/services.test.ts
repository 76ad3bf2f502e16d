import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instantiate, Tokens, underRoot, type AzureContext, type Host, type NodeIdentity } from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { ArcNodeIdentity } from './node-identity.js';
import { MACHINE_RECORD, TOKEN_CACHE_DIR } from './paths.js';
import { arcIdentityService, azureCredentialService, deferredNodeIdentity } from './services.js';
import { cachedToken } from './token-cache.js';

const AKS = '6dae42f8-4368-4678-94ff-3960e28e3630';

describe("plugin-arc's services (the entry's side)", () => {
  let root: string;
  const saved = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IMDS_ENDPOINT: process.env.IMDS_ENDPOINT };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'flexnode-arc-services-'));
    // A cache miss would ask this closed loopback port (Arc's endpoints), never the cloud's metadata address.
    process.env.IDENTITY_ENDPOINT = 'http://127.0.0.1:9/metadata/identity/oauth2/token';
    process.env.IMDS_ENDPOINT = 'http://127.0.0.1:9';
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('arc-identity answers from the token cache `flexnode token` keeps under the root, and the recorded principal id', async () => {
    const scope = `${AKS}/.default`;
    await cachedToken(underRoot(root, TOKEN_CACHE_DIR), scope, async () => ({ token: 'from-kubelet-plugin', expiresOnTimestamp: Date.now() + 3_600_000 }));
    const machine = new MemoryHost().seedFile(MACHINE_RECORD, JSON.stringify({ resourceId: '/x', principalId: 'p-1' }));
    const host = Object.assign(Object.create(machine.forStep('service.arc-identity')) as Host, { root });
    const identity = instantiate(arcIdentityService, (token) => (token === Tokens.Host ? host : undefined)) as NodeIdentity;
    expect((await identity.getToken(scope)).token).to.equal('from-kubelet-plugin');
    expect((await identity.getToken(scope)).token).to.equal('from-kubelet-plugin');
    expect(await identity.principalId()).to.equal('p-1');
    expect(identity.execCredential(AKS)).to.deep.equal(new ArcNodeIdentity(undefined).execCredential(AKS));
  });

  it("arc-identity's exec credential is the command ArcNodeIdentity names, with the Arc endpoints passed on", () => {
    const bin = '/usr/lib/node_modules/@flexnode/cli/bin/run.js';
    const exec = deferredNodeIdentity(undefined, { bin }).execCredential(AKS);
    expect(exec).to.deep.equal({
      command: process.execPath,
      args: [bin, 'token', '--resource', AKS],
      env: {
        IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT,
        IMDS_ENDPOINT: process.env.IMDS_ENDPOINT,
        ...(process.env.FLEXNODE_STATE_DIR ? { FLEXNODE_STATE_DIR: process.env.FLEXNODE_STATE_DIR } : {}),
      },
    });
    expect(exec).to.deep.equal(new ArcNodeIdentity(undefined, { bin }).execCredential(AKS));
  });

  it("azure-credential gives the config's subscription, tenant (the service principal's first) and ARM endpoint", () => {
    const config = testConfig();
    config.azure.cloud = 'AzureChinaCloud';
    config.azure.servicePrincipal = { clientId: '00000000-0000-0000-0000-00000000c11e', tenantId: '11111111-2222-3333-4444-555555555555' };
    const ctx = instantiate(azureCredentialService, (token) => (token === Tokens.Config ? config : undefined)) as AzureContext;
    expect(ctx.subscriptionId).to.equal(config.azure.subscriptionId);
    expect(ctx.tenantId).to.equal('11111111-2222-3333-4444-555555555555');
    expect(ctx.resourceManagerEndpoint).to.equal('https://management.chinacloudapi.cn');
    expect(ctx.armScope).to.equal('https://management.chinacloudapi.cn/.default');
    expect(ctx.clientOptions).to.deep.include({ credentialScopes: ['https://management.chinacloudapi.cn/.default'] });
  });
});
