#!/usr/bin/env bash
# Install, start and stop the two real servers Fleetwatch talks to:
#   influxd 1.x (Debian package "influxdb") and mosquitto 2.x.
# Both listen on 127.0.0.1 only and keep every byte of state under
# $FW_DATA_DIR/<service>-<port>/, so several instances (demo on the default
# ports, tests on others) can run side by side without touching /var/lib.
#
# Usage: scripts/services.sh install [servers|chromium|all]
#        scripts/services.sh start|stop|kill|reset|status [influxd|mosquitto|all]
# install (= install servers) gets influxdb and mosquitto; install chromium gets Debian's chromium,
# which the NOC page's browser tests (test/web) drive headless; install all gets the three.
# Env:   INFLUX_PORT (8086; RPC/backup port is INFLUX_PORT+2), MQTT_PORT (1883),
#        FW_DATA_DIR (<repo>/.data/services)
set -euo pipefail

# Relative FW_DATA_DIR means relative to where the caller stood, so resolve it
# before moving to the repo root.
if [[ -n "${FW_DATA_DIR:-}" && "${FW_DATA_DIR}" != /* ]]; then
  FW_DATA_DIR="$PWD/$FW_DATA_DIR"
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

INFLUX_PORT="${INFLUX_PORT:-8086}"
MQTT_PORT="${MQTT_PORT:-1883}"
FW_DATA_DIR="${FW_DATA_DIR:-$ROOT/.data/services}"
FW_DATA_DIR="${FW_DATA_DIR%/}"

START_TIMEOUT=30 # seconds to wait for a server to answer
STOP_TIMEOUT=15  # seconds between SIGTERM and SIGKILL

die() { echo "services.sh: $*" >&2; exit 1; }
note() { echo "services.sh: $*" >&2; }

check_port() { # name value
  if ! [[ "$2" =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65533)); then
    die "$1 must be a port number 1..65533, got '$2'"
  fi
}
check_port INFLUX_PORT "$INFLUX_PORT"
check_port MQTT_PORT "$MQTT_PORT"

# mosquitto lives in /usr/sbin, which is not on a normal user's PATH.
bin_path() {
  local p
  if p="$(command -v "$1" 2>/dev/null)"; then echo "$p"; return 0; fi
  for p in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
    [[ -x "$p/$1" ]] && { echo "$p/$1"; return 0; }
  done
  return 1
}

# Pids of processes whose command name is exactly $1 (no procps needed).
pids_of() {
  local f
  for f in /proc/[0-9]*/comm; do
    [[ "$(cat "$f" 2>/dev/null)" == "$1" ]] || continue
    f="${f#/proc/}"; echo "${f%/comm}"
  done
}

# Pids of $1 processes run with a config under /etc, i.e. the packages' own
# services rather than instances started by this script.
system_pids() {
  local pid
  for pid in $(pids_of "$1"); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE ' /etc/(influxdb|mosquitto)/' && echo "$pid"
  done
  return 0
}

# ---------------------------------------------------------------- per service

# Sets SVC, PORT, DIR, PIDFILE, URL for one service instance.
select_service() {
  SVC="$1"
  case "$SVC" in
    influxd) PORT="$INFLUX_PORT"; URL="http://127.0.0.1:$PORT" ;;
    mosquitto) PORT="$MQTT_PORT"; URL="mqtt://127.0.0.1:$PORT" ;;
    *) die "unknown service '$SVC' (expected influxd, mosquitto or all)" ;;
  esac
  DIR="$FW_DATA_DIR/$SVC-$PORT"
  PIDFILE="$DIR/$SVC.pid"
  # Where the server's stdout/stderr go. influxd 1.x only logs to stderr;
  # mosquitto logs to mosquitto.log itself, this catches early config errors.
  case "$SVC" in
    influxd) OUTLOG="$DIR/influxd.log" ;;
    mosquitto) OUTLOG="$DIR/mosquitto.stderr.log" ;;
  esac
}

# Short path for messages: relative to the repo when inside it.
show_dir() { echo "${DIR#"$ROOT"/}"; }

# Serialise start/stop/reset of one instance (parallel test runners, impatient
# humans). The lock lives next to, not inside, DIR because reset deletes DIR.
lock_instance() {
  mkdir -p "$FW_DATA_DIR"
  exec 9>"$FW_DATA_DIR/.$SVC-$PORT.lock"
  if command -v flock >/dev/null; then
    flock -w 60 9 || die "timed out waiting for lock on $SVC-$PORT"
  fi
}

