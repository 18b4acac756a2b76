#!/usr/bin/env bash
# Benchmark the wallet side by side with raw PostgreSQL, on this machine, in one run:
#
#   scripts/bench.sh
#
# 1. a throw-away PostgreSQL cluster (scripts/pg.sh, enterprise profile) on its own port;
# 2. `cargo build --release`, then `wallet serve` against it (development config, demo
#    credentials, a pool sized for the machine);
# 3. pgbench with the minimal SQL a bet can cost (one SERIALIZABLE transaction: debit one
#    balance row guarded by `balance >= amount`, insert one ledger row), --max-tries;
# 4. `wallet loadgen`: sustained at the same concurrency and player count, the seed's
#    burst (waves of 100 simultaneous rounds), and a hot player (waves of 100 simultaneous
#    rounds on one player) next to pgbench on one row; then the sustained load again
#    through the Hub88 and the Evolution adapters (`--protocol hub88|evolution`);
#    then the sustained and burst loads on a process that reaches the database over its
#    Unix socket; then what those calls left on disk, per table and index, after VACUUM
#    ANALYZE (storage.txt in $BENCH_OUT);
# 5. a table of the results; JSON reports, pgbench logs and pg_stat_statements of the
#    sustained run stay in $BENCH_OUT (default: a fresh /tmp/wallet-bench-XXXXXX);
# 6. the same three loads through HAProxy (round robin; installed with apt when
#    missing) to one process and to two processes on the same database, in rounds of
#    four passes alternated one, two, two, one (each side the mean of its passes), with
#    the retries and stale reads of the processes, side by side; then a rolling restart
#    under load.
#
# Environment (defaults in brackets):
#   BENCH_PG_PORT [55450]  BENCH_HTTP_PORT [18450]  BENCH_CONCURRENCY [32]
#   BENCH_PLAYERS [1000]   BENCH_DURATION [20] (seconds per measurement)
#   BENCH_POOL [32] (wallet's pool_max_size: 16 left calls waiting ~20 ms for a connection)  BENCH_SEED [42]
#   BENCH_OUT [mktemp]     BENCH_SKIP_BUILD [unset]
#   BENCH_REPLICAS [1] (0 skips step 6)  BENCH_LB_PORT [18460]
#   BENCH_WAKE [unset] (1: also measure the two ways a win can learn of a bet another
#   process commits: the sustained and burst loads on two processes without the poll,
#   and the wallet's SQL under pgbench with a NOTIFY per commit group)
#   BENCH_LB_ROUNDS [1] (rounds of the four alternated passes one, two, two, one: each
#   side's figure is the mean of its 2 x BENCH_LB_ROUNDS passes)
#   BENCH_REPLICA_LANES [1] (commit lanes of each of the two processes: together as many
#   as the one process has, as the README advises for replicas)
#   BENCH_REPLICA_THREADS [1] (server.worker_threads of each of the two processes: the
#   machine's CPUs shared between them, as replicas with a CPU limit each; 0: one per CPU)
#   BENCH_ARCHIVE [unset] (1: after the storage line, the ledger written so far is moved
#   to the month before last and archived with `wallet archive`: its time, the file, the
#   check-ledger verdict and what stays per archived call)
#   BENCH_VOLUME [unset] (1: the volume line: the sustained load alternately on an empty
#   database and on one loaded with BENCH_VOLUME_CALLS [20000000] synthetic calls of
#   BENCH_VOLUME_PLAYERS [100000] players, twice each; loading 20 M takes about 20 min
#   and 15 GB here; each pass also reports WAL bytes, full-page images and shared-buffer
#   misses per call)  BENCH_VOLUME_DURATION [BENCH_DURATION] (seconds per volume pass:
#   the passes start right after a CHECKPOINT, so a short one measures only the start of
#   a checkpoint interval, when every first touch of a page writes it whole to WAL)
#   BENCH_VOLUME_SETTING [unset] (e.g. "wal_compression = lz4": the volume's passes
#   once more with this server setting; one that a reload applies)
#
# Everything started here (server, cluster) is stopped on exit, whatever the outcome.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_LOG_PREFIX="[bench]"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
log() { pg_log "$@"; }

pg_port=${BENCH_PG_PORT:-55450}
http_port=${BENCH_HTTP_PORT:-18450}
concurrency=${BENCH_CONCURRENCY:-32}
players=${BENCH_PLAYERS:-1000}
duration=${BENCH_DURATION:-20}
cores=$(nproc)
pool=${BENCH_POOL:-32}
seed=${BENCH_SEED:-42}
lb_rounds=${BENCH_LB_ROUNDS:-1}
[[ $lb_rounds =~ ^[1-9][0-9]*$ ]] || pg_die "BENCH_LB_ROUNDS must be a whole number of at least 1: $lb_rounds"
out=${BENCH_OUT:-$(mktemp -d /tmp/wallet-bench-XXXXXX)}
mkdir -p "$out"
# Short path: the unix socket lives in the data directory (107-byte limit).
datadir=$(mktemp -d /tmp/wbench-XXXXXX)/data
server_pid=""
second_pid=""
haproxy_pid=""
empty_pid=""
loaded_pid=""
socket_pid=""
base="http://127.0.0.1:$http_port"
db_url="postgres://wallet@127.0.0.1:$pg_port/wallet"

# shellcheck disable=SC2317 # (trap handler, invoked indirectly)
on_exit() {
    local status=$?
    trap - INT TERM EXIT
    local pid
    for pid in $server_pid $second_pid $haproxy_pid $empty_pid $loaded_pid $socket_pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 1 100); do
        kill -0 $server_pid $second_pid $haproxy_pid $empty_pid $loaded_pid $socket_pid 2>/dev/null || break
        sleep 0.1
    done
    pg_remove "$datadir" || true
    rmdir "$(dirname "$datadir")" 2>/dev/null || true
    log "results kept in $out"
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "machine: $cores cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
pg_ensure_binaries
pg_init "$datadir"
pg_start "$datadir" "$pg_port"

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
    log "building (cargo build --release)"
    cargo build --release --bin wallet
fi
wallet="${CARGO_TARGET_DIR:-target}/release/wallet"

# start_wallet PORT NAME [LANES [POLL_MS [THREADS]]]: `wallet serve` on 127.0.0.1:PORT
# (log: $out/NAME.log) with LANES commit lanes (default: the configured 2),
# ledger.correlation_poll_ms POLL_MS (default: the configured 10) and THREADS runtime
# threads (default 0: one per CPU), on the database $wallet_db_url (default: $db_url);
# waits until it is ready and prints its pid.
start_wallet() {
    local port=$1 name=$2 lanes=${3:-2} poll=${4:-10} threads=${5:-0} pid
    WALLET__LEDGER__COMMIT_LANES="$lanes" \
        WALLET__SERVER__WORKER_THREADS="$threads" \
        WALLET__LEDGER__CORRELATION_POLL_MS="$poll" \
        WALLET_CONFIG=config/development.toml \
        WALLET__DATABASE__URL="${wallet_db_url:-$db_url}" \
        WALLET__SERVER__LISTEN="127.0.0.1:$port" \
        WALLET__DATABASE__POOL_MAX_SIZE="$pool" \
        WALLET__LOG__FILTER=warn \
        "$wallet" serve >"$out/$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null || pg_die "wallet exited; see $out/$name.log"
        sleep 0.2
    done
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null ||
        pg_die "wallet not ready; see $out/$name.log"
    echo "$pid"
}

