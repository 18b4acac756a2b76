//! JSON shapes the ledger answers with: receipts of money calls and transaction items.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::idempotency::OPERATOR_NAMESPACE;
use crate::db::ledger::LedgerRow;
use crate::domain::category::split_to_json;
use crate::domain::{Balances, Categories};

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The success body of a money call.
pub fn receipt(
    transaction_id: &str,
    wallet_transaction_id: uuid::Uuid,
    balance: &Balances,
    currency: &str,
    scale: u32,
    categories: &Categories,
) -> Value {
    json!({
        "transaction_id": transaction_id,
        "wallet_transaction_id": wallet_transaction_id,
        "balance": balance.to_json(scale, categories),
        "currency": currency,
    })
}

/// One ledger row as the operator API lists it.
pub fn transaction_item(row: &LedgerRow, scale: u32, categories: &Categories) -> Value {
    let provider_id = (row.provider_id != OPERATOR_NAMESPACE).then_some(&row.provider_id);
    json!({
        "wallet_transaction_id": row.id,
        "provider_id": provider_id,
        "transaction_id": row.transaction_id,
        "player_id": row.player_id,
        "kind": row.kind,
        "win_kind": row.win_kind,
        "amount": row.amount.format(scale),
        "currency": row.currency,
        "split": split_to_json(&row.split, scale),
        "balance_after": Balances(row.balance_after.clone()).to_json(scale, categories),
        "round_id": row.round_id,
        "game_id": row.game_id,
        "session_id": row.session_id,
        "reference_transaction_id": row.reference_transaction_id,
        "created_at": timestamp(row.created_at),
    })
}

/// The `code` of an error body, for metrics labels.
pub fn error_code_of(body: &Value) -> String {
    body["error"]["code"].as_str().unwrap_or("none").to_owned()
}
