//! Read-only checks of the database: settings, monitoring figures, and the ledger
//! reconciliation that proves every balance equals the sum of its ledger entries.

use super::{Client, DbError};

/// Current value of each named setting, as `SHOW` prints it, with its unit-normalized
/// form from `pg_settings` for comparison.
pub async fn settings(client: &Client, names: &[&str]) -> Result<Vec<(String, String)>, DbError> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let rows = client
        .query(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY($1)",
            &[&names],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The figures the enterprise profile is watched by.
#[derive(Debug, Clone)]
pub struct Monitoring {
    pub server_version: String,
    pub connections: i64,
    pub active_connections: i64,
    pub max_connections: i64,
    pub buffer_hits: i64,
    pub buffer_reads: i64,
    pub wal_bytes: Option<i64>,
    pub lock_waits: i64,
    pub deadlocks: i64,
    pub serialization_conflicts: i64,
    /// (table, autovacuum runs, autoanalyze runs, dead tuples)
    pub tables: Vec<(String, i64, i64, i64)>,
}

pub async fn monitoring(client: &Client) -> Result<Monitoring, DbError> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), \
               (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'), \
               (SELECT count(*) FROM pg_stat_activity WHERE state = 'active'), \
               current_setting('max_connections')::bigint, \
               (SELECT sum(blks_hit)::bigint FROM pg_stat_database), \
               (SELECT sum(blks_read)::bigint FROM pg_stat_database), \
               (SELECT count(*) FROM pg_locks WHERE NOT granted), \
               (SELECT sum(deadlocks)::bigint FROM pg_stat_database), \
               (SELECT sum(conflicts)::bigint FROM pg_stat_database)",
            &[],
        )
        .await?;
    // pg_stat_wal exists from PostgreSQL 14 on.
    let wal_bytes = client
        .query_opt("SELECT wal_bytes::bigint FROM pg_stat_wal", &[])
        .await
        .ok()
        .flatten()
        .map(|r| r.get(0));
    let tables = client
        .query(
            "SELECT relname::text, autovacuum_count, autoanalyze_count, n_dead_tup \
             FROM pg_stat_user_tables ORDER BY relname",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    Ok(Monitoring {
        server_version: row.get(0),
        connections: row.get(1),
        active_connections: row.get(2),
        max_connections: row.get(3),
        buffer_hits: row.get::<_, Option<i64>>(4).unwrap_or(0),
        buffer_reads: row.get::<_, Option<i64>>(5).unwrap_or(0),
        wal_bytes,
        lock_waits: row.get(6),
        deadlocks: row.get::<_, Option<i64>>(7).unwrap_or(0),
        serialization_conflicts: row.get::<_, Option<i64>>(8).unwrap_or(0),
        tables,
    })
}

/// A balance that differs from the sum of its ledger entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub player_id: String,
    pub category: String,
    pub balance: Option<i64>,
    pub ledger_sum: i64,
}

/// Every (player, category) whose balance is not the signed sum of its ledger splits
/// (bets and withdrawals debit, the other kinds credit) plus what its archived months
/// carried forward (`ledger_carried`). Empty means reconciled.
pub async fn reconcile(client: &Client) -> Result<Vec<Discrepancy>, DbError> {
    let rows = client
        .query(
            "WITH movements AS ( \
               SELECT player_id, category, sum(part)::bigint AS net FROM ( \
                 SELECT t.player_id, s.key AS category, \
                        CASE WHEN t.kind IN ('bet', 'withdrawal') THEN -(s.value::bigint) \
                             ELSE s.value::bigint END AS part \
                 FROM transactions t CROSS JOIN LATERAL jsonb_each_text(t.split) s \
                 UNION ALL \
                 SELECT c.player_id, s.key, s.value::bigint \
                 FROM ledger_carried c CROSS JOIN LATERAL jsonb_each_text(c.balance) s) parts \
               GROUP BY player_id, category) \
             SELECT coalesce(b.player_id, m.player_id), coalesce(b.category, m.category), \
                    b.amount, coalesce(m.net, 0) \
             FROM balances b FULL JOIN movements m \
               ON m.player_id = b.player_id AND m.category = b.category \
             WHERE b.amount IS DISTINCT FROM coalesce(m.net, 0) \
             ORDER BY 1, 2",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Discrepancy {
            player_id: r.get(0),
            category: r.get(1),
            balance: r.get(2),
            ledger_sum: r.get(3),
        })
        .collect())
}

