import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { workerEnv, workerNodeOptions } from './worker.js';

describe('agent/worker NODE_OPTIONS', () => {
  it("keeps the agent's options but --jitless: the worker downloads and unpacks with the JIT", () => {
    expect(workerNodeOptions('--max-semi-space-size=1 --expose-gc --jitless')).to.equal('--max-semi-space-size=1 --expose-gc');
    expect(workerNodeOptions('  --jitless  ')).to.equal('');
    expect(workerNodeOptions('--max-semi-space-size=1')).to.equal('--max-semi-space-size=1');
  });

  it("Node takes the unit's NODE_OPTIONS, --jitless included (no WebAssembly without a JIT)", () => {
    const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(typeof WebAssembly)'], {
      env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=1 --expose-gc --jitless' },
      encoding: 'utf8',
    });
    expect(out).to.equal('undefined');
  });
});

describe('agent/worker environment', () => {
  it("names the CLI's entry (FLEXNODE_BIN), so what the worker writes of it matches the agent's checks", () => {
    const cli = '/opt/flexnode/0.1.0/lib/node_modules/@flexnode/cli/bin/run.js';
    const env = workerEnv({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '1', NODE_OPTIONS: '--jitless', PATH: '/usr/bin' }, [
      '/usr/bin/node',
      cli,
      'agent',
    ]);
    expect(env).to.deep.equal({ NODE_OPTIONS: '', PATH: '/usr/bin', FLEXNODE_BIN: cli });
    expect(workerEnv({ FLEXNODE_BIN: '/usr/local/bin/flexnode' }, ['/usr/bin/node', cli]).FLEXNODE_BIN, 'an explicit one wins').to.equal(
      '/usr/local/bin/flexnode',
    );
    expect(workerEnv({}, ['/usr/bin/node', '/tmp/some-test-runner.js']).FLEXNODE_BIN, 'not the CLI: left alone').to.equal(undefined);
  });
});
