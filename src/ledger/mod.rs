//! The service layer, protocol-free: typed commands in ([`command`]), typed outcomes
//! out ([`Answer`]); pure money rules ([`rules`]) with a [`Policy`] where protocols
//! disagree; transaction boundaries, retries, idempotency, correlation, commit groups
//! and per-player turns ([`engine`]). No wire format is known here.
// Money code: every sum and difference is checked or saturating (casts are denied for
// the whole crate in Cargo.toml's [lints]).
#![deny(clippy::arithmetic_side_effects)]

mod calls;
pub mod command;
mod engine;
mod error;
mod group;
mod idempotency;
mod locks;
pub mod policy;
mod queries;
pub mod rules;
mod signals;
mod sweeper;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::{LedgerSettings, Settings};
use crate::db;
use crate::domain::{Categories, Currencies, Currency, Outcome, Player};
use calls::bet::BetCall;
use calls::cash::CashCall;
use calls::rollback::RollbackCall;
use calls::win::WinCall;

pub use command::{
    BetCommand, CashCommand, CashDirection, Money, RollbackCommand, SessionRef, WinCommand,
    WireFields,
};
pub use error::LedgerError;
pub use policy::Policy;
pub use queries::{BalanceView, OpenSession, RoundView, TransactionPage};
pub use sweeper::spawn_background_jobs;

/// The answer to a money call: its outcome as recorded, and whether this is a replay
/// of an earlier identical call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub outcome: Outcome,
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
    providers: HashSet<String>,
    locks: locks::PlayerLocks,
    signals: signals::BetSignals,
    groups: group::Groups,
    /// Places for money calls in flight in this process.
    in_flight: Arc<Semaphore>,
}

impl Wallet {
    pub fn new(pool: Pool, settings: &Settings) -> Self {
        let ledger = &settings.ledger;
        Self {
            inner: Arc::new(Inner {
                pool: pool.clone(),
                categories: settings.categories(),
                currencies: settings.currencies(),
                settings: ledger.clone(),
                providers: settings.providers.iter().map(|p| p.id.clone()).collect(),
                locks: locks::PlayerLocks::new(
                    ledger.player_queue_max,
                    Duration::from_millis(ledger.player_wait_ms_max),
                ),
                signals: signals::BetSignals::default(),
                groups: group::Groups::start(
                    pool,
                    ledger.commit_lanes,
                    ledger.commit_group_max,
                    Duration::from_millis(settings.database.statement_timeout_ms),
                    ledger.player_advisory_locks,
                ),
                in_flight: Arc::new(Semaphore::new(ledger.money_calls_in_flight_max)),
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

    /// A configured currency; an unknown code is `invalid_request`.
    pub fn currency(&self, code: &str) -> Result<Currency, LedgerError> {
        self.inner
            .currencies
            .get(code)
            .ok_or_else(|| LedgerError::invalid(format!("unknown currency {code:?}")))
    }

    /// The player's currency as configured; a stored code that left the
    /// configuration is an operational error.
    pub fn player_currency(&self, player: &Player) -> Result<Currency, LedgerError> {
        self.inner.currencies.get(&player.currency).ok_or_else(|| {
            LedgerError::Internal(format!(
                "currency {} of a player is no longer configured",
                player.currency
            ))
        })
    }

    async fn client(&self) -> Result<Object, LedgerError> {
        Ok(db::acquire(&self.inner.pool).await?)
    }

    /// When a money call that starts now must have its answer.
    fn deadline(&self) -> Instant {
        let budget = Duration::from_millis(self.inner.settings.money_call_deadline_ms);
        let now = Instant::now();
        now.checked_add(budget).unwrap_or(now)
    }

    pub async fn bet(&self, cmd: BetCommand, policy: Policy) -> Result<Answer, LedgerError> {
        self.bet_with(cmd, policy, &[]).await
    }

    /// A bet whose duplicates are also told apart by protocol fields ([`WireFields`]).
    pub async fn bet_with(
        &self,
        cmd: BetCommand,
        policy: Policy,
        wire: WireFields<'_>,
    ) -> Result<Answer, LedgerError> {
        let fingerprint = command::with_wire(cmd.fingerprint(), wire);
        let call = BetCall {
            cmd,
            fingerprint,
            policy,
        };
        self.execute(call, self.deadline()).await
    }

    pub async fn win(&self, cmd: WinCommand, policy: Policy) -> Result<Answer, LedgerError> {
        self.win_with(cmd, policy, &[]).await
    }

    /// A win whose duplicates are also told apart by protocol fields ([`WireFields`]).
    pub async fn win_with(
        &self,
        cmd: WinCommand,
        policy: Policy,
        wire: WireFields<'_>,
    ) -> Result<Answer, LedgerError> {
        let fingerprint = command::with_wire(cmd.fingerprint(), wire);
        let call = WinCall {
            cmd,
            fingerprint,
            policy,
        };
        self.correlated(call, self.deadline()).await
    }

    pub async fn rollback(
        &self,
        cmd: RollbackCommand,
        policy: Policy,
    ) -> Result<Answer, LedgerError> {
        self.rollback_with(cmd, policy, &[]).await
    }

    /// A rollback whose duplicates are also told apart by protocol fields
    /// ([`WireFields`]).
    pub async fn rollback_with(
        &self,
        cmd: RollbackCommand,
        policy: Policy,
        wire: WireFields<'_>,
    ) -> Result<Answer, LedgerError> {
        let fingerprint = command::with_wire(cmd.fingerprint(), wire);
        let call = RollbackCall {
            cmd,
            fingerprint,
            policy,
        };
        self.execute(call, self.deadline()).await
    }

    /// A deposit or a withdrawal; the category of a deposit must be configured.
    pub async fn cash(&self, cmd: CashCommand) -> Result<Answer, LedgerError> {
        if let CashDirection::Deposit { category } = &cmd.direction {
            if !self.categories().contains(category) {
                return Err(LedgerError::invalid(format!(
                    "unknown balance category {category:?}"
                )));
            }
        }
        let fingerprint = cmd.fingerprint();
        self.execute(CashCall { cmd, fingerprint }, self.deadline())
            .await
    }
}
