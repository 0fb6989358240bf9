#!/usr/bin/env bash
# Installs the Debian packages a netdiag target needs, only those missing.
# Usage: scripts/system-deps.sh build|test|lab|bench
# Run as root (the Makefile does). Without root, prints the command to run and fails.
set -euo pipefail

build=(libpcap-dev)
lab=(qemu-system-x86 busybox-static dropbear-bin openssh-client rsyslog tcpdump iptables nftables xz-utils debian-archive-keyring
     iproute2 socat kmod cpio gzip procps)
bench=(tcpdump tshark time iproute2 nftables tcpreplay pv)
test=("${build[@]}" "${lab[@]}" "${bench[@]}" ufw iputils-ping tzdata bsdutils groff man-db bsdextrautils util-linux)

case "${1:-}" in
  build) want=("${build[@]}") ;;
  lab) want=("${build[@]}" "${lab[@]}") ;;
  bench) want=("${build[@]}" "${bench[@]}") ;;
  test) want=("${test[@]}") ;;
  *) echo "usage: $0 build|test|lab|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "netdiag: missing Debian packages; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "netdiag: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300 -y --no-install-recommends)
# The package lists on a fresh machine may be empty or old.
apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
apt-get "${apt_opts[@]}" install "${missing[@]}" >/dev/null
