//! Provider calls: balance, bet, win and rollback, with bet-win correlation.

use std::pin::pin;
use std::time::{Duration, Instant};

use futures::try_join;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::idempotency::{self, fingerprint};
use super::operator::{check_id, player_not_found};
use super::view;
use super::write::{self, RoundChange, Write};
use super::{LedgerError, Movement, Outcome, Wallet};
use crate::db::ledger::{LedgerRow, NewLedgerRow};
use crate::db::players::PlayerRow;
use crate::db::sessions::SessionRow;
use crate::db::{self, Client};
use crate::domain::category::{add_split, allocate_win, CASH};
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
        let currency = self.currency(&req.currency)?;
        let amount = req
            .amount
            .to_minor(&currency)
            .map_err(LedgerError::invalid)?;
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
        let currency = self.currency(&req.currency)?;
        let amount = req
            .amount
            .to_minor(&currency)
            .map_err(LedgerError::invalid)?;
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

    /// Records a business rejection (a `422`) for replay and commits it.
    pub(super) async fn reject(
        &self,
        client: &Client,
        key: (&str, &str),
        fingerprint: Vec<u8>,
        error: LedgerError,
    ) -> Result<Outcome, LedgerError> {
        debug_assert!(error.code().is_recorded());
        let status = error.code().status();
        let body = error.body();
        write::commit(
            client,
            Write {
                player_id: "",
                deltas: Vec::new(),
                expected: None,
                missing_categories: Vec::new(),
                row: None,
                key,
                record: idempotency::record(fingerprint, status, &body),
                round: RoundChange::None,
            },
        )
        .await?;
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
    round: RoundChange<'a>,
}

impl Wallet {
    /// Writes the movement, commits, and returns its receipt.
    async fn land(
        &self,
        client: &Client,
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
        write::commit(
            client,
            Write {
                player_id: &player.player_id,
                deltas: write::deltas(&landing.split, landing.sign),
                expected: Some(&balance),
                missing_categories: write::missing(&player.balances, &landing.split),
                row: Some(NewLedgerRow {
                    id,
                    provider_id: key.0,
                    transaction_id: key.1,
                    player_id: &player.player_id,
                    kind: landing.kind,
                    win_kind: landing.win_kind,
                    amount: landing.amount,
                    currency: &currency.code,
                    split: &landing.split,
                    balance_after: &balance.0,
                    round_id: landing.round_id,
                    game_id: landing.game_id,
                    session_id: landing.session_id,
                    reference_id: landing.reference.map(|r| r.id),
                    reference_transaction_id: landing
                        .reference_transaction_id
                        .or(landing.reference.map(|r| r.transaction_id.as_str())),
                }),
                key,
                record: idempotency::record(fingerprint.to_vec(), 200, &body),
                round: landing.round,
            },
        )
        .await?;
        Ok(Outcome {
            status: 200,
            body,
            replayed: false,
        })
    }
}

#[derive(Clone)]
struct BetCall {
    provider_id: String,
    amount: Amount,
    currency: Currency,
    fingerprint: Vec<u8>,
    req: Bet,
}

impl Movement for BetCall {
    fn player_id(&self) -> &str {
        &self.req.player_id
    }

