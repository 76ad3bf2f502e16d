import { Cni, defineStep, FlexnodeError, missing, ok, Tokens, type CheckResult } from '@flexnode/sdk';
import { compareVersions, kernelConfig, kernelRelease, parseKernelVersion } from './kernel.js';
import { PLUGIN_NAME } from './paths.js';
import { DEFAULT_MIN_KERNEL, RHEL8_MIN_KERNEL, settingsOf } from './settings.js';

const REQUIREMENTS = 'https://docs.cilium.io/en/stable/operations/system_requirements/';

/**
 * `cilium.kernel` (provides `cni`): the running kernel is recent enough for Cilium and built with the options it
 * needs. A check only: nothing can be installed, so install fails with what is wrong and what to do, and the
 * other Cilium steps (which come after it) do not run. Reads the release from /proc/sys/kernel/osrelease (or
 * `uname -r`) and the config from /boot/config-RELEASE or /proc/config.gz; without either config file the
 * options are not verified (said in the check's detail).
 */
export const ciliumKernel = defineStep({
  id: 'cilium.kernel',
  title: 'kernel version and options Cilium needs',
  provides: [Cni],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: ({ host, config }) => {
    const check = async (): Promise<CheckResult> => {
      const settings = settingsOf(config);
      const release = await kernelRelease(host);
      const version = parseKernelVersion(release);
      if (!version) return missing(`cannot read the kernel version from "${release}"`);
      // RHEL 8's 4.18 kernels carry the eBPF backports Cilium needs; Cilium documents them as supported.
      const rhel8 = /\.el8/.test(release);
      const min = rhel8 && settings.minKernelVersion === DEFAULT_MIN_KERNEL ? RHEL8_MIN_KERNEL : settings.minKernelVersion;
      const minVersion = min.split('.').map(Number);
      if (compareVersions(version, minVersion) < 0) {
        return missing(`kernel ${release} is older than ${min}, the oldest Cilium supports`);
      }
      const kconfig = await kernelConfig(host, release);
      if (!kconfig) {
        return ok(`kernel ${release} (>= ${min}); no /boot/config-${release} or /proc/config.gz, so kernel options were not verified`);
      }
      const absent = settings.kernelOptions.filter((o) => !['y', 'm'].includes(kconfig.options.get(o) ?? 'n'));
      if (absent.length > 0) {
        return missing(`kernel ${release} is built without ${absent.join(', ')} (${kconfig.source}); Cilium needs each as y or m`);
      }
      return ok(`kernel ${release} (>= ${min}), ${settings.kernelOptions.length} required options set in ${kconfig.source}`);
    };
    return {
      check,
      install: async () => {
        const result = await check();
        if (result.status === 'ok') return;
        throw new FlexnodeError('CILIUM_KERNEL_UNSUPPORTED', `${PLUGIN_NAME}: ${result.reason}`, {
          hint: `boot a kernel that meets ${REQUIREMENTS} (or choose another CNI: "plugins": {"cni": "@flexnode/plugin-cni"})`,
        });
      },
      // Nothing was changed.
      uninstall: async () => {},
    };
  },
});
