import { isIPv6 } from 'node:net';
import { defineStep, drifted, missing, ok, Tokens, type CheckResult, firstDifference } from '@flexnode/sdk';
import { BRIDGE_CONFLIST, cniPaths } from './paths.js';
import { podCIDR } from './pod-cidr.js';

/** The CNI spec version of the conflist: read by plugins from 1.0 on (Debian's 1.1.1 too) and by containerd 1.6+. */
export const CNI_VERSION = '1.0.0';

/** The network's name (also host-local's lease directory: /var/lib/cni/networks/<name>). */
export const NETWORK_NAME = 'flexnode-bridge';

/** The Linux bridge the pods attach to. */
export const BRIDGE = 'cni0';

/**
 * The default network of the node: a `bridge` (cni0, the node as the pods' gateway, masquerading traffic
 * that leaves the pod CIDR, hairpin so a pod reaches itself through a service) with `host-local` addresses from
 * the node's pod CIDR and a default route, chained with `portmap` for hostPorts. `loopback` is not in the
 * chain: containerd's CRI plugin brings up each pod's `lo` by running the loopback plugin from bin_dir itself.
 */
export function bridgeConflist(cidr: string): Record<string, unknown> {
  return {
    cniVersion: CNI_VERSION,
    name: NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: cidr }]],
          routes: [{ dst: isIPv6(cidr.split('/')[0]!) ? '::/0' : '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/**
 * `cni.bridge-config` (provides `cni`, after `cni.plugins`): `<paths.cni.confDir>/99-bridge.conflist`, the
 * network the node uses unless another plugin provides `cni`. The check parses the file and compares the JSON
 * semantically (formatting and key order do not count).
 */
export const cniBridgeConfig = defineStep({
  id: 'cni.bridge-config',
  title: 'default CNI network (bridge + host-local + portmap)',
  provides: ['cni'],
  after: ['cni.plugins'],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: ({ host, config }) => {
    const path = `${cniPaths(config).confDir}/${BRIDGE_CONFLIST}`;
    const expected = () => bridgeConflist(podCIDR(config).cidr);
    const check = async (): Promise<CheckResult> => {
      const want = expected();
      const text = await host.files.readText(path);
      if (text === undefined) return missing(`${path} is absent`);
      let actual: unknown;
      try {
        actual = JSON.parse(text);
      } catch (error) {
        return drifted(`${path} is not valid JSON: ${(error as Error).message}`);
      }
      const diff = firstDifference(want, actual);
      return diff ? drifted(`${path}: ${diff}`) : ok(`pod CIDR ${podCIDR(config).cidr}`);
    };
    return {
      check,
      install: async () => {
        if ((await check()).status === 'ok') return;
        const { cidr, defaulted } = podCIDR(config);
        if (defaulted) {
          host.log.warn(`cni.podCIDR is not set: using ${cidr}; every node needs its own pod CIDR, set cni.podCIDR`);
        }
        await host.files.mkdir(cniPaths(config).confDir);
        await host.files.write(path, `${JSON.stringify(expected(), null, 2)}\n`, { mode: 0o644 });
      },
      uninstall: () => host.changes.revert(),
    };
  },
});
