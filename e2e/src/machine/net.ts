// Per-machine /30 subnets on the veth pair: host side .1, machine side .2. A claim file per subnet (owner pid)
// keeps parallel test processes apart; a claim whose owner died is taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { run } from '../mirror/run.js';

const CLAIMS = '/run/flexnode-e2e/subnets';
/** 10.231.0.0/16 cut into /30s: 16384 machines, far more than a test run boots. */
const PREFIX = [10, 231];

export interface Subnet {
  index: number;
  hostAddress: string;
  machineAddress: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function addr(index: number, host: number): string {
  return `${PREFIX[0]}.${PREFIX[1]}.${index >> 6}.${((index & 63) << 2) + host}`;
}

export async function claimSubnet(): Promise<Subnet> {
  await mkdir(CLAIMS, { recursive: true });
  const inUse = (await run(['ip', '-o', '-4', 'addr', 'show'])).stdout;
  for (let index = 0; index < 16384; index++) {
    if (inUse.includes(` ${addr(index, 1)}/`)) continue; // used by something we do not know about
    const file = `${CLAIMS}/${index}`;
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner && !alive(owner)) await rm(file, { force: true });
      continue;
    }
    return {
      index,
      hostAddress: addr(index, 1),
      machineAddress: addr(index, 2),
      release: () => rm(file, { force: true }),
    };
  }
  throw new Error('no free /30 left in 10.231.0.0/16');
}

/** Host-side interface name of the veth whose machine end is `host0` in the netns of `pid`. */
export async function hostVethOf(pid: number): Promise<string> {
  const inside = (await run(['nsenter', '-t', String(pid), '-n', 'ip', '-o', 'link', 'show', 'host0'])).stdout;
  const peer = /host0@if(\d+)/.exec(inside)?.[1];
  if (!peer) throw new Error(`no host0 veth in machine (pid ${pid}): ${inside}`);
  const line = (await run(['ip', '-o', 'link', 'show'])).stdout.split('\n').find((l) => l.startsWith(`${peer}: `));
  const name = line && /^\d+: ([^@:]+)/.exec(line)?.[1];
  if (!name) throw new Error(`host-side veth with ifindex ${peer} not found`);
  return name;
}

/** Addresses both ends: the machine can then reach servers bound to hostAddress (not 127.0.0.1). */
export async function addressVeth(pid: number, hostVeth: string, subnet: Subnet): Promise<void> {
  await run(['ip', 'addr', 'add', `${subnet.hostAddress}/30`, 'dev', hostVeth]);
  await run(['ip', 'link', 'set', hostVeth, 'up']);
  const ns = ['nsenter', '-t', String(pid), '-n'];
  await run([...ns, 'ip', 'addr', 'add', `${subnet.machineAddress}/30`, 'dev', 'host0']);
  await run([...ns, 'ip', 'link', 'set', 'host0', 'up']);
  await run([...ns, 'ip', 'link', 'set', 'lo', 'up']);
}
