#!/usr/bin/env bash
# Shared PostgreSQL helpers for scripts/run.sh and scripts/test.sh. Source it; do not run it.
#
# A cluster here is a throw-away local one: a data directory of its own, trust auth on
# 127.0.0.1 and the unix socket (never expose it), superuser "postgres", a login role
# "wallet" (CREATEDB) owning a database "wallet" with pg_stat_statements. The server runs
# with config/postgresql.conf (the enterprise profile, copied into the data directory as
# postgresql.conf on every start), listening on 127.0.0.1:<port> only, its unix socket in
# the data directory and its log in <datadir>/server.log.
#
# PostgreSQL refuses to run as root; when the caller is root, initdb/pg_ctl/postgres run
# as the "postgres" system user (runuser) and the data directory belongs to it.
#
# Callers set PG_LOG_PREFIX (e.g. "[run]") for log lines. PG_STARTED becomes 1 once pg_start
# has launched a server: clean-up should stop only a cluster it started. Functions:
#   pg_ensure_binaries       sets PG_BIN (newest /usr/lib/postgresql/*/bin), installs if absent
#   pg_init DATADIR          initdb, unless DATADIR already holds a cluster
#   pg_start DATADIR PORT    start, wait for pg_isready, create role/db/extension (idempotent)
#   pg_stop DATADIR          fast shutdown, if running
#   pg_remove DATADIR        stop, then delete DATADIR
#   pg_psql PORT ARGS...     psql as superuser "postgres" over 127.0.0.1

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    echo "scripts/pg.sh is a library: source it from scripts/run.sh or scripts/test.sh" >&2
    exit 1
fi
set -euo pipefail

PG_LOG_PREFIX=${PG_LOG_PREFIX:-[pg]}
PG_REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONF_FILE="$PG_REPO_ROOT/config/postgresql.conf"
PG_OS_USER=postgres
PG_START_TIMEOUT_S=${PG_START_TIMEOUT_S:-60}
PG_STOP_TIMEOUT_S=${PG_STOP_TIMEOUT_S:-60}
PG_BIN=""
# shellcheck disable=SC2034 # (read by the sourcing scripts)
PG_STARTED=0

# Never fails: cleanup on exit must go on when the terminal (stderr) is already gone.
pg_log() { printf '%s %s\n' "$PG_LOG_PREFIX" "$*" >&2 || true; }
pg_die() {
    pg_log "error: $*"
    exit 1
}

pg__is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a command as the cluster owner: the postgres system user under root, else ourselves.
# cwd is / so tools run as postgres never trip over a directory they cannot read.
pg__as_owner() {
    if pg__is_root; then
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        "$@"
    fi
}

