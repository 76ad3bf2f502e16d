import { expect } from 'chai';
import { findPlaceholders, isPlaceholder } from './placeholders.js';

describe('placeholders of the upstream example config', () => {
  it('recognises your-..., YOUR_... and <...> values, also as a path segment of a resource id', () => {
    for (const value of [
      'your-subscription-id',
      '<tenant-id>',
      '/subscriptions/your-sub/resourceGroups/rg',
      'a=your-value',
      'YOUR_SUBSCRIPTION_ID',
      'Your-Location',
    ]) {
      expect(isPlaceholder(value), value).to.equal(true);
    }
    for (const value of ['00000000-0000-0000-0000-000000000001', 'edge-your-node', 'EDGE_YOUR_NODE', 'yourself', 'a < b', undefined, 42]) {
      expect(isPlaceholder(value), String(value)).to.equal(false);
    }
  });

  it('lists the dotted path of every placeholder in a document', () => {
    const doc = { azure: { tenantId: '<tenant-id>', subscriptionId: 'real', arc: { tags: { team: 'your-team' } } }, node: { taints: ['ok', '<taint>'] } };
    expect(findPlaceholders(doc)).to.deep.equal(['azure.tenantId', 'azure.arc.tags.team', 'node.taints[1]']);
  });
});
