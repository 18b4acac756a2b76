//! Background jobs: closing stale open rounds, creating the ledger's partitions ahead
//! of their months, and closing idle pooled connections.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Wallet;
use crate::db;

/// Rounds closed per sweep statement; a sweep repeats it until none are left or
/// `ledger.sweep_batches_max` statements ran (the next sweep goes on from there).
const SWEEP_BATCH: i64 = 1000;

/// How often a replica checks that the ledger's partitions exist ahead of their months.
const PARTITION_CHECK_EVERY: Duration = Duration::from_secs(3600);

/// Starts the jobs; they stop when `stop` is cancelled.
pub fn spawn_background_jobs(wallet: &Wallet, idle_timeout: Duration, stop: CancellationToken) {
    let w = wallet.clone();
    let s = stop.clone();
    tokio::spawn(async move {
        let every = Duration::from_secs(w.inner.settings.stale_round_sweep_interval_secs);
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = s.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = w.close_stale_rounds().await {
                tracing::warn!(error = %e, "stale round sweep failed");
            }
        }
    });
    let w = wallet.clone();
    let s = stop.clone();
    tokio::spawn(async move {
        // The first tick is at once: a replica starting checks before its first call.
        let mut tick = tokio::time::interval(PARTITION_CHECK_EVERY);
        loop {
            tokio::select! {
                _ = s.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = w.ensure_ledger_partitions().await {
                tracing::error!(error = %e, "creating the ledger's partitions ahead failed");
            }
        }
    });
    let w = wallet.clone();
    let s = stop;
    tokio::spawn(async move {
        let every = Duration::from_secs(1)
            .min(idle_timeout.checked_div(4).unwrap_or_default())
            .max(Duration::from_millis(1));
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = s.cancelled() => return,
                _ = tick.tick() => {}
            }
            db::close_idle_connections(w.pool(), idle_timeout);
        }
    });
}

impl Wallet {
    /// Creates the ledger partitions of this month and the next
    /// `ledger.partitions_ahead_months` that are missing; returns their names.
    pub async fn ensure_ledger_partitions(&self) -> Result<Vec<String>, super::LedgerError> {
        let mut client = self.client().await?;
        let ahead = self.inner.settings.partitions_ahead_months;
        let created = db::partitions::ensure(&mut client, ahead).await?;
        for name in &created {
            tracing::info!(partition = %name, "created a ledger partition");
        }
        metrics::counter!("wallet_ledger_partitions_created_total").increment(created.len() as u64);
        Ok(created)
    }

    /// Closes every round left open longer than `stale_round_age_secs`.
    pub async fn close_stale_rounds(&self) -> Result<u64, super::LedgerError> {
        let s = &self.inner.settings;
        let age_secs = i64::try_from(s.stale_round_age_secs).unwrap_or(i64::MAX);
        let cutoff = chrono::Utc::now()
            .checked_sub_signed(chrono::Duration::seconds(age_secs))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let client = self.client().await?;
        let mut closed: u64 = 0;
        for _ in 0..s.sweep_batches_max {
            let n = db::rounds::close_stale(&client, cutoff, SWEEP_BATCH).await?;
            closed = closed.saturating_add(n);
            if n < SWEEP_BATCH.unsigned_abs() {
                break;
            }
        }
        if closed > 0 {
            tracing::info!(rounds.closed = closed, "closed stale rounds");
            metrics::counter!("wallet_stale_rounds_closed_total").increment(closed);
        }
        Ok(closed)
    }
}
