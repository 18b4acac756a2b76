//! Provider calls: balance, bet, win and rollback, with bet-win correlation.

mod bet;
mod rollback;
mod win;

use bet::BetCall;
use rollback::RollbackCall;
use win::WinCall;

use std::pin::pin;
use std::time::{Duration, Instant};

use futures::try_join;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::group::Member;
use super::idempotency::{self, fingerprint};
use super::operator::{check_id, player_not_found};
use super::view;
use super::write::{self, RoundChange};
use super::{LedgerError, Outcome, Wallet};
use crate::db::ledger::{LedgerRow, NewLedgerRow};
use crate::db::players::PlayerRow;
use crate::db::sessions::SessionRow;
use crate::db::{self, Client};
use crate::domain::{Amount, AmountInput, Balances, Currency, ErrorCode, Split};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BalanceQuery {
    pub player_id: String,
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Bet {
    pub transaction_id: String,
    pub player_id: String,
    pub session_id: String,
    pub round_id: String,
    pub game_id: String,
    pub amount: AmountInput,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Win {
    pub transaction_id: String,
    pub player_id: String,
    pub round_id: String,
    pub game_id: String,
    pub amount: AmountInput,
    pub currency: String,
    pub bet_transaction_id: Option<String>,
    pub session_id: Option<String>,
    pub round_closed: Option<bool>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Rollback {
    pub transaction_id: String,
    pub player_id: String,
    pub reference_transaction_id: String,
    pub round_id: Option<String>,
}

fn session_invalid() -> LedgerError {
    LedgerError::new(
        ErrorCode::SessionInvalid,
        "session unknown or not this provider's, player's and game's",
    )
}

/// Whether `session` is one this provider may use for this player.
fn session_belongs(session: &Option<SessionRow>, provider_id: &str, player_id: &str) -> bool {
    matches!(session, Some(s) if s.provider_id == provider_id && s.player_id == player_id)
}

fn parse_session(session_id: Option<&str>) -> Option<Uuid> {
    session_id.and_then(|s| Uuid::parse_str(s).ok())
}

async fn session_if(client: &Client, id: Option<Uuid>) -> Result<Option<SessionRow>, db::DbError> {
    match id {
        Some(id) => db::sessions::get(client, id).await,
        None => Ok(None),
    }
}

impl Wallet {
    pub async fn balance(
        &self,
        provider_id: &str,
        req: BalanceQuery,
    ) -> Result<Value, LedgerError> {
        check_id("player_id", &req.player_id)?;
        let client = self.client().await?;
        let session_id = parse_session(req.session_id.as_deref());
        let (player, session) = try_join!(
            db::players::get(&client, &req.player_id),
            session_if(&client, session_id)
        )?;
        let player = player.ok_or_else(player_not_found)?;
        if req.session_id.is_some() && !session_belongs(&session, provider_id, &req.player_id) {
            return Err(session_invalid());
        }
        let currency = self.player_currency(&player.currency)?;
        Ok(json!({
            "balance": player.balances.to_json(currency.scale, self.categories()),
            "currency": currency.code,
        }))
    }

    pub async fn bet(&self, provider_id: &str, req: Bet) -> Result<Outcome, LedgerError> {
        for (field, value) in [
            ("transaction_id", &req.transaction_id),
            ("player_id", &req.player_id),
            ("session_id", &req.session_id),
            ("round_id", &req.round_id),
            ("game_id", &req.game_id),
        ] {
            check_id(field, value)?;
        }
        let (currency, amount) = self.money(&req.currency, &req.amount)?;
        let fingerprint = fingerprint(&[
            ("call", Some("bet")),
            ("player", Some(&req.player_id)),
            ("amount", Some(&req.amount.canonical())),
            ("currency", Some(&req.currency)),
            ("round", Some(&req.round_id)),
            ("game", Some(&req.game_id)),
        ]);
        self.execute(BetCall {
            provider_id: provider_id.to_owned(),
            amount,
            currency,
            fingerprint,
            req,
        })
        .await
    }

    pub async fn win(&self, provider_id: &str, req: Win) -> Result<Outcome, LedgerError> {
        for (field, value) in [
            ("transaction_id", Some(&req.transaction_id)),
            ("player_id", Some(&req.player_id)),
            ("round_id", Some(&req.round_id)),
            ("game_id", Some(&req.game_id)),
            ("bet_transaction_id", req.bet_transaction_id.as_ref()),
            ("session_id", req.session_id.as_ref()),
        ] {
            if let Some(value) = value {
                check_id(field, value)?;
            }
        }
        let win_kind = req.kind.clone().unwrap_or_else(|| "win".to_owned());
        if !["win", "promo", "jackpot"].contains(&win_kind.as_str()) {
            return Err(LedgerError::invalid(
                "kind must be \"win\", \"promo\" or \"jackpot\"",
            ));
        }
        let (currency, amount) = self.money(&req.currency, &req.amount)?;
        let fingerprint = fingerprint(&[
            ("call", Some("win")),
            ("player", Some(&req.player_id)),
            ("amount", Some(&req.amount.canonical())),
            ("currency", Some(&req.currency)),
            ("round", Some(&req.round_id)),
            ("game", Some(&req.game_id)),
            ("kind", Some(&win_kind)),
            ("reference", req.bet_transaction_id.as_deref()),
        ]);
        let call = WinCall {
            provider_id: provider_id.to_owned(),
            amount,
            currency,
            win_kind,
            fingerprint,
            req,
        };
        self.correlated(call).await
    }

    /// Runs a win; while its bet cannot be found, waits for the player's next committed
    /// bet (bounded by `correlation_wait_ms`) and looks again.
    async fn correlated(&self, call: WinCall) -> Result<Outcome, LedgerError> {
        let s = &self.inner.settings;
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(s.correlation_wait_ms);
        let mut waited = false;
        let mut timed_out = false;
        loop {
            let subscription = self
                .inner
                .signals
                .subscribe(&call.req.player_id, s.correlation_waiters_max);
            let result = match &subscription {
                None => self.execute(call.clone()).await,
                Some(subscription) => {
                    let mut notified = pin!(subscription.notify().notified());
                    notified.as_mut().enable();
                    let result = self.execute(call.clone()).await;
                    let missing = matches!(&result, Err(e) if e.code() == ErrorCode::BetNotFound);
                    if !missing || timed_out || s.correlation_wait_ms == 0 {
                        result
                    } else {
                        waited = true;
                        timed_out = tokio::time::timeout_at(deadline, notified).await.is_err();
                        continue;
                    }
                }
            };
            if waited {
                metrics::counter!("wallet_correlation_waits_total",
                    "result" => if timed_out { "timed_out" } else { "found" })
                .increment(1);
                metrics::histogram!("wallet_correlation_wait_seconds")
                    .record(started.elapsed().as_secs_f64());
            }
            if matches!(&result, Err(e) if e.code() == ErrorCode::BetNotFound) {
                super::record_outcome("win", &result);
            }
            return result;
        }
    }

    pub async fn rollback(&self, provider_id: &str, req: Rollback) -> Result<Outcome, LedgerError> {
        for (field, value) in [
            ("transaction_id", Some(&req.transaction_id)),
            ("player_id", Some(&req.player_id)),
            (
                "reference_transaction_id",
                Some(&req.reference_transaction_id),
            ),
            ("round_id", req.round_id.as_ref()),
        ] {
            if let Some(value) = value {
                check_id(field, value)?;
            }
        }
        let fingerprint = fingerprint(&[
            ("call", Some("rollback")),
            ("player", Some(&req.player_id)),
            ("reference", Some(&req.reference_transaction_id)),
            ("round", req.round_id.as_deref()),
        ]);
        self.execute(RollbackCall {
            provider_id: provider_id.to_owned(),
            fingerprint,
            req,
        })
        .await
    }

    /// The configured currency of a request and its amount in that currency's smallest
    /// unit; an unknown currency or an amount off its scale is a `400`.
    fn money(&self, code: &str, amount: &AmountInput) -> Result<(Currency, Amount), LedgerError> {
        let currency = self.currency(code)?;
        let amount = amount.to_minor(&currency).map_err(LedgerError::invalid)?;
        Ok((currency, amount))
    }

    /// Records a business rejection (a `422`) for replay and commits it.
    pub(super) async fn reject(
        &self,
        member: Member,
        key: (&str, &str),
        fingerprint: Vec<u8>,
        error: LedgerError,
    ) -> Result<Outcome, LedgerError> {
        debug_assert!(error.code().is_recorded());
        let status = error.code().status();
        let body = error.body();
        let movement = db::movement::Movement {
            player_id: String::new(),
            deltas: Vec::new(),
            missing_categories: Vec::new(),
            row: None,
            provider_id: key.0.to_owned(),
            transaction_id: key.1.to_owned(),
            record: idempotency::record(fingerprint, status, &body),
            round: RoundChange::None,
        };
        write::commit(member, movement, None).await?;
        Ok(Outcome {
            status,
            body,
            replayed: false,
        })
    }

    fn business(
        &self,
        code: ErrorCode,
        message: &str,
        player: &PlayerRow,
        currency: &Currency,
    ) -> LedgerError {
        LedgerError::new(code, message).with_balance(
            player.balances.to_json(currency.scale, self.categories()),
            &currency.code,
        )
    }
}

/// Where a movement lands: the ledger row to write and the balance after it.
struct Landing<'a> {
    kind: &'static str,
    win_kind: Option<&'a str>,
    amount: Amount,
    split: Split,
    sign: i64,
    round_id: Option<&'a str>,
    game_id: Option<&'a str>,
    session_id: Option<Uuid>,
    reference: Option<&'a LedgerRow>,
    reference_transaction_id: Option<&'a str>,
    round: RoundChange,
}

impl Wallet {
    /// Writes the movement, commits, and returns its receipt.
    async fn land(
        &self,
        member: Member,
        key: (&str, &str),
        fingerprint: &[u8],
        player: &PlayerRow,
        currency: &Currency,
        landing: Landing<'_>,
    ) -> Result<Outcome, LedgerError> {
        let balance: Balances = if landing.sign < 0 {
            player.balances.debit(&landing.split)
        } else {
            player.balances.credit(&landing.split)
        };
        let id = Uuid::now_v7();
        let body = view::receipt(
            key.1,
            id,
            &balance,
            &currency.code,
            currency.scale,
            self.categories(),
        );
        let movement = db::movement::Movement {
            player_id: player.player_id.clone(),
            deltas: write::deltas(&landing.split, landing.sign),
            missing_categories: write::missing(&player.balances, &landing.split),
            row: Some(NewLedgerRow {
                id,
                provider_id: key.0.to_owned(),
                transaction_id: key.1.to_owned(),
                player_id: player.player_id.clone(),
                kind: landing.kind,
                win_kind: landing.win_kind.map(str::to_owned),
                amount: landing.amount,
                currency: currency.code.clone(),
                balance_after: balance.0.clone(),
                split: landing.split,
                round_id: landing.round_id.map(str::to_owned),
                game_id: landing.game_id.map(str::to_owned),
                session_id: landing.session_id,
                reference_id: landing.reference.map(|r| r.id),
                reference_transaction_id: landing
                    .reference_transaction_id
                    .or(landing.reference.map(|r| r.transaction_id.as_str()))
                    .map(str::to_owned),
            }),
            provider_id: key.0.to_owned(),
            transaction_id: key.1.to_owned(),
            record: idempotency::record(fingerprint.to_vec(), 200, &body),
            round: landing.round,
        };
        write::commit(member, movement, Some(&balance)).await?;
        Ok(Outcome {
            status: 200,
            body,
            replayed: false,
        })
    }
}
