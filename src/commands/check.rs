//! `wallet check-db` and `wallet check-ledger`: read-only checks an operator runs
//! against a live database. Non-zero exit when something is off.

use std::process::ExitCode;

use crate::config::Settings;
use crate::db;

/// The enterprise profile as `SHOW` prints each value (60s prints as 1min).
pub const ENTERPRISE_PROFILE: &[(&str, &str)] = &[
    ("max_connections", "1000"),
    ("shared_buffers", "2GB"),
    ("work_mem", "32MB"),
    ("maintenance_work_mem", "256MB"),
    ("effective_cache_size", "16GB"),
    ("wal_buffers", "64MB"),
    ("wal_writer_delay", "100ms"),
    ("commit_delay", "2000"),
    ("max_wal_size", "8GB"),
    ("checkpoint_timeout", "30min"),
    ("autovacuum_max_workers", "10"),
    ("autovacuum_naptime", "15s"),
    ("autovacuum_vacuum_cost_delay", "0"),
    ("autovacuum_vacuum_cost_limit", "4000"),
    ("max_locks_per_transaction", "512"),
    ("max_pred_locks_per_transaction", "128"),
    // Not in the brief's list: commit groups need them (README, "Why commit groups").
    ("max_pred_locks_per_page", "32"),
    ("max_pred_locks_per_relation", "1000"),
    // Not in the brief's list either: compressed full-page images (BENCHMARKS.md,
    // "Months of ledger").
    ("wal_compression", "lz4"),
    ("statement_timeout", "1min"),
    ("lock_timeout", "30s"),
    ("synchronous_commit", "on"),
];

pub async fn check_db(settings: &Settings) -> anyhow::Result<ExitCode> {
    let pool = db::single_connection_pool(&settings.database.url, "wallet-check")?;
    let client = db::acquire(&pool).await?;
    let names: Vec<&str> = ENTERPRISE_PROFILE.iter().map(|(n, _)| *n).collect();
    let actual = db::health::settings(&client, &names).await?;
    let mut differing = 0;
    println!(
        "{:<34} {:>10} {:>10}  status",
        "setting", "expected", "actual"
    );
    for (name, expected) in ENTERPRISE_PROFILE {
        let value = actual
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("(missing)");
        let ok = value == *expected;
        differing += usize::from(!ok);
        println!(
            "{:<34} {:>10} {:>10}  {}",
            name,
            expected,
            value,
            if ok { "ok" } else { "DIFFERS" }
        );
    }
    let m = db::health::monitoring(&client).await?;
    let hit_ratio = if m.buffer_hits + m.buffer_reads > 0 {
        100.0 * m.buffer_hits as f64 / (m.buffer_hits + m.buffer_reads) as f64
    } else {
        100.0
    };
    println!();
    println!("server version                     {}", m.server_version);
    println!(
        "connections                        {} open, {} active = {:.1}% of max_connections {}",
        m.connections,
        m.active_connections,
        100.0 * m.active_connections as f64 / m.max_connections.max(1) as f64,
        m.max_connections
    );
    println!(
        "shared-buffer hit ratio            {hit_ratio:.2}% ({} hits, {} reads)",
        m.buffer_hits, m.buffer_reads
    );
    match m.wal_bytes {
        Some(bytes) => println!("WAL bytes written                  {bytes}"),
        None => println!("WAL bytes written                  (pg_stat_wal unavailable)"),
    }
    println!("lock waits (ungranted locks now)   {}", m.lock_waits);
    println!("deadlocks since stats reset        {}", m.deadlocks);
    println!(
        "recovery conflicts                 {}",
        m.serialization_conflicts
    );
    println!("autovacuum runs per table:");
    for (table, vacuums, analyzes, dead) in &m.tables {
        println!(
            "  {table:<32} autovacuum {vacuums:>5}  autoanalyze {analyzes:>5}  dead tuples {dead}"
        );
    }
    println!();
    if differing == 0 {
        println!("profile: every enterprise setting matches");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("profile: {differing} setting(s) differ from the enterprise profile");
        Ok(ExitCode::FAILURE)
    }
}

