#!/usr/bin/env bash
# Make sure a Redis answers on REDIS_URL's host and port; start one if none does.
# Usage: scripts/redis.sh [start|stop]
set -euo pipefail
URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
HOSTPORT="${URL#*://}"; HOSTPORT="${HOSTPORT#*@}"; HOSTPORT="${HOSTPORT%%/*}"
HOST="${HOSTPORT%%:*}"; PORT="${HOSTPORT##*:}"; [ "$PORT" = "$HOSTPORT" ] && PORT=6379
# HOME may be unset in a bare CI environment: ask the password database then.
CACHE="${DATAPUNK_CACHE:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache/datapunk}"
say() { echo "[redis] $*" >&2; }

answers() { redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null | grep -q PONG; }

case "${1:-start}" in
start)
  if answers; then exit 0; fi
  if ! command -v redis-server >/dev/null; then
    say "installing redis-server"; apt-get update -q >/dev/null && apt-get install -y -q redis-server >/dev/null
  fi
  case "$HOST" in 127.0.0.1|localhost) ;; *) say "no Redis answers at $HOST:$PORT and it is not local: start it there"; exit 1 ;; esac
  mkdir -p "$CACHE"
  say "starting redis-server on 127.0.0.1:$PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no \
    --dir "$CACHE" --logfile "$CACHE/redis-$PORT.log" --pidfile "$CACHE/redis-$PORT.pid"
  for _ in $(seq 1 40); do answers && exit 0; sleep 0.25; done
  say "redis did not answer; log: $CACHE/redis-$PORT.log"; exit 1 ;;
stop)
  redis-cli -h "$HOST" -p "$PORT" shutdown nosave 2>/dev/null || true ;;
*) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
