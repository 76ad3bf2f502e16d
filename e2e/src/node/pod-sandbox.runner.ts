// A pod sandbox as containerd's CRI makes one for the kubelet, run inside a machine as root (not a mocha spec):
// a network namespace `cni-<id>`, the node's CNI conflist ADDed into it (the bridge plugin makes cni0, its NAT
// chain and host-local's lease; portmap its chains), and the sandbox's container holding it, with the CRI's
// labels (io.cri-containerd.kind=sandbox, io.kubernetes.pod.*) in containerd's k8s.io namespace. The kubelet
// STAND-IN makes no sandboxes: this gives a node the pod network state a real kubelet's pods leave.
//   node pod-sandbox.runner.js CONFLIST CNI_BIN_DIR IMAGE POD_NAME  → {"id", "netns", "ip"}
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

type Json = Record<string, any>;
const [conflistPath, cniPath, image, pod] = process.argv.slice(2) as [string, string, string, string];
const conflist = JSON.parse(readFileSync(conflistPath, 'utf8')) as Json;
const id = randomBytes(16).toString('hex');
const netns = `cni-${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}`;
const netnsPath = `/run/netns/${netns}`;

function add(plugin: Json, ifname: string, prevResult?: Json): Json {
  const conf: Json = { ...plugin, cniVersion: conflist['cniVersion'], name: conflist['name'], ...(prevResult ? { prevResult } : {}) };
  if (plugin['capabilities']?.portMappings) conf['runtimeConfig'] = { portMappings: [] };
  const r = spawnSync(`${cniPath}/${plugin['type']}`, [], {
    input: JSON.stringify(conf),
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: id,
      CNI_NETNS: netnsPath,
      CNI_IFNAME: ifname,
      CNI_PATH: cniPath,
    },
  });
  if (r.status !== 0) throw new Error(`${plugin['type']} ADD exited ${r.status}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as Json;
}

execFileSync('ip', ['netns', 'add', netns]);
add({ type: 'loopback' }, 'lo'); // the CRI brings up the pod's lo itself
let result: Json | undefined;
for (const plugin of conflist['plugins'] as Json[]) result = add(plugin, 'eth0', result);
execFileSync('ctr', [
  '-n',
  'k8s.io',
  'run',
  '-d',
  '--null-io',
  '--with-ns',
  `network:${netnsPath}`,
  '--label',
  'io.cri-containerd.kind=sandbox',
  '--label',
  `io.kubernetes.pod.uid=${id}`,
  '--label',
  `io.kubernetes.pod.name=${pod}`,
  '--label',
  'io.kubernetes.pod.namespace=default',
  image,
  id,
]);
console.log(JSON.stringify({ id, netns, ip: (result?.['ips'] as Json[] | undefined)?.[0]?.['address'] }));
