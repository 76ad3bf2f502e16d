// bin/flexnode of a release tarball (scripts/build-release.mjs): a sh wrapper that runs the CLI on the Node.js runtime
// shipped beside it. Its own module so that the bench times the wrapper the release ships (bench/cli-start.mjs).

/**
 * The wrapper's text for flexnode `version`. It resolves its own location (it is usually reached through the
 * /usr/local/bin symlink) and expects the release layout: <top>/bin/flexnode, <top>/node/bin/node,
 * <top>/lib/node_modules/@flexnode/cli/bin/run.js.
 */
export function releaseWrapper(version) {
  return `#!/bin/sh
# flexnode ${version}: the CLI on the Node.js runtime shipped with it (no system Node needed).
# One child before node, readlink: each $(dirname ...) was a fork and an exec, ~8 ms of every command in all.
self=$(readlink -f "$0")
top=\${self%/bin/*}
# The command the kubelet's kubeconfig runs for a token (flexnode token): <prefix>/current/bin/flexnode when this is
# the release install.sh made current, so that installing a newer flexnode does not change the kubeconfig.
# (-ef: the same file once links are followed; dash's and bash's test have it.)
stable="\${top%/*}/current/bin/flexnode"
[ "$stable" -ef "$self" ] || stable=$self
FLEXNODE_COMMAND=\${FLEXNODE_COMMAND:-$stable}
export FLEXNODE_COMMAND
exec "$top/node/bin/node" "$top/lib/node_modules/@flexnode/cli/bin/run.js" "$@"
`;
}
