import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokens, type Host } from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { ArcAzureContext } from './azure-context.js';
import { clientSecret } from './azure-credential.js';

const SP = { clientId: '00000000-0000-0000-0000-00000000c11e' };

describe('azure-credential service (ArcAzureContext)', () => {
  it('gives clients the cloud endpoint, the ARM scope and retries; a custom authority disables instance discovery', () => {
    const config = testConfig();
    config.azure.cloud = 'AzureUSGovernment';
    const ctx = new ArcAzureContext(config, undefined, undefined);
    expect(ctx.resourceManagerEndpoint).to.equal('https://management.usgovcloudapi.net');
    expect(ctx.clientOptions).to.deep.include({
      endpoint: 'https://management.usgovcloudapi.net',
      credentialScopes: ['https://management.usgovcloudapi.net/.default'],
    });
    config.azure.endpoints = { resourceManager: 'https://127.0.0.1:1/', authorityHost: 'https://127.0.0.1:2' };
    config.pluginConfig = { '@flexnode/plugin-arc': { retry: { maxRetries: 1, retryDelayInMs: 5 } } };
    const over = new ArcAzureContext(config, undefined, undefined, { clientOptions: { extra: 1 } });
    expect(over.clientOptions).to.deep.include({ endpoint: 'https://127.0.0.1:1', extra: 1 });
    expect(over.clientOptions.retryOptions).to.deep.include({ maxRetries: 1, retryDelayInMs: 5 });
    expect((over as unknown as { identityOptions(): Record<string, unknown> }).identityOptions()).to.include({
      authorityHost: 'https://127.0.0.1:2',
      disableInstanceDiscovery: true,
    });
  });

  it('refuses a clientSecretFile that others can write, naming the file and the fix; reads it under the root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flexnode-arc-secret-'));
    try {
      await mkdir(join(root, 'etc/flexnode'), { recursive: true });
      await writeFile(join(root, 'etc/flexnode/sp-secret'), 'very-secret-value\n');
      await chmod(join(root, 'etc/flexnode/sp-secret'), 0o666);
      // The MemoryHost's machine, seen under a root directory where the secret file really is.
      const host = Object.assign(Object.create(new MemoryHost().forStep('service.azure-credential')) as Host, { root });
      const config = testConfig();
      config.azure.servicePrincipal = { ...SP, clientSecretFile: '/etc/flexnode/sp-secret' };
      const ctx = new ArcAzureContext(config, host, undefined, { env: {} });
      const err = await ctx.credential.getToken('https://management.azure.com/.default').then(
        () => undefined,
        (e: Error & { hint?: string }) => e,
      );
      expect(err?.message).to.include('/etc/flexnode/sp-secret').and.include('writable by every user');
      expect(err?.hint).to.include('chmod 600');
      expect(err?.message).not.to.include('very-secret-value');
      await chmod(join(root, 'etc/flexnode/sp-secret'), 0o600);
      const secret = await clientSecret(config, host, {});
      expect(secret).to.equal('very-secret-value');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a service principal without any secret says where to put one', async () => {
    const config = testConfig();
    config.azure.servicePrincipal = { ...SP };
    const ctx = new ArcAzureContext(config, new MemoryHost().forStep('s'), undefined, { env: {} });
    const err = await ctx.credential.getToken('x').then(
      () => undefined,
      (e: Error & { hint?: string }) => e,
    );
    expect(err?.message).to.include('no secret');
    expect(err?.hint).to.include('AZURE_CLIENT_SECRET');
  });

  it('an authority that does not answer: its failure, naming it, is given again at once for a minute (not ~9 s per step)', async function () {
    this.timeout(60_000);
    const config = testConfig({ pluginConfig: { '@flexnode/plugin-arc': { retry: { maxRetries: 0 } } } });
    config.azure.servicePrincipal = { ...SP, clientSecret: 'not-a-real-secret-value' };
    // Loopback port 1: refused at once, nothing leaves the machine.
    config.azure.endpoints = { authorityHost: 'https://127.0.0.1:1' };
    const ctx = new ArcAzureContext(config, undefined, undefined, { env: {} });
    const first = (await ctx.credential.getToken(ctx.armScope).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(first?.code).to.equal('AZURE_ENTRA_UNREACHABLE');
    expect(first.message).to.include('https://127.0.0.1:1');
    const started = Date.now();
    const again = await ctx.credential.getToken(ctx.armScope).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(again).to.equal(first);
    expect(Date.now() - started).to.be.below(200);
  });

  it('without a service principal, an Azure CLI login or a terminal: a clear error, no hang', async function () {
    this.timeout(40_000);
    const config = testConfig();
    const ctx = new ArcAzureContext(config, undefined, undefined, { interactive: false, env: {} });
    const started = Date.now();
    const err = await ctx.credential.getToken('https://management.azure.com/.default').then(
      () => undefined,
      (e: Error & { code?: string; hint?: string }) => e,
    );
    expect(err?.code, err?.message).to.be.oneOf(['AZURE_NO_CREDENTIAL', 'AZURE_CREDENTIAL_REJECTED']);
    if (err?.code === 'AZURE_NO_CREDENTIAL') expect(err.hint).to.include('az login');
    expect(Date.now() - started).to.be.lessThan(35_000);
  });

  it('is registered under the Tokens the SDK names', () => {
    expect(typeof Tokens.Config).to.equal('symbol');
  });
});