    fn kind(&self) -> &'static str {
        "bet"
    }

    async fn attempt(&self, wallet: &Wallet, client: &Client) -> Result<Outcome, LedgerError> {
        let req = &self.req;
        let key = (self.provider_id.as_str(), req.transaction_id.as_str());
        let session_id = parse_session(Some(&req.session_id));
        // See `Movement`: shared-key reads first, then the snapshot.
        let db::movement::Context {
            recorded,
            session,
            round,
            rolled_back: tombstone,
        } = db::movement::context(client, key, session_id, Some(&req.round_id), Some(key.1))
            .await?;
        if let Some(recorded) = recorded {
            return idempotency::replay(recorded, &self.fingerprint);
        }
        let player = db::lock_player(client, &req.player_id)
            .await?
            .ok_or_else(player_not_found)?;
        if !session_belongs(&session, key.0, &req.player_id)
            || session.as_ref().is_some_and(|s| s.game_id != req.game_id)
        {
            return Err(session_invalid());
        }
        let currency = &self.currency;
        // A refusal shows the player's balance in the player's currency, whatever
        // currency the request named.
        let own = wallet.player_currency(&player.currency)?;
        let refuse = |code, message: &str| wallet.business(code, message, &player, &own);
        let rejection = if player.status != "active" {
            Some(refuse(ErrorCode::PlayerBlocked, "the player is blocked"))
        } else if player.currency != currency.code {
            Some(refuse(
                ErrorCode::CurrencyMismatch,
                "the currency is not the player's",
            ))
        } else if session.as_ref().is_some_and(|s| !s.live) {
            Some(refuse(ErrorCode::SessionExpired, "the session has expired"))
        } else if tombstone {
            Some(refuse(
                ErrorCode::TransactionRolledBack,
                "this transaction was already rolled back",
            ))
        } else if round.as_ref().is_some_and(|r| r.status == "closed") {
            Some(refuse(ErrorCode::RoundClosed, "the round is closed"))
        } else {
            None
        };
        if let Some(rejection) = rejection {
            return wallet
                .reject(client, key, self.fingerprint.clone(), rejection)
                .await;
        }
        if round.as_ref().is_some_and(|r| r.player_id != req.player_id) {
            return Err(LedgerError::invalid("the round belongs to another player"));
        }
        let Some(split) = player
            .balances
            .allocate_stake(self.amount, wallet.categories())
        else {
            let error = refuse(
                ErrorCode::InsufficientFunds,
                "the balance does not cover the stake",
            );
            return wallet
                .reject(client, key, self.fingerprint.clone(), error)
                .await;
        };
        let outcome = wallet
            .land(
                client,
                key,
                &self.fingerprint,
                &player,
                currency,
                Landing {
                    kind: "bet",
                    win_kind: None,
                    amount: self.amount,
                    split,
                    sign: -1,
                    round_id: Some(&req.round_id),
                    game_id: Some(&req.game_id),
                    session_id,
                    reference: None,
                    reference_transaction_id: None,
                    round: match round {
                        Some(_) => RoundChange::None,
                        None => RoundChange::Open {
                            round_id: &req.round_id,
                            game_id: &req.game_id,
                        },
                    },
                },
            )
            .await?;
        wallet.inner.signals.bet_committed(&req.player_id);
        Ok(outcome)
    }
}

#[derive(Clone)]
struct WinCall {
    provider_id: String,
    amount: Amount,
    currency: Currency,
    win_kind: String,
    fingerprint: Vec<u8>,
    req: Win,
}

/// What a win is linked to.
enum Link<'a> {
    Bet(&'a LedgerRow, Vec<&'a LedgerRow>),
    RolledBack,
    Missing,
}

/// Finds the win's bet among the rows of a round: by provider id when given, else the
/// latest bet of the player that is not rolled back. Returns the bet and the round's
/// live bets (their stakes set the win's split).
fn link<'a>(rows: &'a [LedgerRow], player_id: &str, bet_id: Option<&str>) -> Link<'a> {
    let rolled_back = |bet: &LedgerRow| {
        rows.iter()
            .any(|r| r.kind == "rollback" && r.reference_id == Some(bet.id))
    };
    let bets: Vec<&LedgerRow> = rows
        .iter()
        .filter(|r| r.kind == "bet" && r.player_id == player_id)
        .collect();
    let live: Vec<&LedgerRow> = bets.iter().copied().filter(|b| !rolled_back(b)).collect();
    let chosen = match bet_id {
        Some(id) => match bets.iter().find(|b| b.transaction_id == id) {
            Some(bet) if rolled_back(bet) => return Link::RolledBack,
            Some(bet) => Some(*bet),
            None => None,
        },
        None => live.last().copied(),
    };
    match chosen {
        Some(bet) => Link::Bet(bet, live),
        None if bet_id.is_none() && !bets.is_empty() => Link::RolledBack,
        None => Link::Missing,
    }
}

