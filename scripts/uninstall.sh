#!/bin/sh
# Remove what scripts/install.sh installed, exactly (it reads /opt/flexnode/install-manifest).
#
#   uninstall.sh [--force] [--purge-config]
#
# It refuses while the node is still bootstrapped (flexnode's journal, /var/lib/flexnode/journal.json, still
# lists steps): run `flexnode unbootstrap` first. --force first stops the agent and runs `flexnode unbootstrap`
# (which restores the machine from the journal), and goes on uninstalling even if that fails: then the
# journal stays in /var/lib/flexnode, the changes it lists are NOT undone, and a later flexnode can undo them.
# (Upstream's `uninstall --force` resets without undoing anything; flexnode undoes what it can first.)
#
# The agent is stopped and disabled, the unit removed and systemd reloaded. /etc/aks-flex-node is removed
# only if install.sh created it and it is empty, or with --purge-config. Logs (agent.logDir) are left.
set -eu

FORCE=0
PURGE=0
PREFIX="${FLEXNODE_PREFIX:-/opt/flexnode}"
MANIFEST="$PREFIX/install-manifest"
STATE=/var/lib/flexnode
UNIT_NAME=flexnode-agent.service

die() { echo "uninstall.sh: $*" >&2; exit 1; }
say() { echo "uninstall.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1; shift ;;
    --purge-config) PURGE=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (--force, --purge-config)" ;;
  esac
done
[ "$(id -u)" = 0 ] || die "run as root"
[ -f "$MANIFEST" ] || die "$MANIFEST is missing: flexnode was not installed by install.sh (nothing to remove)"

FLEXNODE="$PREFIX/current/bin/flexnode"
NODE="$PREFIX/current/node/bin/node"
systemd_up() { [ -d /run/systemd/system ]; }

# Steps still journaled = the node is bootstrapped. Read with the release's own node (no jq needed).
journaled() {
  [ -f "$STATE/journal.json" ] || { echo 0; return; }
  "$NODE" -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(Object.keys(j.steps || {}).length)' "$STATE/journal.json"
}

STEPS=$(journaled)
if [ "$STEPS" != 0 ] && [ "$FORCE" = 0 ]; then
  die "the node is still bootstrapped ($STEPS step(s) in $STATE/journal.json): run 'flexnode unbootstrap' first, or uninstall.sh --force to unbootstrap and uninstall"
fi

# The agent first: it would heal what unbootstrap removes.
if systemd_up && [ -f "/etc/systemd/system/$UNIT_NAME" ]; then
  systemctl disable --now "$UNIT_NAME" || echo "uninstall.sh: WARNING: could not stop and disable $UNIT_NAME" >&2
  say "stopped and disabled $UNIT_NAME"
fi

if [ "$STEPS" != 0 ]; then
  say "--force: running flexnode unbootstrap ($STEPS journaled step(s))"
  if ! "$FLEXNODE" unbootstrap; then
    echo "uninstall.sh: WARNING: unbootstrap failed; $STATE/journal.json keeps what is left to undo" >&2
  fi
fi

LEFT=$(journaled)

# Newest first: the reverse of the manifest.
REVERSED=$(sed -n '1!G;h;$p' "$MANIFEST")
echo "$REVERSED" | while read -r kind path; do
  case "$kind" in
    unit) rm -f "$path"; systemd_up && systemctl daemon-reload || true; say "removed $path" ;;
    link) rm -f "$path"; say "removed $path" ;;
    release) rm -rf "$path"; say "removed $path" ;;
    dir)
      if [ "$path" = /etc/aks-flex-node ] && [ "$PURGE" = 1 ]; then rm -rf "$path"; say "removed $path (--purge-config)"
      elif rmdir "$path" 2>/dev/null; then say "removed $path"
      elif [ "$path" = /etc/aks-flex-node ]; then say "kept $path (not empty; --purge-config removes it)"
      elif [ "$path" != "$PREFIX" ]; then say "kept $path (not empty)"
      fi ;;
  esac
done
# The unit may have been installed over an existing one (not in the manifest): it is ours by name all the same.
[ ! -f "/etc/systemd/system/$UNIT_NAME" ] || { rm -f "/etc/systemd/system/$UNIT_NAME"; systemd_up && systemctl daemon-reload || true; }
# What flexnode itself made at run time: oclif's cache (FLEXNODE_CACHE_DIR in the unit) and, once nothing is
# left to undo, its state dir (the agent's status file, download cache). Plugins the operator installed
# (/var/lib/flexnode-plugins, FLEXNODE_DATA_DIR) go with --purge-config only.
rm -rf /var/cache/flexnode
if [ "$PURGE" = 1 ]; then rm -rf /var/lib/flexnode-plugins; fi
if [ "$LEFT" = 0 ]; then rm -rf "$STATE"; else say "kept $STATE: its journal lists changes still to undo"; fi
OWN_PREFIX=$(grep -qxF "dir $PREFIX" "$MANIFEST" && echo 1 || echo 0)
rm -f "$MANIFEST"
[ "$OWN_PREFIX" = 0 ] || rmdir "$PREFIX" 2>/dev/null || true
say "flexnode uninstalled"
