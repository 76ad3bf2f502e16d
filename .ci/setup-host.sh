#!/usr/bin/env bash
# Installs the Debian packages the test tiers need (real containerd, runc, CNI plugins, systemd-nspawn,
# debootstrap for the node-in-a-box rootfs,
# ansible-core and the ssh client for the fleet rollout tests). Idempotent: apt runs only when something is missing.
set -euo pipefail

packages=(
  containerd runc containernetworking-plugins # the real components the product installs
  crun                                        # the OCI runtime of examples/plugin-crun
  apt-utils                                   # apt-ftparchive: the box's local apt repository
  iptables iproute2                           # CNI plugins, veth addressing, ip netns
  systemd-container debootstrap               # systemd-nspawn machines and their rootfs
  util-linux mount                            # nsenter, unshare, mount/umount
  curl ca-certificates openssl tar gzip
  gpg apt-utils                               # signed apt repositories in tests (gpg, apt-ftparchive)
  ansible-core openssh-client                 # the fleet tests' Ansible rollout (controller side, over ssh)
)

# One dpkg-query for all: "installed" only for a fully installed package (not one removed with configs left).
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null | awk '$2 == "installed" {print $1}' || true)
missing=()
for p in "${packages[@]}"; do
  grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup-host: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup-host: missing ${missing[*]} and not root: the tiers that need them will SKIP" >&2
  exit 0
fi

echo "setup-host: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "setup-host: done"
