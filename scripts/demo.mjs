#!/usr/bin/env node
// npm run demo: the main job end to end, on this machine. A booted Debian machine (systemd-nspawn, real systemd,
// containerd, runc, the CNI plugins, apt) joins an AKS cluster through Arc and leaves it again:
//   flexnode plan → flexnode bootstrap → the Node Ready in the cluster → flexnode status → a re-run that changes
//   nothing → flexnode unbootstrap → the Node gone, the machine as it was.
// What cannot exist here is FAKE, and named so: Azure (ARM, Entra ID, the Arc agent's identity endpoint), the
// Kubernetes API server, and STAND-INS for the kubelet, kube-proxy and azcmagent binaries (e2e/src/fakes,
// built from the real services' documented behaviour). Needs root (nspawn); without it, the dry run instead.
//   npm run demo [-- --keep]   (--keep: leave the machine running until Ctrl-C, to look around)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const NODE = 'demo-node';
const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (title) => say(`\n\x1b[1m== ${title}\x1b[0m`);
const indent = (text) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');

if (!existsSync(join(repo, 'e2e/dist/node/join-rig.js'))) {
  console.error('demo: build first (npm run build)');
  process.exit(2);
}
const e2e = (path) => import(join(repo, 'e2e/dist', path));
const { probeMachineSupport } = await e2e('machine/probe.js');
const support = await probeMachineSupport();
if (!support.ok) {
  say(`demo: a node in a box needs ${support.missing.join(', ')}; showing the dry run of examples/config.json instead.`);
  const r = spawnSync(
    process.execPath,
    [join(repo, 'packages/cli/bin/run.js'), 'plan', '--config', join(repo, 'examples/config.json'), '--root', '/tmp/flexnode-demo'],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

const { startJoinRig } = await e2e('node/join-rig.js');
const { CONFIG_PATH, flexnode } = await e2e('node/cli-in-machine.js');
const { diffSnapshots } = await e2e('machine/snapshot.js');
const { NOISE, CLUSTER_ID } = await e2e('node/join-rig.js');

step('Starting a Debian machine and the fakes (first run: builds the Debian rootfs once, ~90 s)');
const rig = await startJoinRig({
  name: 'demo',
  kubernetesVersion: '1.30.4',
  // A kubenet cluster: it gives each Node its pod range, and AKS's kube-proxy DaemonSet serves the node.
  networkProfile: { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
  kube: { podCidr: { clusterCidr: '10.244.0.0/16' }, serviceCidr: '10.96.0.0/16' },
  node: { name: NODE, labels: { 'flexnode.io/site': 'demo' } },
});
let failed = false;
try {
  const { machine, kube } = rig;
  say(`   machine ${machine.name} (${machine.address}); FAKE ARM ${rig.arm.url}, FAKE Entra ${rig.entra.url}, FAKE Kubernetes API ${kube.url}`);
  say(`   the config: ${CONFIG_PATH} in the machine (the service principal's secret in a 0600 file beside it)`);
  // The operator: Owner of the subscription (the fake ARM's default) and RBAC Admin in the cluster, which it needs
  // to delete the Node on the way out (plugin-kube README, "The operator's Kubernetes credential").
  rig.arm.grant(rig.entra.clients[0].objectId, 'Azure Kubernetes Service RBAC Admin', CLUSTER_ID);
  await rig.write(rig.config());
  const before = await machine.snapshot(NOISE); // logs and systemd's bookkeeping change by running anything
  const run = async (title, args, ok = [0]) => {
    step(title);
    say(`   $ flexnode ${args.join(' ')}`);
    const r = await flexnode(machine, args, rig.env);
    say(indent(`${r.stdout}${r.stderr ? `\n${r.stderr}` : ''}`));
    if (!ok.includes(r.exitCode)) throw new Error(`flexnode ${args[0]} exited ${r.exitCode}`);
    return r;
  };

  await run('What bootstrap will change', ['plan', '--config', CONFIG_PATH]);
  await run('Bootstrap: Arc, roles, containerd, CNI, the kubelet, the join', ['bootstrap', '--config', CONFIG_PATH]);

  step('The Node in the cluster (as the FAKE API server holds it)');
  const deadline = Date.now() + 60_000;
  while (kube.readyCondition(NODE)?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const node = kube.node(NODE);
  if (!node || kube.readyCondition(NODE)?.status !== 'True') throw new Error(`the Node ${NODE} did not turn Ready`);
  const labels = Object.entries(node.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  say(`   ${NODE}  Ready  podCIDR ${node.spec?.podCIDR ?? '(none)'}  kubelet ${node.status?.nodeInfo?.kubeletVersion ?? '?'}`);
  say(indent(labels.join('\n')));

  // As a careful operator does after the join: the service principal out of the config. The node runs on its
  // own Arc identity; status and the agent need nothing else. Unbootstrap needs the operator again.
  const nodeOnly = rig.config();
  delete nodeOnly.azure.servicePrincipal;
  await rig.write(nodeOnly);
  await run('Status: every check, the operator credential removed from the config', ['status', '--config', CONFIG_PATH]);
  await rig.write(rig.config());
  await run('A re-run changes nothing', ['bootstrap', '--config', CONFIG_PATH]);
  if (keep) {
    say(`\n--keep: the node runs. Look around with: machinectl shell ${machine.name}   (Ctrl-C here to unbootstrap and stop)`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
  await run('Unbootstrap: drain, undo the journal newest first, delete the Node', ['unbootstrap', '--config', CONFIG_PATH]);

  step('Afterwards');
  say(`   the Node in the cluster: ${kube.node(NODE) ? 'still there' : 'gone'}`);
  const diff = diffSnapshots(before, await machine.snapshot(NOISE));
  const changes = [...diff.added.map((p) => `+ ${p}`), ...diff.removed.map((p) => `- ${p}`), ...diff.changed.map((c) => `~ ${c.path}`)];
  say(
    `   paths changed on the machine since before bootstrap (logs aside): ${changes.length}${changes.length ? `\n${indent(changes.slice(0, 20).join('\n'))}` : ''}`,
  );
} catch (error) {
  failed = true;
  console.error(`\ndemo failed: ${error.message}`);
} finally {
  await rig.stop();
}
process.exit(failed ? 1 : 0);
