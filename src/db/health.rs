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
/// (bets and withdrawals debit, the other kinds credit). Empty means reconciled.
pub async fn reconcile(client: &Client) -> Result<Vec<Discrepancy>, DbError> {
    let rows = client
        .query(
            "WITH movements AS ( \
               SELECT t.player_id, s.key AS category, \
                      sum(CASE WHEN t.kind IN ('bet', 'withdrawal') THEN -(s.value::bigint) \
                               ELSE s.value::bigint END)::bigint AS net \
               FROM transactions t CROSS JOIN LATERAL jsonb_each_text(t.split) s \
               GROUP BY t.player_id, s.key) \
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
