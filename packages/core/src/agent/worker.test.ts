import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { workerNodeOptions } from './worker.js';

describe('agent/worker NODE_OPTIONS', () => {
  it("keeps the agent's options but --jitless: the worker downloads and unpacks with the JIT", () => {
    expect(workerNodeOptions('--max-semi-space-size=1 --expose-gc --jitless')).to.equal('--max-semi-space-size=1 --expose-gc');
    expect(workerNodeOptions('  --jitless  ')).to.equal('');
    expect(workerNodeOptions('--max-semi-space-size=1')).to.equal('--max-semi-space-size=1');
  });

  it('Node takes the unit\'s NODE_OPTIONS, --jitless included (no WebAssembly without a JIT)', () => {
    const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(typeof WebAssembly)'], {
      env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=1 --expose-gc --jitless' },
      encoding: 'utf8',
    });
    expect(out).to.equal('undefined');
  });
});
