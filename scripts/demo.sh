#!/usr/bin/env bash
# README's first command: set everything up, import a sample Takeout for a demo
# user, and serve Datapunk on http://localhost:8000 (the nginx front, daphne
# processes behind it on unix sockets, and a Celery worker with beat). Ctrl-C stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

PORT="${PORT:-8000}"
DEMO_USER="${DEMO_USER:-demo}"
DEMO_PASSWORD="${DEMO_PASSWORD:-demo-password}"
mkdir -p var/log var/run

.venv/bin/python manage.py collectstatic --no-input -v 0
.venv/bin/python manage.py demo_user --username "$DEMO_USER" --password "$DEMO_PASSWORD"
if [ ! -f var/demo-takeout.zip ]; then
  .venv/bin/python manage.py make_sample_takeout var/demo-takeout.zip
fi
# Idempotent: a second run finds every record already there and adds nothing.
.venv/bin/python manage.py import_takeout var/demo-takeout.zip --user "$DEMO_USER" --sync
# The dashboard's daily series, now rather than when the worker gets to it.
.venv/bin/python manage.py refresh_aggregates --user "$DEMO_USER"

echo "[demo] starting the Celery worker (log: var/log/worker.log)"
.venv/bin/celery -A datapunk worker --beat --loglevel INFO --concurrency 2 >var/log/worker.log 2>&1 &
WORKER=$!
echo "[demo] starting the OwnTracks MQTT subscriber (log: var/log/mqtt.log)"
.venv/bin/python manage.py mqtt_subscribe >var/log/mqtt.log 2>&1 &
SUBSCRIBER=$!
# daphne listens on sockets only the front reaches: every request passes the
# front's body limits (scripts/front.conf.template). Several daphne processes
# (WEB_PROCESSES, default 2): one Python process uses one core at most, and
# the front spreads requests over them; the live feed reaches every process
# through Redis.
WEB_PROCESSES="${WEB_PROCESSES:-2}"
UPSTREAMS=()
DAPHNES=()
for n in $(seq 1 "$WEB_PROCESSES"); do
  SOCKET="$PWD/var/run/daphne-$n.sock"
  UPSTREAMS+=(--upstream "unix:$SOCKET")
  rm -f "$SOCKET"
  .venv/bin/daphne -u "$SOCKET" --proxy-headers datapunk.asgi:application 2>>var/log/web.log &
  DAPHNES+=($!)
done
FRONT_CONF=$(.venv/bin/python manage.py front_config --listen "127.0.0.1:$PORT" "${UPSTREAMS[@]}")
nginx -e "$PWD/var/log/front-error.log" -c "$FRONT_CONF" -g 'daemon off;' &
FRONT=$!
trap 'kill $WORKER $SUBSCRIBER $FRONT ${DAPHNES[*]} 2>/dev/null; wait $WORKER $SUBSCRIBER $FRONT ${DAPHNES[*]} 2>/dev/null' EXIT
trap 'exit 130' INT TERM

cat <<MSG

  Datapunk is running:  http://localhost:$PORT/
  sign in as            $DEMO_USER / $DEMO_PASSWORD
  admin                 http://localhost:$PORT/admin/
  API                   http://localhost:$PORT/api/   (docs: /api/docs/)
  health                http://localhost:$PORT/health/ready
  MQTT (OwnTracks)      ${MQTT_URL:-mqtt://127.0.0.1:1884}   (devices: /devices/)

MSG
echo "  ($WEB_PROCESSES daphne processes, log: var/log/web.log; Ctrl-C stops everything)"
# Until Ctrl-C, or until a daphne process stops (then everything stops: see the log).
status=0
wait -n "${DAPHNES[@]}" || status=$?
echo "[demo] a daphne process stopped (status $status); its log is var/log/web.log" >&2
exit "$status"
