import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { ClusterFacts } from '../cluster/cluster.js';
import { noProxyMatches } from '@flexnode/sdk';
import { probeUrl, type ProxySettings } from '../preflight/probe.js';
import { isPrivateAddress } from './cidr.js';

// node:tls and node:dns load on first use: the plugin module loads on every CLI start.
const require = createRequire(import.meta.url);

/** What the node found on its way to the API server. */
export interface Reachability {
  ok: boolean;
  /** What was found: the name, its addresses (a private one named so), TCP and TLS. */
  detail: string;
  /** What to do when not ok. */
  fix?: string;
}

/** How the API server is reached from this node; tests inject one. */
export type ApiServerProbe = (facts: Pick<ClusterFacts, 'server' | 'caPem' | 'fqdn' | 'privateFqdn' | 'name'>, proxy: ProxySettings) => Promise<Reachability>;

/** The name's addresses (node:dns by default; tests give their own so no query leaves the machine). */
export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) => {
  const dns = require('node:dns') as typeof import('node:dns');
  return (await dns.promises.lookup(host, { all: true, order: 'ipv4first' })).map((a) => a.address);
};

const TIMEOUT_MS = 5000;

/** A private cluster: its API server has only the private FQDN (the public one absent, or not the one used). */
function privateCluster(facts: Pick<ClusterFacts, 'server' | 'fqdn' | 'privateFqdn'>, host: string): boolean {
  return !!facts.privateFqdn && (host === facts.privateFqdn.toLowerCase() || !facts.fqdn);
}

const PRIVATE_PATH = 'a private network path to it (VPN, ExpressRoute or VNet peering)';

/**
 * TCP and then TLS to the API server of the kubelet's kubeconfig, as the kubelet will connect: the name resolved,
 * each address tried (a private one is named so: only a private network path reaches it), a TCP connection, a TLS
 * handshake trusting only the cluster CA with the server's name checked. Through the configured proxy (CONNECT)
 * when one applies to the name, like the kubelet: then any HTTP answer of `/version` proves both.
 */
export const probeApiServer = async (facts: Parameters<ApiServerProbe>[0], proxy: ProxySettings, lookup: Lookup = systemLookup): Promise<Reachability> => {
  const url = new URL(facts.server);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port || 443);
  const isPrivate = privateCluster(facts, host);
  const kind = isPrivate ? `the private cluster ${facts.name}'s API server` : `the API server of ${facts.name}`;
  const privateFix = isPrivate
    ? `${host} is a private cluster's name: it resolves through the cluster's private DNS zone (link the zone to this network, or forward DNS to it) and is reached over ${PRIVATE_PATH}`
    : undefined;

  if ((proxy.https || proxy.http) && !noProxyMatches(proxy.noProxy, host, port)) {
    const probe = await probeUrl(`${facts.server.replace(/\/$/, '')}/version`, proxy, TIMEOUT_MS, { ca: facts.caPem });
    if (probe.ok) return { ok: true, detail: `${kind} ${host}:${port} answered over TLS (cluster CA)${probe.via}` };
    return {
      ok: false,
      detail: `${kind} ${host}:${port} not reachable${probe.via}: ${probe.error}`,
      fix: privateFix ?? `allow the proxy to CONNECT to ${host}:${port}, or add ${host} to proxy.noProxy when the node reaches it directly`,
    };
  }

  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await lookup(host);
  } catch (error) {
    return {
      ok: false,
      detail: `${kind}: ${host} does not resolve from here (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      fix: privateFix ?? "check this machine's DNS resolver",
    };
  }
  const described = describeAddresses(addresses);
  const failures: string[] = [];
  for (const address of addresses) {
    const tcp = await connectTcp(address, port);
    if (!tcp.ok) {
      failures.push(`no TCP connection to ${address}:${port} (${tcp.error})`);
      continue;
    }
    const tls = await handshake(tcp.socket, host, facts.caPem);
    if (tls.ok) return { ok: true, detail: `${kind} ${host}:${port} (${described}): TCP and TLS (cluster CA, name checked)` };
    failures.push(`TCP to ${address}:${port} works, TLS does not (${tls.error})`);
  }
  const anyPrivate = addresses.some(isPrivateAddress);
  const tlsOnly = failures.every((f) => f.includes('TLS does not'));
  return {
    ok: false,
    detail: `${kind} ${host}:${port} (${described}): ${failures.join('; ')}`,
    fix: tlsOnly
      ? `something between this machine and ${host} answers TLS with a certificate the cluster CA did not sign (a TLS-inspecting firewall?): let ${host}:${port} through untouched`
      : (privateFix ??
        (anyPrivate
          ? `${host} resolves to a private address: the node reaches it only over ${PRIVATE_PATH}`
          : `allow outbound TCP ${port} to ${host} (firewall, proxy: set proxy.https)`)),
  };
};

/** The addresses a name resolved to, a private one named so (only a private network path reaches it). */
export const describeAddresses = (addresses: readonly string[]) => addresses.map((a) => (isPrivateAddress(a) ? `${a}, a private address` : a)).join('; ');

function connectTcp(address: string, port: number): Promise<{ ok: true; socket: import('node:net').Socket } | { ok: false; error: string }> {
  const net = require('node:net') as typeof import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, error: `no answer within ${TIMEOUT_MS / 1000} s` });
    }, TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ ok: true, socket });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, error: e.code ?? e.message });
    });
  });
}

function handshake(socket: import('node:net').Socket, servername: string, caPem: string): Promise<{ ok: true } | { ok: false; error: string }> {
  const tls = require('node:tls') as typeof import('node:tls');
  return new Promise((resolve) => {
    const secure = tls.connect({ socket, ca: caPem, servername: isIP(servername) ? undefined : servername, host: servername });
    const done = (result: { ok: true } | { ok: false; error: string }) => {
      clearTimeout(timer);
      secure.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, error: `no TLS handshake within ${TIMEOUT_MS / 1000} s` }), TIMEOUT_MS);
    secure.once('secureConnect', () => done({ ok: true }));
    secure.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ? `${e.code}: ${e.message}` : e.message }));
  });
}

/** Said on every join: the path logs and exec need runs the other way, from the control plane to the node. */
export function callbackNote(nodeIP: string | undefined): string {
  return (
    `\`kubectl logs\`, \`exec\` and \`port-forward\` need the control plane to reach this node on ${nodeIP ?? '<node IP>'}:10250 ` +
    "(the kubelet's port): over VPN, ExpressRoute or VNet peering for a node outside Azure; flexnode cannot test that path from the node"
  );
}
