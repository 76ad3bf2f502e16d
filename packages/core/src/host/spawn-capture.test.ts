import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCapture } from './spawn-capture.js';

describe('host/spawn-capture', () => {
  it('captures stdout and stderr as text, feeds input, extends the environment, runs from /', async () => {
    const r = await spawnCapture('sh', ['-c', 'cat; echo "$FLEXNODE_T" >&2; pwd'], { input: 'fed\n', env: { FLEXNODE_T: 'extra' }, timeoutMs: 10_000 });
    expect(r).to.deep.include({ exitCode: 0, stdout: 'fed\n/\n', stderr: 'extra\n', timedOut: false });
    expect(r.spawnError).to.equal(undefined);
    // the rest of the environment is kept
    expect((await spawnCapture('sh', ['-c', 'echo "$PATH"'], { env: { X: '1' }, timeoutMs: 10_000 })).stdout.trim()).to.equal(process.env.PATH);
  });

  it('a child never inherits AZURE_CLIENT_SECRET or another credential, unless its caller passes it', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AZURE_CLIENT_SECRET: 'inherited-secret', ARM_CLIENT_SECRET: 'arm', FLEXNODE_T_TOKEN: 'tok' });
    try {
      const r = await spawnCapture('sh', ['-c', 'env'], { timeoutMs: 10_000 });
      expect(r.stdout).to.not.match(/inherited-secret|ARM_CLIENT_SECRET|FLEXNODE_T_TOKEN/);
      expect(r.stdout).to.include(`PATH=${process.env.PATH}`);
      const given = await spawnCapture('sh', ['-c', 'echo "$AZURE_CLIENT_SECRET"'], { env: { AZURE_CLIENT_SECRET: 'given' }, timeoutMs: 10_000 });
      expect(given.stdout).to.equal('given\n');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  });

  it('keeps all of a large output and the exit code', async () => {
    const r = await spawnCapture('sh', ['-c', 'head -c 3000000 /dev/zero | tr "\\0" x; exit 3'], { timeoutMs: 20_000 });
    expect(r.exitCode).to.equal(3);
    expect(r.stdout.length).to.equal(3_000_000);
  });

  it('a missing command is 127, a non-executable file 126, neither rejects', async () => {
    const missing = await spawnCapture('flexnode-no-such-command', [], { timeoutMs: 5_000 });
    expect(missing).to.deep.include({ exitCode: 127, spawnError: 'ENOENT' });
    const dir = mkdtempSync(join(tmpdir(), 'flexnode-spawn-'));
    try {
      const file = join(dir, 'not-executable');
      writeFileSync(file, '#!/bin/sh\n');
      chmodSync(file, 0o644);
      expect(await spawnCapture(file, [], { timeoutMs: 5_000 })).to.deep.include({ exitCode: 126, spawnError: 'EACCES' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a process killed by a signal reports 128 + the signal number', async () => {
    const r = await spawnCapture('sh', ['-c', 'kill -USR1 $$'], { timeoutMs: 5_000 });
    expect(r.exitCode).to.equal(128 + constants.signals.SIGUSR1);
  });

  it('a timeout sends SIGTERM, then SIGKILL to a process that ignores it', async () => {
    const start = Date.now();
    const polite = await spawnCapture('sleep', ['30'], { timeoutMs: 100 });
    expect(polite).to.deep.include({ timedOut: true, exitCode: 128 + constants.signals.SIGTERM });
    const stubborn = await spawnCapture('sh', ['-c', 'trap "" TERM; sleep 30 & wait; sleep 30'], { timeoutMs: 100, killGraceMs: 300 });
    expect(stubborn).to.deep.include({ timedOut: true, exitCode: 128 + constants.signals.SIGKILL });
    expect(Date.now() - start).to.be.below(10_000);
  });

  it('returns soon after the exit when a background process it started keeps the pipes open', async () => {
    const start = Date.now();
    const r = await spawnCapture('sh', ['-c', 'echo before; sleep 30 & exit 0'], { timeoutMs: 20_000 });
    expect(r).to.deep.include({ exitCode: 0, stdout: 'before\n', timedOut: false });
    expect(Date.now() - start).to.be.below(10_000);
  });

  it('input to a command that does not read it does not crash (EPIPE)', async () => {
    const r = await spawnCapture('true', [], { input: 'x'.repeat(1 << 20), timeoutMs: 5_000 });
    expect(r.exitCode).to.equal(0);
  });
});
