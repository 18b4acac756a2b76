#!/usr/bin/env bash
# Run the whole test suite against a throw-away PostgreSQL 15 cluster with the enterprise
# profile (config/postgresql.conf). Installs PostgreSQL if absent.
#
#   scripts/test.sh [extra arguments for `cargo nextest run` / `cargo test`]
#
# Uses cargo-nextest when installed, else cargo test; exits with the tests' status.
# Exports WALLET_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:<port>/postgres (a
# superuser: the test harness creates one database per test from it).
#
# Environment:
#   WALLET_TEST_PG_PORT   port on 127.0.0.1 (default: the first free one from 55433)
#   WALLET_TEST_KEEP_PG   set to 1 to keep the cluster's directory (and log) afterwards
#
# The cluster lives in a fresh .pgdata/test-XXXXXX (git-ignored) and is stopped and removed
# on exit, whatever the outcome.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_LOG_PREFIX="[test]"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
log() { pg_log "$@"; }

# Something answers on 127.0.0.1:PORT (bash's /dev/tcp, no extra tools).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port
    for ((port = 55433; port < 55533; port++)); do
        port_in_use "$port" || {
            echo "$port"
            return 0
        }
    done
    pg_die "no free port in 55433-55532; set WALLET_TEST_PG_PORT"
}

mkdir -p .pgdata
datadir=$(mktemp -d "$PWD/.pgdata/test-XXXXXX")

# shellcheck disable=SC2317 # (trap handler, invoked indirectly)
on_exit() {
    local status=$?
    if [[ ${WALLET_TEST_KEEP_PG:-} == 1 ]]; then
        pg_stop "$datadir"
        log "kept $datadir (log: $datadir/server.log)"
    else
        pg_remove "$datadir"
    fi
    exit "$status"
}
trap on_exit EXIT
# Signals end the script through the EXIT trap, so the cluster goes too.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

pg_ensure_binaries
port=${WALLET_TEST_PG_PORT:-$(free_port)}
pg_init "$datadir"
pg_start "$datadir" "$port"

export WALLET_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
log "WALLET_TEST_DATABASE_URL=$WALLET_TEST_DATABASE_URL"

if cargo nextest --version >/dev/null 2>&1; then
    log "cargo nextest run --all-targets $*"
    cargo nextest run --all-targets "$@"
else
    log "cargo test --all-targets $*"
    cargo test --all-targets "$@"
fi