/// Reconciles every balance with its ledger entries and checks the money rules
/// ([`db::health::rule_violations`]), both on one read-only snapshot, and prints the
/// reconciliation, then the violations. Exit 0 and `ledger: clean` only when neither
/// finds anything (a reconciliation that fails on malformed rows is a failure too).
pub async fn check_ledger(settings: &Settings) -> anyhow::Result<ExitCode> {
    let pool = db::single_connection_pool(&settings.database.url, "wallet-check")?;
    let client = db::acquire(&pool).await?;
    // The locks come before the snapshot (a SELECT would take it). SHARE on
    // `ledger_archives` waits for no archive: one that runs holds it EXCLUSIVE (and
    // one that starts meanwhile waits for this check, or gives up before any work);
    // the ledger's lock keeps any detach of a partition from committing between the
    // snapshot and the reads.
    let locked = client
        .batch_execute(
            "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
             SET LOCAL lock_timeout = '10s'; \
             LOCK TABLE ledger_archives IN SHARE MODE; \
             LOCK TABLE transactions IN ACCESS SHARE MODE",
        )
        .await;
    if let Err(e) = locked {
        if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
            anyhow::bail!("a `wallet archive` is running; run check-ledger again when it ends");
        }
        return Err(e.into());
    }
    // The rules first: their queries read malformed JSON without failing, the
    // reconciliation's casts do not, and a failed statement ends the snapshot.
    let violations = db::health::rule_violations(&client).await?;
    let reconciled = db::health::reconcile(&client).await;
    client.batch_execute("COMMIT").await?;

    let mut reconciles = false;
    match &reconciled {
        Err(e) => println!("ledger: the reconciliation failed: {}", describe(e)),
        Ok(discrepancies) if discrepancies.is_empty() => {
            reconciles = true;
            println!("ledger: every balance equals the sum of its ledger entries");
        }
        Ok(discrepancies) => print_discrepancies(discrepancies),
    }

    println!();
    if violations.is_empty() {
        println!("rules: every money rule holds");
    } else {
        println!("{:<18} {:<36} {:<40} detail", "rule", "row", "player");
        for v in &violations {
            let row = v
                .transaction_id
                .map(|id| id.to_string())
                .unwrap_or_else(|| "(no row)".into());
            println!(
                "{:<18} {:<36} {:<40} {}",
                v.rule, row, v.player_id, v.detail
            );
        }
        let rules = db::health::rule::ALL
            .iter()
            .filter_map(|rule| {
                let n = violations.iter().filter(|v| v.rule == *rule).count();
                (n > 0).then(|| format!("{rule} {n}"))
            })
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "rules: {} violation(s) of the money rules ({rules})",
            violations.len()
        );
    }

    if reconciles && violations.is_empty() {
        println!("ledger: clean");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

fn print_discrepancies(discrepancies: &[db::health::Discrepancy]) {
    println!(
        "{:<40} {:<12} {:>20} {:>20}",
        "player", "category", "balance", "ledger sum"
    );
    for d in discrepancies {
        let balance = d
            .balance
            .map(|b| b.to_string())
            .unwrap_or_else(|| "(no row)".into());
        println!(
            "{:<40} {:<12} {:>20} {:>20}",
            d.player_id, d.category, balance, d.ledger_sum
        );
    }
    println!(
        "ledger: {} balance(s) do not reconcile (amounts in minor units)",
        discrepancies.len()
    );
}

/// A database error with the server's message (tokio-postgres shows only "db error").
fn describe(e: &db::DbError) -> String {
    match e {
        db::DbError::Pg(pg) => pg
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_else(|| pg.to_string()),
        other => other.to_string(),
    }
}
