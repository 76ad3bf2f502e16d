#!/bin/sh
# Install flexnode from a release tarball (built by scripts/build-release.mjs): it carries its own Node.js.
#
#   curl -fsSL <base>/install.sh | sh -s -- --url <base> --version 0.1.0
#   install.sh --url https://host/flexnode-0.1.0-linux-x64.tar.gz [--sha256 HEX]
#   install.sh --file ./flexnode-0.1.0-linux-x64.tar.gz --sha256 HEX
#
# --url is the tarball's URL, or a base URL under which flexnode-<version>-linux-<arch>.tar.gz lives (then
# --version, or $FLEXNODE_VERSION, is required); default $FLEXNODE_RELEASE_URL. The sha256 comes from --sha256
# or from the .sha256 file next to the tarball; nothing is unpacked before it matches.
#
# What it puts on the machine (and records in /opt/flexnode/install-manifest, which uninstall.sh reads so it
# removes exactly that and nothing else):
#   /opt/flexnode/<version>/          the release (replaced when the same version is installed again)
#   /opt/flexnode/current             -> <version>
#   /usr/local/bin/flexnode           -> /opt/flexnode/current/bin/flexnode
#   /usr/local/bin/aks-flex-node      -> /opt/flexnode/current/bin/aks-flex-node (upstream's name; not over
#                                        upstream's own binary, which is kept with a warning)
#   /etc/systemd/system/flexnode-agent.service   (via `flexnode agent install-service`, then daemon-reload;
#                                        Alias=aks-flex-node-agent.service once enabled)
#   /etc/aks-flex-node/               mode 0700, only when missing; an existing config is never touched
#   /var/log/aks-flex-node/aks-flex-node.log -> flexnode.log (upstream's log path; only when nothing is there)
# --enable also runs `systemctl enable --now flexnode-agent` (the config must be in place).
set -eu

URL="${FLEXNODE_RELEASE_URL:-}"
VERSION="${FLEXNODE_VERSION:-}"
SHA256=""
FILE=""
ENABLE=0
PREFIX="${FLEXNODE_PREFIX:-/opt/flexnode}"
LINK=/usr/local/bin/flexnode
UPSTREAM_LINK=/usr/local/bin/aks-flex-node
CONFIG_DIR=/etc/aks-flex-node
LOG_DIR=/var/log/aks-flex-node
UNIT=/etc/systemd/system/flexnode-agent.service

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --url) URL="${2:?--url needs a value}"; shift 2 ;;
    --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
    --sha256) SHA256="${2:?--sha256 needs a value}"; shift 2 ;;
    --file) FILE="${2:?--file needs a value}"; shift 2 ;;
    --enable) ENABLE=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root (it writes /opt, /usr/local/bin and /etc/systemd/system)"
case "$(uname -m)" in
  x86_64|amd64) ARCH=x64 ;;
  aarch64|arm64) ARCH=arm64 ;;
  *) die "unsupported architecture $(uname -m) (x86_64 and aarch64 only)" ;;
esac

TMP=$(mktemp -d /tmp/flexnode-install.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

if [ -n "$FILE" ]; then
  [ -f "$FILE" ] || die "no such file: $FILE"
  cp "$FILE" "$TMP/flexnode.tar.gz"
  [ -n "$SHA256" ] || { [ -f "$FILE.sha256" ] && SHA256=$(cut -d' ' -f1 < "$FILE.sha256"); } || true
else
  [ -n "$URL" ] || die "give --url (or FLEXNODE_RELEASE_URL), or --file"
  case "$URL" in
    *.tar.gz) TARBALL_URL="$URL" ;;
    *) [ -n "$VERSION" ] || die "--version (or FLEXNODE_VERSION) is needed with a base URL"
       TARBALL_URL="${URL%/}/flexnode-$VERSION-linux-$ARCH.tar.gz" ;;
  esac
  command -v curl >/dev/null 2>&1 || die "curl is required"
  say "downloading $TARBALL_URL"
  curl -fsSL --retry 3 --connect-timeout 20 -o "$TMP/flexnode.tar.gz" "$TARBALL_URL" || die "download failed: $TARBALL_URL"
  if [ -z "$SHA256" ]; then
    curl -fsSL --retry 3 --connect-timeout 20 -o "$TMP/flexnode.tar.gz.sha256" "$TARBALL_URL.sha256" \
      || die "no --sha256 given and $TARBALL_URL.sha256 could not be fetched"
    SHA256=$(cut -d' ' -f1 < "$TMP/flexnode.tar.gz.sha256")
  fi
