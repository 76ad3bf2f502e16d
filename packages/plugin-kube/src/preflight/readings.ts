import { existsSync, promises as fs, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { childEnvironment, RootPaths, underRoot, type Host } from '@flexnode/sdk';
import { KUBELET_UNIT } from '../paths.js';
import type { PreflightReadings } from './checks.js';
import { probeUrl, type ProxySettings } from './probe.js';

/** The read-only view of the machine the readings need: a step's Host, or the doctor command's own. */
export interface MachineView {
  readText(path: string): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
  /** The path on the machine running flexnode (the `--root` prefix applied), for statfs. */
  resolve(path: string): string;
  /** Whether the root is this machine's own `/`. */
  rootIsThisMachine: boolean;
  /** Whether kubelet.service is active and its flexnode drop-in is there. */
  ourKubeletRunning(): Promise<boolean>;
}

/** A step's Host as a MachineView. */
export function hostView(host: Host, dropIn: string): MachineView {
  return {
    readText: (path) => host.files.readText(path),
    exists: async (path) => (await host.files.stat(path)) !== undefined,
    resolve: (path) => underRoot(host.root, path),
    rootIsThisMachine: host.root === '/',
    ourKubeletRunning: async () => (await host.files.stat(dropIn)) !== undefined && (await host.systemd.isActive(KUBELET_UNIT)),
  };
}

/** The machine under `root` read directly (the doctor command runs without a Host or a journal). */
export function rootView(root: string, dropIn: string): MachineView {
  const paths = new RootPaths(root);
  const at = (path: string) => paths.resolve(path);
  return {
    readText: (path) => fs.readFile(at(path), 'utf8').catch(() => undefined),
    exists: (path) =>
      fs.access(at(path)).then(
        () => true,
        () => false,
      ),
    resolve: at,
    rootIsThisMachine: paths.isHostRoot,
    async ourKubeletRunning() {
      if (
        !paths.isHostRoot ||
        !(await fs.access(dropIn).then(
          () => true,
          () => false,
        ))
      )
        return false;
      const { execFile } = await import('node:child_process');
      return new Promise((resolve) =>
        execFile('systemctl', ['is-active', KUBELET_UNIT], { env: childEnvironment() }, (_e, out) => resolve(String(out).trim() === 'active')),
      );
    },
  };
}

/** Readings of the machine seen through `view`, and of the network through `proxy`. */
export function machineReadings(view: MachineView, proxy: ProxySettings): PreflightReadings {
  return {
    osRelease: async () => (await view.readText('/etc/os-release')) ?? (await view.readText('/usr/lib/os-release')),
    machine: async () => os.machine(),
    async memTotalBytes() {
      const meminfo = await view.readText('/proc/meminfo');
      const kb = meminfo && /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo)?.[1];
      return kb ? Number(kb) * 1024 : os.totalmem();
    },
    // Synchronous, as the Host's reads are (core's host/read-now.ts): a few system calls of microseconds each,
    // where every await was a trip through libuv's threadpool, queued behind the probes' DNS lookups.
    async diskFreeBytes(path) {
      let p = view.resolve(path);
      while (!existsSync(p)) {
        if (dirname(p) === p) return undefined;
        p = dirname(p);
      }
      const st = statfsSync(p);
      return Number(st.bavail) * Number(st.bsize);
    },
    async cgroupVersion() {
      if (await view.exists('/sys/fs/cgroup/cgroup.controllers')) return 'v2';
      if (await view.exists('/sys/fs/cgroup')) return 'v1';
      return undefined;
    },
    rootIsThisMachine: view.rootIsThisMachine,
    portBusy: (port) => portBusy(port),
    ourKubeletRunning: () => view.ourKubeletRunning(),
    now: () => Date.now(),
    probe: (url) => probeUrl(url, proxy),
  };
}

/**
 * Why the port is taken, or undefined when it is free: a socket in LISTEN on the port, any address. `ss` answers
 * first, then the kernel's socket tables in /proc/net/tcp{,6}; where neither can be read, a listen attempt on all
 * IPv4 and IPv6 addresses does. The first two never hold the port, even for a moment.
 */
export async function portBusy(port: number): Promise<string | undefined> {
  const listening = (await listenersBySs(port)) ?? (await listenersInProc(port));
  if (listening !== undefined) return listening ? `something already listens on port ${port}` : undefined;
  const net = (await import('node:net')).default;
  const attempt = (host: string) =>
    new Promise<string | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') resolve(`something already listens on port ${port}`);
        else if (e.code === 'EACCES') resolve(`not permitted to listen on port ${port} (run as root)`);
        else if (e.code === 'EAFNOSUPPORT' || e.code === 'EADDRNOTAVAIL') resolve(undefined);
        else resolve(`cannot listen on port ${port}: ${e.message}`);
      });
      server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
    });
  return (await attempt('0.0.0.0')) ?? (await attempt('::'));
}

/**
 * Whether a TCP socket listens on `port`, by `ss` (iproute2, on every Ubuntu); undefined when it cannot answer
 * (not installed, no -H in an old one, netlink refused). ss asks the kernel over netlink for listening sockets only;
 * reading /proc/net/tcp walks the whole connection hash table, which the kernel sizes by RAM: ~5.5 ms of system
 * time per table with 262144 buckets (a 24 GiB machine), and a status read two.
 */
export async function listenersBySs(port: number, command = 'ss'): Promise<boolean | undefined> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) =>
    execFile(command, ['-H', '-ltn', `sport = :${port}`], { env: childEnvironment(), timeout: 5000 }, (error, stdout) =>
      resolve(error ? undefined : stdout.trim() !== ''),
    ),
  );
}

/** LISTEN state in the kernel's TCP tables (proc(5): `st` 0A; `local_address` ADDR:PORT in hex). */
const LISTEN = '0A';

/** Whether a TCP socket listens on `port` by /proc/net/tcp{,6}; undefined when neither can be read. */
export async function listenersInProc(port: number, dir = '/proc/net'): Promise<boolean | undefined> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let read = false;
  for (const table of ['tcp', 'tcp6']) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, table), 'utf8'); // synchronous: see diskFreeBytes
    } catch {
      continue;
    }
    read = true;
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === LISTEN && local?.endsWith(suffix)) return true;
    }
  }
  return read ? false : undefined;
}
