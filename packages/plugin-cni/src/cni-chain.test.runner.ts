// Runs a CNI conflist through the real plugins, the way a runtime does (no cnitool on Debian), and prints a
// JSON report. Meant to run as root under `unshare --net --mount --fork`: it mounts tmpfs over /run and
// /var/lib in that private mount namespace, so the namespace files, host-local's leases (/var/lib/cni), the
// cni0 bridge and the iptables rules all live and die with the test's own namespaces. Not a mocha spec
// (*.test.runner.js): bridge-config.real.test.ts spawns it.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

type Json = Record<string, any>;
const [conflistPath, cniPath] = process.argv.slice(2) as [string, string];
const conflist = JSON.parse(readFileSync(conflistPath, 'utf8')) as Json;
const NETNS = 'flexnode-pod';
const netnsPath = `/run/netns/${NETNS}`;
const containerId = 'flexnode0test0container';
const portMappings = [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }];

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryJson = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as Json[]) : [];
};
const inPod = (args: string[]) => tryJson('nsenter', [`--net=${netnsPath}`, 'ip', '-j', ...args]);
const leases = () => {
  try {
    return readdirSync(`/var/lib/cni/networks/${conflist['name']}`).filter((f) => /^[0-9a-f.:]+$/.test(f) && f.includes('.'));
  } catch {
    return [];
  }
};
const natRules = () =>
  sh('iptables-save', ['-t', 'nat'])
    .split('\n')
    .filter((l) => l.includes(containerId) || l.includes('18080'));

/** One plugin invocation as the CNI spec describes it: env for the runtime's arguments, config on stdin. */
function invoke(plugin: Json, command: 'ADD' | 'DEL', ifname: string, prevResult?: Json): Json | undefined {
  const conf: Json = { ...plugin, cniVersion: conflist['cniVersion'], name: conflist['name'] };
  if (prevResult) conf['prevResult'] = prevResult;
  // Capabilities the plugin declares get their runtime values under runtimeConfig.
  if (plugin['capabilities']?.portMappings) conf['runtimeConfig'] = { portMappings };
  const r = spawnSync(`${cniPath}/${plugin['type']}`, [], {
    input: JSON.stringify(conf),
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: netnsPath,
      CNI_IFNAME: ifname,
      CNI_PATH: cniPath,
    },
  });
  if (r.status !== 0) throw new Error(`${plugin['type']} ${command} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as Json) : undefined;
}

const report: Json = {};
sh('mount', ['-t', 'tmpfs', 'flexnode-run', '/run']);
sh('mount', ['-t', 'tmpfs', 'flexnode-varlib', '/var/lib']);
sh('ip', ['link', 'set', 'lo', 'up']);
sh('ip', ['netns', 'add', NETNS]);
try {
  // containerd's CRI brings up the pod's lo with the loopback plugin, outside the conflist.
  invoke({ type: 'loopback' }, 'ADD', 'lo');
  let result: Json | undefined;
  for (const plugin of conflist['plugins'] as Json[]) result = invoke(plugin, 'ADD', 'eth0', result) ?? result;
  report['result'] = result;
  report['added'] = {
    lo: inPod(['link', 'show', 'dev', 'lo'])[0]?.operstate,
    eth0: inPod(['-4', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info ?? [],
    defaultRoutes: inPod(['-4', 'route', 'show', 'default']),
    bridge: tryJson('ip', ['-j', '-4', 'addr', 'show', 'dev', 'cni0'])[0]?.addr_info ?? [],
    leases: leases(),
    natRules: natRules(),
  };
  // DEL in reverse order, each plugin given the final result (spec 1.0: prevResult on DEL).
  for (const plugin of [...(conflist['plugins'] as Json[])].reverse()) invoke(plugin, 'DEL', 'eth0', result);
  invoke({ type: 'loopback' }, 'DEL', 'lo');
  report['deleted'] = {
    eth0: inPod(['link', 'show', 'dev', 'eth0']).length,
    leases: leases(),
    natRules: natRules(),
  };
} catch (error) {
  report['error'] = (error as Error).message;
} finally {
  // Tidy up what we made, though the namespaces die with this process anyway.
  spawnSync('ip', ['netns', 'delete', NETNS]);
  spawnSync('ip', ['link', 'delete', 'cni0']);
}
process.stdout.write(JSON.stringify(report));
