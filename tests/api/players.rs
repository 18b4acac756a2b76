//! Operator API, players: create, read with balances by category, block and unblock.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::op_support::{id, zero_eur};

#[tokio::test]
async fn creating_a_player_answers_201_with_an_active_player_at_zero() {
    let app = TestApp::spawn().await;
    let player = id("p");
    let reply = app
        .operator(
            Method::POST,
            "/v1/players",
            Some(json!({"player_id": player, "currency": "EUR"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["player_id"], player);
    assert_eq!(reply.body["currency"], "EUR");
    assert_eq!(reply.body["status"], "active");
    assert_eq!(reply.body["balance"], zero_eur());
}

#[tokio::test]
async fn repeating_the_same_create_answers_200_with_the_same_player() {
    let app = TestApp::spawn().await;
    let player = id("p");
    let body = json!({"player_id": player, "currency": "JPY"});
    let first = app
        .operator(Method::POST, "/v1/players", Some(body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    app.deposit(&player, "700", "cash").await;
    let again = app.operator(Method::POST, "/v1/players", Some(body)).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["player_id"], player);
    assert_eq!(again.body["currency"], "JPY");
    // The repeat neither resets nor touches the existing balance.
    assert_eq!(again.body["balance"]["cash"], "700");
    assert_eq!(app.balance(&player).await["total"], "700");
}

#[tokio::test]
async fn the_same_player_id_with_another_currency_is_409_player_exists() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let reply = app
        .operator(
            Method::POST,
            "/v1/players",
            Some(json!({"player_id": player, "currency": "USD"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
    assert_eq!(reply.code(), "player_exists");
    let stored = app.viewer(&format!("/v1/players/{player}")).await;
    assert_eq!(stored.body["currency"], "EUR");
}

#[tokio::test]
async fn an_unknown_currency_is_refused_and_creates_nobody() {
    let app = TestApp::spawn().await;
    let player = id("p");
    for currency in ["XXX", "eur", ""] {
        let reply = app
            .operator(
                Method::POST,
                "/v1/players",
                Some(json!({"player_id": player, "currency": currency})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{currency}");
        assert_eq!(reply.code(), "invalid_request");
    }
    let lookup = app.viewer(&format!("/v1/players/{player}")).await;
    assert_eq!(lookup.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_create_without_currency_is_invalid_request() {
    let app = TestApp::spawn().await;
    let reply = app
        .operator(
            Method::POST,
            "/v1/players",
            Some(json!({"player_id": id("p")})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_request");
}

#[tokio::test]
async fn a_new_player_shows_every_category_at_zero_at_the_currency_scale() {
    let app = TestApp::spawn().await;
    for (currency, zero) in [
        ("EUR", "0.00"),
        ("JPY", "0"),
        ("USDT", "0.000000"),
        ("BTC", "0.00000000"),
    ] {
        let player = app.player(currency).await;
        let reply = app.viewer(&format!("/v1/players/{player}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["player_id"], player);
        assert_eq!(reply.body["currency"], currency);
        assert_eq!(reply.body["status"], "active");
        assert_eq!(
            reply.body["balance"],
            json!({"total": zero, "cash": zero, "bonus": zero}),
            "{currency}"
        );
    }
}

#[tokio::test]
async fn getting_an_unknown_player_is_404_player_not_found() {
    let app = TestApp::spawn().await;
    let reply = app.viewer("/v1/players/nobody-here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "player_not_found");
}

#[tokio::test]
async fn a_player_can_be_blocked_and_unblocked() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let path = format!("/v1/players/{player}");
    let blocked = app
        .operator(Method::PATCH, &path, Some(json!({"status": "blocked"})))
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{:?}", blocked.body);
    assert_eq!(blocked.body["status"], "blocked");
    assert_eq!(blocked.body["player_id"], player);
    assert_eq!(blocked.body["balance"], zero_eur());
    assert_eq!(app.viewer(&path).await.body["status"], "blocked");

    let active = app
        .operator(Method::PATCH, &path, Some(json!({"status": "active"})))
        .await;
    assert_eq!(active.status, StatusCode::OK);
    assert_eq!(active.body["status"], "active");
    assert_eq!(app.viewer(&path).await.body["status"], "active");
}

#[tokio::test]
async fn an_unknown_status_is_invalid_request_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let path = format!("/v1/players/{player}");
    for body in [
        json!({"status": "frozen"}),
        json!({"status": "BLOCKED"}),
        json!({"status": 1}),
        json!({}),
    ] {
        let reply = app.operator(Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.code(), "invalid_request");
    }
    assert_eq!(app.viewer(&path).await.body["status"], "active");
}

#[tokio::test]
async fn patching_an_unknown_player_is_404_player_not_found() {
    let app = TestApp::spawn().await;
    let reply = app
        .operator(
            Method::PATCH,
            "/v1/players/nobody-here",
            Some(json!({"status": "blocked"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "player_not_found");
}

#[tokio::test]
async fn an_empty_or_overlong_player_id_is_invalid_request() {
    let app = TestApp::spawn().await;
    for player in [String::new(), "x".repeat(129), "a\nb".to_owned()] {
        let reply = app
            .operator(
                Method::POST,
                "/v1/players",
                Some(json!({"player_id": player, "currency": "EUR"})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{player:?}");
        assert_eq!(reply.code(), "invalid_request");
    }
    let count: i64 = app
        .db()
        .await
        .query_one("SELECT count(*) FROM players", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}
