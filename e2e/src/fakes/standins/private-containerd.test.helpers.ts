// A real containerd for the kubelet stand-in's pod tests on this host, every path of it in a temp dir (root, state,
// sockets, opt plugin) so the host's containerd (if any) is untouched; the CRI plugin is off (the stand-in drives
// containerd through ctr, not CRI). Needs root, containerd, runc and ctr: otherwise the reason to skip.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateContainerd {
  socket: string;
  ctr(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export function containerdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to run containerd';
  for (const b of ['/usr/bin/containerd', '/usr/bin/ctr']) if (!existsSync(b)) return `${b} is missing (apt-get install -y containerd)`;
  if (!existsSync('/usr/sbin/runc') && !existsSync('/usr/bin/runc')) return 'runc is missing';
  return undefined;
}

export async function startContainerd(dir: string): Promise<PrivateContainerd> {
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${join(dir, 'opt')}"`,
      '',
    ].join('\n'),
  );
  let log = '';
  const daemon: ChildProcess = spawn('/usr/bin/containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  daemon.stderr!.on('data', (d) => {
    log += d;
  });
  const ctr = async (args: string[]) => (await run('/usr/bin/ctr', ['--address', socket, '--namespace', 'k8s.io', ...args])).stdout;
  for (let i = 0; ; i++) {
    if (
      await ctr(['version']).then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 50 || daemon.exitCode !== null) throw new Error(`containerd did not start:\n${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    socket,
    ctr,
    async stop() {
      // remove what is left (a test that fails midway), then end the daemon this helper started, by its pid
      for (const id of (await ctr(['tasks', 'ls', '-q']).catch(() => '')).split('\n').filter(Boolean))
        await ctr(['tasks', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      for (const id of (await ctr(['containers', 'ls', '-q']).catch(() => '')).split('\n').filter(Boolean)) {
        await ctr(['tasks', 'delete', '--force', id]).catch(() => undefined);
        await ctr(['containers', 'delete', id]).catch(() => undefined);
      }
      if (daemon.exitCode === null) {
        const exited = new Promise((r) => daemon.once('exit', r));
        daemon.kill('SIGTERM');
        await exited;
      }
      // mounts the snapshotter may have left under the temp root
      await run('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
    },
  };
}