/// A ledger row (or a player) that breaks one of the money rules [`rule_violations`]
/// checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// One of [`rule`]'s names.
    pub rule: &'static str,
    /// The offending ledger row (`transactions.id`): the row that broke the rule, e.g.
    /// the second reversal of a bet, not the first. `None` only for a player whose
    /// `ledger_seq` claims rows while it has none.
    pub transaction_id: Option<uuid::Uuid>,
    /// Empty only for an applied record whose ledger row is missing.
    pub player_id: String,
    /// What is wrong, naming the rows involved (`provider/transaction id (wallet id)`).
    pub detail: String,
}

/// The names of the money rules, in the order [`rule_violations`] checks them.
pub mod rule {
    /// A bet is reversed at most once: at most one money-moving rollback references it.
    pub const REVERSED_ONCE: &str = "reversed-once";
    /// No bet is both paid and reversed: no money-moving rollback after a `win`-kind win
    /// linked to its bet or paid into the bet's round.
    pub const PAID_OR_REVERSED: &str = "paid-or-reversed";
    /// No win is linked to a bet reversed before it, and a reference names a
    /// transaction of the same player.
    pub const REFERENCES: &str = "references";
    /// No bet was accepted into a round after the round closed.
    pub const BET_BEFORE_CLOSE: &str = "bet-before-close";
    /// Every split is an object of non-negative whole minor units adding up to the
    /// row's amount.
    pub const SPLIT_SUM: &str = "split-sum";
    /// Each player's rows are numbered 1..n (on from the seq carried by archived months),
    /// `players.ledger_seq` is n, and every `balance_after` is the previous row's (the
    /// carried balance first) plus or minus the split.
    pub const BALANCE_CHAIN: &str = "balance-chain";
    /// Every ledger row is the applied record of its call: the idempotency record of its
    /// `(provider, transaction_id)` exists and points at it (so no call has two rows),
    /// every applied record points at a ledger row or an archived receipt, and every
    /// receipt is its call's applied record.
    pub const RECORDED_ONCE: &str = "recorded-once";

    pub const ALL: &[&str] = &[
        REVERSED_ONCE,
        PAID_OR_REVERSED,
        REFERENCES,
        BET_BEFORE_CLOSE,
        SPLIT_SUM,
        BALANCE_CHAIN,
        RECORDED_ONCE,
    ];
}

// Conventions of the rule queries below. Each one only reads, returns `(row id, player,
// detail)` per offending row, and survives malformed JSON (no cast of a value that is not
// known to be a number, no `jsonb_each` of something that is not known to be an object).
//
// - A rollback moves money when its split has a non-zero part:
//   `jsonb_path_exists(split, '$.* ? (@ != 0)')`. A second rollback of a bet and a
//   tombstone have an empty split and reverse nothing.
// - "Before" is the player's order (`seq`) for two rows of one player; rows of different
//   players (already a `references` violation) are ordered by (created_at, id).
// - A row is named `kind provider/transaction_id (id)`.

/// Rule 1: the second and later money-moving rollbacks of one referenced row.
const REVERSED_ONCE_SQL: &str = "\
SELECT id, player_id,
       format('rollback %s/%s (%s) reverses %s again (reversal %s of %s; the first was %s/%s (%s))',
              provider_id, transaction_id, id, reference_id, reversal, reversals,
              first_provider, first_transaction, first_id)
FROM (SELECT r.id, r.player_id, r.provider_id, r.transaction_id, r.reference_id,
             row_number() OVER w AS reversal,
             count(*) OVER (PARTITION BY r.reference_id) AS reversals,
             first_value(r.id) OVER w AS first_id,
             first_value(r.provider_id) OVER w AS first_provider,
             first_value(r.transaction_id) OVER w AS first_transaction
      FROM transactions r
      WHERE r.kind = 'rollback' AND r.reference_id IS NOT NULL
        AND jsonb_path_exists(r.split, '$.* ? (@ != 0)')
      WINDOW w AS (PARTITION BY r.reference_id ORDER BY r.seq, r.created_at, r.id)) x
WHERE reversal > 1
ORDER BY player_id, id";

