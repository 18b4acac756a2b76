//! Operator API, sessions: open with a default or chosen lifetime, and expire.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::op_support::id;

async fn open(app: &TestApp, body: Value) -> crate::helpers::Reply {
    app.operator(Method::POST, "/v1/sessions", Some(body)).await
}

fn expires_in_seconds(reply: &crate::helpers::Reply) -> i64 {
    let text = reply.body["expires_at"].as_str().expect("expires_at");
    assert!(text.ends_with('Z'), "{text} is not UTC");
    let at: DateTime<Utc> = text.parse().expect("RFC 3339");
    (at - Utc::now()).num_seconds()
}

#[tokio::test]
async fn opening_a_session_answers_201_with_an_hour_by_default() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let reply = open(
        &app,
        json!({"player_id": player, "provider_id": "demo", "game_id": "slots"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert!(uuid::Uuid::parse_str(reply.body["session_id"].as_str().unwrap()).is_ok());
    assert_eq!(reply.body["player_id"], player);
    assert_eq!(reply.body["provider_id"], "demo");
    assert_eq!(reply.body["game_id"], "slots");
    let left = expires_in_seconds(&reply);
    assert!((3590..=3600).contains(&left), "expires in {left} s");
}

#[tokio::test]
async fn a_session_lives_for_the_ttl_asked_for() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let reply = open(
        &app,
        json!({"player_id": player, "provider_id": "demo2", "game_id": "g", "ttl_seconds": 120}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let left = expires_in_seconds(&reply);
    assert!((110..=120).contains(&left), "expires in {left} s");
}

#[tokio::test]
async fn a_player_may_hold_several_live_sessions() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let a = app.session(&player, "demo", "slots").await;
    let b = app.session(&player, "demo", "slots").await;
    assert_ne!(a, b);
}

#[tokio::test]
async fn a_ttl_below_one_second_is_invalid_request() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    for ttl in [json!(0), json!(-5), json!("ten")] {
        let reply = open(
            &app,
            json!({"player_id": player, "provider_id": "demo", "game_id": "g", "ttl_seconds": ttl}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{ttl}");
        assert_eq!(reply.code(), "invalid_request");
    }
    let count: i64 = app
        .db()
        .await
        .query_one("SELECT count(*) FROM sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_session_for_an_unknown_player_is_404_player_not_found() {
    let app = TestApp::spawn().await;
    let reply = open(
        &app,
        json!({"player_id": "nobody-here", "provider_id": "demo", "game_id": "g"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "player_not_found");
}

#[tokio::test]
async fn a_session_for_an_unknown_provider_is_invalid_request() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let reply = open(
        &app,
        json!({"player_id": player, "provider_id": "nobody", "game_id": "g"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_request");
}

#[tokio::test]
async fn a_session_without_game_id_is_invalid_request() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let reply = open(&app, json!({"player_id": player, "provider_id": "demo"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_request");
}

#[tokio::test]
async fn deleting_a_session_answers_204_and_expires_it_for_bets() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "10", "cash").await;
    let session = app.session(&player, "demo", "slots").await;
    let reply = app
        .operator(Method::DELETE, &format!("/v1/sessions/{session}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    assert_eq!(reply.body, Value::Null);
    let bet = app
        .provider(
            "bet",
            json!({
                "transaction_id": id("b"), "player_id": player, "session_id": session,
                "round_id": id("r"), "game_id": "slots", "amount": "1", "currency": "EUR",
            }),
        )
        .await;
    assert_eq!(
        bet.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bet.body
    );
    assert_eq!(bet.code(), "session_expired");
    assert_eq!(app.balance(&player).await["cash"], "10.00");
}

#[tokio::test]
async fn deleting_an_unknown_session_is_404_session_not_found() {
    let app = TestApp::spawn().await;
    for session in [uuid::Uuid::now_v7().to_string(), "not-a-uuid".to_owned()] {
        let reply = app
            .operator(Method::DELETE, &format!("/v1/sessions/{session}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{session}");
        assert_eq!(reply.code(), "session_not_found");
    }
}

#[tokio::test]
async fn deleting_a_session_twice_leaves_it_expired() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "10", "cash").await;
    let session = app.session(&player, "demo", "slots").await;
    let path = format!("/v1/sessions/{session}");
    let first = app.operator(Method::DELETE, &path, None).await;
    assert_eq!(first.status, StatusCode::NO_CONTENT);
    // The contract fixes 404 only for unknown ids; a repeat may be 204 (idempotent) or
    // 404, but must never revive the session.
    let second = app.operator(Method::DELETE, &path, None).await;
    assert!(
        second.status == StatusCode::NO_CONTENT || second.code() == "session_not_found",
        "{:?} {:?}",
        second.status,
        second.body
    );
    let bet = app
        .provider(
            "bet",
            json!({
                "transaction_id": id("b"), "player_id": player, "session_id": session,
                "round_id": id("r"), "game_id": "slots", "amount": "1", "currency": "EUR",
            }),
        )
        .await;
    assert_eq!(bet.code(), "session_expired");
}
