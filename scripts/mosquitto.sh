#!/usr/bin/env bash
# Make sure an MQTT broker answers on MQTT_URL's host and port; start Mosquitto if none does.
# Its configuration, logins and persistence live in MQTT_AUTH_DIR (default var/mosquitto);
# the logins (passwd, acl) are written from the Devices table by `manage.py mqtt_auth`.
# Usage: scripts/mosquitto.sh [start|stop|run]   (run: in the foreground, for compose,
# reloading the logins whenever they change, since the app cannot signal another container)
set -euo pipefail
cd "$(dirname "$0")/.."
URL="${MQTT_URL:-mqtt://127.0.0.1:1884}"
HOSTPORT="${URL#*://}"; HOSTPORT="${HOSTPORT#*@}"; HOSTPORT="${HOSTPORT%%/*}"
HOST="${HOSTPORT%%:*}"; PORT="${HOSTPORT##*:}"; [ "$PORT" = "$HOSTPORT" ] && PORT=1883
DIR="${MQTT_AUTH_DIR:-$PWD/var/mosquitto}"
# Phones reach the broker from the network: MQTT_LISTEN=0.0.0.0 (compose sets it).
LISTEN="${MQTT_LISTEN:-127.0.0.1}"
say() { echo "[mosquitto] $*" >&2; }

answers() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }
# The pids listening on PORT (empty when ss is missing or shows no process).
listener_pids() {
  command -v ss >/dev/null || return 0
  ss -ltnpH "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

configure() {
  mkdir -p "$DIR"
  [ -f "$DIR/passwd" ] || install -m 600 /dev/null "$DIR/passwd"
  [ -f "$DIR/acl" ] || install -m 600 /dev/null "$DIR/acl"
  cat >"$DIR/mosquitto.conf" <<CONF
# Written by scripts/mosquitto.sh; edits are overwritten.
listener $PORT $LISTEN
allow_anonymous false
password_file $DIR/passwd
acl_file $DIR/acl
# The subscriber's session and what is queued for it survive a broker restart.
persistence true
persistence_location $DIR/
autosave_interval 10
# While the subscriber is down the broker queues every QoS 1 point for it
# (the default, 1000, would drop the rest); it acknowledges after each commit,
# so up to a batch's worth is in flight at once.
max_queued_messages 10000000
max_inflight_messages 1000
pid_file $DIR/mosquitto.pid
user $(id -un)
log_dest file $DIR/mosquitto.log
log_type error
log_type warning
log_type notice
CONF
}

case "${1:-start}" in
start)
  if answers; then
    case "$HOST" in
    127.0.0.1|localhost)
      # Ours only if the broker this script started (its pid file) is the one
      # holding the port. Anything else, Debian's own Mosquitto (/etc/mosquitto)
      # or another checkout's, does not read $DIR's logins: devices and the
      # subscriber would be refused ("Not authorized"), or let in unchecked.
      ours="$(cat "$DIR/mosquitto.pid" 2>/dev/null || true)"
      holder="$(listener_pids)"
      if [ -n "$ours" ] && kill -0 "$ours" 2>/dev/null \
        && { [ -z "$holder" ] || printf '%s\n' "$holder" | grep -qx "$ours"; }; then
        exit 0
      fi
      say "ERROR: port $PORT on $HOST is already held by another MQTT broker or program${holder:+ (pid $holder: $(tr '\0' ' ' <"/proc/${holder%%$'\n'*}/cmdline" 2>/dev/null | sed 's/ $//'))},"
      say "ERROR: not by the Mosquitto this script starts with $DIR/mosquitto.conf: it does not know Datapunk's device logins."
      say "ERROR: stop it (Debian's own: systemctl disable --now mosquitto), or set MQTT_URL to a free port (e.g. mqtt://127.0.0.1:1885)."
      exit 1 ;;
    esac
    exit 0  # a broker elsewhere (compose's service): its own script keeps its logins
  fi
  if ! command -v mosquitto >/dev/null; then
    say "installing mosquitto"; apt-get update -q >/dev/null && apt-get install -y -q mosquitto mosquitto-clients >/dev/null
  fi
  case "$HOST" in 127.0.0.1|localhost) ;; *) say "no MQTT broker answers at $HOST:$PORT and it is not local: start it there"; exit 1 ;; esac
  configure
  say "starting mosquitto on $LISTEN:$PORT"
  mosquitto -d -c "$DIR/mosquitto.conf"
  for _ in $(seq 1 40); do answers && exit 0; sleep 0.25; done
  say "mosquitto did not answer; log: $DIR/mosquitto.log"; exit 1 ;;
stop)
  if [ -f "$DIR/mosquitto.pid" ]; then kill "$(cat "$DIR/mosquitto.pid")" 2>/dev/null || true; fi ;;
run)
  configure
  sed -i "s|^log_dest file .*|log_dest stdout|; /^pid_file /d" "$DIR/mosquitto.conf"
  mosquitto -c "$DIR/mosquitto.conf" &
  BROKER=$!
  trap 'kill $BROKER 2>/dev/null' EXIT TERM INT
  seen="$(stat -c %i "$DIR/passwd" "$DIR/acl")"
  while kill -0 "$BROKER" 2>/dev/null; do
    sleep 1
    now="$(stat -c %i "$DIR/passwd" "$DIR/acl" 2>/dev/null || echo "$seen")"
    if [ "$now" != "$seen" ]; then seen="$now"; kill -HUP "$BROKER"; fi
  done
  wait "$BROKER" ;;
*) echo "usage: $0 [start|stop|run]" >&2; exit 2 ;;
esac
