import { isIP } from 'node:net';
import type { Host } from '@flexnode/sdk';

/** A bridge network of the node's CNI configuration: the Linux bridge and the network's name. */
export interface BridgeNetwork {
  bridge: string;
  network: string;
}

/**
 * The bridge networks in the CNI configuration directory (`.conflist`, `.conf`, `.json`): each plugin of type
 * `bridge`, with its `bridge` (default `cni0`, as the bridge plugin's) and the network's `name`. A CNI that is not
 * the bridge plugin (Cilium, Calico) has none: its teardown is its own.
 */
export async function bridgeNetworks(host: Host, confDir: string): Promise<BridgeNetwork[]> {
  const found: BridgeNetwork[] = [];
  for (const file of (await host.files.list(confDir)).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort()) {
    let conf: { name?: string; type?: string; bridge?: string; plugins?: { type?: string; bridge?: string }[] };
    try {
      conf = JSON.parse((await host.files.readText(`${confDir}/${file}`)) ?? '');
    } catch {
      continue;
    }
    for (const plugin of conf.plugins ?? [conf]) {
      if (plugin.type === 'bridge' && conf.name) found.push({ bridge: plugin.bridge ?? 'cni0', network: conf.name });
    }
  }
  return found;
}

/** One rule of `iptables -S`: its chain, its position in the chain (1-based), and its words. */
interface Rule {
  chain: string;
  index: number;
  line: string;
  target?: string;
}

function parseRules(listing: string): { rules: Rule[]; chains: string[] } {
  const rules: Rule[] = [];
  const chains: string[] = [];
  const counts = new Map<string, number>();
  for (const line of listing.split('\n')) {
    const chain = /^-N (\S+)$/.exec(line)?.[1];
    if (chain) chains.push(chain);
    const rule = /^-A (\S+) /.exec(line);
    if (!rule) continue;
    const index = (counts.get(rule[1]!) ?? 0) + 1;
    counts.set(rule[1]!, index);
    const target = / -[jg] (\S+)/.exec(line)?.[1];
    rules.push({ chain: rule[1]!, index, line, ...(target ? { target } : {}) });
  }
  return { rules, chains };
}

/**
 * The NAT rules the CNI plugins made for the pods of `networks`: the bridge plugin's ipMasq chains (`CNI-<hash>`,
 * jumped to from POSTROUTING) and portmap's per-pod `CNI-DN-<hash>` chains carry the comment
 * `name: "<network>" id: "<container>"`. Those rules are deleted and those chains flushed and deleted; the shared
 * `CNI-HOSTPORT-*` chains and every rule of any other network or tool stay.
 */
export async function removeCniNatRules(host: Host, networks: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  if (networks.length === 0) return removed;
  const names = networks.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const ours = new RegExp(`name: \\\\?"(${names.join('|')})\\\\?" id: `);
  for (const tool of ['iptables', 'ip6tables']) {
    if (!(await host.exec.which(tool))) continue;
    const listed = await host.exec.run(tool, ['-w', '-t', 'nat', '-S'], { mutates: false, allowFailure: true });
    if (listed.exitCode !== 0) continue;
    const { rules, chains } = parseRules(listed.stdout);
    const pods = new Set(
      chains.filter(
        (c) =>
          /^CNI-/.test(c) &&
          !c.startsWith('CNI-HOSTPORT-') &&
          rules.some((r) => r.chain === c) &&
          rules.filter((r) => r.chain === c).every((r) => ours.test(r.line)),
      ),
    );
    for (const r of rules) if (r.target && /^CNI-/.test(r.target) && !r.target.startsWith('CNI-HOSTPORT-') && ours.test(r.line)) pods.add(r.target);
    // Jumps to those chains, from any other chain: newest position first, so the others keep their numbers.
    const jumps = rules.filter((r) => r.target && pods.has(r.target) && !pods.has(r.chain)).sort((a, b) => b.index - a.index);
    for (const r of jumps)
      await host.exec.run(tool, ['-w', '-t', 'nat', '-D', r.chain, String(r.index)], {
        allowFailure: true,
        describe: `remove a CNI pod NAT rule from ${r.chain}`,
      });
    for (const chain of pods) {
      await host.exec.run(tool, ['-w', '-t', 'nat', '-F', chain], { allowFailure: true, describe: `flush the CNI pod NAT chain ${chain}` });
      await host.exec.run(tool, ['-w', '-t', 'nat', '-X', chain], { allowFailure: true, describe: `delete the CNI pod NAT chain ${chain}` });
      removed.push(`${tool} nat ${chain}`);
    }
  }
  return removed;
}

/** Delete the bridge (`ip link delete`): the pods' veths go with their sandboxes' namespaces, the bridge stays behind. */
export async function removeBridge(host: Host, bridge: string): Promise<boolean> {
  const shown = await host.exec.run('ip', ['link', 'show', 'dev', bridge], { mutates: false, allowFailure: true });
  if (shown.exitCode !== 0) return false;
  await host.exec.run('ip', ['link', 'delete', 'dev', bridge], { describe: `remove the pods' bridge ${bridge}` });
  return true;
}

/** host-local's state directory (its default `dataDir`). */
export const HOST_LOCAL_DIR = '/var/lib/cni/networks';
/** A CNI network name as the spec allows it (it names host-local's directory, so nothing else passes). */
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * host-local's leases of a network whose pods are gone: a file per address, `last_reserved_ip.<range>` and its
 * `lock`, in `/var/lib/cni/networks/<network>` (the DEL of a sandbox removed without the CNI would have removed
 * its own). Only those names are removed, then the directories when empty; anything else there stays.
 */
export async function removeHostLocalLeases(host: Host, network: string): Promise<number> {
  if (!NETWORK_NAME.test(network) || network.includes('..')) return 0;
  const dir = `${HOST_LOCAL_DIR}/${network}`;
  const names = await host.files.list(dir);
  const leases = names.filter((n) => isIP(n) !== 0 || /^last_reserved_ip\.\d+$/.test(n) || n === 'lock');
  if (leases.length === 0) return 0;
  await host.exec.run('rm', ['-f', '--', ...leases.map((n) => `${dir}/${n}`)], { describe: `remove host-local's address leases of ${network}` });
  await host.exec.run('rmdir', ['--ignore-fail-on-non-empty', '--', dir, HOST_LOCAL_DIR, '/var/lib/cni'], {
    allowFailure: true,
    describe: `remove host-local's directories when empty`,
  });
  return leases.filter((n) => isIP(n) !== 0).length;
}
