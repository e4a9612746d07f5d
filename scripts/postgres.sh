#!/usr/bin/env bash
# Provision and start PostgreSQL 17 with PostGIS, pgvector and TimescaleDB.
#
# Debian bookworm (this project's reference machine) ships none of pgvector or
# TimescaleDB for PostgreSQL 17, Debian trixie ships all three, so we build a
# small trixie root with debootstrap and run Debian's own server packages in it.
# The root is cached outside the clone (DATAPUNK_CACHE, default ~/.cache/datapunk)
# so later runs and CI reuse it. Idempotent: every step checks before it acts.
#
# Usage: scripts/postgres.sh [start|stop|status|url]
set -euo pipefail

# HOME may be unset in a bare CI environment: ask the password database then.
CACHE="${DATAPUNK_CACHE:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache/datapunk}"
ROOT="$CACHE/pg17-trixie"
PORT="${DATAPUNK_PG_PORT:-5417}"
DB_NAME="${DATAPUNK_DB_NAME:-datapunk}"
DB_USER="${DATAPUNK_DB_USER:-datapunk}"
DB_PASSWORD="${DATAPUNK_DB_PASSWORD:-datapunk}"
MIRROR="${DATAPUNK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="postgresql-17 postgresql-17-postgis-3 postgresql-17-pgvector postgresql-17-timescaledb"
CONF="$ROOT/etc/postgresql/17/main"

say() { echo "[postgres] $*" >&2; }
in_root() { chroot "$ROOT" "$@"; }

database_url() { echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"; }

require_root() {
  if [ "$(id -u)" != 0 ]; then
    say "building the database root needs root (debootstrap, chroot). Run as root, or set DATABASE_URL to a server of your own."
    exit 1
  fi
}

build_root() {
  if [ -f "$ROOT/.datapunk-ready" ]; then return; fi
  require_root
  command -v debootstrap >/dev/null || { say "installing debootstrap"; apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null; }
  mkdir -p "$CACHE"
  if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
    say "building a Debian trixie root in $ROOT (once, about a minute)"
    rm -rf "$ROOT"
    debootstrap --variant=minbase trixie "$ROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { say "debootstrap failed, see $CACHE/debootstrap.log"; exit 1; }
  fi
  mount_proc
  say "installing $PACKAGES"
  # The server must not start from the package scripts: we configure it first.
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"; chmod +x "$ROOT/usr/sbin/policy-rc.d"
  in_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$CACHE/apt.log" 2>&1
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES >>"$CACHE/apt.log" 2>&1 \
    || { say "package install failed, see $CACHE/apt.log"; exit 1; }
  in_root apt-get clean
  touch "$ROOT/.datapunk-ready"
}

mount_proc() {
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
}

configure() {
  local want
  want=$(cat <<CONFEOF
# datapunk: managed by scripts/postgres.sh
port = $PORT
listen_addresses = '127.0.0.1'
shared_preload_libraries = 'timescaledb'
# a chroot has no /dev/shm of its own
dynamic_shared_memory_type = mmap
timescaledb.telemetry_level = off
max_connections = 200
CONFEOF
)
  mkdir -p "$CONF/conf.d"
  if [ "$(cat "$CONF/conf.d/datapunk.conf" 2>/dev/null)" != "$want" ]; then
    echo "$want" >"$CONF/conf.d/datapunk.conf"
    CHANGED=1
  fi
  if ! grep -q '^host all all 127.0.0.1/32 scram-sha-256 # datapunk' "$CONF/pg_hba.conf"; then
    echo 'host all all 127.0.0.1/32 scram-sha-256 # datapunk' >>"$CONF/pg_hba.conf"
    CHANGED=1
  fi
}

is_running() { in_root pg_ctlcluster 17 main status >/dev/null 2>&1; }

start() {
  CHANGED=0
  build_root
  mount_proc
  configure
  if is_running && [ "$CHANGED" = 1 ]; then
    say "configuration changed, restarting"
    in_root pg_ctlcluster 17 main restart
  elif ! is_running; then
    say "starting PostgreSQL 17 on 127.0.0.1:$PORT"
    in_root pg_ctlcluster 17 main start
  fi
  wait_ready
  ensure_database
}

wait_ready() {
  for _ in $(seq 1 60); do
    in_root pg_isready -q -h 127.0.0.1 -p "$PORT" && return 0
    sleep 0.5
  done
  say "server did not become ready; log: $ROOT/var/log/postgresql/postgresql-17-main.log"
  exit 1
}

psql_admin() { in_root su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -qAt $(printf '%q ' "$@")"; }

ensure_database() {
  if [ "$(psql_admin -c "select 1 from pg_roles where rolname='$DB_USER'")" != 1 ]; then
    say "creating role $DB_USER"
    # SUPERUSER: the test runner creates and drops its own database and the
    # extensions' owners; this server is local to the project.
    psql_admin -c "create role $DB_USER login superuser password '$DB_PASSWORD'"
  fi
  if [ "$(psql_admin -c "select 1 from pg_database where datname='$DB_NAME'")" != 1 ]; then
    say "creating database $DB_NAME"
    psql_admin -c "create database $DB_NAME owner $DB_USER"
  fi
}

stop() {
  if [ -d "$ROOT" ] && is_running; then in_root pg_ctlcluster 17 main stop; fi
}

case "${1:-start}" in
  # Only the URL goes to stdout (callers capture it); everything else to stderr.
  start) start >&2; database_url ;;
  stop) stop >&2 ;;
  status) if is_running; then echo running; else echo stopped; exit 3; fi ;;
  url) database_url ;;
  *) echo "usage: $0 [start|stop|status|url]" >&2; exit 2 ;;
esac
