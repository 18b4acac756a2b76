//! How a money call runs: on its own task, within the in-flight cap and its deadline,
//! in the player's turn, as attempts retried with jittered backoff; each attempt reads
//! its context, locks the player in a commit group, decides by a pure rule, and writes.

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::Object;
use rand::Rng;
use tokio::time::Instant;
use uuid::Uuid;

use super::command::Fingerprint;
use super::group::Member;
use super::rules::{Decision, Plan};
use super::{Answer, LedgerError, Wallet};
use crate::db::idempotency::Recorded;
use crate::db::ledger::NewLedgerRow;
use crate::db::movement::{GroupWrite, RoundChange, Seen};
use crate::db::{self, DbError};
use crate::domain::{Direction, ErrorCode, Outcome, Player, PlayerId, Receipt, Refusal, TxKey};

/// One money call, run by [`Wallet::execute`] as one or more attempts. Every attempt
/// has two parts:
///
/// 1. reads by shared keys (the idempotency record, session, round, the round's ledger
///    rows, tombstones), as single statements on a pooled connection, outside any
///    transaction ([`Attempt::client`]);
/// 2. the transaction, in a commit group ([`super::group`]): BEGIN ISOLATION LEVEL
///    SERIALIZABLE pipelined with the player rows `FOR UPDATE` and their balances
///    ([`Attempt::lock`]), the rule's decision in memory, then one write statement
///    pipelined with COMMIT ([`finish`]).
///
/// Why the split: under SERIALIZABLE, PostgreSQL tracks reads with predicate locks on
/// whole index pages, and the newest end of each shared index (rounds, ledger rows,
/// idempotency keys) is read and written by every concurrent call. Reading those in
/// the snapshot makes calls of *different* players abort each other (measured: dozens
/// of exhausted retries in the randomized bank test). The shared-key reads do not need
/// the snapshot; they need to be current when the call commits, and that is checked
/// under the player's row lock, in any number of processes:
///
/// - the first read of every attempt ([`db::movement::context`]) also reads the
///   player's ledger sequence, which every ledger row of the player bumps in the
///   transaction that writes it ([`db::movement::write_and_commit`]). What a call's
///   rule depends on — its rounds, tombstones, the bets a win or rollback finds — only
///   changes by such a row, or by `wallet archive` turning a month's rows into
///   receipts (which bumps no sequence: a rollback reads its bet's rows before the
///   bet itself, so it can see the bet archived with its rows still live, never the
///   bet live with its rows gone, and the archived-bet rule reads both). If the
///   locked player's sequence is still the one read, nothing the reads saw has
///   changed; if not, the attempt ends without writing ([`DbError::Stale`]) and is
///   tried again;
/// - the unique keys on `(provider, transaction_id)` and rounds refuse any write that a
///   concurrent call made first (a recorded refusal writes no ledger row; a key of
///   another player's call is such a write), and the attempt is then retried;
/// - the balance is read, checked and updated inside the serializable transaction.
///
/// Waiting instead of aborting: inside this process, calls of one player take turns
/// ([`super::locks::PlayerLocks`]); across processes, every commit group holds its
/// players' advisory locks around its transaction ([`super::group`]). An attempt tried
/// again after a stale read first runs as before, in a commit group: what made it stale
/// has committed, and the call (a resend that now replays, a win that now finds its
/// bet) is usually done. Only one that goes stale a second time takes its player's
/// advisory lock before it reads and commits on that same connection, so it cannot go
/// stale again: a commit of its own, without the group's sharing. Neither is needed for
/// correct money: the sequence check is.
pub(super) trait MoneyCall: Send + Sync {
    fn player(&self) -> &PlayerId;
    /// The call's name in metrics and logs.
    fn kind(&self) -> &'static str;
    fn attempt<'a>(
        &'a self,
        wallet: &'a Wallet,
        attempt: Attempt,
    ) -> impl Future<Output = Result<Answer, LedgerError>> + Send + 'a;
}

/// What one attempt works with: a pooled connection for its reads, then a place in a
/// commit group.
pub(super) struct Attempt {
    /// `None` once handed to [`Groups::alone`](super::group::Groups::alone).
    client: Option<Object>,
    /// Whether the attempt must run in a group of its own.
    solo: bool,
    /// Whether `client` holds the player's advisory lock: the attempt reads and commits
    /// under it, on that connection (after a stale read, see [`Attempt::lock`]).
    exclusive: bool,
}

impl Attempt {
    /// The connection for reads by shared keys, outside any transaction.
    pub(super) fn client(&self) -> &db::Client {
        self.client
            .as_ref()
            .expect("an attempt's connection is there until it locks")
    }