/// Rule 2: money-moving rollbacks of a bet after a `win`-kind win linked to that bet, or
/// after one in the same player's round of the bet.
const PAID_OR_REVERSED_SQL: &str = "\
WITH reversals AS (
    SELECT r.id, r.player_id, r.provider_id, r.transaction_id, r.seq, r.created_at,
           b.id AS bet_id, b.provider_id AS bet_provider, b.transaction_id AS bet_transaction,
           b.round_id AS bet_round, b.player_id AS bet_player
    FROM transactions r JOIN transactions b ON b.id = r.reference_id
    WHERE r.kind = 'rollback' AND b.kind = 'bet'
      AND jsonb_path_exists(r.split, '$.* ? (@ != 0)')
), paid AS (
    SELECT v.*, w.id AS win_id, w.provider_id AS win_provider,
           w.transaction_id AS win_transaction, w.seq AS win_seq, 'the bet' AS how
    FROM reversals v JOIN transactions w ON w.reference_id = v.bet_id
    WHERE w.kind = 'win' AND w.win_kind = 'win'
      AND CASE WHEN w.player_id = v.player_id THEN w.seq < v.seq
               ELSE (w.created_at, w.id) < (v.created_at, v.id) END
    UNION ALL
    SELECT v.*, w.id, w.provider_id, w.transaction_id, w.seq, 'its round ' || v.bet_round
    FROM reversals v JOIN transactions w
      ON w.provider_id = v.bet_provider AND w.round_id = v.bet_round
     AND w.player_id = v.bet_player
    WHERE w.kind = 'win' AND w.win_kind = 'win'
      AND v.player_id = v.bet_player AND w.seq < v.seq
)
SELECT DISTINCT ON (player_id, id) id, player_id,
       format('rollback %s/%s (%s) reverses bet %s/%s (%s) after win %s/%s (%s) paid %s',
              provider_id, transaction_id, id, bet_provider, bet_transaction, bet_id,
              win_provider, win_transaction, win_id, how)
FROM paid
ORDER BY player_id, id, win_seq, win_id";

/// Rule 3: wins linked to a row a money-moving rollback reversed before them, and rows
/// whose reference names another player's row or no row at all (a row of an archived
/// month is known by its receipt).
const REFERENCES_SQL: &str = "\
SELECT id, player_id, detail FROM (
    SELECT DISTINCT ON (w.id) w.id, w.player_id,
           format('win %s/%s (%s) pays %s %s/%s (%s), which rollback %s/%s (%s) reversed before it',
                  w.provider_id, w.transaction_id, w.id, b.kind, b.provider_id,
                  b.transaction_id, b.id, r.provider_id, r.transaction_id, r.id) AS detail
    FROM transactions w
    JOIN transactions r ON r.reference_id = w.reference_id
    JOIN transactions b ON b.id = w.reference_id
    WHERE w.kind = 'win' AND r.kind = 'rollback'
      AND jsonb_path_exists(r.split, '$.* ? (@ != 0)')
      AND CASE WHEN r.player_id = w.player_id THEN r.seq < w.seq
               ELSE (r.created_at, r.id) < (w.created_at, w.id) END
    ORDER BY w.id, r.seq, r.id
) linked
UNION ALL
SELECT t.id, t.player_id,
       CASE WHEN coalesce(x.id, a.ledger_id) IS NULL
            THEN format('%s %s/%s (%s) references %s, which is no ledger row',
                        t.kind, t.provider_id, t.transaction_id, t.id, t.reference_id)
            ELSE format('%s %s/%s (%s) references %s %s/%s (%s) of player %s',
                        t.kind, t.provider_id, t.transaction_id, t.id,
                        coalesce(x.kind, a.kind), coalesce(x.provider_id, a.provider_id),
                        coalesce(x.transaction_id, a.transaction_id), t.reference_id,
                        coalesce(x.player_id, a.player_id))
       END
FROM transactions t
LEFT JOIN transactions x ON x.id = t.reference_id
LEFT JOIN ledger_receipts a ON a.ledger_id = t.reference_id
WHERE t.reference_id IS NOT NULL
  AND (coalesce(x.id, a.ledger_id) IS NULL OR coalesce(x.player_id, a.player_id) <> t.player_id)