impl Movement for WinCall {
    fn player_id(&self) -> &str {
        &self.req.player_id
    }

    fn kind(&self) -> &'static str {
        "win"
    }

    async fn attempt(&self, wallet: &Wallet, client: &Client) -> Result<Outcome, LedgerError> {
        let req = &self.req;
        let key = (self.provider_id.as_str(), req.transaction_id.as_str());
        let session_id = parse_session(req.session_id.as_deref());
        let needs_bet = self.win_kind == "win";
        let bet_id = req.bet_transaction_id.as_deref();
        let rows = async {
            match (needs_bet, bet_id) {
                (false, _) => Ok(Vec::new()),
                (true, Some(bet_id)) => db::ledger::round_rows_of(client, key.0, bet_id).await,
                (true, None) => db::ledger::round_rows(client, key.0, &req.round_id).await,
            }
        };
        // The last resort for a win without bet id or round match: the round of the
        // session's latest unsettled bet in this game.
        let by_session = async {
            match session_id {
                Some(session_id) if needs_bet && bet_id.is_none() => {
                    db::ledger::round_rows_of_open_session_bet(
                        client,
                        key.0,
                        &req.player_id,
                        session_id,
                        &req.game_id,
                    )
                    .await
                }
                _ => Ok(Vec::new()),
            }
        };
        // See `Movement`: shared-key reads first, then the snapshot.
        let tombstone_of = bet_id.filter(|_| needs_bet);
        let (context, mut rows, by_session) = try_join!(
            db::movement::context(client, key, session_id, None, tombstone_of),
            rows,
            by_session,
        )?;
        let db::movement::Context {
            recorded,
            session,
            rolled_back: tombstone,
            ..
        } = context;
        if let Some(recorded) = recorded {
            return idempotency::replay(recorded, &self.fingerprint);
        }
        let player = db::lock_player(client, &req.player_id)
            .await?
            .ok_or_else(player_not_found)?;
        if req.session_id.is_some() && !session_belongs(&session, key.0, &req.player_id) {
            return Err(session_invalid());
        }
        let currency = &self.currency;
        // A refusal shows the player's balance in the player's currency, whatever
        // currency the request named.
        let own = wallet.player_currency(&player.currency)?;
        let refuse = |code, message: &str| wallet.business(code, message, &player, &own);
        if player.currency != currency.code {
            let error = refuse(
                ErrorCode::CurrencyMismatch,
                "the currency is not the player's",
            );
            return wallet
                .reject(client, key, self.fingerprint.clone(), error)
                .await;
        }
        if needs_bet
            && bet_id.is_none()
            && session.is_some()
            && matches!(link(&rows, &req.player_id, None), Link::Missing)
        {
            rows = by_session;
        }
        let (split, reference) = if needs_bet {
            match link(&rows, &req.player_id, bet_id) {
                Link::Bet(bet, live) => {
                    let mut stakes = Split::new();
                    for b in live {
                        add_split(&mut stakes, &b.split);
                    }
                    (allocate_win(self.amount, &stakes), Some(bet))
                }
                Link::RolledBack => {
                    let error = refuse(
                        ErrorCode::TransactionRolledBack,
                        "the bet of this win was rolled back",
                    );
                    return wallet
                        .reject(client, key, self.fingerprint.clone(), error)
                        .await;
                }
                Link::Missing if tombstone => {
                    let error = refuse(
                        ErrorCode::TransactionRolledBack,
                        "the bet of this win was rolled back",
                    );
                    return wallet
                        .reject(client, key, self.fingerprint.clone(), error)
                        .await;
                }
                Link::Missing => {
                    return Err(LedgerError::new(
                        ErrorCode::BetNotFound,
                        "no bet found for this win",
                    ));
                }
            }
        } else {
            ([(CASH.to_owned(), self.amount)].into(), None)
        };
        let round = if req.round_closed == Some(true) {
            RoundChange::Close {
                round_id: &req.round_id,
            }
        } else {
            RoundChange::None
        };
        wallet
            .land(
                client,
                key,
                &self.fingerprint,
                &player,
                currency,
                Landing {
                    kind: "win",
                    win_kind: Some(&self.win_kind),
                    amount: self.amount,
                    split,
                    sign: 1,
                    round_id: Some(&req.round_id),
                    game_id: Some(&req.game_id),
                    session_id: session.as_ref().map(|s| s.session_id),
                    reference,
                    reference_transaction_id: None,
                    round,
                },
            )
            .await
    }
}

