import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { badConfigs } from './bad-configs.fixture.js';
import { validateConfig } from './validate.js';
import { fullConfig } from './valid-config.fixture.js';
import { findPlaceholders } from './placeholders.js';

describe('config validation', () => {
  it('accepts a complete config with every extension', () => {
    expect(validateConfig(fullConfig())).to.deep.equal([]);
  });

  it('accepts the upstream README example unchanged, its placeholders set aside', async () => {
    const example = JSON.parse(await readFile(new URL('../../../../examples/config.json', import.meta.url), 'utf8'));
    const placeholders = findPlaceholders(example);
    expect(placeholders).to.include.members(['azure.subscriptionId', 'azure.tenantId', 'azure.targetCluster.resourceId']);
    expect(validateConfig(example, placeholders)).to.deep.equal([]);
    expect(validateConfig(example)).to.not.deep.equal([]);
  });

  it('accepts an AKS resource id in any case, as ARM does (az prints resourcegroups in lower case at times)', () => {
    for (const id of [
      '/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-aks/providers/microsoft.containerservice/managedclusters/aks-1',
      '/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/rg-aks/PROVIDERS/Microsoft.ContainerService/ManagedClusters/aks-1',
    ]) {
      const config = fullConfig();
      config.azure.targetCluster.resourceId = id;
      expect(validateConfig(config), id).to.deep.equal([]);
    }
    const config = fullConfig();
    config.azure.targetCluster.resourceId =
      '/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm';
    expect(validateConfig(config).map((i) => i.path)).to.include('azure.targetCluster.resourceId');
  });

  it('accepts Arc turned off when the kubelet does not need the Arc identity', () => {
    const bootstrapToken = fullConfig();
    bootstrapToken.azure.arc.enabled = false;
    bootstrapToken.kubernetes.auth = 'bootstrap-token';
    expect(validateConfig(bootstrapToken)).to.deep.equal([]);
    const otherIdentity = fullConfig();
    otherIdentity.azure.arc.enabled = false;
    otherIdentity.plugins['arc-identity'] = '@org/plugin-identity';
    expect(validateConfig(otherIdentity)).to.deep.equal([]);
  });

  it('never echoes a secret: a secret field of the wrong type or shape, an object or array holding one, a URL password', () => {
    const SECRET = 's3cr3t-never-shown';
    const cases: ((c: Record<string, any>) => void)[] = [
      (c) => (c.azure.servicePrincipal.clientSecret = [SECRET]),
      (c) => (c.azure.servicePrincipal.clientSecret = { v: SECRET }),
      (c) => (c.azure.servicePrincipal.tenantId = { clientSecret: SECRET }),
      (c) => (c.azure.servicePrincipal = SECRET),
      (c) => (c.azure.arc.tags = [SECRET]),
      (c) => (c.proxy.https = `http://user:${SECRET}@proxy:99999999`),
      (c) => (c.artifacts.mirror = `ftp://user:${SECRET}@mirror/`),
    ];
    for (const mutate of cases) {
      const config = fullConfig();
      mutate(config);
      const issues = validateConfig(config);
      expect(issues, mutate.toString()).to.not.deep.equal([]);
      expect(JSON.stringify(issues), mutate.toString()).to.not.contain(SECRET);
    }
    // A number in a secret field: its type, not its digits.
    const config = fullConfig();
    config.azure.servicePrincipal.clientSecret = 123456789;
    expect(validateConfig(config).find((i) => i.path === 'azure.servicePrincipal.clientSecret')?.message).to.equal('expected string, got number');
  });

  const corpus = badConfigs();
  it(`has at least 50 bad configs (${corpus.length})`, () => expect(corpus.length).to.be.at.least(50));

  for (const bad of corpus) {
    it(`rejects: ${bad.name} → ${bad.path}`, () => {
      const issues = validateConfig(bad.config);
      const issue = issues.find((i) => i.path === bad.path);
      expect(issue, `issues were ${JSON.stringify(issues)}`).to.not.equal(undefined);
      expect(issue!.message).to.match(bad.message);
    });
  }
});
