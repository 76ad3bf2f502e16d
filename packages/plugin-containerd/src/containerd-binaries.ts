import { ContainerRuntime, type CheckResult, defineStep, drifted, findRecord, FlexnodeError, type InstalledFiles, installFiles, missing, ok, replaceRecord, stagedPath, Tokens } from '@flexnode/sdk';
import { containerdArtifact } from './components.js';
import { Paths } from './paths.js';
import { whenRelease } from './source.js';

/** Custom journal record type holding the hashes of the binaries copied from the verified tarball. */
export const CONTAINERD_BINARIES_RECORD = 'containerd-binaries';

/**
 * `containerd.binaries`: the `bin/*` of containerd's release tarball (containerd, the runc v2 shim, ctr, ...)
 * copied to /usr/bin, each file journaled.
 *
 * Check: the tarball was verified against its pinned sha256 at install time and the sha256 of every file
 * copied out of it was journaled (a custom record). The check re-hashes the installed files and compares them
 * with that record, and the record's artifact checksum with the one the config asks for now. That is cheap (a
 * few local hashes, no download, no exec), exact (it also covers the shims and ctr, which `containerd --version`
 * would not, and notices a binary replaced by a package manager), and it notices a version change in the config.
 */
export const containerdBinaries = defineStep({
  id: 'containerd.binaries',
  title: 'containerd binaries (/usr/bin/containerd, shims, ctr)',
  provides: [ContainerRuntime],
  when: whenRelease,
  artifacts: (config, arch) => [containerdArtifact(config, arch)],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: ({ host, config }) => {
    const check = async (): Promise<CheckResult> => {
      const artifact = containerdArtifact(config, host.arch);
      const record = findRecord<InstalledFiles>(host, CONTAINERD_BINARIES_RECORD);
      if (!record) return missing(`${artifact.name} is not installed`);
      if (record.sha256 !== artifact.sha256) {
        return drifted(`${record.artifact} is installed, the config asks for ${artifact.name}`);
      }
      for (const [path, expected] of Object.entries(record.files)) {
        const actual = await host.files.sha256(path);
        if (actual === undefined) return drifted(`${path} is absent`);
        if (actual !== expected) return drifted(`${path} has sha256 ${actual}, not the ${expected} unpacked from ${artifact.name}`);
      }
      return ok(`${artifact.name}: ${Object.keys(record.files).length} binaries`);
    };

    return {
      check,
      install: async () => {
        if ((await check()).status === 'ok') return;
        const artifact = containerdArtifact(config, host.arch);
        // fetch verifies the sha256 before returning: a corrupted tarball fails here, before anything is written.
        const archive = await host.downloads.fetch(artifact);
        if (host.dryRun) {
          host.log.info(`would unpack bin/* of ${artifact.name} into ${Paths.binDir}`);
          return;
        }
        const staging = await host.downloads.unpack(archive);
        const listed = `${stagedPath(host, staging)}/bin`;
        const names: string[] = [];
        for (const name of await host.files.list(listed)) {
          if ((await host.files.stat(`${listed}/${name}`))?.type === 'file') names.push(name);
        }
        if (names.length === 0) {
          throw new FlexnodeError('ARTIFACT_LAYOUT', `${artifact.name}: the tarball has no bin/ files`, {
            hint: 'the mirror must serve the upstream tarball layout (bin/containerd, bin/ctr, ...)',
          });
        }
        await host.files.mkdir(Paths.binDir);
        const files = await installFiles(host, `${staging}/bin`, Paths.binDir, names);
        // A version change may drop binaries (containerd-shim went away in 2.0): remove ours that are gone.
        const previous = findRecord<InstalledFiles>(host, CONTAINERD_BINARIES_RECORD);
        for (const path of Object.keys(previous?.files ?? {})) {
          if (!(path in files)) await host.files.remove(path);
        }
        await replaceRecord(host, CONTAINERD_BINARIES_RECORD, { artifact: artifact.name, sha256: artifact.sha256, files });
      },
      uninstall: async () => {
        await host.changes.revert();
        await host.changes.forget(CONTAINERD_BINARIES_RECORD);
      },
    };
  },
});