ORDER BY 2, 1";

/// Rule 4: bets written after the close of their round (same provider, round and
/// player).
const BET_BEFORE_CLOSE_SQL: &str = "\
SELECT b.id, b.player_id,
       format('bet %s/%s (%s) at %s joined round %s, closed at %s',
              b.provider_id, b.transaction_id, b.id,
              to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
              b.round_id,
              to_char(o.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))
FROM transactions b
JOIN rounds o
  ON o.provider_id = b.provider_id AND o.round_id = b.round_id AND o.player_id = b.player_id
WHERE b.kind = 'bet' AND o.closed_at IS NOT NULL AND b.created_at > o.closed_at
ORDER BY b.player_id, b.id";

/// Rule 5: splits that are not an object of non-negative whole numbers adding up to the
/// row's amount. The sum is taken only once the parts are known to be numbers.
const SPLIT_SUM_SQL: &str = "\
SELECT id, player_id,
       format('%s %s/%s (%s) of amount %s has split %s: %s',
              kind, provider_id, transaction_id, id, amount, split, problem)
FROM (SELECT t.*,
             CASE WHEN jsonb_typeof(t.split) <> 'object'
                      THEN 'not an object'
                  WHEN jsonb_path_exists(t.split,
                           '$.* ? (@.type() != \"number\" || @ < 0 || @.floor() != @)')
                      THEN 'a part is not a non-negative whole number'
                  WHEN (SELECT coalesce(sum(s.value::numeric), 0) FROM jsonb_each(t.split) s)
                       <> t.amount
                      THEN format('its parts add up to %s',
                                  (SELECT sum(s.value::numeric) FROM jsonb_each(t.split) s))
             END AS problem
      FROM transactions t) x
WHERE problem IS NOT NULL
ORDER BY player_id, id";

/// Rule 6: each player's rows in `seq` order, continuing from what the player's archived
/// months carried (`ledger_carried`: the last archived seq and balance_after; none: 0
/// and `{}`). A row out of sequence (the first not the carried seq + 1, a
/// repeated or skipped number), a `balance_after` that is not an object of non-negative
/// whole numbers, a `balance_after` that is not the previous row's (`{}` before the
/// first) plus or minus the split category by category (missing categories are 0; rows
/// out of sequence or with malformed JSON are not replayed), and a player whose
/// `ledger_seq` is not its last `seq` (0 without rows), or rows without a player.
const BALANCE_CHAIN_SQL: &str = "\
WITH chain AS MATERIALIZED (
    SELECT t.id, t.player_id, t.provider_id, t.transaction_id, t.kind, t.seq, t.split,
           t.balance_after,
           coalesce(lag(t.seq) OVER w, c.seq) AS prev_seq,
           lag(t.id) OVER w AS prev_id,
           CASE WHEN lag(t.seq) OVER w IS NULL THEN c.balance
                ELSE lag(t.balance_after) OVER w END AS prev_after
    FROM transactions t LEFT JOIN ledger_carried c ON c.player_id = t.player_id
    WINDOW w AS (PARTITION BY t.player_id ORDER BY t.seq, t.id)
), in_order AS MATERIALIZED (
    SELECT c.*, CASE WHEN c.prev_seq IS NULL THEN '{}'::jsonb ELSE c.prev_after END AS before
    FROM chain c
    WHERE ((c.prev_seq IS NULL AND c.seq = 1) OR c.seq = c.prev_seq + 1)
      AND jsonb_typeof(c.split) = 'object'
      AND NOT jsonb_path_exists(c.split, '$.* ? (@.type() != \"number\" || @.floor() != @)')
      AND jsonb_typeof(c.balance_after) = 'object'
      AND NOT jsonb_path_exists(c.balance_after,
                                '$.* ? (@.type() != \"number\" || @.floor() != @)')
      AND (c.prev_seq IS NULL OR (jsonb_typeof(c.prev_after) = 'object'
           AND NOT jsonb_path_exists(c.prev_after,
                                     '$.* ? (@.type() != \"number\" || @.floor() != @)')))
), replayed AS (
    SELECT o.id, o.player_id, o.provider_id, o.transaction_id, o.kind, o.seq,
           string_agg(format('%s: %s %s %s = %s, recorded %s', d.category, d.before,
                             CASE WHEN o.kind IN ('bet', 'withdrawal') THEN '-' ELSE '+' END,
                             d.part, d.expected, d.after), '; ' ORDER BY d.category) AS wrong
    FROM in_order o
    CROSS JOIN LATERAL (
        SELECT k.category, v.before, v.part, v.after,
               v.before + CASE WHEN o.kind IN ('bet', 'withdrawal') THEN -v.part
                               ELSE v.part END AS expected
        FROM (SELECT jsonb_object_keys(o.before)
              UNION SELECT jsonb_object_keys(o.split)
              UNION SELECT jsonb_object_keys(o.balance_after)) k(category)
        CROSS JOIN LATERAL (
            SELECT coalesce((o.before -> k.category)::numeric, 0) AS before,
                   coalesce((o.split -> k.category)::numeric, 0) AS part,
                   coalesce((o.balance_after -> k.category)::numeric, 0) AS after) v
    ) d
    WHERE d.after <> d.expected
    GROUP BY o.id, o.player_id, o.provider_id, o.transaction_id, o.kind, o.seq
), last_rows AS (
    SELECT player_id, count(*) AS n, max(seq) AS max_seq,
           (array_agg(id ORDER BY seq DESC, id DESC))[1] AS last_id
    FROM transactions GROUP BY player_id
)
SELECT id, player_id,
       CASE WHEN prev_seq IS NULL
                THEN format('%s %s/%s (%s) is the player''s first row but has seq %s, not 1',
                            kind, provider_id, transaction_id, id, seq)
            WHEN seq = prev_seq
                THEN format('%s %s/%s (%s) repeats seq %s of row %s',
                            kind, provider_id, transaction_id, id, seq, prev_id)
            ELSE format('%s %s/%s (%s) has seq %s after seq %s (%s): %s missing',
                        kind, provider_id, transaction_id, id, seq, prev_seq,
                        coalesce('row ' || prev_id, 'archived'),
                        CASE WHEN seq = prev_seq + 2 THEN format('seq %s', seq - 1)
                             ELSE format('seqs %s to %s', prev_seq + 1, seq - 1) END)
       END
