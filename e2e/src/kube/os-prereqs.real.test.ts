// OS prerequisite steps FOR REAL: kube.sysctl and kube.swap run with the real Host of packages/core at root '/', in a
// child inside `unshare --net --mount --fork` whose /etc is a private copy (bind mount), so the machine's /etc and
// its network namespace's sysctls are untouched. Swap is global: the test turns on a small swap file of its own,
// the step turns it off, uninstall turns it on again, and the test turns it off and deletes it no matter what.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { coreBuilt } from './real-host.js';

const CHILD = fileURLToPath(new URL('./os-prereqs.child.js', import.meta.url));
const swaps = () =>
  readFileSync('/proc/swaps', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0])
    .filter(Boolean);

async function unavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (unshare, mount, swapon)';
  if (!(await coreBuilt())) return 'packages/core is not built';
  for (const tool of ['unshare', 'swapon', 'swapoff', 'mkswap']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  try {
    execFileSync('unshare', ['--net', '--mount', '--fork', 'true']);
  } catch (e) {
    return `unshare --net --mount does not work here: ${(e as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** Run the child in new net + mount namespaces with /etc replaced by a copy under `tmp`. */
function runChild(tmp: string, swapfile: string): Promise<Record<string, any>> {
  const script = [
    'set -e',
    'mount --make-rprivate /',
    `cp -a /etc "${tmp}/etc"`,
    swapfile !== '-' ? `printf '%s none swap sw 0 0\\n' "${swapfile}" >> "${tmp}/etc/fstab"` : 'true',
    `mount --bind "${tmp}/etc" /etc`,
    `exec "${process.execPath}" "${CHILD}" "${tmp}/state" "${swapfile}"`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile('unshare', ['--net', '--mount', '--fork', 'sh', '-c', script], { maxBuffer: 10 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`child failed: ${error.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`child printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}

describe('plugin-kube OS prerequisites on the real Host (unshare --net --mount)', function () {
  this.timeout(120_000);
  let skip: string | undefined;
  let tmp = '';
  before(async function () {
    skip = await unavailable();
    if (skip) {
      console.log(`      SKIP: ${skip}`);
      this.skip();
    }
  });
  beforeEach(() => {
    tmp = mkdtempSync(join('/var/tmp', 'flexnode-kube-os-'));
  });
  afterEach(() => {
    // Clean up no matter what: our swap file off, the temp dir gone.
    const swapfile = join(tmp, 'swapfile');
    if (swaps().includes(swapfile)) execFileSync('swapoff', [swapfile]);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('kube.sysctl: net.ipv4.ip_forward set in the namespace and in /etc/sysctl.d, both restored; the machine untouched', async () => {
    const hostEtcBefore = readFileSync('/etc/hostname', 'utf8');
    const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const out = await runChild(tmp, '-');
    expect(out.initial['kube.sysctl'].status).to.equal('missing');
    expect(out.afterInstall['kube.sysctl']).to.deep.include({ status: 'ok' });
    expect(out.installed.ipForward).to.equal('1');
    expect(out.installed.sysctlFile).to.match(/net\.ipv4\.ip_forward = 1/);
    expect(out.after.ipForward).to.equal(out.before.ipForward);
    expect(out.after.sysctlFile).to.equal(undefined);
    expect(out.journal.steps?.['kube.sysctl']?.changes ?? []).to.deep.equal([]);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).to.equal(hostForward);
    expect(readFileSync('/etc/hostname', 'utf8')).to.equal(hostEtcBefore);
  });

  it('kube.swap: a test swap file turned off and its fstab line commented; uninstall restores fstab and turns it on again', async function () {
    const others = swaps();
    if (others.length > 0) {
      console.log(`      SKIP: this machine has swap of its own (${others.join(', ')}); the step would turn it off`);
      return this.skip();
    }
    const swapfile = join(tmp, 'swapfile');
    execFileSync('dd', ['if=/dev/zero', `of=${swapfile}`, 'bs=1M', 'count=16', 'status=none']);
    execFileSync('chmod', ['600', swapfile]);
    execFileSync('mkswap', [swapfile], { stdio: 'ignore' });
    execFileSync('swapon', [swapfile]);
    expect(swaps()).to.deep.equal([swapfile]);
    const hostFstab = readFileSync('/etc/fstab', 'utf8');

    const out = await runChild(tmp, swapfile);
    expect(out.before.swaps).to.deep.equal([swapfile]);
    expect(out.initial['kube.swap'].status).to.equal('missing');
    expect(out.afterInstall['kube.swap']).to.deep.include({ status: 'ok' });
    expect(out.installed.swaps).to.deep.equal([]);
    expect(out.installed.fstab).to.include(`#flexnode-swapoff# ${swapfile} none swap sw 0 0`);
    expect(out.after.swaps).to.deep.equal([swapfile]);
    expect(out.after.fstab).to.equal(out.before.fstab);
    expect(out.journal.steps?.['kube.swap']?.changes?.filter((c: { kind: string }) => c.kind !== 'exec') ?? []).to.deep.equal([]);
    expect(readFileSync('/etc/fstab', 'utf8')).to.equal(hostFstab); // the machine's own fstab never changed
  });
});
