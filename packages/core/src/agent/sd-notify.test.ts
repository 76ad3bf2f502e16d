import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier } from './sd-notify.js';

/** A real AF_UNIX datagram listener (python3) that prints the sender pid from SCM_CREDENTIALS and the message. */
const LISTENER = `
import os, socket, struct, sys, json
a = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind('\\0' + a[1:] if a.startswith('@') else a)
print('listening', flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack('3i', data[:12])[0]
    print(json.dumps({'pid': pid, 'message': msg.decode()}), flush=True)
`;

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('sd_notify over a real unix datagram socket (python3 listener)', function () {
  this.timeout(20_000);
  let dir: string;
  let listener: ChildProcess | undefined;
  let received: { pid: number; message: string }[];

  before(function () {
    if (!has('python3')) {
      console.log('SKIP: sd_notify test needs python3 for the datagram listener');
      this.skip();
    }
  });
  beforeEach(() => (received = []));
  afterEach(async () => {
    if (listener?.pid && listener.exitCode === null) listener.kill('SIGKILL');
    listener = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function listen(address: string): Promise<void> {
    listener = spawn('python3', ['-c', LISTENER, address], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      listener!.stdout!.on('data', (b: Buffer) => {
        buffer += b.toString();
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 1);
          if (line === 'listening') resolve();
          else received.push(JSON.parse(line));
        }
      });
      listener!.on('error', reject);
    });
  }
  const waitFor = async (n: number) => {
    for (let i = 0; i < 200 && received.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };

  for (const kind of ['path', 'abstract'] as const) {
    it(`sends READY/STATUS/WATCHDOG as one datagram each, credited to this process's pid (${kind} socket)`, async () => {
      dir = await mkdtemp(join(tmpdir(), 'flexnode-notify-'));
      const address = kind === 'path' ? join(dir, 'notify.sock') : `@flexnode-test-${process.pid}-${Date.now()}`;
      await listen(address);
      const errors: string[] = [];
      const env = { NOTIFY_SOCKET: address, WATCHDOG_USEC: '3000000', WATCHDOG_PID: String(process.pid) };
      const n = createNotifier({ env, unsetEnvironment: true, onError: (e) => errors.push(e) });
      expect(n.enabled).to.equal(true);
      expect(n.watchdogIntervalMs).to.equal(1_500);
      expect(env, 'the variables are not passed on to children').to.deep.equal({});
      await n.notify({ READY: 1, STATUS: 'healthy: 4 step(s) ok\nFORGED=1' });
      await n.notify({ WATCHDOG: 1 });
      await waitFor(2);
      expect(errors).to.deep.equal([]);
      expect(received).to.have.length(2);
      // Credited to us, not to the helper: systemd accepts it under NotifyAccess=main.
      for (const r of received) expect(r.pid).to.equal(process.pid);
      const lines = (m: string) => m.split('\n').filter((l) => !l.startsWith('MAINPID='));
      expect(lines(received[0]!.message)).to.deep.equal(['READY=1', 'STATUS=healthy: 4 step(s) ok FORGED=1']);
      expect(lines(received[1]!.message)).to.deep.equal(['WATCHDOG=1']);
    });
  }

  it('is a no-op without NOTIFY_SOCKET, and ignores a watchdog meant for another pid', async () => {
    const none = createNotifier({ env: {} });
    expect(none.enabled).to.equal(false);
    expect(none.watchdogIntervalMs).to.equal(undefined);
    await none.notify({ READY: 1 });
    const other = createNotifier({ env: { NOTIFY_SOCKET: '/nonexistent', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' } });
    expect(other.watchdogIntervalMs).to.equal(undefined);
  });

  it('reports a message it could not deliver instead of throwing', async () => {
    const errors: string[] = [];
    const n = createNotifier({ env: { NOTIFY_SOCKET: '/nonexistent/notify.sock' }, onError: (e) => errors.push(e) });
    await n.notify({ READY: 1 });
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/sd_notify READY failed/);
  });
});
