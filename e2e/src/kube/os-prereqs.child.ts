// Runs INSIDE `unshare --net --mount` with a private copy of /etc bind-mounted over /etc (see os-prereqs.real.test.ts):
// the compiled kube.sysctl and kube.swap steps against the REAL Host of packages/core at root '/'. Prints one JSON
// document of observations on stdout. Usage: node os-prereqs.child.js <stateDir> <swapfile|->
import { readFileSync } from 'node:fs';
import { createSysctlStep, FSTAB, kubeSwap, SYSCTL_FILE } from '@flexnode/plugin-kube';
import { instantiate, Tokens } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { realHost } from './real-host.js';

const [stateDir, swapfile] = process.argv.slice(2) as [string, string];
const read = (p: string) => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};
const snapshot = () => ({
  ipForward: read('/proc/sys/net/ipv4/ip_forward')?.trim(),
  sysctlFile: read(SYSCTL_FILE),
  fstab: read(FSTAB),
  swaps: (read('/proc/swaps') ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0])
    .filter(Boolean),
});

// Only per-network-namespace keys: the global ones (vm.*, kernel.*) would change the machine running the test.
const netnsSysctl = createSysctlStep(() => ({ 'net.ipv4.ip_forward': '1' }));
const steps = [netnsSysctl, ...(swapfile !== '-' ? [kubeSwap] : [])];

const handle = await realHost('/', stateDir);
const config = testConfig();
const out: Record<string, unknown> = { before: snapshot() };
const instances = steps.map((s) => [s.id, instantiate(s, (t) => (t === Tokens.Host ? handle.host(s.id) : config))] as const);
out.initial = Object.fromEntries(await Promise.all(instances.map(async ([id, i]) => [id, await i.check()])));
for (const [, i] of instances) await i.install();
out.afterInstall = Object.fromEntries(await Promise.all(instances.map(async ([id, i]) => [id, await i.check()])));
out.installed = snapshot();
for (const [, i] of [...instances].reverse()) await i.uninstall();
out.after = snapshot();
out.journal = JSON.parse(read(`${stateDir}/journal.json`) ?? '{}');
await handle.dispose();
process.stdout.write(JSON.stringify(out));
