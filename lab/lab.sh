#!/usr/bin/env bash
# The netconsole lab: a real Debian kernel in QEMU (the sender) logging over netconsole to a
# log-server network namespace running rsyslog. See lab/README.md.
#
#   lab/lab.sh build
#   lab/lab.sh up [--name NAME] [options]      (lab/lab.sh up --help lists them)
#   lab/lab.sh down [--name NAME] | down --all
#   lab/lab.sh exec NAME -- CMD...             run CMD in the log-server namespace
#   lab/lab.sh ssh NAME -- CMD...              run CMD on the guest
#   lab/lab.sh monitor NAME -- HMP-COMMAND     e.g. sendkey alt-sysrq-p
#   lab/lab.sh state NAME                      print state.json
#   lab/lab.sh status
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${LAB_CACHE:-$LAB_DIR/.cache}
RUNS=$CACHE/run
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-150}
NS_PREFIX=ndlab-
# Bump when build_initramfs changes, so cached initramfs images are rebuilt.
INITRAMFS_RECIPE=3

die() { echo "lab: $*" >&2; exit 2; }
log() { [[ -n ${LAB_QUIET:-} ]] || echo "lab: $*" >&2; }
now() { date +%s.%N; }
ms_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
need_root() { [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, tap devices); run with sudo"; }

# ---------------------------------------------------------------------------------------------
# build: kernel package, initramfs. Cached under $CACHE; a second run only checks.

kernel_release() { cat "$CACHE/kernel-version" 2>/dev/null; }

cmd_build() {
  need_root
  mkdir -p "$CACHE"
  exec 9>"$CACHE/build.lock"
  flock 9
  local t0; t0=$(now)
  local dl=$CACHE/dl pkg
  mkdir -p "$dl"
  # The newest linux-image-6.1.0-N-amd64-unsigned known to apt.
  pkg=$(newest_kernel_package)
  if [[ -z $pkg ]]; then
    log "no kernel package in apt's lists; running apt-get update"
    apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
    pkg=$(newest_kernel_package)
    [[ -n $pkg ]] || die "apt knows no linux-image-6.1.0-*-amd64-unsigned package"
  fi
  local release=${pkg#linux-image-}; release=${release%-unsigned}
  local kroot=$CACHE/kernel/$release
  if [[ ! -f $kroot/.unpacked ]]; then
    if ! ls "$dl/${pkg}"_*.deb >/dev/null 2>&1; then
      log "downloading $pkg"
      (cd "$dl" && apt-get -o DPkg::Lock::Timeout=300 download "$pkg" 2>&1 | grep -v unsandboxed >&2 || true)
      ls "$dl/${pkg}"_*.deb >/dev/null 2>&1 || die "apt-get download $pkg failed"
    fi
    rm -rf "$kroot"; mkdir -p "$kroot"
    dpkg -x "$(ls "$dl/${pkg}"_*.deb | head -1)" "$kroot"
    touch "$kroot/.unpacked"
  fi
  local initrd=$CACHE/initramfs-$release.cpio.gz
  local stamp
  stamp=$({ cat "$LAB_DIR/guest/init" "$LAB_DIR/guest/inittab"; echo "$INITRAMFS_RECIPE"; } | sha256sum | cut -c1-16)
  if [[ ! -f $initrd || $(cat "$initrd.stamp" 2>/dev/null) != "$stamp" ]]; then
    log "building initramfs for $release"
    build_initramfs "$kroot" "$release" "$initrd"
    echo "$stamp" > "$initrd.stamp"
  fi
  ln -sfn "kernel/$release/boot/vmlinuz-$release" "$CACHE/vmlinuz"
  ln -sfn "initramfs-$release.cpio.gz" "$CACHE/initramfs.cpio.gz"
  echo "$release" > "$CACHE/kernel-version"
  # Close the lock, or the daemons up starts next would inherit it and hold it.
  exec 9>&-
  log "build ready: kernel $release ($(ms_since "$t0") ms)"
}

newest_kernel_package() {
  apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' 2>/dev/null \
    | awk '{print $1}' | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | sort -V | tail -1
}

# Copies a binary and the shared libraries ldd names into root $1.
copy_with_libs() {
  local root=$1 bin=$2 dest=$3 lib
  install -D -m 0755 "$bin" "$root$dest"
  for lib in $(ldd "$bin" | awk '/=> \// {print $3} /^[ \t]*\/lib/ {print $1}'); do
    [[ -e $root$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}

build_initramfs() {
  local kroot=$1 release=$2 out=$3
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
  # modules: only the ones the guest loads, with a real modules.dep
  local m src rel
  local mods=(virtio_ring virtio virtio-rng virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover
              net_failover virtio_net configfs netconsole tls bonding)
  for m in "${mods[@]}"; do
    src=$(find "$kroot/lib/modules/$release" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
    [[ -n $src ]] || die "module $m not found in the kernel package"
    rel=${src#"$kroot"}
    install -D -m 0644 "$src" "$root$rel"
  done
  cp "$kroot/lib/modules/$release"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$release/" 2>/dev/null || true
  depmod -b "$root" "$release"
  # config
  install -m 0755 "$LAB_DIR/guest/init" "$root/init"
  install -m 0644 "$LAB_DIR/guest/inittab" "$root/etc/inittab"
  echo 'root:x:0:0:root:/root:/bin/bash' > "$root/etc/passwd"
  echo 'root:*:1::::::' > "$root/etc/shadow"
  printf 'root:x:0:\ntty:x:5:\n' > "$root/etc/group"
  printf '/bin/sh\n/bin/bash\n' > "$root/etc/shells"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' > "$root/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
  chmod 0700 "$root/root"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 > "$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$root"
}

# ---------------------------------------------------------------------------------------------
# naming

check_name() {
  [[ $1 =~ ^[a-z0-9][a-z0-9_-]{0,10}$ ]] || die "bad lab name '$1' (1-11 of a-z 0-9 _ -, starting with a letter or digit)"
}
ns_srv() { echo "${NS_PREFIX}$1"; }
ns_rtr() { echo "${NS_PREFIX}$1-rtr"; }

# ---------------------------------------------------------------------------------------------
# up

usage_up() {
  cat <<'EOF'
usage: lab/lab.sh up [--name NAME] [options]
  --name NAME             lab instance name (default: default); several can run at once
  --mode plain|extended   netconsole format (default plain)
  --configfs              dynamic target via configfs instead of the module parameter
  --cmdline               spec as netconsole= on the kernel command line (as if built in)
  --bond                  netconsole on an active-backup bond0 with eth0 enslaved
  --port N                rsyslog's UDP port and the target port (default 514)
  --remote-mac right|wrong|broadcast   target MAC in the spec (default right)
  --router                receiver on another subnet, behind a router namespace
  --router-mac router|receiver         MAC used with --router (default router)
  --firewall iptables-drop|iptables-reject|nft-drop|nft-reject   on the log server, INPUT udp dport
  --syslog on|off|no-imudp             rsyslog running with imudp (default), not running, no imudp
  --wrong-port            the sender targets another port than rsyslog listens on
  --no-netconsole         netconsole not loaded (its config files still present)
  --loglevel N            console log level N on the kernel command line (loglevel=N)
  --link-down             guest's netconsole link down after boot (ssh over a 2nd NIC)
  --sysconfig-conflict    /etc/sysconfig/netconsole contradicts what was loaded
EOF
}

cmd_up() {
  local name=default mode=plain via=module bond=0 port=514 remote_mac=right router=0 router_mac=router
  local firewall= syslog=on wrong_port=0 no_nc=0 loglevel= link_down=0 sc_conflict=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --name|--mode|--port|--remote-mac|--router-mac|--firewall|--syslog|--loglevel)
        [[ $# -ge 2 && -n $2 ]] || die "up: $1 needs a value (lab/lab.sh up --help)" ;;
    esac
    case "$1" in
      --name) name=${2:?}; shift ;;
      --mode) mode=${2:?}; shift ;;
      --configfs) via=configfs ;;
      --cmdline) via=cmdline ;;
      --bond) bond=1 ;;
      --port) port=${2:?}; shift ;;
      --remote-mac) remote_mac=${2:?}; shift ;;
      --router) router=1 ;;
      --router-mac) router_mac=${2:?}; shift ;;
      --firewall) firewall=${2:?}; shift ;;
      --syslog) syslog=${2:?}; shift ;;
      --wrong-port) wrong_port=1 ;;
      --no-netconsole) no_nc=1 ;;
      --loglevel) loglevel=${2:?}; shift ;;
      --link-down) link_down=1 ;;
      --sysconfig-conflict) sc_conflict=1 ;;
      -h|--help) usage_up; exit 0 ;;
      *) die "up: unknown option '$1' (lab/lab.sh up --help lists them)" ;;
    esac
    shift
  done
  check_name "$name"
  [[ $mode == plain || $mode == extended ]] || die "--mode must be plain or extended"
  [[ $remote_mac =~ ^(right|wrong|broadcast)$ ]] || die "--remote-mac must be right, wrong or broadcast"
  [[ $router_mac =~ ^(router|receiver)$ ]] || die "--router-mac must be router or receiver"
  [[ $router_mac == router || $router == 1 ]] || die "--router-mac needs --router"
  [[ -z $firewall || $firewall =~ ^(iptables|nft)-(drop|reject)$ ]] || die "--firewall must be iptables-drop, iptables-reject, nft-drop or nft-reject"
  [[ $syslog =~ ^(on|off|no-imudp)$ ]] || die "--syslog must be on, off or no-imudp"
  [[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || die "--port must be 1-65535"
  [[ -z $loglevel || $loglevel =~ ^[0-8]$ ]] || die "--loglevel must be 0-8"
  need_root

  local run=$RUNS/$name
  if [[ -f $run/state.json || -d $run ]]; then
    if lab_alive "$name"; then die "lab '$name' is already up; run: lab/lab.sh down --name $name"; fi
    LAB_QUIET=1 cmd_down --name "$name"
  fi
  if ip netns list | awk '{print $1}' | grep -qx "$(ns_srv "$name")"; then
    LAB_QUIET=1 cmd_down --name "$name"
  fi

  LAB_QUIET=${LAB_QUIET:-} cmd_build
  local release; release=$(kernel_release)

  mkdir -p "$run"
  local up_ok=0
  # Any failure from here on takes down whatever was started.
  trap '[[ $up_ok == 1 ]] || { echo "lab: up failed; console log: $run/console.log" >&2; tail -n 15 "$run/console.log" 2>/dev/null | sed "s/^/  | /" >&2; LAB_QUIET=1 LAB_KEEP_RUN=1 cmd_down --name "$name" || true; }' EXIT
  trap 'exit 3' INT TERM HUP

  local t_start; t_start=$(now)
  local srv rtr=; srv=$(ns_srv "$name")
  [[ $router == 1 ]] && rtr=$(ns_rtr "$name")
  local qns=${rtr:-$srv}          # the namespace holding the tap and QEMU
  local tap=ndt-$name mtap=ndm-$name

  # Addresses (the same in every lab: each lab has its own namespaces).
  local sender_ip=10.99.0.2 sender_mac=52:54:00:99:00:02 sender_prefix=24 gw=
  local recv_ip recv_mac recv_if rtr_ip= rtr_mac= rtr_up_ip= rtr_up_mac=
  if [[ $router == 1 ]]; then
    recv_if=ndv-$name recv_ip=10.99.1.1 recv_mac=02:99:00:01:00:01
    rtr_ip=10.99.0.1 rtr_mac=02:99:00:00:00:fe rtr_up_ip=10.99.1.254 rtr_up_mac=02:99:00:01:00:fe
    gw=$rtr_ip
  else
    recv_if=$tap recv_ip=10.99.0.1 recv_mac=02:99:00:00:00:01
  fi
  local mgmt_ip= mgmt_mac= ssh_host=$sender_ip
  if [[ $link_down == 1 ]]; then
    mgmt_ip=10.99.9.2 mgmt_mac=52:54:00:99:09:02 ssh_host=$mgmt_ip
  fi

  # --- namespaces and links
  ip netns add "$srv"
  ip -n "$srv" link set lo up
  if [[ $router == 1 ]]; then
    ip netns add "$rtr"
    ip -n "$rtr" link set lo up
    ip -n "$rtr" link add "ndr-$name" address "$rtr_up_mac" type veth peer name "$recv_if" netns "$srv"
    ip -n "$srv" link set "$recv_if" address "$recv_mac"
    ip -n "$srv" addr add "$recv_ip/24" dev "$recv_if"
    ip -n "$srv" link set "$recv_if" up
    ip -n "$srv" route add 10.99.0.0/16 via "$rtr_up_ip"
    ip -n "$rtr" addr add "$rtr_up_ip/24" dev "ndr-$name"
    ip -n "$rtr" link set "ndr-$name" up
    ip netns exec "$rtr" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$rtr" tuntap add dev "$tap" mode tap
    ip -n "$rtr" link set "$tap" address "$rtr_mac"
    ip -n "$rtr" addr add "$rtr_ip/24" dev "$tap"
    ip -n "$rtr" link set "$tap" up
  else
    ip -n "$srv" tuntap add dev "$tap" mode tap
    ip -n "$srv" link set "$tap" address "$recv_mac"
    ip -n "$srv" addr add "$recv_ip/24" dev "$tap"
    ip -n "$srv" link set "$tap" up
  fi
  if [[ $link_down == 1 ]]; then
    ip -n "$qns" tuntap add dev "$mtap" mode tap
    ip -n "$qns" link set "$mtap" address 02:99:00:09:00:01
    ip -n "$qns" addr add 10.99.9.1/24 dev "$mtap"
    ip -n "$qns" link set "$mtap" up
    [[ $router == 1 ]] && ip -n "$srv" route replace 10.99.9.0/24 via "$rtr_up_ip"
  fi

  # --- the netconsole spec
  local tgt_ip=$recv_ip tgt_port=$port tgt_mac dev=eth0 lport=6665
  [[ $wrong_port == 1 ]] && { if [[ $port == 6666 ]]; then tgt_port=514; else tgt_port=6666; fi; }
  [[ $bond == 1 ]] && dev=bond0
  local right_mac=$recv_mac
  [[ $router == 1 ]] && right_mac=$rtr_mac
  case "$remote_mac" in
    right) tgt_mac=$right_mac ;;
    wrong) tgt_mac=02:99:de:ad:be:ef ;;
    broadcast) tgt_mac=ff:ff:ff:ff:ff:ff ;;
  esac
  [[ $router == 1 && $router_mac == receiver ]] && tgt_mac=$recv_mac
  local spec="${lport}@${sender_ip}/${dev},${tgt_port}@${tgt_ip}/${tgt_mac}"
  [[ $mode == extended ]] && spec="+$spec"
  local loaded_via=$via
  [[ $no_nc == 1 ]] && loaded_via=none

  # --- keys and the per-run part of the initramfs
  rm -f "$run"/id_ed25519* "$run/guest_host_key"
  ssh-keygen -q -t ed25519 -N '' -C "netdiag-lab-$name" -f "$run/id_ed25519"
  dropbearkey -t ed25519 -f "$run/guest_host_key" >/dev/null 2>&1
  local hostpub; hostpub=$(dropbearkey -y -f "$run/guest_host_key" | grep '^ssh-ed25519' | awk '{print $1" "$2}')
  echo "$ssh_host $hostpub" > "$run/known_hosts"
  local over=$run/overlay
  rm -rf "$over"; mkdir -p "$over/etc/sysconfig" "$over/etc/modprobe.d" "$over/etc/dropbear" "$over/root/.ssh"
  chmod 0700 "$over/root" "$over/root/.ssh"
  install -m 0600 "$run/id_ed25519.pub" "$over/root/.ssh/authorized_keys"
  install -m 0600 "$run/guest_host_key" "$over/etc/dropbear/dropbear_ed25519_host_key"
  local sc_addr=$tgt_ip sc_port=$tgt_port
  [[ $sc_conflict == 1 ]] && { sc_addr=10.99.0.100; sc_port=5140; }
  cat > "$over/etc/sysconfig/netconsole" <<EOF
