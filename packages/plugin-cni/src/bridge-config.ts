import {
  drifted,
  findRecord,
  firstDifference,
  isFlexnodeError,
  missing,
  ok,
  PodCidrErrors,
  replaceRecord,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type PodCidrService,
  type StepInstance,
} from '@flexnode/sdk';
import { BRIDGE_CONFLIST, cniPaths } from './paths.js';
import { validateCIDR } from './pod-cidr.js';

/** The CNI spec version of the conflist: read by plugins from 1.0 on (Debian's 1.1.1 too) and by containerd 1.6+. */
export const CNI_VERSION = '1.0.0';

/** The network's name (also host-local's lease directory: /var/lib/cni/networks/<name>). */
export const NETWORK_NAME = 'flexnode-bridge';

/** The Linux bridge the pods attach to. */
export const BRIDGE = 'cni0';

/** Custom record: the pod ranges the conflist was written with (checks go on with them while the API is away). */
export const BRIDGE_RECORD = 'bridge-pod-cidrs';

/**
 * The default network of the node: a `bridge` (cni0, the node as the pods' gateway, masquerading traffic
 * that leaves the pod CIDR, hairpin so a pod reaches itself through a service) with `host-local` addresses from
 * the node's pod CIDRs (one range set per IP family: dual-stack pods get one address of each) and a default
 * route per family, chained with `portmap` for hostPorts. `loopback` is not in the chain: containerd's CRI plugin
 * brings up each pod's `lo` by running the loopback plugin from bin_dir itself.
 */
export function bridgeConflist(cidrs: string | readonly string[]): Record<string, unknown> {
  const list = typeof cidrs === 'string' ? [cidrs] : cidrs;
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
          ranges: list.map((subnet) => [{ subnet }]),
          // The ranges passed validateCIDR: an IPv6 one is the one with a colon. Not net.isIPv6: its first call
          // compiles Node's IPv6 pattern, ~6 ms of every `flexnode status` on a node.
          routes: list.map((c) => ({ dst: c.includes(':') ? '::/0' : '0.0.0.0/0' })),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** The operations of `cni.bridge-config` (steps.ts): the conflist from the node's pod ranges, recorded. */
export function bridgeConfigOps({ host, config, podCidr }: { host: Host; config: FlexnodeConfig; podCidr: PodCidrService }): StepInstance {
  const path = `${cniPaths(config).confDir}/${BRIDGE_CONFLIST}`;
  /** The node's pod ranges, checked for a bridge; the recorded ones while the live ones cannot be read. */
  const ranges = async (): Promise<{ cidrs: string[]; recorded: boolean }> => {
    try {
      const cidrs = await podCidr.podCIDRs();
      return { cidrs: cidrs.map((c) => validateCIDR(c, config.cni?.podCIDR !== undefined ? 'cni.podCIDR' : "the Node's spec.podCIDR")), recorded: false };
    } catch (error) {
      const record = findRecord<{ cidrs: string[] }>(host, BRIDGE_RECORD);
      if (record && isFlexnodeError(error) && error.code === PodCidrErrors.unreadable) return { cidrs: record.cidrs, recorded: true };
      throw error;
    }
  };
  const check = async (): Promise<CheckResult> => {
    const text = await host.files.readText(path);
    if (text === undefined) return missing(`${path} is absent`);
    let want;
    try {
      want = await ranges();
    } catch (error) {
      if (isFlexnodeError(error) && error.code === PodCidrErrors.pending) return missing(error.message);
      throw error;
    }
    let actual: unknown;
    try {
      actual = JSON.parse(text);
    } catch (error) {
      return drifted(`${path} is not valid JSON: ${(error as Error).message}`);
    }
    const diff = firstDifference(bridgeConflist(want.cidrs), actual);
    return diff
      ? drifted(`${path}: ${diff}`)
      : ok(`pod CIDR ${want.cidrs.join(', ')}${want.recorded ? " (as recorded: the node's range cannot be read now)" : ''}`);
  };
  return {
    check,
    install: async () => {
      let want;
      try {
        want = await ranges();
      } catch (error) {
        // A plan: the Node gets its range when the run registers it.
        if (host.dryRun && isFlexnodeError(error) && error.code === PodCidrErrors.pending) {
          host.log.info(`would write ${path} with the node's pod range once the Node has one (${error.message})`);
          return;
        }
        throw error;
      }
      // Recorded before the conflist is written: a run killed between the two (another step's crash ends the
      // process while this one is halfway) leaves a record the re-run confirms, never a conflist without one.
      if (!want.recorded) await replaceRecord(host, BRIDGE_RECORD, { cidrs: want.cidrs });
      if ((await check()).status === 'ok') return;
      // paths.cni.confDir moved: the conflists this step wrote elsewhere (its journal says where, whatever version
      // wrote them) go; a runtime reading both directories would see two networks. Revert puts back what they replaced.
      const elsewhere = host.changes.list().flatMap((c) => (c.kind === 'file' && c.path !== path && c.path.endsWith(`/${BRIDGE_CONFLIST}`) ? [c.path] : []));
      for (const old of new Set(elsewhere)) if (await host.files.stat(old)) await host.files.remove(old);
      await host.files.mkdir(cniPaths(config).confDir);
      await host.files.write(path, `${JSON.stringify(bridgeConflist(want.cidrs), null, 2)}\n`, { mode: 0o644 });
    },
    uninstall: async () => {
      await host.changes.revert();
      await host.changes.forget(BRIDGE_RECORD);
    },
  };
}