# True if pid $1 is a live (non-zombie) $SVC. Checking the name guards against
# a stale pidfile whose pid was reused by something else; checking for zombies
# matters because a SIGKILLed orphan may linger unreaped in a container.
is_alive() {
  local pid="$1" stat
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$SVC" ]] || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

# Prints the pid of this instance if it is running.
running_pid() {
  local pid
  [[ -f "$PIDFILE" ]] || return 1
  pid="$(<"$PIDFILE")"
  is_alive "$pid" || return 1
  echo "$pid"
}

# shellcheck disable=SC2016 # the inner scripts expand their own $0 / $@
tcp_open() { # port
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}

influx_ping() { # port; true when GET /ping answers 204
  if command -v curl >/dev/null; then
    curl -sf -o /dev/null -m 2 "http://127.0.0.1:$1/ping"
  else
    # No curl: speak just enough HTTP over bash's /dev/tcp.
    # shellcheck disable=SC2016
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" &&
      printf "GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 &&
      IFS= read -r line <&3 && [[ "$line" == HTTP/1.?" 204"* ]]' "$1" 2>/dev/null
  fi
}

is_ready() {
  case "$SVC" in
    influxd) influx_ping "$PORT" ;;
    mosquitto) tcp_open "$PORT" ;;
  esac
}

# Ports this instance needs; influxd also binds its RPC/backup port.
instance_ports() {
  case "$SVC" in
    influxd) echo "$PORT $((PORT + 2))" ;;
    mosquitto) echo "$PORT" ;;
  esac
}

write_influxd_config() {
  # Everything not set here keeps influxd's 1.6 default (coordinator, retention
  # enforcement, continuous queries on; auth off).
  cat >"$DIR/influxd.conf" <<EOF
# Generated by scripts/services.sh on every start; edits are overwritten.
# Upstream's key is reporting-disabled; Debian's build renamed it to
# reporting-enabled. Unknown keys are ignored, so set both.
reporting-disabled = true
reporting-enabled = false
bind-address = "127.0.0.1:$((PORT + 2))"

[meta]
  dir = "$DIR/meta"

[data]
  dir = "$DIR/data"
  wal-dir = "$DIR/wal"
  query-log-enabled = false

[monitor]
  # No _internal database: keeps SHOW DATABASES and the data folder clean.
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$PORT"
  auth-enabled = false
  log-enabled = false

[continuous_queries]
  enabled = true
  log-enabled = false

[logging]
  suppress-logo = true
EOF
}

write_mosquitto_config() {
  {
    echo "# Generated by scripts/services.sh on every start; edits are overwritten."
    echo "listener $PORT 127.0.0.1"
    echo "allow_anonymous true"
    # Sessions and queued QoS>0 messages survive restarts and SIGKILL
    # (saved at most 1 s late).
    echo "persistence true"
    echo "persistence_location $DIR/"
    echo "autosave_interval 1"
    # Offline persistent sessions may buffer a lot (devices reconnecting after
    # a collector outage); 0 = no limit on in-flight QoS 1/2 per client.
    echo "max_queued_messages 1000000"
    echo "max_inflight_messages 0"
    # As root, mosquitto would drop to user "mosquitto" and then could not
    # write the persistence file into our root-owned folder.
    if ((EUID == 0)); then echo "user root"; fi
    echo "log_dest file $DIR/mosquitto.log"
    echo "log_type error"
    echo "log_type warning"
    echo "log_type notice"
  } >"$DIR/mosquitto.conf"
}

show_logs() {
  local f
  local -a files=("$OUTLOG")
  [[ "$DIR/$SVC.log" == "$OUTLOG" ]] || files+=("$DIR/$SVC.log")
  for f in "${files[@]}"; do
    [[ -s "$f" ]] || continue
    echo "--- last lines of ${f#"$ROOT"/}:" >&2
    tail -n 20 "$f" >&2
  done
}

