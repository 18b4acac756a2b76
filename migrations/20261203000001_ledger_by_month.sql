-- The ledger is split into one partition per calendar month (UTC), so that old months
-- can be archived and dropped whole while the current one stays small.
--
-- The partition key is the row id itself. Ledger ids are UUIDv7 (RFC 9562): their first
-- 48 bits are the Unix time in milliseconds at which the wallet made them, big-endian,
-- and PostgreSQL orders UUIDs byte by byte, so the ids of a month are exactly the range
-- from the month's first millisecond (the rest of the bits zero) to the next month's.
-- Partitioning by id keeps the primary key on `id` alone (a unique index of a
-- partitioned table must contain its partition key): a lookup by id, which every replay
-- is, reads one partition's index.
--
-- `(provider, transaction_id)` stays unique forever through `idempotency_keys`, which is
-- not partitioned and never archived (one 16-byte key per call, a B-tree descent per
-- lookup).

-- The smallest ledger id of a moment.
CREATE FUNCTION ledger_id_floor(at TIMESTAMPTZ) RETURNS UUID
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0')
            || repeat('0', 20))::uuid
$$;

-- The moment a ledger id was made (to the millisecond).
CREATE FUNCTION ledger_id_time(id UUID) RETURNS TIMESTAMPTZ
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT to_timestamp(('x' || lpad(left(replace(id::text, '-', ''), 12), 16, '0'))
                        ::bit(64)::bigint / 1000.0)
$$;

-- The name of the ledger partition of the UTC month that contains `month`.
CREATE FUNCTION ledger_partition_name(month DATE) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT 'transactions_' || to_char(month, 'YYYY_MM')
$$;

-- Creates the partition of the UTC month that contains `month`, with the statistics
-- its lookups by key need, unless it exists. True when it created one. Callers hold
-- the advisory lock `ledger_partitions_lock()` (two replicas starting together).
--
-- The partition is made as a table of its own and then attached: ATTACH PARTITION
-- takes a SHARE UPDATE EXCLUSIVE lock on the ledger, which money calls' inserts do not
-- wait for (CREATE TABLE ... PARTITION OF would take an ACCESS EXCLUSIVE one). The
-- ledger's indexes are built on the empty table as it is attached.
CREATE FUNCTION create_ledger_partition(month DATE) RETURNS BOOLEAN
    LANGUAGE plpgsql
AS $$
DECLARE
    first DATE := date_trunc('month', month)::date;
    name TEXT := ledger_partition_name(first);
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   name);
    EXECUTE format('ALTER TABLE transactions ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   name,
                   ledger_id_floor(first::timestamp AT TIME ZONE 'UTC'),
                   ledger_id_floor((first + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
    -- The planner ignores the statistics of a partial index's expression (see the
    -- migration before this one); each partition needs its own.
    EXECUTE format('CREATE STATISTICS %I ON (ledger_key(provider_id, round_id, player_id)) FROM %I',
                   name || '_round_key', name);
    EXECUTE format('CREATE STATISTICS %I ON (ledger_key(provider_id, reference_transaction_id, player_id)) FROM %I',
                   name || '_reference_key', name);
    RETURN true;
END
$$;

-- The advisory lock every creator of ledger partitions holds (a transaction-level one).
CREATE FUNCTION ledger_partitions_lock() RETURNS BIGINT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT 7305680214871302401::bigint
$$;

-- The rows so far move into the partitioned table.
ALTER TABLE transactions RENAME TO transactions_before;
ALTER INDEX transactions_pkey RENAME TO transactions_before_pkey;
ALTER INDEX transactions_player_idx RENAME TO transactions_before_player_idx;
ALTER INDEX transactions_round_idx RENAME TO transactions_before_round_idx;
ALTER INDEX transactions_reference_idx RENAME TO transactions_before_reference_idx;
DROP STATISTICS transactions_round_key;
DROP STATISTICS transactions_reference_key;

CREATE TABLE transactions (
    LIKE transactions_before INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (id)
) PARTITION BY RANGE (id);
CREATE INDEX transactions_player_idx ON transactions (player_id, id DESC);
CREATE INDEX transactions_round_idx ON transactions (ledger_key(provider_id, round_id, player_id))
    WHERE round_id IS NOT NULL;
CREATE INDEX transactions_reference_idx
    ON transactions (ledger_key(provider_id, reference_transaction_id, player_id))
    WHERE kind IN ('win', 'rollback') AND reference_transaction_id IS NOT NULL;

-- A partition for every month that holds a row, and for this month and the next three
-- (the service keeps creating them ahead, see `ledger.partitions_ahead_months`).
SELECT create_ledger_partition(m)
FROM (SELECT DISTINCT date_trunc('month', ledger_id_time(id) AT TIME ZONE 'UTC')::date AS m
      FROM transactions_before
      UNION
      SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + n * interval '1 month')::date
      FROM generate_series(0, 3) AS n) months
ORDER BY m;

INSERT INTO transactions SELECT * FROM transactions_before;
DROP TABLE transactions_before;
ANALYZE transactions;
