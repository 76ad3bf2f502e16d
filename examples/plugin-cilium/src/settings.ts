import type { FlexnodeConfig } from '@flexnode/sdk';
import { PLUGIN_NAME } from './paths.js';

/**
 * The kernel Cilium needs. Cilium's system requirements (docs.cilium.io, "System Requirements"): Linux >= 5.10
 * for current releases (1.18 on; 1.14 to 1.17 accepted 4.19.57 / 5.4), or RHEL 8.10's 4.18 kernel, which carries
 * the backports; and the base options below, each built in (=y) or as a module (=m).
 */
export const DEFAULT_MIN_KERNEL = '5.10';
/** The oldest RHEL 8 kernel line Cilium supports (4.18 with backports). */
export const RHEL8_MIN_KERNEL = '4.18';

/** "Base Requirements" of Cilium's kernel configuration. */
export const REQUIRED_KERNEL_OPTIONS: readonly string[] = [
  'CONFIG_BPF',
  'CONFIG_BPF_SYSCALL',
  'CONFIG_NET_CLS_BPF',
  'CONFIG_BPF_JIT',
  'CONFIG_NET_CLS_ACT',
  'CONFIG_NET_SCH_INGRESS',
  'CONFIG_CRYPTO_SHA1',
  'CONFIG_CRYPTO_USER_API_HASH',
  'CONFIG_CGROUPS',
  'CONFIG_CGROUP_BPF',
  'CONFIG_PERF_EVENTS',
  'CONFIG_SCHEDSTATS',
];

/** `pluginConfig["@org/plugin-cilium"]` in the flexnode config. */
export interface CiliumSettings {
  /** Oldest kernel accepted, `major.minor[.patch]`. Default {@link DEFAULT_MIN_KERNEL}. */
  minKernelVersion: string;
  /** Kernel options that must be `y` or `m`. Default {@link REQUIRED_KERNEL_OPTIONS}. */
  kernelOptions: readonly string[];
}

/** The settings, with defaults; malformed values are refused with the field's path. */
export function settingsOf(config: FlexnodeConfig): CiliumSettings {
  const raw = (config.pluginConfig?.[PLUGIN_NAME] ?? {}) as Record<string, unknown>;
  const where = `pluginConfig["${PLUGIN_NAME}"]`;
  const min = raw.minKernelVersion ?? DEFAULT_MIN_KERNEL;
  if (typeof min !== 'string' || !/^\d+\.\d+(\.\d+)?$/.test(min)) {
    throw new TypeError(`${where}.minKernelVersion must be a version like "5.10", got ${JSON.stringify(min)}`);
  }
  const options = raw.kernelOptions ?? REQUIRED_KERNEL_OPTIONS;
  if (!Array.isArray(options) || !options.every((o) => typeof o === 'string' && /^CONFIG_[A-Z0-9_]+$/.test(o))) {
    throw new TypeError(`${where}.kernelOptions must be a list of CONFIG_* names`);
  }
  return { minKernelVersion: min, kernelOptions: options };
}