start_one() {
  select_service "$1"
  lock_instance
  mkdir -p "$DIR"
  local pid bin p i
  if pid="$(running_pid)"; then
    if is_ready; then
      echo "$SVC already running on $URL (pid $pid, data $(show_dir))"
      return 0
    fi
    # Running but not answering yet (e.g. still opening shards): just wait.
  else
    rm -f "$PIDFILE"
    for p in $(instance_ports); do
      if tcp_open "$p"; then
        die "port 127.0.0.1:$p is already in use by another process (not $SVC from $(show_dir));" \
          "stop it, or choose other ports via INFLUX_PORT / MQTT_PORT"
      fi
    done
    bin="$(bin_path "$SVC")" || die "$SVC not found; run: scripts/services.sh install"
    local -a cmd
    case "$SVC" in
      influxd)
        write_influxd_config
        cmd=("$bin" run -config "$DIR/influxd.conf")
        ;;
      mosquitto)
        write_mosquitto_config
        cmd=("$bin" -c "$DIR/mosquitto.conf")
        ;;
    esac
    # setsid: detach from the caller's session so Ctrl-C / test-runner exit does
    # not take the server down. The wrapper shell writes its own pid and then
    # exec()s the server, so the pidfile holds the server's pid. Closing fd 9
    # keeps the daemon from holding our lock forever, and redirecting all
    # stdio keeps callers like execFile from waiting on an open pipe.
    # shellcheck disable=SC2016
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" "${cmd[@]}" \
      </dev/null >>"$OUTLOG" 2>&1 9>&- &
    for ((i = 0; i < 50; i++)); do [[ -s "$PIDFILE" ]] && break; sleep 0.1; done
    [[ -s "$PIDFILE" ]] || die "could not launch $SVC (no pidfile after 5 s)"
    pid="$(<"$PIDFILE")"
  fi

  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    if is_ready; then
      echo "$SVC up on $URL (pid $pid, data $(show_dir))"
      return 0
    fi
    if ! is_alive "$pid"; then
      show_logs
      rm -f "$PIDFILE"
      die "$SVC exited during startup (see logs above)"
    fi
    sleep 0.1
  done
  show_logs
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  die "$SVC did not answer on $URL within ${START_TIMEOUT}s; killed it"
}

wait_gone() { # pid, tenths of a second
  local i
  for ((i = 0; i < $2; i++)); do
    is_alive "$1" || return 0
    sleep 0.1
  done
  ! is_alive "$1"
}

stop_one() { # service [signal]
  select_service "$1"
  local sig="${2:-TERM}" pid
  lock_instance
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    echo "$SVC not running (port $PORT)"
    return 0
  fi
  kill "-$sig" "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" $((STOP_TIMEOUT * 10)); then
    note "$SVC (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 50 || die "$SVC (pid $pid) survived SIGKILL"
  fi
  rm -f "$PIDFILE"
  if [[ "$sig" == KILL ]]; then
    echo "$SVC killed (pid $pid, port $PORT)"
  else
    echo "$SVC stopped (pid $pid, port $PORT)"
  fi
}

reset_one() {
  stop_one "$1" >/dev/null
  # Guard the rm: DIR must be the per-instance folder we generate.
  [[ -n "$FW_DATA_DIR" && "$DIR" == "$FW_DATA_DIR/$SVC-$PORT" ]] || die "refusing to delete '$DIR'"
  rm -rf -- "$DIR"
  echo "$SVC reset (deleted $(show_dir))"
}

status_one() {
  select_service "$1"
  local pid
  if pid="$(running_pid)"; then
    if is_ready; then
      echo "$SVC running on $URL (pid $pid, data $(show_dir))"
    else
      echo "$SVC running but not answering on $URL (pid $pid, data $(show_dir))"
    fi
    return 0
  fi
  echo "$SVC stopped (port $PORT, data $(show_dir))"
  return 3
}

# ---------------------------------------------------------------- install

influx_version() { # "1.6.7~rc0"
  "$(bin_path influxd)" version 2>/dev/null | sed -n 's/^InfluxDB v\([^ ]*\).*/\1/p'
}

