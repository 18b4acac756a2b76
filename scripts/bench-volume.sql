-- Synthetic money calls shaped as the wallet writes them, for the volume line of
-- scripts/bench.sh: rounds :lo to :hi (inclusive) of :players players, each a bet and its
-- settlement (a win, or a rollback for every twentieth round), with their ledger rows,
-- idempotency records and closed rounds. Ids are hash-led like the load generator's
-- (`<16 hex digits>-<run>-b<round>`), ledger ids time-ordered like the service's UUIDv7,
-- starting :epoch_ms and :step_ms apart per round, so the loaded months lie before the
-- measured run. Every stake and payout is 1.00, so each player's balance chain holds:
-- the funding deposit (scripts/bench.sh writes it, seq 1) then bet and settlement at
-- seq 2 + 2k and 3 + 2k for the player's k-th round.
--
--   psql -v lo=0 -v hi=999999 -v players=100000 -v epoch_ms=... -v step_ms=... \
--        -v run=vol -f scripts/bench-volume.sql
\set ON_ERROR_STOP on
-- A chunk runs longer than the profile's statement_timeout (60 s) allows a money call.
SET statement_timeout = 0;
WITH r AS (
    SELECT n, n % :players AS p, n / :players AS k,
           left(md5(n::text), 16) || '-' || :'run' AS tag,
           :epoch_ms::bigint + n * :step_ms::bigint AS ms
    FROM generate_series(:lo::bigint, :hi::bigint) AS n
), bets AS (
    SELECT r.*,
           (lpad(to_hex(ms), 12, '0') || '7' || left(md5('b' || n), 19))::uuid AS bet_id,
           (lpad(to_hex(ms + 1), 12, '0') || '7' || left(md5('s' || n), 19))::uuid AS settle_id,
           tag || '-b' || n AS bet_tx,
           :'run' || '-p' || p AS player
    FROM r
), rows AS (
    SELECT bet_id AS id, bet_tx AS transaction_id, player, 'bet' AS kind, NULL AS win_kind,
           '{"cash": 999999999900, "bonus": 0}'::jsonb AS balance_after,
           tag || '-r' || n AS round_id, NULL::uuid AS reference_id, NULL AS reference_tx,
           2 + 2 * k AS seq, ms
    FROM bets
    UNION ALL
    SELECT settle_id, tag || CASE WHEN n % 20 = 0 THEN '-x' ELSE '-w' END || n, player,
           CASE WHEN n % 20 = 0 THEN 'rollback' ELSE 'win' END,
           CASE WHEN n % 20 = 0 THEN NULL ELSE 'win' END,
           '{"cash": 1000000000000, "bonus": 0}'::jsonb,
           tag || '-r' || n, bet_id, bet_tx, 3 + 2 * k, ms + 1
    FROM bets
), ledger AS (
    INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, win_kind,
        amount, currency, split, balance_after, round_id, game_id, session_id, reference_id,
        reference_transaction_id, seq, created_at)
    SELECT id, 'demo', transaction_id, player, kind, win_kind, 100, 'EUR', '{"cash": 100}',
           balance_after, round_id, 'slots', NULL, reference_id, reference_tx, seq,
           to_timestamp(ms / 1000.0)
    FROM rows
    RETURNING id, provider_id, transaction_id
), records AS (
    INSERT INTO idempotency_keys (key, fingerprint, ledger_id)
    SELECT call_key(provider_id, transaction_id), decode(md5(transaction_id), 'hex'), id
    FROM ledger
)
INSERT INTO rounds (provider_id, round_id, player_id, game_id, status, opened_at, closed_at)
SELECT 'demo', tag || '-r' || n, player, 'slots', 'closed', to_timestamp(ms / 1000.0),
       to_timestamp((ms + 1) / 1000.0)
FROM bets;
