#!/usr/bin/env bash
# The netconsole lab: real Debian kernels in QEMU (the senders) logging over netconsole to a
# log-server network namespace running rsyslog. See lab/README.md.
#
#   lab/lab.sh build [--kernel 6.1|6.17 | --all]
#   lab/lab.sh up [--name NAME] [options]      (lab/lab.sh up --help lists them)
#   lab/lab.sh down [--name NAME] | down --all
#   lab/lab.sh exec NAME -- CMD...             run CMD in the log-server namespace
#   lab/lab.sh ssh NAME [--guest N] -- CMD...  run CMD on a guest (default: the first)
#   lab/lab.sh monitor NAME [--guest N] -- HMP-COMMAND   e.g. sendkey alt-sysrq-p
#   lab/lab.sh state NAME                      print state.json
#   lab/lab.sh status
#   lab/lab.sh kernel-version [--kernel 6.1|6.17]
#   lab/lab.sh container NAME MODE             another --container mode on a running lab
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${LAB_CACHE:-$LAB_DIR/.cache}
RUNS=$CACHE/run
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-150}
GUEST_MEM=${LAB_GUEST_MEM:-128}   # MiB per guest: the guests use about 20
NS_PREFIX=ndlab-
# Bump when build_initramfs changes, so cached initramfs images are rebuilt.
INITRAMFS_RECIPE=4
# Kernel series the lab can boot; the default is the newest.
KERNELS=(6.1 6.17)
DEFAULT_KERNEL=6.17
MAX_GUESTS=8
# shellcheck source=lab/container.sh
. "$LAB_DIR/container.sh"

die() { echo "lab: $*" >&2; exit 2; }
log() { [[ -n ${LAB_QUIET:-} ]] || echo "lab: $*" >&2; }
now() { date +%s.%N; }
ms_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
need_root() { [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, tap devices); run with sudo"; }
check_kernel() { [[ $1 == 6.1 || $1 == 6.17 ]] || die "--kernel must be 6.1 or 6.17 (got '$1')"; }

# ---------------------------------------------------------------------------------------------
# build: kernel packages, initramfs. Cached under $CACHE; a second run only checks.
#
# 6.1 comes from bookworm (the machine's own apt lists: linux-image-6.1.0-N-amd64-unsigned).
# 6.17 comes from trixie-backports, which the machine's apt does not know: the lab keeps a private
# apt configuration under $CACHE/apt/ (its own sources list, lists and cache) and never touches
# the machine's sources. Only the signed image exists for 6.17; it boots with -kernel all the same.

kernel_release() {
  local k=${1:-$DEFAULT_KERNEL}
  if [[ -n ${RELEASE[$k]:-} ]]; then echo "${RELEASE[$k]}"; else cat "$CACHE/kernel-version-$k" 2>/dev/null; fi
}

# The Debian mirror the machine's apt uses (read only; never changed), else deb.debian.org.
debian_mirror() {
  if [[ -n ${LAB_DEBIAN_MIRROR:-} ]]; then echo "${LAB_DEBIAN_MIRROR%/}"; return; fi
  local u
  u=$( { grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{for (i = 2; i <= NF; i++) print $i}'
         grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
           | sed -E 's/\[[^]]*\]//' | awk '{print $2}'; } | grep -E '^https?://[^[:space:]]+/debian/?$' | head -1 || true)
  u=${u:-http://deb.debian.org/debian}
  echo "${u%/}"
}

declare -A INITRD=() RELEASE=()   # kernel series -> the initramfs and release build_kernel made or found
APT_TB=()
private_apt_init() {
  local d=$CACHE/apt/trixie-backports line
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
  line="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) trixie-backports main"
  [[ "$(cat "$d/sources.list" 2>/dev/null)" == "$line" ]] || echo "$line" > "$d/sources.list"
  APT_TB=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o Acquire::Languages=none)
}

private_apt_update() {
  local err=$CACHE/apt/trixie-backports/update.err
  log "fetching trixie-backports' package list into $CACHE/apt (the machine's apt sources are not used)"
  apt-get "${APT_TB[@]}" update -qq >/dev/null 2>"$err" \
    || die "apt-get update of the lab's own trixie-backports list failed: $(grep -v '^W:' "$err" | tail -2 | tr '\n' ' ')"
}

newest_kernel_package() {
  case "$1" in
    6.1) apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' 2>/dev/null \
           | awk '{print $1}' | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | sort -V | tail -1 || true ;;
    6.17) apt-cache "${APT_TB[@]}" search --names-only '^linux-image-6\.17\.[0-9]+\+deb13-amd64$' 2>/dev/null \
           | awk '{print $1}' | grep -E '^linux-image-6\.17\.[0-9]+\+deb13-amd64$' | sort -V | tail -1 || true ;;
  esac
}

refresh_lists() {
  if [[ $1 == 6.1 ]]; then
    log "no usable 6.1 kernel package in apt's lists; running apt-get update"
    apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  else
    private_apt_update
  fi
}

# download_kernel SERIES PKG: the .deb into $CACHE/dl; false if apt could not get it.
download_kernel() {
  local series=$1 pkg=$2 dl=$CACHE/dl
  local -a opts=()
  [[ $series == 6.17 ]] && opts=("${APT_TB[@]}")
  log "downloading $pkg"
  (cd "$dl" && apt-get -o DPkg::Lock::Timeout=300 "${opts[@]}" download "$pkg" 2>&1 | grep -v -e unsandboxed -e '^W: Download is performed' >&2 || true)
  compgen -G "$dl/${pkg}_*.deb" >/dev/null
}

