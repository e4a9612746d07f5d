#!/usr/bin/env bash
# Provision and start PostgreSQL 17 with PostGIS, pgvector and TimescaleDB.
#
# Debian bookworm (this project's reference machine) ships none of pgvector or
# TimescaleDB for PostgreSQL 17, Debian trixie ships all three, so we build a
# small trixie root with debootstrap and run Debian's own server packages in it.
# The root is cached outside the clone (DATAPUNK_CACHE, default ~/.cache/datapunk)
# so later runs and CI reuse it. Idempotent: every step checks before it acts.
#
# WAL archiving and backups: pgBackRest (Debian's package, in the same root) runs
# as the postgres user inside the root, with its repository at /var/lib/pgbackrest
# in the root (see README, "Backup and restore"). Each cluster is its own stanza,
# `datapunk-<cluster>`.
#
# Usage: scripts/postgres.sh [start|stop|status|url|pgbackrest ARGS...]
# DATAPUNK_PG_CLUSTER and DATAPUNK_PG_PORT (default main, 5417) pick another cluster
# in the same root (created with pg_createcluster on first start).
set -euo pipefail

# HOME may be unset in a bare CI environment: ask the password database then.
CACHE="${DATAPUNK_CACHE:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache/datapunk}"
ROOT="$CACHE/pg17-trixie"
PORT="${DATAPUNK_PG_PORT:-5417}"
CLUSTER="${DATAPUNK_PG_CLUSTER:-main}"
STANZA="datapunk-$CLUSTER"
# A host folder for the backup repository (e.g. an external disk): bind-mounted at
# /var/lib/pgbackrest inside the root, where pgBackRest (running in the root) sees it.
BACKUP_DIR="${DATAPUNK_BACKUP_DIR:-}"
DB_NAME="${DATAPUNK_DB_NAME:-datapunk}"
DB_USER="${DATAPUNK_DB_USER:-datapunk}"
DB_PASSWORD="${DATAPUNK_DB_PASSWORD:-datapunk}"
MIRROR="${DATAPUNK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="postgresql-17 postgresql-17-postgis-3 postgresql-17-pgvector postgresql-17-timescaledb"
CONF="$ROOT/etc/postgresql/17/$CLUSTER"

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

# Apart from the ready stamp so that a root built before backups existed gets it too.
install_pgbackrest() {
  if [ -x "$ROOT/usr/bin/pgbackrest" ]; then return; fi
  require_root
  mount_proc
  say "installing pgbackrest"
  { in_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends pgbackrest; } >>"$CACHE/apt.log" 2>&1 \
    || { say "pgbackrest install failed, see $CACHE/apt.log"; exit 1; }
  in_root apt-get clean
}

ensure_cluster() {
  if [ -f "$CONF/postgresql.conf" ]; then return; fi
  say "creating cluster 17/$CLUSTER on port $PORT"
  in_root pg_createcluster 17 "$CLUSTER" -p "$PORT" >/dev/null
}

mount_backup_dir() {
  mkdir -p "$ROOT/var/lib/pgbackrest"
  if [ -n "$BACKUP_DIR" ] && ! mountpoint -q "$ROOT/var/lib/pgbackrest"; then
    mkdir -p "$BACKUP_DIR"
    mount --bind "$BACKUP_DIR" "$ROOT/var/lib/pgbackrest"
  fi
  in_root chown postgres:postgres /var/lib/pgbackrest
}

