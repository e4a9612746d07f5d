#!/usr/bin/env bash
# Restore the local PostgreSQL (scripts/postgres.sh's cluster) from pgBackRest.
#
#   scripts/restore.sh --yes [--target 'YYYY-MM-DD HH:MM:SS+00'] [--set LABEL]
#       Stop the cluster, restore it in place (only files that differ are
#       rewritten: --delta), replay archived WAL up to the target time (or to
#       the end of the archive), start it, and put back the uploaded Takeout
#       parts saved beside the backup. Everything written after the target is
#       gone from the database afterwards: that is the point of a point-in-time
#       recovery. Take a full backup afterwards (manage.py backup --full).
#
#   scripts/restore.sh --scratch NAME --port PORT [--target ...] [--set LABEL]
#       Restore into a new data directory inside the root (/var/tmp/datapunk-restore-NAME)
#       and start a second server on 127.0.0.1:PORT from it, leaving the running
#       cluster alone: for a restore drill, or to fetch rows you deleted by mistake.
#       WAL archiving is off there, so it never writes into the repository.
#       --only-database DB restores that one database (and the catalogs): quicker on a big
#       cluster; the other databases are listed but cannot be opened there.
#   scripts/restore.sh --scratch-remove NAME
#       Stop that server and delete its data directory.
#
# Times are PostgreSQL timestamps; give the zone (`+00` for UTC). Prints the
# restored server's DATABASE_URL-style address on stdout, everything else on stderr.
# DATAPUNK_PG_CLUSTER / DATAPUNK_PG_PORT pick the cluster, as for postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[restore] $*" >&2; }
die() { say "$*"; exit 1; }

POSTGRES=(bash scripts/postgres.sh)
ROOT="$("${POSTGRES[@]}" root)"
STANZA="$("${POSTGRES[@]}" stanza)"
CLUSTER="${DATAPUNK_PG_CLUSTER:-main}"
UPLOAD_DIR="${DATAPUNK_UPLOAD_DIR:-$PWD/var/uploads}"
UPLOAD_BACKUPS="${DATAPUNK_BACKUP_UPLOADS_DIR:-$PWD/var/backups/uploads}"
BIN=/usr/lib/postgresql/17/bin

target="" set_label="" scratch="" scratch_remove="" port="" yes=0 only_db=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a time}"; shift 2 ;;
    --set) set_label="${2:?--set needs a backup label}"; shift 2 ;;
    --scratch) scratch="${2:?--scratch needs a name}"; shift 2 ;;
    --scratch-remove) scratch_remove="${2:?--scratch-remove needs a name}"; shift 2 ;;
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --only-database) only_db="${2:?--only-database needs a database name}"; shift 2 ;;
    --yes) yes=1; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ "$(id -u)" = 0 ] || die "run as root (the server lives in a chroot)"
in_root() { chroot "$ROOT" "$@"; }
as_postgres() { in_root runuser -u postgres -- "$@"; }
pgbackrest() { "${POSTGRES[@]}" pgbackrest --stanza="$STANZA" "$@"; }

recovery_options=()
if [ -n "$target" ]; then
  target="${target/T/ }"  # ISO 8601's T: pgBackRest wants a space
  recovery_options+=(--type=time "--target=$target" --target-action=promote)
fi
if [ -n "$set_label" ]; then recovery_options+=("--set=$set_label"); fi

scratch_dir() {
  [[ "$1" =~ ^[A-Za-z0-9_-]+$ ]] || die "a scratch name is letters, digits, - and _ only"
  echo "/var/tmp/datapunk-restore-$1"
}

if [ -n "$scratch_remove" ]; then
  dir="$(scratch_dir "$scratch_remove")"
  if [ -f "$ROOT$dir/postmaster.pid" ]; then
    as_postgres "$BIN/pg_ctl" -D "$dir" -m immediate -w stop >&2 || true
  fi
  rm -rf "${ROOT:?}$dir" "${ROOT:?}$dir-spool"
  say "removed $dir"
  exit 0
fi

if [ -n "$scratch" ]; then
  [[ "$port" =~ ^[0-9]+$ ]] || die "--scratch needs --port PORT"
  dir="$(scratch_dir "$scratch")"
  [ ! -e "$ROOT$dir" ] || die "$dir exists; remove it first with --scratch-remove $scratch"
  mkdir -p "$ROOT$dir" "$ROOT$dir-spool"; chmod 700 "$ROOT$dir"
  in_root chown postgres:postgres "$dir" "$dir-spool"
  if [ -n "$only_db" ]; then recovery_options+=("--db-include=$only_db"); fi
  say "restoring $STANZA into $dir ${target:+up to $target}"
  # archive-mode=off: the copy must never push WAL (a new timeline) into the real repository.
  # A spool folder of its own: restore empties the stanza's spool, and the running
  # cluster's asynchronous archive-push is writing there ("Directory not empty").
  pgbackrest --pg1-path="$dir" --spool-path="$dir-spool" --archive-mode=off --log-level-console=warn restore "${recovery_options[@]}" >&2 \
    || die "pgbackrest restore failed (see above)"
  # Debian keeps these outside the data directory, so the backup has none.
  # max_connections matches the primary's: WAL replay refuses a smaller one.
  cat >"$ROOT$dir/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '/var/run/postgresql'
