//! The statements of `wallet archive` (migrations 20261203000002 and 20261204000001):
//! what a month of the ledger leaves behind when its partition is dropped, and the
//! checks made before.
//!
//! Every function here runs inside the archive's transaction of one month, on that
//! month's partition, named as [`super::partitions::list`] lists it
//! (`transactions_YYYY_MM`, checked by [`is_partition_name`] before it is put into a
//! statement).

use chrono::NaiveDate;
use futures::Stream;
use tokio_postgres::Transaction;

use super::DbError;

/// Whether `name` is a ledger partition's name (`transactions_` + `YYYY_MM`).
pub fn is_partition_name(name: &str) -> bool {
    let Some(month) = name.strip_prefix("transactions_") else {
        return false;
    };
    let b = month.as_bytes();
    b.len() == 7
        && b[4] == b'_'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
}

fn statement(template: &str, partition: &str) -> Result<String, DbError> {
    if !is_partition_name(partition) {
        return Err(DbError::Data(format!(
            "{partition:?} is not a ledger partition's name"
        )));
    }
    Ok(template.replace("{p}", partition))
}

/// The first day of the month before this UTC month, by the database's clock: the
/// newest month `wallet archive` may leave out (`--before` at most this).
pub async fn newest_allowed_before(tx: &Transaction<'_>) -> Result<NaiveDate, DbError> {
    let row = tx
        .query_one(
            "SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month')::date",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Takes the locks the archive of a month holds to its end: EXCLUSIVE on
/// `ledger_archives` (no second archive, no `wallet check-ledger` running or starting:
/// it holds SHARE), the partitions' advisory lock (no partition created meanwhile) and
/// SHARE on the month's partition (no row can be added to it; money calls read it as
/// before). Each waits 10 s at most. The archive of a month may take longer than the
/// profile's statement and idle timeouts allow a money call, so it lifts them for its
/// own transaction, and it pins the date style and time zone the file's timestamps are
/// written in.
pub async fn lock_month(tx: &Transaction<'_>, partition: &str) -> Result<(), DbError> {
    let locked = tx
        .batch_execute(&statement(
            "SET LOCAL lock_timeout = '10s'; \
             SET LOCAL statement_timeout = 0; \
             SET LOCAL idle_in_transaction_session_timeout = 0; \
             SET LOCAL DateStyle = 'ISO, MDY'; \
             SET LOCAL TimeZone = 'UTC'; \
             LOCK TABLE ledger_archives IN EXCLUSIVE MODE; \
             SELECT pg_advisory_xact_lock(ledger_partitions_lock()); \
             LOCK TABLE {p} IN SHARE MODE",
            partition,
        )?)
        .await;
    match locked {
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            Err(DbError::Data(
                "waited 10 s for a lock: a `wallet check-ledger` or another archive is \
                 running (or a partition being created); nothing was archived, run it again"
                    .to_owned(),
            ))
        }
        other => Ok(other?),
    }
}

/// Where a month's rows do not continue each player's carried ledger: per player, the
/// month's first seq must follow the carried one (1 without), its seqs must have no
/// gap and no repeat, and the carried balance plus the month's movements must be the
/// balance after its last row, category by category. One line per offending player and
/// category.
const BOUNDARY: &str = "\
WITH m AS (
    SELECT g.*, l.last_after
    FROM (SELECT player_id, count(*) AS n, count(DISTINCT seq) AS seqs,
                 min(seq) AS lo, max(seq) AS hi
          FROM {p} GROUP BY player_id) g
    JOIN (SELECT DISTINCT ON (player_id) player_id, balance_after AS last_after
          FROM {p} ORDER BY player_id, seq DESC, id DESC) l USING (player_id)
), net AS (
    SELECT t.player_id, s.key AS category,
           sum(CASE WHEN t.kind IN ('bet', 'withdrawal') THEN -(s.value::numeric)
                    ELSE s.value::numeric END) AS net
    FROM {p} t CROSS JOIN LATERAL jsonb_each_text(t.split) s
    GROUP BY 1, 2
), categories AS (
    SELECT m.player_id, k.category
    FROM m LEFT JOIN ledger_carried c ON c.player_id = m.player_id
    CROSS JOIN LATERAL (SELECT jsonb_object_keys(m.last_after)
                        UNION SELECT jsonb_object_keys(coalesce(c.balance, '{}'))
                        UNION SELECT n.category FROM net n WHERE n.player_id = m.player_id)
        AS k (category)
)
SELECT m.player_id,
       format('seqs %s to %s in %s rows (%s distinct), carried seq %s',
              m.lo, m.hi, m.n, m.seqs, coalesce(c.seq, 0))