# pgBackRest's configuration inside the root. pgbackrest.conf is ours (rewritten
# when it differs); conf.d/repo.conf says where the repository is and is written
# once, then left to the owner (S3 settings go there); one file per cluster's stanza.
configure_pgbackrest() {
  local etc="$ROOT/etc/pgbackrest" global stanza
  mkdir -p "$etc/conf.d" "$ROOT/var/spool/pgbackrest" "$ROOT/var/log/pgbackrest"
  in_root chown postgres:postgres /var/spool/pgbackrest /var/log/pgbackrest
  global=$(cat <<CONFEOF
# datapunk: managed by scripts/postgres.sh; put your own settings in conf.d/
[global]
# archive-push returns at once and a background process ships the WAL.
archive-async=y
spool-path=/var/spool/pgbackrest
# If the repository is missing, full or unwritable, WAL would pile up in pg_wal
# until the server's disk fills and the lake stops. Past this much queued WAL,
# pgBackRest drops it (with a warning) and reports success: imports go on, and
# point-in-time recovery has a gap until the next full backup.
archive-push-queue-max=4GiB
compress-type=lz4
start-fast=y
log-level-file=info
log-path=/var/log/pgbackrest
CONFEOF
)
  [ "$(cat "$etc/pgbackrest.conf" 2>/dev/null)" = "$global" ] || echo "$global" >"$etc/pgbackrest.conf"
  if [ ! -f "$etc/conf.d/repo.conf" ]; then
    cat >"$etc/conf.d/repo.conf" <<'CONFEOF'
# Where backups and archived WAL go. Written once by scripts/postgres.sh, then yours.
# A local folder inside this root (or bind-mounted there with DATAPUNK_BACKUP_DIR):
[global]
repo1-path=/var/lib/pgbackrest
# Or an S3-compatible store instead (MinIO, Backblaze B2, AWS...): replace the line
# above with these, then run `scripts/postgres.sh pgbackrest --stanza=datapunk-main stanza-create`:
# repo1-type=s3
# repo1-path=/datapunk
# repo1-s3-bucket=my-bucket
# repo1-s3-endpoint=s3.example.com
# repo1-s3-region=us-east-1
# repo1-s3-key=ACCESS_KEY
# repo1-s3-key-secret=SECRET_KEY
# repo1-s3-uri-style=path
# repo1-cipher-type=aes-256-cbc
# repo1-cipher-pass=A_LONG_RANDOM_PASSPHRASE
CONFEOF
  fi
  stanza=$(printf '[%s]\npg1-path=/var/lib/postgresql/17/%s\npg1-port=%s\npg1-socket-path=/var/run/postgresql\n' "$STANZA" "$CLUSTER" "$PORT")
  [ "$(cat "$etc/conf.d/stanza-$CLUSTER.conf" 2>/dev/null)" = "$stanza" ] || echo "$stanza" >"$etc/conf.d/stanza-$CLUSTER.conf"
  chmod 640 "$etc/conf.d/repo.conf"; in_root chown -R root:postgres /etc/pgbackrest
}

# Idempotent (pgBackRest checks the repository against the cluster). A failure is
# reported, not fatal: the database works without backups, /health/ready says so.
ensure_stanza() {
  if ! out=$(in_root runuser -u postgres -- pgbackrest --stanza="$STANZA" stanza-create 2>&1); then
    say "pgbackrest stanza-create failed (backups will fail until this is fixed):"
    echo "$out" | grep -E 'ERROR|WARN' >&2 || echo "$out" >&2
  fi
}

pgbackrest_run() {
  if [ ! -x "$ROOT/usr/bin/pgbackrest" ]; then
    say "ERROR: [000]: pgBackRest is not installed in $ROOT: run scripts/postgres.sh start, or set DATAPUNK_PGBACKREST_COMMAND for a server of your own"
    exit 1
  fi
  mount_proc
  mount_backup_dir
  in_root runuser -u postgres -- pgbackrest "$@"
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
# WAL archiving to pgBackRest (point-in-time recovery between backups)
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --stanza=$STANZA archive-push %p'
# a quiet lake still ships its last changes within five minutes
archive_timeout = 300
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

is_running() { in_root pg_ctlcluster 17 "$CLUSTER" status >/dev/null 2>&1; }

start() {
  CHANGED=0
  build_root
  install_pgbackrest
  mount_proc
  mount_backup_dir
  ensure_cluster
  configure
  configure_pgbackrest
  if is_running && [ "$CHANGED" = 1 ]; then
    say "configuration changed, restarting"
    in_root pg_ctlcluster 17 "$CLUSTER" restart
  elif ! is_running; then
    say "starting PostgreSQL 17 ($CLUSTER) on 127.0.0.1:$PORT"
    in_root pg_ctlcluster 17 "$CLUSTER" start
  fi
  wait_ready
  ensure_database
  ensure_stanza
}

wait_ready() {
  for _ in $(seq 1 60); do
    in_root pg_isready -q -h 127.0.0.1 -p "$PORT" && return 0
    sleep 0.5
  done
  say "server did not become ready; log: $ROOT/var/log/postgresql/postgresql-17-$CLUSTER.log"
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
  if [ -d "$ROOT" ] && is_running; then in_root pg_ctlcluster 17 "$CLUSTER" stop; fi
}

case "${1:-start}" in
  # Only the URL goes to stdout (callers capture it); everything else to stderr.
  start) start >&2; database_url ;;
  stop) stop >&2 ;;
  status) if is_running; then echo running; else echo stopped; exit 3; fi ;;
  url) database_url ;;
  # pgBackRest as the server's user inside the root; its output is the caller's.
  pgbackrest) shift; pgbackrest_run "$@" ;;
  stanza) echo "$STANZA" ;;
  root) echo "$ROOT" ;;
  *) echo "usage: $0 [start|stop|status|url|pgbackrest ARGS...|stanza|root]" >&2; exit 2 ;;
esac
