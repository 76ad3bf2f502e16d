import os from 'node:os';
import { isIP } from 'node:net';
import type { Host } from '@flexnode/sdk';
import type { MachineSize } from './config.js';

/** The machine's size: MemTotal of /proc/meminfo (through the Host), else Node's view; the CPUs Node may use. */
export async function machineSize(host: Host): Promise<MachineSize> {
  const meminfo = await host.files.readText('/proc/meminfo');
  const kb = meminfo ? /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo)?.[1] : undefined;
  return { cpus: os.availableParallelism(), memoryBytes: kb ? Number(kb) * 1024 : os.totalmem() };
}

/**
 * The source address of this machine's route to the API server (the kubelet's `--node-ip` when none is configured):
 * the address the control plane's traffic to the node (logs, exec) would come back to. Found by connecting a UDP
 * socket, which only asks the kernel for the route and sends nothing. Undefined when the server's name does not
 * resolve or there is no route.
 */
export async function routeSourceAddress(server: string): Promise<string | undefined> {
  const host = new URL(server).hostname.replace(/^\[|\]$/g, '');
  const dns = await import('node:dns');
  const dgram = await import('node:dgram');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await dns.promises.lookup(host, { all: true, order: 'ipv4first' })).map((a) => a.address);
  } catch {
    return undefined;
  }
  for (const address of addresses) {
    const socket = dgram.createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(443, address, () => resolve());
      });
      const local = socket.address().address;
      if (local && local !== '0.0.0.0' && local !== '::') return local;
    } catch {
      // no route to this address: try the next one
    } finally {
      socket.close();
    }
  }
  return undefined;
}
