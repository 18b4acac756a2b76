//! Operator calls: players, deposits and withdrawals, sessions, and the audit queries.

use futures::try_join;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::idempotency::{self, fingerprint, OPERATOR_NAMESPACE};
use super::view::{self, timestamp};
use super::write::{self, RoundChange};
use super::Attempt;
use super::{LedgerError, Movement, Outcome, Wallet};
use crate::db::ledger::NewLedgerRow;
use crate::db::players::PlayerRow;
use crate::db::{self, Client};
use crate::domain::category::CASH;
use crate::domain::{AmountInput, ErrorCode, Split};

/// Longest id (player, transaction, round, game, provider) the wallet accepts.
pub const ID_LEN_MAX: usize = 128;

/// Refuses empty, overlong or control-character ids with `invalid_request`.
pub fn check_id(field: &str, value: &str) -> Result<(), LedgerError> {
    if value.is_empty() || value.len() > ID_LEN_MAX || value.chars().any(char::is_control) {
        return Err(LedgerError::invalid(format!(
            "{field} must be 1 to {ID_LEN_MAX} bytes without control characters"
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CreatePlayer {
    pub player_id: String,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PlayerStatusChange {
    pub status: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Deposit {
    pub transaction_id: String,
    pub amount: AmountInput,
    pub category: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Withdrawal {
    pub transaction_id: String,
    pub amount: AmountInput,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OpenSession {
    pub player_id: String,
    pub provider_id: String,
    pub game_id: String,
    pub ttl_seconds: Option<i64>,
}

/// Longest session a call may open: thirty days.
const SESSION_TTL_MAX_SECONDS: i64 = 30 * 24 * 3600;
const PAGE_LIMIT_DEFAULT: i64 = 50;
const PAGE_LIMIT_MAX: i64 = 500;

impl Wallet {
    pub(super) fn player_json(&self, player: &PlayerRow) -> Result<Value, LedgerError> {
        let currency = self.player_currency(&player.currency)?;
        Ok(json!({
            "player_id": player.player_id,
            "currency": player.currency,
            "status": player.status,
            "balance": player.balances.to_json(currency.scale, self.categories()),
        }))
    }

    /// Creates a player; `(true, player)` when new, `(false, player)` when the same
    /// call was made before.
    pub async fn create_player(&self, req: CreatePlayer) -> Result<(bool, Value), LedgerError> {
        check_id("player_id", &req.player_id)?;
        self.currency(&req.currency)?;
        let client = self.client().await?;
        let created = db::players::insert(
            &client,
            &req.player_id,
            &req.currency,
            self.categories().names(),
        )
        .await?;
        let player = db::players::get(&client, &req.player_id)
            .await?
            .ok_or_else(|| LedgerError::new(ErrorCode::Internal, "player vanished"))?;
        if !created && player.currency != req.currency {
            return Err(LedgerError::new(
                ErrorCode::PlayerExists,
                format!(
                    "player {} exists with currency {}",
                    player.player_id, player.currency
                ),
            ));
        }
        Ok((created, self.player_json(&player)?))
    }

    pub async fn get_player(&self, player_id: &str) -> Result<Value, LedgerError> {
        let client = self.client().await?;
        let player = db::players::get(&client, player_id)
            .await?
            .ok_or_else(player_not_found)?;
        self.player_json(&player)
    }

    pub async fn set_player_status(
        &self,
        player_id: &str,
        req: PlayerStatusChange,
    ) -> Result<Value, LedgerError> {
        if !["active", "blocked"].contains(&req.status.as_str()) {
            return Err(LedgerError::invalid(
                "status must be \"active\" or \"blocked\"",
            ));
        }
        let client = self.client().await?;
        if !db::players::set_status(&client, player_id, &req.status).await? {
            return Err(player_not_found());
        }
        self.get_player_with(&client, player_id).await
    }

    async fn get_player_with(
        &self,
        client: &Client,
        player_id: &str,
    ) -> Result<Value, LedgerError> {
        let player = db::players::get(client, player_id)
            .await?
            .ok_or_else(player_not_found)?;
        self.player_json(&player)
    }

    pub async fn deposit(&self, player_id: &str, req: Deposit) -> Result<Outcome, LedgerError> {
        check_id("transaction_id", &req.transaction_id)?;
        let category = req.category.clone().unwrap_or_else(|| CASH.to_owned());
        if !self.categories().contains(&category) {
            return Err(LedgerError::invalid(format!(
                "unknown balance category {category:?}"
            )));
        }
        let fingerprint = fingerprint(&[
            ("call", Some("deposit")),
            ("player", Some(player_id)),
            ("amount", Some(&req.amount.canonical())),
            ("category", Some(&category)),
        ]);
        self.execute(CashMove {
            player_id: player_id.to_owned(),
            transaction_id: req.transaction_id,
            amount: req.amount,
            category,
            deposit: true,
            fingerprint,
        })
        .await
    }

    pub async fn withdraw(&self, player_id: &str, req: Withdrawal) -> Result<Outcome, LedgerError> {
        check_id("transaction_id", &req.transaction_id)?;
        let fingerprint = fingerprint(&[
            ("call", Some("withdrawal")),
            ("player", Some(player_id)),
            ("amount", Some(&req.amount.canonical())),
        ]);
        self.execute(CashMove {
            player_id: player_id.to_owned(),
            transaction_id: req.transaction_id,
            amount: req.amount,
            category: CASH.to_owned(),
            deposit: false,
            fingerprint,
        })
        .await
    }

    pub async fn open_session(&self, req: OpenSession) -> Result<Value, LedgerError> {
        check_id("player_id", &req.player_id)?;
        check_id("game_id", &req.game_id)?;
        if !self.inner.providers.contains(&req.provider_id) {
            return Err(LedgerError::invalid(format!(
                "unknown provider_id {:?}",
                req.provider_id
            )));
        }
        let ttl = req.ttl_seconds.unwrap_or(3600);
        if !(1..=SESSION_TTL_MAX_SECONDS).contains(&ttl) {
            return Err(LedgerError::invalid(format!(
                "ttl_seconds must be between 1 and {SESSION_TTL_MAX_SECONDS}"
            )));
        }
        let client = self.client().await?;
        if db::players::get(&client, &req.player_id).await?.is_none() {
            return Err(player_not_found());
        }
        let session_id = Uuid::now_v7();
        let expires_at = db::sessions::insert(
            &client,
            session_id,
            &req.player_id,
            &req.provider_id,
            &req.game_id,
            ttl,
        )
        .await?;
        Ok(json!({
            "session_id": session_id,
            "player_id": req.player_id,
            "provider_id": req.provider_id,
            "game_id": req.game_id,
            "expires_at": timestamp(expires_at),
        }))
    }

    pub async fn expire_session(&self, session_id: &str) -> Result<(), LedgerError> {
        let not_found = || LedgerError::new(ErrorCode::SessionNotFound, "no such session");
        let session_id = Uuid::parse_str(session_id).map_err(|_| not_found())?;
        let client = self.client().await?;
        if db::sessions::expire(&client, session_id).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// A page of the player's transactions, newest first. The cursor is the wallet id
    /// of the last item of the previous page.
    pub async fn list_transactions(
        &self,
        player_id: &str,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Value, LedgerError> {
        let limit = limit.unwrap_or(PAGE_LIMIT_DEFAULT);
        if !(1..=PAGE_LIMIT_MAX).contains(&limit) {
            return Err(LedgerError::invalid(format!(
                "limit must be between 1 and {PAGE_LIMIT_MAX}"
            )));
        }
        let before = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => {
                Some(Uuid::parse_str(c).map_err(|_| LedgerError::invalid("cursor is not valid"))?)
            }
            None => None,
        };
        let client = self.client().await?;
        let (player, rows) = try_join!(
            db::players::get(&client, player_id),
            db::ledger::list_for_player(&client, player_id, before, limit + 1)
        )?;
        let player = player.ok_or_else(player_not_found)?;
        let scale = self.player_currency(&player.currency)?.scale;
        let more = rows.len() as i64 > limit;
        let page = &rows[..rows.len().min(limit as usize)];
        let next_cursor = more
            .then(|| page.last().map(|r| r.id.to_string()))
            .flatten();
        let items: Vec<Value> = page
            .iter()
            .map(|r| view::transaction_item(r, scale, self.categories()))
            .collect();
        Ok(json!({ "items": items, "next_cursor": next_cursor }))
    }

    pub async fn get_transaction(
        &self,
        provider_id: &str,
        transaction_id: &str,
    ) -> Result<Value, LedgerError> {
        let client = self.client().await?;
        let row = db::ledger::find(&client, provider_id, transaction_id)
            .await?
            .ok_or_else(|| {
                LedgerError::new(ErrorCode::TransactionNotFound, "no such transaction")
            })?;
        let scale = self.player_currency(&row.currency)?.scale;
        Ok(view::transaction_item(&row, scale, self.categories()))
    }

    pub async fn get_round(&self, provider_id: &str, round_id: &str) -> Result<Value, LedgerError> {
        let client = self.client().await?;
        let (round, rows) = try_join!(
            db::rounds::get(&client, provider_id, round_id),
            db::ledger::round_rows(&client, provider_id, round_id)
        )?;
        let round =
            round.ok_or_else(|| LedgerError::new(ErrorCode::RoundNotFound, "no such round"))?;
        let player = db::players::get(&client, &round.player_id)
            .await?
            .ok_or_else(player_not_found)?;
        let scale = self.player_currency(&player.currency)?.scale;
        let of_kind = |kind: &str| -> Vec<Value> {
            rows.iter()
                .filter(|r| r.kind == kind)
                .map(|r| view::transaction_item(r, scale, self.categories()))
                .collect()
        };
        Ok(json!({
            "round_id": round.round_id,
            "provider_id": round.provider_id,
            "player_id": round.player_id,
            "game_id": round.game_id,
            "status": round.status,
            "opened_at": timestamp(round.opened_at),
            "bets": of_kind("bet"),
            "wins": of_kind("win"),
            "rollbacks": of_kind("rollback"),
        }))
    }
}

pub(super) fn player_not_found() -> LedgerError {
    LedgerError::new(ErrorCode::PlayerNotFound, "no such player")
}

/// A deposit or a withdrawal by the operator.
#[derive(Clone)]
struct CashMove {
    player_id: String,
    transaction_id: String,
    amount: AmountInput,
    category: String,
    deposit: bool,
    fingerprint: Vec<u8>,
}

impl Movement for CashMove {
    fn player_id(&self) -> &str {
        &self.player_id
    }

    fn kind(&self) -> &'static str {
        if self.deposit {
            "deposit"
        } else {
            "withdrawal"
        }
    }

    async fn attempt(&self, wallet: &Wallet, attempt: Attempt) -> Result<Outcome, LedgerError> {
        let client = attempt.client();
        let key = (OPERATOR_NAMESPACE, self.transaction_id.as_str());
        let context = db::movement::context(client, key, None, None, None).await?;
        if let Some(recorded) = context.recorded {
            return idempotency::replay(recorded, &self.fingerprint);
        }
        let (player, member) = attempt.lock(wallet, &self.player_id).await?;
        let currency = wallet.player_currency(&player.currency)?;
        let amount = self
            .amount
            .to_minor(&currency)
            .map_err(LedgerError::invalid)?;
        let split: Split = [(self.category.clone(), amount)].into();
        let balance = if self.deposit {
            player.balances.credit(&split)
        } else if player.balances.get(CASH) < amount {
            let error =
                LedgerError::new(ErrorCode::InsufficientFunds, "not enough cash to withdraw")
                    .with_balance(
                        player.balances.to_json(currency.scale, wallet.categories()),
                        &currency.code,
                    );
            return wallet
                .reject(member, key, self.fingerprint.clone(), error)
                .await;
        } else {
            player.balances.debit(&split)
        };
        let id = Uuid::now_v7();
        let body = view::receipt(
            &self.transaction_id,
            id,
            &balance,
            &currency.code,
            currency.scale,
            wallet.categories(),
        );
        let movement = db::movement::Movement {
            player_id: self.player_id.clone(),
            deltas: write::deltas(&split, if self.deposit { 1 } else { -1 }),
            missing_categories: write::missing(&player.balances, &split),
            row: Some(NewLedgerRow {
                id,
                provider_id: key.0.to_owned(),
                transaction_id: key.1.to_owned(),
                player_id: self.player_id.clone(),
                kind: self.kind(),
                win_kind: None,
                amount,
                currency: currency.code.clone(),
                balance_after: balance.0.clone(),
                split,
                round_id: None,
                game_id: None,
                session_id: None,
                reference_id: None,
                reference_transaction_id: None,
            }),
            provider_id: key.0.to_owned(),
            transaction_id: key.1.to_owned(),
            record: idempotency::record(self.fingerprint.clone(), 200, &body),
            round: RoundChange::None,
        };
        write::commit(member, movement, Some(&balance)).await?;
        Ok(Outcome {
            status: 200,
            body,
            replayed: false,
        })
    }
}
