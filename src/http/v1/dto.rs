//! The v1 wire format: request bodies as clients send them and response bodies as the
//! contract fixes them. Response fields are declared in alphabetical order, which is
//! the order every earlier body of this API had (they were JSON maps with sorted keys),
//! so answers and replays stay byte for byte what clients have seen.

use std::collections::BTreeMap;

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::DecimalAmount;

/// An amount as the client wrote it: a JSON string in plain decimal notation or a JSON
/// number (exponent allowed). Read from the raw JSON text, never through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountInput(pub DecimalAmount);

impl<'de> Deserialize<'de> for AmountInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
        parse_raw_amount(raw.get())
            .map(AmountInput)
            .map_err(D::Error::custom)
    }
}

fn parse_raw_amount(text: &str) -> Result<DecimalAmount, String> {
    let text = text.trim();
    if text.starts_with('"') {
        let inner: String = serde_json::from_str(text)
            .map_err(|_| "amount must be a decimal string or number".to_owned())?;
        DecimalAmount::parse_plain(&inner)
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        DecimalAmount::parse_number(text)
    } else {
        Err("amount must be a decimal string or number".to_owned())
    }
}

// ---------------------------------------------------------------------------------------
// Requests.

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BalanceQuery {
    pub player_id: String,
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Bet {
    pub transaction_id: String,
    pub player_id: String,
    pub session_id: String,
    pub round_id: String,
    pub game_id: String,
    #[schema(value_type = crate::http::openapi::Amount)]
    pub amount: AmountInput,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Win {
    pub transaction_id: String,
    pub player_id: String,
    pub round_id: String,
    pub game_id: String,
    #[schema(value_type = crate::http::openapi::Amount)]
    pub amount: AmountInput,
    pub currency: String,
    pub bet_transaction_id: Option<String>,
    pub session_id: Option<String>,
    pub round_closed: Option<bool>,
    #[schema(schema_with = crate::http::openapi::win_kind_or_null)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Rollback {
    pub transaction_id: String,
    pub player_id: String,
    pub reference_transaction_id: String,
    pub round_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreatePlayer {
    pub player_id: String,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PlayerStatusChange {
    #[schema(schema_with = crate::http::openapi::player_status)]
    pub status: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Deposit {
    pub transaction_id: String,
    #[schema(value_type = crate::http::openapi::Amount)]
    pub amount: AmountInput,
    pub category: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Withdrawal {
    pub transaction_id: String,
    #[schema(value_type = crate::http::openapi::Amount)]
    pub amount: AmountInput,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OpenSession {
    pub player_id: String,
    pub provider_id: String,
    pub game_id: String,
    pub ttl_seconds: Option<i64>,
}

// ---------------------------------------------------------------------------------------
// Responses.

/// `{"total": "60.00", "cash": "50.00", "bonus": "10.00"}`: the total and every
/// configured category, amounts at the currency's scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"total": "60.00", "cash": "50.00", "bonus": "10.00"}))]
pub struct Balance(pub BTreeMap<String, String>);

/// The answer to a balance call.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"balance": {"total": "60.00", "cash": "50.00", "bonus": "10.00"},
    "currency": "EUR"}))]
pub struct BalanceReply {
    pub balance: Balance,
    pub currency: String,
}

/// The answer to a money call that applied.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"balance": {"total": "50.00", "cash": "50.00", "bonus": "0.00"},
    "currency": "EUR", "transaction_id": "tx-1",
    "wallet_transaction_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f"}))]
pub struct MoneyReceipt {
    pub balance: Balance,
    pub currency: String,
    /// The caller's id of this movement.
    pub transaction_id: String,
    /// The wallet's own id of it.
    pub wallet_transaction_id: Uuid,
}

/// The error envelope of every failure.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"error": {"balance": {"total": "5.00", "cash": "5.00", "bonus": "0.00"},
    "code": "insufficient_funds", "currency": "EUR",
    "message": "the balance does not cover the stake"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong. `balance` and `currency` are present where a balance is relevant
/// (e.g. `insufficient_funds`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The unchanged balance, where the contract says the refusal carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<Balance>,
    #[schema(value_type = crate::http::openapi::ErrorCodeName)]
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Human-readable explanation; not for machines.
    pub message: String,
}

/// A player with balances.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"balance": {"total": "0.00", "cash": "0.00", "bonus": "0.00"},
    "currency": "EUR", "player_id": "p-1", "status": "active"}))]
pub struct Player {
    pub balance: Balance,
    pub currency: String,
    pub player_id: String,
    /// `active` or `blocked`.
    #[schema(schema_with = crate::http::openapi::player_status)]
    pub status: &'static str,
}

/// An open game session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub game_id: String,
    pub player_id: String,
    pub provider_id: String,
    pub session_id: Uuid,
}

/// One ledger entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransactionItem {
    pub amount: String,
    pub balance_after: Balance,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    pub currency: String,
    pub game_id: Option<String>,
    /// `bet`, `win`, `rollback`, `deposit` or `withdrawal`.
    #[schema(schema_with = crate::http::openapi::transaction_kind)]
    pub kind: &'static str,
    pub player_id: String,
    /// `null` for operator deposits and withdrawals.
    pub provider_id: Option<String>,
    pub reference_transaction_id: Option<String>,
    pub round_id: Option<String>,
    pub session_id: Option<Uuid>,
    /// Category -> unsigned amount; the values add up to `amount`.
    pub split: BTreeMap<String, String>,
    pub transaction_id: String,
    pub wallet_transaction_id: Uuid,
    /// `win`, `promo` or `jackpot` for wins, else `null`.
    #[schema(schema_with = crate::http::openapi::win_kind_or_null)]
    pub win_kind: Option<&'static str>,
}

/// A page of a player's transactions, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransactionPage {
    pub items: Vec<TransactionItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A round and every movement in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Round {
    pub bets: Vec<TransactionItem>,
    pub game_id: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub opened_at: String,
    pub player_id: String,
    pub provider_id: String,
    pub rollbacks: Vec<TransactionItem>,
    pub round_id: String,
    /// `open` or `closed`.
    #[schema(schema_with = crate::http::openapi::round_status)]
    pub status: &'static str,
    pub wins: Vec<TransactionItem>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    fn minor(json: &str) -> Result<i64, String> {
        let input: AmountInput = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let eur = Currency {
            code: "EUR".into(),
            scale: 2,
        };
        input.0.to_minor(&eur).map(|a| a.minor())
    }

    #[test]
    fn strings_and_numbers_are_both_amounts() {
        assert_eq!(minor("\"12.50\""), Ok(1250));
        assert_eq!(minor("12.5"), Ok(1250));
        assert_eq!(minor("2.5e1"), Ok(2500));
        assert_eq!(minor("\"\\u0031\""), Ok(100));
        for bad in ["\"1e2\"", "true", "null", "[1]", "{}", "\" 1\""] {
            assert!(minor(bad).is_err(), "{bad} was accepted");
        }
    }
}
