#!/usr/bin/env bash
# Run the wallet for development: a local PostgreSQL 15 cluster with the enterprise profile
# (config/postgresql.conf), then `wallet migrate` and `wallet serve` on 127.0.0.1:8080 with
# config/development.toml. Needs only the Rust toolchain; installs PostgreSQL if absent.
#
#   scripts/run.sh [extra arguments for `wallet serve`]
#
# Environment:
#   WALLET_PG_PORT   port of the dev cluster on 127.0.0.1 (default 55432; not 5432)
#
# The cluster lives in .pgdata/dev (git-ignored) and keeps its data between runs; delete
# that directory to start over. Its log is .pgdata/dev/server.log. Ctrl-C, SIGTERM or a
# closed terminal stops the service gracefully (a second signal kills it), then the cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_LOG_PREFIX="[run]"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
log() { pg_log "$@"; }

port=${WALLET_PG_PORT:-55432}
datadir="$PWD/.pgdata/dev"
server_pid=""
stopping=0

# INT/TERM/HUP: while the service runs, ask it to stop and keep waiting for it (the main flow
# then exits with its status); before that, just leave with status $1 (128 + signal).
# shellcheck disable=SC2317 # (trap handler, invoked indirectly)
on_signal() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        if ((stopping)); then
            log "killing the service"
            kill -KILL "$server_pid" 2>/dev/null || true
        else
            log "stopping the service (signal again to kill it)"
            kill -TERM "$server_pid" 2>/dev/null || true
            stopping=1
        fi
        return 0
    fi
    exit "$1"
}

# shellcheck disable=SC2317 # (trap handler, invoked indirectly)
on_exit() {
    local status=$?
    trap - INT TERM HUP
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    # Only a cluster this run started: never one a concurrent run.sh is using.
    if ((PG_STARTED)); then
        pg_stop "$datadir"
    fi
    exit "$status"
}

trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP
trap on_exit EXIT

pg_ensure_binaries
pg_init "$datadir"
pg_start "$datadir" "$port"

log "building (cargo build --release)"
cargo build --release --bin wallet
wallet="${CARGO_TARGET_DIR:-target}/release/wallet"

export WALLET_CONFIG=config/development.toml
export WALLET__DATABASE__URL="postgres://wallet@127.0.0.1:$port/wallet"

log "migrating $WALLET__DATABASE__URL"
"$wallet" migrate

log "serving on http://127.0.0.1:8080 (Ctrl-C to stop)"
# Own process group (set -m): a Ctrl-C reaches this script only, which forwards exactly
# one SIGTERM, instead of the terminal signalling both.
set -m
"$wallet" serve "$@" &
server_pid=$!
set +m

status=0
wait "$server_pid" || status=$?
# A trapped signal interrupts `wait` (status > 128) while the service is still shutting
# down: wait again until it is gone (a zombie still answers kill -0 until reaped).
while kill -0 "$server_pid" 2>/dev/null; do
    status=0
    wait "$server_pid" || status=$?
done
# If the service exited while a trap ran, the last wait was the interrupted one: ask bash
# for the remembered status (127: none remembered, keep what we have).
if ((status > 128)); then
    next=0
    wait "$server_pid" || next=$?
    ((next == 127)) || status=$next
fi
server_pid=""
log "service exited (status $status)"
exit "$status"
