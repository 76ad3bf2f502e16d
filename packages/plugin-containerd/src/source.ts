import type { FlexnodeConfig } from '@flexnode/sdk';

/** True when the config asks for the distribution's containerd and runc packages instead of the releases. */
export function usesApt(config: FlexnodeConfig): boolean {
  return config.containerd?.source === 'apt';
}

/** `when` of the release-artifact steps: they stand aside when `containerd.source` is `apt`. */
export function whenRelease(config: FlexnodeConfig): true | string {
  return usesApt(config) ? 'containerd.source is "apt": containerd and runc come from the distribution packages' : true;
}

/** `when` of the apt step: it applies only when `containerd.source` is `apt`. */
export function whenApt(config: FlexnodeConfig): true | string {
  return usesApt(config) ? true : 'containerd.source is "release" (the default): the upstream release artifacts are installed';
}
