// Node in a box, the full cycle, in both ways the kubelet authenticates: a booted Debian machine with real systemd,
// where the real CLI bootstraps the whole node (preflight, OS prerequisites, runc/containerd and the CNI plugins for
// real from the host-side mirror, Arc registration against the FAKE ARM and FAKE Entra, the Node registered with its
// pod range, the kubelet STAND-IN under systemd talking to the FAKE Kubernetes API, which authorizes as AKS does),
// re-runs converged, runs a pod's calls, and unbootstraps to the pristine tree. A kubenet cluster (join-rig.ts):
// node-ipam gives every Node a /24, and AKS's kube-proxy DaemonSet serves the node through its label.
//  - arc-msi: tokens from the FAKE Arc HIMDS; guard authorizes them against flexnode's custom node roles only.
//  - bootstrap-token: the operator registers the Node; the stand-in TLS-bootstraps with the token flexnode made as the
//    operator, then runs as system:node:<name> under the Node authorizer.
// Only Azure, the API server, azcmagent and the kubelet are fakes or stand-ins: nothing else here can be had.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLE_IDS } from '../fakes/fake-arm.js';
import { kubeClient } from '../fakes/kube/client.test.helpers.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { diffSnapshots, isEmptyDiff } from '../machine/snapshot.js';
import { buildEchoImage, buildPodImage, POD_IMAGE } from '../mirror/oci-image.js';
import { repoRoot } from '../mirror/paths.js';
import { CONFIG_PATH, explain, flexnode, writeConfig } from './cli-in-machine.js';
import { CLI_LAUNCHER, CLIENT_SECRET, CLUSTER_ID, NOISE, startJoinRig, type JoinRig } from './join-rig.js';

const KUBE_VERSION = '1.30.4';
const NODE = 'box-node';
const MC = 'Microsoft.ContainerService/managedClusters';
type Mode = 'arc-msi' | 'bootstrap-token';
/**
 * The roles flexnode defines for the node identity: the kubelet's (arc-msi) and kube-proxy's, which the default
 * service proxy mode (`auto`) may resolve to (plugin-arc README). In bootstrap-token mode only kube-proxy's: the
 * kubelet has its own certificate.
 */
const CUSTOM_ROLES: Record<Mode, string[]> = {
  'arc-msi': ['flexnode node + kube-proxy', 'flexnode node + kube-proxy, namespace kube-node-lease'],
  'bootstrap-token': ['flexnode kube-proxy'],
};
const ARC_STEPS = ['arc.preflight', 'arc.agent', 'arc.connect', 'arc.node-role', 'arc.roles'];

