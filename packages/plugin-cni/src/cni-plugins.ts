import { type CheckResult, defineStep, drifted, findRecord, FlexnodeError, type InstalledFiles, installFiles, missing, ok, replaceRecord, stagedPath, Tokens } from '@flexnode/sdk';
import { cniPluginsArtifact } from './artifact.js';
import { cniPaths } from './paths.js';

/** Custom journal record type holding the hashes of the plugins copied from the verified tarball. */
export const CNI_PLUGINS_RECORD = 'cni-plugins';

/**
 * Plugins the runtime and the default network need. containerd's CRI plugin sets up each pod's `lo` itself by
 * running `loopback` from its bin_dir (it is not part of any conflist), and the default network chains
 * `bridge`, `host-local` and `portmap`.
 */
export const REQUIRED_PLUGINS = ['loopback', 'bridge', 'host-local', 'portmap'] as const;

// Plugin executables have plain lowercase names; this leaves out the tarball's LICENSE and README.md.
const PLUGIN_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * `cni.plugins` (provides `cni-plugins`): the CNI plugins release unpacked into `paths.cni.binDir`
 * (default /opt/cni/bin), each file journaled, so that uninstall removes or restores exactly those files.
 * Check: like containerd's binaries, each installed plugin's sha256 against the hashes journaled from the
 * verified tarball (no download), and the recorded artifact against the one the config asks for.
 */
export const cniPlugins = defineStep({
  id: 'cni.plugins',
  title: 'CNI plugins (/opt/cni/bin)',
  provides: ['cni-plugins'],
  artifacts: (config, arch) => [cniPluginsArtifact(config, arch)],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: ({ host, config }) => {
    const { binDir } = cniPaths(config);
    const check = async (): Promise<CheckResult> => {
      const artifact = cniPluginsArtifact(config, host.arch);
      const record = findRecord<InstalledFiles>(host, CNI_PLUGINS_RECORD);
      if (!record) return missing(`${artifact.name} is not installed in ${binDir}`);
      if (record.sha256 !== artifact.sha256) return drifted(`${record.artifact} is installed, the config asks for ${artifact.name}`);
      for (const [path, expected] of Object.entries(record.files)) {
        const actual = await host.files.sha256(path);
        if (actual === undefined) return drifted(`${path} is absent`);
        if (actual !== expected) return drifted(`${path} has sha256 ${actual}, not the ${expected} unpacked from ${artifact.name}`);
      }
      return ok(`${artifact.name}: ${Object.keys(record.files).length} plugins in ${binDir}`);
    };

    return {
      check,
      install: async () => {
        if ((await check()).status === 'ok') return;
        const artifact = cniPluginsArtifact(config, host.arch);
        // fetch verifies the sha256 first: a corrupted tarball fails here, before anything is unpacked.
        const archive = await host.downloads.fetch(artifact);
        if (host.dryRun) {
          host.log.info(`would unpack ${artifact.name} into ${binDir}`);
          return;
        }
        const staging = await host.downloads.unpack(archive);
        const listed = stagedPath(host, staging);
        const names: string[] = [];
        for (const name of await host.files.list(listed)) {
          if (PLUGIN_NAME.test(name) && (await host.files.stat(`${listed}/${name}`))?.type === 'file') names.push(name);
        }
        const absent = REQUIRED_PLUGINS.filter((p) => !names.includes(p));
        if (absent.length > 0) {
          throw new FlexnodeError('ARTIFACT_LAYOUT', `${artifact.name}: the tarball lacks ${absent.join(', ')}`, {
            hint: 'the mirror must serve the upstream tarball, with the plugins at its top level',
          });
        }
        await host.files.mkdir(binDir);
        const files = await installFiles(host, staging, binDir, names);
        // A version change may drop plugins: remove the ones we installed that the new release lacks.
        const previous = findRecord<InstalledFiles>(host, CNI_PLUGINS_RECORD);
        for (const path of Object.keys(previous?.files ?? {})) {
          if (!(path in files)) await host.files.remove(path);
        }
        await replaceRecord(host, CNI_PLUGINS_RECORD, { artifact: artifact.name, sha256: artifact.sha256, files });
      },
      uninstall: async () => {
        await host.changes.revert();
        await host.changes.forget(CNI_PLUGINS_RECORD);
      },
    };
  },
});
