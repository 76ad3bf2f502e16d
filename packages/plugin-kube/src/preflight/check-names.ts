// The preflight checks' names (what skipPreflight takes), apart from the checks: settings.ts validates against
// them as the plugin loads, without loading the checks themselves.

export const CHECKS = {
  os: 'Operating system and version',
  arch: 'CPU architecture',
  memory: 'Memory (at least 2 GB)',
  disk: 'Free disk on /var/lib (at least 25 GB)',
  cgroup: 'cgroup version',
  'port-10250': 'Port 10250 free for the kubelet',
  clock: 'Clock',
  'azure-endpoint': 'Azure Resource Manager reachable',
  'artifact-endpoint': 'Artifact endpoint reachable',
} as const;

export type CheckName = keyof typeof CHECKS;
export const CHECK_NAMES = Object.keys(CHECKS) as CheckName[];
/** Checks of other preflight steps (kube.network) that skipPreflight skips by the same names. */
export const OTHER_CHECK_NAMES = ['api-server', 'node-ranges'] as const;

/** Whether `name` is something skipPreflight can skip: a check, another preflight step's check, or `all`. */
export const isSkippable = (name: string): boolean =>
  name === 'all' || (CHECK_NAMES as string[]).includes(name) || (OTHER_CHECK_NAMES as readonly string[]).includes(name);
