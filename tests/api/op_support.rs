//! Small helpers shared by the operator-side tests: raw money calls and ledger peeks.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

/// A fresh id with a readable prefix.
pub fn id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// `POST /v1/players/{player}/deposits` with `body` as given.
pub async fn deposit_raw(app: &TestApp, player: &str, body: Value) -> Reply {
    app.operator(
        Method::POST,
        &format!("/v1/players/{player}/deposits"),
        Some(body),
    )
    .await
}

/// `POST /v1/players/{player}/withdrawals` with `body` as given.
pub async fn withdraw_raw(app: &TestApp, player: &str, body: Value) -> Reply {
    app.operator(
        Method::POST,
        &format!("/v1/players/{player}/withdrawals"),
        Some(body),
    )
    .await
}

/// Blocks the player (or lets it play again) through the operator API.
pub async fn set_blocked(app: &TestApp, player: &str, blocked: bool) {
    let status = if blocked { "blocked" } else { "active" };
    let reply = app
        .operator(
            Method::PATCH,
            &format!("/v1/players/{player}"),
            Some(json!({ "status": status })),
        )
        .await;
    assert!(reply.status.is_success(), "{:?}", reply.body);
}

/// Closes a game session (a Hub88 token, an Evolution sid): expired from now on.
pub async fn expire(app: &TestApp, session: &str) {
    let reply = app
        .operator(Method::DELETE, &format!("/v1/sessions/{session}"), None)
        .await;
    assert!(reply.status.is_success(), "{:?}", reply.body);
}

/// Number of ledger rows of the player, read straight from the database.
pub async fn ledger_rows(app: &TestApp, player: &str) -> i64 {
    app.db()
        .await
        .query_one(
            "SELECT count(*) FROM transactions WHERE player_id = $1",
            &[&player],
        )
        .await
        .unwrap()
        .get(0)
}

/// Number of recorded idempotency keys in the whole database.
pub async fn idempotency_keys(app: &TestApp) -> i64 {
    app.db()
        .await
        .query_one("SELECT count(*) FROM idempotency_keys", &[])
        .await
        .unwrap()
        .get(0)
}

/// The reason of the refusal the ledger recorded for `provider`'s `transaction`, `None`
/// when it recorded none (or a success).
pub async fn recorded_refusal(app: &TestApp, provider: &str, transaction: &str) -> Option<String> {
    app.db()
        .await
        .query_opt(
            "SELECT refusal ->> 'reason' FROM idempotency_keys \
             WHERE key = call_key($1, $2)",
            &[&provider, &transaction],
        )
        .await
        .unwrap()
        .and_then(|row| row.get(0))
}

/// A zero balance object of a player in a two-decimal currency.
pub fn zero_eur() -> Value {
    json!({"total": "0.00", "cash": "0.00", "bonus": "0.00"})
}

/// Places a bet as provider `demo` in a fresh session; returns the reply.
pub async fn bet(app: &TestApp, player: &str, round: &str, tx: &str, amount: &str) -> Reply {
    let session = app.session(player, "demo", "slots").await;
    app.provider(
        "bet",
        json!({
            "transaction_id": tx, "player_id": player, "session_id": session,
            "round_id": round, "game_id": "slots", "amount": amount, "currency": "EUR",
        }),
    )
    .await
}
