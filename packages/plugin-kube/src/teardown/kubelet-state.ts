import { findRecord, FlexnodeError, replaceRecord, underRoot, type Host } from '@flexnode/sdk';
import { mountPoints } from './mounts.js';

/**
 * Custom record of the kubelet step, written before the kubelet first runs: what its directory held then. What the
 * kubelet adds there afterwards (its serving and client certificates under pki/, pods/ with their volumes,
 * plugins/, plugins_registry/, pod-resources/, device-plugins/, checkpoints/, its *_manager_state files, its own
 * kubeconfig after TLS bootstrapping) is the node's run-time state: it goes with the node.
 */
export const KUBELET_STATE_RECORD = 'kubelet-state';

interface KubeletStateRecord {
  /** The directory existed before flexnode made it. */
  existed: boolean;
  /** Its entries then (names in the directory). */
  entries: string[];
}

/** Remember what the kubelet directory holds before the kubelet first runs (once: a re-run keeps the first record). */
export async function recordKubeletState(host: Host, kubeletDir: string): Promise<void> {
  if (host.dryRun || findRecord<KubeletStateRecord>(host, KUBELET_STATE_RECORD)) return;
  const existed = (await host.files.stat(kubeletDir)) !== undefined;
  await replaceRecord(host, KUBELET_STATE_RECORD, { existed, entries: existed ? await host.files.list(kubeletDir) : [] } satisfies KubeletStateRecord);
}

/**
 * Remove what the kubelet wrote in its directory since flexnode first started it, as `kubeadm reset` cleans the
 * kubelet's directory (kubernetes cmd/kubeadm/app/cmd/phases/reset/cleanupnode.go): the node is gone, its state is
 * garbage, and its private keys must not outlive it. Only entries that were not there before (the record) and are
 * not flexnode's journaled files (their steps restore those). Nothing is removed while anything is still mounted
 * below the directory (a bind mount of the same filesystem would defeat `rm --one-file-system`: a pod's hostPath
 * data must never be reached through it), and nothing is backed up (private keys). Then the directory
 * itself when flexnode made it and it is empty. Without a record (a node joined by an older flexnode) nothing is
 * removed. Returns the entries removed.
 */
export async function removeKubeletState(host: Host, kubeletDir: string): Promise<string[]> {
  const record = findRecord<KubeletStateRecord>(host, KUBELET_STATE_RECORD);
  if (!record || host.dryRun) return [];
  const before = new Set(record.entries);
  const added = (await host.files.list(kubeletDir)).filter((e) => !before.has(e));
  if (added.length > 0) {
    const dir = underRoot(host.root, kubeletDir);
    const mountinfo =
      host.root === '/'
        ? await host.files.readText('/proc/self/mountinfo')
        : (await host.exec.run('cat', ['/proc/self/mountinfo'], { mutates: false, allowFailure: true })).stdout;
    const below = mountPoints(mountinfo ?? '').filter((m) => m.startsWith(`${dir}/`));
    if (below.length > 0) {
      throw new FlexnodeError(
        'KUBELET_STATE',
        `the kubelet's state under ${kubeletDir} is not removed while something is mounted below it: ${below.join(', ')}`,
        {
          hint: 'unmount them (findmnt -R) and run `flexnode unbootstrap` again: nothing under a mount is ever deleted',
        },
      );
    }
    const paths = added.map((e) => `${kubeletDir}/${e}`);
    const rm = await host.exec.run('rm', ['-rf', '--one-file-system', '--', ...paths.map((p) => underRoot(host.root, p))], {
      allowFailure: true,
      describe: `remove the kubelet's run-time state (${paths.join(', ')})`,
    });
    if (rm.exitCode !== 0) {
      throw new FlexnodeError('KUBELET_STATE', `could not remove all the kubelet's state under ${kubeletDir}: ${rm.stderr.trim()}`, {
        hint: `something is still mounted there (findmnt -R ${kubeletDir}) or busy; unmount it and run \`flexnode unbootstrap\` again`,
      });
    }
  }
  if (!record.existed && (await host.files.list(kubeletDir)).length === 0 && (await host.files.stat(kubeletDir))) {
    await host.exec.run('rmdir', ['--', underRoot(host.root, kubeletDir)], { allowFailure: true, describe: `remove ${kubeletDir} (made for the kubelet)` });
  }
  await host.changes.forget(KUBELET_STATE_RECORD);
  return added;
}
