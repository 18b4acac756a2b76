//! The ledger's monthly partitions (migration 20261203000001): one per UTC month, keyed
//! by the month's range of UUIDv7 row ids, created ahead of time by the service.

use chrono::NaiveDate;

use super::{Client, DbError};

/// The partitions of this UTC month (by the database's clock) and the `ahead` months
/// after it that do not exist yet.
const MISSING: &str = "\
SELECT m FROM (SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + n * interval '1 month')::date
               FROM generate_series(0, $1::int) AS n) AS months (m)
WHERE to_regclass(ledger_partition_name(m)) IS NULL
ORDER BY m";

/// Creates the partitions of this month and the `ahead` months after it that are
/// missing; returns the names of those it created (none, nearly always: the check
/// takes no lock). Replicas doing this at once take turns on an advisory lock, and the
/// second finds the work done. Attaching a partition does not make money calls wait
/// (see the migration); the wait for the locks it does take is bounded by
/// `lock_timeout`.
pub async fn ensure(client: &mut Client, ahead: u32) -> Result<Vec<String>, DbError> {
    let ahead = i32::try_from(ahead).unwrap_or(i32::MAX);
    if client.query(MISSING, &[&ahead]).await?.is_empty() {
        return Ok(Vec::new());
    }
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(ledger_partitions_lock())",
        &[],
    )
    .await?;
    let mut created = Vec::new();
    for row in tx.query(MISSING, &[&ahead]).await? {
        let month: NaiveDate = row.get(0);
        let made = tx
            .query_one(
                "SELECT create_ledger_partition($1), ledger_partition_name($1)",
                &[&month],
            )
            .await?;
        if made.get::<_, bool>(0) {
            created.push(made.get(1));
        }
    }
    tx.commit().await?;
    Ok(created)
}

/// The ledger's partitions, oldest first: each one's month (its first day) and name
/// (`transactions_YYYY_MM`).
pub async fn list(
    client: &impl tokio_postgres::GenericClient,
) -> Result<Vec<(NaiveDate, String)>, DbError> {
    let rows = client
        .query(
            "SELECT to_date(substr(c.relname, 14), 'YYYY_MM'), c.relname::text \
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'transactions'::regclass \
               AND c.relname ~ '^transactions_[0-9]{4}_[0-9]{2}$' \
             ORDER BY 1",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
