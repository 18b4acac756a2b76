//! A win's attempt, and the wait for a bet that has not arrived yet.

use std::pin::pin;
use std::time::Instant as StdInstant;

use futures::try_join;
use tokio::time::Instant;

use crate::db;
use crate::domain::{ErrorCode, PlayerId};
use crate::ledger::command::{Fingerprint, WinCommand};
use crate::ledger::engine::{finish, record_outcome, Attempt, MoneyCall};
use crate::ledger::policy::Policy;
use crate::ledger::rules::win::{decide, WinContext};
use crate::ledger::{Answer, LedgerError, Wallet};

#[derive(Clone)]
pub struct WinCall {
    pub cmd: WinCommand,
    pub fingerprint: Fingerprint,
    pub policy: Policy,
}

impl MoneyCall for WinCall {
    fn player(&self) -> &PlayerId {
        &self.cmd.player
    }

    fn kind(&self) -> &'static str {
        "win"
    }

    async fn attempt(&self, wallet: &Wallet, attempt: Attempt) -> Result<Answer, LedgerError> {
        let cmd = &self.cmd;
        let client = attempt.client();
        let provider = cmd.key.provider.as_str();
        let needs_bet = cmd.kind.pays_a_bet();
        let session_id = cmd.session.and_then(|s| s.0);
        let player = cmd.player.as_str();
        let by_bet = cmd.bet.as_ref().filter(|_| needs_bet);
        let by_round = needs_bet && cmd.bet.is_none();
        // The last resort for a win without bet id or round match: the session's
        // latest unsettled bet in this game.
        let by_session = session_id.filter(|_| by_round);
        // Every statement a win may read with, prepared once per connection (the cache
        // answers without a round trip after that).
        let statements = [
            db::movement::CONTEXT,
            db::ledger::BET_ROWS,
            db::ledger::ROUND_ROWS,
            db::ledger::OPEN_SESSION_BET,
        ];
        db::prepare(client, &statements).await?;
        let round_id = Some(&cmd.round).filter(|_| cmd.closes_round);
        // The context goes out first, the other reads after it in the same round trip:
        // each sees at least what it saw, and its ledger sequence, checked under the
        // player's lock, dates them all.
        let ctx =
            db::movement::context(client, &cmd.key, &cmd.player, session_id, round_id, by_bet);
        let rows = async {
            match (by_bet, by_round) {
                (Some(bet), _) => {
                    db::ledger::bet_rows(client, provider, bet.as_str(), player).await
                }
                (None, true) => {
                    db::ledger::round_rows(client, provider, cmd.round.as_str(), player).await
                }
                (None, false) => Ok(Vec::new()),
            }
        };
        let session_bet = async {
            match by_session {
                Some(session_id) => {
                    let game = cmd.game.as_str();
                    db::ledger::open_session_bet(client, provider, player, session_id, game).await
                }
                None => Ok(None),
            }
        };
        let (ctx, rows, session_bet) = try_join!(ctx, rows, session_bet)?;
        if let Some(recorded) = ctx.recorded {
            let balance = self.policy.replay_balance;
            return wallet
                .replay(client, recorded, &self.fingerprint, balance, &cmd.player)
                .await;
        }
        let (player, member) = attempt.lock(wallet, &cmd.player, ctx.player).await?;
        wallet.player_currency(&player)?;
        let context = WinContext {
            session: ctx.session.as_ref(),
            round: ctx.round.as_ref(),
            round_tid: ctx.round_tid.as_deref(),
            tombstone: ctx.rolled_back,
            rows: &rows,
            session_bet: session_bet
                .as_ref()
                .map(|(bet, rows)| (bet, rows.as_slice())),
        };
        let decision = decide(context, &player, cmd);
        finish(member, &cmd.key, &self.fingerprint, &player, decision).await
    }
}

/// How long a waiting win looks for its bet every `correlation_poll_ms`.
const POLL_FAST_FOR: std::time::Duration = std::time::Duration::from_millis(250);
/// The longest interval between two looks, in multiples of `correlation_poll_ms`.
const POLL_SLOWEST: u32 = 8;

fn is_missing(result: &Result<Answer, LedgerError>) -> bool {
    matches!(result, Err(e) if e.code() == ErrorCode::BetNotFound)
}

impl Wallet {
    /// Runs a win; while its bet cannot be found, looks again after each committed bet
    /// of the player in this process (at most `correlation_attempts_max` times) and,
    /// for a bet committed by another process, every `correlation_poll_ms` during the
    /// first [`POLL_FAST_FOR`] of the wait, then twice as long each time up to
    /// [`POLL_SLOWEST`] times that, until the correlation window (or the call's deadline)
    /// ends. A bet in flight lands within milliseconds, and a burst's round is as slow
    /// as its slowest win: the first looks are close together; a win whose bet never
    /// comes costs a few dozen looks per window, not hundreds.
    pub(in crate::ledger) async fn correlated(
        &self,
        call: WinCall,
        deadline: Instant,
    ) -> Result<Answer, LedgerError> {
        let s = &self.inner.settings;
        let started = StdInstant::now();
        let window = Instant::now()
            .checked_add(std::time::Duration::from_millis(s.correlation_wait_ms))
            .map_or(deadline, |end| end.min(deadline));
        let poll_fast = std::time::Duration::from_millis(s.correlation_poll_ms);
        let poll_slowest = poll_fast.saturating_mul(POLL_SLOWEST);
        let mut poll = poll_fast;
        let mut waited = false;
        let mut timed_out = false;
        let mut signalled: u32 = 0;
        let result = loop {
            let last_run = timed_out || signalled >= s.correlation_attempts_max;
            let Some(subscription) = self
                .inner
                .signals
                .subscribe(call.cmd.player.as_str(), s.correlation_waiters_max)
            else {
                break self.execute(call.clone(), deadline).await;
            };
            let mut notified = pin!(subscription.notify().notified());
            notified.as_mut().enable();
            let result = self.execute(call.clone(), deadline).await;
            // A look after the first that could not run (no turn of the player, no
            // connection: nothing recorded) leaves what the earlier looks found: no bet.
            // Once the window is over that is the answer, not `retry_later`.
            let result = match result {
                Err(e) if waited && last_run && e.code() == ErrorCode::RetryLater => {
                    Err(crate::ledger::rules::win::bet_not_found())
                }
                result => result,
            };
            if !is_missing(&result) || last_run || s.correlation_wait_ms == 0 {
                break result;
            }
            waited = true;
            let wake = Instant::now()
                .checked_add(poll)
                .map_or(window, |at| at.min(window));
            if started.elapsed() >= POLL_FAST_FOR {
                poll = poll.saturating_mul(2).min(poll_slowest);
            }
            match tokio::time::timeout_at(wake, notified).await {
                Ok(()) => signalled = signalled.saturating_add(1),
                Err(_) => timed_out = Instant::now() >= window,
            }
        };
        if waited {
            metrics::counter!("wallet_correlation_waits_total",
                "result" => if is_missing(&result) { "timed_out" } else { "found" })
            .increment(1);
            metrics::histogram!("wallet_correlation_wait_seconds")
                .record(started.elapsed().as_secs_f64());
        }
        if is_missing(&result) {
            record_outcome("win", &result);
        }
        result
    }
}