for (const mode of ['arc-msi', 'bootstrap-token'] as const)
  describe(`node in a box: the full cycle (bootstrap, converge, unbootstrap) with Arc and the kubelet, kubernetes.auth ${mode}`, function () {
    this.timeout(600_000);
    let rig: JoinRig | undefined;

    before(async function () {
      this.timeout(900_000);
      await skipUnlessMachineSupported(this);
      // A kubenet cluster: kube-controller-manager gives every Node a /24 of its pod range, and AKS's kube-proxy
      // DaemonSet schedules on nodes labelled kubernetes.azure.com/cluster (upstream's kubenet flow).
      rig = await startJoinRig({
        name: mode === 'arc-msi' ? 'full' : 'fullbt',
        kubernetesVersion: KUBE_VERSION,
        networkProfile: { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
        kube: { podCidr: { clusterCidr: '10.244.0.0/16' }, serviceCidr: '10.96.0.0/16' },
        node: { name: NODE, labels: { 'flexnode.io/pool': 'edge' } },
        ...(mode === 'bootstrap-token' ? { kubernetes: { auth: mode } } : {}),
      });
      // The operator may assign roles and define custom roles (Owner on the subscription is the fake's default) and
      // holds RBAC Admin in the cluster (plugin-kube README, "The operator's Kubernetes credential"): it creates the
      // bootstrap token and bindings, registers the Node in bootstrap-token mode, and deletes the Node on the way out.
      rig.arm.grant(rig.entra.clients[0]!.objectId, 'Azure Kubernetes Service RBAC Admin', CLUSTER_ID);
      await rig.write(rig.config());
    });

    after(async () => {
      await rig?.stop();
    });

    it("joins the node, runs a pod's calls, converges on a re-run, and unbootstrap restores every file", async () => {
      const { machine: m, kube: k, arm, entra, env, work } = rig!;
      const operator = entra.clients[0]!.objectId;
      const pristine = await m.snapshot(NOISE);

      const first = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
      expect(first.exitCode, await explain(m, first, 'kubelet.service')).to.equal(0);
      for (const unit of ['containerd.service', 'kubelet.service']) {
        expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.equal('active');
      }

      // The kubelet stand-in runs the Node and it becomes Ready; a 401/403 would have stopped the stand-in.
      const deadline = Date.now() + 60_000;
      while (k.readyCondition(NODE)?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      expect(k.readyCondition(NODE)?.status, await m.journal('kubelet.service')).to.equal('True');
      const principal = arm.machine(NODE)?.principalId;
      expect(arm.machine(NODE), 'Arc machine resource').to.not.equal(undefined);
      // flexnode's custom roles, and what the node identity holds: never RBAC Admin.
      const custom = arm.roleDefinitions().filter((d) => d.type === 'CustomRole');
      expect(custom.map((d) => d.roleName.split(' (')[0])).to.deep.equal(CUSTOM_ROLES[mode]);
      const held = arm
        .roleAssignments()
        .filter((a) => a.principalId === principal)
        .map((a) => a.roleDefinitionId.split('/').pop()!);
      expect(held).to.not.include(ROLE_IDS.aksRbacAdmin).and.not.include(ROLE_IDS.aksRbacClusterAdmin);
      let bootstrapSecret = '';
      const kubeletUsers = () => [...new Set(k.audit.filter((e) => e.userAgent.startsWith('kubelet/')).map((e) => e.user))];
      // kubenet: the Node was registered with the kubelet's labels before the kubelet started, the cluster gave it a
      // /24, and it carries the label AKS's kube-proxy DaemonSet schedules on; flexnode runs no kube-proxy of its own.
      // The kubelet's own registration finds the Node there (409) and adopts it.
      const registrations = k.audit.filter((e) => e.verb === 'create' && e.resource === 'nodes').map((e) => `${e.code} ${e.user} ${e.userAgent.split('/')[0]}`);
      if (mode === 'arc-msi') {
        // Registered by the node identity (kube.pod-cidr), every call as the Arc identity, authorized by guard against
        // flexnode's node roles and the Cluster User Role: no RBAC Admin anywhere.
        expect(registrations).to.deep.equal([`201 ${principal} flexnode`, `409 ${principal} kubelet`]);
        expect(kubeletUsers()).to.deep.equal([principal]);
        // The kubelet got its tokens from the machine's flexnode command (FLEXNODE_COMMAND, as a release names it),
        // so status from another Node.js finds the kubeconfig as it would write it.
        const kubeconfig = (await m.execOrThrow(['cat', '/var/lib/kubelet/kubeconfig'])).stdout;
        expect(kubeconfig).to.include(`command: ${CLI_LAUNCHER}\n`);
        const otherNode = await m.exec(
          [
            'sh',
            '-c',
            `cp "$(command -v node)" /tmp/node-copy && /tmp/node-copy ${repoRoot()}/packages/cli/bin/run.js status --only kube.cluster-credentials --config ${CONFIG_PATH}; rc=$?; rm -f /tmp/node-copy; exit $rc`,
          ],
          { env, allowFailure: true },
        );
        expect(otherNode.exitCode, otherNode.stdout + otherNode.stderr).to.equal(0);
        expect(held.sort()).to.deep.equal([ROLE_IDS.aksClusterUser, ...custom.map((d) => d.id.split('/').pop()!)].sort());
        expect(
          k.audit.filter((e) => e.resource === 'leases' && e.code < 300).map((e) => e.user),
          'the Lease is renewed as the Arc identity',
        ).to.include(principal);
      } else {
        // Registered by the operator: the node has no credential before TLS bootstrapping.
        expect(registrations).to.deep.equal([`201 ${operator} flexnode`, `409 system:node:${NODE} kubelet`]);
        // A CSR as the bootstrap identity, approved and signed by the fake's CA; then everything as the node itself.
        const token = (await m.execOrThrow(['sh', '-c', "sed -n 's/^ *token: //p' /var/lib/kubelet/bootstrap-kubeconfig"])).stdout.trim();
        const id = token.split('.')[0];
        bootstrapSecret = token.split('.')[1]!;
        expect(bootstrapSecret).to.match(/^[a-z0-9]{16}$/);
        expect(kubeletUsers()).to.deep.equal([`system:bootstrap:${id}`, `system:node:${NODE}`]);
        const csr = k.objects('certificatesigningrequests.certificates.k8s.io')[0]!;
        expect(csr.spec).to.deep.include({ username: `system:bootstrap:${id}`, signerName: 'kubernetes.io/kube-apiserver-client-kubelet' });
        // The Arc identity holds kube-proxy's role only (`auto` may resolve to flexnode's kube-proxy); nothing of it
        // touched the cluster here, where AKS's kube-proxy serves the node.
        expect(held).to.deep.equal(custom.map((d) => d.id.split('/').pop()!));
        expect(k.audit.filter((e) => e.user === principal)).to.deep.equal([]);
        // The token's group may do nothing but create its CSR.
        const call = kubeClient(k);
        expect((await call('GET', '/api/v1/nodes', { token })).status).to.equal(403);
        expect((await call('GET', `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${id}`, { token })).status).to.equal(403);
        expect(
          (await call('POST', '/api/v1/namespaces/default/pods', { token }, { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } }))
            .status,
        ).to.equal(403);
        // Its client certificate is a node's: another node's Lease and Node are denied by the Node authorizer.
        const pem = (await m.execOrThrow(['cat', '/var/lib/kubelet/pki/kubelet-client-current.pem'])).stdout;
        const cert = { certPem: pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 26), keyPem: pem.slice(pem.indexOf('-----BEGIN EC PRIVATE KEY')) };
        k.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'other-node' } });
        k.apply({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'other-node', namespace: 'kube-node-lease' }, spec: {} });
        const lease = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/other-node', cert);
        expect(lease.json.message, lease.text)
          .to.include(`User "system:node:${NODE}" cannot get resource "leases"`)
          .and.include('can only access node lease with the same name as the requesting node');
        const node = await call('PATCH', '/api/v1/nodes/other-node', cert, { metadata: { labels: { taken: 'yes' } } }, 'application/merge-patch+json');
        expect(node.status, node.text).to.equal(403);
        k.deleteObject('nodes', '', 'other-node', { force: true });
      }
      const node = k.node(NODE)!;
      expect(node.spec?.podCIDR).to.equal('10.244.0.0/24');
      const nodeResourceGroup = arm.cluster(CLUSTER_ID)!.nodeResourceGroup;
      expect(node.metadata.labels).to.include({
        'kubernetes.azure.com/cluster': nodeResourceGroup,
        'node.kubernetes.io/exclude-from-external-load-balancers': 'true',
        'kubernetes.azure.com/managed': 'false',
        'flexnode.io/pool': 'edge',
      });
      expect((await m.exec(['systemctl', 'cat', 'kube-proxy.service'], { allowFailure: true })).exitCode).to.not.equal(0);
      expect((await m.exec(['test', '-e', '/usr/local/bin/kube-proxy'], { allowFailure: true })).exitCode).to.not.equal(0);
      const renewals = () => k.audit.filter((e) => e.resource === 'leases' && e.verb === 'update' && e.code < 300 && e.userAgent.startsWith('kubelet/')).length;
      const leaseDeadline = Date.now() + 25_000; // the kubelet renews every nodeStatusUpdateFrequency (10 s)
      while (renewals() === 0 && Date.now() < leaseDeadline) await new Promise((r) => setTimeout(r, 500));
      expect(renewals(), 'the Lease is renewed').to.be.greaterThan(0);

      // A pod bound to the node with a secret, a configmap and a service-account token: the stand-in fetches them as
      // the node's identity and runs it through the box's containerd.
      await buildPodImage(join(work, 'pod.tar'));
      await m.writeFile('/root/pod.tar', readFileSync(join(work, 'pod.tar')));
      await m.execOrThrow(['ctr', '-n', 'k8s.io', 'image', 'import', '/root/pod.tar']);
      await m.exec(['rm', '-f', '/root/pod.tar']);
      k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-secret', namespace: 'default' }, stringData: { password: 's3cret' } });
      k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-settings', namespace: 'default' }, data: { 'app.conf': 'mode=edge\n' } });
      k.seedPod({
        name: 'app',
        nodeName: NODE,
        phase: 'Pending',
        image: POD_IMAGE,
        spec: {
          containers: [
            {
              name: 'main',
              image: POD_IMAGE,
              env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } }],
              volumeMounts: [{ name: 'settings', mountPath: '/etc/app' }],
            },
          ],
          volumes: [{ name: 'settings', configMap: { name: 'app-settings' } }],
        },
      });
      const podDeadline = Date.now() + 60_000;
      const phase = () => (k.pod('default', 'app')?.status as { phase?: string } | undefined)?.phase;
      while (phase() !== 'Running' && Date.now() < podDeadline) await new Promise((r) => setTimeout(r, 500));
      expect(phase(), await m.journal('kubelet.service')).to.equal('Running');
      const podCalls = k.audit
        .filter((e) => e.userAgent.startsWith('kubelet/') && e.code < 300)
        .map((e) => `${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ''} ${e.name}`);
      expect(podCalls).to.include.members([
        'list secrets app-secret',
        'list configmaps app-settings',
        'create serviceaccounts/token default',
        'patch pods/status app',
      ]);
      expect(
        k
          .denials()
          .filter((e) => e.userAgent.startsWith('kubelet/'))
          .map((e) => `${e.code} ${e.verb} ${e.path}: ${e.message}`),
        'no call of the kubelet was refused',
      ).to.deep.equal([]);
      // Deleted gracefully: the stand-in stops its container and deletes it with its own identity.
      k.deleteObject('pods', 'default', 'app');
      while (k.pod('default', 'app') && Date.now() < podDeadline + 30_000) await new Promise((r) => setTimeout(r, 500));
      expect(k.pod('default', 'app'), 'the pod deleted by its kubelet').to.equal(undefined);

      // Real containerd and runc run a locally imported image; the CNI config gives a pod an address in the Node's range.
      const image = await buildEchoImage(join(work, 'echo.tar'));
      await m.writeFile('/root/echo.tar', readFileSync(join(work, 'echo.tar')));
      await m.execOrThrow(['ctr', '-n', 'default', 'image', 'import', '/root/echo.tar'], { unit: 'containerd.service' });
      expect((await m.execOrThrow(['ctr', '-n', 'default', 'run', '--rm', image, 'e2e-echo'])).stdout).to.contain('hello from a container');
      await m.execOrThrow(['ctr', '-n', 'default', 'image', 'rm', image]);
      await m.exec(['rm', '-f', '/root/echo.tar']);
      const runner = `${repoRoot()}/packages/plugin-cni/dist/cni-chain.test.runner.js`;
      const pod = JSON.parse(
        (await m.execOrThrow(['unshare', '--net', '--mount', '--fork', 'node', runner, '/etc/cni/net.d/99-bridge.conflist', '/opt/cni/bin'])).stdout,
      );
      expect(pod.added?.eth0?.[0]?.local, JSON.stringify(pod)).to.match(/^10\.244\.0\.\d+$/);

      // Converged: nothing changes (no role definition or assignment written, no token made), and quickly.
      const writesToAzure = () => arm.requests.filter((r) => r.method !== 'GET' && !r.path.startsWith('/__fake')).length;
      const azureWrites = writesToAzure();
      const secrets = k.objects('secrets', 'kube-system').length;
      const again = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
      expect(again.exitCode, await explain(m, again)).to.equal(0);
      const rerun = JSON.parse(again.stdout) as { elapsedMs: number; results: { id: string; outcome: string; durationMs: number }[] };
      console.log(`      converged re-run: step work ${rerun.elapsedMs} ms (${rerun.results.map((r) => `${r.id} ${r.durationMs} ms`).join(', ')})`);
      expect(rerun.results.filter((r) => r.outcome !== 'unchanged').map((r) => r.id)).to.deep.equal([]);
      expect(writesToAzure(), 'Azure writes on a converged re-run').to.equal(azureWrites);
      expect(k.objects('secrets', 'kube-system').length, 'no new bootstrap token').to.equal(secrets);
      if (bootstrapSecret) {
        // Only the kubelet's 0600 bootstrap kubeconfig holds the token: not flexnode's journal, backups or logs.
        const holding = await m.exec(['grep', '-rl', bootstrapSecret, '/var/lib/flexnode', '/var/log/aks-flex-node', '/var/lib/kubelet', '/etc'], {
          allowFailure: true,
        });
        expect(holding.stdout.trim().split('\n')).to.deep.equal(['/var/lib/kubelet/bootstrap-kubeconfig']);
      }

      // The operator's credential is for changes only: a careful operator removes it after the join. Status and the
      // agent's cycles then work from the journal and the node's own identity, with no operator token issued.
      const config = JSON.parse(await m.readFile(CONFIG_PATH));
      const withoutOperator = JSON.parse(JSON.stringify(config)) as Record<string, any>;
      delete withoutOperator.azure.servicePrincipal;
      await writeConfig(m, withoutOperator);
      await m.execOrThrow(['rm', '/etc/aks-flex-node/client-secret']);
      const tokens = entra.issued.length;
      const status = await flexnode(m, ['status', '--config', CONFIG_PATH, '--json'], env);
      const health = JSON.parse(status.stdout) as { results: { id: string; outcome: string; error?: { message: string }; check?: { reason?: string } }[] };
      const why = (r: (typeof health.results)[number]) => `${r.id}: ${r.outcome} ${r.error?.message ?? r.check?.reason ?? ''}`;
      expect(health.results.filter((r) => r.outcome !== 'healthy').map(why), 'every step healthy without the operator credential').to.deep.equal([]);
      const kubeSteps = [
        'kube.version',
        'kube.network',
        'kube.binaries',
        'kube.cluster-credentials',
        ...(mode === 'bootstrap-token' ? ['kube.node-bootstrap'] : []),
        'kube.pod-cidr',
        'kube.kubelet',
        'kube.node',
        'kube.proxy',
      ];
      expect(health.results.map((r) => r.id)).to.include.members([...ARC_STEPS, ...kubeSteps]);
      expect(status.exitCode, status.stderr).to.equal(0);
      // The agent's cycles stay healthy too (its bootstrap finds everything converged, then checks).
      const agent = await flexnode(m, ['agent', '--config', CONFIG_PATH, '--max-cycles', '2', '--interval-ms', '200'], env);
      expect(agent.exitCode, await explain(m, agent)).to.equal(0);
      const seen = JSON.parse((await m.execOrThrow(['cat', '/var/lib/flexnode/status.json'])).stdout) as {
        cycles: number;
        healthy: boolean;
        steps: Record<string, { state: string }>;
      };
      expect(seen.cycles).to.be.at.least(3);
      expect(seen.healthy, JSON.stringify(seen.steps)).to.equal(true);
      for (const r of health.results) expect(seen.steps[r.id]?.state, r.id).to.equal('ok');
      await m.execOrThrow(['rm', '/var/lib/flexnode/status.json']); // the agent's own file (uninstall.sh removes it)
      expect(entra.issued.length, 'tokens issued to the operator without its credential').to.equal(tokens);
      if (mode === 'arc-msi') {
        // A role that misses one action the kubelet needs (the README's earlier suggestion lacked service-account
        // tokens): the kubelet's TokenRequest for the next pod is refused, with guard's exact reason.
        const role = custom.find((d) => !d.roleName.includes(', namespace '))!;
        arm.addRoleDefinition({
          id: role.id,
          roleName: role.roleName,
          assignableScopes: role.assignableScopes,
          permissions: [{ dataActions: role.permissions[0]!.dataActions.filter((a) => a !== `${MC}/serviceaccounts/write`) }],
        });
        k.seedPod({ name: 'app-2', nodeName: NODE, phase: 'Pending', image: POD_IMAGE });
        const end = Date.now() + 30_000;
        const refusal = () => k.denials().find((e) => e.resource === 'serviceaccounts' && e.subresource === 'token');
        while (!refusal() && Date.now() < end) await new Promise((r) => setTimeout(r, 300));
        expect(refusal(), await m.journal('kubelet.service')).to.deep.include({ code: 403, user: principal, verb: 'create' });
        expect(refusal()!.message).to.equal(
          `serviceaccounts "default" is forbidden: User "${principal}" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default": Access denied for action: ${MC}/serviceaccounts/write`,
        );
      }

      // Unbootstrap needs it, says so, and leaves Azure and the agent as they are.
      const refused = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH], env);
      expect(refused.exitCode, await explain(m, refused)).to.equal(1);
      expect(refused.stdout + refused.stderr)
        .to.include("needs the operator's Azure credential")
        .and.include('azure.servicePrincipal');
      expect(arm.machine(NODE), 'the Arc machine is kept until it can be deleted').to.not.equal(undefined);
      expect((await m.exec(['test', '-x', '/opt/azcmagent/bin/azcmagent'], { allowFailure: true })).exitCode, 'the agent holding the registration').to.equal(0);
      // Given back, unbootstrap finishes.
      await writeConfig(m, config);
      await m.writeFile('/etc/aks-flex-node/client-secret', CLIENT_SECRET, 0o600);

      const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json'], env);
      expect(undo.exitCode, await explain(m, undo, 'kubelet.service')).to.equal(0);
      expect(
        k.nodes().map((n: { metadata: { name: string } }) => n.metadata.name),
        `${undo.stdout}\n${undo.stderr}`,
      ).to.not.include(NODE);
      // Neither system:node nor flexnode's node role may delete a Node: the operator did.
      expect(k.audit.filter((e) => e.verb === 'delete' && e.resource === 'nodes' && e.name === NODE && e.code < 300).map((e) => e.user)).to.deep.equal([
        operator,
      ]);
      expect(arm.machine(NODE), 'Arc machine resource deleted').to.equal(undefined);
      expect(
        arm.roleAssignments().filter((a) => a.principalId === principal),
        'role assignments deleted',
      ).to.deep.equal([]);
      expect(
        arm.roleDefinitions().filter((d) => d.type === 'CustomRole'),
        'custom roles deleted',
      ).to.deep.equal([]);
      expect(
        k.objects('secrets', 'kube-system').filter((x) => x.type === 'bootstrap.kubernetes.io/token'),
        'bootstrap tokens deleted',
      ).to.deep.equal([]);
      expect(
        k
          .objects('clusterrolebindings.rbac.authorization.k8s.io')
          .map((b) => b.metadata.name)
          .filter((n) => n.startsWith('flexnode:')),
        'bindings deleted',
      ).to.deep.equal([]);
      for (const unit of ['containerd.service', 'kubelet.service']) {
        expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.not.equal('active');
      }
      const after = await m.snapshot(NOISE);
      // The kubelet's own run-time files (its serving pair, its pods' directories) went with the node too.
      const diff = diffSnapshots(pristine, after);
      expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);
      // The kubelet's own credentials went with the node (bootstrap-token mode: its key and certificates).
      expect(
        (await m.exec(['sh', '-c', 'ls /var/lib/kubelet/pki/kubelet-client-* /var/lib/kubelet/kubeconfig 2>/dev/null'], { allowFailure: true })).stdout.trim(),
      ).to.equal('');

      // The client secret and the bootstrap token's secret were never printed, nor journaled.
      for (const out of [first, again, status, agent, refused, undo]) expect(out.stdout + out.stderr).to.not.contain(CLIENT_SECRET);
      if (bootstrapSecret) {
        for (const out of [first, again, status, agent, refused, undo]) expect(out.stdout + out.stderr).to.not.contain(bootstrapSecret);
      }
    });
  });
