import { expect } from 'chai';
import { createStep, execStartOf, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { parse } from 'yaml';
import { renderBootstrapKubeconfig } from '../bootstrap/kubeconfig.js';
import { azureServices, FACTS, fakeReader } from '../fixtures.test.helpers.js';
import { testPki, type TestPki } from '../test-pki.test.helpers.js';
import { fakeApi, fakeOperator, kubeletStep } from './fake-api.test.helpers.js';
import { CREDENTIALS_RECORD } from './step.js';

const config = () => testConfig({ kubernetes: { auth: 'bootstrap-token' }, node: { name: 'edge-1' } });
const PKI = '/var/lib/kubelet/pki';

describe('kube.kubelet in bootstrap-token mode', () => {
  let pki: TestPki;
  before(() => {
    pki = testPki();
  });
  after(() => pki.dispose());

  /** A machine as kube.node-bootstrap leaves it, with `rm` removing files from it. */
  const machine = async () => {
    const host = new MemoryHost();
    host.seedFile(
      '/var/lib/kubelet/bootstrap-kubeconfig',
      await renderBootstrapKubeconfig('test-cluster', 'https://api.test:443', pki.caPem, 'abcdef.0123456789abcdef'),
      0o600,
    );
    const removed: string[][] = [];
    host.onExec('rm', (args) => {
      removed.push([...args]);
      for (const p of args.filter((a) => a.startsWith('/'))) for (const f of [...host.files.keys()]) if (f === p || f.startsWith(`${p}/`)) host.files.delete(f);
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    return { host, removed };
  };
  /** What the kubelet writes once TLS bootstrapping succeeded. */
  const bootstrapped = (host: MemoryHost) => {
    const pair = pki.pair('/O=system:nodes/CN=system:node:edge-1');
    host.seedFile(`${PKI}/kubelet-client-2026-11-30-10-00-00.pem`, pair, 0o600);
    host.seedFile(`${PKI}/kubelet-client-current.pem`, pair, 0o600);
    host.seedFile(`${PKI}/kubelet.crt`, 'serving', 0o644);
    host.seedFile('/var/lib/kubelet/kubeconfig', '{"users":[{"user":{"client-certificate":"/var/lib/kubelet/pki/kubelet-client-current.pem"}}]}', 0o600);
  };

  const text = (host: MemoryHost, path: string) => host.files.get(path)!.content.toString();

  it("runs with --bootstrap-kubeconfig, --cert-dir and rotateCertificates; reads its Node with its certificate; unbootstrap deletes the Node as the operator and the kubelet's credentials", async () => {
    const { host, removed } = await machine();
    const api = fakeApi({ readyAfter: 1 });
    const operator = fakeOperator(200);
    const step = kubeletStep({
      readCluster: fakeReader({ caPem: pki.caPem }),
      nodeApi: (o) => {
        bootstrapped(host);
        return api.factory(o);
      },
      operatorClient: operator.factory,
    });
    const inst = createStep(step, host, { config: config(), services: azureServices() });
    await inst.install();
    expect((await inst.check()).status).to.equal('ok');
    const argv = execStartOf(text(host, '/etc/systemd/system/kubelet.service.d/10-flexnode.conf'));
    expect(argv).to.include.members([
      '--kubeconfig=/var/lib/kubelet/kubeconfig',
      '--bootstrap-kubeconfig=/var/lib/kubelet/bootstrap-kubeconfig',
      `--cert-dir=${PKI}`,
    ]);
    expect(parse(text(host, '/var/lib/kubelet/config.yaml'))).to.deep.include({ rotateCertificates: true, serverTLSBootstrap: false });
    expect(
      api.seen.filter((x) => x.method === 'GET').every((x) => x.token === 'cert O=system:nodes,CN=system:node:edge-1' && x.server === 'https://api.test:443'),
    ).to.equal(true);
    expect(host.journal.get('kube.kubelet')!.some((c) => c.kind === 'custom' && c.type === CREDENTIALS_RECORD)).to.equal(true);

    await inst.uninstall();
    expect(api.seen.filter((x) => x.method === 'DELETE')).to.deep.equal([]); // the node may not delete its Node: the operator does
    expect(operator.calls).to.deep.equal([{ method: 'DELETE', path: '/api/v1/nodes/edge-1', token: 'operator-token', server: FACTS.server }]);
    // The credentials by name first, then the rest of what the kubelet wrote since it first ran (its serving pair).
    expect(removed).to.have.length(2);
    expect(removed[0]!.slice(0, 2)).to.deep.equal(['-f', '--']);
    expect(removed[0]!.slice(2).sort()).to.deep.equal([
      '/var/lib/kubelet/kubeconfig',
      `${PKI}/kubelet-client-2026-11-30-10-00-00.pem`,
      `${PKI}/kubelet-client-current.pem`,
    ]);
    expect(removed[1]).to.deep.equal(['-rf', '--one-file-system', '--', PKI]);
    expect(host.files.has(`${PKI}/kubelet.crt`), 'the serving certificate goes with the node').to.equal(false);
    expect(host.files.has('/var/lib/kubelet/bootstrap-kubeconfig'), "there before the kubelet ran: kube.node-bootstrap's").to.equal(true);
    expect(host.files.has('/var/lib/kubelet/config.yaml')).to.equal(false);
    // Only the `rm`s are left: an exec cannot be undone, and core drops the step from the journal with it (uninstall.ts).
    expect((host.journal.get('kube.kubelet') ?? []).map((c) => c.kind)).to.deep.equal(['exec', 'exec']);
  });

  it('unbootstrap without the operator stops the kubelet and fails naming the credential; given it, the next one deletes the Node', async () => {
    const { host } = await machine();
    const operator = fakeOperator(200);
    const step = kubeletStep({
      readCluster: fakeReader({ caPem: pki.caPem }),
      nodeApi: (o) => {
        bootstrapped(host);
        return fakeApi().factory(o);
      },
      operatorClient: operator.factory,
    });
    await createStep(step, host, { config: config(), services: azureServices() }).install();
    const services = azureServices();
    for (const [k, v] of services)
      if (v && typeof v === 'object' && 'credential' in v)
        services.set(k, {
          ...v,
          credential: {
            getToken: async () => {
              throw new Error('no credential');
            },
          },
        });
    const e = await createStep(step, host, { config: config(), services })
      .uninstall()
      .then(
        () => undefined,
        (x: Error & { code?: string }) => x,
      );
    expect(e?.code).to.equal('AZURE_OPERATOR_CREDENTIAL_REQUIRED');
    expect(e?.message).to.include("unbootstrap of kube.kubelet (deleting the Node edge-1 from the cluster) needs the operator's Azure credential");
    expect(host.units.get('kubelet.service')).to.deep.include({ active: false, enabled: false });
    expect(
      host.journal
        .get('kube.kubelet')!
        .filter((c) => c.kind === 'custom')
        .map((c) => (c as { type: string }).type),
    ).to.include('kubelet-node');
    expect(operator.calls).to.deep.equal([]);
    await createStep(step, host, { config: config(), services: azureServices() }).uninstall();
    expect(operator.calls.map((c) => `${c.method} ${c.path}`)).to.deep.equal(['DELETE /api/v1/nodes/edge-1']);
    expect((host.journal.get('kube.kubelet') ?? []).filter((c) => c.kind !== 'exec')).to.deep.equal([]);
  });

  it('before TLS bootstrapping the Node is not read (no certificate yet); credentials that were there before flexnode stay', async () => {
    const { host, removed } = await machine();
    host.seedFile('/var/lib/kubelet/kubeconfig', "someone else's", 0o600);
    const api = fakeApi();
    const step = kubeletStep({ readCluster: fakeReader({ caPem: pki.caPem }), nodeApi: api.factory, operatorClient: fakeOperator(200).factory });
    const inst = createStep(step, host, {
      config: testConfig({
        kubernetes: { auth: 'bootstrap-token' },
        node: { name: 'edge-1' },
        pluginConfig: { '@flexnode/plugin-kube': { readyTimeoutSeconds: 0 } },
      }),
      services: azureServices(),
    });
    const e = await inst.install().then(
      () => undefined,
      (x: Error) => x,
    );
    expect(e?.message).to.match(/the kubelet has no client certificate in \/var\/lib\/kubelet\/pki yet \(TLS bootstrapping\)/);
    expect(api.seen).to.deep.equal([]);
    await inst.uninstall();
    expect(removed).to.deep.equal([]);
    expect(text(host, '/var/lib/kubelet/kubeconfig')).to.equal("someone else's");
  });
});