# This is the configuration file for the netconsole service.  By starting
# this service you allow a remote syslog daemon to record console output
# from this system.

# The local port number that the netconsole module will use
LOCALPORT=$lport

# The ethernet device to send console messages out of (only set this if it
# can't be automatically determined)
DEV=$dev

# The IP address of the remote syslog server to send messages to
SYSLOGADDR=$sc_addr

# The listening port of the remote syslog daemon
SYSLOGPORT=$sc_port

# The MAC address of the remote syslog server (only set this if it can't
# be automatically determined)
SYSLOGMACADDR=$tgt_mac
EOF
  if [[ $via == module ]]; then
    printf '# netconsole target (written by the netdiag lab)\noptions netconsole netconsole=%s\n' "$spec" \
      > "$over/etc/modprobe.d/netconsole.conf"
  fi
  (cd "$over" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$run/overlay.cpio"
  # The kernel looks for the next archive at a 4-byte boundary: pad the compressed base.
  local base_size pad
  base_size=$(stat -L -c %s "$CACHE/initramfs.cpio.gz")
  pad=$(( (4 - base_size % 4) % 4 ))
  { cat "$CACHE/initramfs.cpio.gz"; head -c "$pad" /dev/zero; cat "$run/overlay.cpio"; } > "$run/initrd.img"

  local append="console=ttyS0 panic=1 no_timer_check lab.hostname=sender-$name lab.ip=$sender_ip/$sender_prefix lab.mac=$sender_mac"
  [[ -n $gw ]] && append+=" lab.gw=$gw"
  [[ -n $mgmt_ip ]] && append+=" lab.mgmt_ip=$mgmt_ip/24 lab.mgmt_mac=$mgmt_mac"
  [[ $bond == 1 ]] && append+=" lab.bond=1"
  [[ -n $loglevel ]] && append+=" loglevel=$loglevel"
  if [[ $no_nc == 1 ]]; then
    append+=" lab.nc_via=none"
  else
    append+=" lab.nc_via=$via"
    [[ $via == configfs ]] && append+=" lab.nc=$spec"
    [[ $via == cmdline ]] && append+=" netconsole=$spec"
  fi

  # --- log server: firewall, rsyslog, boot capture
  case "$firewall" in
    iptables-drop) ip netns exec "$srv" iptables -A INPUT -p udp --dport "$port" -j DROP ;;
    iptables-reject) ip netns exec "$srv" iptables -A INPUT -p udp --dport "$port" -j REJECT ;;
    nft-drop|nft-reject)
      ip netns exec "$srv" nft -f - <<EOF
