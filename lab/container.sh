# The log server's syslog daemon in a container (lab.sh up --container MODE; sourced by lab.sh).
#
# The "container" is a network namespace ndlab-NAME-ctr behind a bridge docker0 (172.17.0.1/16) of
# the log server's namespace, with rsyslog listening on 0.0.0.0:514 in it; the log server publishes
# the port the way Docker 28 does (its chains written out here by hand, after Docker's documented
# layout): nat PREROUTING -> DOCKER -> DNAT to 172.17.0.2:514, filter FORWARD (policy DROP) ->
# DOCKER-USER, DOCKER-FORWARD -> DOCKER-CT, DOCKER-INTERNAL, DOCKER-BRIDGE -> DOCKER (the port's
# ACCEPT, then a DROP of the rest), raw PREROUTING dropping direct access to the container. The
# nft modes write one table of nft's own instead (ip dnatlab: dnat at prerouting, forward policy drop).

CTR_MODES="published forward-drop user-drop wrong-port unpublished proxy nft nft-forward-drop"
CTR_IP=172.17.0.2
CTR_GW=172.17.0.1
CTR_BRIDGE=docker0
ns_ctr() { echo "${NS_PREFIX}$1-ctr"; }

container_check() {
  [[ " $CTR_MODES " == *" $1 "* ]] || die "--container must be one of: $CTR_MODES"
}

# container_rules SRV PORT MODE: the publishing rules of MODE, replacing those of another mode.
container_rules() {
  local srv=$1 port=$2 mode=$3 cport=514 accept=1 userdrop=0 dnat=1
  case "$mode" in
    forward-drop) accept=0 ;;
    user-drop) userdrop=1 ;;
    wrong-port) cport=5140 ;;
    unpublished) dnat=0 accept=0 ;;
  esac
  ip netns exec "$srv" nft 'add table ip dnatlab; delete table ip dnatlab'
  if [[ $mode == nft* ]]; then
    # Empty iptables tables, then nft's own: dnat in prerouting, the forward hook's policy drop.
    printf '*raw\nCOMMIT\n*nat\nCOMMIT\n*filter\nCOMMIT\n' | ip netns exec "$srv" iptables-restore
    {
      echo 'table ip dnatlab {'
      echo '  chain nat-prerouting {'
      echo '    type nat hook prerouting priority dstnat; policy accept;'
      echo '    fib daddr type local counter jump nat-published'
      echo '  }'
      echo '  chain nat-published {'
      echo "    iifname != \"$CTR_BRIDGE\" udp dport $port counter dnat to $CTR_IP:514"
      echo '  }'
      echo '  chain filter-forward {'
      echo '    type filter hook forward priority filter; policy drop;'
      echo '    ct state established,related accept'
      [[ $mode == nft ]] && echo "    oifname \"$CTR_BRIDGE\" ip daddr $CTR_IP udp dport 514 counter accept"
      echo '  }'
      echo '}'
    } | ip netns exec "$srv" nft -f -
  else
    {
      echo '*raw'
      echo ':PREROUTING ACCEPT [0:0]'
      echo ':OUTPUT ACCEPT [0:0]'
      echo "-A PREROUTING -d $CTR_IP/32 ! -i $CTR_BRIDGE -j DROP"
      echo 'COMMIT'
      echo '*nat'
      echo ':PREROUTING ACCEPT [0:0]'
      echo ':INPUT ACCEPT [0:0]'
      echo ':OUTPUT ACCEPT [0:0]'
      echo ':POSTROUTING ACCEPT [0:0]'
      echo ':DOCKER - [0:0]'
      echo '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER'
      echo '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER'
      echo "-A POSTROUTING -s 172.17.0.0/16 ! -o $CTR_BRIDGE -j MASQUERADE"
      echo "-A DOCKER -i $CTR_BRIDGE -j RETURN"
      [[ $dnat == 1 ]] && echo "-A DOCKER ! -i $CTR_BRIDGE -p udp -m udp --dport $port -j DNAT --to-destination $CTR_IP:$cport"
      echo 'COMMIT'
      echo '*filter'
      echo ':INPUT ACCEPT [0:0]'
      echo ':FORWARD DROP [0:0]'
      echo ':OUTPUT ACCEPT [0:0]'
      local c; for c in DOCKER DOCKER-BRIDGE DOCKER-CT DOCKER-FORWARD DOCKER-INTERNAL DOCKER-USER; do echo ":$c - [0:0]"; done
      echo '-A FORWARD -j DOCKER-USER'
      echo '-A FORWARD -j DOCKER-FORWARD'
      [[ $accept == 1 ]] && echo "-A DOCKER -d $CTR_IP/32 ! -i $CTR_BRIDGE -o $CTR_BRIDGE -p udp -m udp --dport $cport -j ACCEPT"
      echo "-A DOCKER ! -i $CTR_BRIDGE -o $CTR_BRIDGE -j DROP"
      echo "-A DOCKER-BRIDGE -o $CTR_BRIDGE -j DOCKER"
      echo "-A DOCKER-CT -o $CTR_BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
      echo '-A DOCKER-FORWARD -j DOCKER-CT'
      echo '-A DOCKER-FORWARD -j DOCKER-INTERNAL'
      echo '-A DOCKER-FORWARD -j DOCKER-BRIDGE'
      echo "-A DOCKER-FORWARD -i $CTR_BRIDGE -j ACCEPT"
      [[ $userdrop == 1 ]] && echo "-A DOCKER-USER -p udp -m udp --dport $cport -j DROP"
      echo 'COMMIT'
    } | ip netns exec "$srv" iptables-restore
  fi
  # A NAT decision is the flow's for as long as conntrack keeps it, and netconsole sends every
  # message from the same port: without this the old mode's translation would go on.
  ip netns exec "$srv" conntrack -F >/dev/null 2>&1 || true
}