    /// Gives the read connection back and waits for a commit group to lock the player;
    /// then checks that the player's rows are still where `seen` (what the call's
    /// context read) says, and its ledger sequence the same: if a call of this player
    /// committed in between, in this process or another, the reads are stale and the
    /// attempt ends with [`DbError::Stale`] without writing (it is tried again; after a second stale
    /// read, under the player's advisory lock, so that it cannot go stale again).
    pub(super) async fn lock(
        mut self,
        wallet: &Wallet,
        player: &PlayerId,
        seen: Option<Seen>,
    ) -> Result<(Player, Member), LedgerError> {
        // A player the call's read did not find: its transaction has nothing to lock.
        let seen = seen.ok_or_else(super::queries::player_not_found)?;
        let client = self.client.take().expect("an attempt locks once");
        let groups = &wallet.inner.groups;
        let (locked, member) = match self.exclusive {
            true => groups.alone(client, player.as_str(), seen.rows).await?,
            false => {
                drop(client);
                groups.join(player.as_str(), seen.rows, self.solo).await?
            }
        };
        // Players are never deleted: one that is not where it was read has moved.
        match locked {
            Some(locked) if locked.ledger_seq == seen.ledger_seq => Ok((locked, member)),
            _ => {
                metrics::counter!("wallet_stale_reads_total").increment(1);
                Err(DbError::Stale.into())
            }
        }
    }
}

impl Drop for Attempt {
    /// An exclusive attempt that ends before its transaction (a replay, a refusal that
    /// is not recorded, an error) gives its player's lock back before its connection
    /// returns to the pool; a connection that cannot is closed (the server then
    /// releases the lock).
    fn drop(&mut self) {
        if let (true, Some(client)) = (self.exclusive, self.client.take()) {
            tokio::spawn(async move {
                if db::unlock_all(&client).await.is_err() {
                    drop(Object::take(client));
                }
            });
        }
    }
}

