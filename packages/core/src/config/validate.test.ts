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