FROM chain
WHERE NOT ((prev_seq IS NULL AND seq = 1) OR seq = prev_seq + 1)
UNION ALL
SELECT id, player_id,
       format('%s %s/%s (%s) has balance_after %s: not an object of non-negative whole numbers',
              kind, provider_id, transaction_id, id, balance_after)
FROM chain
WHERE jsonb_typeof(balance_after) <> 'object'
   OR jsonb_path_exists(balance_after,
                        '$.* ? (@.type() != \"number\" || @ < 0 || @.floor() != @)')
UNION ALL
SELECT id, player_id,
       format('%s %s/%s (%s), seq %s, does not follow from the row before: %s',
              kind, provider_id, transaction_id, id, seq, wrong)
FROM replayed
UNION ALL
SELECT m.last_id, coalesce(p.player_id, m.player_id),
       CASE WHEN p.player_id IS NULL
                THEN format('%s ledger row(s) of a player with no players row', m.n)
            ELSE format('players.ledger_seq is %s but the last row (%s) has seq %s',
                        p.ledger_seq, coalesce(m.last_id::text, 'none'),
                        coalesce(m.max_seq, c.seq, 0))
       END
FROM players p FULL JOIN last_rows m ON m.player_id = p.player_id
LEFT JOIN ledger_carried c ON c.player_id = p.player_id
WHERE p.player_id IS NULL OR p.ledger_seq <> coalesce(m.max_seq, c.seq, 0)
ORDER BY 2, 1";

/// Rule 7: ledger rows that are not their call's applied record (none, a refusal, or
/// another row: the same call written twice), applied records whose row is missing and
/// was not archived (reported with that row's id and no player), and archived receipts
/// that are not their call's applied record or whose row is still live.
const RECORDED_ONCE_SQL: &str = "\
SELECT t.id, t.player_id,
       CASE WHEN k.key IS NULL
                THEN format('%s %s/%s (%s) has no idempotency record',
                            t.kind, t.provider_id, t.transaction_id, t.id)
            WHEN k.ledger_id IS NULL
                THEN format('%s %s/%s (%s) moved money, but its call is recorded as refused (%s)',
                            t.kind, t.provider_id, t.transaction_id, t.id, k.refusal ->> 'reason')
            ELSE format('%s %s/%s (%s) repeats the call whose record is row %s',
                        t.kind, t.provider_id, t.transaction_id, t.id, k.ledger_id)
       END