log "starting wallet serve on $base (pool_max_size $pool)"
server_pid=$(start_wallet "$http_port" server)

# --- raw PostgreSQL: the minimal SQL of a bet -----------------------------------------
pg_psql "$pg_port" -d postgres -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
pg_psql "$pg_port" -d bench <<'SQL'
CREATE TABLE bench_balances (
    player_id INT PRIMARY KEY,
    amount    BIGINT NOT NULL CHECK (amount >= 0)
);
CREATE TABLE bench_ledger (
    id         BIGSERIAL PRIMARY KEY,
    player_id  INT NOT NULL,
    amount     BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
SQL
cat >"$out/bet.sql" <<'SQL'
\set p random(1, :players)
\set amt random(10, 1000)
BEGIN ISOLATION LEVEL SERIALIZABLE;
UPDATE bench_balances SET amount = amount - :amt WHERE player_id = :p AND amount >= :amt;
INSERT INTO bench_ledger (player_id, amount) VALUES (:p, :amt);
COMMIT;
SQL

# pgbench CLIENTS ROWS NAME: prints tps (without initial connection time).
pgbench_run() {
    local clients=$1 rows=$2 name=$3
    pg_psql "$pg_port" -d bench -c "TRUNCATE bench_balances, bench_ledger" \
        -c "INSERT INTO bench_balances SELECT g, 1000000000000 FROM generate_series(1, $rows) g" \
        -c "VACUUM ANALYZE bench_balances"
    "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$pg_port" -U postgres -d bench -M prepared \
        -c "$clients" -j "$cores" -T "$duration" --max-tries=10000 -D players="$rows" \
        -f "$out/bet.sql" >"$out/pgbench-$name.log" 2>&1 ||
        { cat "$out/pgbench-$name.log" >&2; pg_die "pgbench $name failed"; }
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out/pgbench-$name.log"
}

log "pgbench: $concurrency clients on $players rows, ${duration}s"
pg_tps=$(pgbench_run "$concurrency" "$players" many)
log "pgbench: 100 clients on one row, ${duration}s"
pg_hot_tps=$(pgbench_run 100 1 hot)

# --- the wallet's own SQL, without the service ------------------------------------------
# A bet's statements as the service sends them (shared-key read; BEGIN + player lock;
# write + COMMIT), K calls per transaction: K=1 is a call alone, K=8 a commit group of
# eight. Run by pgbench on a copy of the schema, so the service's cost can be told apart
# from its SQL's.
pg_psql "$pg_port" -d postgres -c "DROP DATABASE IF EXISTS bench_sql" \
    -c "CREATE DATABASE bench_sql OWNER wallet"
sql_url="postgres://wallet@127.0.0.1:$pg_port/bench_sql"
WALLET_CONFIG=config/development.toml WALLET__DATABASE__URL="$sql_url" "$wallet" migrate \
    >"$out/bench-sql-migrate.log" 2>&1 || pg_die "migrating bench_sql failed"
pg_psql "$pg_port" -d bench_sql \
    -c "INSERT INTO players (player_id, currency) SELECT 'p' || g, 'EUR' FROM generate_series(1, $players) g" \
    -c "INSERT INTO balances SELECT 'p' || g, c, CASE c WHEN 'cash' THEN 1000000000000 ELSE 0 END FROM generate_series(1, $players) g, unnest(ARRAY['cash', 'bonus']) c" \
    -c "VACUUM ANALYZE"

# wallet_sql_script K [notify]: a pgbench script of K bets (of K random players) in one
# transaction; with `notify`, the transaction also sends one NOTIFY naming the first
# player (what waking a win in another process by LISTEN/NOTIFY would add to a group).
# Ledger ids are made as the wallet makes them, time first (UUIDv7's layout): the
# ledger's monthly partitions are ranges of ids.
wallet_sql_script() {
    local k=$1 notify=${2:-} i ids="" txs="" rounds="" cats="" deltas="" jsons=""
    printf '\\set t random(1, 1000000000000000)\n'
    for ((i = 0; i < k; i++)); do printf '\\set p%d random(1, %d)\n' "$i" "$players"; done
    for ((i = 0; i < k; i++)); do
        printf "%s\n" "SELECT k.fingerprint, k.refusal, t.balance_after, s.session_id, r.round_id, r.status, p.ledger_seq FROM (VALUES (1)) AS one (x) LEFT JOIN idempotency_keys k ON k.key = call_key('demo', 'b' || :t || '-$i') LEFT JOIN transactions t ON t.id = k.ledger_id LEFT JOIN sessions s ON s.session_id = NULL::uuid LEFT JOIN rounds r ON r.provider_id = 'demo' AND r.round_id = 'r' || :t || '-$i' AND r.player_id = 'p' || :p$i LEFT JOIN players p ON p.player_id = 'p' || :p$i;"
        ids+="${ids:+, }'p' || :p$i"
        txs+="${txs:+, }'b' || :t || '-$i'"
        rounds+="${rounds:+, }'r' || :t || '-$i'"
        cats+="${cats:+, }'cash'"
        deltas+="${deltas:+, }-5"
        jsons+="${jsons:+, }'{\"cash\": 5}'"
    done
    printf '%s\n' "SELECT count(pg_advisory_lock(hashtextextended(k, 0))) FROM unnest(ARRAY[$ids]) AS k;"
    printf '%s\n' "BEGIN ISOLATION LEVEL SERIALIZABLE;"
    printf '%s\n' "SELECT p.player_id, p.currency, p.status, b.category, b.amount, p.ledger_seq FROM players p LEFT JOIN balances b ON b.player_id = p.player_id WHERE p.player_id = ANY(ARRAY[$ids]) ORDER BY p.player_id FOR UPDATE OF p;"
    printf '%s\n' "WITH upd AS (UPDATE balances b SET amount = b.amount + d.delta FROM unnest(ARRAY[$ids], ARRAY[$cats], ARRAY[$deltas]::bigint[]) AS d(player_id, category, delta) WHERE b.player_id = d.player_id AND b.category = d.category RETURNING b.player_id, b.category, b.amount), ids AS (SELECT (lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || '7' || left(md5(random()::text || x.tx), 19))::uuid AS id, x.* FROM unnest(ARRAY[$txs], ARRAY[$ids], ARRAY[$rounds], ARRAY[$jsons]::jsonb[]) AS x(tx, player, round, split)), ledger AS (INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, win_kind, amount, currency, split, balance_after, round_id, game_id, session_id, reference_id, reference_transaction_id, seq, created_at) SELECT x.id, 'demo', x.tx, x.player, 'bet', NULL, 5, 'EUR', x.split, x.split, x.round, 'slots', NULL, NULL, NULL, (SELECT ledger_seq + 1 FROM players WHERE player_id = x.player), now() FROM ids x), sequenced AS (UPDATE players p SET ledger_seq = p.ledger_seq + 1 WHERE p.player_id = ANY(ARRAY[$ids])), idempotency AS (INSERT INTO idempotency_keys (key, fingerprint, ledger_id) SELECT call_key('demo', x.tx), '\\x00'::bytea, x.id FROM ids x), opened AS (INSERT INTO rounds (provider_id, round_id, player_id, game_id) SELECT 'demo', x.round, x.player, 'slots' FROM unnest(ARRAY[$rounds], ARRAY[$ids]) AS x(round, player)) SELECT player_id, category, amount FROM upd;"
    [[ -n $notify ]] && printf '%s\n' "SELECT pg_notify('wallet_bets', 'p' || :p0);"
    printf '%s\n' "COMMIT;"
    printf '%s\n' "SELECT pg_advisory_unlock_all();"
}

# wallet_sql_run K [notify]: bets per second (K × tps) at $concurrency / K clients.
wallet_sql_run() {
    local k=$1 clients=$(((concurrency + $1 - 1) / $1)) name="wallet-sql-$1${2:+-notify}"
    wallet_sql_script "$k" "${2:-}" >"$out/$name.sql"
    "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$pg_port" -U wallet -d bench_sql -M prepared \
        -c "$clients" -j "$cores" -T "$duration" --max-tries=10000 \
        -f "$out/$name.sql" >"$out/pgbench-$name.log" 2>&1 ||
        { cat "$out/pgbench-$name.log" >&2; pg_die "pgbench $name failed"; }
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' \
        "$out/pgbench-$name.log" | awk -v k="$k" '{ printf "%d", $1 * k }'
}

log "pgbench: the wallet's SQL, one bet per transaction, $concurrency clients"
sql_1=$(wallet_sql_run 1)
log "pgbench: the wallet's SQL, eight bets per transaction, $(((concurrency + 7) / 8)) clients"
sql_8=$(wallet_sql_run 8)
# BENCH_WAKE=1: what LISTEN/NOTIFY would cost the commit groups, with one listener
# connected: eight bets per transaction without and with a NOTIFY, twice each, alternated.
if [[ ${BENCH_WAKE:-} == 1 ]]; then
    log "pgbench: the wallet's SQL, eight bets per transaction, without and with a NOTIFY"
    "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U wallet -d bench_sql -q \
        -c "LISTEN wallet_bets" -c "SELECT pg_sleep($((4 * duration + 10)))" >/dev/null 2>&1 &
    listener_pid=$!
    wake_sql=""
    for _ in 1 2; do
        wake_sql+="$(wallet_sql_run 8) $(wallet_sql_run 8 notify) "
    done
    kill "$listener_pid" 2>/dev/null || true
    wait "$listener_pid" 2>/dev/null || true
fi
# The pgbench databases are done with: dropped, so that autovacuum does not work on
# them (and take CPU) while the wallet is measured.
pg_psql "$pg_port" -d postgres -c "DROP DATABASE bench" -c "DROP DATABASE bench_sql WITH (FORCE)" \
    -c "CHECKPOINT" >/dev/null

# --- the wallet under loadgen ----------------------------------------------------------
loadgen() {
    local name=$1
    shift
    log "loadgen $name: $*"
    local status=0
    "$wallet" loadgen --url "${target:-$base}" --database-url "$db_url" --seed "$seed" --json "$@" \
        >"$out/$name.json" 2>"$out/$name.err" || status=$?
    ((status == 0)) || log "loadgen $name exited with $status (money check failed?)"
}

# cpu_ms PID: the user + system CPU time a process has used so far, in ms.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat"; }
# measured NAME ARGS...: loadgen NAME ARGS..., and the CPU time the wallet process spent
# meanwhile in $out/NAME.cpu_ms (the run's set-up and read-back operator calls included;
# the run `setup` below measures those alone).
measured() {
    local name=$1 before
    shift
    before=$(cpu_ms "$server_pid")
    loadgen "$name" "$@"
    echo "$(($(cpu_ms "$server_pid") - before))" >"$out/$name.cpu_ms"
}

pg_psql "$pg_port" -d wallet -c "SELECT pg_stat_statements_reset()" >/dev/null
measured sustained --concurrency "$concurrency" --players "$players" --duration "$duration"
pg_psql "$pg_port" -d wallet -P pager=off -c "
    SELECT calls, round(total_exec_time::numeric, 1) AS total_ms,
           round(mean_exec_time::numeric, 3) AS mean_ms,
           round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS pct,
           left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
      FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'wallet')
     ORDER BY total_exec_time DESC LIMIT 25" >"$out/pg_stat_statements.txt"