fi
[ -n "$SHA256" ] || die "no sha256 to verify against: give --sha256"
echo "$SHA256" | grep -Eq '^[0-9a-f]{64}$' || die "not a sha256: $SHA256"
ACTUAL=$(sha256sum "$TMP/flexnode.tar.gz" | cut -d' ' -f1)
[ "$ACTUAL" = "$SHA256" ] || die "sha256 mismatch: expected $SHA256, got $ACTUAL (nothing was installed)"
say "sha256 verified ($SHA256)"

mkdir -p "$TMP/x"
tar -xzf "$TMP/flexnode.tar.gz" -C "$TMP/x" --no-same-owner
TOP=$(ls "$TMP/x")
[ "$(echo "$TOP" | wc -l)" = 1 ] && [ -f "$TMP/x/$TOP/VERSION" ] || die "not a flexnode release tarball"
GOT=$(cat "$TMP/x/$TOP/VERSION")
[ -z "$VERSION" ] || [ "$VERSION" = "$GOT" ] || die "the tarball holds version $GOT, not $VERSION"
VERSION="$GOT"
case "$TOP" in *"-linux-$ARCH") ;; *) die "the tarball is $TOP, this machine is linux-$ARCH" ;; esac

if [ -e "$LINK" ] && ! { [ -L "$LINK" ] && [ "$(readlink "$LINK")" = "$PREFIX/current/bin/flexnode" ]; }; then
  die "$LINK exists and is not flexnode's link; move it away first"
fi

# The manifest lists what this script created, so uninstall.sh removes exactly that.
MANIFEST="$PREFIX/install-manifest"
record() { grep -qxF "$1" "$MANIFEST" 2>/dev/null || echo "$1" >> "$MANIFEST"; }
if [ ! -d "$PREFIX" ]; then mkdir -p "$PREFIX"; chmod 0755 "$PREFIX"; CREATED_PREFIX=1; else CREATED_PREFIX=0; fi
[ "$CREATED_PREFIX" = 0 ] || record "dir $PREFIX"

# Unpacked next to its final place, then renamed: a half-copied release is never at /opt/flexnode/<version>.
rm -rf "$PREFIX/.staging-$VERSION"
mv "$TMP/x/$TOP" "$PREFIX/.staging-$VERSION" 2>/dev/null || cp -a "$TMP/x/$TOP" "$PREFIX/.staging-$VERSION"
chown -R 0:0 "$PREFIX/.staging-$VERSION"
rm -rf "$PREFIX/$VERSION"
mv "$PREFIX/.staging-$VERSION" "$PREFIX/$VERSION"
record "release $PREFIX/$VERSION"
ln -sfn "$VERSION" "$PREFIX/current"
record "link $PREFIX/current"
mkdir -p "$(dirname "$LINK")"
ln -sfn "$PREFIX/current/bin/flexnode" "$LINK"
record "link $LINK"
say "installed flexnode $VERSION in $PREFIX/$VERSION ($LINK)"

# Upstream's names (AKSFlexNode): the command, and its log path in the default agent.logDir.
if [ -e "$UPSTREAM_LINK" ] && ! { [ -L "$UPSTREAM_LINK" ] && [ "$(readlink "$UPSTREAM_LINK")" = "$PREFIX/current/bin/aks-flex-node" ]; }; then
  echo "install.sh: WARNING: $UPSTREAM_LINK is not flexnode's (upstream's binary?): kept; once the old node is unbootstrapped, remove it and run install.sh again for the aks-flex-node command" >&2
else
  ln -sfn "$PREFIX/current/bin/aks-flex-node" "$UPSTREAM_LINK"
  record "link $UPSTREAM_LINK"
fi
if [ ! -d "$LOG_DIR" ]; then mkdir -m 0755 -p "$LOG_DIR"; record "dir $LOG_DIR"; fi
if [ ! -e "$LOG_DIR/aks-flex-node.log" ] && [ ! -L "$LOG_DIR/aks-flex-node.log" ]; then
  ln -s flexnode.log "$LOG_DIR/aks-flex-node.log"
  record "link $LOG_DIR/aks-flex-node.log"
fi

if [ ! -d "$CONFIG_DIR" ]; then
  mkdir -m 0700 "$CONFIG_DIR"
  record "dir $CONFIG_DIR"
  say "created $CONFIG_DIR (0700): put config.json there"
elif [ -f "$CONFIG_DIR/config.json" ]; then
  say "keeping the existing $CONFIG_DIR/config.json"
fi

if [ ! -e "$UNIT" ]; then record "unit $UNIT"; fi
"$LINK" agent install-service --bin "$LINK" >/dev/null
say "installed $UNIT"

if [ "$ENABLE" = 1 ]; then
  [ -f "$CONFIG_DIR/config.json" ] || die "--enable: $CONFIG_DIR/config.json is missing"
  systemctl enable --now flexnode-agent.service
  say "flexnode-agent enabled and started"
else
  say "next: write $CONFIG_DIR/config.json, then: systemctl enable --now flexnode-agent"
fi