install() {
  local what="${1:-servers}" servers=no browser=no
  case "$what" in
    servers) servers=yes ;;
    chromium) browser=yes ;;
    all) servers=yes; browser=yes ;;
    *) die "unknown install target '$what' (expected servers, chromium or all)" ;;
  esac
  local -a missing=()
  if [[ "$servers" == yes ]]; then
    bin_path influxd >/dev/null || missing+=(influxdb)
    bin_path mosquitto >/dev/null || missing+=(mosquitto)
  fi
  # Debian's package; never a browser downloaded by a test tool.
  if [[ "$browser" == yes ]]; then bin_path chromium >/dev/null || missing+=(chromium); fi
  if ((${#missing[@]} == 0)); then
    # Already installed: stay quiet, unless it is the wrong major version
    # (influxd 2.x has another config format and API).
    if [[ "$servers" == yes ]]; then
      influx_version | grep -q '^1\.' ||
        die "$(bin_path influxd) is InfluxDB '$(influx_version)'; Fleetwatch needs InfluxDB 1.x (Debian package influxdb)"
    fi
    return 0
  fi

  if ((EUID != 0)); then
    die "missing: ${missing[*]}. As root run:" \
      "apt-get install -y ${missing[*]}   (Debian/Ubuntu; needs influxd 1.x and mosquitto 2.x)," \
      "or run 'sudo scripts/services.sh install $what'"
  fi
  command -v apt-get >/dev/null || die "missing: ${missing[*]}, and no apt-get to install them with"

  # Keep the packages' own init scripts from starting servers on the default
  # ports: a policy-rc.d that exits 101 makes invoke-rc.d skip them. Docker
  # images usually ship one already; then leave it alone. A permissive one is
  # swapped out for the duration (in containers the packages' sysv scripts
  # fail to start anyway, and that failure aborts the install).
  local policy=/usr/sbin/policy-rc.d policy_rc=0
  if [[ -e "$policy" ]]; then "$policy" influxdb start >/dev/null 2>&1 || policy_rc=$?; fi
  if [[ ! -e "$policy" ]]; then
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  elif ((policy_rc != 101)); then
    mv "$policy" "$policy.fleetwatch-orig"
    trap 'mv -f /usr/sbin/policy-rc.d.fleetwatch-orig /usr/sbin/policy-rc.d' EXIT
  fi
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# temporary, from fleetwatch scripts/services.sh install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
  fi

  # apt-get update only when the package lists do not know the packages.
  local pkg updated=0
  for pkg in "${missing[@]}"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
      apt-get update -qq >&2
      updated=1
      break
    fi
  done
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2; then
    ((updated == 0)) || die "apt-get install ${missing[*]} failed"
    # Stale lists (404 on download) are the usual cause: refresh once and retry.
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
      die "apt-get install ${missing[*]} failed"
  fi

  # If something started the packages' own servers anyway (their configs are
  # in /etc/influxdb, /etc/mosquitto; ours never are), stop them; on systemd
  # hosts also keep them from grabbing 8086/1883 at the next boot.
  local svc unit pids
  for svc in influxd mosquitto; do
    if [[ "$svc" == influxd ]]; then unit=influxdb; else unit=mosquitto; fi
    [[ " ${missing[*]} " == *" $unit "* ]] || continue
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
      systemctl disable --now -q "$unit" >&2 2>/dev/null || true
    fi
    pids="$(system_pids "$svc")"
    [[ -n "$pids" ]] || continue
    note "stopping the $unit service the package started"
    service "$unit" stop >&2 2>/dev/null || true
    sleep 1
    pids="$(system_pids "$svc")"
    # shellcheck disable=SC2086
    [[ -z "$pids" ]] || kill -KILL $pids 2>/dev/null || true
  done
  local versions=""
  if [[ "$servers" == yes ]]; then
    versions="influxd $(influx_version), mosquitto $("$(bin_path mosquitto)" -h 2>/dev/null | sed -n 's/^mosquitto version //p')"
  fi
  if [[ "$browser" == yes ]]; then
    versions="${versions:+$versions, }$("$(bin_path chromium)" --version 2>/dev/null | head -1)"
  fi
  echo "installed: ${missing[*]} ($versions)"
}

# ---------------------------------------------------------------- main

usage() {
  cat >&2 <<EOF
usage: scripts/services.sh install [servers|chromium|all]
       scripts/services.sh start|stop|kill|reset|status [influxd|mosquitto|all]
env:   INFLUX_PORT=$INFLUX_PORT (RPC on +2)  MQTT_PORT=$MQTT_PORT  FW_DATA_DIR=$FW_DATA_DIR
status exits 0 when every requested service runs, 3 otherwise.
EOF
  exit 2
}

# Sets SERVICES from the command's argument (checked here, not in a subshell,
# so a bad name really exits).
pick_services() {
  case "${1:-}" in
    all) SERVICES=(influxd mosquitto) ;;
    influxd | mosquitto) SERVICES=("$1") ;;
    *) usage ;;
  esac
}

action="${1:-}"
case "$action" in
  install) install "${2:-servers}" ;;
  start | stop | kill | reset)
    pick_services "${2:-}"
    for s in "${SERVICES[@]}"; do
      case "$action" in
        start) start_one "$s" ;;
        stop) stop_one "$s" TERM ;;
        kill) stop_one "$s" KILL ;;
        reset) reset_one "$s" ;;
      esac
    done
    ;;
  status)
    rc=0
    pick_services "${2:-all}"
    for s in "${SERVICES[@]}"; do status_one "$s" || rc=3; done
    exit "$rc"
    ;;
  *) usage ;;
esac