cmd_build() {
  local kernels=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --kernel) [[ $# -ge 2 ]] || die "build: --kernel needs 6.1 or 6.17"; check_kernel "$2"; kernels+=("$2"); shift ;;
      --all) kernels=("${KERNELS[@]}") ;;
      *) die "build: unknown option '$1' (--kernel 6.1|6.17, --all)" ;;
    esac
    shift
  done
  [[ ${#kernels[@]} -gt 0 ]] || kernels=("$DEFAULT_KERNEL")
  need_root
  local k
  for k in "${kernels[@]}"; do build_kernel "$k"; done
}

build_kernel() {
  local series=$1 lockfd
  mkdir -p "$CACHE/dl"
  exec {lockfd}>"$CACHE/build-$series.lock"
  flock "$lockfd"
  local t0; t0=$(now)
  [[ $series == 6.17 ]] && private_apt_init
  local pkg; pkg=$(newest_kernel_package "$series")
  if [[ -z $pkg ]]; then
    refresh_lists "$series"
    pkg=$(newest_kernel_package "$series")
    [[ -n $pkg ]] || die "apt knows no $series kernel package (6.1: linux-image-6.1.0-N-amd64-unsigned from bookworm; 6.17: linux-image-6.17.N+deb13-amd64 from trixie-backports)"
  fi
  local release=${pkg#linux-image-}; release=${release%-unsigned}
  local kroot=$CACHE/kernel/$release
  if [[ ! -f $kroot/.unpacked ]]; then
    if ! compgen -G "$CACHE/dl/${pkg}_*.deb" >/dev/null && ! download_kernel "$series" "$pkg"; then
      # Lists older than the mirror: the package they name may be gone. Refresh once.
      refresh_lists "$series"
      pkg=$(newest_kernel_package "$series")
      release=${pkg#linux-image-}; release=${release%-unsigned}; kroot=$CACHE/kernel/$release
      [[ -n $pkg ]] && download_kernel "$series" "$pkg" || die "apt-get download of the $series kernel ($pkg) failed"
    fi
    rm -rf "$kroot"; mkdir -p "$kroot"
    dpkg -x "$(ls -v "$CACHE/dl/${pkg}"_*.deb | tail -1)" "$kroot"
    [[ -f $kroot/boot/vmlinuz-$release ]] || die "no boot/vmlinuz-$release in $pkg"
    touch "$kroot/.unpacked"
  fi
  # The initramfs is named by what it is made of, so checkouts of different lab versions
  # sharing one cache (LAB_CACHE) each find their own instead of rebuilding each other's.
  local stamp initrd
  stamp=$({ cat "$LAB_DIR/guest/init" "$LAB_DIR/guest/inittab"; echo "$INITRAMFS_RECIPE ${GUEST_MODULES[*]}"; } | sha256sum | cut -c1-12)
  initrd=$CACHE/initramfs-$release-$stamp.cpio.gz
  if [[ ! -f $initrd ]]; then
    log "building initramfs for $release"
    build_initramfs "$kroot" "$release" "$initrd"
  fi
  INITRD[$series]=$initrd RELEASE[$series]=$release
  echo "$release" > "$CACHE/kernel-version-$series.tmp"
  mv "$CACHE/kernel-version-$series.tmp" "$CACHE/kernel-version-$series"
  # Close the lock, or the daemons up starts next would inherit it and hold it.
  exec {lockfd}>&-
  log "build ready: kernel $release ($(ms_since "$t0") ms)"
}

# Copies a binary and the shared libraries ldd names into root $1.
copy_with_libs() {
  local root=$1 bin=$2 dest=$3 lib
  install -D -m 0755 "$bin" "$root$dest"
  for lib in $(ldd "$bin" | awk '/=> \// {print $3} /^[ \t]*\/lib/ {print $1}'); do
    [[ -e $root$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}

# The modules the guest loads (those not built into the kernel). 6.1 has them all as modules,
# uncompressed; 6.17 builds virtio and virtio_pci in and ships the rest as .ko.xz.
GUEST_MODULES=(virtio_ring virtio virtio-rng virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover
               net_failover virtio_net configfs netconsole tls bonding)

build_initramfs() {
  local kroot=$1 release=$2 out=$3
  local mdir=$kroot/lib/modules/$release
  [[ -d $mdir ]] || mdir=$kroot/usr/lib/modules/$release
  [[ -d $mdir ]] || die "no modules directory for $release in the kernel package"
  local root; root=$(mktemp -d "$CACHE/initramfs.XXXXXX")
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/log}
  # busybox and its applets
  install -m 0755 /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list-full); do
    [[ -e $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
  done
  # iproute2's ip, so ip -d link, ip route get and ip neigh show what a real host shows
  rm -f "$root/sbin/ip" "$root/bin/ip"
  copy_with_libs "$root" "$(command -v ip)" /sbin/ip
  cp -a /etc/iproute2 "$root/etc/"
  # bash as root's shell and for /init: busybox sh prefers its own applets (its ip, not
  # iproute2's) even when a real binary comes first in PATH.
  rm -f "$root/bin/bash"
  copy_with_libs "$root" /bin/bash /bin/bash
  # dropbear
  copy_with_libs "$root" /usr/sbin/dropbear /usr/sbin/dropbear
  # modules: only the ones the guest loads, uncompressed (busybox insmod reads no .xz), with a
  # real modules.dep
  local m src rel dst
  for m in "${GUEST_MODULES[@]}"; do
    if grep -qE "/${m//[-_]/[-_]}\\.ko(\\.[a-z]+)?\$" "$mdir/modules.builtin" 2>/dev/null; then continue; fi
    src=$(find "$mdir" \( -name "$m.ko" -o -name "$m.ko.xz" \) | head -1)
    [[ -n $src ]] || die "module $m is neither in the kernel package nor built in"
    rel=${src#"$mdir"/}
    dst=$root/lib/modules/$release/${rel%.xz}
    mkdir -p "$(dirname "$dst")"
    case "$src" in
      *.xz) xz -dc "$src" > "$dst" ;;
      *) install -m 0644 "$src" "$dst" ;;
    esac
  done
  cp "$mdir"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$release/" 2>/dev/null || true
  sed -i 's/\.ko\.xz$/.ko/' "$root/lib/modules/$release/modules.order" 2>/dev/null || true
  depmod -b "$root" "$release"
  # config
  install -m 0755 "$LAB_DIR/guest/init" "$root/init"
  install -m 0644 "$LAB_DIR/guest/inittab" "$root/etc/inittab"
  echo 'root:x:0:0:root:/root:/bin/bash' > "$root/etc/passwd"
  echo 'root:*:1::::::' > "$root/etc/shadow"
  printf 'root:x:0:\ntty:x:5:\n' > "$root/etc/group"
  printf '/bin/sh\n/bin/bash\n' > "$root/etc/shells"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' > "$root/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
  chmod 0700 "$root/root"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 > "$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$root"
}

# ---------------------------------------------------------------------------------------------
# naming and addresses (the same in every lab: each lab has its own namespaces)

check_name() {
  [[ $1 =~ ^[a-z0-9][a-z0-9_-]{0,10}$ ]] || die "bad lab name '$1' (1-11 of a-z 0-9 _ -, starting with a letter or digit)"
}
ns_srv() { echo "${NS_PREFIX}$1"; }
ns_rtr() { echo "${NS_PREFIX}$1-rtr"; }
hex() { printf '%x' "$1"; }
hex2() { printf '%02x' "$1"; }

# ---------------------------------------------------------------------------------------------
# up

usage_up() {
  cat <<'EOF'
usage: lab/lab.sh up [--name NAME] [options]

The log server (one per lab):
  --name NAME             lab instance name (default: default); several labs can run at once
  --port N                rsyslog's UDP port and the target port (default 514)
  --router                receiver on another subnet, behind a router namespace
  --router-nat            with --router: the router masquerades what it forwards to the log
                          server (datagrams arrive from 10.99.1.254 / fd99:1::fe)
  --router-forward drop|reject   with --router: the router's FORWARD chain drops / rejects
                          udp dport PORT (iptables; ip6tables for an IPv6 target)
  --router-rp-filter      with --router: strict rp_filter on the log server, whose route back to
                          the guests' data network leaves by another interface (ndw-NAME routes
                          10.99.0.0/21); only the management network is routed via the router
                          (implies --mgmt-nic; IPv4)
  --jump                  with --router: the router is a bastion (dropbear on 10.99.1.254:22) and
                          forwards no ssh from the log server; reach guests with -J (ssh_config
                          alias jump; guests' aliases go through it)
  --firewall RULE         on the log server, INPUT udp dport PORT:
                          iptables-drop | iptables-reject | iptables-reject-host-prohibited |
                          iptables-reject-admin-prohibited | nft-drop | nft-reject |
                          nft-reject-admin-prohibited  (ip6tables for an IPv6 target) |
                          iptables-allow-senders (ACCEPT from each guest's own address, DROP
                          the rest)
  --syslog on|off|no-imudp|loopback    rsyslog with imudp on the receiver's address (default),
                          not running, running without imudp, imudp bound to 127.0.0.1/::1 only
  --container MODE        rsyslog in a container (namespace behind bridge docker0, 172.17.0.2:514)
                          and none on the log server itself; the port published as Docker 28
                          does (DNAT, FORWARD): published | forward-drop | user-drop |
                          wrong-port (DNAT to :5140) | unpublished | proxy (published, and a
                          docker-proxy on the host's port) | nft | nft-forward-drop (nft's own
                          dnat and forward chain); IPv4 only
  --guests N              N guests (1-8) on one bridge of the log server's network; each gets
                          the guest options below; --guest SPEC overrides them for one guest
  --guest SPEC            one guest's options, e.g. 'kernel=6.1,mode=extended,remote-mac=wrong'
                          (keys: the options below without --; flags without a value; a list
                          value joined by +); repeat for guests 1, 2, ...; firewall=RULE here
                          is a rule for this guest's source address only

Each guest (the sender), as default for every guest:
  --kernel 6.1|6.17       Debian kernel to boot (default 6.17, the newest)
  --mode plain|extended   netconsole format (default plain)
  --configfs              dynamic target via configfs instead of the module parameter
  --cmdline               spec as netconsole= on the kernel command line (as if built in)
  --bond                  netconsole on an active-backup bond0 with eth0 enslaved
  --ipv6                  the netconsole target (and ssh) over IPv6: fd99::2 -> fd99::1
  --remote-mac right|wrong|broadcast   target MAC in the spec (default right)
  --router-mac router|receiver         MAC used with --router (default router)
  --remote-ip right|wrong target IP: the receiver's, or one on its subnet nobody has (right MAC)
  --wrong-port            the sender targets another port than rsyslog listens on
  --no-local-ip           spec without the local IP (6665@/eth0,...): the kernel takes eth0's
  --mgmt-nic              a second NIC (eth1, 10.99.9.2, fd99:9::2) for ssh; netconsole on eth0
  --rp-filter             netconsole's local IP is the management address (route back by eth1's
                          network) and the receiver has strict rp_filter: dropped (implies --mgmt-nic)
  --two-targets           a second target, configfs target2, to port 5514 of the same server
                          (rsyslog listens on both ports)
  --release               the r flag (+r in the spec, release=1 in configfs); 6.17, extended
  --userdata KEY=VALUE    a configfs userdata entry (repeatable); 6.17, --configfs
  --sysdata LIST          sysdata switches: cpu_nr,taskname,release,msgid or all; 6.17, --configfs
  --dev-mac               the device given by its MAC in the spec (@ip/52:54:..); 6.17
  --no-netconsole         netconsole not loaded (its config files still present)
  --loglevel N            console log level N on the kernel command line (loglevel=N)
  --link-down             guest's netconsole link down after boot (ssh over a 2nd NIC)
  --sysconfig-conflict    /etc/sysconfig/netconsole contradicts what was loaded
EOF
}

# Guest options: every G_* variable, its default, in this order.
G_VARS=(KERNEL MODE VIA BOND IPV6 REMOTE_MAC ROUTER_MAC REMOTE_IP WRONG_PORT NO_LOCAL_IP MGMT RP_FILTER
        TWO_TARGETS RELEASE USERDATA SYSDATA DEV_MAC NO_NC LOGLEVEL LINK_DOWN SC_CONFLICT FIREWALL)
guest_defaults() {
  G_KERNEL=$DEFAULT_KERNEL G_MODE=plain G_VIA=module G_BOND=0 G_IPV6=0 G_REMOTE_MAC=right G_ROUTER_MAC=router
  G_REMOTE_IP=right G_WRONG_PORT=0 G_NO_LOCAL_IP=0 G_MGMT=0 G_RP_FILTER=0 G_TWO_TARGETS=0 G_RELEASE=0
  G_USERDATA= G_SYSDATA= G_DEV_MAC=0 G_NO_NC=0 G_LOGLEVEL= G_LINK_DOWN=0 G_SC_CONFLICT=0 G_FIREWALL=
}
US=$'\x1f'   # separates userdata entries (values may hold spaces and commas)

# guest_opt OPTION [VALUE]: applies one guest option to the G_* variables. Sets OPT_N to the
# number of words used (1 or 2); returns 1 if OPTION is not a guest option.
guest_opt() {
  local o=$1 v=${2-}
  OPT_N=2
  case "$o" in
    --kernel|--mode|--remote-mac|--router-mac|--remote-ip|--userdata|--sysdata|--loglevel|--guest-firewall)
      [[ $# -ge 2 && -n $v ]] || die "up: $o needs a value (lab/lab.sh up --help)" ;;
  esac
  case "$o" in
    --kernel) check_kernel "$v"; G_KERNEL=$v ;;
    --mode) G_MODE=$v ;;
    --remote-mac) G_REMOTE_MAC=$v ;;
    --router-mac) G_ROUTER_MAC=$v ;;
    --remote-ip) G_REMOTE_IP=$v ;;
    --userdata) G_USERDATA+=${G_USERDATA:+$US}$v ;;
    --sysdata) G_SYSDATA=$v ;;
    --loglevel) G_LOGLEVEL=$v ;;
    --guest-firewall) G_FIREWALL=$v ;;
    *)
      OPT_N=1
      case "$o" in
        --configfs) G_VIA=configfs ;;
        --cmdline) G_VIA=cmdline ;;
        --module) G_VIA=module ;;
        --bond) G_BOND=1 ;;
        --ipv6) G_IPV6=1 ;;
        --wrong-port) G_WRONG_PORT=1 ;;
        --no-local-ip) G_NO_LOCAL_IP=1 ;;
        --mgmt-nic) G_MGMT=1 ;;
        --rp-filter) G_RP_FILTER=1 ;;
        --two-targets) G_TWO_TARGETS=1 ;;
        --release) G_RELEASE=1 ;;
        --dev-mac) G_DEV_MAC=1 ;;
        --no-netconsole) G_NO_NC=1 ;;
        --link-down) G_LINK_DOWN=1 ;;
        --sysconfig-conflict) G_SC_CONFLICT=1 ;;
        *) return 1 ;;
      esac ;;
  esac
  return 0
}

