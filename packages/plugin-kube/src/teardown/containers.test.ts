import { expect } from 'chai';
import { MemoryHost } from '@flexnode/sdk/testing';
import { removePodContainers } from './containers.js';

describe('pod containers through containerd', () => {
  it("stops and removes only the kubelet's containers of k8s.io (CRI kind or pod uid labels), and their sandboxes' network namespaces", async () => {
    const host = new MemoryHost();
    host.seedFile('/run/netns/cni-1111', '');
    const containers: Record<string, Record<string, unknown>> = {
      sandbox1: {
        Labels: { 'io.cri-containerd.kind': 'sandbox', 'io.kubernetes.pod.uid': 'u1' },
        Spec: { linux: { namespaces: [{ type: 'network', path: '/var/run/netns/cni-1111' }] } },
      },
      app1: { Labels: { 'io.cri-containerd.kind': 'container', 'io.kubernetes.pod.uid': 'u1' } },
      standin: { Labels: { 'io.kubernetes.pod.uid': 'u2', 'io.kubernetes.pod.name': 'web' } },
      mine: { Labels: { owner: 'someone' } },
    };
    const running = new Set(['sandbox1', 'app1', 'standin', 'mine']);
    const calls: string[] = [];
    host.onExec('ctr', (args) => {
      const rest = args.slice(4); // --address <socket> --namespace k8s.io
      expect(args.slice(0, 4)).to.deep.equal(['--address', '/run/containerd/containerd.sock', '--namespace', 'k8s.io']);
      const out = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });
      if (rest.join(' ') === 'containers ls -q') return out(Object.keys(containers).join('\n'));
      if (rest[0] === 'containers' && rest[1] === 'info') return out(JSON.stringify(containers[rest[2]!]));
      if (rest.join(' ') === 'tasks ls') return out(['TASK PID STATUS', ...[...running].map((id) => `${id} 1 RUNNING`)].join('\n'));
      calls.push(rest.join(' '));
      if (rest[0] === 'tasks' && rest[1] === 'kill') running.delete(rest.at(-1)!);
      return out('');
    });
    host.onExec('ip', (args) => {
      calls.push(`ip ${args.join(' ')}`);
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    const result = await removePodContainers(host.forStep('kube.kubelet'), '/run/containerd/containerd.sock', { sleep: async () => undefined });
    expect(result.removed).to.deep.equal(['sandbox1', 'app1', 'standin']);
    expect(calls).to.deep.equal([
      'tasks kill --all --signal SIGTERM sandbox1',
      'tasks kill --all --signal SIGTERM app1',
      'tasks kill --all --signal SIGTERM standin',
      'tasks delete --force sandbox1',
      'containers delete sandbox1',
      'ip netns delete cni-1111',
      'tasks delete --force app1',
      'containers delete app1',
      'tasks delete --force standin',
      'containers delete standin',
    ]);
    expect(running.has('mine'), "a container that is not the kubelet's keeps running").to.equal(true);
  });

  it('says why when containerd does not answer or ctr is missing', async () => {
    const host = new MemoryHost();
    expect(await removePodContainers(host.forStep('s'), '/run/x.sock')).to.deep.equal({ removed: [], skipped: 'ctr is not installed' });
    host.onExec('ctr', () => ({ exitCode: 1, stdout: '', stderr: 'connection refused\nmore' }));
    expect((await removePodContainers(host.forStep('s'), '/run/x.sock')).skipped).to.equal('containerd does not answer on /run/x.sock: connection refused');
  });
});