impl Wallet {
    /// Runs a money call to completion on its own task, so that a client hanging up
    /// cannot cut a transaction in half: a place among the calls in flight, the
    /// player's turn, then attempts until `deadline`.
    pub(super) async fn execute<M: MoneyCall + 'static>(
        &self,
        call: M,
        deadline: Instant,
    ) -> Result<Answer, LedgerError> {
        let Ok(permit) = self.inner.in_flight.clone().try_acquire_owned() else {
            metrics::counter!("wallet_money_calls_shed_total").increment(1);
            return Err(LedgerError::Overloaded);
        };
        let wallet = self.clone();
        let kind = call.kind();
        let span = tracing::Span::current();
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move {
                let _permit = permit;
                let wait = deadline.saturating_duration_since(Instant::now());
                let _turn = wallet
                    .inner
                    .locks
                    .lock(call.player().as_str(), wait)
                    .await?;
                wallet.attempts(&call, deadline).await
            },
            span,
        ));
        let result = task.await.unwrap_or_else(|e| {
            // The panic message stays in the log: it may name a player.
            tracing::error!(error = %e, "money task failed");
            Err(LedgerError::Internal("money task failed".into()))
        });
        // A win that waits for its bet is counted once, when it is answered.
        if !matches!(&result, Err(e) if e.code() == ErrorCode::BetNotFound) {
            record_outcome(kind, &result);
        }
        result
    }

    /// Attempts of one call: conflicts, keys taken meanwhile, failures shared with other
    /// members of a group and commits in doubt are tried again (in doubt: the next
    /// attempt's read of the idempotency record, or its write meeting the unique key,
    /// tells whether the first one committed). Bounded by the retry count and the
    /// deadline; a call whose commit was once in doubt never answers `retry_later`.
    async fn attempts<M: MoneyCall>(
        &self,
        call: &M,
        deadline: Instant,
    ) -> Result<Answer, LedgerError> {
        let s = &self.inner.settings;
        let mut backoff_ms = s.retry_backoff_base_ms;
        let mut retry: u32 = 0;
        let mut solo = false;
        let mut in_doubt: Option<DbError> = None;
        let mut stale: u32 = 0;
        // A player whose calls lately went stale (another process commits for it too)
        // is read under its advisory lock from the first attempt.
        let mut exclusive =
            s.player_advisory_locks && self.inner.locks.contended(call.player().as_str());
        loop {
            let error = match self
                .attempt_client(call.player(), exclusive, deadline)
                .await
            {
                Ok(client) => {
                    let attempt = Attempt {
                        client: Some(client),
                        solo,
                        exclusive,
                    };
                    match call.attempt(self, attempt).await {
                        Ok(answer) => return Ok(answer),
                        Err(error) => error,
                    }
                }
                Err(error) => error,
            };
            let LedgerError::Db(e) = error else {
                return Err(error);
            };
            let retryable = e.is_retryable()
                || e.is_stale()
                || e.is_unique_violation()
                || e.is_shared_failure()
                || e.is_in_doubt()
                || (in_doubt.is_some() && e.is_unavailable());
            if !retryable {
                return Err(unless_in_doubt(in_doubt, e));
            }
            // A stale read is tried again at once: what made it stale has committed,
            // and a second try waits for the player's lock at the database instead of
            // sleeping.
            let sleep_ms = match e.is_stale() && s.player_advisory_locks {
                true => 0,
                false => {
                    let jitter = rand::thread_rng().gen_range(0..=backoff_ms);
                    (backoff_ms / 2).saturating_add(jitter / 2)
                }
            };
            let out_of_time = Instant::now()
                .checked_add(Duration::from_millis(sleep_ms))
                .map_or(true, |wake| wake >= deadline);
            if retry >= s.serialization_retries_max || out_of_time {
                metrics::counter!("wallet_serialization_retries_exhausted_total", "kind" => call.kind()).increment(1);
                tracing::warn!(kind = call.kind(), retries = retry, out_of_time, reason = e.retry_reason(), error = %e, "retries exhausted");
                return Err(unless_in_doubt(in_doubt, e));
            }
            let reason = e.retry_reason();
            // A failure shared with other calls may have been another member's, and a
            // commit in doubt must not be mixed with other calls' fates: try alone.
            solo |= e.is_shared_failure() || e.is_in_doubt();
            if e.is_stale() {
                self.inner.locks.mark_contended(call.player().as_str());
                stale = stale.saturating_add(1);
            }
            exclusive |= stale >= 2 && s.player_advisory_locks;
            if e.is_in_doubt() {
                tracing::warn!(kind = call.kind(), error = %e, "commit in doubt; looking again");
                in_doubt = Some(e);
            } else {
                tracing::debug!(kind = call.kind(), retry, error = %e, "retrying after a conflict");
            }
            retry = retry.saturating_add(1);
            metrics::counter!("wallet_serialization_retries_total", "kind" => call.kind(), "reason" => reason)
                .increment(1);
            if sleep_ms > 0 {
                tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
                backoff_ms = backoff_ms.saturating_mul(2).min(s.retry_backoff_max_ms);
            }
        }
    }

    /// A connection for one attempt; for an exclusive attempt, one that holds the
    /// player's advisory lock (the wait for it is bounded by `lock_timeout`).
    async fn attempt_client(
        &self,
        player: &PlayerId,
        exclusive: bool,
        deadline: Instant,
    ) -> Result<Object, LedgerError> {
        let client = self.client().await?;
        if exclusive {
            let keys = [db::player_lock_key(player.as_str())];
            let locked = tokio::time::timeout_at(deadline, db::lock_players(&client, &keys)).await;
            match locked {
                Ok(Ok(())) => {}
                // A failed statement holds no lock (a broken connection is not recycled).
                Ok(Err(e)) => return Err(e.into()),
                // An abandoned wait does not leave the connection fit for the pool: the
                // lock may be granted after all.
                Err(_) => {
                    drop(Object::take(client));
                    return Err(LedgerError::Db(DbError::Lost {
                        why: "the call's deadline passed while it waited for its player's lock",
                        in_doubt: false,
                    }));
                }
            }
        }
        Ok(client)
    }

    /// A replay of what was recorded, with the balance the policy asks for.
    pub(super) async fn replay(
        &self,
        client: &db::Client,
        recorded: Recorded,
        fingerprint: &Fingerprint,
        replay_balance: super::policy::ReplayBalance,
        player: &PlayerId,
    ) -> Result<Answer, LedgerError> {
        let mut answer = super::idempotency::replay(recorded, fingerprint)?;
        if replay_balance == super::policy::ReplayBalance::Current {
            let now = db::players::get(client, player.as_str())
                .await?
                .ok_or_else(super::queries::player_not_found)?;
            match &mut answer.outcome {
                Outcome::Applied(r) => r.balance = now.balances,
                Outcome::Refused(r) => r.balance = now.balances,
            }
        }
        Ok(answer)
    }
}