FROM transactions t
LEFT JOIN idempotency_keys k ON k.key = call_key(t.provider_id, t.transaction_id)
WHERE k.ledger_id IS DISTINCT FROM t.id
UNION ALL
SELECT k.ledger_id, '',
       format('the applied record %s names ledger row %s, which does not exist',
              k.key, k.ledger_id)
FROM idempotency_keys k LEFT JOIN transactions t ON t.id = k.ledger_id
WHERE k.ledger_id IS NOT NULL AND t.id IS NULL
  AND NOT EXISTS (SELECT 1 FROM ledger_receipts a WHERE a.ledger_id = k.ledger_id)
UNION ALL
SELECT a.ledger_id, a.player_id,
       CASE WHEN t.id IS NOT NULL
                THEN format('the archived %s %s/%s (%s) is a live ledger row too',
                            a.kind, a.provider_id, a.transaction_id, a.ledger_id)
            ELSE format('the archived %s %s/%s (%s) is not its call''s applied record',
                        a.kind, a.provider_id, a.transaction_id, a.ledger_id)
       END
FROM ledger_receipts a
LEFT JOIN idempotency_keys k ON k.key = call_key(a.provider_id, a.transaction_id)
LEFT JOIN transactions t ON t.id = a.ledger_id
WHERE k.ledger_id IS DISTINCT FROM a.ledger_id OR t.id IS NOT NULL
ORDER BY 2, 1";

/// Every row that breaks a money rule, rule by rule ([`rule::ALL`]), each rule's rows
/// by player and id. Empty means every rule holds. Read-only: one query per rule, each
/// consistent in itself; run them inside one REPEATABLE READ transaction for a single
/// snapshot (`wallet check-ledger` does).
///
/// 1. [`rule::REVERSED_ONCE`]: at most one money-moving rollback (a non-zero split)
///    references a row by `reference_id`.
/// 2. [`rule::PAID_OR_REVERSED`]: no money-moving rollback of a bet comes after a win
///    of kind `win` that references the bet, or that is in the bet's player's round
///    (provider, round id, player).
/// 3. [`rule::REFERENCES`]: no win references a row that a money-moving rollback
///    reversed before it (the other order is rule 2), and every `reference_id` names a
///    row of the same player.
/// 4. [`rule::BET_BEFORE_CLOSE`]: no bet's `created_at` is after its round's
///    `closed_at`.
/// 5. [`rule::SPLIT_SUM`]: every split's parts are non-negative whole numbers adding up
///    to the amount.
/// 6. [`rule::BALANCE_CHAIN`]: each player's seqs are 1..n, on from the carried seq of
///    archived months, `players.ledger_seq` is n (the carried seq, or 0, without rows),
///    and every `balance_after` equals the previous row's (the carried balance first)
///    plus or minus the split, category by category.
/// 7. [`rule::RECORDED_ONCE`]: every ledger row is the one its call's idempotency
///    record names, every applied record names a ledger row or an archived receipt,
///    and every receipt is its call's applied record and no live row.
pub async fn rule_violations(client: &Client) -> Result<Vec<Violation>, DbError> {
    let checks: [(&'static str, &str); 7] = [
        (rule::REVERSED_ONCE, REVERSED_ONCE_SQL),
        (rule::PAID_OR_REVERSED, PAID_OR_REVERSED_SQL),
        (rule::REFERENCES, REFERENCES_SQL),
        (rule::BET_BEFORE_CLOSE, BET_BEFORE_CLOSE_SQL),
        (rule::SPLIT_SUM, SPLIT_SUM_SQL),
        (rule::BALANCE_CHAIN, BALANCE_CHAIN_SQL),
        (rule::RECORDED_ONCE, RECORDED_ONCE_SQL),
    ];
    let mut found = Vec::new();
    for (rule, sql) in checks {
        for row in client.query(sql, &[]).await? {
            found.push(Violation {
                rule,
                transaction_id: row.get(0),
                player_id: row.get(1),
                detail: row.get(2),
            });
        }
    }
    Ok(found)
}
