import { onThisHost } from './fs-helpers.js';
import { Cni, defineStep, drifted, missing, ok, renderUnitFile, Tokens, type CheckResult } from '@flexnode/sdk';
import { BPFFS, BPFFS_UNIT, BPFFS_UNIT_PATH, PROC_MOUNTS, UNIT_DIR } from './paths.js';

/**
 * Mounts bpffs at boot, the way Cilium's documentation asks ("Mounted eBPF filesystem"), on any systemd: a
 * oneshot service early in boot (before local-fs.target) that runs only when /sys/fs/bpf is not a mount point
 * yet. Where systemd mounted it already (its API file systems include /sys/fs/bpf) the condition skips it.
 * A `sys-fs-bpf.mount` unit would be refused by those systemd versions, so it is not used.
 */
export function bpffsUnit(): string {
  return renderUnitFile({
    comment:
      'Written by flexnode (@org/plugin-cilium): the BPF filesystem Cilium pins its maps in, mounted at boot\nunless systemd (or anything else) mounted it already.',
    sections: {
      Unit: [
        ['Description', `BPF filesystem at ${BPFFS} for Cilium, unless already mounted`],
        ['Documentation', 'https://docs.cilium.io/en/stable/operations/system_requirements/'],
        ['DefaultDependencies', 'no'],
        ['Before', 'local-fs.target'],
        ['ConditionPathIsMountPoint', `!${BPFFS}`],
      ],
      Service: [
        ['Type', 'oneshot'],
        ['RemainAfterExit', 'yes'],
        ['ExecStart', { command: ['/bin/mount', '-t', 'bpf', '-o', 'nosuid,nodev,noexec,mode=700', 'bpffs', BPFFS] }],
      ],
      Install: [['WantedBy', 'local-fs.target']],
    },
  });
}

/** True when the mount table has a bpf filesystem at /sys/fs/bpf. */
export function hasBpffs(mounts: string | undefined): boolean {
  return (mounts ?? '').split('\n').some((line) => {
    const [, where, type] = line.trim().split(/\s+/);
    return where === BPFFS && type === 'bpf';
  });
}

const isOurMount = (c: { kind: string; command?: string; args?: readonly string[] }) =>
  c.kind === 'exec' && c.command === 'mount' && (c.args ?? []).includes('bpf');

/**
 * `cilium.bpffs` (provides `cni`): bpffs mounted at /sys/fs/bpf now (`mount -t bpf bpffs /sys/fs/bpf`, journaled)
 * and at every boot (`flexnode-cilium-bpffs.service` written and enabled, see {@link bpffsUnit}). Where systemd
 * mounted it already, nothing is mounted now. Uninstall disables and removes the unit, and unmounts bpffs only
 * when this step mounted it.
 */
export const ciliumBpffs = defineStep({
  id: 'cilium.bpffs',
  title: 'BPF filesystem at /sys/fs/bpf, now and at boot',
  provides: [Cni],
  after: ['cilium.kernel'],
  inject: { host: Tokens.Host },
  create: ({ host }) => {
    const unit = bpffsUnit();
    const mounted = async () => hasBpffs(await host.files.readText(PROC_MOUNTS));

    const check = async (): Promise<CheckResult> => {
      const isMounted = await mounted();
      const current = await host.files.readText(BPFFS_UNIT_PATH);
      if (current === undefined) {
        return missing(
          isMounted
            ? `${BPFFS_UNIT_PATH} is absent: it mounts bpffs at boot where systemd does not`
            : `bpffs is not mounted at ${BPFFS} and ${BPFFS_UNIT} is absent`,
        );
      }
      if (current !== unit) return drifted(`${BPFFS_UNIT_PATH} differs from the expected unit`);
      if (!(await host.systemd.isEnabled(BPFFS_UNIT))) return drifted(`${BPFFS_UNIT} is not enabled`);
      if (!isMounted) return drifted(`bpffs is not mounted at ${BPFFS}`);
      return ok(`bpffs mounted at ${BPFFS}; ${BPFFS_UNIT} enabled`);
    };

    return {
      check,
      install: async () => {
        if (!(await mounted())) {
          await host.exec.run('mount', ['-t', 'bpf', 'bpffs', onThisHost(host, BPFFS)], {
            describe: `mount the BPF filesystem at ${BPFFS}`,
          });
        }
        await host.files.mkdir(UNIT_DIR);
        const wrote = await host.files.write(BPFFS_UNIT_PATH, unit, { mode: 0o644 });
        if (wrote && (await host.systemd.available())) await host.systemd.daemonReload();
        await host.systemd.enable(BPFFS_UNIT);
      },
      uninstall: async () => {
        // Read before revert: the journal says whether bpffs was mounted by this step or was there already.
        const mountedHere = host.changes.list().some(isOurMount);
        await host.changes.revert();
        if (await host.systemd.available()) await host.systemd.daemonReload();
        if (mountedHere && (await mounted())) {
          const result = await host.exec.run('umount', [onThisHost(host, BPFFS)], {
            describe: `unmount the BPF filesystem flexnode mounted at ${BPFFS}`,
            allowFailure: true,
          });
          if (result.exitCode !== 0) host.log.warn(`could not unmount ${BPFFS} (${result.stderr.trim()}); it goes away at the next reboot`);
        }
      },
    };
  },
});