table inet netdiag_lab {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport $port counter ${firewall#nft-}
  }
}
EOF
      ;;
  esac
  local rs_pid=
  if [[ $syslog != off ]]; then
    mkdir -p "$run/rsyslog-work"
    : > "$run/syslog.log"
    {
      echo "# rsyslog of netdiag lab '$name': only imudp, nothing of the host's rsyslog."
      echo "global(workDirectory=\"$run/rsyslog-work\" maxMessageSize=\"64k\")"
      if [[ $syslog == on ]]; then
        echo 'module(load="imudp")'
        echo "input(type=\"imudp\" address=\"$recv_ip\" port=\"$port\")"
      fi
      echo "*.* action(type=\"omfile\" file=\"$run/syslog.log\")"
    } > "$run/rsyslog.conf"
    ip netns exec "$srv" rsyslogd -f "$run/rsyslog.conf" -i "$run/rsyslog.pid" 2>>"$run/rsyslog.err"
    local i
    for i in $(seq 50); do [[ -s $run/rsyslog.pid ]] && break; sleep 0.1; done
    rs_pid=$(cat "$run/rsyslog.pid" 2>/dev/null) || die "rsyslogd did not start (see $run/rsyslog.err)"
  fi
  ip netns exec "$srv" setsid tcpdump -i "$recv_if" -n -U --immediate-mode -s 4096 -B 16384 -Z root -w "$run/boot.pcap" 'udp or icmp' \
    </dev/null >/dev/null 2>"$run/boot-tcpdump.err" &
  echo $! > "$run/boot-tcpdump.pid"
  for i in $(seq 50); do grep -q 'listening on' "$run/boot-tcpdump.err" 2>/dev/null && break; sleep 0.1; done

  # --- the guest
  local -a nets=(-netdev "tap,id=net0,ifname=$tap,script=no,downscript=no"
                 -device "virtio-net-pci,netdev=net0,mac=$sender_mac")
  [[ $link_down == 1 ]] && nets+=(-netdev "tap,id=mgmt0,ifname=$mtap,script=no,downscript=no"
                                  -device "virtio-net-pci,netdev=mgmt0,mac=$mgmt_mac")
  local t_qemu; t_qemu=$(now)
  ip netns exec "$qns" qemu-system-x86_64 -name "netdiag-lab-$name" -accel tcg -m 256 -smp 1 \
    -display none -serial "file:$run/console.log" -monitor "unix:$run/monitor.sock,server,nowait" \
    -kernel "$CACHE/vmlinuz" -initrd "$run/initrd.img" -append "$append" \
    "${nets[@]}" -device virtio-rng-pci -no-reboot -daemonize -pidfile "$run/qemu.pid" \
    2>"$run/qemu.err" || die "qemu did not start: $(head -3 "$run/qemu.err")"
  local qemu_pid; qemu_pid=$(cat "$run/qemu.pid")
  write_ssh_config "$run" "$ssh_host"

  # --- wait for ssh (bounded)
  local ssh_ms= deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
  while :; do
    kill -0 "$qemu_pid" 2>/dev/null || die "the guest stopped during boot"
    if ip netns exec "$srv" ssh -F "$run/ssh_config" -o ConnectTimeout=2 guest true 2>/dev/null; then
      ssh_ms=$(ms_since "$t_qemu"); break
    fi
    [[ $(date +%s) -lt $deadline ]] || die "no ssh after ${BOOT_TIMEOUT}s"
    sleep 0.3
  done
  # The boot replay happened before dropbear started; stop the boot capture.
  sleep 0.5
  stop_pid "$run" "$(cat "$run/boot-tcpdump.pid")" INT
  local first_ms=null t_first
  t_first=$(TZ=UTC tcpdump -r "$run/boot.pcap" -n -tt -c 1 "udp src port $lport" 2>/dev/null | awk '{print $1}')
  [[ -n $t_first ]] && first_ms=$(awk -v a="$t_qemu" -v b="$t_first" 'BEGIN { printf "%d", (b - a) * 1000 }')

  if [[ $link_down == 1 ]]; then
    monitor "$run" "set_link net0 off" >/dev/null
    # Return only once the guest has seen the carrier go.
    for i in $(seq 40); do
      ip netns exec "$srv" ssh -F "$run/ssh_config" guest 'cat /sys/class/net/eth0/carrier' 2>/dev/null \
        | grep -qx 0 && break
      sleep 0.25
    done
  fi

  local faults=()
  [[ $remote_mac != right ]] && faults+=("remote-mac-$remote_mac")
  [[ $router == 1 && $router_mac == receiver ]] && faults+=("router-mac-receiver")
  [[ -n $firewall ]] && faults+=("firewall-$firewall")
  [[ $syslog == off ]] && faults+=("syslog-off")
  [[ $syslog == no-imudp ]] && faults+=("syslog-no-imudp")
  [[ $wrong_port == 1 ]] && faults+=("wrong-port")
  [[ $no_nc == 1 ]] && faults+=("no-netconsole")
  [[ -n $loglevel ]] && faults+=("loglevel-$loglevel")
  [[ $link_down == 1 ]] && faults+=("link-down")
  [[ $sc_conflict == 1 ]] && faults+=("sysconfig-conflict")

  STATE_NAME=$name STATE_RUN=$run STATE_KERNEL=$release STATE_SRV=$srv STATE_RTR=$rtr STATE_QNS=$qns \
  STATE_RECV_IF=$recv_if STATE_RECV_IP=$recv_ip STATE_RECV_MAC=$recv_mac STATE_PORT=$port \
  STATE_SENDER_IP=$sender_ip STATE_SENDER_MAC=$sender_mac STATE_DEV=$dev STATE_TAP=$tap \
  STATE_RTR_IP=$rtr_ip STATE_RTR_MAC=$rtr_mac STATE_RTR_UP_IP=$rtr_up_ip STATE_RTR_UP_MAC=$rtr_up_mac \
  STATE_SSH_HOST=$ssh_host STATE_MGMT_IP=$mgmt_ip STATE_MGMT_MAC=$mgmt_mac \
  STATE_RS=$syslog STATE_RS_PID=$rs_pid STATE_QEMU_PID=$qemu_pid STATE_SPEC=$spec STATE_VIA=$loaded_via \
  STATE_MODE=$mode STATE_LPORT=$lport STATE_TGT_IP=$tgt_ip STATE_TGT_PORT=$tgt_port STATE_TGT_MAC=$tgt_mac \
  STATE_SC_ADDR=$sc_addr STATE_SC_PORT=$sc_port STATE_FIREWALL=$firewall STATE_LOGLEVEL=$loglevel \
  STATE_FAULTS="${faults[*]:-}" STATE_APPEND=$append STATE_SSH_MS=$ssh_ms STATE_FIRST_MS=$first_ms \
  STATE_BOND=$bond STATE_UP_MS=$(ms_since "$t_start") \
    node "$LAB_DIR/state.mjs" > "$run/state.json.tmp"
  mv "$run/state.json.tmp" "$run/state.json"
  up_ok=1
  trap - EXIT INT TERM HUP
  log "lab '$name' up: kernel $release, first datagram ${first_ms} ms, ssh ${ssh_ms} ms after QEMU start; state: $run/state.json"
  echo "$run/state.json"
}

