import { ConfigError } from '@flexnode/sdk';
import { minorDistance, minorOf, parseKubeVersion } from '../version.js';

/** How many minor versions a kubelet may be older than the API server (kubernetes.io, Version Skew Policy). */
export const MAX_KUBELET_MINORS_BEHIND = 3;

export const SKEW_RULE = `Kubernetes' version skew policy: a kubelet is never newer than the API server, and at most ${MAX_KUBELET_MINORS_BEHIND} minor versions older`;

/**
 * Refuse (ConfigError, exit 2) a kubelet version the API server does not support, naming both versions and the
 * rule. The policy is stated in minor versions, so patches within one minor are never refused. `origin` says where
 * the kubelet version came from, `from` where the API server's did.
 */
export function assertSupportedSkew(kubelet: string, apiServer: string, origin: string, from: string): void {
  const k = parseKubeVersion(kubelet);
  const a = parseKubeVersion(apiServer);
  if (!a)
    throw new ConfigError(
      `the API server reports version "${apiServer}" (${from}), which is not a Kubernetes version`,
      [],
      "check that the cluster's API server answers /version",
    );
  if (!k)
    throw new ConfigError(`kubelet version "${kubelet}" (${origin}) is not a Kubernetes version`, [
      { path: 'kubernetes.version', message: 'expected major.minor.patch' },
    ]);
  const behind = minorDistance(a, k);
  const allowed = `${minorOf({ major: a.major, minor: Math.max(0, a.minor - MAX_KUBELET_MINORS_BEHIND) })} to ${minorOf(a)}`;
  const fix = `set kubernetes.version to a ${allowed} release (or leave it unset: the node then gets the cluster's version)`;
  if (behind < 0) {
    throw new ConfigError(
      `kubelet ${k.text} (${origin}) is newer than the API server's ${a.text} (${from}): ${SKEW_RULE}`,
      [{ path: 'kubernetes.version', message: `newer than the API server (${a.text}); allowed: ${allowed}` }],
      fix,
    );
  }
  if (behind > MAX_KUBELET_MINORS_BEHIND) {
    throw new ConfigError(
      `kubelet ${k.text} (${origin}) is ${behind} minor versions older than the API server's ${a.text} (${from}): ${SKEW_RULE}`,
      [{ path: 'kubernetes.version', message: `too old for the API server (${a.text}); allowed: ${allowed}` }],
      fix,
    );
  }
}