loadgen burst --burst 100 --players "$players" --duration "$duration"
loadgen hot --burst 100 --hot-players 1 --duration "$duration"
# The same sustained load through each protocol adapter (../shared/protocols.md): Hub88
# signs every request body with the demo provider key, the wallet verifies it and signs
# its answer (RSA-2048 both ways, on this machine's cores); Evolution sends its authToken.
# A run of one call: the set-up (1000 players created, funded, given a session) and the
# read-back that every measured run also makes, so that cpu_per_call can leave them out.
measured setup --players "$players" --operations 1
for protocol in hub88 evolution; do
    measured "sustained-$protocol" --protocol "$protocol" --concurrency "$concurrency" \
        --players "$players" --duration "$duration"
done

# The sustained and burst loads again, on a second process whose database.url is the
# cluster's Unix socket instead of TCP (the main process sits idle meanwhile).
socket_port=$((http_port + 40))
socket_pid=$(wallet_db_url="postgres://wallet@localhost/wallet?host=$datadir&port=$pg_port" \
    start_wallet "$socket_port" socket)
target="http://127.0.0.1:$socket_port" loadgen socket-sustained --concurrency "$concurrency" \
    --players "$players" --duration "$duration"
target="http://127.0.0.1:$socket_port" loadgen socket-burst --burst 100 --players "$players" \
    --duration "$duration"
kill -TERM "$socket_pid" 2>/dev/null || true

# --- storage: what the money calls above left on disk -----------------------------------
# After VACUUM ANALYZE: each relation a money call adds rows to (a table with its TOAST,
# free space and visibility maps; each of its indexes), per money call recorded (ledger
# rows and recorded refusals). Balances and players are updated in place and left out.
# The ledger's relations are its monthly partitions and their indexes.
storage_sql="
WITH calls AS (
    SELECT (SELECT count(*) FROM transactions)
         + (SELECT count(*) FROM idempotency_keys WHERE refusal IS NOT NULL) AS n
), tables AS (
    SELECT t.oid, coalesce(pg_partition_root(t.oid), t.oid)::regclass::text AS tbl
      FROM pg_class t
     WHERE t.relkind = 'r'
       AND coalesce(pg_partition_root(t.oid), t.oid)
           IN ('transactions'::regclass, 'idempotency_keys'::regclass, 'rounds'::regclass)
), rel AS (
    SELECT t.tbl, t.oid::regclass::text AS relation, pg_table_size(t.oid) AS bytes FROM tables t
    UNION ALL
    SELECT t.tbl, i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)
      FROM pg_index i JOIN tables t ON t.oid = i.indrelid
)
SELECT tbl AS \"table\", relation, bytes, round(bytes::numeric / greatest(n, 1), 1) AS per_call
  FROM rel, calls
UNION ALL
SELECT 'all', (SELECT n FROM calls) || ' calls', sum(bytes), round(sum(bytes)::numeric / greatest(max(n), 1), 1)
  FROM rel, calls
