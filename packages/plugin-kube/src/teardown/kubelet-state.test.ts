import { expect } from 'chai';
import { MemoryHost } from '@flexnode/sdk/testing';
import { KUBELET_STATE_RECORD, recordKubeletState, removeKubeletState } from './kubelet-state.js';

const DIR = '/var/lib/kubelet';

/** A machine whose `rm` removes what it names (and below), as the real one does. */
function machine() {
  const root = new MemoryHost();
  const rm: string[][] = [];
  root.onExec('rm', (args) => {
    rm.push([...args]);
    for (const p of args.filter((a) => a.startsWith('/'))) for (const f of [...root.files.keys()]) if (f === p || f.startsWith(`${p}/`)) root.files.delete(f);
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  root.onExec('rmdir', () => ({ exitCode: 0, stdout: '', stderr: '' }));
  return { root, host: root.forStep('kube.kubelet'), rm };
}

describe("the kubelet's own state goes with the node", () => {
  it('removes what the kubelet wrote since it first ran; what was there before stays; a re-run keeps the first record', async () => {
    const { root, host, rm } = machine();
    root.seedFile(`${DIR}/kubeconfig`, "cluster-credentials's"); // another step's file, there before the kubelet ran
    root.seedFile(`${DIR}/keep-me`, "the administrator's");
    await recordKubeletState(host, DIR);
    // the kubelet runs: its serving pair, a pod's volume, its state file
    root.seedFile(`${DIR}/pki/kubelet.crt`, 'serving').seedFile(`${DIR}/pki/kubelet.key`, 'key');
    root.seedFile(`${DIR}/pods/uid-1/volumes/kubernetes.io~empty-dir/cache/x`, 'data');
    root.seedFile(`${DIR}/cpu_manager_state`, '{}');
    await recordKubeletState(host, DIR); // a later install (an upgrade, a heal): the first record stays
    expect(await removeKubeletState(host, DIR)).to.deep.equal(['cpu_manager_state', 'pki', 'pods']);
    expect(rm).to.deep.equal([['-rf', '--one-file-system', '--', `${DIR}/cpu_manager_state`, `${DIR}/pki`, `${DIR}/pods`]]);
    expect([...root.files.keys()].filter((f) => f.startsWith(`${DIR}/`)).sort()).to.deep.equal([`${DIR}/keep-me`, `${DIR}/kubeconfig`]);
    expect(
      (root.journal.get('kube.kubelet') ?? []).some((c) => c.kind === 'custom' && c.type === KUBELET_STATE_RECORD),
      'the record is done with',
    ).to.equal(false);
  });

  it('nothing is removed while something is mounted below the directory (a same-filesystem bind mount defeats --one-file-system)', async () => {
    const { root, host, rm } = machine();
    await recordKubeletState(host, DIR);
    root.seedFile(`${DIR}/pods/uid-1/volumes/kubernetes.io~host-path/data/precious`, 'user data');
    root.seedFile('/proc/self/mountinfo', `36 35 8:1 /srv/data ${DIR}/pods/uid-1/volumes/kubernetes.io~host-path/data rw,relatime - ext4 /dev/sda1 rw\n`);
    const error = (await removeKubeletState(host, DIR).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error.message).to.equal(
      `the kubelet's state under ${DIR} is not removed while something is mounted below it: ${DIR}/pods/uid-1/volumes/kubernetes.io~host-path/data`,
    );
    expect(error.hint).to.match(/unmount them/);
    expect(rm).to.deep.equal([]);
    expect(root.files.has(`${DIR}/pods/uid-1/volumes/kubernetes.io~host-path/data/precious`)).to.equal(true);
  });

  it('a node joined without the record (an older flexnode) keeps everything; a dry run removes nothing', async () => {
    const { root, host, rm } = machine();
    root.seedFile(`${DIR}/pki/kubelet.crt`, 'serving');
    expect(await removeKubeletState(host, DIR)).to.deep.equal([]);
    await recordKubeletState(root.forStep('kube.kubelet', { dryRun: true }), DIR);
    expect((root.journal.get('kube.kubelet') ?? []).length).to.equal(0);
    expect(rm).to.deep.equal([]);
  });
});