/// The error to answer with: once a commit was in doubt, only its outcome is unknown.
fn unless_in_doubt(in_doubt: Option<DbError>, e: DbError) -> LedgerError {
    match in_doubt {
        Some(first) if !e.is_in_doubt() => LedgerError::OutcomeUnknown(first),
        Some(_) => LedgerError::OutcomeUnknown(e),
        None if e.is_in_doubt() => LedgerError::OutcomeUnknown(e),
        None => LedgerError::Db(e),
    }
}

/// Writes what the rule decided and commits it with the call's idempotency record:
/// the movement and its receipt, or the refusal (recorded, nothing moves).
pub(super) async fn finish(
    member: Member,
    key: &TxKey,
    fingerprint: &Fingerprint,
    player: &Player,
    decision: Decision,
) -> Result<Answer, LedgerError> {
    let (write, plan) = match decision {
        Decision::Fail(error) => return Err(error),
        Decision::Refuse(reason) => {
            let outcome = Outcome::Refused(Refusal {
                reason,
                balance: player.balances.clone(),
                currency: player.currency.clone(),
            });
            let write = GroupWrite {
                player_id: player.player_id.clone(),
                deltas: Vec::new(),
                missing_categories: Vec::new(),
                row: None,
                key: key.clone(),
                record: Recorded {
                    fingerprint: fingerprint.clone(),
                    outcome,
                },
                round: RoundChange::None,
            };
            (write, None)
        }
        Decision::Apply(plan) => (movement_write(key, fingerprint, player, &plan), Some(plan)),
    };
    let outcome = write.record.outcome.clone();
    let applied = member.commit(write).await?;
    if let Some(plan) = plan {
        for (category, amount) in &applied {
            // The player row lock makes the read balance current; anything else is a
            // broken invariant, and the transaction has already committed.
            assert_eq!(
                plan.balance_after.get(category).minor(),
                *amount,
                "balance of {category} for {} drifted from the computed value",
                player.player_id,
            );
        }
    }
    Ok(Answer {
        outcome,
        replayed: false,
    })
}

fn movement_write(
    key: &TxKey,
    fingerprint: &Fingerprint,
    player: &Player,
    plan: &Plan,
) -> GroupWrite {
    let m = &plan.movement;
    let id = Uuid::now_v7();
    let sign: i64 = match m.kind.direction() {
        Direction::Debit => -1,
        Direction::Credit => 1,
    };
    let deltas = m
        .split
        .iter()
        .filter(|(_, a)| !a.is_zero())
        .map(|(c, a)| (c.clone(), sign.saturating_mul(a.minor())))
        .collect();
    let missing_categories = m
        .split
        .keys()
        .filter(|c| !player.balances.has_row(c))
        .cloned()
        .collect();
    let linked_bet = m.reference_id.and(m.reference_transaction_id.clone());
    let receipt = Receipt {
        transaction_id: key.transaction.clone(),
        wallet_transaction_id: id,
        balance: plan.balance_after.clone(),
        currency: player.currency.clone(),
        linked_bet,
    };
    GroupWrite {
        player_id: player.player_id.clone(),
        deltas,
        missing_categories,
        row: Some(NewLedgerRow {
            id,
            provider_id: key.provider.clone(),
            transaction_id: key.transaction.clone(),
            player_id: player.player_id.clone(),
            kind: m.kind,
            win_kind: m.win_kind,
            amount: m.amount,
            currency: player.currency.clone(),
            split: m.split.clone(),
            balance_after: plan.balance_after.clone(),
            round_id: m.round_id.clone(),
            game_id: m.game_id.clone(),
            session_id: m.session_id,
            reference_id: m.reference_id,
            reference_transaction_id: m.reference_transaction_id.clone(),
            seq: plan.seq,
        }),
        key: key.clone(),
        record: Recorded {
            fingerprint: fingerprint.clone(),
            outcome: Outcome::Applied(receipt),
        },
        round: m.round.clone(),
    }
}

/// Counts an answered money call by kind, outcome and code.
pub(super) fn record_outcome(kind: &'static str, result: &Result<Answer, LedgerError>) {
    let (outcome, code) = match result {
        Ok(a) if a.replayed => ("replayed", "none"),
        Ok(Answer {
            outcome: Outcome::Applied(_),
            ..
        }) => ("applied", "none"),
        Ok(Answer {
            outcome: Outcome::Refused(r),
            ..
        }) => ("rejected", r.reason.code().as_str()),
        Err(e) => ("rejected", e.code().as_str()),
    };
    metrics::counter!("wallet_money_calls_total", "kind" => kind, "outcome" => outcome, "code" => code)
        .increment(1);
}
