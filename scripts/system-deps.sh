#!/usr/bin/env bash
# Installs the Debian packages a netdiag target needs, only those missing.
# Usage: scripts/system-deps.sh build|test|lab|bench
# Run as root (the Makefile does). Without root, prints the command to run and fails.
set -euo pipefail

build=(libpcap-dev)
lab=(qemu-system-x86 busybox-static dropbear-bin openssh-client rsyslog tcpdump iptables nftables xz-utils debian-archive-keyring
     iproute2 socat kmod cpio gzip procps conntrack)
bench=(tcpdump tshark time iproute2 nftables tcpreplay pv)
# syslog-ng-core conflicts with rsyslog (both provide system-log-daemon; lab.sh runs rsyslogd): the
# syslog-ng e2e test runs it unpacked from its package into $SYSLOG_NG_ROOT (below), with its libraries.
syslog_ng_libs=(libivykis0 libnet1 libpcre3 libjson-c5 libwrap0 libcap2 libglib2.0-0 libssl3)
# firewalld, installed, would start and take over the machine's firewall: its e2e test runs it
# unpacked into $FIREWALLD_ROOT, in a namespace, on a private D-Bus; these are what it imports.
firewalld_libs=(python3 python3-dbus python3-gi gir1.2-glib-2.0 dbus-daemon libnftables1)
test=("${build[@]}" "${lab[@]}" "${bench[@]}" "${syslog_ng_libs[@]}" "${firewalld_libs[@]}" ufw iputils-ping tzdata bsdutils
      groff man-db bsdextrautils util-linux)

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
# Packages a test runs unpacked (not installed): see syslog_ng_libs and firewalld_libs.
syslog_ng_root=${SYSLOG_NG_ROOT:-/var/cache/netdiag/syslog-ng}
firewalld_root=${FIREWALLD_ROOT:-/var/cache/netdiag/firewalld}
# unpack ROOT FILE PACKAGE...: the packages' files under ROOT, unless ROOT/FILE is there already.
unpack() {
  local root=$1 file=$2
  shift 2
  [[ ! -e "$root/$file" ]] || return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "netdiag: $* not unpacked; run as root: scripts/system-deps.sh test" >&2
    return 1
  fi
  echo "netdiag: unpacking $* into $root" >&2
  local tmp
  tmp=$(mktemp -d)
  chmod 755 "$tmp" # apt downloads as _apt
  # The package lists may be empty (nothing was missing, so no update ran): update and try again.
  (cd "$tmp" && { apt-get download "$@" >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null && apt-get download "$@" >/dev/null; }; }) &&
    mkdir -p "$root"
  local rc=$? deb
  for deb in "$tmp"/*.deb; do [[ $rc -ne 0 ]] || dpkg -x "$deb" "$root" || rc=1; done
  rm -rf "$tmp"
  return $rc
}
unpack_test_packages() {
  [[ "${1:-}" == test ]] || return 0
  command -v syslog-ng >/dev/null || unpack "$syslog_ng_root" usr/sbin/syslog-ng syslog-ng-core || return 1
  unpack "$firewalld_root" usr/sbin/firewalld firewalld python3-firewall python3-nftables
}

if [[ ${#missing[@]} -eq 0 ]]; then
  unpack_test_packages "${1:-}"
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
unpack_test_packages "${1:-}"
