import { expect } from 'chai';
import { orderSteps, type GraphNode } from './order.js';

const ids = (nodes: GraphNode[]) => nodes.map((n) => n.id);

describe('step graph', () => {
  it('orders by step ids and capabilities named in after, keeping declaration order otherwise', () => {
    const { order, dependencies } = orderSteps([
      { id: 'kube.kubelet', after: ['container-runtime', 'cni', 'kube.binaries'] },
      { id: 'kube.binaries' },
      { id: 'containerd.service', provides: ['container-runtime'], after: ['containerd.config'] },
      { id: 'containerd.config' },
      { id: 'cni.config', provides: ['cni'] },
    ]);
    expect(ids(order)).to.deep.equal(['kube.binaries', 'containerd.config', 'containerd.service', 'cni.config', 'kube.kubelet']);
    expect(dependencies.get('kube.kubelet')).to.have.members(['containerd.service', 'cni.config', 'kube.binaries']);
  });

  it('names every step of a cycle', () => {
    expect(() => orderSteps([{ id: 'a.one', after: ['c.three'] }, { id: 'b.two', after: ['a.one'] }, { id: 'c.three', after: ['b.two'] }, { id: 'd.free' }]))
      .to.throw(/cycle: (a\.one|b\.two|c\.three) → .* → .* → \1/)
      .with.property('code', 'GRAPH_CYCLE');
  });

  it('reports a self-provided capability as no dependency, and a missing dependency by step and name', () => {
    expect(ids(orderSteps([{ id: 'x.one', provides: ['cni'], after: ['cni'] }]).order)).to.deep.equal(['x.one']);
    expect(() => orderSteps([{ id: 'kube.kubelet', after: ['container-runtime'] }]))
      .to.throw(/kube\.kubelet needs "container-runtime", which no step or plugin provides/)
      .with.property('exitCode', 2);
  });

  it('drops dependencies on steps or capabilities that exist but do not run', () => {
    const { order } = orderSteps(
      [{ id: 'containerd.config', after: ['containerd.packages', 'containerd.binaries'] }, { id: 'containerd.binaries' }],
      new Set(['containerd.packages']),
    );
    expect(ids(order)).to.deep.equal(['containerd.binaries', 'containerd.config']);
  });

  it('orders 5,000 steps in a long chain without quadratic work', () => {
    const nodes = Array.from({ length: 5000 }, (_, i) => ({ id: `s.n${i}`, after: i === 0 ? [] : [`s.n${i - 1}`] })).reverse();
    const { order } = orderSteps(nodes);
    expect(order[0]!.id).to.equal('s.n0');
    expect(order[4999]!.id).to.equal('s.n4999');
  });
});

describe('step selection (--only)', () => {
  const graph = orderSteps([
    { id: 'containerd.binaries' },
    { id: 'containerd.service', provides: ['container-runtime'], after: ['containerd.binaries'] },
    { id: 'cni.plugins', plugin: '@flexnode/plugin-cni' } as GraphNode,
    { id: 'kube.kubelet', after: ['container-runtime'] },
  ]);

  it('keeps the named steps and what they depend on, in order', async () => {
    const { selectSteps } = await import('./select.js');
    expect(ids(selectSteps(graph, ['kube.kubelet']).order)).to.deep.equal(['containerd.binaries', 'containerd.service', 'kube.kubelet']);
    expect(ids(selectSteps(graph, ['container-runtime']).order)).to.deep.equal(['containerd.binaries', 'containerd.service']);
    expect(ids(selectSteps(graph, ['@flexnode/plugin-cni']).order)).to.deep.equal(['cni.plugins']);
  });

  it('keeps a preflight step that names what it is for only when that runs (or it is named); others always', async () => {
    const { selectSteps } = await import('./select.js');
    const gated = orderSteps([
      { id: 'kube.preflight' },
      { id: 'kube.version-skew', preflightFor: ['kube.binaries', 'kubelet'] } as GraphNode,
      { id: 'containerd.binaries', after: ['kube.preflight', 'kube.version-skew'] },
      { id: 'kube.binaries', after: ['kube.preflight', 'kube.version-skew'] },
      { id: 'kube.kubelet', provides: ['kubelet'], after: ['kube.preflight', 'kube.version-skew'] },
    ]);
    const runtimeOnly = selectSteps(gated, ['containerd.binaries']);
    expect(ids(runtimeOnly.order)).to.deep.equal(['kube.preflight', 'containerd.binaries']);
    // The step left out is no dependency any more: the run can start.
    expect(runtimeOnly.dependencies.get('containerd.binaries')).to.deep.equal(['kube.preflight']);
    expect(ids(selectSteps(gated, ['kubelet']).order)).to.deep.equal(['kube.preflight', 'kube.version-skew', 'kube.kubelet']);
    expect(ids(selectSteps(gated, ['kube.binaries', 'containerd.binaries']).order)).to.deep.equal([
      'kube.preflight',
      'kube.version-skew',
      'containerd.binaries',
      'kube.binaries',
    ]);
    expect(ids(selectSteps(gated, ['kube.version-skew']).order)).to.deep.equal(['kube.version-skew']);
  });

  it('refuses an unknown name, listing the steps', async () => {
    const { selectSteps } = await import('./select.js');
    expect(() => selectSteps(graph, ['kubelet.nope']))
      .to.throw(/--only kubelet\.nope: no step.*containerd\.binaries/)
      .with.property('exitCode', 2);
  });
});