FROM m LEFT JOIN ledger_carried c ON c.player_id = m.player_id
WHERE m.lo <> coalesce(c.seq, 0) + 1 OR m.hi - m.lo + 1 <> m.n OR m.seqs <> m.n
UNION ALL
SELECT x.player_id,
       format('%s: carried %s + the month''s %s is not the balance after its last row, %s',
              x.category, coalesce((c.balance ->> x.category)::numeric, 0),
              coalesce(n.net, 0), coalesce((m.last_after ->> x.category)::numeric, 0))
FROM categories x
JOIN m ON m.player_id = x.player_id
LEFT JOIN ledger_carried c ON c.player_id = x.player_id
LEFT JOIN net n ON n.player_id = x.player_id AND n.category = x.category
WHERE coalesce((c.balance ->> x.category)::numeric, 0) + coalesce(n.net, 0)
      <> coalesce((m.last_after ->> x.category)::numeric, 0)
ORDER BY 1, 2";

/// `(player, what is wrong)` for every break of [`BOUNDARY`]; empty when the month
/// continues every carried ledger.
pub async fn boundary_breaks(
    tx: &Transaction<'_>,
    partition: &str,
) -> Result<Vec<(String, String)>, DbError> {
    let rows = tx.query(&statement(BOUNDARY, partition)?, &[]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The number of rows of the month.
pub async fn row_count(tx: &Transaction<'_>, partition: &str) -> Result<i64, DbError> {
    let row = tx
        .query_one(&statement("SELECT count(*) FROM {p}", partition)?, &[])
        .await?;
    Ok(row.get(0))
}

/// The month's rows as CSV with a header, in id order: the archive file's bytes.
pub async fn copy_out(
    tx: &Transaction<'_>,
    partition: &str,
) -> Result<impl Stream<Item = Result<bytes::Bytes, tokio_postgres::Error>>, DbError> {
    let sql = statement(
        "COPY (SELECT * FROM {p} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)",
        partition,
    )?;
    Ok(tx.copy_out(sql.as_str()).await?)
}

/// Writes what stays of the month: a receipt per row whose call's idempotency record
/// names it (returns how many), each player's carried seq and balance, the month's
/// tombstones, and the archive's own record.
pub async fn keep_what_stays(
    tx: &Transaction<'_>,
    month: NaiveDate,
    partition: &str,
    archive: &ArchiveFile,
) -> Result<u64, DbError> {
    let receipts = tx
        .execute(
            &statement(
                "INSERT INTO ledger_receipts (ledger_id, provider_id, transaction_id, player_id, \
                     kind, currency, balance_after, linked_bet, reversed) \
                 SELECT t.id, t.provider_id, t.transaction_id, t.player_id, t.kind, t.currency, \
                        t.balance_after, \
                        CASE WHEN t.reference_id IS NOT NULL THEN t.reference_transaction_id END, \
                        t.kind = 'bet' AND EXISTS (SELECT 1 FROM {p} r \
                            WHERE ledger_key(r.provider_id, r.reference_transaction_id, r.player_id) \
                                  = ledger_key(t.provider_id, t.transaction_id, t.player_id) \
                              AND r.kind = 'rollback' AND r.reference_id = t.id) \
                 FROM {p} t JOIN idempotency_keys k \
                   ON k.key = call_key(t.provider_id, t.transaction_id) AND k.ledger_id = t.id",
                partition,
            )?,
            &[],
        )
        .await?;
    // A rollback of this month that reversed a bet of a month archived before.
    tx.execute(
        &statement(
            "UPDATE ledger_receipts b SET reversed = true \
             FROM {p} r \
             WHERE r.kind = 'rollback' AND r.reference_id = b.ledger_id \
               AND b.kind = 'bet' AND NOT b.reversed",
            partition,
        )?,
        &[],
    )
    .await?;
    tx.execute(
        &statement(
            "INSERT INTO ledger_carried (player_id, seq, balance, through) \
             SELECT DISTINCT ON (player_id) player_id, seq, balance_after, $1 \
             FROM {p} ORDER BY player_id, seq DESC, id DESC \
             ON CONFLICT (player_id) DO UPDATE \
             SET seq = excluded.seq, balance = excluded.balance, through = excluded.through",
            partition,
        )?,
        &[&month],
    )
    .await?;
    tx.execute(
        &statement(
            "INSERT INTO ledger_tombstones \
                 (key, provider_id, reference_transaction_id, player_id, ledger_id) \
             SELECT DISTINCT ON (1) \
                    ledger_key(provider_id, reference_transaction_id, player_id), \
                    provider_id, reference_transaction_id, player_id, id \
             FROM {p} \
             WHERE kind = 'rollback' AND reference_id IS NULL \
               AND reference_transaction_id IS NOT NULL \
             ORDER BY 1, id \
             ON CONFLICT (key) DO NOTHING",
            partition,
        )?,
        &[],
    )
    .await?;
    // The key is a hash of the ids: a tombstone whose key another one's ids already took
    // would be dropped by the ON CONFLICT above; the archive stops rather than lose it.
    let lost: i64 = tx
        .query_one(
            &statement(
                "SELECT count(*) FROM {p} t \
                 WHERE t.kind = 'rollback' AND t.reference_id IS NULL \
                   AND t.reference_transaction_id IS NOT NULL \
                   AND NOT EXISTS (SELECT 1 FROM ledger_tombstones z \
                       WHERE z.key = ledger_key(t.provider_id, t.reference_transaction_id, t.player_id) \
                         AND (z.provider_id, z.reference_transaction_id, z.player_id) \
                             = (t.provider_id, t.reference_transaction_id, t.player_id))",
                partition,
            )?,
            &[],
        )
        .await?
        .get(0);
    if lost != 0 {
        return Err(DbError::Data(format!(
            "{lost} tombstone(s) of {partition} share a key with other ids; nothing was archived"
        )));
    }
    tx.execute(
        "INSERT INTO ledger_archives (month, partition, row_count, file, bytes, sha256) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &month,
            &partition,
            &archive.rows,
            &archive.file,
            &archive.bytes,
            &archive.sha256,
        ],
    )
    .await?;
    Ok(receipts)
}

/// What the archive file of a month holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    pub file: String,
    pub rows: i64,
    pub bytes: i64,
    /// Lower-case hex.
    pub sha256: String,
}