# A --guest SPEC ('kernel=6.1,mode=extended,wrong-port') as guest option words, US-separated.
guest_spec_words() {
  local spec=$1 item k v out=
  local IFS=,
  for item in $spec; do
    [[ -n $item ]] || continue
    k=${item%%=*}
    case "$k" in
      firewall) k=guest-firewall ;;
      via) v=${item#*=}; [[ $v =~ ^(module|configfs|cmdline)$ ]] || die "--guest: via must be module, configfs or cmdline"
           out+=${out:+$US}--$v; continue ;;
    esac
    [[ $k =~ ^[a-z0-9-]+$ ]] || die "--guest: bad key in '$item'"
    out+=${out:+$US}--$k
    if [[ $item == *=* ]]; then
      v=${item#*=}
      [[ $k == sysdata ]] && v=${v//+/,}
      out+=$US$v
    fi
  done
  printf '%s' "$out"
}

# apply_words WORDS: guest options from a US-separated word list.
apply_words() {
  [[ -n $1 ]] || return 0
  local -a w
  IFS=$US read -r -a w <<< "$1"
  local i=0
  while [[ $i -lt ${#w[@]} ]]; do
    guest_opt "${w[@]:$i}" || die "up: '${w[$i]}' is not a guest option (lab/lab.sh up --help)"
    i=$((i + OPT_N))
  done
}

declare -A GV
save_guest() { local v; for v in "${G_VARS[@]}"; do local n=G_$v; GV["$1:$v"]=${!n}; done; }
load_guest() { local v; for v in "${G_VARS[@]}"; do printf -v "G_$v" '%s' "${GV["$1:$v"]}"; done; }

# Checks one guest's options (G_*), with the server's ($router).
validate_guest() {
  local who=$1
  [[ $G_MODE == plain || $G_MODE == extended ]] || die "$who: --mode must be plain or extended"
  [[ $G_REMOTE_MAC =~ ^(right|wrong|broadcast)$ ]] || die "$who: --remote-mac must be right, wrong or broadcast"
  [[ $G_ROUTER_MAC =~ ^(router|receiver)$ ]] || die "$who: --router-mac must be router or receiver"
  [[ $G_ROUTER_MAC == router || $router == 1 ]] || die "$who: --router-mac needs --router"
  [[ $G_REMOTE_IP =~ ^(right|wrong)$ ]] || die "$who: --remote-ip must be right or wrong"
  [[ -z $G_LOGLEVEL || $G_LOGLEVEL =~ ^[0-8]$ ]] || die "$who: --loglevel must be 0-8"
  [[ -z $G_FIREWALL ]] || check_firewall "$G_FIREWALL"
  if [[ $G_RP_FILTER == 1 ]]; then
    [[ $router == 0 ]] || die "$who: --rp-filter needs the receiver on the sender's network (no --router)"
    [[ $G_IPV6 == 0 ]] || die "$who: --rp-filter is IPv4 only (IPv6 has no rp_filter sysctl)"
    [[ $G_NO_LOCAL_IP == 0 ]] || die "$who: --rp-filter sets the local IP; it cannot go with --no-local-ip"
    G_MGMT=1
  fi
  [[ $G_LINK_DOWN == 0 ]] || G_MGMT=1
  if [[ $G_KERNEL == 6.1 ]]; then
    local f
    for f in RELEASE:--release DEV_MAC:--dev-mac; do
      local n=G_${f%%:*}; [[ ${!n} == 0 ]] || die "$who: ${f#*:} needs --kernel 6.17 (6.1's netconsole does not have it)"
    done
    [[ -z $G_USERDATA ]] || die "$who: --userdata needs --kernel 6.17 (6.1's netconsole does not have it)"
    [[ -z $G_SYSDATA ]] || die "$who: --sysdata needs --kernel 6.17 (6.1's netconsole does not have it)"
  fi
  [[ $G_RELEASE == 0 || $G_MODE == extended ]] || die "$who: --release needs --mode extended (the kernel refuses r without +)"
  if [[ -n $G_USERDATA || -n $G_SYSDATA ]]; then
    [[ $G_VIA == configfs ]] || die "$who: --userdata and --sysdata need --configfs (they live under the target's userdata/)"
  fi
  if [[ -n $G_SYSDATA ]]; then
    [[ $G_SYSDATA == all ]] && G_SYSDATA=cpu_nr,taskname,release,msgid
    local s IFS=,
    for s in $G_SYSDATA; do
      [[ $s =~ ^(cpu_nr|taskname|release|msgid)$ ]] || die "$who: --sysdata takes cpu_nr, taskname, release, msgid or all (got '$s')"
    done
  fi
  if [[ -n $G_USERDATA ]]; then
    local e
    local -a es
    IFS=$US read -r -a es <<< "$G_USERDATA"
    for e in "${es[@]}"; do
      [[ $e == *=* ]] || die "$who: --userdata takes KEY=VALUE (got '$e')"
      [[ ${e%%=*} =~ ^[A-Za-z0-9_.-]{1,53}$ ]] || die "$who: userdata key '${e%%=*}': 1-53 of A-Z a-z 0-9 _ . -"
      local val=${e#*=}
      [[ ${#val} -le 200 && $val != *$'\n'* && $val != *$US* ]] || die "$who: userdata value of '${e%%=*}': at most 200 characters, one line"
    done
  fi
  [[ $G_DEV_MAC == 0 || $G_VIA != configfs ]] || die "$who: --dev-mac is a spec feature (module parameter or --cmdline), not configfs"
  return 0
}

check_firewall() {
  [[ $1 =~ ^(iptables-(drop|reject|reject-host-prohibited|reject-admin-prohibited|allow-senders)|nft-(drop|reject|reject-admin-prohibited))$ ]] \
    || die "--firewall must be iptables-drop, iptables-reject, iptables-allow-senders, iptables-reject-host-prohibited, iptables-reject-admin-prohibited, nft-drop, nft-reject or nft-reject-admin-prohibited (got '$1')"
}

# Per-guest addresses and device names from its index (1-based) and the G_* options.
guest_net() {
  local i=$1
  S_IP=10.99.0.$((1 + i)) S_IP6=fd99::$(hex $((1 + i))) S_MAC=52:54:00:99:00:$(hex2 $((1 + i)))
  S_MGMT_IP= S_MGMT_IP6= S_MGMT_MAC=
  if [[ $G_MGMT == 1 ]]; then
    S_MGMT_IP=10.99.9.$((1 + i)) S_MGMT_IP6=fd99:9::$(hex $((1 + i))) S_MGMT_MAC=52:54:00:99:09:$(hex2 $((1 + i)))
  fi
  if [[ $i == 1 ]]; then S_TAP=ndt-$name S_MTAP=ndm-$name S_SFX= S_ALIAS=guest
  else S_TAP=nd$i-$name S_MTAP=nm$i-$name S_SFX=-$i S_ALIAS=guest$i; fi
  S_DEV=eth0; [[ $G_BOND == 1 ]] && S_DEV=bond0
  S_SSH_HOST=$S_IP
  [[ $G_IPV6 == 1 ]] && S_SSH_HOST=$S_IP6
  if [[ $G_MGMT == 1 ]]; then
    S_SSH_HOST=$S_MGMT_IP; [[ $G_IPV6 == 1 ]] && S_SSH_HOST=$S_MGMT_IP6
  fi
  return 0
}

# The netconsole target(s) of the current guest: sets T_* (the main target) and SPEC, SPEC2.
guest_targets() {
  local fam_ip=$S_IP recv=$recv_ip wrong=$wrong_ip
  if [[ $G_IPV6 == 1 ]]; then fam_ip=$S_IP6 recv=$recv_ip6 wrong=$wrong_ip6; fi
  T_LPORT=6665
  T_LIP=$fam_ip
  [[ $G_RP_FILTER == 1 ]] && T_LIP=$S_MGMT_IP
  [[ $G_NO_LOCAL_IP == 1 ]] && T_LIP=
  # The source address the datagrams carry.
  T_SRC=${T_LIP:-$fam_ip}
  T_DEV=$S_DEV; [[ $G_DEV_MAC == 1 ]] && T_DEV=$S_MAC
  T_RIP=$recv; [[ $G_REMOTE_IP == wrong ]] && T_RIP=$wrong
  T_RPORT=$port
  [[ $G_WRONG_PORT == 1 ]] && { if [[ $port == 6666 ]]; then T_RPORT=514; else T_RPORT=6666; fi; }
  local right_mac=$recv_mac
  [[ $router == 1 ]] && right_mac=$rtr_mac
  case "$G_REMOTE_MAC" in
    right) T_RMAC=$right_mac ;;
    wrong) T_RMAC=02:99:de:ad:be:ef ;;
    broadcast) T_RMAC=ff:ff:ff:ff:ff:ff ;;
  esac
  [[ $router == 1 && $G_ROUTER_MAC == receiver ]] && T_RMAC=$recv_mac
  local flags=
  [[ $G_MODE == extended ]] && flags=+
  [[ $G_RELEASE == 1 ]] && flags+=r
  SPEC="${flags}${T_LPORT}@${T_LIP}/${T_DEV},${T_RPORT}@${T_RIP}/${T_RMAC}"
  SPEC2=
  if [[ $G_TWO_TARGETS == 1 ]]; then
    local p2=$port2
    SPEC2="${flags}${T_LPORT}@${T_LIP}/${S_DEV},${p2}@${T_RIP}/${T_RMAC}"
  fi
  return 0
}

# sysconfig_values: the SYSLOGADDR and SYSLOGPORT of the guest's /etc/sysconfig/netconsole into
# sc_addr and sc_port, both empty when the guest has no such file. The initscripts service takes
# IPv4 only (an IPv6 SYSLOGADDR is resolved as a host name and the service refuses to start), so
# an IPv6 target has no file there, as on a real host whose netconsole is not that service's;
# --sysconfig-conflict still writes its (IPv4) contradiction.
sysconfig_values() {
  sc_addr=$T_RIP sc_port=$T_RPORT
  [[ $G_IPV6 == 1 ]] && sc_addr= sc_port=
  [[ $G_SC_CONFLICT == 1 ]] && { sc_addr=10.99.0.100; sc_port=5140; }
  return 0
}

guest_faults() {
  local f=()
  [[ $G_REMOTE_MAC != right ]] && f+=("remote-mac-$G_REMOTE_MAC")
  [[ $router == 1 && $G_ROUTER_MAC == receiver ]] && f+=("router-mac-receiver")
  [[ $G_REMOTE_IP == wrong ]] && f+=("remote-ip-wrong")
  [[ $G_WRONG_PORT == 1 ]] && f+=("wrong-port")
  [[ $G_RP_FILTER == 1 ]] && f+=("rp-filter-asymmetric")
  [[ -n $G_FIREWALL ]] && f+=("firewall-$G_FIREWALL")
  [[ $G_NO_NC == 1 ]] && f+=("no-netconsole")
  [[ -n $G_LOGLEVEL ]] && f+=("loglevel-$G_LOGLEVEL")
  [[ $G_LINK_DOWN == 1 ]] && f+=("link-down")
  [[ $G_SC_CONFLICT == 1 ]] && f+=("sysconfig-conflict")
  echo "${f[*]:-}"
}

# fw_rule RULE FAMILY SOURCE: one firewall rule on the log server (SOURCE empty: any).
NFT_RULES=() FW_RULES=()
fw_rule() {
  local fw=$1 fam=$2 src=$3
  case "$fw" in
    iptables-*)
      local cmd=iptables; [[ $fam == 6 ]] && cmd=ip6tables
      local -a a=(-A INPUT)
      [[ -n $src ]] && a+=(-s "$src")
      a+=(-p udp --dport "$port")
      case "$fw" in
        iptables-drop) a+=(-j DROP) ;;
        iptables-reject) a+=(-j REJECT) ;;
        iptables-allow-senders)
          # ACCEPT from each guest's own address, DROP the rest: right until something between
          # (a NAT router) changes the source.
          local j
          for ((j = 1; j <= n; j++)); do
            load_guest "$j"; guest_net "$j"
            local ga=$S_IP; [[ $fam == 6 ]] && ga=$S_IP6
            ip netns exec "$srv" "$cmd" -A INPUT -s "$ga" -p udp --dport "$port" -j ACCEPT
            FW_RULES+=("$cmd -A INPUT -s $ga -p udp --dport $port -j ACCEPT")
          done
          a+=(-j DROP) ;;
        iptables-reject-host-prohibited)
          [[ $fam == 4 ]] || die "--firewall iptables-reject-host-prohibited is IPv4 only (ICMPv6 has no host-prohibited; use iptables-reject-admin-prohibited)"
          a+=(-j REJECT --reject-with icmp-host-prohibited) ;;
        iptables-reject-admin-prohibited)
          if [[ $fam == 6 ]]; then a+=(-j REJECT --reject-with icmp6-adm-prohibited)
          else a+=(-j REJECT --reject-with icmp-admin-prohibited); fi ;;
      esac
      ip netns exec "$srv" "$cmd" "${a[@]}"
      FW_RULES+=("$cmd ${a[*]}") ;;
    nft-*)
      local m=
      [[ -n $src && $fam == 4 ]] && m="ip saddr $src "
      [[ -n $src && $fam == 6 ]] && m="ip6 saddr $src "
      local r
      case "$fw" in
        nft-drop) r="${m}udp dport $port counter drop" ;;
        nft-reject) r="${m}udp dport $port counter reject" ;;
        nft-reject-admin-prohibited)
          if [[ $fam == 6 ]]; then r="meta nfproto ipv6 ${m}udp dport $port counter reject with icmpv6 type admin-prohibited"
          else r="meta nfproto ipv4 ${m}udp dport $port counter reject with icmp type admin-prohibited"; fi ;;
      esac
      local x; for x in "${NFT_RULES[@]}"; do [[ $x == "$r" ]] && return 0; done
      NFT_RULES+=("$r")
      FW_RULES+=("nft add rule inet netdiag_lab input $r") ;;
  esac
}

