//! The five Hub88 endpoints after the signature: the fields (step 3 of
//! `../protocols.md` 1.7), the user, the token, the game, the currency and the amount
//! (steps 4 to 8), then the ledger (idempotency, expiry and the money rules, steps 9 to
//! 11), its outcome mapped by the status table.

use super::auth::Hub88Keys;
use super::dto::{FieldError, Fields, Reply};
use super::map::{amount_in, balance_out};
use super::status::{self, Call, Status};
use crate::domain::{
    Amount, Balances, ExternalTxId, GameId, Outcome, Player, PlayerId, ProviderId, RoundId,
    Session, TxKey, WinKind,
};
use crate::http::v1::record_call;
use crate::http::AppState;
use crate::ledger::{
    Answer, BetCommand, LedgerError, Money, Policy, RollbackCommand, SessionRef, WinCommand,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Info,
    Balance,
    Bet,
    Win,
    Rollback,
}

/// An answer with what the response and its log line need besides the body.
pub struct Answered {
    pub reply: Reply,
    pub replayed: bool,
    pub detail: Option<String>,
}

impl Answered {
    pub fn new(reply: Reply) -> Self {
        Answered {
            reply,
            replayed: false,
            detail: None,
        }
    }
}

/// An early answer: a status without balance, and why (for the log line).
struct Stop(Status, Option<String>);

impl From<FieldError> for Stop {
    fn from(e: FieldError) -> Self {
        let why = match &e {
            FieldError::Syntax(m) | FieldError::Types(m) => m.clone(),
        };
        Stop(e.status(), Some(why))
    }
}

impl From<LedgerError> for Stop {
    fn from(e: LedgerError) -> Self {
        Stop(status::of_code(e.code()), Some(e.to_string()))
    }
}

/// The request in the context the endpoint runs in.
struct Ctx<'a> {
    state: &'a AppState,
    provider: &'a ProviderId,
    keys: &'a Hub88Keys,
    request_uuid: Option<String>,
}

pub async fn handle(
    state: &AppState,
    provider: &ProviderId,
    keys: &Hub88Keys,
    endpoint: Endpoint,
    body: &[u8],
    request_uuid: Option<String>,
) -> Answered {
    let ctx = Ctx {
        state,
        provider,
        keys,
        request_uuid,
    };
    let result = match Fields::parse(body) {
        Err(e) => Err(Stop::from(e)),
        Ok(fields) => match endpoint {
            Endpoint::Info => ctx.info(&fields).await,
            Endpoint::Balance => ctx.balance(&fields).await,
            Endpoint::Bet => ctx.bet(&fields).await,
            Endpoint::Win => ctx.win(&fields).await,
            Endpoint::Rollback => ctx.rollback(&fields).await,
        },
    };
    match result {
        Ok(answered) => answered,
        Err(Stop(status, detail)) => Answered {
            detail,
            ..Answered::new(Reply::error(status, ctx.request_uuid))
        },
    }
}

/// An id of the ledger from a field; one that cannot be an id is `RS_ERROR_WRONG_TYPES`.
fn id<T>(
    field: &str,
    value: String,
    parse: fn(String) -> Result<T, crate::domain::ids::InvalidId>,
) -> Result<T, Stop> {
    parse(value).map_err(|_| {
        Stop(
            Status::WrongTypes,
            Some(format!("{field} is not a usable id")),
        )
    })
}

/// The fields every money call has (all but the rollback's optional ones).
struct MoneyFields {
    user: String,
    transaction: ExternalTxId,
    token: String,
    round: RoundId,
    game: GameId,
    currency: String,
    amount: i64,
    free: bool,
    round_closed: bool,
}

fn money_fields(f: &Fields<'_>) -> Result<MoneyFields, Stop> {
    let user = f.string("user")?;
    let transaction = f.string("transaction_uuid")?;
    let token = f.string("token")?;
    let round = f.string("round")?;
    f.string("request_uuid")?;
    let game = f.string("game_code")?;
    let currency = f.string("currency")?;
    let amount = f.amount("amount")?;
    let is_free = f.opt_bool("is_free")?.unwrap_or(false);
    // A supplier promotion is a free bet too (Hub88 changelog, May 2025).
    let promo = f.opt_bool("is_supplier_promo")?.unwrap_or(false);
    let round_closed = f.opt_bool("round_closed")?.unwrap_or(false);
    Ok(MoneyFields {
        user,
        transaction: id("transaction_uuid", transaction, ExternalTxId::parse)?,
        token,
        round: id("round", round, RoundId::parse)?,
        game: id("game_code", game, GameId::parse)?,
        currency,
        amount,
        free: is_free || promo,
        round_closed,
    })
}

