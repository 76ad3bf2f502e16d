import type { FlexnodeConfig } from '@flexnode/sdk';

/**
 * Kubernetes versions as flexnode meets them: upstream releases (`1.35.2`, `1.36.0-rc.1`, on dl.k8s.io) and AKS's own
 * builds (`1.30.101-akslts` for long-term support, hotfix builds), which only AKS's mirror has.
 */
export interface KubeVersion {
  /** As written, without a leading `v`: `1.30.101-akslts`. */
  readonly text: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** What follows the patch (`akslts`, `rc.1`), or undefined. */
  readonly suffix?: string;
  /** dl.k8s.io publishes it: a release or one of its alpha/beta/rc pre-releases. */
  readonly upstream: boolean;
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;
const UPSTREAM_SUFFIX = /^(alpha|beta|rc)\.\d+$/;

/** Parse `1.35.2`, `v1.35.2`, `1.30.101-akslts`; undefined for anything else. */
export function parseKubeVersion(text: string): KubeVersion | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  const suffix = m[4];
  return {
    text: text.trim().replace(/^v/, ''),
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    ...(suffix ? { suffix } : {}),
    upstream: suffix === undefined || UPSTREAM_SUFFIX.test(suffix),
  };
}

/** `kubernetes.version` without a leading `v`, when set. */
export const configuredVersion = (config: FlexnodeConfig): string | undefined => config.kubernetes?.version?.trim().replace(/^v/, '') || undefined;

/** `1.35` of a version. */
export const minorOf = (v: Pick<KubeVersion, 'major' | 'minor'>) => `${v.major}.${v.minor}`;

/** Minor versions from `b` to `a` (negative when `a` is older). Majors other than 1 count as 100 minors apart. */
export const minorDistance = (a: Pick<KubeVersion, 'major' | 'minor'>, b: Pick<KubeVersion, 'major' | 'minor'>) =>
  (a.major - b.major) * 100 + (a.minor - b.minor);

/** True when `v` is at least `major.minor`. */
export const atLeast = (v: Pick<KubeVersion, 'major' | 'minor'>, major: number, minor: number) => minorDistance(v, { major, minor }) >= 0;
