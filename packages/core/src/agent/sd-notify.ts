import { execFile } from 'node:child_process';
import { childEnvironment } from '@flexnode/sdk';

/** Run a helper with a timeout; resolves with its exit code (-1 when it could not start) and stderr. */
function run(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeout: number },
): Promise<{ exitCode: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env: options.env ?? childEnvironment(), timeout: options.timeout, encoding: 'utf8' }, (error, _stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ exitCode: code, stderr: String(stderr ?? '') });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * sd_notify(3) for Node, which has no AF_UNIX datagram sockets. Each message is sent by `systemd-notify
 * --no-block --pid=<our pid>`: run as root, it sends the datagram with SCM_CREDENTIALS naming OUR pid (root may
 * pass another pid), so systemd accepts it under NotifyAccess=main and attributes it to the agent even though
 * the helper has exited by the time it is read (the classic systemd-notify race does not apply: attribution
 * is by the pid in the credentials, which is alive). `--no-block` skips the BARRIER=1 handshake, which would come
 * from the helper's own pid and be refused (and logged) under NotifyAccess=main. Where systemd-notify is
 * missing, python3 sends the same datagram with the same credentials.
 */
export interface Notifier {
  /** Whether a service manager listens (NOTIFY_SOCKET was set). */
  readonly enabled: boolean;
  /** Half of WATCHDOG_USEC when systemd asked for a watchdog (for this pid), else undefined. */
  readonly watchdogIntervalMs: number | undefined;
  /** Send `KEY=VALUE` lines; never throws (a lost notification is logged by the caller's onError). */
  notify(fields: Record<string, string | number>): Promise<void>;
}

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** Called with the reason when a message could not be sent. */
  onError?: (message: string) => void;
  /** Remove NOTIFY_SOCKET/WATCHDOG_* from process.env so children (apt, systemctl) do not inherit them (default true when env is process.env). */
  unsetEnvironment?: boolean;
}

const PY_SEND = [
  'import os, socket, struct, sys',
  'a = sys.argv[1]',
  "a = '\\0' + a[1:] if a.startswith('@') else a",
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  'cred = struct.pack("3i", int(sys.argv[2]), os.getuid(), os.getgid())',
  'msg = sys.stdin.buffer.read()',
  'try:',
  '    s.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, cred)], 0, a)',
  'except PermissionError:',
  '    s.sendto(msg, a)',
].join('\n');

export function createNotifier(options: NotifierOptions = {}): Notifier {
  const env = options.env ?? process.env;
  const pid = options.pid ?? process.pid;
  const socket = env.NOTIFY_SOCKET;
  const usec = Number(env.WATCHDOG_USEC);
  const watchdogPid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : pid;
  const watchdogIntervalMs = socket && usec > 0 && watchdogPid === pid ? Math.max(1, Math.floor(usec / 2000)) : undefined;
  if (options.unsetEnvironment ?? env === process.env) {
    for (const key of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[key];
  }
  let helper: Promise<'systemd-notify' | 'python3' | undefined> | undefined;
  const findHelper = () =>
    (helper ??= (async () => {
      for (const cmd of ['systemd-notify', 'python3'] as const) {
        if ((await run(cmd, ['--version'], { timeout: 5_000 })).exitCode === 0) return cmd;
      }
      return undefined;
    })());

  return {
    enabled: Boolean(socket),
    watchdogIntervalMs,
    async notify(fields) {
      if (!socket) return;
      // Values are single lines: a newline would start another (possibly forged) field.
      const lines = Object.entries(fields).map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, ' ')}`);
      try {
        const cmd = await findHelper();
        if (!cmd) throw new Error('neither systemd-notify nor python3 is installed');
        const r =
          cmd === 'systemd-notify'
            ? await run(cmd, ['--no-block', `--pid=${pid}`, ...lines], { env: childEnvironment({ NOTIFY_SOCKET: socket }), timeout: 10_000 })
            : await run(cmd, ['-c', PY_SEND, socket, String(pid)], { input: lines.join('\n'), timeout: 10_000 });
        if (r.exitCode !== 0) throw new Error(`${cmd} exited ${r.exitCode}: ${r.stderr.trim()}`);
      } catch (error) {
        options.onError?.(`sd_notify ${lines.map((l) => l.split('=')[0]).join(',')} failed: ${(error as Error).message}`);
      }
    },
  };
}