/// Detaches the month's partition from the ledger and drops it. DETACH takes an ACCESS
/// EXCLUSIVE lock on the ledger, which every money call's statements wait behind: it is
/// tried with a short `lock_timeout` (inside a savepoint, so the transaction survives a
/// timeout) up to `attempts` times, so that money calls wait a fraction of a second at
/// most. False when every attempt timed out (nothing was detached).
pub async fn detach_and_drop(
    tx: &mut Transaction<'_>,
    partition: &str,
    attempts: u32,
) -> Result<bool, DbError> {
    let detach = statement("ALTER TABLE transactions DETACH PARTITION {p}", partition)?;
    // From the detach to the commit every money call waits: the server bounds that
    // window even if this client stalls.
    tx.batch_execute(
        "SET LOCAL lock_timeout = '200ms'; \
         SET LOCAL statement_timeout = '10s'; \
         SET LOCAL idle_in_transaction_session_timeout = '10s'",
    )
    .await?;
    for attempt in 1..=attempts {
        let savepoint = tx.savepoint("detach").await?;
        match savepoint.batch_execute(&detach).await {
            Ok(()) => {
                savepoint.commit().await?;
                tx.batch_execute(&statement("DROP TABLE {p}", partition)?)
                    .await?;
                return Ok(true);
            }
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                savepoint.rollback().await?;
                tracing::info!(partition, attempt, "the ledger is busy; detaching again");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}