shared_preload_libraries = 'timescaledb'
dynamic_shared_memory_type = mmap
timescaledb.telemetry_level = off
max_connections = 200
archive_mode = off
CONF
  printf 'local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$ROOT$dir/pg_hba.conf"
  : >"$ROOT$dir/pg_ident.conf"
  in_root chown postgres:postgres "$dir/postgresql.conf" "$dir/pg_hba.conf" "$dir/pg_ident.conf"
  say "starting the restored server on 127.0.0.1:$port (replaying WAL)"
  as_postgres "$BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 300 start >&2 \
    || { tail -n 20 "$ROOT$dir/server.log" >&2; die "the restored server did not start"; }
  # Hot standby answers during recovery: wait until it has promoted.
  for _ in $(seq 1 600); do
    state="$(as_postgres psql -h /var/run/postgresql -p "$port" -qAtc 'select pg_is_in_recovery()' 2>/dev/null || true)"
    [ "$state" = f ] && break
    sleep 0.5
  done
  [ "$state" = f ] || { tail -n 20 "$ROOT$dir/server.log" >&2; die "recovery did not finish"; }
  say "restored; remove with: scripts/restore.sh --scratch-remove $scratch"
  echo "postgres://127.0.0.1:$port"
  exit 0
fi

[ -z "$only_db" ] || die "--only-database is for --scratch only: in place it would leave the other databases unusable"
[ "$yes" = 1 ] || die "this replaces the $CLUSTER cluster's data with the backup's; run again with --yes"
pgbackrest info >/dev/null || die "the repository cannot be read (see above)"
say "stopping the $CLUSTER cluster"
"${POSTGRES[@]}" stop
say "restoring $STANZA in place ${target:+up to $target}"
pgbackrest --delta --log-level-console=warn restore "${recovery_options[@]}" >&2 \
  || die "pgbackrest restore failed (see above); the cluster is stopped, its files partly restored: fix the cause and run this again"
in_root pg_ctlcluster 17 "$CLUSTER" start >&2
for _ in $(seq 1 600); do
  state="$(as_postgres psql -p "${DATAPUNK_PG_PORT:-5417}" -qAtc 'select pg_is_in_recovery()' 2>/dev/null || true)"
  [ "$state" = f ] && break
  sleep 0.5
done
[ "$state" = f ] || die "recovery did not finish; see $ROOT/var/log/postgresql/postgresql-17-$CLUSTER.log"

# Uploaded parts: the snapshot saved with the newest backup that is not newer than
# the restore target (label times are UTC). Files are added or replaced, never deleted.
snapshot="" best=0
if [ -d "$UPLOAD_BACKUPS" ]; then
  limit="$(date -u +%s)"
  if [ -n "$target" ]; then limit="$(date -u -d "$target" +%s)"; fi
  for candidate in "$UPLOAD_BACKUPS"/*/; do
    candidate="$(basename "$candidate")"
    [ -d "$UPLOAD_BACKUPS/$candidate" ] || continue
    if [ -n "$set_label" ]; then [ "$candidate" = "$set_label" ] && snapshot="$candidate"; continue; fi
    # A label's own time: 20261201-031525F, or after the "_" of an incremental's.
    stamp="${candidate##*_}"; stamp="${stamp%[FDI]}"
    when="$(date -u -d "${stamp:0:4}-${stamp:4:2}-${stamp:6:2} ${stamp:9:2}:${stamp:11:2}:${stamp:13:2}Z" +%s 2>/dev/null)" || continue
    if [ "$when" -le "$limit" ] && [ "$when" -gt "$best" ]; then snapshot="$candidate" best="$when"; fi
  done
fi
if [ -n "$snapshot" ]; then
  mkdir -p "$UPLOAD_DIR"
  cp -a "$UPLOAD_BACKUPS/$snapshot/." "$UPLOAD_DIR/"
  say "uploaded parts restored from $UPLOAD_BACKUPS/$snapshot into $UPLOAD_DIR"
else
  say "no upload snapshot found for this restore in $UPLOAD_BACKUPS; uploaded parts left as they are"
fi
say "done. Take a full backup now: .venv/bin/python manage.py backup --full"
"${POSTGRES[@]}" url
