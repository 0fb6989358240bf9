#!/usr/bin/env bash
# make demo: boot the netconsole lab, capture on the log server while the sender runs
# `echo p > /proc/sysrq-trigger`, and run netdiag on what arrived.
#   scripts/demo.sh [lab up options]     e.g. scripts/demo.sh --remote-mac wrong
# Needs root. The lab is taken down on every exit path.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB=$REPO/lab/lab.sh
NAME=demo
WORK=$(mktemp -d)
CAP_PID=

cleanup() {
  [[ -n $CAP_PID ]] && kill -INT "$CAP_PID" 2>/dev/null || true
  "$LAB" down --name "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 3' INT TERM HUP

[[ $(id -u) -eq 0 ]] || { echo "demo: needs root (network namespaces, QEMU's tap); run: sudo make demo" >&2; exit 2; }
[[ -f $REPO/dist/src/cli.js ]] || { echo "demo: build first (make build)" >&2; exit 2; }

echo "demo: booting the lab (a Debian 6.1 kernel under QEMU; about 10 s)" >&2
state=$("$LAB" up --name "$NAME" "$@")
field() { node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
  console.log(process.argv[2].split(".").reduce((o,k)=>o?.[k],s))' "$state" "$1"; }
iface=$(field receiver.iface)
echo "demo: sender $(field sender.ip), netconsole $(field netconsole.spec), log server $(field receiver.ip):$(field receiver.port) on $iface; faults: $(field faults)" >&2

capture=$WORK/demo.pcap
"$LAB" exec "$NAME" -- tcpdump -i "$iface" -n -U --immediate-mode -s 4096 -B 16384 -Z root \
  -w "$capture" 'udp or icmp' 2>"$WORK/tcpdump.err" &
CAP_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$WORK/tcpdump.err" && break; sleep 0.1; done

echo "demo: on the sender: echo p > /proc/sysrq-trigger" >&2
"$LAB" ssh "$NAME" -- 'echo "<6>netdiag demo: hello from the sender" > /dev/kmsg; echo p > /proc/sysrq-trigger'
sleep 2
kill -INT "$CAP_PID"; wait "$CAP_PID" || true; CAP_PID=

echo "demo: rsyslog on the log server wrote:" >&2
logfile=$(field rsyslog.logFile)
if [[ -n $logfile && $logfile != null && -f $logfile ]]; then tail -n 2 "$logfile" | sed 's/^/  | /' >&2; else echo "  (rsyslog not running)" >&2; fi

echo "demo: netdiag analyze $capture" >&2
set +e
node "$REPO/dist/src/cli.js" analyze "$capture"
rc=$?
set -e
echo "demo: netdiag exited $rc" >&2
exit "$rc"
