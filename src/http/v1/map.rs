//! Between the v1 wire and the ledger: request bodies to commands (every id checked,
//! every amount exact at its currency), outcomes to response bodies.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};

use super::dto;
use crate::domain::category::CASH;
use crate::domain::ids::{is_id, InvalidId, ID_LEN_MAX};
use crate::domain::money::format_minor;
use crate::domain::{
    Balances, Categories, Entry, ExternalTxId, GameId, Outcome, Player, PlayerId, PlayerStatus,
    ProviderId, Refusal, RoundId, Session, TxKey, WinKind,
};
use crate::http::error::ApiError;
use crate::ledger::{
    Answer, BalanceView, BetCommand, CashCommand, CashDirection, Money, OpenSession,
    RollbackCommand, RoundView, SessionRef, TransactionPage, Wallet, WinCommand,
};

/// Checks one id of a request, naming its field when it is not one.
pub fn id<T>(
    field: &str,
    value: &str,
    parse: fn(String) -> Result<T, InvalidId>,
) -> Result<T, ApiError> {
    parse(value.to_owned()).map_err(|_| {
        ApiError::invalid(format!(
            "{field} must be 1 to {ID_LEN_MAX} bytes without control characters"
        ))
    })
}

/// Checks a text that must be an id without being one of the ledger's (a session id a
/// provider sends: unknown ones answer `session_invalid`, malformed ones `400`).
pub fn check(field: &str, value: &str) -> Result<(), ApiError> {
    id(field, value, |v| {
        if is_id(&v) {
            Ok(())
        } else {
            Err(InvalidId)
        }
    })
}

fn opt_id<T>(
    field: &str,
    value: Option<&str>,
    parse: fn(String) -> Result<T, InvalidId>,
) -> Result<Option<T>, ApiError> {
    value.map(|v| id(field, v, parse)).transpose()
}

pub fn player_id(value: &str) -> Result<PlayerId, ApiError> {
    id("player_id", value, PlayerId::parse)
}

fn key(provider: &ProviderId, transaction_id: &str) -> Result<TxKey, ApiError> {
    Ok(TxKey {
        provider: provider.clone(),
        transaction: id("transaction_id", transaction_id, ExternalTxId::parse)?,
    })
}

/// A request's amount in its currency; an unknown currency or an amount off its scale
/// is a `400`.
fn money(wallet: &Wallet, code: &str, amount: dto::AmountInput) -> Result<Money, ApiError> {
    let currency = wallet.currency(code)?;
    let amount = amount.0.to_minor(&currency).map_err(ApiError::invalid)?;
    Ok(Money { amount, currency })
}

pub fn bet(wallet: &Wallet, provider: &ProviderId, req: dto::Bet) -> Result<BetCommand, ApiError> {
    let key = key(provider, &req.transaction_id)?;
    let player = player_id(&req.player_id)?;
    check("session_id", &req.session_id)?;
    let round = id("round_id", &req.round_id, RoundId::parse)?;
    let game = id("game_id", &req.game_id, GameId::parse)?;
    Ok(BetCommand {
        key,
        player,
        session: SessionRef::parse(&req.session_id),
        round,
        game,
        stake: money(wallet, &req.currency, req.amount)?,
    })
}

pub fn win(wallet: &Wallet, provider: &ProviderId, req: dto::Win) -> Result<WinCommand, ApiError> {
    let key = key(provider, &req.transaction_id)?;
    let player = player_id(&req.player_id)?;
    let round = id("round_id", &req.round_id, RoundId::parse)?;
    let game = id("game_id", &req.game_id, GameId::parse)?;
    let bet = opt_id(
        "bet_transaction_id",
        req.bet_transaction_id.as_deref(),
        ExternalTxId::parse,
    )?;
    if let Some(session) = &req.session_id {
        check("session_id", session)?;
    }
    let kind = match req.kind.as_deref() {
        None => WinKind::Win,
        Some(text) => WinKind::parse(text)
            .ok_or_else(|| ApiError::invalid("kind must be \"win\", \"promo\" or \"jackpot\""))?,
    };
    Ok(WinCommand {
        key,
        player,
        round,
        game,
        payout: money(wallet, &req.currency, req.amount)?,
        kind,
        bet,
        session: req.session_id.as_deref().map(SessionRef::parse),
        closes_round: req.round_closed == Some(true),
    })
}

pub fn rollback(provider: &ProviderId, req: dto::Rollback) -> Result<RollbackCommand, ApiError> {
    Ok(RollbackCommand {
        key: key(provider, &req.transaction_id)?,
        player: player_id(&req.player_id)?,
        target: id(
            "reference_transaction_id",
            &req.reference_transaction_id,
            ExternalTxId::parse,
        )?,
        round: opt_id("round_id", req.round_id.as_deref(), RoundId::parse)?,
    })
}

pub fn deposit(player: &str, req: dto::Deposit) -> Result<CashCommand, ApiError> {
    Ok(CashCommand {
        key: key(&ProviderId::operator(), &req.transaction_id)?,
        player: player_id(player)?,
        amount: req.amount.0,
        direction: CashDirection::Deposit {
            category: req.category.unwrap_or_else(|| CASH.to_owned()),
        },
    })
}

pub fn withdrawal(player: &str, req: dto::Withdrawal) -> Result<CashCommand, ApiError> {
    Ok(CashCommand {
        key: key(&ProviderId::operator(), &req.transaction_id)?,
        player: player_id(player)?,
        amount: req.amount.0,
        direction: CashDirection::Withdrawal,
    })
}

