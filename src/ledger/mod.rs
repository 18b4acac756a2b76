//! The service layer: bets, wins, rollbacks, deposits, withdrawals and queries. Owns
//! transaction boundaries, the retry loop, idempotency, per-player serialization and
//! bet-win correlation.

mod error;
mod group;
mod idempotency;
mod locks;
mod operator;
mod provider;
mod signals;
mod sweeper;
mod view;
mod write;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use rand::Rng;
use serde_json::Value;

use crate::config::{LedgerSettings, Settings};
use crate::db;
use crate::domain::{Categories, Currencies, Currency, ErrorCode};

pub use error::LedgerError;
pub use operator::{CreatePlayer, Deposit, OpenSession, PlayerStatusChange, Withdrawal};
pub use provider::{BalanceQuery, Bet, Rollback, Win};
pub use sweeper::spawn_background_jobs;

/// The answer to a money call: status and body as recorded, and whether this is a
/// replay of an earlier identical call.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: u16,
    pub body: Value,
    pub replayed: bool,
}

/// The wallet service; cheap to clone.
#[derive(Clone)]
pub struct Wallet {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    categories: Categories,
    currencies: Currencies,
    settings: LedgerSettings,
    providers: std::collections::HashSet<String>,
    locks: locks::PlayerLocks,
    signals: signals::BetSignals,
    groups: group::Groups,
}

/// One attempt at a money movement. Every attempt has two parts:
///
/// 1. reads by shared keys (the idempotency record, session, round, the round's ledger
///    rows, tombstones), as single statements on a pooled connection, outside any
///    transaction ([`Attempt::client`]);
/// 2. the transaction, in a commit group ([`group`]): BEGIN ISOLATION LEVEL
///    SERIALIZABLE pipelined with the player rows `FOR UPDATE` and their balances
///    ([`Attempt::lock`]), the attempt's decision in memory, then one write statement
///    pipelined with COMMIT ([`write::commit`]).
///
/// Why the split: under SERIALIZABLE, PostgreSQL tracks reads with predicate locks on
/// whole index pages, and the newest end of each shared index (rounds, ledger rows,
/// idempotency keys) is read and written by every concurrent call. Reading those in
/// the snapshot makes calls of *different* players abort each other (measured: dozens
/// of exhausted retries in the randomized bank test). The shared-key reads do not need
/// the snapshot: they happen while this process holds the player's turn
/// ([`locks::PlayerLocks`]), so no other call of the player can change them, and the
/// unique keys on `(provider, transaction_id)` and rounds refuse any write that a
/// concurrent call of another player made first (the attempt is then retried). What
/// the snapshot guards is the balance: its read, check and update are serializable.
trait Movement: Send + Sync {
    fn player_id(&self) -> &str;
    fn kind(&self) -> &'static str;
    fn attempt<'a>(
        &'a self,
        wallet: &'a Wallet,
        attempt: Attempt,
    ) -> impl Future<Output = Result<Outcome, LedgerError>> + Send + 'a;
}

/// What one attempt works with: a pooled connection for its reads, then a place in a
/// commit group.
struct Attempt {
    client: Object,
    /// Whether the attempt must run in a group of its own.
    solo: bool,
}

impl Attempt {
    /// The connection for reads by shared keys, outside any transaction.
    fn client(&self) -> &db::Client {
        &self.client
    }

    /// Gives the read connection back and waits for a commit group to lock the player.
    async fn lock(
        self,
        wallet: &Wallet,
        player_id: &str,
    ) -> Result<(db::players::PlayerRow, group::Member), LedgerError> {
        drop(self.client);
        let (player, member) = wallet.inner.groups.join(player_id, self.solo).await?;
        let player = player.ok_or_else(operator::player_not_found)?;
        Ok((player, member))
    }
}

