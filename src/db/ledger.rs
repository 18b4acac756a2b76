//! The append-only ledger of money movements and the idempotency record of every call.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{Client, DbError};
use crate::domain::{Amount, Split};

/// One ledger row as stored.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub id: Uuid,
    pub provider_id: String,
    pub transaction_id: String,
    pub player_id: String,
    pub kind: String,
    pub win_kind: Option<String>,
    pub amount: Amount,
    pub currency: String,
    pub split: Split,
    pub balance_after: Split,
    pub round_id: Option<String>,
    pub game_id: Option<String>,
    pub session_id: Option<Uuid>,
    pub reference_id: Option<Uuid>,
    pub reference_transaction_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A ledger row about to be written.
#[derive(Debug, Clone)]
pub struct NewLedgerRow {
    pub id: Uuid,
    pub provider_id: String,
    pub transaction_id: String,
    pub player_id: String,
    pub kind: &'static str,
    pub win_kind: Option<String>,
    pub amount: Amount,
    pub currency: String,
    pub split: Split,
    pub balance_after: Split,
    pub round_id: Option<String>,
    pub game_id: Option<String>,
    pub session_id: Option<Uuid>,
    pub reference_id: Option<Uuid>,
    pub reference_transaction_id: Option<String>,
}

/// A recorded outcome of a money call.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub fingerprint: Vec<u8>,
    pub status_code: u16,
    pub response: Value,
}

const COLUMNS: &str = "id, provider_id, transaction_id, player_id, kind, win_kind, amount, \
     currency, split, balance_after, round_id, game_id, session_id, reference_id, \
     reference_transaction_id, created_at";

fn split_from_json(value: Value) -> Split {
    serde_json::from_value::<std::collections::BTreeMap<String, i64>>(value)
        .expect("ledger splits are objects of integers")
        .into_iter()
        .map(|(k, v)| (k, Amount(v)))
        .collect()
}

pub(super) fn split_to_json(split: &Split) -> Value {
    Value::Object(
        split
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.0)))
            .collect(),
    )
}

fn from_row(row: &Row) -> LedgerRow {
    LedgerRow {
        id: row.get(0),
        provider_id: row.get(1),
        transaction_id: row.get(2),
        player_id: row.get(3),
        kind: row.get(4),
        win_kind: row.get(5),
        amount: Amount(row.get(6)),
        currency: row.get(7),
        split: split_from_json(row.get(8)),
        balance_after: split_from_json(row.get(9)),
        round_id: row.get(10),
        game_id: row.get(11),
        session_id: row.get(12),
        reference_id: row.get(13),
        reference_transaction_id: row.get(14),
        created_at: row.get(15),
    }
}

/// One transaction by the provider's id.
pub async fn find(
    client: &Client,
    provider_id: &str,
    transaction_id: &str,
) -> Result<Option<LedgerRow>, DbError> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transactions WHERE provider_id = $1 AND transaction_id = $2"
        ))
        .await?;
    let row = client
        .query_opt(&stmt, &[&provider_id, &transaction_id])
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Every row of a provider's round, oldest first.
pub async fn round_rows(
    client: &Client,
    provider_id: &str,
    round_id: &str,
) -> Result<Vec<LedgerRow>, DbError> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transactions WHERE provider_id = $1 AND round_id = $2 ORDER BY id"
        ))
        .await?;
    let rows = client.query(&stmt, &[&provider_id, &round_id]).await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Every row of the round that `transaction_id` belongs to, oldest first.
pub async fn round_rows_of(
    client: &Client,
    provider_id: &str,
    transaction_id: &str,
) -> Result<Vec<LedgerRow>, DbError> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transactions WHERE provider_id = $1 AND round_id = \
             (SELECT round_id FROM transactions WHERE provider_id = $1 AND transaction_id = $2) \
             ORDER BY id"
        ))
        .await?;
    let rows = client
        .query(&stmt, &[&provider_id, &transaction_id])
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// How far back in a player's ledger the session fallback of a win looks for its bet.
const SESSION_BET_LOOKBACK: i64 = 200;

/// Every row of the round of the session's latest bet in `game_id` that no win or
/// rollback references yet, oldest first. Looks at the player's newest
/// [`SESSION_BET_LOOKBACK`] ledger rows only (through the player index, so the cost does
/// not grow with the player's history).
pub async fn round_rows_of_open_session_bet(
    client: &Client,
    provider_id: &str,
    player_id: &str,
    session_id: Uuid,
    game_id: &str,
) -> Result<Vec<LedgerRow>, DbError> {
    let stmt = client
        .prepare_cached(&format!(
            "WITH recent AS (SELECT id, provider_id, kind, round_id, game_id, session_id, reference_id \
               FROM transactions WHERE player_id = $2 ORDER BY id DESC LIMIT $5) \
             SELECT {COLUMNS} FROM transactions WHERE provider_id = $1 AND round_id = \
             (SELECT r.round_id FROM recent r WHERE r.session_id = $3 AND r.kind = 'bet' \
              AND r.game_id = $4 AND r.provider_id = $1 \
              AND NOT EXISTS (SELECT 1 FROM recent s WHERE s.reference_id = r.id) \
              ORDER BY r.id DESC LIMIT 1) \
             ORDER BY id"
        ))
        .await?;
    let rows = client
        .query(
            &stmt,
            &[
                &provider_id,
                &player_id,
                &session_id,
                &game_id,
                &SESSION_BET_LOOKBACK,
            ],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// A page of a player's transactions, newest first, strictly older than `before`.
pub async fn list_for_player(
    client: &Client,
    player_id: &str,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<LedgerRow>, DbError> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transactions WHERE player_id = $1 \
             AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        ))
        .await?;
    let rows = client.query(&stmt, &[&player_id, &before, &limit]).await?;
    Ok(rows.iter().map(from_row).collect())
}
