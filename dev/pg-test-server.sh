#!/usr/bin/env bash
# A throw-away Postgres server for the tests that need a real one (pg-mode tests):
# a fresh cluster in a temp dir, on 127.0.0.1 and a free port, stopped and deleted by `stop`.
#
#   env=$(dev/pg-test-server.sh start) && eval "$env"   # exports the variables below
#   npm test                                             # now includes the pg-mode tests
#   dev/pg-test-server.sh reset                          # empty databases for another run
#   dev/pg-test-server.sh stop                           # uses $PG_TEST_DIR
#
# `start` prints `export` lines (stdout; everything else goes to stderr) for:
#   PG_TEST_DIR                 the cluster's folder (data/, log, socket), for `stop`
#   TEST_DATABASE_URL           superuser URL of the database `sync_test`
#                               (test/node/supabase-sql, the stand-in's persistence pg-mode test)
#   SUPABASE_LOCAL_TEST_PG_URL  superuser URL of the database `standin`
#                               (test/node/supabase-local run against Postgres instead of PGlite)
# and writes the same lines to $PG_TEST_DIR/env.
#
# Env: PG_BIN (folder of initdb/pg_ctl; default: the newest /usr/lib/postgresql/*/bin),
# PG_TEST_PORT (default: the first free port from 55432 on). Run as root, the cluster belongs
# to (and runs as) the `postgres` user, since root may not run Postgres. The server accepts
# TCP on 127.0.0.1 only, with a random password (in the URLs); durability is off (fsync=off).
set -euo pipefail

log() { printf 'pg-test-server: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

bindir() {
  local d=${PG_BIN:-}
  if [ -n "$d" ]; then
    [ -x "$d/initdb" ] || die "PG_BIN=$d has no initdb"
    printf '%s\n' "$d"
    return 0
  fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ] && command -v pg_config >/dev/null 2>&1; then d=$(pg_config --bindir); fi
  if [ -z "$d" ] && command -v initdb >/dev/null 2>&1; then d=$(dirname "$(command -v initdb)"); fi
  [ -n "$d" ] && [ -x "$d/initdb" ] || die "no Postgres found: apt-get install postgresql, or set PG_BIN"
  printf '%s\n' "$d"
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
# From inside the cluster folder, which that user can read (root's cwd often is not).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local bin password port tries
  bin=$(bindir)
  if [ "$(id -u)" = 0 ]; then
    getent passwd postgres >/dev/null || die "running as root needs a 'postgres' user (apt-get install postgresql creates it)"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pg-test.XXXXXX")
  touch "$dir/.pg-test-server"
  # Whatever fails from here on, leave nothing behind.
  trap 'if [ -z "$started" ]; then log "start failed; removing $dir"; stop_dir "$dir"; fi' EXIT
  [ "$(id -u)" = 0 ] && chown postgres: "$dir" && chmod 700 "$dir"

  password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$password" > "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >/dev/null
  rm -f "$dir/pwfile"
  cat >> "$dir/data/postgresql.conf" <<CONF
# pg-test-server: a throw-away test cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
CONF

  port=${PG_TEST_PORT:-55432}
  tries=0
  while :; do
    if [ -z "${PG_TEST_PORT:-}" ] && port_in_use "$port"; then
      port=$((port + 1))
    elif printf 'port = %s\n' "$port" >> "$dir/data/postgresql.conf" \
      && as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null; then
      break
    elif [ -n "${PG_TEST_PORT:-}" ] || [ "$tries" -ge 20 ]; then
      die "could not start Postgres; log: $(tail -n 20 "$dir/log" 2>/dev/null)"
    else
      tries=$((tries + 1))
      port=$((port + 1))
    fi
  done

  printf '%s\n' "$port" > "$dir/port"
  create_databases "$bin" "$port"

  local base="postgres://postgres:$password@127.0.0.1:$port"
  {
    printf 'export PG_TEST_DIR=%q\n' "$dir"
    printf 'export TEST_DATABASE_URL=%q\n' "$base/sync_test"
    printf 'export SUPABASE_LOCAL_TEST_PG_URL=%q\n' "$base/standin"
  } > "$dir/env"
  chmod 600 "$dir/env"
  cat "$dir/env"
  started=1
  log "Postgres $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, folder $dir (stop: $0 stop $dir)"
}

psql_admin() {
  local bin=$1 port=$2
  shift 2
  as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres "$@" >/dev/null
}

create_databases() {
  local db
  for db in sync_test standin; do psql_admin "$1" "$2" -c "create database $db"; done
}

# Drops every database the tests made (the stand-in's named ones are never dropped) and
# recreates the two empty ones, so the suites can run again on the same server.
reset_dir() {
  local bin port
  dir=$1
  [ -f "$dir/.pg-test-server" ] && [ -f "$dir/port" ] || die "$dir is not a running pg-test-server folder"
  bin=$(bindir)
  port=$(cat "$dir/port")
  printf '%s\n' "select format('drop database %I with (force)', datname) from pg_database where datname not in ('postgres', 'template0', 'template1') \\gexec" \
    | psql_admin "$bin" "$port"
  create_databases "$bin" "$port"
}

stop_dir() {
  local d=$1 bin
  [ -f "$d/.pg-test-server" ] || die "$d is not a pg-test-server folder; not touching it"
  bin=$(bindir)
  dir=$d
  if [ -f "$d/data/postmaster.pid" ] && ! as_owner "$bin/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1; then
    # pg_ctl could not (e.g. another version's): stop this cluster's postmaster by its pid.
    local pid
    pid=$(head -n 1 "$d/data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; then
      log "stopped postmaster $pid"
      sleep 1
    fi
  fi
  rm -rf -- "$d"
}

dir=
started=
case "${1:-}" in
  start) start ;;
  stop)
    target=${2:-${PG_TEST_DIR:-}}
    [ -n "$target" ] || die "usage: $0 stop [DIR] (or set PG_TEST_DIR)"
    [ -d "$target" ] || { log "$target is gone already"; exit 0; }
    stop_dir "$target"
    log "stopped and removed $target"
    ;;
  reset)
    target=${2:-${PG_TEST_DIR:-}}
    [ -n "$target" ] || die "usage: $0 reset [DIR] (or set PG_TEST_DIR)"
    reset_dir "$target"
    log "dropped the test databases in $target and created empty sync_test and standin"
    ;;
  *)
    printf 'usage: %s start | reset [DIR] | stop [DIR]\n' "$0" >&2
    exit 2
    ;;
esac
