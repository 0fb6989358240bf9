#!/usr/bin/env bash
# make demo: boot the netconsole lab (a real Debian kernel in QEMU sending netconsole to a
# log-server namespace with rsyslog), run `netdiag verify` on the log server as an administrator
# would, then break the path with a firewall rule and let verify find it.
#   scripts/demo.sh [lab up options]     e.g. scripts/demo.sh --remote-mac wrong
# Needs root. The lab is taken down on every exit path.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB=$REPO/lab/lab.sh
NAME=demo

cleanup() { "$LAB" down --name "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 3' INT TERM HUP

[[ $(id -u) -eq 0 ]] || { echo "demo: needs root (network namespaces, QEMU's tap); run: sudo make demo" >&2; exit 2; }
[[ -f $REPO/dist/bundle/netdiag.cjs ]] || { echo "demo: build first (make build)" >&2; exit 2; }

echo "demo: booting the lab (a Debian ${DEMO_KERNEL:-6.1} kernel under QEMU, software emulation; 10 to 30 s)" >&2
state=$("$LAB" up --name "$NAME" --kernel "${DEMO_KERNEL:-6.1}" "$@")
field() { node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
  console.log(process.argv[2].split(".").reduce((o,k)=>o?.[k],s))' "$state" "$1"; }
sender=$(field sender.mgmtIp); [[ $sender != null && -n $sender ]] || sender=$(field ssh.host)
syslogconf=$(field rsyslog.configFile)
echo "demo: sender $(field sender.ip) with netconsole $(field netconsole.spec); log server $(field receiver.ip):$(field receiver.port) with rsyslog; faults: $(field faults)" >&2

verify() {
  local args=(verify --sender "root@$sender" --identity "$(field ssh.identityFile)"
    --ssh-option "UserKnownHostsFile=$(field ssh.knownHostsFile)")
  # The lab's rsyslog runs with its own configuration (rsyslogd -f): verify reads it to find the log file.
  [[ $syslogconf != null && -n $syslogconf ]] && args+=(--syslog-config "$syslogconf")
  echo "+ netdiag ${args[*]}" >&2
  "$LAB" exec "$NAME" -- node "$REPO/dist/bundle/netdiag.cjs" "${args[@]}"
}

echo; echo "=== 1. netdiag verify, run on the log server ==="
set +e
verify
rc1=$?
set -e

if [[ $# -eq 0 ]]; then
  echo; echo "=== 2. the same, after: iptables -I INPUT -p udp --dport 514 -j DROP on the log server ==="
  "$LAB" exec "$NAME" -- iptables -I INPUT -p udp --dport "$(field receiver.port)" -j DROP
  set +e
  verify
  rc2=$?
  set -e
  echo; echo "demo: verify exited $rc1 on the lab as booted, $rc2 with the firewall rule (0 pass, 1 fail)" >&2
  [[ $rc1 -eq 0 && $rc2 -eq 1 ]]
else
  echo; echo "demo: verify exited $rc1 (0 pass, 1 fail)" >&2
fi
