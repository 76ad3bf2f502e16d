import { FlexnodeError } from './errors.js';
import { findRecord, installFiles, replaceRecord, stagedPath, type InstalledFiles } from './helpers.js';
import type { Artifact, Host } from './host.js';
import { drifted, missing, ok, type CheckResult } from './step.js';

/** Which files of a release archive a step installs, where, and under which journal record. */
export interface ReleaseFilesSpec {
  /** Custom journal record type holding what was installed ({@link InstalledFiles}). */
  readonly record: string;
  /** Directory inside the archive whose regular files are installed (`bin` for containerd); top level when absent. */
  readonly from?: string;
  /** Directory on the machine they are copied to (mode 0755 each). */
  readonly to: string;
  /** Which entries count (default: every regular file), e.g. to leave out a LICENSE. */
  readonly include?: (name: string) => boolean;
  /** Names the archive must hold: an archive without them is refused before anything is copied. */
  readonly required?: readonly string[];
  /** What the mirror must serve, said when the archive's layout is wrong. */
  readonly layoutHint: string;
}

/** The three operations of a step that installs the files of one verified release archive. */
export interface ReleaseFiles {
  /**
   * Read-only and cheap: the journaled record names the artifact the config asks for, and every file installed from
   * it still has the sha256 it had when copied out of the verified archive (no download, no exec).
   */
  check(artifact: Artifact): Promise<CheckResult>;
  /**
   * Fetch (sha256 verified before anything is unpacked), unpack into staging, copy the files into place, remove the
   * ones a previous version installed that this one lacks, and journal the record. Nothing to do when check is ok;
   * in a dry run the download and unpack are only planned.
   */
  install(artifact: Artifact): Promise<void>;
  /** Restore or remove every file installed (the journal knows which), and drop the record. */
  uninstall(): Promise<void>;
}

/**
 * Fetch-unpack-install of a release archive (containerd's `bin/*`, the CNI plugins), shared so that every plugin
 * installs release files the same verified, journaled way. Use it with {@link resolveArtifact} for the artifact.
 */
export function releaseFiles(host: Host, spec: ReleaseFilesSpec): ReleaseFiles {
  const check = async (artifact: Artifact): Promise<CheckResult> => {
    const record = findRecord<InstalledFiles>(host, spec.record);
    if (!record) return missing(`${artifact.name} is not installed in ${spec.to}`);
    if (record.sha256 !== artifact.sha256) return drifted(`${record.artifact} is installed, the config asks for ${artifact.name}`);
    // The directory moved in the config (paths.cni.binDir): the files are where the previous one said.
    const elsewhere = Object.keys(record.files).find((path) => path.slice(0, path.lastIndexOf('/')) !== spec.to.replace(/\/+$/, ''));
    if (elsewhere) return drifted(`${artifact.name} is installed in ${elsewhere.slice(0, elsewhere.lastIndexOf('/'))}, the config asks for ${spec.to}`);
    for (const [path, expected] of Object.entries(record.files)) {
      const actual = await host.files.sha256(path);
      if (actual === undefined) return drifted(`${path} is absent`);
      if (actual !== expected) return drifted(`${path} has sha256 ${actual}, not the ${expected} unpacked from ${artifact.name}`);
    }
    return ok(`${artifact.name}: ${Object.keys(record.files).length} files in ${spec.to}`);
  };

  const layoutError = (artifact: Artifact, what: string) => new FlexnodeError('ARTIFACT_LAYOUT', `${artifact.name}: ${what}`, { hint: spec.layoutHint });

  return {
    check,
    async install(artifact) {
      if ((await check(artifact)).status === 'ok') return;
      // fetch verifies the sha256 first: a corrupted archive fails here, before anything is unpacked.
      const archive = await host.downloads.fetch(artifact);
      const within = spec.from ? `${spec.from}/` : '';
      if (host.dryRun) {
        host.log.info(`would unpack ${within}* of ${artifact.name} into ${spec.to}`);
        return;
      }
      const staging = await host.downloads.unpack(archive);
      const source = spec.from ? `${staging}/${spec.from}` : staging;
      const listed = stagedPath(host, source);
      const names: string[] = [];
      for (const name of await host.files.list(listed)) {
        if ((spec.include?.(name) ?? true) && (await host.files.stat(`${listed}/${name}`))?.type === 'file') names.push(name);
      }
      if (names.length === 0) throw layoutError(artifact, `the archive has no ${spec.from ? `${spec.from}/ ` : 'top-level '}files`);
      const absent = (spec.required ?? []).filter((name) => !names.includes(name));
      if (absent.length > 0) throw layoutError(artifact, `the archive lacks ${absent.map((n) => `${within}${n}`).join(', ')}`);
      await host.files.mkdir(spec.to);
      const files = await installFiles(host, source, spec.to, names);
      // A version change may drop files (containerd-shim went away in 2.0): remove ours that are gone.
      const previous = findRecord<InstalledFiles>(host, spec.record);
      for (const path of Object.keys(previous?.files ?? {})) {
        if (!(path in files)) await host.files.remove(path);
      }
      await replaceRecord(host, spec.record, { artifact: artifact.name, sha256: artifact.sha256, files });
    },
    async uninstall() {
      await host.changes.revert();
      await host.changes.forget(spec.record);
    },
  };
}
