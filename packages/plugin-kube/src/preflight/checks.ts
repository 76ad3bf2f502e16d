/**
 * Preflight checks: is this machine fit to become a node? Each check has a name (to skip it, like kubeadm's
 * --ignore-preflight-errors), a verdict (pass / warn / fail / skip), what was found and, when not passing, what to
 * do about it. The checks take every reading through {@link PreflightReadings}, so tests can inject any machine.
 */

export type Verdict = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckOutcome {
  name: CheckName;
  title: string;
  status: Verdict;
  /** What was found. */
  detail: string;
  /** What to do about it (warn and fail). */
  fix?: string;
}

/** An HTTP(S) probe: any HTTP answer means reachable. */
export type ProbeResult = { ok: true; status: number; date?: string; via: string } | { ok: false; error: string; via: string };

/** Everything the checks read from the machine and the network. */
export interface PreflightReadings {
  /** Content of /etc/os-release, or undefined. */
  osRelease(): Promise<string | undefined>;
  /** The machine hardware name as `uname -m` prints it (x86_64, aarch64, ...). */
  machine(): Promise<string>;
  /** Total RAM in bytes (MemTotal), or undefined. */
  memTotalBytes(): Promise<number | undefined>;
  /** Free bytes (for root) on the filesystem holding `path`, or its nearest existing parent. */
  diskFreeBytes(path: string): Promise<number | undefined>;
  /** `v2`, `v1` (legacy or hybrid hierarchy), or undefined when it cannot be told. */
  cgroupVersion(): Promise<'v1' | 'v2' | undefined>;
  /**
   * Whether the root is this machine's own `/`. A `--root` tree is not booted here (its units are enabled, not
   * started): this machine's listening sockets say nothing of the ports its kubelet will find.
   */
  rootIsThisMachine: boolean;
  /** undefined when `port` is free on all addresses, else why it is not (in use, not permitted). */
  portBusy(port: number): Promise<string | undefined>;
  /** True when the kubelet flexnode installed is running (then it is the one holding port 10250). */
  ourKubeletRunning(): Promise<boolean>;
  /** Milliseconds since the epoch. */
  now(): number;
  probe(url: string): Promise<ProbeResult>;
}

/** What the checks need to know besides the machine. */
export interface PreflightTargets {
  /** The ARM endpoint of the configured cloud. */
  azureEndpoint: string;
  /** Where binaries come from: the configured mirror, else the upstream release host. */
  artifactEndpoint: string;
  /** Whether artifactEndpoint is a configured mirror (for messages). */
  mirror: boolean;
}

export { CHECKS, CHECK_NAMES, OTHER_CHECK_NAMES, type CheckName } from './check-names.js';
import { maskedUrl } from '@flexnode/sdk';
import { CHECKS, isSkippable, type CheckName } from './check-names.js';

/** Ubuntu releases flexnode is built for, and Debian (the test machines' OS). */
const SUPPORTED: Record<string, string[]> = { ubuntu: ['22.04', '24.04'], debian: ['12', '13'] };

/** A MemTotal of 2 GB RAM after the kernel's own reservations: a 2 GB VM reports ~1.9 GiB. */
export const MIN_MEMORY_BYTES = 1.75 * 1024 ** 3;
export const MIN_DISK_BYTES = 25e9;
export const DISK_PATH = '/var/lib';
export const KUBELET_PORT = 10250;
/** The clock cannot be right if it is before this build of flexnode was made. */
export const BUILD_FLOOR = Date.parse('2025-06-01T00:00:00Z');
/** Entra ID rejects tokens from a machine whose clock is more than 5 minutes off. */
const MAX_SKEW_MS = 5 * 60_000;
const WARN_SKEW_MS = 60_000;

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;

/** Parse KEY=value lines of os-release (values may be quoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

export interface PreflightReport {
  ok: boolean;
  checks: CheckOutcome[];
  /** Names in skipPreflight that are no check (a typo would silently skip nothing). */
  unknownSkips: string[];
}