write_ssh_config() {
  local run=$1 host=$2
  cat > "$run/ssh_config" <<EOF
# ssh to the lab's guest from its log-server namespace:
#   ip netns exec NS ssh -F $run/ssh_config guest CMD
Host guest
  HostName $host
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

# HMP command on the QEMU monitor; prints the reply.
monitor() {
  local run=$1; shift
  [[ -S $run/monitor.sock ]] || die "no monitor socket in $run"
  printf '%s\n' "$*" | socat -t 1 - "UNIX-CONNECT:$run/monitor.sock" | tr -d '\r' \
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
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$run/"
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
  for f in qemu.pid rsyslog.pid boot-tcpdump.pid; do
    pid=$(cat "$run/$f" 2>/dev/null || true)
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
      rm -f "$run/state.json" "$run/monitor.sock"
    else
      rm -rf "$run"
    fi
  fi
  log "lab '$name' down"
}

# ---------------------------------------------------------------------------------------------
# exec / ssh / monitor / state / status

resolve_name_and_cmd() {
  # NAME -- CMD... | --name NAME -- CMD...
  LAB_NAME=default
  if [[ ${1:-} == --name ]]; then LAB_NAME=${2:?}; shift 2
  elif [[ -n ${1:-} && ${1:-} != -- ]]; then LAB_NAME=$1; shift; fi
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
  local run=$RUNS/$LAB_NAME
  exec ip netns exec "$(ns_srv "$LAB_NAME")" ssh -F "$run/ssh_config" guest "${LAB_ARGS[@]}"
}

cmd_monitor() {
  resolve_name_and_cmd "$@"
  monitor "$RUNS/$LAB_NAME" "${LAB_ARGS[*]}"
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
      echo "$n: up (qemu pid $(cat "$d/qemu.pid"), state $d/state.json, faults: $(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).faults.join(" ") || "none")' "$d/state.json"))"
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
    kernel-version) kernel_release ;;
    -h|--help|help|'') sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$cmd' (build, up, down, exec, ssh, monitor, state, status)" ;;
  esac
}

main "$@"
