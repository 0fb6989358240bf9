#!/usr/bin/env bash
# Regenerates fixtures/real/ from the lab: small real captures, taken with tcpdump in the
# log-server namespace (promiscuous, filter "udp or icmp"), of a real 6.1 kernel's netconsole.
# Writes fixtures/real/README.md with how each file was made and what it holds (counted from
# the files themselves). Needs root. Takes about two minutes.
#   lab/make-fixtures.sh [OUTDIR]      (default fixtures/real)
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$LAB_DIR")
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

KERNEL=${FIXTURE_KERNEL:-6.1}
"$LAB" build --kernel "$KERNEL"
KVER=$("$LAB" kernel-version --kernel "$KERNEL")
PFX=linux-$KVER
mkdir -p "$OUT"
rm -f "$OUT/linux-$KVER"-*.pcap
WORK=$(mktemp -d)
declare -a ROWS=()

state() { node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
  console.log(process.argv[2].split(".").reduce((o,k)=>o?.[k],s))' "${LAB_CACHE:-$LAB_DIR/.cache}/run/$NAME/state.json" "$1"; }

up() { "$LAB" up --name "$NAME" --kernel "$KERNEL" "$@" >/dev/null; }
down() { "$LAB" down --name "$NAME" >/dev/null; }
on_guest() { "$LAB" ssh "$NAME" -- "$@"; }

cap_start() {
  local file=$1 iface; iface=$(state receiver.iface)
  "$LAB" exec "$NAME" -- tcpdump -i "$iface" -n -U --immediate-mode -s 4096 -B 16384 -Z root -w "$file" 'udp or icmp' \
    2>"$WORK/tcpdump.err" &
  CAP_PID=$!
  local i
  for i in $(seq 100); do grep -q 'listening on' "$WORK/tcpdump.err" && return 0; sleep 0.1; done
  echo "make-fixtures: tcpdump did not start: $(cat "$WORK/tcpdump.err")" >&2; exit 1
}
cap_stop() { kill -INT "$CAP_PID"; wait "$CAP_PID" || true; CAP_PID=; }

# count FILE FILTER: packets in FILE matching FILTER
count() { TZ=UTC tcpdump -r "$1" -n "$2" 2>/dev/null | wc -l; }

# row FILE HOW: appends a README table row with counts taken from the file
row() {
  local f=$OUT/$1 how=$2
  local udp icmp bytes
  udp=$(count "$f" 'udp src port 6665')
  icmp=$(count "$f" 'icmp')
  bytes=$(stat -c %s "$f")
  ROWS+=("| \`$1\` | $how | $udp | $icmp | $bytes |")
}

echo "make-fixtures: kernel $KVER -> $OUT" >&2

# 1. plain: boot log, sysrq p and l over ssh, sysrq p from the keyboard
# A boot capture must hold every datagram rsyslog logged (else the capture dropped some).
check_boot() {
  local f; f=$(state bootCapture)
  local n lines; n=$(count "$f" 'udp src port 6665'); lines=$(wc -l < "$(state rsyslog.logFile)")
  [[ $n -eq $lines ]] || { echo "make-fixtures: boot capture has $n datagrams, rsyslog $lines lines" >&2; exit 1; }
}
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
frag_total=$(TZ=UTC tcpdump -r "$OUT/$PFX-extended-fragmented.pcap" -n -A 2>/dev/null | grep -aoE 'ncfrag=0/[0-9]+' | head -1 | cut -d/ -f2)
frag_offsets=$(TZ=UTC tcpdump -r "$OUT/$PFX-extended-fragmented.pcap" -n -A 2>/dev/null | grep -aoE 'ncfrag=[0-9]+' | cut -d= -f2 | paste -sd, -)
row "$PFX-extended-fragmented.pcap" "extended; one /dev/kmsg record \`ndlab-fragment-test begin <700 x \\x01> end\`, a $frag_total-byte body after the kernel escaped each byte as \`\\x01\`: every piece carries \`,ncfrag=<offset>/$frag_total\` (offsets $frag_offsets); a piece boundary can cut an escape in half"
down

# 3. faults, each: one marker written to /dev/kmsg, then sysrq p. EXTRA (a function) adds
# what the log server saw besides the wire.
fault() {
  local file=$1 how=$2 extra=$3; shift 3
  up "$@"
  cap_start "$OUT/$file"
  on_guest 'echo "<6>ndlab-fixture-marker" > /dev/kmsg; echo p > /proc/sysrq-trigger'
  sleep 3; cap_stop
  row "$file" "$how; $($extra)"
  down
}
in_rsyslog() {
  local f; f=$(state rsyslog.logFile)
  if [[ -z $f || $f == undefined || $f == null ]]; then echo "no rsyslog running"; return; fi
  echo "marker lines in rsyslog's file: $(grep -c ndlab-fixture-marker "$f" || true)"
}
ipt_counter() {
  echo "$(in_rsyslog); DROP/REJECT rule counter after the test: $("$LAB" exec "$NAME" -- iptables -L INPUT -v -n -x | awk '/DROP|REJECT/ {print $1}') packets (boot replay included)"
}
noports() {
  echo "Udp NoPorts in the log-server namespace: $("$LAB" exec "$NAME" -- awk '/^Udp:/ {n++; if (n==1) for (i=1;i<=NF;i++) if ($i=="NoPorts") c=i; if (n==2) print $c}' /proc/net/snmp) (boot replay included)"
}
fault "$PFX-wrong-mac.pcap" "\`--remote-mac wrong\`: frames to 02:99:de:ad:be:ef (the receiver is 02:99:00:00:00:01), seen only because the capture is promiscuous" \
  in_rsyslog --remote-mac wrong
fault "$PFX-iptables-drop.pcap" "\`--firewall iptables-drop\` (\`iptables -A INPUT -p udp --dport 514 -j DROP\`): datagrams on the wire, no answer at all (silence)" \
  ipt_counter --firewall iptables-drop
fault "$PFX-iptables-reject.pcap" "\`--firewall iptables-reject\` (\`-j REJECT\`): datagrams answered by ICMP port unreachable, as for a closed port (the log server's ICMP rate limit, net.ipv4.icmp_ratelimit, can leave some unanswered)" \
  ipt_counter --firewall iptables-reject
fault "$PFX-port-unreachable.pcap" "\`--syslog off\` (nothing listens on 514): datagrams answered by ICMP port unreachable (rate-limited like any ICMP error)" \
  noports --syslog off

{
  cat <<EOF
# Real captures from the netdiag lab (kernel $KVER)

Made by \`lab/make-fixtures.sh\` (run as root; \`make lab-fixtures\`), which boots the lab
(lab/README.md) once per row group and captures with \`tcpdump -i <receiver iface> -w FILE
'udp or icmp'\` in the log-server namespace (promiscuous, as tcpdump is by default). The sender
is Debian's \`linux-image-$KVER-unsigned\` under QEMU (TCG), netconsole spec
\`6665@10.99.0.2/eth0,514@10.99.0.1/<mac>\` (extended: \`+\` in front), receiver rsyslog on
10.99.0.1:514. Nothing here is synthesised. The counts below are read from the files by the
script (\`tcpdump -r FILE 'udp src port 6665'\` and \`'icmp'\`). Timestamps are the capture's.
Regenerating replaces every \`linux-*.pcap\` here; the kernel version is in each file name.

| file | how it was made, what it shows | netconsole datagrams | ICMP | bytes |
|---|---|---|---|---|
EOF
  printf '%s\n' "${ROWS[@]}"
  cat <<'EOF'

Notes, from these captures:
- One log record is one datagram; plain mode is `[ seconds.micros] text\n`, extended mode is
  `level,seq,usec,flags;text\n` (here the level field includes the facility for records written
  to /dev/kmsg by user space: `12,...` is user.warning, `14,...` user.info).
- Fault captures contain one `ndlab-fixture-marker` record and one `sysrq: Show Regs` record.
- In the drop capture the datagrams get no answer; with REJECT or with nothing listening they
  are answered by ICMP type 3 code 3 carrying the start of the datagram, as far as the log
  server's ICMP rate limit allows (the boot replay just before used up its burst).
- Boot captures are checked against rsyslog's file: as many datagrams as lines (records at
  the console log level or above; the 6.1 default level 7 leaves out KERN_DEBUG records, so
  extended-mode sequence numbers have gaps that are not loss).
EOF
} > "$OUT/README.md"
rm -rf "$WORK"
echo "make-fixtures: wrote $(ls "$OUT"/linux-*.pcap | wc -l) captures, $(du -ch "$OUT"/linux-*.pcap | tail -1 | cut -f1) total" >&2