#[derive(Clone)]
struct RollbackCall {
    provider_id: String,
    fingerprint: Vec<u8>,
    req: Rollback,
}

impl Movement for RollbackCall {
    fn player_id(&self) -> &str {
        &self.req.player_id
    }

    fn kind(&self) -> &'static str {
        "rollback"
    }

    async fn attempt(&self, wallet: &Wallet, client: &Client) -> Result<Outcome, LedgerError> {
        let req = &self.req;
        let key = (self.provider_id.as_str(), req.transaction_id.as_str());
        let reference = req.reference_transaction_id.as_str();
        // See `Movement`: shared-key reads first, then the snapshot.
        let (db::movement::Context { recorded, .. }, rows, target) = try_join!(
            db::movement::context(client, key, None, None, None),
            db::ledger::round_rows_of(client, key.0, reference),
            db::ledger::find(client, key.0, reference),
        )?;
        if let Some(recorded) = recorded {
            return idempotency::replay(recorded, &self.fingerprint);
        }
        let player = db::lock_player(client, &req.player_id)
            .await?
            .ok_or_else(player_not_found)?;
        let currency = wallet.player_currency(&player.currency)?;
        let refuse = |code, message: &str| wallet.business(code, message, &player, &currency);
        let mut landing = Landing {
            kind: "rollback",
            win_kind: None,
            amount: Amount::ZERO,
            split: Split::new(),
            sign: 1,
            round_id: req.round_id.as_deref(),
            game_id: None,
            session_id: None,
            reference: None,
            reference_transaction_id: Some(reference),
            round: RoundChange::None,
        };
        match &target {
            // Never seen: a tombstone that refuses the bet if it still arrives.
            None => {}
            Some(t) if t.player_id != req.player_id => {
                return Err(LedgerError::new(
                    ErrorCode::TransactionNotFound,
                    "no such transaction for this player",
                ));
            }
            Some(t) if t.kind != "bet" => {
                let error = refuse(
                    ErrorCode::RollbackNotAllowed,
                    "only bets can be rolled back",
                );
                return wallet
                    .reject(client, key, self.fingerprint.clone(), error)
                    .await;
            }
            Some(bet) => {
                let bet = rows.iter().find(|r| r.id == bet.id).unwrap_or(bet);
                let already = rows
                    .iter()
                    .any(|r| r.kind == "rollback" && r.reference_id == Some(bet.id));
                if !already && rows.iter().any(|r| r.kind == "win") {
                    let error = refuse(
                        ErrorCode::BetAlreadySettled,
                        "the round of this bet has a win",
                    );
                    return wallet
                        .reject(client, key, self.fingerprint.clone(), error)
                        .await;
                }
                landing.reference = Some(bet);
                landing.round_id = bet.round_id.as_deref();
                landing.game_id = bet.game_id.as_deref();
                landing.session_id = bet.session_id;
                if !already {
                    landing.amount = bet.amount;
                    landing.split = bet.split.clone();
                }
            }
        }
        wallet
            .land(client, key, &self.fingerprint, &player, &currency, landing)
            .await
    }
}