impl Wallet {
    pub fn new(pool: Pool, settings: &Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool: pool.clone(),
                categories: settings.categories(),
                currencies: settings.currencies(),
                settings: settings.ledger.clone(),
                providers: settings.providers.iter().map(|p| p.id.clone()).collect(),
                locks: locks::PlayerLocks::new(
                    settings.ledger.player_queue_max,
                    Duration::from_millis(settings.ledger.player_wait_ms_max),
                ),
                signals: signals::BetSignals::default(),
                groups: group::Groups::start(
                    pool.clone(),
                    settings.ledger.commit_lanes,
                    settings.ledger.commit_group_max,
                    Duration::from_millis(settings.database.statement_timeout_ms),
                ),
            }),
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// Players with a money call running or waiting for its turn.
    pub fn players_in_flight(&self) -> usize {
        self.inner.locks.active()
    }

    /// Wins waiting for their bet.
    pub fn correlation_waiting(&self) -> usize {
        self.inner.signals.waiting()
    }

    pub fn categories(&self) -> &Categories {
        &self.inner.categories
    }

    fn currency(&self, code: &str) -> Result<Currency, LedgerError> {
        self.inner
            .currencies
            .get(code)
            .ok_or_else(|| LedgerError::invalid(format!("unknown currency {code:?}")))
    }

    /// The player's currency as configured; a stored code that left the
    /// configuration is an operational error.
    fn player_currency(&self, code: &str) -> Result<Currency, LedgerError> {
        self.inner.currencies.get(code).ok_or_else(|| {
            LedgerError::new(
                ErrorCode::Internal,
                format!("currency {code} of this player is no longer configured"),
            )
        })
    }

    async fn client(&self) -> Result<Object, LedgerError> {
        Ok(db::acquire(&self.inner.pool).await?)
    }

    /// Runs a money movement to completion on its own task, so that a client hanging
    /// up cannot cut a transaction in half: the player's turn, then attempts with
    /// jittered backoff on serialization failures.
    async fn execute<M: Movement + 'static>(&self, movement: M) -> Result<Outcome, LedgerError> {
        let wallet = self.clone();
        let kind = movement.kind();
        let task = tokio::spawn(async move {
            let _turn = wallet.inner.locks.lock(movement.player_id()).await?;
            wallet.attempts(&movement).await
        });
        let result = task.await.unwrap_or_else(|e| {
            Err(LedgerError::new(
                ErrorCode::Internal,
                format!("money task failed: {e}"),
            ))
        });
        // A win that waits for its bet is counted once, when it is answered.
        if !matches!(&result, Err(e) if e.code() == ErrorCode::BetNotFound) {
            record_outcome(kind, &result);
        }
        result
    }

    async fn attempts<M: Movement>(&self, movement: &M) -> Result<Outcome, LedgerError> {
        let s = &self.inner.settings;
        let mut backoff_ms = s.retry_backoff_base_ms;
        let mut retry = 0;
        let mut solo = false;
        loop {
            let client = self.client().await?;
            let error = match movement.attempt(self, Attempt { client, solo }).await {
                Ok(outcome) => return Ok(outcome),
                Err(error) => error,
            };
            let LedgerError::Db(e) = &error else {
                return Err(error);
            };
            if !(e.is_retryable() || e.is_unique_violation() || e.is_shared_failure()) {
                return Err(error);
            }
            if retry >= s.serialization_retries_max {
                metrics::counter!("wallet_serialization_retries_exhausted_total", "kind" => movement.kind()).increment(1);
                tracing::warn!(
                    kind = movement.kind(),
                    retries = retry,
                    "serialization retries exhausted"
                );
                return Err(error);
            }
            // A failure shared with other calls may have been another member's: this
            // call tries again alone.
            solo |= e.is_shared_failure();
            retry += 1;
            tracing::debug!(kind = movement.kind(), retry, error = %error, "retrying after a conflict");
            metrics::counter!("wallet_serialization_retries_total", "kind" => movement.kind())
                .increment(1);
            let jitter = rand::thread_rng().gen_range(0..=backoff_ms);
            tokio::time::sleep(Duration::from_millis(backoff_ms / 2 + jitter / 2)).await;
            backoff_ms = (backoff_ms * 2).min(s.retry_backoff_max_ms);
        }
    }
}

fn record_outcome(kind: &'static str, result: &Result<Outcome, LedgerError>) {
    let (outcome, code) = match result {
        Ok(o) if o.replayed => ("replayed", "none".to_owned()),
        Ok(o) if o.status == 200 => ("applied", "none".to_owned()),
        Ok(o) => ("rejected", view::error_code_of(&o.body)),
        Err(e) => ("rejected", e.code().as_str().to_owned()),
    };
    metrics::counter!("wallet_money_calls_total", "kind" => kind, "outcome" => outcome, "code" => code)
        .increment(1);
}