pg__newest_bin() {
    local candidates=(/usr/lib/postgresql/*/bin/postgres)
    [[ -x ${candidates[0]} ]] || return 1
    dirname "$(printf '%s\n' "${candidates[@]}" | sort -V | tail -n 1)"
}

pg__apt_install() {
    local sudo=()
    pg__is_root || sudo=(sudo)
    # No "main" cluster on 5432 from the Debian package: the scripts make their own.
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        "${sudo[@]}" mkdir -p /etc/postgresql-common
        echo 'create_main_cluster = false' | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    pg_log "apt-get install $*"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y "$@"
}

pg__stat_statements_present() {
    [[ -f "$("$PG_BIN/pg_config" --sharedir)/extension/pg_stat_statements.control" ]]
}

pg_ensure_binaries() {
    if ! PG_BIN=$(pg__newest_bin); then
        pg_log "PostgreSQL server binaries not found"
        pg__apt_install postgresql postgresql-contrib
        PG_BIN=$(pg__newest_bin) || pg_die "postgresql installed but no /usr/lib/postgresql/*/bin/postgres"
    fi
    if ! pg__stat_statements_present; then
        # Debian 12 ships contrib inside postgresql-NN; older layouts split it out.
        local major
        major=$(basename "$(dirname "$PG_BIN")")
        pg_log "pg_stat_statements not found for PostgreSQL $major"
        if apt-cache show "postgresql-contrib-$major" >/dev/null 2>&1; then
            pg__apt_install "postgresql-contrib-$major"
        else
            pg__apt_install postgresql-contrib
        fi
        pg__stat_statements_present || pg_die "pg_stat_statements is still missing for PostgreSQL $major"
    fi
    pg_log "using $("$PG_BIN/postgres" --version) from $PG_BIN"
}

# The postgres system user (Debian's package creates it; a bare machine may not have it).
pg__ensure_os_user() {
    pg__is_root || return 0
    id -u "$PG_OS_USER" >/dev/null 2>&1 && return 0
    pg_log "creating system user $PG_OS_USER"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash "$PG_OS_USER"
}

# Every ancestor of DIR must be searchable by the cluster owner, or postgres cannot reach
# its data directory. Adds o+x (search only, not read) where it is missing.
pg__ensure_traversable() {
    pg__is_root || return 0
    local dir=$1 path="" part
    local -a parts
    IFS=/ read -r -a parts <<<"${dir#/}"
    for part in "${parts[@]}"; do
        path="$path/$part"
        if ! runuser -u "$PG_OS_USER" -- test -x "$path"; then
            pg_log "chmod o+x $path (so $PG_OS_USER can reach the data directory)"
            chmod o+x "$path"
        fi
    done
}

# Absolute path without requiring it to exist; refuses characters pg_ctl -o cannot carry.
pg__abs() {
    local dir=$1
    [[ $dir == /* ]] || dir="$PWD/$dir"
    [[ $dir != *[[:space:]\"\'\\]* ]] || pg_die "data directory path must not contain spaces or quotes: $dir"
    printf '%s\n' "$dir"
}

pg_init() {
    local datadir
    datadir=$(pg__abs "$1")
    [[ -n $PG_BIN ]] || pg_die "pg_ensure_binaries first"
    if [[ -f $datadir/PG_VERSION ]]; then
        pg_log "cluster exists in $datadir (PostgreSQL $(<"$datadir/PG_VERSION"))"
        return 0
    fi
    pg__ensure_os_user
    mkdir -p "$(dirname "$datadir")"
    pg__ensure_traversable "$(dirname "$datadir")"
    mkdir -p "$datadir"
    [[ -z $(ls -A "$datadir") ]] || pg_die "$datadir is not empty and holds no cluster; remove it"
    pg__is_root && chown "$PG_OS_USER:" "$datadir"
    chmod 700 "$datadir"
    pg_log "initdb in $datadir"
    local out
    if ! out=$(pg__as_owner "$PG_BIN/initdb" --pgdata="$datadir" --username=postgres \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=trust 2>&1); then
        printf '%s\n' "$out" >&2
        pg_die "initdb failed"
    fi
    # Keep initdb's generated file for reference; ours replaces it on every start.
    pg__as_owner mv "$datadir/postgresql.conf" "$datadir/postgresql.conf.initdb"
}

# The PID of the postmaster serving DATADIR, if one is running. postmaster.pid alone is not
# proof: a crash (kill -9, power off) leaves it behind, and in a container its PID is often
# reused by an unrelated process. It counts only if that process is a postgres started on
# this data directory.
pg__running_pid() {
    local datadir=$1 pid cmdline
    [[ -f $datadir/postmaster.pid ]] || return 1
    pid=$(head -n 1 "$datadir/postmaster.pid")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline") || return 1
    [[ $cmdline == *postgres* && " $cmdline " == *" $datadir "* ]] || return 1
    echo "$pid"
}

# Refuse a running cluster; otherwise drop what a crash left behind, which postgres would
# trip over when the PID in it was reused. (Orphaned backends are still caught: postgres
# refuses to start while they hold the old shared memory, found by the data directory.)
pg__clear_stale_state() {
    local datadir=$1 pid
    if pid=$(pg__running_pid "$datadir"); then
        pg_die "cluster in $datadir is already running (pid $pid); stop it first: $PG_BIN/pg_ctl stop -D $datadir"
    fi
    if [[ -f $datadir/postmaster.pid ]]; then
        pg_log "removing stale postmaster.pid (its server is not running)"
        rm -f -- "$datadir/postmaster.pid"
    fi
    # The socket directory is the data directory: nothing else lives there.
    rm -f -- "$datadir"/.s.PGSQL.*
}

pg__log_tail() {
    local log=$1
    [[ -f $log ]] || return 0
    pg_log "last lines of $log:"
    tail -n 30 "$log" >&2
}

pg_start() {
    local datadir port log
    datadir=$(pg__abs "$1")
    port=$2
    log="$datadir/server.log"
    [[ -n $PG_BIN ]] || pg_die "pg_ensure_binaries first"
    [[ $port =~ ^[0-9]+$ && $port -ne 5432 ]] || pg_die "port must be a number other than 5432: $port"
    [[ -f $datadir/PG_VERSION ]] || pg_die "no cluster in $datadir; pg_init first"
    # sun_path holds 107 bytes; the socket lives in the data directory.
    local socket="$datadir/.s.PGSQL.$port"
    ((${#socket} <= 100)) || pg_die "path too long for a unix socket ($socket); use a shorter data directory"
    pg__ensure_traversable "$(dirname "$datadir")"
    pg__clear_stale_state "$datadir"

    # Same file as docker-compose; copied so the server never needs to read the repo.
    pg__as_owner cp "$PG_CONF_FILE" "$datadir/postgresql.conf"
    pg_log "starting PostgreSQL on 127.0.0.1:$port (data $datadir, log $log)"
    if ! pg__as_owner "$PG_BIN/pg_ctl" start --pgdata="$datadir" --log="$log" --no-wait \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$datadir" >/dev/null; then
        pg__log_tail "$log"
        pg_die "pg_ctl start failed"
    fi
    # shellcheck disable=SC2034 # (read by the sourcing scripts)
    PG_STARTED=1

    local started=$SECONDS
    until "$PG_BIN/pg_isready" -q -t 2 -h 127.0.0.1 -p "$port" -d postgres -U postgres; do
        local failure=""
        if ((SECONDS - started >= PG_START_TIMEOUT_S)); then
            failure="did not become ready on 127.0.0.1:$port within ${PG_START_TIMEOUT_S}s"
        elif ((SECONDS - started >= 2)) && ! pg__running_pid "$datadir" >/dev/null; then
            # (after a grace period: postmaster.pid appears a moment after pg_ctl returns)
            failure="exited during start-up"
        fi
        if [[ -n $failure ]]; then
            pg__log_tail "$log"
            pg__as_owner "$PG_BIN/pg_ctl" stop --pgdata="$datadir" -m immediate >/dev/null 2>&1 || true
            pg_die "PostgreSQL $failure"
        fi
        sleep 0.2
    done
    pg_log "PostgreSQL is ready on 127.0.0.1:$port"
    pg__provision "$port"
}

pg_psql() {
    local port=$1
    shift
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

# Role "wallet" (login, createdb), database "wallet" owned by it, pg_stat_statements in it.
# Idempotent, so it runs on every start.
pg__provision() {
    local port=$1
    local -x PGOPTIONS="-c client_min_messages=warning"
    pg_psql "$port" -d postgres <<'SQL'
SELECT 'CREATE ROLE wallet LOGIN CREATEDB'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wallet') \gexec
SELECT 'CREATE DATABASE wallet OWNER wallet'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'wallet') \gexec
SQL
    pg_psql "$port" -d wallet -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'
}

pg_stop() {
    local datadir
    datadir=$(pg__abs "$1")
    if [[ -z $PG_BIN ]] || ! pg__running_pid "$datadir" >/dev/null; then
        return 0
    fi
    pg_log "stopping PostgreSQL ($datadir)"
    if ! pg__as_owner "$PG_BIN/pg_ctl" stop --pgdata="$datadir" -m fast --wait \
        --timeout="$PG_STOP_TIMEOUT_S" >/dev/null; then
        pg_log "fast shutdown timed out; shutting down immediately"
        pg__as_owner "$PG_BIN/pg_ctl" stop --pgdata="$datadir" -m immediate --wait >/dev/null || true
    fi
}

pg_remove() {
    local datadir
    datadir=$(pg__abs "$1")
    pg_stop "$datadir"
    pg_log "removing $datadir"
    rm -rf -- "$datadir"
}
