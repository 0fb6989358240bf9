#!/usr/bin/env bash
# Regenerates one kernel's real captures in fixtures/real/ from the lab: small captures, taken
# with tcpdump in the log-server namespace (promiscuous), of a real kernel's netconsole.
# Writes fixtures/real/linux-<release>.md (how each file was made and what it holds, counted from
# the files themselves) and fixtures/real/README.md (every kernel's table). Needs root.
#   lab/make-fixtures.sh [--kernel 6.1|6.17] [OUTDIR]     (default 6.17, fixtures/real)
# Replaces only the chosen kernel release's linux-<release>-*.pcap files. Takes a few minutes.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$LAB_DIR")
KERNEL=6.17
if [[ ${1:-} == --kernel ]]; then KERNEL=${2:?--kernel needs 6.1 or 6.17}; shift 2; fi
[[ $KERNEL == 6.1 || $KERNEL == 6.17 ]] || { echo "make-fixtures: --kernel must be 6.1 or 6.17" >&2; exit 2; }
OUT=${1:-$REPO/fixtures/real}
LAB=$LAB_DIR/lab.sh
NAME=fixtures
export LAB_QUIET=1

CAP_PID=
cleanup() {
  [[ -n $CAP_PID ]] && kill -INT "$CAP_PID" 2>/dev/null || true
  "$LAB" down --name "$NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 3' INT TERM HUP

"$LAB" build --kernel "$KERNEL"
KVER=$("$LAB" kernel-version --kernel "$KERNEL")
PFX=linux-$KVER
mkdir -p "$OUT"
rm -f "$OUT/$PFX"-*.pcap
WORK=$(mktemp -d)
declare -a ROWS=()
# 6.1's captures were made with this filter; 6.17's add ICMPv6 errors (types below 128), not
# neighbour discovery.
FILTER='udp or icmp'
ICMP_FILTER='icmp'
if [[ $KERNEL == 6.17 ]]; then
  FILTER='udp or icmp or (icmp6 and ip6[40] < 128)'
  ICMP_FILTER='icmp or (icmp6 and ip6[40] < 128)'
fi

state() { node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
  const v=process.argv[2].split(".").reduce((o,k)=>o?.[k],s); console.log(typeof v==="object"?JSON.stringify(v):v)' \
  "${LAB_CACHE:-$LAB_DIR/.cache}/run/$NAME/state.json" "$1"; }

up() { "$LAB" up --name "$NAME" --kernel "$KERNEL" "$@" >/dev/null; }
down() { "$LAB" down --name "$NAME" >/dev/null; }
on_guest() { "$LAB" ssh "$NAME" -- "$@"; }

cap_start() {
  local file=$1 iface; iface=$(state receiver.iface)
  "$LAB" exec "$NAME" -- tcpdump -i "$iface" -n -U --immediate-mode -s 4096 -B 16384 -Z root -w "$file" "$FILTER" \
    2>"$WORK/tcpdump.err" &
  CAP_PID=$!
  local i
  for i in $(seq 100); do grep -q 'listening on' "$WORK/tcpdump.err" && return 0; sleep 0.1; done
  echo "make-fixtures: tcpdump did not start: $(cat "$WORK/tcpdump.err")" >&2; exit 1
}
cap_stop() { kill -INT "$CAP_PID"; wait "$CAP_PID" || true; CAP_PID=; }

# count FILE FILTER: packets in FILE matching FILTER
count() { TZ=UTC tcpdump -r "$1" -n "$2" 2>/dev/null | wc -l; }
# payloads FILE: the UDP payloads of netconsole datagrams as tcpdump -A prints them
payloads() { TZ=UTC tcpdump -r "$1" -n -A 'udp src port 6665' 2>/dev/null; }

# row FILE HOW: appends a README table row with counts taken from the file
row() {
  local f=$OUT/$1 how=$2
  local udp icmp bytes
  udp=$(count "$f" 'udp src port 6665')
  icmp=$(count "$f" "$ICMP_FILTER")
  bytes=$(stat -c %s "$f")
  ROWS+=("| \`$1\` | $how | $udp | $icmp | $bytes |")
}

# A boot capture must hold every datagram rsyslog logged (else the capture dropped some).
check_boot() {
  local f; f=$(state bootCapture)
  local n lines; n=$(count "$f" 'udp src port 6665'); lines=$(wc -l < "$(state rsyslog.logFile)")
  [[ $n -eq $lines ]] || { echo "make-fixtures: boot capture has $n datagrams, rsyslog $lines lines" >&2; exit 1; }
}

in_rsyslog() {
  local f; f=$(state rsyslog.logFile)
  if [[ -z $f || $f == undefined || $f == null ]]; then echo "no rsyslog running"; return; fi
  echo "marker lines in rsyslog's file: $(grep -c ndlab-fixture-marker "$f" || true)"
}
ipt_counter() {
  echo "$(in_rsyslog); DROP/REJECT rule counter after the test: $("$LAB" exec "$NAME" -- iptables -L INPUT -v -n -x | awk '/DROP|REJECT/ {print $1}') packets (boot replay included)"
}
counter() { # counter NAME: a counter of the log-server namespace (nstat's name)
  "$LAB" exec "$NAME" -- cat /proc/net/snmp /proc/net/netstat | awk -v want="$1" '
    { if (prev == $1) { for (i = 2; i <= NF; i++) if (p[i] == want) print $i; prev = "" }
      else { prev = $1; for (i = 2; i <= NF; i++) p[i] = substr($1, 1, length($1) - 1) $i } }'
}
noports() { echo "$(in_rsyslog); Udp NoPorts in the log-server namespace: $(counter UdpNoPorts) (boot replay included)"; }
addr_errors() { echo "$(in_rsyslog); Ip InAddrErrors in the log-server namespace: $(counter IpInAddrErrors) (boot replay included)"; }
both_logged() {
  local f; f=$(state rsyslog.logFile)
  echo "marker lines in rsyslog's file: $(grep -c ndlab-fixture-marker "$f" || true) (one per target)"
}
logged() { in_rsyslog; }
routed_ttl() {
  echo "$(in_rsyslog); the netconsole frames' $(TZ=UTC tcpdump -r "$OUT/$PFX-routed.pcap" -nv 'udp src port 6665' 2>/dev/null | grep -o 'ttl [0-9]*' | sort -u | paste -sd, -)"
}

# fault FILE HOW EXTRA UP-OPTIONS...: boots, captures one marker written to /dev/kmsg and
# `echo p`, adds what EXTRA (a function) says about the log server, takes the lab down.
fault() {
  local file=$1 how=$2 extra=$3; shift 3
  up "$@"
  cap_start "$OUT/$file"
  on_guest 'echo "<6>ndlab-fixture-marker" > /dev/kmsg; echo p > /proc/sysrq-trigger'
  sleep 3; cap_stop
  row "$file" "$how; $($extra)"
  down
}

# ---------------------------------------------------------------------------------------------
cases_6_1() {
  # 1. plain: boot log, sysrq p and l over ssh, sysrq p from the keyboard
  up --mode plain
  check_boot
  cp "$(state bootCapture)" "$OUT/$PFX-plain-boot.pcap"
  row "$PFX-plain-boot.pcap" "\`lab.sh up --mode plain\`: the capture lab up takes from before QEMU starts until ssh works. Loading netconsole replays the whole boot log, one datagram per record, first \`Linux version ...\`"
  cap_start "$OUT/$PFX-plain-sysrq-p.pcap"
  on_guest 'echo p > /proc/sysrq-trigger'
  sleep 2; cap_stop
  row "$PFX-plain-sysrq-p.pcap" "plain; \`echo p > /proc/sysrq-trigger\` over ssh: only the \`sysrq: Show Regs\` line (no interrupt context, no registers)"
  cap_start "$OUT/$PFX-plain-sysrq-l.pcap"
  on_guest 'echo l > /proc/sysrq-trigger'
  sleep 4; cap_stop
  row "$PFX-plain-sysrq-l.pcap" "plain; \`echo l > /proc/sysrq-trigger\` over ssh: backtrace of the active CPU"
  cap_start "$OUT/$PFX-plain-sysrq-p-keyboard.pcap"
  "$LAB" monitor "$NAME" -- sendkey alt-sysrq-p >/dev/null
  sleep 4; cap_stop
  row "$PFX-plain-sysrq-p-keyboard.pcap" "plain; \`sendkey alt-sysrq-p\` on the QEMU monitor (the keyboard path): the full register dump"
  down

  # 2. extended: boot log, sysrq p, one fragmented message
  up --mode extended
  check_boot
  cp "$(state bootCapture)" "$OUT/$PFX-extended-boot.pcap"
  row "$PFX-extended-boot.pcap" "\`lab.sh up --mode extended\`: boot log replay in extended format (\`level,seq,usec,flags;text\`)"
  cap_start "$OUT/$PFX-extended-sysrq-p.pcap"
  on_guest 'echo p > /proc/sysrq-trigger'
  sleep 2; cap_stop
  row "$PFX-extended-sysrq-p.pcap" "extended; \`echo p > /proc/sysrq-trigger\` over ssh"
  cap_start "$OUT/$PFX-extended-fragmented.pcap"
  # 700 bytes of \x01 become 2800 bytes (the kernel escapes them as \x01), so the record is
  # sent as ncfrag pieces. One write(2) of under 1000 bytes, as /dev/kmsg requires.
  on_guest 'printf "<6>ndlab-fragment-test begin %s end\n" "$(head -c 700 /dev/zero | tr "\0" "\001")" > /dev/kmsg'
  sleep 2; cap_stop
  local frag_total frag_offsets
  frag_total=$(payloads "$OUT/$PFX-extended-fragmented.pcap" | grep -aoE 'ncfrag=0/[0-9]+' | head -1 | cut -d/ -f2)
  frag_offsets=$(payloads "$OUT/$PFX-extended-fragmented.pcap" | grep -aoE 'ncfrag=[0-9]+' | cut -d= -f2 | paste -sd, -)
  row "$PFX-extended-fragmented.pcap" "extended; one /dev/kmsg record \`ndlab-fragment-test begin <700 x \\x01> end\`, a $frag_total-byte body after the kernel escaped each byte as \`\\x01\`: every piece carries \`,ncfrag=<offset>/$frag_total\` (offsets $frag_offsets); a piece boundary can cut an escape in half"
  down

  # 3. faults
  fault "$PFX-wrong-mac.pcap" "\`--remote-mac wrong\`: frames to 02:99:de:ad:be:ef (the receiver is 02:99:00:00:00:01), seen only because the capture is promiscuous" \
    in_rsyslog --remote-mac wrong
  fault "$PFX-iptables-drop.pcap" "\`--firewall iptables-drop\` (\`iptables -A INPUT -p udp --dport 514 -j DROP\`): datagrams on the wire, no answer at all (silence)" \
    ipt_counter --firewall iptables-drop
  fault "$PFX-iptables-reject.pcap" "\`--firewall iptables-reject\` (\`-j REJECT\`): datagrams answered by ICMP port unreachable, as for a closed port (the log server's ICMP rate limit, net.ipv4.icmp_ratelimit, can leave some unanswered)" \
    ipt_counter --firewall iptables-reject
  fault "$PFX-port-unreachable.pcap" "\`--syslog off\` (nothing listens on 514): datagrams answered by ICMP port unreachable (rate-limited like any ICMP error)" \
    noports --syslog off
}

# ---------------------------------------------------------------------------------------------
# 6.17: what 6.1 does not have (continuation lines, userdata and sysdata, IPv6, the r flag, a
# device given by MAC), two targets, and issue 9's faults.
# One record of two lines needs one write(2) to /dev/kmsg (bash's printf writes line by line,
# which makes two records): dd copies the file in one write.
MULTILINE='printf "<6>ndlab-multiline first line\nndlab-multiline second line\n" > /tmp/ml && dd if=/tmp/ml of=/dev/kmsg bs=4096 2>/dev/null'

cases_6_17() {
  # 1. plain: boot log, sysrq p, a record of two lines
  up --mode plain
  check_boot
  cp "$(state bootCapture)" "$OUT/$PFX-plain-boot.pcap"
  row "$PFX-plain-boot.pcap" "\`lab.sh up --kernel 6.17\`: the capture lab up takes from before QEMU starts until ssh works; loading netconsole replays the boot log, one datagram per record, first \`Linux version 6.17...\`. 6.17 logs its target as \`netconsole: netconsole: local port 6665\` (the prefix twice)"
  cap_start "$OUT/$PFX-plain-sysrq-p.pcap"
  on_guest 'echo p > /proc/sysrq-trigger'
  sleep 2; cap_stop
  row "$PFX-plain-sysrq-p.pcap" "plain; \`echo p > /proc/sysrq-trigger\` over ssh"
  cap_start "$OUT/$PFX-plain-multiline.pcap"
  on_guest "$MULTILINE"
  sleep 2; cap_stop
  row "$PFX-plain-multiline.pcap" "plain; one /dev/kmsg record of two lines (\`ndlab-multiline first line\\nndlab-multiline second line\`, one write): $(count "$OUT/$PFX-plain-multiline.pcap" 'udp src port 6665') datagram(s), in which the continuation line repeats the \`[ seconds.micros] \` prefix: \`$(payloads "$OUT/$PFX-plain-multiline.pcap" | grep -aoE '\[ *[0-9]+\.[0-9]+\] ndlab-multiline second' | head -1)\`"
  down

  # 2. extended: boot log, sysrq p, the two-line record
  up --mode extended
  check_boot
  cp "$(state bootCapture)" "$OUT/$PFX-extended-boot.pcap"
  row "$PFX-extended-boot.pcap" "\`--mode extended\`: boot log replay in extended format (\`level,seq,usec,flags;text\`, device records followed by \` SUBSYSTEM=\`/\` DEVICE=\` dictionary lines)"
  cap_start "$OUT/$PFX-extended-sysrq-p.pcap"
  on_guest 'echo p > /proc/sysrq-trigger'
  sleep 2; cap_stop
  row "$PFX-extended-sysrq-p.pcap" "extended; \`echo p > /proc/sysrq-trigger\` over ssh"
  cap_start "$OUT/$PFX-extended-multiline.pcap"
  on_guest "$MULTILINE"
  sleep 2; cap_stop
  row "$PFX-extended-multiline.pcap" "extended; the same two-line record: the newline inside the text is sent as \`$(payloads "$OUT/$PFX-extended-multiline.pcap" | grep -aoE 'first line.{1,4}ndlab' | head -1 | sed 's/ndlab$//; s/^first line//')\` between the lines"
  down

  # 3. configfs: userdata (one value with a space, one key equal to a sysdata key) and every sysdata switch
  up --configfs --mode extended --userdata rack=r42 --userdata 'note=hello world' --userdata cpu=rack-cpu --sysdata all
  cap_start "$OUT/$PFX-configfs-userdata-sysdata.pcap"
  on_guest 'echo "<6>ndlab-fixture-marker" > /dev/kmsg; echo p > /proc/sysrq-trigger'
  sleep 2; cap_stop
  row "$PFX-configfs-userdata-sysdata.pcap" "\`--configfs --mode extended --userdata rack=r42 --userdata 'note=hello world' --userdata cpu=rack-cpu --sysdata all\`: a marker and \`echo p\`; each message is the text, then one line per userdata entry (\` cpu=rack-cpu\`, \` note=hello world\`, \` rack=r42\`), then the sysdata lines (\` cpu=0\`, \` taskname=...\`, \` release=$KVER\`, \` msgid=N\`): the userdata key \`cpu\` and the sysdata \`cpu\` both come"
  down

  # 4. a fragmented record whose piece boundaries fall inside the userdata
  local ud=() i
  for i in 1 2 3 4 5 6; do ud+=(--userdata "ud$i=$(printf "u%d-%0185d" "$i" 0 | tr 0 x)"); done
  up --configfs --mode extended --sysdata all "${ud[@]}"
  cap_start "$OUT/$PFX-extended-fragmented-userdata.pcap"
  on_guest 'printf "<6>ndlab-frag-userdata begin %s end\n" "$(head -c 860 /dev/zero | tr "\0" "y")" > /dev/kmsg'
  sleep 2; cap_stop
  local f=$OUT/$PFX-extended-fragmented-userdata.pcap total offsets textlen
  total=$(payloads "$f" | grep -aoE 'ncfrag=0/[0-9]+' | head -1 | cut -d/ -f2)
  offsets=$(payloads "$f" | grep -aoE 'ncfrag=[0-9]+' | cut -d= -f2 | paste -sd, -)
  local head="ndlab-frag-userdata begin " tail=" end"
  textlen=$(( ${#head} + 860 + ${#tail} ))
  local inside=
  for i in ${offsets//,/ }; do [[ $i -gt $textlen ]] && inside+="${inside:+, }$i"; done
  [[ -n $inside ]] || { echo "make-fixtures: no piece boundary inside the userdata (offsets $offsets, text $textlen bytes)" >&2; exit 1; }
  row "$PFX-extended-fragmented-userdata.pcap" "\`--configfs --mode extended --sysdata all\` with six userdata entries \`ud1\`..\`ud6\` of 190 characters; one /dev/kmsg record of $textlen characters (\`ndlab-frag-userdata begin <860 x y> end\`): the body (text, userdata, sysdata) is $total bytes, sent as pieces at offsets $offsets (\`,ncfrag=<offset>/$total\`); the text ends at $textlen, so the cut(s) at $inside fall inside the userdata"
  down

  # 5. IPv6, plain with the module parameter, extended with configfs
  fault "$PFX-ipv6-plain.pcap" "\`--ipv6\`: spec \`6665@fd99::2/eth0,514@fd99::1/02:99:00:00:00:01\`, a marker and \`echo p\` over IPv6 (hop limit 32)" \
    logged --ipv6
  fault "$PFX-ipv6-extended.pcap" "\`--ipv6 --configfs --mode extended\`: a configfs target with \`local_ip\` fd99::2 and \`remote_ip\` fd99::1" \
    logged --ipv6 --configfs --mode extended

  # 6. +r with the device given by its MAC
  fault "$PFX-extended-release-devmac.pcap" "\`--mode extended --release --dev-mac\`: spec \`+r6665@10.99.0.2/52:54:00:99:00:02,514@10.99.0.1/02:99:00:00:00:01\`; every message starts with the release (\`$KVER,\`) before the extended header; the kernel logs \`interface name ''\` and \`local ethernet address '52:54:00:99:00:02'\`" \
    logged --mode extended --release --dev-mac

  # 7. two targets: netconsole= on the command line (514) and configfs target2 (5514)
  fault "$PFX-two-targets.pcap" "\`--two-targets --cmdline\`: \`netconsole=6665@10.99.0.2/eth0,514@10.99.0.1/...\` and configfs \`target2\` to port 5514 of the same server; each message is sent twice, same source port, one datagram per target" \
    both_logged --two-targets --cmdline

  # 8. issue 9's faults
  fault "$PFX-reject-host-prohibited.pcap" "\`--firewall iptables-reject-host-prohibited\` (\`-j REJECT --reject-with icmp-host-prohibited\`, CentOS's stock rule): answered by ICMP type 3 code 10 (tcpdump: \`host 10.99.0.1 unreachable - admin prohibited\`) quoting the datagram" \
    ipt_counter --firewall iptables-reject-host-prohibited
  fault "$PFX-reject-admin-prohibited.pcap" "\`--firewall iptables-reject-admin-prohibited\` (\`--reject-with icmp-admin-prohibited\`): answered by ICMP type 3 code 13 (tcpdump: \`... unreachable - admin prohibited filter\`)" \
    ipt_counter --firewall iptables-reject-admin-prohibited
  fault "$PFX-wrong-remote-ip.pcap" "\`--remote-ip wrong\`: sent to 10.99.0.77 with the receiver's MAC 02:99:00:00:00:01; the receiver's kernel drops them (not its address, forwarding off): no answer" \
    addr_errors --remote-ip wrong
  fault "$PFX-syslog-loopback.pcap" "\`--syslog loopback\`: rsyslog's imudp bound to 127.0.0.1 (and ::1) only: the datagrams to 10.99.0.1:514 are answered by ICMP port unreachable" \
    noports --syslog loopback

  # 9. behind a router: captured on the log server's side, after one hop
  fault "$PFX-routed.pcap" "\`--router\`: the log server on another subnet (10.99.1.1), the spec naming the router's sender-side MAC 02:99:00:00:00:fe; captured on the log server's side, so each frame comes from the router's other port (02:99:00:01:00:fe) to the receiver (02:99:00:01:00:01), one hop on (netconsole sends TTL 64)" \
    routed_ttl --router
}

echo "make-fixtures: kernel $KVER -> $OUT" >&2
if [[ $KERNEL == 6.1 ]]; then cases_6_1; else cases_6_17; fi

{
  echo "## Kernel $KVER"
  echo
  if [[ $KERNEL == 6.1 ]]; then
    echo "Debian's \`linux-image-$KVER-unsigned\`; capture filter \`$FILTER\`; spec"
    echo "\`6665@10.99.0.2/eth0,514@10.99.0.1/<mac>\` (extended: \`+\` in front) unless the row says otherwise."
  else
    echo "Debian's \`linux-image-$KVER\` (trixie-backports, signed); capture filter \`$FILTER\`"
    echo "(ICMPv6 errors, no neighbour discovery); spec \`6665@10.99.0.2/eth0,514@10.99.0.1/<mac>\` unless the row says otherwise."
  fi
  echo
  echo "| file | how it was made, what it shows | netconsole datagrams | ICMP | bytes |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} > "$OUT/$PFX.md"

{
  cat <<'EOF'
# Real captures from the netdiag lab

Made by `lab/make-fixtures.sh [--kernel 6.1|6.17]` (run as root; `make lab-fixtures`), which
boots the lab (lab/README.md) once per row group and captures with `tcpdump -i <receiver iface>
-w FILE` in the log-server namespace (promiscuous, as tcpdump is by default). The senders are
Debian's kernels under QEMU (TCG); the receiver is rsyslog on 10.99.0.1:514 (fd99::1 for IPv6).
Nothing here is synthesised. The counts are read from the files by the script (`tcpdump -r FILE
'udp src port 6665'` and the ICMP filter). Timestamps are the capture's. Regenerating one kernel
replaces only that kernel release's files; the release is in each file name. Each kernel's table
below is the file `linux-<release>.md` beside the captures. The golden reports
(fixtures/golden, test/golden.test.ts) are netdiag's reading of each capture when it was written;
the facts of the captures themselves are asserted from their bytes, without netdiag's decoders
(6.17: test/fixtures-real-617.test.ts).

Notes, from these captures:
- One log record is one datagram; plain mode is `[ seconds.micros] text\n`, extended mode is
  `level,seq,usec,flags;text\n` (the level field includes the facility for records written to
  /dev/kmsg by user space: `12,...` is user.warning, `14,...` user.info).
- Fault captures contain one `ndlab-fixture-marker` record and one `sysrq: Show Regs` record.
- With DROP the datagrams get no answer; with REJECT or with nothing listening they are answered
  by ICMP type 3 carrying the start of the datagram (code 3 port unreachable, 10 host prohibited,
  13 communication administratively prohibited), as far as the log server's ICMP rate limit allows
  (the boot replay just before used up its burst).
- Boot captures are checked against rsyslog's file: as many datagrams as lines (records at
  the console log level or above; the default level 7 leaves out KERN_DEBUG records, so
  extended-mode sequence numbers have gaps that are not loss).

EOF
  for t in "$OUT"/linux-*.md; do cat "$t"; echo; done
} > "$OUT/README.md"
rm -rf "$WORK"
echo "make-fixtures: wrote $(ls "$OUT/$PFX"-*.pcap | wc -l) captures for $KVER, $(du -ch "$OUT/$PFX"-*.pcap | tail -1 | cut -f1) total" >&2
