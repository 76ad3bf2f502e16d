import { expect } from 'chai';
import type { StepResult } from '@flexnode/core';
import { progressPrinter } from './progress.js';

const result = (id: string, outcome: StepResult['outcome'] = 'healthy'): StepResult => ({ id, title: id, plugin: '@x/p', outcome, durationMs: 1 });
const start = (id: string) => ({ type: 'step-start' as const, id, title: id, phase: 'check' as const });
const end = (id: string, outcome?: StepResult['outcome']) => ({ type: 'step-end' as const, result: result(id, outcome) });

describe('progress lines', () => {
  it('prints results in the order the steps started, each as soon as every earlier one has ended', () => {
    const lines: string[] = [];
    const print = progressPrinter((l) => lines.push(l));
    for (const id of ['a', 'b', 'c']) print(start(id));
    print(end('c'));
    expect(lines).to.deep.equal([]);
    print(end('a', 'unhealthy'));
    expect(lines.map((l) => l.split(/\s+/)[1])).to.deep.equal(['a']);
    print(start('d'));
    print(end('d'));
    print(end('b'));
    expect(lines.map((l) => l.split(/\s+/)[1])).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(lines[0]).to.match(/^✗ a\s+unhealthy/);
  });

  it('prints a step that ends without having started (a skip) at once', () => {
    const lines: string[] = [];
    const print = progressPrinter((l) => lines.push(l));
    print(end('skipped-one', 'skipped'));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^- skipped-one\s+skipped/);
  });
});