pub fn open_session(req: dto::OpenSession) -> Result<OpenSession, ApiError> {
    Ok(OpenSession {
        player: player_id(&req.player_id)?,
        provider: id("provider_id", &req.provider_id, ProviderId::parse)
            .map_err(|_| ApiError::invalid(format!("unknown provider_id {:?}", req.provider_id)))?,
        game: id("game_id", &req.game_id, GameId::parse)?,
        ttl_seconds: req.ttl_seconds,
    })
}

pub fn player_status(req: &dto::PlayerStatusChange) -> Result<PlayerStatus, ApiError> {
    PlayerStatus::parse(&req.status)
        .ok_or_else(|| ApiError::invalid("status must be \"active\" or \"blocked\""))
}

// ---------------------------------------------------------------------------------------
// Outcomes to bodies.

/// What renders amounts: the configured categories and the scale of each currency.
pub struct Renderer<'a> {
    wallet: &'a Wallet,
}

impl<'a> Renderer<'a> {
    pub fn new(wallet: &'a Wallet) -> Self {
        Self { wallet }
    }

    fn scale(&self, currency: &str) -> Result<u32, ApiError> {
        self.wallet
            .currency(currency)
            .map(|c| c.scale)
            .map_err(|_| ApiError::internal(format!("currency {currency} is no longer configured")))
    }

    fn categories(&self) -> &Categories {
        self.wallet.categories()
    }

    /// The total and every configured category.
    pub fn balance(&self, balances: &Balances, scale: u32) -> dto::Balance {
        let mut out = BTreeMap::new();
        out.insert(
            "total".to_owned(),
            format_minor(balances.total_minor(), scale),
        );
        for category in self.categories().names() {
            out.insert(category.clone(), balances.get(category).format(scale));
        }
        dto::Balance(out)
    }

    pub fn balance_reply(&self, view: &BalanceView) -> Result<dto::BalanceReply, ApiError> {
        let scale = self.scale(&view.currency)?;
        Ok(dto::BalanceReply {
            balance: self.balance(&view.balance, scale),
            currency: view.currency.clone(),
        })
    }

    /// A money call's answer: the receipt, or the refusal as an error.
    pub fn answer(&self, answer: &Answer) -> Result<dto::MoneyReceipt, ApiError> {
        match &answer.outcome {
            Outcome::Applied(r) => {
                let scale = self.scale(&r.currency)?;
                Ok(dto::MoneyReceipt {
                    balance: self.balance(&r.balance, scale),
                    currency: r.currency.clone(),
                    transaction_id: r.transaction_id.as_str().to_owned(),
                    wallet_transaction_id: r.wallet_transaction_id,
                })
            }
            Outcome::Refused(r) => Err(self.refusal(r)?),
        }
    }

    pub fn refusal(&self, r: &Refusal) -> Result<ApiError, ApiError> {
        let scale = self.scale(&r.currency)?;
        Ok(ApiError::refusal(
            r.reason,
            self.balance(&r.balance, scale),
            r.currency.clone(),
        ))
    }

    pub fn player(&self, p: &Player) -> Result<dto::Player, ApiError> {
        let scale = self.scale(&p.currency)?;
        Ok(dto::Player {
            balance: self.balance(&p.balances, scale),
            currency: p.currency.clone(),
            player_id: p.player_id.as_str().to_owned(),
            status: p.status.as_str(),
        })
    }

    pub fn item(&self, e: &Entry) -> Result<dto::TransactionItem, ApiError> {
        let scale = self.scale(&e.currency)?;
        Ok(dto::TransactionItem {
            amount: e.amount.format(scale),
            balance_after: self.balance(&e.balance_after, scale),
            created_at: timestamp(e.created_at),
            currency: e.currency.clone(),
            game_id: e.game_id.as_ref().map(|g| g.as_str().to_owned()),
            kind: e.kind.as_str(),
            player_id: e.player_id.as_str().to_owned(),
            provider_id: (!e.provider_id.is_operator()).then(|| e.provider_id.as_str().to_owned()),
            reference_transaction_id: e
                .reference_transaction_id
                .as_ref()
                .map(|r| r.as_str().to_owned()),
            round_id: e.round_id.as_ref().map(|r| r.as_str().to_owned()),
            session_id: e.session_id,
            split: e
                .split
                .iter()
                .map(|(k, v)| (k.clone(), v.format(scale)))
                .collect(),
            transaction_id: e.transaction_id.as_str().to_owned(),
            wallet_transaction_id: e.id,
            win_kind: e.win_kind.map(WinKind::as_str),
        })
    }

    fn items(&self, entries: &[Entry]) -> Result<Vec<dto::TransactionItem>, ApiError> {
        entries.iter().map(|e| self.item(e)).collect()
    }

    pub fn page(&self, page: &TransactionPage) -> Result<dto::TransactionPage, ApiError> {
        Ok(dto::TransactionPage {
            items: self.items(&page.items)?,
            next_cursor: page.next_cursor.map(|c| c.to_string()),
        })
    }

    pub fn round(&self, view: &RoundView) -> Result<dto::Round, ApiError> {
        let r = &view.round;
        Ok(dto::Round {
            bets: self.items(&view.bets)?,
            game_id: r.game_id.as_str().to_owned(),
            opened_at: timestamp(r.opened_at),
            player_id: r.player_id.as_str().to_owned(),
            provider_id: r.provider_id.as_str().to_owned(),
            rollbacks: self.items(&view.rollbacks)?,
            round_id: r.round_id.as_str().to_owned(),
            status: r.status.as_str(),
            wins: self.items(&view.wins)?,
        })
    }
}

pub fn session(s: &Session) -> dto::Session {
    dto::Session {
        expires_at: timestamp(s.expires_at),
        game_id: s.game_id.as_str().to_owned(),
        player_id: s.player_id.as_str().to_owned(),
        provider_id: s.provider_id.as_str().to_owned(),
        session_id: s.session_id,
    }
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
