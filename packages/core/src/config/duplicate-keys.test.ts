import { expect } from 'chai';
import { duplicateKeys } from './duplicate-keys.js';

describe('duplicate keys in the config text', () => {
  it('names each key given twice in one object, by its path; the same key in different objects is fine', () => {
    const text = `{"azure": {"subscriptionId": "a", "arc": {"tags": {"x": "1"}}, "subscriptionId": "b"},
      "node": {"labels": {"k": "v", "k": "w"}, "taints": [{"a": 1}, {"a": 2, "a": 3}]}, "agent": {"logLevel": "info"}}`;
    expect(duplicateKeys(text)).to.deep.equal(['azure.subscriptionId', 'node.labels.k', 'node.taints[1].a']);
    expect(duplicateKeys('{"a": {"b": 1}, "c": {"b": 2}, "s": "x\\"y: \\"b\\": {"}')).to.deep.equal([]);
  });
});
