//! The six Evolution calls after the `authToken`: the body (step 3 of
//! `../protocols.md` 2.7), the user, the sid, the currency and the amount (steps 4 to
//! 7), then the ledger on the derived ids of 2.5 (idempotency, expiry, block and the
//! money rules, steps 8 to 11), its outcome mapped by the status table.

use super::dto::{self, BalanceReply, CheckReply, Number, Request};
use super::status::{self, Call, Status};
use crate::domain::money::format_minor;
use crate::domain::{
    Balances, ErrorCode, ExternalTxId, GameId, Outcome, Player, PlayerId, ProviderId, RoundId,
    Session, TxKey, WinKind,
};
use crate::http::v1::record_call;
use crate::http::AppState;
use crate::ledger::{
    Answer, BetCommand, LedgerError, Money, Policy, RollbackCommand, SessionRef, WinCommand,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Check,
    Balance,
    Debit,
    Credit,
    Cancel,
    Promo,
}

/// An answer: its JSON bytes, and what the response and its log line need.
pub struct Answered {
    pub body: Vec<u8>,
    pub status: Status,
    pub replayed: bool,
    pub detail: Option<String>,
}

/// An early answer, with the player's balance once the player is known (2.6).
struct Stop {
    status: Status,
    balance: Option<Balances>,
    currency: Option<String>,
    detail: Option<String>,
}

impl Stop {
    fn new(status: Status, detail: impl Into<String>) -> Self {
        Stop {
            status,
            balance: None,
            currency: None,
            detail: Some(detail.into()),
        }
    }

    /// The player's balance on a refusal that has none yet.
    fn with_player(self, player: &Player) -> Self {
        if self.balance.is_some() {
            return self;
        }
        Stop {
            balance: Some(player.balances.clone()),
            currency: Some(player.currency.clone()),
            ..self
        }
    }

    fn of(status: Status, player: &Player, detail: impl Into<String>) -> Self {
        Stop {
            balance: Some(player.balances.clone()),
            currency: Some(player.currency.clone()),
            ..Stop::new(status, detail)
        }
    }
}

/// The category Evolution hears about separately as `bonus` (2.6); zero when a
/// player has none.
const BONUS: &str = "bonus";

/// `x` with `%` written `%25`, then `:` written `%3A`: the parts of a derived id never
/// contain its separator.
pub fn escape(x: &str) -> String {
    x.replace('%', "%25").replace(':', "%3A")
}

struct Ctx<'a> {
    state: &'a AppState,
    provider: &'a ProviderId,
    endpoint: Endpoint,
    uuid: Option<String>,
    sid: Option<String>,
}

pub async fn handle(
    state: &AppState,
    provider: &ProviderId,
    endpoint: Endpoint,
    body: &[u8],
    token_ok: bool,
) -> Answered {
    let mut ctx = Ctx {
        state,
        provider,
        endpoint,
        uuid: dto::uuid(body),
        sid: None,
    };
    let result = if token_ok {
        ctx.run(body).await
    } else {
        Err(Stop::new(
            Status::InvalidTokenId,
            "authToken missing or wrong",
        ))
    };
    match result {
        Ok(answered) => answered,
        Err(stop) => {
            let detail = stop.detail.clone();
            let mut answered = ctx.reply(
                stop.status,
                stop.balance.as_ref(),
                stop.currency.as_deref(),
                false,
            );
            answered.detail = detail;
            answered
        }
    }
}

fn invalid(why: impl Into<String>) -> Stop {
    Stop::new(Status::InvalidParameter, why)
}

/// A ledger id from protocol text; one that cannot be an id is `INVALID_PARAMETER`.
fn id<T>(
    field: &str,
    value: String,
    parse: fn(String) -> Result<T, crate::domain::ids::InvalidId>,
) -> Result<T, Stop> {
    parse(value).map_err(|_| invalid(format!("{field} is not a usable id")))
}

/// A required text of a nested object.
fn required<'v>(value: Option<&'v str>, field: &str) -> Result<&'v str, Stop> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid(format!("{field} is required")))
}

