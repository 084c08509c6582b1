# Helpers of benches/run.sh (sourced): ports, the gateway's configuration, processes, /proc.
# Every function reads the variables run.sh sets: WORK (temp dir), GW (smppgw binary),
# LOAD (smpp-load binary).

# A free TCP port on 127.0.0.1 (the kernel picks it; closed again at once).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# free_ports N: N distinct free ports on one line. Calls of free_port one after the other can
# return the same port twice (the kernel hands a just-closed port out again), so all N sockets
# are held open until every port is known.
free_ports() {
  python3 -c '
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
for s in held: s.close()' "$1"
}

# wait_port PORT [SECONDS]: until something listens on 127.0.0.1:PORT.
wait_port() {
  local port=$1 limit=${2:-30} i
  for ((i = 0; i < limit * 20; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on port $port after ${limit}s" >&2
  return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 15 s; waits for it.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  echo "pid $pid did not stop on SIGTERM: killing it" >&2
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

# cpu_ticks PID: utime + stime of the process, in clock ticks (/proc/PID/stat fields 14, 15).
cpu_ticks() {
  # The command name (field 2) may hold spaces: cut after its closing parenthesis.
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo $(( ${12} + ${13} ))
}

# rss_kib PID: VmRSS of the process, KiB.
rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

CLK_TCK=$(getconf CLK_TCK)

# jget FILE KEY.PATH: a value from a JSON file (numbers and strings as printed by Python).
jget() {
  python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
PY
}

# metric_sum PORT NAME: sum of every series of a Prometheus counter on 127.0.0.1:PORT/metrics.
metric_sum() {
  python3 - "$1" "$2" <<'PY'
import sys, urllib.request
port, name = sys.argv[1], sys.argv[2]
text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
total = 0.0
for line in text.splitlines():
    if line.startswith(name + "{") or line.startswith(name + " "):
        total += float(line.rsplit(" ", 1)[1])
print(int(total))
PY
}

# gw_config FILE OPTIONS…: writes the gateway's TOML. Options (KEY=VALUE):
#   partners=N        server binds p0…p(N-1), system_id loadI, password pw
#   max_sessions=N    per partner (default 100)
#   cache=off|disk|memory
#   core=embedded|down  (down: api_base_url on a closed port, the retry cache takes everything)
#   carriers=N        client binds c0…c(N-1) to the sink on SINK_PORT, routes by first digit
#   sink_port=PORT
#   parked=1          (with carriers=0) a disabled client bind "parked" and a catch-all route to
#                     it: every MT is stored and queued, as for a carrier that is not bound yet
#                     (without a route the core would fail each MT as "no route", a warning each)
#   in_process=false  the binds call the embedded core over its HTTP API
# Ports come from free_port; they are written to FILE.ports as shell assignments.
gw_config() {
  local file=$1; shift
  local partners=1 max_sessions=100 cache=off core=embedded carriers=0 sink_port=0 parked=0 in_process=true kv
  for kv in "$@"; do
    case $kv in
      partners=*) partners=${kv#*=} ;;
      max_sessions=*) max_sessions=${kv#*=} ;;
      cache=*) cache=${kv#*=} ;;
      core=*) core=${kv#*=} ;;
      carriers=*) carriers=${kv#*=} ;;
      sink_port=*) sink_port=${kv#*=} ;;
      parked=*) parked=${kv#*=} ;;
      in_process=*) in_process=${kv#*=} ;;
      *) echo "gw_config: unknown option $kv" >&2; return 2 ;;
    esac
  done
  local smpp metrics admin corep closed
  read -r smpp metrics admin corep closed < <(free_ports 5)
  local api="embedded"
  [ "$core" = down ] && api="http://127.0.0.1:$closed"
  local cache_enabled=false storage=disk
  case $cache in
    off) ;;
    disk) cache_enabled=true ;;
    memory) cache_enabled=true; storage=memory ;;
    *) echo "gw_config: cache=$cache" >&2; return 2 ;;
  esac
  {
    echo "api_base_url = \"$api\""
    echo "smsc_name = \"bench\""
    echo "data_dir = \"$(dirname "$file")/data\""
    echo "cache_storage_type = \"$storage\""
    echo "core_timeout_ms = 2000"
    echo "smpp_poll_interval = 100"
    echo
    echo "[listen]"
    echo "host = \"127.0.0.1\""
    echo "port = $smpp"
    echo "max_connections = 10000"
    echo "bind_timeout = 30"
    echo
    echo "[metrics]"
    echo "host = \"127.0.0.1\""
    echo "port = $metrics"
    echo
    echo "[admin]"
    echo "host = \"127.0.0.1\""
    echo "port = $admin"
    echo
    echo "[embedded_core]"
    echo "host = \"127.0.0.1\""
    echo "port = $corep"
    echo "in_process = $in_process"
    echo
    echo "[send_api]"
    echo "enabled = false"
    echo
    echo "[log]"
    echo "level = \"warn\""
    local i
    for ((i = 0; i < partners; i++)); do
      echo
      echo "[[server_binds]]"
      echo "name = \"p$i\""
      echo "system_id = \"load$i\""
      echo "password = \"pw\""
      echo "ip_whitelist = []"
      echo "tps_limit = 10000"
      echo "window_size = 1000"
      echo "max_sessions = $max_sessions"
      echo "queue_check_frequency = 100"
      echo "cache_enabled = $cache_enabled"
      echo "cache_max_size = 1000000"
    done
    for ((i = 0; i < carriers; i++)); do
      echo
      echo "[[binds]]"
      echo "name = \"c$i\""
      echo "host = \"127.0.0.1\""
      echo "port = $sink_port"
      echo "system_id = \"gw$i\""
      echo "password = \"pw\""
      echo "tps_limit = 10000"
      echo "window_size = 1000"
      echo "queue_check_frequency = 100"
      echo
      echo "[[routes]]"
      echo "prefix = \"$i\""
      echo "dest_smsc = \"c$i\""
    done
    if [ "$parked" = 1 ] && [ "$core" = embedded ]; then
      echo
      echo "[[binds]]"
      echo "name = \"parked\""
      echo "host = \"127.0.0.1\""
      echo "port = $closed"
      echo "system_id = \"parked\""
      echo "password = \"pw\""
      echo "enabled = false"
      echo
      echo "[[routes]]"
      echo "prefix = \"\""
      echo "dest_smsc = \"parked\""
    fi
  } >"$file"
  {
    echo "GW_SMPP=$smpp"
    echo "GW_METRICS=$metrics"
    echo "GW_ADMIN=$admin"
  } >"$file.ports"
}

# system_ids N: "load0,load1,…,load(N-1)".
system_ids() {
  local n=$1 i out=""
  for ((i = 0; i < n; i++)); do out+="${out:+,}load$i"; done
  echo "$out"
}

# gw_start CONFIG LOG: starts the gateway in the background, sets GW_PID, waits for its SMPP port.
gw_start() {
  # shellcheck disable=SC1090
  . "$1.ports"
  "$GW" run --config "$1" >"$2" 2>&1 &
  GW_PID=$!
  if ! wait_port "$GW_SMPP" 60; then
    echo "--- gateway log ($2) ---" >&2
    tail -50 "$2" >&2
    return 1
  fi
}
