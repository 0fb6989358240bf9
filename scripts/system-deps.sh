#!/usr/bin/env bash
# Installs the Debian packages a netdiag target needs, only those missing.
# Usage: scripts/system-deps.sh build|test|lab|bench
# Run as root (the Makefile does). Without root, prints the command to run and fails.
set -euo pipefail

build=(libpcap-dev)
lab=(qemu-system-x86 busybox-static dropbear-bin openssh-client rsyslog tcpdump iptables nftables xz-utils debian-archive-keyring
     iproute2 socat kmod cpio gzip procps)
bench=(tcpdump tshark time iproute2 nftables tcpreplay pv)
# syslog-ng-core conflicts with rsyslog (both provide system-log-daemon; lab.sh runs rsyslogd): the
# syslog-ng e2e test runs it unpacked from its package into $SYSLOG_NG_ROOT (below), with its libraries.
syslog_ng_libs=(libivykis0 libnet1 libpcre3 libjson-c5 libwrap0 libcap2 libglib2.0-0 libssl3)
test=("${build[@]}" "${lab[@]}" "${bench[@]}" "${syslog_ng_libs[@]}" ufw iputils-ping tzdata bsdutils groff man-db bsdextrautils util-linux)

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
# syslog-ng for its e2e test, unpacked (not installed): see syslog_ng_libs.
syslog_ng_root=${SYSLOG_NG_ROOT:-/var/cache/netdiag/syslog-ng}
unpack_syslog_ng() {
  [[ "${1:-}" == test && ! -x "$syslog_ng_root/usr/sbin/syslog-ng" ]] && ! command -v syslog-ng >/dev/null || return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "netdiag: syslog-ng not unpacked; run as root: scripts/system-deps.sh test" >&2
    return 1
  fi
  echo "netdiag: unpacking syslog-ng-core into $syslog_ng_root" >&2
  local tmp
  tmp=$(mktemp -d)
  chmod 755 "$tmp" # apt downloads as _apt
  # The package lists may be empty (nothing was missing, so no update ran): update and try again.
  (cd "$tmp" && { apt-get download syslog-ng-core >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null && apt-get download syslog-ng-core >/dev/null; }; }) &&
    mkdir -p "$syslog_ng_root" && dpkg -x "$tmp"/syslog-ng-core_*.deb "$syslog_ng_root"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

if [[ ${#missing[@]} -eq 0 ]]; then
  unpack_syslog_ng "${1:-}"
  exit $?
fi

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
unpack_syslog_ng "${1:-}"