impl Ctx<'_> {
    /// An answer's body: `check`'s shape or the balance shape.
    fn reply(
        &self,
        status: Status,
        balances: Option<&Balances>,
        currency: Option<&str>,
        replayed: bool,
    ) -> Answered {
        let bytes = if self.endpoint == Endpoint::Check {
            serde_json::to_vec(&CheckReply {
                status: status.as_str(),
                sid: self.sid.clone(),
                uuid: self.uuid.clone(),
            })
        } else {
            let scale = currency
                .and_then(|c| self.state.wallet.currency(c).ok())
                .map(|c| c.scale);
            let (balance, bonus) = match (balances, scale) {
                (Some(b), Some(scale)) => (
                    dto::number(format_minor(b.total_minor(), scale)),
                    dto::number(b.get(BONUS).format(scale)),
                ),
                _ => (dto::zero(), dto::zero()),
            };
            serde_json::to_vec(&BalanceReply {
                status: status.as_str(),
                balance,
                bonus,
                uuid: self.uuid.clone(),
            })
        };
        Answered {
            body: bytes.unwrap_or_default(),
            status,
            replayed,
            detail: None,
        }
    }

    async fn run(&mut self, body: &[u8]) -> Result<Answered, Stop> {
        let req: Request =
            serde_json::from_slice(body).map_err(|e| invalid(format!("invalid body: {e}")))?;
        if req.sid.is_empty() || req.user_id.is_empty() {
            return Err(invalid("sid and userId are required"));
        }
        self.sid = Some(req.sid.clone());
        if self.endpoint != Endpoint::Check && req.currency.is_none() {
            return Err(invalid("currency is required"));
        }
        // The call's own required fields, still step 3.
        let money = self.shape(&req)?;
        let player = self.player(&req.user_id).await?;
        let session = self.session(&player, &req.sid).await?;
        if self.endpoint != Endpoint::Check {
            let code = req.currency.as_deref().unwrap_or_default();
            match self.state.wallet.currency(code) {
                Ok(c) if c.code == player.currency => {}
                _ => {
                    return Err(Stop::of(
                        Status::InvalidParameter,
                        &player,
                        "currency is not the player's",
                    ))
                }
            }
        }
        let amount = match money.amount {
            Some(n) => Some(self.exact(n, &player)?),
            None => None,
        };
        match self.endpoint {
            Endpoint::Check | Endpoint::Balance => {
                if !session.live {
                    return Err(Stop::of(Status::InvalidSid, &player, "the sid has expired"));
                }
                if self.endpoint == Endpoint::Check
                    && player.status == crate::domain::PlayerStatus::Blocked
                {
                    return Err(Stop::of(
                        Status::AccountLocked,
                        &player,
                        "the player is blocked",
                    ));
                }
                Ok(self.reply(
                    Status::Ok,
                    Some(&player.balances),
                    Some(&player.currency),
                    false,
                ))
            }
            Endpoint::Debit => self.debit(money, amount, &player, &session).await,
            Endpoint::Credit => self.credit(money, amount, &player, &session).await,
            Endpoint::Cancel => self.cancel(money, &player).await,
            Endpoint::Promo => self.promo(money, amount, &player, &session).await,
        }
        // The player is known from step 5 on: every refusal carries its balance (2.6),
        // a derived id too long to be an id included.
        .map_err(|stop| stop.with_player(&player))
    }

    /// What each call requires besides sid, userId and currency.
    fn shape(&self, req: &Request) -> Result<Shape, Stop> {
        let mut shape = Shape::default();
        match self.endpoint {
            Endpoint::Check | Endpoint::Balance => {}
            Endpoint::Debit | Endpoint::Credit | Endpoint::Cancel => {
                let t = req
                    .transaction
                    .as_ref()
                    .ok_or_else(|| invalid("transaction is required"))?;
                required(Some(&t.id), "transaction.id")?;
                shape.ref_id = required(Some(&t.ref_id), "transaction.refId")?.to_owned();
                let game = req.game.as_ref();
                if self.endpoint == Endpoint::Cancel {
                    shape.round = game.and_then(|g| g.id.clone()).filter(|g| !g.is_empty());
                } else {
                    let game = game.ok_or_else(|| invalid("game is required"))?;
                    shape.round = Some(required(game.id.as_deref(), "game.id")?.to_owned());
                    shape.table = Some(required(game.table(), "game.details.table.id")?.to_owned());
                    shape.amount = Some(
                        t.amount
                            .ok_or_else(|| invalid("transaction.amount is required"))?,
                    );
                }
            }
            Endpoint::Promo => {
                let p = req
                    .promo_transaction
                    .as_ref()
                    .ok_or_else(|| invalid("promoTransaction is required"))?;
                shape.ref_id = required(Some(&p.id), "promoTransaction.id")?.to_owned();
                shape.table = req.game.as_ref().and_then(|g| g.table()).map(str::to_owned);
                shape.amount = Some(p.amount);
                shape.jackpot = p.kind.as_deref() == Some("JackpotWin");
            }
        }
        Ok(shape)
    }

    /// Step 4: the user; one that cannot be a player id is unknown too.
    async fn player(&self, user: &str) -> Result<Player, Stop> {
        let id = PlayerId::parse(user.to_owned()).map_err(|_| invalid("unknown userId"))?;
        record_call(id.as_str(), None);
        match self.state.wallet.get_player(&id).await {
            Ok(player) => Ok(player),
            Err(e) if e.code() == ErrorCode::PlayerNotFound => Err(invalid("unknown userId")),
            Err(e) => Err(self.ledger_error(e, None)),
        }
    }

    /// Step 5: the sid is this provider's session of this player.
    async fn session(&self, player: &Player, sid: &str) -> Result<Session, Stop> {
        match crate::http::adapter::session(
            &self.state.wallet,
            self.provider,
            &player.player_id,
            sid,
        )
        .await
        {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(Stop::of(
                Status::InvalidSid,
                player,
                "sid unknown or not this user's",
            )),
            Err(e) => Err(self.ledger_error(e, Some(player))),
        }
    }

    /// Step 7: the amount exact at the player's currency.
    fn exact(&self, amount: Number, player: &Player) -> Result<Money, Stop> {
        let currency = self
            .state
            .wallet
            .player_currency(player)
            .map_err(|e| self.ledger_error(e, Some(player)))?;
        let minor = amount
            .0
            .to_minor(&currency)
            .map_err(|e| Stop::of(Status::InvalidParameter, player, e))?;
        Ok(Money {
            amount: minor,
            currency,
        })
    }

    fn ledger_error(&self, e: LedgerError, player: Option<&Player>) -> Stop {
        let status = status::of_code(self.call(), e.code());
        match player {
            Some(p) => Stop::of(status, p, e.to_string()),
            None => Stop::new(status, e.to_string()),
        }
    }

    fn call(&self) -> Call {
        match self.endpoint {
            Endpoint::Credit => Call::Credit,
            Endpoint::Cancel => Call::Cancel,
            Endpoint::Promo => Call::Promo,
            Endpoint::Check | Endpoint::Balance | Endpoint::Debit => Call::Debit,
        }
    }

    fn key(&self, kind: &str, user: &PlayerId, reference: &str) -> Result<TxKey, Stop> {
        let text = format!("{kind}:{}:{}", escape(user.as_str()), escape(reference));
        Ok(TxKey {
            provider: self.provider.clone(),
            transaction: id("transaction id", text, ExternalTxId::parse)?,
        })
    }

    fn round(game_round: &str, ref_id: &str) -> Result<RoundId, Stop> {
        id(
            "game.id",
            format!("{}:{}", escape(game_round), escape(ref_id)),
            RoundId::parse,
        )
    }

    async fn debit(
        &self,
        shape: Shape,
        stake: Option<Money>,
        player: &Player,
        session: &Session,
    ) -> Result<Answered, Stop> {
        let stake = stake.ok_or_else(|| invalid("transaction.amount is required"))?;
        let key = self.key("debit", &player.player_id, &shape.ref_id)?;
        record_call(player.player_id.as_str(), Some(key.transaction.as_str()));
        let cmd = BetCommand {
            key,
            player: player.player_id.clone(),
            session: SessionRef(Some(session.session_id)),
            round: Self::round(shape.round.as_deref().unwrap_or_default(), &shape.ref_id)?,
            game: id(
                "game.details.table.id",
                shape.table.unwrap_or_default(),
                GameId::parse,
            )?,
            stake,
        };
        // The ledger refuses an expired sid before a blocked player under Evolution's
        // policy (2.7 steps 9 and 10) and records that refusal: a resend answers the
        // same status.
        let result = self.state.wallet.bet(cmd, Policy::EVOLUTION).await;
        self.answer(Call::Debit, player, result)
    }

    async fn credit(
        &self,
        shape: Shape,
        payout: Option<Money>,
        player: &Player,
        session: &Session,
    ) -> Result<Answered, Stop> {
        let payout = payout.ok_or_else(|| invalid("transaction.amount is required"))?;
        let key = self.key("credit", &player.player_id, &shape.ref_id)?;
        let bet = self
            .key("debit", &player.player_id, &shape.ref_id)?
            .transaction;
        record_call(player.player_id.as_str(), Some(key.transaction.as_str()));
        let cmd = WinCommand {
            key,
            player: player.player_id.clone(),
            round: Self::round(shape.round.as_deref().unwrap_or_default(), &shape.ref_id)?,
            game: id(
                "game.details.table.id",
                shape.table.unwrap_or_default(),
                GameId::parse,
            )?,
            payout,
            kind: WinKind::Win,
            bet: Some(bet),
            session: Some(SessionRef(Some(session.session_id))),
            // Evolution settles per bet: the credit ends the bet's round.
            closes_round: true,
        };
        let result = self.state.wallet.win(cmd, Policy::EVOLUTION).await;
        self.answer(Call::Credit, player, result)
    }

    async fn cancel(&self, shape: Shape, player: &Player) -> Result<Answered, Stop> {
        let key = self.key("cancel", &player.player_id, &shape.ref_id)?;
        let target = self
            .key("debit", &player.player_id, &shape.ref_id)?
            .transaction;
        record_call(player.player_id.as_str(), Some(key.transaction.as_str()));
        let round = match &shape.round {
            Some(r) => Some(Self::round(r, &shape.ref_id)?),
            None => None,
        };
        let cmd = RollbackCommand {
            key,
            player: player.player_id.clone(),
            target,
            round,
        };
        let result = self.state.wallet.rollback(cmd, Policy::EVOLUTION).await;
        self.answer(Call::Cancel, player, result)
    }

    async fn promo(
        &self,
        shape: Shape,
        payout: Option<Money>,
        player: &Player,
        session: &Session,
    ) -> Result<Answered, Stop> {
        let payout = payout.ok_or_else(|| invalid("promoTransaction.amount is required"))?;
        let key = self.key("promo", &player.player_id, &shape.ref_id)?;
        record_call(player.player_id.as_str(), Some(key.transaction.as_str()));
        let cmd = WinCommand {
            key,
            player: player.player_id.clone(),
            round: id(
                "promoTransaction.id",
                format!("promo:{}", escape(&shape.ref_id)),
                RoundId::parse,
            )?,
            game: id(
                "game.details.table.id",
                shape.table.unwrap_or_else(|| "promo".into()),
                GameId::parse,
            )?,
            payout,
            kind: if shape.jackpot {
                WinKind::Jackpot
            } else {
                WinKind::Promo
            },
            bet: None,
            session: Some(SessionRef(Some(session.session_id))),
            closes_round: false,
        };
        let result = self.state.wallet.win(cmd, Policy::EVOLUTION).await;
        self.answer(Call::Promo, player, result)
    }

    /// The ledger's answer as an Evolution reply. A replayed refusal maps as the first
    /// did: the status depends only on the recorded reason (2.8).
    fn answer(
        &self,
        call: Call,
        player: &Player,
        result: Result<Answer, LedgerError>,
    ) -> Result<Answered, Stop> {
        let answer = result.map_err(|e| self.ledger_error(e, Some(player)))?;
        let (status, balances, currency, detail) = match &answer.outcome {
            Outcome::Applied(r) => {
                let tombstone = call == Call::Cancel && r.linked_bet.is_none();
                (
                    status::of_success(call, answer.replayed, tombstone),
                    &r.balance,
                    &r.currency,
                    None,
                )
            }
            Outcome::Refused(r) => (
                status::of_reason(call, r.reason),
                &r.balance,
                &r.currency,
                Some(r.reason.as_str().to_owned()),
            ),
        };
        let mut answered = self.reply(status, Some(balances), Some(currency), answer.replayed);
        answered.detail = detail;
        Ok(answered)
    }
}

/// A call's own fields once checked.
#[derive(Default)]
struct Shape {
    ref_id: String,
    /// Evolution's game round id (`game.id`).
    round: Option<String>,
    /// The table: our `game_id`.
    table: Option<String>,
    amount: Option<Number>,
    jackpot: bool,
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn derived_id_parts_never_contain_the_separator() {
        assert_eq!(escape("player-7"), "player-7");
        assert_eq!(escape("a:b%c"), "a%3Ab%25c");
        // Escaping `%` first keeps `%3A` written by a vendor distinct from `:`.
        assert_ne!(escape("a%3Ab"), escape("a:b"));
    }
}