# container_proxy RUN SRV PORT on|off: a docker-proxy on the host's port (Docker's userland proxy):
# socat under that name, forwarding to the container as docker-proxy does.
container_proxy() {
  local run=$1 srv=$2 port=$3 on=$4
  if [[ -f $run/docker-proxy.pid ]]; then stop_pid "$run" "$(cat "$run/docker-proxy.pid")"; rm -f "$run/docker-proxy.pid"; fi
  [[ $on == on ]] || return 0
  cp "$(command -v socat)" "$run/docker-proxy"
  ip netns exec "$srv" setsid "$run/docker-proxy" "UDP4-RECVFROM:$port,fork,reuseaddr" "UDP4-SENDTO:$CTR_IP:514" \
    </dev/null >/dev/null 2>"$run/docker-proxy.err" &
  echo $! > "$run/docker-proxy.pid"
  local i
  for i in $(seq 50); do [[ $(ip netns exec "$srv" ss -Huln "sport = :$port" | wc -l) -ge 1 ]] && break; sleep 0.1; done
}

# container_up NAME RUN SRV PORT MODE: the container, its rsyslog, and the publishing rules.
container_up() {
  local name=$1 run=$2 srv=$3 port=$4 mode=$5 ctr i
  ctr=$(ns_ctr "$name")
  ip netns add "$ctr"
  ip -n "$srv" link add "$CTR_BRIDGE" type bridge
  ip -n "$srv" addr add "$CTR_GW/16" dev "$CTR_BRIDGE"
  ip -n "$srv" link set "$CTR_BRIDGE" up
  ip -n "$srv" link add vethd0 type veth peer name eth0 netns "$ctr"
  ip -n "$srv" link set vethd0 master "$CTR_BRIDGE" up
  ip -n "$ctr" addr add "$CTR_IP/16" dev eth0
  ip -n "$ctr" link set eth0 up
  ip -n "$ctr" link set lo up
  ip -n "$ctr" route add default via "$CTR_GW"
  ip netns exec "$srv" sysctl -qw net.ipv4.ip_forward=1
  mkdir -p "$run/ctr-rsyslog-work"
  : > "$run/ctr-syslog.log"
  {
    echo "# rsyslog in the container of netdiag lab '$name'"
    echo "global(workDirectory=\"$run/ctr-rsyslog-work\" maxMessageSize=\"64k\")"
    echo 'module(load="imudp")'
    echo 'input(type="imudp" port="514")'
    echo "*.* action(type=\"omfile\" file=\"$run/ctr-syslog.log\")"
  } > "$run/ctr-rsyslog.conf"
  ip netns exec "$ctr" rsyslogd -f "$run/ctr-rsyslog.conf" -i "$run/ctr-rsyslog.pid" 2>>"$run/ctr-rsyslog.err" ||
    die "rsyslogd in the container did not start: $(tail -n 3 "$run/ctr-rsyslog.err" | tr '\n' ' ')"
  for i in $(seq 50); do [[ $(ip netns exec "$ctr" ss -Huln 'sport = :514' | wc -l) -ge 1 ]] && break; sleep 0.1; done
  container_rules "$srv" "$port" "$mode"
  container_proxy "$run" "$srv" "$port" "$([[ $mode == proxy ]] && echo on || echo off)"
  container_state "$run" "$name" "$port" "$mode"
}

container_state() {
  local run=$1 name=$2 port=$3 mode=$4 cport=514
  [[ $mode == wrong-port ]] && cport=5140
  printf '{"mode":"%s","netns":"%s","bridge":"%s","ip":"%s","gateway":"%s","hostPort":%s,"dnatPort":%s,"daemonPort":514,"logFile":"%s","configFile":"%s","pidFile":"%s"}\n' \
    "$mode" "$(ns_ctr "$name")" "$CTR_BRIDGE" "$CTR_IP" "$CTR_GW" "$port" \
    "$([[ $mode == unpublished ]] && echo null || echo "$cport")" \
    "$run/ctr-syslog.log" "$run/ctr-rsyslog.conf" "$run/ctr-rsyslog.pid" > "$run/container.json"
}

container_down() {
  local name=$1 run=$2 f pid ctr
  for f in "$run/ctr-rsyslog.pid" "$run/docker-proxy.pid"; do
    [[ -f $f ]] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [[ -n $pid ]] && stop_pid "$run" "$pid"
  done
  ctr=$(ns_ctr "$name")
  ip netns list | awk '{print $1}' | grep -qxF "$ctr" && ip netns del "$ctr" 2>/dev/null || true
}

# lab.sh container NAME MODE: another publishing mode on a running lab (its container stays).
cmd_container() {
  local name=${1:-} mode=${2:-}
  [[ -n $name && -n $mode ]] || die "usage: lab/lab.sh container NAME MODE (MODE: $CTR_MODES)"
  check_name "$name"
  container_check "$mode"
  need_root
  local run=$RUNS/$name
  [[ -f $run/container.json ]] || die "lab '$name' has no container (lab/lab.sh up --container MODE)"
  local port
  port=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).hostPort)' "$run/container.json")
  container_rules "$(ns_srv "$name")" "$port" "$mode"
  container_proxy "$run" "$(ns_srv "$name")" "$port" "$([[ $mode == proxy ]] && echo on || echo off)"
  container_state "$run" "$name" "$port" "$mode"
  log "lab '$name': container published as $mode"
}