/** Run every check (readings in parallel), skipping the named ones. */
export async function runPreflight(readings: PreflightReadings, targets: PreflightTargets, skip: readonly string[] = []): Promise<PreflightReport> {
  const skipAll = skip.includes('all');
  const skipped = (name: CheckName) => skipAll || skip.includes(name);
  const outcome = (name: CheckName, status: Verdict, detail: string, fix?: string): CheckOutcome => ({
    name,
    title: CHECKS[name],
    status,
    detail,
    ...(fix && status !== 'pass' ? { fix } : {}),
  });

  const safely = async (name: CheckName, run: () => Promise<CheckOutcome>): Promise<CheckOutcome> => {
    if (skipped(name)) return outcome(name, 'skip', 'skipped by pluginConfig skipPreflight');
    try {
      return await run();
    } catch (error) {
      return outcome(name, 'warn', `could not be checked: ${(error as Error).message}`, 'run `flexnode doctor` as root to see the reading');
    }
  };

  // The network probes start first: they wait on DNS and the network while the readings below run.
  const azureProbe = skipped('azure-endpoint') && skipped('clock') ? undefined : readings.probe(targets.azureEndpoint);
  const artifactProbe = skipped('artifact-endpoint') ? undefined : readings.probe(targets.artifactEndpoint);

  const checks = await Promise.all([
    safely('os', async () => {
      const text = await readings.osRelease();
      if (text === undefined) return outcome('os', 'warn', '/etc/os-release is missing', 'flexnode supports Ubuntu 22.04 and 24.04; check the distribution');
      const os = parseOsRelease(text);
      const id = (os.ID ?? '').toLowerCase();
      const version = os.VERSION_ID ?? '';
      const name = os.PRETTY_NAME ?? `${id} ${version}`;
      if (SUPPORTED[id]?.includes(version)) return outcome('os', 'pass', name);
      return outcome(
        'os',
        'warn',
        `${name} is not a tested release`,
        `flexnode is tested on Ubuntu ${SUPPORTED.ubuntu!.join(' and ')} and Debian ${SUPPORTED.debian!.join('/')}; other systemd distributions may work`,
      );
    }),
    safely('arch', async () => {
      const m = (await readings.machine()).trim();
      const arch = ({ x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64' } as Record<string, string>)[m];
      if (arch) return outcome('arch', 'pass', `${m} (${arch})`);
      return outcome('arch', 'fail', `${m} is not supported`, 'AKS nodes run on amd64 (x86_64) or arm64 (aarch64)');
    }),
    safely('memory', async () => {
      const total = await readings.memTotalBytes();
      if (total === undefined) return outcome('memory', 'warn', 'MemTotal could not be read', 'check /proc/meminfo');
      if (total >= MIN_MEMORY_BYTES) return outcome('memory', 'pass', gib(total));
      return outcome(
        'memory',
        'fail',
        `${gib(total)} of RAM, less than 2 GB`,
        'give the machine at least 2 GB of RAM: the kubelet, containerd and system pods need it',
      );
    }),
    safely('disk', async () => {
      const free = await readings.diskFreeBytes(DISK_PATH);
      if (free === undefined) return outcome('disk', 'warn', `free space on ${DISK_PATH} could not be read`, `check \`df -h ${DISK_PATH}\``);
      if (free >= MIN_DISK_BYTES) return outcome('disk', 'pass', `${gb(free)} free on ${DISK_PATH}`);
      return outcome(
        'disk',
        'fail',
        `${gb(free)} free on ${DISK_PATH}, less than 25 GB`,
        `free or add space on the filesystem holding ${DISK_PATH}: container images and pod data live there`,
      );
    }),
    safely('cgroup', async () => {
      const v = await readings.cgroupVersion();
      if (v === 'v2') return outcome('cgroup', 'pass', 'cgroup v2 (unified)');
      if (v === 'v1') {
        return outcome(
          'cgroup',
          'warn',
          'cgroup v1 (legacy or hybrid hierarchy)',
          'boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1): Kubernetes has put cgroup v1 in maintenance mode and newer kubelets refuse it',
        );
      }
      return outcome('cgroup', 'warn', 'the cgroup hierarchy could not be read (/sys/fs/cgroup)', 'mount cgroup2 on /sys/fs/cgroup');
    }),
    safely('port-10250', async () => {
      if (!readings.rootIsThisMachine) return outcome('port-10250', 'skip', "not read: --root is not this machine's root (its kubelet listens where it boots)");
      // The kubelet flexnode installed, running, is the port's holder (or about to be): asked first, it spares a
      // bootstrapped node's status and every agent cycle the reading of the machine's sockets.
      if (await readings.ourKubeletRunning()) return outcome('port-10250', 'pass', 'held by the kubelet flexnode installed');
      const busy = await readings.portBusy(KUBELET_PORT);
      if (busy === undefined) return outcome('port-10250', 'pass', 'free');
      return outcome('port-10250', 'fail', busy, `stop what listens on ${KUBELET_PORT} (\`ss -ltnp 'sport = :${KUBELET_PORT}'\`): it is the kubelet's port`);
    }),
    safely('clock', async () => {
      const now = readings.now();
      if (now < BUILD_FLOOR) {
        return outcome(
          'clock',
          'fail',
          `the clock says ${new Date(now).toISOString()}, before this flexnode was built`,
          'set the time (enable NTP: `timedatectl set-ntp true`)',
        );
      }
      const probe = azureProbe ? await azureProbe : undefined;
      const date = probe?.ok ? probe.date : undefined;
      if (!date) return outcome('clock', 'pass', `${new Date(now).toISOString()} (not compared with Azure: no answer)`);
      const skew = now - Date.parse(date);
      const text = `${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'ahead of' : 'behind'} Azure`;
      if (Math.abs(skew) > MAX_SKEW_MS)
        return outcome(
          'clock',
          'fail',
          text,
          'synchronise the clock (`timedatectl set-ntp true`): Entra ID rejects tokens from clocks more than 5 minutes off',
        );
      if (Math.abs(skew) > WARN_SKEW_MS) return outcome('clock', 'warn', text, 'enable NTP (`timedatectl set-ntp true`)');
      return outcome('clock', 'pass', text);
    }),
    safely('azure-endpoint', async () => {
      const probe = await azureProbe!;
      if (probe.ok) return outcome('azure-endpoint', 'pass', `${maskedUrl(targets.azureEndpoint)} answered HTTP ${probe.status}${probe.via}`);
      return outcome(
        'azure-endpoint',
        'fail',
        `${maskedUrl(targets.azureEndpoint)} unreachable${probe.via}: ${probe.error}`,
        'allow HTTPS to the Azure endpoints, or set proxy.https (and proxy.noProxy) in the config or HTTPS_PROXY/NO_PROXY',
      );
    }),
    safely('artifact-endpoint', async () => {
      const probe = await artifactProbe!;
      if (probe.ok) return outcome('artifact-endpoint', 'pass', `${maskedUrl(targets.artifactEndpoint)} answered HTTP ${probe.status}${probe.via}`);
      return outcome(
        'artifact-endpoint',
        'fail',
        `${maskedUrl(targets.artifactEndpoint)} unreachable${probe.via}: ${probe.error}`,
        targets.mirror
          ? 'check artifacts.mirror in the config and that the mirror serves it'
          : 'allow HTTPS to dl.k8s.io and github.com, set a proxy, or point artifacts.mirror at a mirror',
      );
    }),
  ]);

  // Only doctor, which reads the config's skip list as it is, can meet one: a run's settings refuse it as they load.
  const unknownSkips = skip.filter((s) => !isSkippable(s));
  return { ok: checks.every((c) => c.status !== 'fail'), checks, unknownSkips };
}

/** One line per failed check with its fix, for errors and check reasons. */
export function describeFailures(report: PreflightReport): string {
  return report.checks
    .filter((c) => c.status === 'fail')
    .map((c) => `${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`)
    .join('; ');
}