ORDER BY 1, 3 DESC"
pg_psql "$pg_port" -d wallet -c "VACUUM ANALYZE" >/dev/null
pg_psql "$pg_port" -d wallet -P pager=off -c "$storage_sql" >"$out/storage.txt"
storage_per_call=$(pg_psql "$pg_port" -d wallet -At -c "SELECT per_call FROM ($storage_sql) s WHERE \"table\" = 'all'")

# --- archive: the calls above, archived -------------------------------------------------
# BENCH_ARCHIVE=1: every ledger row written above moves to the month before last (new ids
# of that month in the same order, with their references and records, as if the calls
# had been made in its first minutes); `wallet archive --before <last month>` writes it
# to a file and drops it (timed); `wallet check-ledger` must still be clean; then what
# stays, per archived call (recorded calls: ledger rows and refusals), after VACUUM
# ANALYZE (archive-storage.txt). The lines after this one write on top of the archived
# ledger.
if [[ ${BENCH_ARCHIVE:-} == 1 ]]; then
    log "archive: moving the ledger to the month before last and archiving it"
    arch_psql() { "$PG_BIN/psql" "$db_url" -v ON_ERROR_STOP=1 -qAt "$@"; }
    arch_rows=$(arch_psql -c "SELECT count(*) FROM transactions")
    arch_calls=$(arch_psql -c "SELECT count(*) FROM idempotency_keys")
    arch_live_bytes=$(arch_psql -c "SELECT sum(pg_table_size(c.oid) + pg_indexes_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' AND coalesce(pg_partition_root(c.oid), c.oid) = 'transactions'::regclass")
    arch_psql -c "
        SELECT create_ledger_partition((date_trunc('month', now() AT TIME ZONE 'UTC') - interval '2 months')::date);
        BEGIN;
        CREATE TEMP TABLE moved (old UUID PRIMARY KEY, new UUID NOT NULL) ON COMMIT DROP;
        INSERT INTO moved
        SELECT id, ledger_id_floor(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                   - interval '2 months' + row_number() OVER (ORDER BY id) * interval '1 millisecond')
        FROM transactions;
        UPDATE transactions t SET id = m.new FROM moved m WHERE t.id = m.old;
        UPDATE transactions t SET reference_id = m.new FROM moved m WHERE t.reference_id = m.old;
        UPDATE idempotency_keys k SET ledger_id = m.new FROM moved m WHERE k.ledger_id = m.old;
        COMMIT;" >/dev/null || pg_die "moving the ledger failed"
    arch_before=$(arch_psql -c "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month', 'YYYY-MM')")
    arch_started=$(date +%s%N)
    WALLET_CONFIG=config/development.toml WALLET__DATABASE__URL="$db_url" \
        "$wallet" archive --before "$arch_before" --dir "$out/archive" >"$out/archive.txt" 2>&1 ||
        pg_die "wallet archive failed; see $out/archive.txt"
    arch_ms=$((($(date +%s%N) - arch_started) / 1000000))
    arch_check="clean"
    WALLET_CONFIG=config/development.toml WALLET__DATABASE__URL="$db_url" \
        "$wallet" check-ledger >"$out/archive-check.txt" 2>&1 || arch_check="FAILED (see $out/archive-check.txt)"
    arch_file_bytes=$(cat "$out"/archive/*.csv | wc -c)
    # The move rewrote every idempotency record (an UPDATE each, which the wallet never
    # does): VACUUM FULL gives the table back the size it had before.
    arch_psql -c "VACUUM FULL idempotency_keys" -c "VACUUM ANALYZE" >/dev/null
    archive_sql="
WITH rel AS (
    SELECT c.relname::text AS relation, pg_table_size(c.oid) AS bytes
      FROM pg_class c
     WHERE c.relname IN ('ledger_receipts', 'idempotency_keys', 'ledger_carried',
                         'ledger_tombstones', 'rounds')
    UNION ALL
    SELECT i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relname IN ('ledger_receipts', 'idempotency_keys', 'ledger_carried',
                         'ledger_tombstones', 'rounds')
)
SELECT relation, bytes, round(bytes::numeric / $arch_calls, 1) AS per_call FROM rel
UNION ALL
SELECT 'all', sum(bytes), round(sum(bytes)::numeric / $arch_calls, 1) FROM rel
ORDER BY 2 DESC"
    "$PG_BIN/psql" "$db_url" -P pager=off -c "$archive_sql" >"$out/archive-storage.txt"
    arch_per_call=$(arch_psql -c "SELECT per_call FROM ($archive_sql) s WHERE relation = 'all'")
    arch_kept_no_rounds=$(arch_psql -c "SELECT round(sum(per_call), 1) FROM ($archive_sql) s WHERE relation <> 'all' AND relation NOT LIKE 'rounds%'")
fi

# --- the table -------------------------------------------------------------------------
j() { jq -r "$2" "$out/$1.json" 2>/dev/null || echo "n/a"; }
ms() { awk -v us="$1" 'BEGIN { if (us == "n/a") print "n/a"; else printf "%.1f", us / 1000 }'; }
pct() { awk -v x="$1" 'BEGIN { if (x == "n/a") print "n/a"; else printf "%.2f%%", 100 * x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
# cpu_per_call NAME: the wallet's CPU ms per money call (every attempt) of a measured run,
# the set-up's CPU left out (its wins' correlation read-backs stay in: about one operator
# read per two calls, the same share for every protocol).
cpu_per_call() {
    local setup
    setup=$(cat "$out/setup.cpu_ms" 2>/dev/null || echo 0)
    ratio "$(($(cat "$out/$1.cpu_ms" 2>/dev/null || echo 0) - setup))" "$(j "$1" .calls)"
}

bw='(.ops_per_s.bet + .ops_per_s.win)'
sus_rate=$(j sustained "$bw | floor")
hot_rate=$(j hot "$bw | floor")
printf '\n'
printf '| %-58s | %-44s |\n' "measurement" "result"
printf '|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "$(printf -- '-%.0s' {1..46})"
row() { printf '| %-58s | %-44s |\n' "$1" "$2"; }
row "machine" "$cores cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), pool $pool"
row "pgbench bet script, $concurrency clients, $players rows (tps)" "${pg_tps%.*}"
row "pgbench wallet's bet SQL, 1 bet per transaction (bets/s)" "$sql_1"
row "pgbench wallet's bet SQL, 8 bets per transaction (bets/s)" "$sql_8"
row "wallet sustained, $concurrency rounds in flight, $players players" "$sus_rate bets+wins/s ($(j sustained '.calls_per_s | floor') money calls/s)"
row "  ratio wallet / pgbench" "$(ratio "$sus_rate" "$pg_tps")"
row "  latency p50 / p99 / p99.9 (ms)" "$(ms "$(j sustained .latency.p50_us)") / $(ms "$(j sustained .latency.p99_us)") / $(ms "$(j sustained .latency.p999_us)")"
row "  5xx / retry_later / server serialization retries" "$(j sustained .server_errors_5xx) / $(j sustained .retry_later) / $(j sustained .server.serialization_retries)"
row "  correlation / money check" "$(pct "$(j sustained .correlation.accuracy)") / $(j sustained 'if .money_check.clean then "clean" else "FAILED" end')"
row "  wallet CPU per money call (ms; set-up left out)" "$(cpu_per_call sustained)"
row "  mean wait for a pooled connection (ms)" "$(j sustained 'if .server.db_acquire_count > 0 then (1000 * .server.db_acquire_seconds_sum / .server.db_acquire_count * 10 | floor) / 10 else "n/a" end')"
row "burst: waves of 100 simultaneous rounds, $players players" "$(j burst '.calls_per_s | floor') calls/s"
row "  avg / p99 latency (ms)" "$(ms "$(j burst .latency.mean_us)") / $(ms "$(j burst .latency.p99_us)")"
row "  success rate / correlation accuracy" "$(pct "$(j burst .success_rate)") / $(pct "$(j burst .correlation.accuracy)")"
row "  5xx / money check" "$(j burst .server_errors_5xx) / $(j burst 'if .money_check.clean then "clean" else "FAILED" end')"
row "hot player: waves of 100 simultaneous rounds on 1 player" "$hot_rate bets+wins/s"
row "  pgbench bet script, 100 clients, 1 row (tps)" "${pg_hot_tps%.*}"
row "  ratio wallet / pgbench (one row)" "$(ratio "$hot_rate" "$pg_hot_tps")"
row "  avg / p99 latency (ms)" "$(ms "$(j hot .latency.mean_us)") / $(ms "$(j hot .latency.p99_us)")"
row "  5xx / retry_later / money check" "$(j hot .server_errors_5xx) / $(j hot .retry_later) / $(j hot 'if .money_check.clean then "clean" else "FAILED" end')"
# adapter_row PROTOCOL: its sustained load next to v1's (ratio of bets+wins/s), p50/p99,
# the wallet's CPU per call, undecided answers and the money check; Hub88 adds the
# simulator's own time to sign a body (client CPU on the same cores).
adapter_row() {
    local name="sustained-$1" rate signing=""
    rate=$(j "$name" "$bw | floor")
    [[ $1 == hub88 ]] && signing=", client signs in $(ms "$(j "$name" .client_signing_mean_us)") ms"
    row "$1 sustained, same load, through /$1/$(j "$name" .provider_id)" "$rate bets+wins/s = $(ratio "$rate" "$sus_rate") × v1; p50 / p99 $(ms "$(j "$name" .latency.p50_us)") / $(ms "$(j "$name" .latency.p99_us)") ms; wallet CPU $(cpu_per_call "$name") ms/call$signing; undecided $(j "$name" .server_errors_5xx); money $(j "$name" 'if .money_check.clean then "clean" else "FAILED" end')"
}
adapter_row hub88
adapter_row evolution
row "over a Unix socket: sustained / burst (calls/s)" "$(j socket-sustained '.calls_per_s | floor') / $(j socket-burst '.calls_per_s | floor') (TCP above: $(j sustained '.calls_per_s | floor') / $(j burst '.calls_per_s | floor'))"
row "  p99 sustained / burst (ms); money check" "$(ms "$(j socket-sustained .latency.p99_us)") / $(ms "$(j socket-burst .latency.p99_us)") (TCP: $(ms "$(j sustained .latency.p99_us)") / $(ms "$(j burst .latency.p99_us)")); $(j socket-sustained 'if .money_check.clean then "clean" else "FAILED" end') / $(j socket-burst 'if .money_check.clean then "clean" else "FAILED" end')"
row "storage per money call, after VACUUM ANALYZE (bytes)" "$storage_per_call (per table and index: $out/storage.txt)"
if [[ ${BENCH_ARCHIVE:-} == 1 ]]; then
    row "archive: $arch_rows ledger rows of $arch_calls calls" "$arch_ms ms; file $arch_file_bytes bytes; check-ledger $arch_check"
    row "  what stays per archived call (bytes)" "$arch_per_call, of which rounds $(awk -v a="$arch_per_call" -v b="$arch_kept_no_rounds" 'BEGIN { printf "%.1f", a - b }') ($out/archive-storage.txt)"
    row "  the ledger's partitions before, per call (bytes)" "$(awk -v a="$arch_live_bytes" -v n="$arch_calls" 'BEGIN { printf "%.1f", a / n }')"
fi
printf '\n'
log "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- volume: months of ledger ----------------------------------------------------------
# BENCH_VOLUME=1: two more databases on the cluster, one empty and one loaded with
# BENCH_VOLUME_CALLS synthetic money calls of BENCH_VOLUME_PLAYERS players
# (scripts/bench-volume.sql: hash-led ids, rounds, idempotency records, time-ordered ledger
# ids before the run), each served by a wallet process of its own; the sustained load
# alternately on the empty and the loaded one, twice each; then their sizes.
if [[ ${BENCH_VOLUME:-} == 1 ]]; then
    vol_calls=${BENCH_VOLUME_CALLS:-20000000}
    vol_players=${BENCH_VOLUME_PLAYERS:-100000}
    vol_rounds=$(((vol_calls - vol_players) / 2))
    ((vol_rounds > 0)) || pg_die "BENCH_VOLUME_CALLS must exceed BENCH_VOLUME_PLAYERS"
    vol_chunk=250000
    vol_duration=${BENCH_VOLUME_DURATION:-$duration}
    vol_run="vol-$(date +%s)"
    # The loaded months end a day before now, one round per 100 ms of synthetic time.
    vol_step_ms=100
    vol_epoch_ms=$(($(date +%s) * 1000 - 86400000 - vol_rounds * vol_step_ms))
    for db in vol_empty vol_loaded; do
        pg_psql "$pg_port" -d postgres -c "DROP DATABASE IF EXISTS $db" \
            -c "CREATE DATABASE $db OWNER wallet" >/dev/null
        WALLET_CONFIG=config/development.toml \
            WALLET__DATABASE__URL="postgres://wallet@127.0.0.1:$pg_port/$db" "$wallet" migrate \
            >"$out/$db-migrate.log" 2>&1 || pg_die "migrating $db failed"
    done
    # The ledger's monthly partitions of the synthetic months (the migration made this
    # month's and those ahead).
    pg_psql "$pg_port" -d vol_loaded -v ON_ERROR_STOP=1 -q -c "SELECT create_ledger_partition(m::date) FROM generate_series(date_trunc('month', to_timestamp($vol_epoch_ms / 1000.0 - 1) AT TIME ZONE 'UTC'), now() AT TIME ZONE 'UTC', interval '1 month') m" ||
        pg_die "creating the volume's partitions failed"
    log "volume: loading $vol_calls calls ($vol_rounds rounds of $vol_players players) into vol_loaded"
    vol_started=$(date +%s)
    # Players with a funding deposit of 10^10.00 each (seq 1) and its record.
    pg_psql "$pg_port" -d vol_loaded -v ON_ERROR_STOP=1 -q \
        -c "INSERT INTO players (player_id, currency) SELECT '$vol_run-p' || g, 'EUR' FROM generate_series(0, $vol_players - 1) g" \
        -c "INSERT INTO balances SELECT '$vol_run-p' || g, c, CASE c WHEN 'cash' THEN 1000000000000 ELSE 0 END FROM generate_series(0, $vol_players - 1) g, unnest(ARRAY['cash', 'bonus']) c" \
        -c "WITH d AS (INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, amount, currency, split, balance_after, seq, created_at) SELECT (lpad(to_hex($vol_epoch_ms - 1000), 12, '0') || '7' || left(md5('d' || g), 19))::uuid, '@operator', '$vol_run-p' || g || '-funding', '$vol_run-p' || g, 'deposit', 1000000000000, 'EUR', '{\"cash\": 1000000000000}', '{\"cash\": 1000000000000, \"bonus\": 0}', 1, to_timestamp(($vol_epoch_ms - 1000) / 1000.0) FROM generate_series(0, $vol_players - 1) g RETURNING id, provider_id, transaction_id) INSERT INTO idempotency_keys (key, fingerprint, ledger_id) SELECT call_key(provider_id, transaction_id), decode(md5(transaction_id), 'hex'), id FROM d" ||
        pg_die "loading the volume players failed"
    # Two loaders at a time, one chunk of rounds each.
    vol_load() {
        "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U wallet -d vol_loaded -q \
            -v lo="$1" -v hi="$2" -v players="$vol_players" -v epoch_ms="$vol_epoch_ms" \
            -v step_ms="$vol_step_ms" -v run="$vol_run" -f scripts/bench-volume.sql
    }
    for ((lo = 0; lo < vol_rounds; lo += 2 * vol_chunk)); do
        mid=$((lo + vol_chunk < vol_rounds ? lo + vol_chunk : vol_rounds))
        hi=$((mid + vol_chunk < vol_rounds ? mid + vol_chunk : vol_rounds))
        vol_load "$lo" "$((mid - 1))" &
        first=$!
        ((hi > mid)) && vol_load "$mid" "$((hi - 1))"
        wait "$first" || pg_die "loading rounds $lo.. failed"
        log "volume: $hi of $vol_rounds rounds loaded ($(($(date +%s) - vol_started)) s)"
    done
    pg_psql "$pg_port" -d vol_loaded -v ON_ERROR_STOP=1 -q \
        -c "UPDATE players p SET ledger_seq = s.m FROM (SELECT player_id, max(seq) AS m FROM transactions GROUP BY player_id) s WHERE p.player_id = s.player_id" \
        -c "VACUUM ANALYZE" -c "CHECKPOINT" || pg_die "finishing vol_loaded failed"
    pg_psql "$pg_port" -d vol_empty -q -c "VACUUM ANALYZE" >/dev/null
    vol_load_s=$(($(date +%s) - vol_started))
    log "volume: loaded in $vol_load_s s"

    vol_port=$((http_port + 30))
    empty_pid=$(wallet_db_url="postgres://wallet@127.0.0.1:$pg_port/vol_empty" \
        start_wallet "$vol_port" vol-empty)
    loaded_pid=$(wallet_db_url="postgres://wallet@127.0.0.1:$pg_port/vol_loaded" \
        start_wallet "$((vol_port + 1))" vol-loaded)
    # vol_counters DB: the cluster's WAL bytes and full-page images so far, and DB's
    # shared-buffer misses and hits (the passes run one at a time, so a pass's deltas
    # are its own, its set-up included).
    vol_counters() {
        pg_psql "$pg_port" -d postgres -At -F' ' -c "SELECT pg_stat_force_next_flush()" \
            -c "SELECT w.wal_bytes, w.wal_fpi, d.blks_read, d.blks_hit
                  FROM pg_stat_wal w, pg_stat_database d WHERE d.datname = '$1'" | tail -1
    }
    # vol_passes TAG: the sustained load on vol_empty and vol_loaded alternately, twice
    # each (reports volume-TAG{empty,loaded}-{1,2}.json, WAL and buffer reads per call in
    # volume-TAG*.io).
    vol_passes() {
        local tag=$1 pass db port name before after
        for pass in 1 2; do
            for db in empty loaded; do
                port=$vol_port
                [[ $db == loaded ]] && port=$((vol_port + 1))
                name="volume-$tag$db-$pass"
                log "loadgen $name: sustained on vol_$db"
                before=$(vol_counters "vol_$db")
                "$wallet" loadgen --url "http://127.0.0.1:$port" --seed "$seed" --json \
                    --concurrency "$concurrency" --players "$players" --duration "$vol_duration" \
                    >"$out/$name.json" 2>"$out/$name.err" ||
                    log "loadgen $name exited non-zero (money check failed?)"
                # Idle backends report their statistics within 10 s.
                sleep 11
                after=$(vol_counters "vol_$db")
                # WAL bytes, full-page images and buffer misses per money call, hit rate.
                awk -v c="$(j "$name" '.calls')" -v b="$before" -v a="$after" 'BEGIN {
                    split(b, x, " "); split(a, y, " ");
                    if (c + 0 == 0) { print "n/a n/a n/a n/a"; exit }
                    hits = y[4] - x[4]; reads = y[3] - x[3];
                    printf "%.0f %.2f %.2f %.2f%%\n", (y[1] - x[1]) / c, (y[2] - x[2]) / c,
                        reads / c, 100 * hits / (hits + reads + 1e-9) }' >"$out/$name.io"
            done
        done
    }
    # vol_table TAG LABEL: the table rows of one set of passes.
    vol_table() {
        local tag=$1 label=$2 n r=()
        for n in empty-1 loaded-1 empty-2 loaded-2; do r+=("$(j "volume-$tag$n" '.calls_per_s | floor')"); done
        row "  sustained$label, empty / loaded, pass 1 (money calls/s)" "${r[0]} / ${r[1]}"
        row "  sustained$label, empty / loaded, pass 2 (money calls/s)" "${r[2]} / ${r[3]}"
        row "  loaded / empty$label (mean of both passes)" "$(ratio "$((r[1] + r[3]))" "$((r[0] + r[2]))")"
        for n in empty loaded; do
            row "  $n$label: WAL B, full pages, buffer misses per call, hits" "$(for p in 1 2; do cat "$out/volume-$tag$n-$p.io"; done | paste -sd/)"
        done
        row "  money check$label, empty 1 / loaded 1 / empty 2 / loaded 2" "$(for n in empty-1 loaded-1 empty-2 loaded-2; do j "volume-$tag$n" 'if .money_check.clean then "clean" else "FAILED" end'; done | paste -sd/)"
    }
    vol_passes ""
    # What each statement cost on either database over the passes with the
    # configured settings.
    pg_psql "$pg_port" -d wallet -P pager=off -c "
        SELECT d.datname, s.calls, round(s.mean_exec_time::numeric, 3) AS mean_ms,
               s.shared_blks_read AS blks_read, s.shared_blks_dirtied AS blks_dirtied,
               s.wal_fpi, left(regexp_replace(s.query, '\s+', ' ', 'g'), 70) AS query
          FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname IN ('vol_empty', 'vol_loaded') AND s.calls > 1000
         ORDER BY left(regexp_replace(s.query, '\s+', ' ', 'g'), 70), d.datname" \
        >"$out/volume-statements.txt" 2>&1 || true
    # BENCH_VOLUME_SETTING (e.g. "wal_compression = lz4"): the same passes again with it
    # set for the cluster (ALTER SYSTEM, reloaded), then reset.
    if [[ -n ${BENCH_VOLUME_SETTING:-} ]]; then
        pg_psql "$pg_port" -d postgres -c "ALTER SYSTEM SET $BENCH_VOLUME_SETTING" \
            -c "SELECT pg_reload_conf()" >/dev/null || pg_die "setting $BENCH_VOLUME_SETTING failed"
        sleep 1
        vol_passes "set-"
        pg_psql "$pg_port" -d postgres -c "ALTER SYSTEM RESET ${BENCH_VOLUME_SETTING%%=*}" \
            -c "SELECT pg_reload_conf()" >/dev/null
    fi
    kill -TERM "$empty_pid" "$loaded_pid" 2>/dev/null || true
    vol_sizes=$(pg_psql "$pg_port" -d vol_loaded -At -F'|' -c "
        SELECT pg_size_pretty(pg_database_size('vol_loaded')),
               (SELECT count(*) FROM transactions),
               round(pg_database_size('vol_loaded')::numeric / (SELECT count(*) FROM transactions))")
    pg_psql "$pg_port" -d vol_loaded -P pager=off -c "
        SELECT c.relname AS relation, pg_size_pretty(pg_relation_size(c.oid)) AS size,
               round(pg_relation_size(c.oid)::numeric / (SELECT count(*) FROM transactions), 1)
                   AS per_call
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')
         ORDER BY pg_relation_size(c.oid) DESC LIMIT 16" >"$out/volume-sizes.txt"
    IFS='|' read -r vol_size vol_rows vol_per_row <<<"$vol_sizes"
    printf '\n'
    row "volume: $vol_rows ledger rows loaded in $vol_load_s s, passes of $vol_duration s" "database $vol_size, $vol_per_row B per row (per relation: $out/volume-sizes.txt)"
    vol_table "" ""
    if [[ -n ${BENCH_VOLUME_SETTING:-} ]]; then
        vol_table "set-" " ($BENCH_VOLUME_SETTING)"
    fi
    printf '\n'
    pg_psql "$pg_port" -d postgres -c "DROP DATABASE vol_empty WITH (FORCE)" \
        -c "DROP DATABASE vol_loaded WITH (FORCE)" >/dev/null
fi

# --- replicas behind HAProxy ------------------------------------------------------------
[[ ${BENCH_REPLICAS:-1} == 0 ]] && exit 0
if ! command -v haproxy >/dev/null 2>&1; then
    pg__apt_install haproxy
fi
lb_port=${BENCH_LB_PORT:-18460}
second_port=$((http_port + 1))

# counter NAME PORT...: the sum of a counter's series over the processes on PORT...
counter() {
    local name=$1 port total=0 n
    shift
    for port in "$@"; do
        n=$(curl -fs "http://127.0.0.1:$port/metrics" |
            awk -v m="$name" '$1 ~ "^"m"(\\{|$)" { s += $2 } END { printf "%d", s }')
        total=$((total + ${n:-0}))
    done
    echo "$total"
}

# through_lb NAME PORT...: the three loads through HAProxy to the processes on PORT...
through_lb() {
    local name=$1 port cfg="$out/haproxy-$1.cfg" i=0
    shift
    {
        printf 'global\n    maxconn 8192\n'
        printf 'defaults\n    mode http\n    option http-keep-alive\n'
        printf '    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n'
        printf '    retries 2\n    option redispatch\n'
        printf 'frontend wallet\n    bind 127.0.0.1:%s\n    default_backend replicas\n' "$lb_port"
        printf 'backend replicas\n    balance roundrobin\n'
        printf '    option httpchk GET /health/ready\n    http-check expect status 200\n'
        for port in "$@"; do
            i=$((i + 1))
            printf '    server w%d 127.0.0.1:%s check inter 500 fall 1 rise 2\n' "$i" "$port"
        done
    } >"$cfg"
    haproxy -f "$cfg" -db >"$out/haproxy-$name.log" 2>&1 &
    haproxy_pid=$!
    for _ in $(seq 1 50); do
        curl -fs "http://127.0.0.1:$lb_port/health/ready" >/dev/null 2>&1 && break
        sleep 0.2
    done
    [[ $name == rolling ]] && return 0
    local retries_before stale_before
    retries_before=$(counter wallet_serialization_retries_total "$@")
    stale_before=$(counter wallet_stale_reads_total "$@")
    target="http://127.0.0.1:$lb_port"
    local loads=" ${BENCH_LB_LOADS:-sustained burst hot} "
    if [[ $loads == *" sustained "* ]]; then
        loadgen "lb-$name-sustained" --concurrency "$concurrency" --players "$players" --duration "$duration"
    fi
    if [[ $loads == *" burst "* ]]; then
        loadgen "lb-$name-burst" --burst 100 --players "$players" --duration "$duration"
    fi
    if [[ $loads == *" hot "* ]]; then
        loadgen "lb-$name-hot" --burst 100 --hot-players 1 --duration "$duration"
    fi
    target=""
    echo "$(($(counter wallet_serialization_retries_total "$@") - retries_before))" >"$out/lb-$name.retries"
    echo "$(($(counter wallet_stale_reads_total "$@") - stale_before))" >"$out/lb-$name.stale"
    kill -TERM "$haproxy_pid" 2>/dev/null || true
    wait "$haproxy_pid" 2>/dev/null || true
    haproxy_pid=""
}

# The passes alternate, one, two, two, one, so that what changes along the run (the
# tables grow, the machine's other load drifts) weighs on both setups alike; each side's
# figure is the mean of its two passes. Each pass starts its own processes.
replica_lanes=${BENCH_REPLICA_LANES:-1}
replica_threads=${BENCH_REPLICA_THREADS:-1}
# start_replica PORT NAME [POLL_MS]: one of the two processes, with $replica_lanes commit
# lanes and $replica_threads runtime threads.
start_replica() {
    start_wallet "$1" "$2" "$replica_lanes" "${3:-10}" "$replica_threads"
}
# stop_wallets: SIGTERM to every wallet process of this step, and wait for their exit.
stop_wallets() {
    kill -TERM $server_pid $second_pid 2>/dev/null || true
    while kill -0 $server_pid $second_pid 2>/dev/null; do sleep 0.1; done
    server_pid=""
    second_pid=""
}
# one_pass N / two_pass N: pass N through HAProxy to one process with the configured
# lanes, or to two processes of $replica_lanes lanes each.
one_pass() {
    stop_wallets
    server_pid=$(start_wallet "$http_port" "server-one$1")
    log "HAProxy in front of one process (pass $1)"
    through_lb "one$1" "$http_port"
}
two_pass() {
    stop_wallets
    server_pid=$(start_replica "$http_port" "server-two$1-1")
    second_pid=$(start_replica "$second_port" "server-two$1-2")
    log "HAProxy in front of two processes, $replica_lanes commit lane(s) and $replica_threads thread(s) each (pass $1)"
    through_lb "two$1" "$http_port" "$second_port"
}
log "HAProxy $(haproxy -v | awk 'NR == 1 {print $3}'): one process, then two on the same database, alternated, $lb_rounds round(s)"
for ((lb_round = 0; lb_round < lb_rounds; lb_round++)); do
    one_pass $((2 * lb_round + 1))
    two_pass $((2 * lb_round + 1))
    two_pass $((2 * lb_round + 2))
    one_pass $((2 * lb_round + 2))
done
stop_wallets
server_pid=$(start_replica "$http_port" server-1)
second_pid=$(start_replica "$second_port" server-2)

# BENCH_WAKE=1: the same two processes without the poll for a bet committed by the other
# (a look every 10 s: within the 2 s window only in-process signals wake a win), the
# sustained and burst loads only; then back to the configured poll.
if [[ ${BENCH_WAKE:-} == 1 ]]; then
    log "two processes without the cross-process poll"
    kill -TERM "$server_pid" "$second_pid"
    while kill -0 "$server_pid" "$second_pid" 2>/dev/null; do sleep 0.1; done
    server_pid=$(start_replica "$http_port" server-nopoll-1 10000)
    second_pid=$(start_replica "$second_port" server-nopoll-2 10000)
    BENCH_LB_LOADS="sustained burst" through_lb nopoll "$http_port" "$second_port"
    kill -TERM "$server_pid" "$second_pid"
    while kill -0 "$server_pid" "$second_pid" 2>/dev/null; do sleep 0.1; done
    server_pid=$(start_replica "$http_port" server-1b)
    second_pid=$(start_replica "$second_port" server-2b)
fi

# A rolling restart under load: the sustained load through HAProxy to both processes;
# a third of the way in the second gets SIGTERM and comes back, two thirds in the first.
log "rolling restart under load: sustained through HAProxy, each process restarted once"
through_lb rolling "$http_port" "$second_port"
target="http://127.0.0.1:$lb_port"
loadgen lb-rolling --concurrency "$concurrency" --players "$players" --duration "$((3 * duration))" &
load_pid=$!
# restart PID PORT NAME: SIGTERM, wait for the exit (graceful: in-flight calls finish),
# start again on the same port; prints the new pid.
restart() {
    kill -TERM "$1"
    while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
    start_replica "$2" "$3"
}
sleep "$duration"
second_pid=$(restart "$second_pid" "$second_port" server-2-restarted)
sleep "$duration"
server_pid=$(restart "$server_pid" "$http_port" server-restarted)
wait "$load_pid" || true
target=""
kill -TERM "$haproxy_pid" 2>/dev/null || true
wait "$haproxy_pid" 2>/dev/null || true
haproxy_pid=""

# passes NAME FILTER: FILTER of every pass of a load on one side, in order, one per line
# ("one-sustained" reads lb-one1-sustained, lb-one2-sustained, ...).
passes() {
    local side=${1%%-*} load=${1#*-} n
    for ((n = 1; n <= 2 * lb_rounds; n++)); do
        j "lb-$side$n-$load" "$2"
    done
}
# mean NAME FILTER: the mean of FILTER over every pass of a load on one side.
mean() {
    passes "$1" "$2" | awk '$1 == "n/a" { bad = 1 } { s += $1; n++ }
        END { if (bad || n == 0) print "n/a"; else printf "%d", s / n }'
}
# each_pass NAME FILTER: every pass's value, "first, second, ...".
each_pass() {
    passes "$1" "$2" | paste -sd, - | sed 's/,/, /g'
}
lb_row() {
    local what=$1 one two
    one=$(mean "one-$2" "$3")
    two=$(mean "two-$2" "$3")
    printf '| %-44s | %-20s | %-20s | %-8s |\n' "$what" "$one" "$two" "$(ratio "$two" "$one")"
}
lb_pair() {
    printf '| %-44s | %-20s | %-20s | %-8s |\n' "$1" "$2" "$3" ""
}
money() { echo 'if .money_check.clean then "clean" else "FAILED" end'; }
pct_filter() { echo '(.correlation.accuracy * 10000 | round) / 100 | tostring + "%"'; }
errors_money() { echo '"\(.server_errors_5xx) / " + (if .money_check.clean then "clean" else "FAILED" end)'; }
sum_files() { awk '{ s += $1 } END { printf "%d", s }' "$@"; }
printf '\n| %-44s | %-20s | %-20s | %-8s |\n' "through HAProxy, same database ($((2 * lb_rounds)) passes)" "one process" "two processes" "two/one"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..22})" "$(printf -- '-%.0s' {1..22})" "$(printf -- '-%.0s' {1..10})"
lb_pair "commit lanes" "2" "$replica_lanes + $replica_lanes"
lb_pair "runtime threads" "$(nproc)" "$replica_threads + $replica_threads"
lb_row "sustained (bets+wins/s, mean)" sustained "$bw | floor"
lb_pair "  per pass" "$(each_pass one-sustained "$bw | floor")" "$(each_pass two-sustained "$bw | floor")"
lb_row "  latency p99 (us, mean)" sustained ".latency.p99_us"
lb_row "burst of 100 (calls/s, mean)" burst ".calls_per_s | floor"
lb_pair "  per pass" "$(each_pass one-burst ".calls_per_s | floor")" "$(each_pass two-burst ".calls_per_s | floor")"
lb_row "  latency p99 (us, mean)" burst ".latency.p99_us"
lb_row "hot player (bets+wins/s, mean)" hot "$bw | floor"
lb_pair "  per pass" "$(each_pass one-hot "$bw | floor")" "$(each_pass two-hot "$bw | floor")"
lb_row "  latency p99 (us, mean)" hot ".latency.p99_us"
for load in sustained burst hot; do
    lb_pair "$load: correlation" "$(each_pass "one-$load" "$(pct_filter)")" "$(each_pass "two-$load" "$(pct_filter)")"
    lb_pair "$load: 5xx / money check" "$(each_pass "one-$load" "$(errors_money)")" "$(each_pass "two-$load" "$(errors_money)")"
done
lb_pair "retries / stale reads (all processes)" "$(sum_files "$out"/lb-one*.retries) / $(sum_files "$out"/lb-one*.stale)" "$(sum_files "$out"/lb-two*.retries) / $(sum_files "$out"/lb-two*.stale)"
printf '\n'
if [[ ${BENCH_WAKE:-} == 1 ]]; then
    printf '| %-44s | %-16s | %-16s | %-16s |\n' "waking a win whose bet another process commits" "poll (two, mean)" "no poll" "no poll / poll"
    printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..18})" "$(printf -- '-%.0s' {1..18})" "$(printf -- '-%.0s' {1..18})"
    wake_row() {
        local a b
        a=$(mean "two-$2" "$3")
        b=$(j "lb-nopoll-$2" "$3")
        printf '| %-44s | %-16s | %-16s | %-16s |\n' "$1" "$a" "$b" "$(ratio "$b" "$a")"
    }
    wake_row "sustained (bets+wins/s)" sustained "$bw | floor"
    wake_row "  latency p99 (us)" sustained .latency.p99_us
    wake_row "burst of 100 (calls/s)" burst ".calls_per_s | floor"
    wake_row "  latency p99 (us)" burst .latency.p99_us
    read -r -a w <<<"$wake_sql"
    printf '| %-44s | %-16s | %-16s | %-16s |\n' "pgbench wallet SQL, 8 per tx (bets/s)" "${w[0]} ${w[2]}" "+NOTIFY: ${w[1]} ${w[3]}" "$(ratio "$((w[1] + w[3]))" "$((w[0] + w[2]))")"
    printf '\n'
fi
printf '| %-44s | %-36s |\n' "rolling restart (both processes, one by one)" "$(j lb-rolling "$bw | floor") bets+wins/s over $((3 * duration)) s"
printf '| %-44s | %-36s |\n' "  calls resent after a failure / unresolved" "$(j lb-rolling .resent_calls) / $(j lb-rolling .unresolved_calls)"
printf '| %-44s | %-36s |\n' "  5xx and transport errors seen / money check" "$(j lb-rolling .server_errors_5xx) + $(j lb-rolling .transport_errors) / $(j lb-rolling "$(money)")"
printf '\n'