impl Ctx<'_> {
    /// A reply with the player's balance after the call.
    fn with_balance(
        &self,
        status: Status,
        player: &PlayerId,
        balances: &Balances,
        currency: &str,
    ) -> Result<Reply, Stop> {
        let scale = self
            .state
            .wallet
            .currency(currency)
            .map_err(Stop::from)?
            .scale;
        let balance = balance_out(
            balances.total_minor(),
            self.keys.settings.multiplier(currency),
            scale,
        )
        .ok_or_else(|| {
            Stop(
                Status::Unknown,
                Some("the balance does not fit an Int64".into()),
            )
        })?;
        Ok(Reply {
            user: Some(player.as_str().to_owned()),
            status: status.as_str(),
            request_uuid: self.request_uuid.clone(),
            currency: Some(currency.to_owned()),
            balance: Some(balance),
        })
    }

    /// Step 4: the user. One that cannot be a player id is unknown too.
    async fn player(&self, user: &str, unknown: Status) -> Result<Player, Stop> {
        let unknown = || Stop(unknown, Some("unknown user".into()));
        let id = PlayerId::parse(user.to_owned()).map_err(|_| unknown())?;
        record_call(id.as_str(), None);
        match self.state.wallet.get_player(&id).await {
            Ok(player) => Ok(player),
            Err(e) if e.code() == crate::domain::ErrorCode::PlayerNotFound => Err(unknown()),
            Err(e) => Err(e.into()),
        }
    }

    /// Step 5: the token is this provider's session of this player.
    async fn session(&self, player: &Player, token: &str) -> Result<Session, Stop> {
        crate::http::adapter::session(&self.state.wallet, self.provider, &player.player_id, token)
            .await?
            .ok_or_else(|| {
                Stop(
                    Status::InvalidToken,
                    Some("token unknown or not this user's".into()),
                )
            })
    }

    /// Steps 6 to 8 of bets and wins: the session's game, the player's currency and an
    /// amount exact at its scale.
    fn money(&self, f: &MoneyFields, player: &Player, session: &Session) -> Result<Money, Stop> {
        if session.game_id != f.game {
            return Err(Stop(
                Status::InvalidGame,
                Some("game_code is not the token's game".into()),
            ));
        }
        let wrong_currency = || {
            Stop(
                Status::WrongCurrency,
                Some(format!("currency {:?} is not the user's", f.currency)),
            )
        };
        let currency = self
            .state
            .wallet
            .currency(&f.currency)
            .map_err(|_| wrong_currency())?;
        if currency.code != player.currency {
            return Err(wrong_currency());
        }
        let multiplier = self.keys.settings.multiplier(&currency.code);
        let amount = amount_in(f.amount, multiplier, &currency).ok_or_else(|| {
            Stop(
                Status::WrongTypes,
                Some(format!(
                    "amount {} is not exact in {} or too large",
                    f.amount, currency.code
                )),
            )
        })?;
        Ok(Money { amount, currency })
    }

    async fn info(&self, f: &Fields<'_>) -> Result<Answered, Stop> {
        let user = f.string("user")?;
        f.string("request_uuid")?;
        let player = self.player(&user, Status::Unknown).await?;
        // Blocked players are reported too: only their bets are refused.
        Ok(Answered::new(Reply {
            user: Some(player.player_id.as_str().to_owned()),
            status: Status::Ok.as_str(),
            request_uuid: self.request_uuid.clone(),
            currency: Some(player.currency.clone()),
            balance: None,
        }))
    }

    async fn balance(&self, f: &Fields<'_>) -> Result<Answered, Stop> {
        let user = f.string("user")?;
        let token = f.string("token")?;
        f.string("request_uuid")?;
        f.opt_string("game_code")?;
        let player = self.player(&user, Status::InvalidToken).await?;
        let session = self.session(&player, &token).await?;
        if !session.live {
            return Err(Stop(Status::TokenExpired, None));
        }
        let reply = self.with_balance(
            Status::Ok,
            &player.player_id,
            &player.balances,
            &player.currency,
        )?;
        Ok(Answered::new(reply))
    }

    async fn bet(&self, f: &Fields<'_>) -> Result<Answered, Stop> {
        let m = money_fields(f)?;
        let player = self.player(&m.user, Status::InvalidToken).await?;
        record_call(player.player_id.as_str(), Some(m.transaction.as_str()));
        let session = self.session(&player, &m.token).await?;
        let mut stake = self.money(&m, &player, &session)?;
        // A free bet is paid by the promotion: recorded as a zero stake whatever amount
        // it reports; the reported amount still tells duplicates apart (1.11).
        if m.free {
            stake.amount = Amount::ZERO;
        }
        let cmd = BetCommand {
            key: self.key(&m.transaction),
            player: player.player_id.clone(),
            session: SessionRef(Some(session.session_id)),
            round: m.round,
            game: m.game,
            stake,
        };
        let amount = m.amount.to_string();
        let wire = [
            ("hub88.amount", Some(amount.as_str())),
            ("hub88.is_free", Some(if m.free { "true" } else { "false" })),
        ];
        let result = self.state.wallet.bet_with(cmd, Policy::HUB88, &wire).await;
        // The ledger refuses an expired token before a blocked player under Hub88's
        // policy (1.7 steps 10 and 11) and records that refusal: a resend answers the
        // same status.
        self.answer(Call::Bet, &player, result)
    }

    async fn win(&self, f: &Fields<'_>) -> Result<Answered, Stop> {
        let m = money_fields(f)?;
        let reference = f.string("reference_transaction_uuid")?;
        let reference = id("reference_transaction_uuid", reference, ExternalTxId::parse)?;
        let player = self.player(&m.user, Status::InvalidToken).await?;
        record_call(player.player_id.as_str(), Some(m.transaction.as_str()));
        // Wins are accepted on an expired token (1.7 step 10).
        let session = self.session(&player, &m.token).await?;
        let payout = self.money(&m, &player, &session)?;
        let cmd = WinCommand {
            key: self.key(&m.transaction),
            player: player.player_id.clone(),
            round: m.round,
            game: m.game,
            payout,
            kind: WinKind::Win,
            bet: Some(reference),
            session: Some(SessionRef(Some(session.session_id))),
            closes_round: m.round_closed,
        };
        let amount = m.amount.to_string();
        let wire = [
            ("hub88.amount", Some(amount.as_str())),
            ("hub88.is_free", Some(if m.free { "true" } else { "false" })),
        ];
        let result = self.state.wallet.win_with(cmd, Policy::HUB88, &wire).await;
        self.answer(Call::Win, &player, result)
    }

    async fn rollback(&self, f: &Fields<'_>) -> Result<Answered, Stop> {
        let user = f.string("user")?;
        let transaction = f.string("transaction_uuid")?;
        let token = f.string("token")?;
        f.string("request_uuid")?;
        let reference = f.string("reference_transaction_uuid")?;
        let round = f.opt_string("round")?;
        let game = f.opt_string("game_code")?;
        f.opt_bool("round_closed")?;
        let transaction = id("transaction_uuid", transaction, ExternalTxId::parse)?;
        let target = id("reference_transaction_uuid", reference, ExternalTxId::parse)?;
        let round = match round {
            Some(r) => Some(id("round", r, RoundId::parse)?),
            None => None,
        };
        let player = self.player(&user, Status::InvalidToken).await?;
        record_call(player.player_id.as_str(), Some(transaction.as_str()));
        self.session(&player, &token).await?;
        let cmd = RollbackCommand {
            key: self.key(&transaction),
            player: player.player_id.clone(),
            target,
            round,
        };
        let wire = [("hub88.game_code", game.as_deref())];
        let result = self
            .state
            .wallet
            .rollback_with(cmd, Policy::HUB88, &wire)
            .await;
        self.answer(Call::Rollback, &player, result)
    }

    fn key(&self, transaction: &ExternalTxId) -> TxKey {
        TxKey {
            provider: self.provider.clone(),
            transaction: transaction.clone(),
        }
    }

    /// The ledger's answer as a Hub88 reply. A replayed refusal maps as the first did:
    /// the status depends only on the recorded reason (1.9).
    fn answer(
        &self,
        call: Call,
        player: &Player,
        result: Result<Answer, LedgerError>,
    ) -> Result<Answered, Stop> {
        let answer = result?;
        let id = &player.player_id;
        let (reply, detail) = match &answer.outcome {
            Outcome::Applied(r) => (
                self.with_balance(Status::Ok, id, &r.balance, &r.currency)?,
                None,
            ),
            Outcome::Refused(r) => {
                match status::of_reason(call, r.reason) {
                    // The refused rollback: RS_OK, nothing moved (1.10), kept for
                    // reconciliation in the log.
                    None => {
                        tracing::warn!(
                        refusal = r.reason.as_str(),
                        "hub88 rollback refused by the ledger, answered RS_OK with nothing moved"
                    );
                        let reply = self.with_balance(Status::Ok, id, &r.balance, &r.currency)?;
                        (
                            reply,
                            Some(format!("rollback refused: {}", r.reason.as_str())),
                        )
                    }
                    Some(status) if status.carries_balance() => (
                        self.with_balance(status, id, &r.balance, &r.currency)?,
                        None,
                    ),
                    Some(status) => (
                        Reply::error(status, self.request_uuid.clone()),
                        Some(r.reason.as_str().to_owned()),
                    ),
                }
            }
        };
        Ok(Answered {
            reply,
            replayed: answer.replayed,
            detail,
        })
    }
}