cmd_up() {
  local name=default port=514 router=0 server_fw= syslog=on nguests=
  local rtr_nat=0 rtr_fwd= jump=0 rtr_rp=0 ctr_mode=
  local -a top_words=() specs=()
  guest_defaults
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --name|--port|--firewall|--syslog|--guests|--guest|--router-forward|--container)
        [[ $# -ge 2 && -n $2 ]] || die "up: $1 needs a value (lab/lab.sh up --help)" ;;
    esac
    case "$1" in
      --name) name=$2; shift ;;
      --port) port=$2; shift ;;
      --router) router=1 ;;
      --router-nat) rtr_nat=1 ;;
      --router-rp-filter) rtr_rp=1 ;;
      --router-forward) rtr_fwd=$2; shift ;;
      --jump) jump=1 ;;
      --firewall) server_fw=$2; shift ;;
      --syslog) syslog=$2; shift ;;
      --container) ctr_mode=$2; syslog=off; shift ;;
      --guests) nguests=$2; shift ;;
      --guest) local words; words=$(guest_spec_words "$2"); specs+=("$words"); shift ;;
      -h|--help) usage_up; exit 0 ;;
      --guest-firewall) die "up: unknown option '$1' (lab/lab.sh up --help lists them)" ;;
      *)
        guest_opt "$@" || die "up: unknown option '$1' (lab/lab.sh up --help lists them)"
        top_words+=("${@:1:$OPT_N}")
        shift $((OPT_N - 1)) ;;
    esac
    shift
  done
  check_name "$name"
  [[ -z $server_fw ]] || check_firewall "$server_fw"
  [[ -z $rtr_fwd || $rtr_fwd =~ ^(drop|reject)$ ]] || die "--router-forward must be drop or reject"
  [[ $router == 1 || ( $rtr_nat == 0 && -z $rtr_fwd && $jump == 0 && $rtr_rp == 0 ) ]] ||
    die "--router-nat, --router-forward, --router-rp-filter and --jump need --router"
  [[ $syslog =~ ^(on|off|no-imudp|loopback)$ ]] || die "--syslog must be on, off, no-imudp or loopback"
  if [[ -n $ctr_mode ]]; then
    container_check "$ctr_mode"
    [[ $syslog == off && -z $server_fw && $router == 0 ]] || die "--container goes without --syslog, --firewall and --router"
  fi
  [[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || die "--port must be 1-65535"
  [[ -z $nguests || ( $nguests =~ ^[0-9]+$ && $nguests -ge 1 && $nguests -le $MAX_GUESTS ) ]] || die "--guests must be 1-$MAX_GUESTS"
  local n=${nguests:-${#specs[@]}}
  [[ $n -ge 1 ]] || n=1
  [[ ${#specs[@]} -le $n ]] || die "--guests $n but ${#specs[@]} --guest specs"
  [[ $n -le $MAX_GUESTS ]] || die "at most $MAX_GUESTS guests"
  local port2=5514; [[ $port == 5514 ]] && port2=5515

  # Every guest's options: the defaults, the top-level guest options, then its --guest spec.
  local top; top=$(IFS=$US; echo "${top_words[*]:-}")
  local i any_two=0 any_rp=0 any_mgmt=0 any_v4=0 any_v6=0 kernels=()
  for ((i = 1; i <= n; i++)); do
    guest_defaults
    apply_words "$top"
    [[ $i -le ${#specs[@]} ]] && apply_words "${specs[$((i - 1))]}"
    if [[ $rtr_rp == 1 ]]; then
      [[ $G_IPV6 == 0 ]] || die "guest $i: --router-rp-filter is IPv4 only (IPv6 has no rp_filter sysctl)"
      G_MGMT=1
    fi
    [[ $n == 1 && -n $G_FIREWALL ]] && die "firewall= in --guest is for one guest of several; use --firewall"
    validate_guest "guest $i"
    save_guest "$i"
    [[ $G_TWO_TARGETS == 1 ]] && any_two=1
    [[ $G_RP_FILTER == 1 ]] && any_rp=1
    [[ $G_MGMT == 1 ]] && any_mgmt=1
    if [[ $G_IPV6 == 1 ]]; then any_v6=1; else any_v4=1; fi
    [[ " ${kernels[*]:-} " == *" $G_KERNEL "* ]] || kernels+=("$G_KERNEL")
  done
  need_root

  local run=$RUNS/$name
  if [[ -f $run/state.json || -d $run ]]; then
    if lab_alive "$name"; then die "lab '$name' is already up; run: lab/lab.sh down --name $name"; fi
    LAB_QUIET=1 cmd_down --name "$name"
  fi
  if ip netns list | awk '{print $1}' | grep -qx "$(ns_srv "$name")"; then
    # Namespaces are the machine's, run directories this cache's: a namespace with processes in it
    # and no run directory here is a lab another checkout (another LAB_CACHE) has up, not leftovers.
    if [[ ! -d $run && -n $(ip netns pids "$(ns_srv "$name")" 2>/dev/null) ]]; then
      die "a lab named '$name' is up from another lab cache (namespace $(ns_srv "$name") has processes); choose another --name, or take it down where it was started"
    fi
    LAB_QUIET=1 cmd_down --name "$name"
  fi

  local k
  for k in "${kernels[@]}"; do LAB_QUIET=${LAB_QUIET:-} build_kernel "$k"; done

  mkdir -p "$run"
  # Any failure from here on takes down whatever was started. The trap runs after this function's
  # locals are gone (an exit under set -e, or die), so what it needs is global.
  UP_OK=0 UP_RUN=$run UP_NAME=$name
  trap '[[ $UP_OK == 1 ]] || { echo "lab: up failed; console log: $UP_RUN/console.log" >&2; { tail -n 15 "$UP_RUN/console.log" 2>/dev/null | sed "s/^/  | /" >&2 || true; }; LAB_QUIET=1 LAB_KEEP_RUN=1 cmd_down --name "$UP_NAME" || true; }' EXIT
  trap 'exit 3' INT TERM HUP

  local t_start; t_start=$(now)
  local srv rtr=; srv=$(ns_srv "$name")
  [[ $router == 1 ]] && rtr=$(ns_rtr "$name")
  local qns=${rtr:-$srv}          # the namespace holding the taps (and bridges) and QEMU
  local bridge= mbridge=
  [[ $n -gt 1 ]] && bridge=ndb-$name
  [[ $n -gt 1 && $any_mgmt == 1 ]] && mbridge=ndn-$name

  # The sender-side segment: the receiver's (or the router's) address on a tap, or with several
  # guests on a bridge their taps join.
  local recv_ip recv_ip6 recv_mac recv_if rtr_ip= rtr_ip6= rtr_mac= rtr_up_ip= rtr_up_ip6= rtr_up_mac=
  local gw= gw6= wrong_ip wrong_ip6
  if [[ $router == 1 ]]; then
    recv_if=ndv-$name recv_ip=10.99.1.1 recv_ip6=fd99:1::1 recv_mac=02:99:00:01:00:01
    rtr_ip=10.99.0.1 rtr_ip6=fd99::1 rtr_mac=02:99:00:00:00:fe
    rtr_up_ip=10.99.1.254 rtr_up_ip6=fd99:1::fe rtr_up_mac=02:99:00:01:00:fe
    gw=$rtr_ip gw6=$rtr_ip6 wrong_ip=10.99.1.77 wrong_ip6=fd99:1::77
  else
    recv_if=${bridge:-ndt-$name} recv_ip=10.99.0.1 recv_ip6=fd99::1 recv_mac=02:99:00:00:00:01
    wrong_ip=10.99.0.77 wrong_ip6=fd99::77
  fi
  local -a router_faults=()
  local seg_if=${bridge:-ndt-$name} seg_ip=${rtr_ip:-$recv_ip} seg_ip6=${rtr_ip6:-$recv_ip6} seg_mac=${rtr_mac:-$recv_mac}
  local mseg_if=${mbridge:-ndm-$name}

  # --- namespaces and links
  ip netns add "$srv"
  ip -n "$srv" link set lo up
  if [[ $router == 1 ]]; then
    ip netns add "$rtr"
    ip -n "$rtr" link set lo up
    ip -n "$rtr" link add "ndr-$name" address "$rtr_up_mac" type veth peer name "$recv_if" netns "$srv"
    ip -n "$srv" link set "$recv_if" address "$recv_mac"
    ip -n "$srv" addr add "$recv_ip/24" dev "$recv_if"
    ip -n "$srv" addr add "$recv_ip6/64" dev "$recv_if" nodad
    ip -n "$srv" link set "$recv_if" up
    if [[ $rtr_rp == 1 ]]; then
      # The site's other networks (10.99.0.0/21, the guests' data network among them) are routed
      # by another interface (a veth whose peer has no address: what goes there is lost), and only
      # the management network via the router: the route back to the guests' data addresses is
      # not the way their datagrams came. No default route: a resolver lookup fails at once.
      ip -n "$srv" link add "ndw-$name" type veth peer name "ndx-$name"
      ip -n "$srv" addr add 10.99.8.1/24 dev "ndw-$name"
      ip -n "$srv" link set "ndx-$name" up
      ip -n "$srv" link set "ndw-$name" up
      ip -n "$srv" route add 10.99.0.0/21 via 10.99.8.254 dev "ndw-$name"
      ip -n "$srv" route add 10.99.9.0/24 via "$rtr_up_ip"
      router_faults+=("router-rp-filter")
    else
      ip -n "$srv" route add 10.99.0.0/16 via "$rtr_up_ip"
    fi
    ip -n "$srv" -6 route add fd99::/64 via "$rtr_up_ip6"
    ip -n "$srv" -6 route add fd99:9::/64 via "$rtr_up_ip6"
    ip -n "$rtr" addr add "$rtr_up_ip/24" dev "ndr-$name"
    ip -n "$rtr" addr add "$rtr_up_ip6/64" dev "ndr-$name" nodad
    ip -n "$rtr" link set "ndr-$name" up
    ip netns exec "$rtr" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    if [[ $rtr_nat == 1 ]]; then
      # Source NAT of everything the router sends towards the log server, as a site's edge or a
      # container host does: the datagrams arrive from the router's address, not the sender's.
      ip netns exec "$rtr" iptables -t nat -A POSTROUTING -o "ndr-$name" -j MASQUERADE
      ip netns exec "$rtr" ip6tables -t nat -A POSTROUTING -o "ndr-$name" -j MASQUERADE
      router_faults+=("router-nat")
    fi
    if [[ -n $rtr_fwd ]]; then
      local t=DROP; [[ $rtr_fwd == reject ]] && t=REJECT
      ip netns exec "$rtr" iptables -A FORWARD -p udp --dport "$port" -j "$t"
      ip netns exec "$rtr" ip6tables -A FORWARD -p udp --dport "$port" -j "$t"
      router_faults+=("router-forward-$rtr_fwd")
    fi
    if [[ $jump == 1 ]]; then
      # A bastion: the log server cannot open ssh to the guests' networks through the router.
      ip netns exec "$rtr" iptables -A FORWARD -i "ndr-$name" -p tcp --dport 22 -j REJECT --reject-with tcp-reset
      ip netns exec "$rtr" ip6tables -A FORWARD -i "ndr-$name" -p tcp --dport 22 -j REJECT --reject-with tcp-reset
      router_faults+=("jump-host")
    fi
  fi
  if [[ -n $bridge ]]; then
    ip -n "$qns" link add "$bridge" type bridge stp_state 0 forward_delay 0
  else
    ip -n "$qns" tuntap add dev "$seg_if" mode tap
  fi
  ip -n "$qns" link set "$seg_if" address "$seg_mac"
  ip -n "$qns" addr add "$seg_ip/24" dev "$seg_if"
  ip -n "$qns" addr add "$seg_ip6/64" dev "$seg_if" nodad
  ip -n "$qns" link set "$seg_if" up
  if [[ $any_mgmt == 1 ]]; then
    if [[ -n $mbridge ]]; then
      ip -n "$qns" link add "$mbridge" type bridge stp_state 0 forward_delay 0
    else
      ip -n "$qns" tuntap add dev "$mseg_if" mode tap
    fi
    ip -n "$qns" link set "$mseg_if" address 02:99:00:09:00:01
    ip -n "$qns" addr add 10.99.9.1/24 dev "$mseg_if"
    ip -n "$qns" addr add fd99:9::1/64 dev "$mseg_if" nodad
    ip -n "$qns" link set "$mseg_if" up
  fi

  # --- the log server: rp_filter, firewall, rsyslog, boot capture
  local rp_filter=null
  if [[ $any_rp == 1 || $rtr_rp == 1 ]]; then
    # Strict reverse-path filtering (RFC 3704): a source whose route back leaves by another
    # interface is dropped. The effective value is the maximum of "all" and the interface's.
    ip netns exec "$srv" sysctl -qw net.ipv4.conf.all.rp_filter=1 "net.ipv4.conf.${recv_if}.rp_filter=1"
    rp_filter=1
  fi
  local server_faults=()
  if [[ -n $server_fw ]]; then
    [[ $any_v4 == 1 ]] && fw_rule "$server_fw" 4 ""
    [[ $any_v6 == 1 ]] && fw_rule "$server_fw" 6 ""
    server_faults+=("firewall-$server_fw")
  fi
  for ((i = 1; i <= n; i++)); do
    load_guest "$i"; guest_net "$i"
    [[ -z $G_FIREWALL ]] && continue
    if [[ $G_IPV6 == 1 ]]; then fw_rule "$G_FIREWALL" 6 "$S_IP6"; else fw_rule "$G_FIREWALL" 4 "$S_IP"; fi
  done
  if [[ ${#NFT_RULES[@]} -gt 0 ]]; then
    { echo 'table inet netdiag_lab {'
      echo '  chain input {'
      echo '    type filter hook input priority 0; policy accept;'
      local r; for r in "${NFT_RULES[@]}"; do echo "    $r"; done
      echo '  }'
      echo '}'; } | ip netns exec "$srv" nft -f -
  fi
  [[ $syslog != on ]] && server_faults+=("syslog-$syslog")

  local rs_pid= rs_ports=$port rs_addrs=
  [[ $any_two == 1 ]] && rs_ports="$port $port2"
  if [[ $syslog != off ]]; then
    mkdir -p "$run/rsyslog-work"
    : > "$run/syslog.log"
    case "$syslog" in
      on) rs_addrs="$recv_ip $recv_ip6" ;;
      loopback) rs_addrs="127.0.0.1 ::1" ;;
    esac
    {
      echo "# rsyslog of netdiag lab '$name': only imudp, nothing of the host's rsyslog."
      echo "global(workDirectory=\"$run/rsyslog-work\" maxMessageSize=\"64k\")"
      if [[ -n $rs_addrs ]]; then
        echo 'module(load="imudp")'
        local a p
        for p in $rs_ports; do
          for a in $rs_addrs; do echo "input(type=\"imudp\" address=\"$a\" port=\"$p\")"; done
        done
      fi
      echo "*.* action(type=\"omfile\" file=\"$run/syslog.log\")"
    } > "$run/rsyslog.conf"
    command -v rsyslogd >/dev/null || die "rsyslogd is not installed (scripts/system-deps.sh lab installs it; --syslog off runs no daemon)"
    ip netns exec "$srv" rsyslogd -f "$run/rsyslog.conf" -i "$run/rsyslog.pid" 2>>"$run/rsyslog.err" ||
      die "rsyslogd did not start: $(tail -n 3 "$run/rsyslog.err" | tr '\n' ' ')"
    for i in $(seq 50); do [[ -s $run/rsyslog.pid ]] && break; sleep 0.1; done
    rs_pid=$(cat "$run/rsyslog.pid" 2>/dev/null) || die "rsyslogd did not start (see $run/rsyslog.err)"
    # imudp opens its sockets after the pid file is written; wait until they are there.
    if [[ -n $rs_addrs ]]; then
      for i in $(seq 50); do
        [[ $(ip netns exec "$srv" ss -Huln "sport = :$port" | wc -l) -ge 1 ]] && break; sleep 0.1
      done
    fi
  fi
  [[ -n $ctr_mode ]] && container_up "$name" "$run" "$srv" "$port" "$ctr_mode"
  ip netns exec "$srv" setsid tcpdump -i "$recv_if" -n -U --immediate-mode -s 4096 -B 16384 -Z root -w "$run/boot.pcap" 'udp or icmp or icmp6' \
    </dev/null >/dev/null 2>"$run/boot-tcpdump.err" &
  echo $! > "$run/boot-tcpdump.pid"
  for i in $(seq 50); do grep -q 'listening on' "$run/boot-tcpdump.err" 2>/dev/null && break; sleep 0.1; done

  # --- the guests: keys, initramfs overlay, QEMU
  rm -f "$run"/id_ed25519*
  ssh-keygen -q -t ed25519 -N '' -C "netdiag-lab-$name" -f "$run/id_ed25519"
  : > "$run/known_hosts"
  write_ssh_config_head "$run"
  JUMP_ALIAS=
  [[ $jump == 1 ]] && start_jump "$run" "$rtr" "$rtr_up_ip" "$rtr_up_ip6"
  local -a t_qemu=() qemu_pids=()
  for ((i = 1; i <= n; i++)); do
    load_guest "$i"; guest_net "$i"; guest_targets
    boot_guest "$i"
  done

  # --- wait for ssh on every guest (bounded)
  local deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
  local -a ssh_ms=()
  for ((i = 1; i <= n; i++)); do
    local alias=guest; [[ $i -gt 1 ]] && alias=guest$i
    while :; do
      kill -0 "${qemu_pids[$i]}" 2>/dev/null || die "guest $i stopped during boot (console: $run/console$( [[ $i -gt 1 ]] && echo "-$i").log)"
      if ip netns exec "$srv" ssh -F "$run/ssh_config" -o ConnectTimeout=2 "$alias" true 2>/dev/null; then
        ssh_ms[$i]=$(ms_since "${t_qemu[$i]}"); break
      fi
      [[ $(date +%s) -lt $deadline ]] || die "no ssh to guest $i after ${BOOT_TIMEOUT}s"
      sleep 0.3
    done
  done
  # The boot replay happened before dropbear started; stop the boot capture.
  sleep 0.5
  stop_pid "$run" "$(cat "$run/boot-tcpdump.pid")" INT

  for ((i = 1; i <= n; i++)); do
    load_guest "$i"; guest_net "$i"
    [[ $G_LINK_DOWN == 1 ]] || continue
    monitor "$run" "$i" "set_link net0 off" >/dev/null
    # Return only once the guest has seen the carrier go.
    local alias=guest; [[ $i -gt 1 ]] && alias=guest$i
    local j
    for j in $(seq 40); do
      ip netns exec "$srv" ssh -F "$run/ssh_config" "$alias" 'cat /sys/class/net/eth0/carrier' 2>/dev/null | grep -qx 0 && break
      sleep 0.25
    done
  done

  # --- state.json: one JSON per guest, then the whole
  local gfiles=()
  for ((i = 1; i <= n; i++)); do
    load_guest "$i"; guest_net "$i"; guest_targets
    local first_ms=null t_first
    # Behind --router-nat the datagrams arrive from the router's address.
    local seen_src=$T_SRC
    [[ $rtr_nat == 1 ]] && { seen_src=$rtr_up_ip; [[ $G_IPV6 == 1 ]] && seen_src=$rtr_up_ip6; }
    t_first=$(TZ=UTC tcpdump -r "$run/boot.pcap" -n -tt -c 1 "udp and src port $T_LPORT and src host $seen_src" 2>/dev/null | awk '{print $1}')
    [[ -n $t_first ]] && first_ms=$(awk -v a="${t_qemu[$i]}" -v b="$t_first" 'BEGIN { printf "%d", (b - a) * 1000 }')
    local via=$G_VIA; [[ $G_NO_NC == 1 ]] && via=none
    local sc_addr sc_port; sysconfig_values
    local faults; faults="${server_faults[*]:-} $(guest_faults)"
    local targets="target1 $G_VIA $SPEC"
    [[ $G_VIA != configfs ]] && targets="boot $G_VIA $SPEC"
    [[ -n $SPEC2 ]] && targets+=$'\n'"target2 configfs $SPEC2"
    STATE_RUN=$run STATE_INDEX=$i STATE_SFX=$S_SFX STATE_KERNEL_SERIES=$G_KERNEL STATE_KERNEL=$(kernel_release "$G_KERNEL") \
    STATE_IP=$S_IP STATE_IP6=$S_IP6 STATE_MAC=$S_MAC STATE_DEV=$S_DEV STATE_BOND=$G_BOND STATE_TAP=$S_TAP \
    STATE_MGMT_IP=$S_MGMT_IP STATE_MGMT_IP6=$S_MGMT_IP6 STATE_MGMT_MAC=$S_MGMT_MAC STATE_MGMT_TAP=$( [[ $G_MGMT == 1 ]] && echo "$S_MTAP" ) \
    STATE_IPV6=$G_IPV6 STATE_SSH_HOST=$S_SSH_HOST STATE_SSH_ALIAS=$S_ALIAS STATE_QEMU_PID=${qemu_pids[$i]} \
    STATE_APPEND="${APPENDS[$i]}" STATE_VIA=$via STATE_MODE=$G_MODE STATE_SPEC=$SPEC STATE_TARGETS=$targets \
    STATE_SRC_IP=$T_SRC STATE_LOCAL_IP_GIVEN=$([[ -n $T_LIP ]] && echo 1 || echo 0) STATE_RELEASE=$G_RELEASE \
    STATE_DEV_MAC=$G_DEV_MAC STATE_SYSDATA=$G_SYSDATA STATE_USERDATA=$G_USERDATA \
    STATE_SC_ADDR=$sc_addr STATE_SC_PORT=$sc_port STATE_LOGLEVEL=$G_LOGLEVEL STATE_FIREWALL=$G_FIREWALL \
    STATE_FAULTS=$faults STATE_SSH_MS=${ssh_ms[$i]} STATE_FIRST_MS=$first_ms \
      node "$LAB_DIR/state.mjs" guest > "$run/guest-$i.json"
    gfiles+=("$run/guest-$i.json")
  done
  STATE_NAME=$name STATE_RUN=$run STATE_SRV=$srv STATE_RTR=$rtr STATE_QNS=$qns \
  STATE_RECV_IF=$recv_if STATE_RECV_IP=$recv_ip STATE_RECV_IP6=$recv_ip6 STATE_RECV_MAC=$recv_mac STATE_PORT=$port \
  STATE_PORT2=$([[ $any_two == 1 ]] && echo "$port2") STATE_BRIDGE=$bridge STATE_MBRIDGE=$mbridge \
  STATE_MGMT_IF=$([[ $any_mgmt == 1 ]] && echo "$mseg_if") \
  STATE_RTR_IP=$rtr_ip STATE_RTR_IP6=$rtr_ip6 STATE_RTR_MAC=$rtr_mac STATE_RTR_UP_IP=$rtr_up_ip STATE_RTR_UP_IP6=$rtr_up_ip6 \
  STATE_RTR_UP_MAC=$rtr_up_mac STATE_SEG_IF=$seg_if \
  STATE_RTR_NAT=$rtr_nat STATE_RTR_FWD=$rtr_fwd STATE_JUMP=$([[ $jump == 1 ]] && echo "$rtr_up_ip") \
  STATE_RTR_FAULTS="${router_faults[*]:-}" \
  STATE_RS=$syslog STATE_RS_PID=$rs_pid STATE_RS_PORTS=$rs_ports STATE_RS_ADDRS=$rs_addrs \
  STATE_FIREWALL=$server_fw STATE_FW_RULES="$(printf '%s\n' "${FW_RULES[@]:-}")" STATE_RP_FILTER=$rp_filter \
  STATE_SERVER_FAULTS="${server_faults[*]:-}" STATE_UP_MS=$(ms_since "$t_start") STATE_GUEST_FILES="${gfiles[*]}" \
    node "$LAB_DIR/state.mjs" server > "$run/state.json.tmp"
  mv "$run/state.json.tmp" "$run/state.json"
  UP_OK=1
  trap - EXIT INT TERM HUP
  local summary=
  for ((i = 1; i <= n; i++)); do
    load_guest "$i"
    summary+=" guest $i: kernel $(kernel_release "$G_KERNEL"), ssh ${ssh_ms[$i]} ms;"
  done
  log "lab '$name' up:${summary} state: $run/state.json"
  echo "$run/state.json"
}

# boot_guest I: writes guest I's overlay and initrd, adds its ssh host entries and starts its
# QEMU. Uses the G_*, S_*, T_* variables and SPEC/SPEC2 of that guest.
declare -a APPENDS=()
boot_guest() {
  local i=$1 sfx=$S_SFX
  # Taps: with one guest the segment's tap is its data NIC (made above); with several, each
  # guest's taps join the bridges.
  if [[ -n $bridge ]]; then
    ip -n "$qns" tuntap add dev "$S_TAP" mode tap
    ip -n "$qns" link set "$S_TAP" master "$bridge"
    ip -n "$qns" link set "$S_TAP" up
  fi
  if [[ $G_MGMT == 1 && -n $mbridge ]]; then
    ip -n "$qns" tuntap add dev "$S_MTAP" mode tap
    ip -n "$qns" link set "$S_MTAP" master "$mbridge"
    ip -n "$qns" link set "$S_MTAP" up
  fi

  local key=$run/guest_host_key$sfx
  rm -f "$key"
  dropbearkey -t ed25519 -f "$key" >/dev/null 2>&1
  local hostpub; hostpub=$(dropbearkey -y -f "$key" | grep '^ssh-ed25519' | awk '{print $1" "$2}')
  local h
  for h in $S_IP $S_IP6 $S_MGMT_IP $S_MGMT_IP6; do echo "$h $hostpub" >> "$run/known_hosts"; done
  local aliases=guest$i; [[ $i == 1 ]] && aliases="guest guest1"
  write_ssh_host "$run" "$aliases" "$S_SSH_HOST"
  write_ssh_host "$run" "guest$i-ip4" "${S_MGMT_IP:-$S_IP}"
  write_ssh_host "$run" "guest$i-ip6" "${S_MGMT_IP6:-$S_IP6}"

  local over=$run/overlay$sfx
  rm -rf "$over"; mkdir -p "$over/etc/sysconfig" "$over/etc/modprobe.d" "$over/etc/dropbear" "$over/etc/lab" "$over/root/.ssh"
  chmod 0700 "$over/root" "$over/root/.ssh"
  install -m 0600 "$run/id_ed25519.pub" "$over/root/.ssh/authorized_keys"
  install -m 0600 "$key" "$over/etc/dropbear/dropbear_ed25519_host_key"
  local sc_addr sc_port; sysconfig_values
  [[ -n $sc_addr ]] && cat > "$over/etc/sysconfig/netconsole" <<EOF
# This is the configuration file for the netconsole service.  By starting
# this service you allow a remote syslog daemon to record console output
# from this system.

# The local port number that the netconsole module will use
LOCALPORT=$T_LPORT

# The ethernet device to send console messages out of (only set this if it
# can't be automatically determined)
DEV=$S_DEV

# The IP address of the remote syslog server to send messages to
SYSLOGADDR=$sc_addr

# The listening port of the remote syslog daemon
SYSLOGPORT=$sc_port

# The MAC address of the remote syslog server (only set this if it can't
# be automatically determined)
SYSLOGMACADDR=$T_RMAC
EOF
  if [[ $G_VIA == module ]]; then
    printf '# netconsole target (written by the netdiag lab)\noptions netconsole netconsole=%s\n' "$SPEC" \
      > "$over/etc/modprobe.d/netconsole.conf"
  fi
  # configfs targets for /init: NAME SPEC SYSDATA (one per line; SYSDATA "-" for none), and
  # userdata entries as etc/lab/userdata/NAME/KEY holding the value.
  : > "$over/etc/lab/netconsole-targets"
  [[ $G_VIA == configfs ]] && echo "target1 $SPEC ${G_SYSDATA:--}" >> "$over/etc/lab/netconsole-targets"
  [[ -n $SPEC2 ]] && echo "target2 $SPEC2 -" >> "$over/etc/lab/netconsole-targets"
  if [[ -n $G_USERDATA ]]; then
    local e
    local -a es
    IFS=$US read -r -a es <<< "$G_USERDATA"
    mkdir -p "$over/etc/lab/userdata/target1"
    for e in "${es[@]}"; do printf '%s' "${e#*=}" > "$over/etc/lab/userdata/target1/${e%%=*}"; done
  fi
  (cd "$over" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$run/overlay$sfx.cpio"
  # The kernel looks for the next archive at a 4-byte boundary: pad the compressed base.
  local release; release=$(kernel_release "$G_KERNEL")
  local base=${INITRD[$G_KERNEL]} base_size pad
  base_size=$(stat -L -c %s "$base")
  pad=$(( (4 - base_size % 4) % 4 ))
  { cat "$base"; head -c "$pad" /dev/zero; cat "$run/overlay$sfx.cpio"; } > "$run/initrd$sfx.img"

  local host=sender-$name; [[ $i -gt 1 ]] && host+=-$i
  local append="console=ttyS0 panic=1 no_timer_check lab.hostname=$host lab.ip=$S_IP/24 lab.ip6=$S_IP6/64 lab.mac=$S_MAC"
  [[ -n $gw ]] && append+=" lab.gw=$gw lab.gw6=$gw6"
  [[ -n $S_MGMT_IP ]] && append+=" lab.mgmt_ip=$S_MGMT_IP/24 lab.mgmt_ip6=$S_MGMT_IP6/64 lab.mgmt_mac=$S_MGMT_MAC"
  [[ $G_BOND == 1 ]] && append+=" lab.bond=1"
  [[ -n $G_LOGLEVEL ]] && append+=" loglevel=$G_LOGLEVEL"
  if [[ $G_NO_NC == 1 ]]; then
    append+=" lab.nc_via=none"
  else
    append+=" lab.nc_via=$G_VIA"
    [[ $G_VIA == cmdline ]] && append+=" netconsole=$SPEC"
  fi
  APPENDS[$i]=$append

  local -a nets=(-netdev "tap,id=net0,ifname=$S_TAP,script=no,downscript=no"
                 -device "virtio-net-pci,netdev=net0,mac=$S_MAC")
  [[ $G_MGMT == 1 ]] && nets+=(-netdev "tap,id=mgmt0,ifname=$S_MTAP,script=no,downscript=no"
                               -device "virtio-net-pci,netdev=mgmt0,mac=$S_MGMT_MAC")
  t_qemu[$i]=$(now)
  ip netns exec "$qns" qemu-system-x86_64 -name "netdiag-lab-$name$sfx" -accel tcg -m "$GUEST_MEM" -smp 1 \
    -display none -serial "file:$run/console$sfx.log" -monitor "unix:$run/monitor$sfx.sock,server,nowait" \
    -kernel "$CACHE/kernel/$release/boot/vmlinuz-$release" -initrd "$run/initrd$sfx.img" -append "$append" \
    "${nets[@]}" -device virtio-rng-pci -no-reboot -daemonize -pidfile "$run/qemu$sfx.pid" \
    2>"$run/qemu$sfx.err" || die "qemu of guest $i did not start: $(head -3 "$run/qemu$sfx.err")"
  qemu_pids[$i]=$(cat "$run/qemu$sfx.pid")
}

write_ssh_config_head() {
  local run=$1
  cat > "$run/ssh_config" <<EOF
# ssh to the lab's guests from its log-server namespace:
#   ip netns exec NS ssh -F $run/ssh_config guest CMD      (guest N: guestN; guestN-ip4, guestN-ip6)
Host *
  User root
  Port 22
  IdentityFile $run/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $run/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
  LogLevel ERROR
EOF
}

JUMP_ALIAS=
write_ssh_host() {
  local run=$1 aliases=$2 host=$3 extra=
  # Host blocks must come before "Host *" takes the first values: ssh uses the first value it
  # reads for each keyword, and HostName appears only here. With a jump host (--jump) every
  # guest is reached through it.
  [[ -n $JUMP_ALIAS && $aliases != "$JUMP_ALIAS" ]] && extra="  ProxyJump $JUMP_ALIAS"$'\n'
  local tmp=$run/ssh_config.tmp
  { printf 'Host %s\n  HostName %s\n%s\n' "$aliases" "$host" "$extra"; cat "$run/ssh_config"; } > "$tmp"
  mv "$tmp" "$run/ssh_config"
}

# monitor RUN GUEST HMP-COMMAND: runs it on guest GUEST's QEMU monitor; prints the reply.
monitor() {
  local run=$1 g=$2; shift 2
  local sock=$run/monitor.sock; [[ $g -gt 1 ]] && sock=$run/monitor-$g.sock
  [[ -S $sock ]] || die "no monitor socket $sock"
  printf '%s\n' "$*" | socat -t 1 - "UNIX-CONNECT:$sock" | tr -d '\r' \
    | sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep -v -e '^QEMU .* monitor' -e '^(qemu)' || true
}

lab_alive() {
  local run=$RUNS/$1 pid
  pid=$(cat "$run/qemu.pid" 2>/dev/null) || return 1
  pid_is_ours "$run" "$pid"
}

# A PID is ours if it is alive and its command line names this run's directory.
pid_is_ours() {
  local run=$1 pid=$2
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$run/"
}

# start_jump RUN RTR IP IP6: a bastion in the router's namespace: dropbear on the router's
# log-server side, accepting the lab's key for root, forwarding TCP (ssh -J); its root's home is
# a directory of the run, bind-mounted over /root in a mount namespace of its own (the host's
# /root is not touched).
start_jump() {
  local run=$1 rtr=$2 ip=$3 ip6=$4 i
  local home=$run/jump-home key=$run/jump_host_key
  rm -rf "$home" "$key"; mkdir -p "$home/.ssh"; chmod 0700 "$home" "$home/.ssh"
  install -m 0600 "$run/id_ed25519.pub" "$home/.ssh/authorized_keys"
  dropbearkey -t ed25519 -f "$key" >/dev/null 2>&1
  local hostpub; hostpub=$(dropbearkey -y -f "$key" | grep '^ssh-ed25519' | awk '{print $1" "$2}')
  echo "$ip $hostpub" >> "$run/known_hosts"; echo "$ip6 $hostpub" >> "$run/known_hosts"
  ip netns exec "$rtr" unshare -m --propagation private sh -c \
    'mount --bind "$1" /root && exec dropbear -r "$2" -P "$3" -p "$4:22" -p "[$5]:22" -s -E 2>>"$6"' \
    sh "$home" "$key" "$run/jump.pid" "$ip" "$ip6" "$run/jump.err" </dev/null >/dev/null
  for i in $(seq 50); do [[ -s $run/jump.pid ]] && break; sleep 0.1; done
  [[ -s $run/jump.pid ]] || die "the jump host's dropbear did not start (see $run/jump.err)"
  write_ssh_host "$run" jump "$ip"
  JUMP_ALIAS=jump
}

stop_pid() {
  local run=$1 pid=$2 sig=${3:-TERM} i
  pid_is_ours "$run" "$pid" || return 0
  kill -s "$sig" "$pid" 2>/dev/null || true
  for i in $(seq 50); do pid_is_ours "$run" "$pid" || return 0; sleep 0.1; done
  kill -s KILL "$pid" 2>/dev/null || true
  for i in $(seq 20); do pid_is_ours "$run" "$pid" || return 0; sleep 0.1; done
}

# ---------------------------------------------------------------------------------------------
# down

cmd_down() {
  local name=default all=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --name) name=${2:?}; shift ;;
      --all) all=1 ;;
      *) [[ $1 != -* ]] && name=$1 || die "down: unknown option '$1'" ;;
    esac
    shift
  done
  need_root
  if [[ $all == 1 ]]; then
    local names=() d ns
    for d in "$RUNS"/*/; do [[ -d $d ]] && names+=("$(basename "$d")"); done
    for ns in $(ip netns list | awk '{print $1}' | grep "^${NS_PREFIX}" || true); do
      ns=${ns#"$NS_PREFIX"}; ns=${ns%-rtr}; names+=("$ns")
    done
    local n
    for n in $(printf '%s\n' "${names[@]}" | sort -u); do down_one "$n"; done
    return 0
  fi
  check_name "$name"
  down_one "$name"
}

down_one() {
  local name=$1 run=$RUNS/$1 f pid ns
  container_down "$name" "$run"
  for f in "$run"/qemu*.pid "$run/rsyslog.pid" "$run/boot-tcpdump.pid" "$run/jump.pid"; do
    [[ -f $f ]] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [[ -n $pid ]] && stop_pid "$run" "$pid"
  done
  for ns in "$(ns_rtr "$name")" "$(ns_srv "$name")"; do
    ip netns list | awk '{print $1}' | grep -qxF "$ns" || continue
    # Anything still running inside the lab's own namespace was started through the lab
    # (exec, tests); it would keep the namespace alive.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      echo "lab: ending PID $pid ($(cat /proc/"$pid"/comm 2>/dev/null)) left in namespace $ns" >&2
      kill "$pid" 2>/dev/null || true
    done
    for pid in $(ip netns pids "$ns" 2>/dev/null); do sleep 0.5; kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  if [[ -d $run ]]; then
    if [[ -n ${LAB_KEEP_RUN:-} ]]; then
      rm -f "$run/state.json" "$run"/monitor*.sock
    else
      rm -rf "$run"
    fi
  fi
  log "lab '$name' down"
}

# ---------------------------------------------------------------------------------------------
# exec / ssh / monitor / state / status

resolve_name_and_cmd() {
  # NAME [--guest N] -- CMD... | --name NAME [--guest N] -- CMD...
  LAB_NAME=default LAB_GUEST=1
  if [[ ${1:-} == --name ]]; then LAB_NAME=${2:?}; shift 2
  elif [[ -n ${1:-} && ${1:-} != -- && ${1:-} != --guest ]]; then LAB_NAME=$1; shift; fi
  if [[ ${1:-} == --guest ]]; then
    LAB_GUEST=${2:-}; shift 2 || true
    [[ $LAB_GUEST =~ ^[1-9]$ ]] || die "--guest takes a guest number (1-$MAX_GUESTS)"
  fi
  [[ ${1:-} == -- ]] && shift
  check_name "$LAB_NAME"
  LAB_ARGS=("$@")
  [[ -f $RUNS/$LAB_NAME/state.json ]] || die "lab '$LAB_NAME' is not up"
}

cmd_exec() {
  resolve_name_and_cmd "$@"
  [[ ${#LAB_ARGS[@]} -gt 0 ]] || die "usage: lab/lab.sh exec NAME -- CMD..."
  exec ip netns exec "$(ns_srv "$LAB_NAME")" "${LAB_ARGS[@]}"
}

cmd_ssh() {
  resolve_name_and_cmd "$@"
  local run=$RUNS/$LAB_NAME alias=guest
  [[ $LAB_GUEST -gt 1 ]] && alias=guest$LAB_GUEST
  grep -qE "^Host .*\\b$alias\\b" "$run/ssh_config" || die "lab '$LAB_NAME' has no guest $LAB_GUEST"
  exec ip netns exec "$(ns_srv "$LAB_NAME")" ssh -F "$run/ssh_config" "$alias" "${LAB_ARGS[@]}"
}

cmd_monitor() {
  resolve_name_and_cmd "$@"
  monitor "$RUNS/$LAB_NAME" "$LAB_GUEST" "${LAB_ARGS[*]}"
}

cmd_state() {
  resolve_name_and_cmd "$@"
  cat "$RUNS/$LAB_NAME/state.json"
}

cmd_status() {
  local d n any=0
  for d in "$RUNS"/*; do
    [[ -d $d ]] || continue
    n=$(basename "$d"); any=1
    if lab_alive "$n" && [[ -f $d/state.json ]]; then
      echo "$n: up (qemu pid $(cat "$d/qemu.pid"), state $d/state.json, $(node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(`${s.guests.length} guest(s), kernels ${[...new Set(s.guests.map(g=>g.kernel))].join(" ")}, faults: ${s.faults.join(" ") || "none"}`)' "$d/state.json"))"
    elif lab_alive "$n"; then
      echo "$n: booting (qemu pid $(cat "$d/qemu.pid"))"
    else
      echo "$n: not running (leftovers in $d; lab/lab.sh down --name $n)"
    fi
  done
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${NS_PREFIX}" || true); do
    echo "namespace: $ns"; any=1
  done
  [[ $any == 1 ]] || echo "no lab is up"
}

cmd_kernel_version() {
  local k=$DEFAULT_KERNEL
  if [[ ${1:-} == --kernel ]]; then k=${2:-}; check_kernel "$k"; fi
  kernel_release "$k" || die "kernel $k is not built yet (lab/lab.sh build --kernel $k)"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    build) cmd_build "$@" ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    exec) cmd_exec "$@" ;;
    ssh) cmd_ssh "$@" ;;
    monitor) cmd_monitor "$@" ;;
    state) cmd_state "$@" ;;
    status) cmd_status "$@" ;;
    kernel-version) cmd_kernel_version "$@" ;;
    container) cmd_container "$@" ;;
    -h|--help|help|'') sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$cmd' (build, up, down, exec, ssh, monitor, state, status, kernel-version, container)" ;;
  esac
}

main "$@"
