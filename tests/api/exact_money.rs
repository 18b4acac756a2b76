//! The rule holes a hostile provider found, one test each, and the contract's rules of
//! December 2026 (rounds per player, signed paths, limits, route errors).

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::provider::{
    assert_ok, assert_refused, bet_body, id, rollback_body, seat, win_body, with, GAME,
};

fn cash(balance: &Value) -> &str {
    balance["cash"].as_str().unwrap()
}

#[tokio::test]
async fn a_bet_paid_by_a_win_naming_another_round_cannot_be_rolled_back() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100.00", "0").await;
    let (r1, r2, bet) = (id("r1"), id("r2"), id("bet"));
    assert_ok(&s.bet(&app, &r1, &bet, "10.00").await);
    let win = with(
        win_body(&s.player, &r2, &id("win"), "5.00"),
        json!({"bet_transaction_id": bet}),
    );
    assert_ok(&app.provider("win", win).await);
    let rollback = app
        .provider("rollback", rollback_body(&s.player, &id("rb"), &bet))
        .await;
    assert_refused(&rollback, 422, "bet_already_settled");
    assert_eq!(cash(&app.balance(&s.player).await), "95.00");
}

#[tokio::test]
async fn a_win_matched_by_session_pays_that_sessions_latest_unsettled_bet() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100.00", "0").await;
    let other_session = app.session(&s.player, "demo", GAME).await;
    let round = id("round");
    let (b1, b2) = (id("b1"), id("b2"));
    assert_ok(&s.bet(&app, &round, &b1, "1.00").await);
    let second = bet_body(&s.player, &other_session, &round, &b2, "2.00");
    assert_ok(&app.provider("bet", second).await);
    let win = with(
        win_body(&s.player, &id("unknown-round"), &id("win"), "3.00"),
        json!({"session_id": s.session}),
    );
    let reply = app.provider("win", win).await;
    assert_ok(&reply);
    let tx = app
        .viewer(&format!(
            "/v1/providers/demo/transactions/{}",
            reply.body["transaction_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(tx.body["reference_transaction_id"], b1, "{:?}", tx.body);
    // b1 is now settled: a second session-matched win finds no unsettled bet of the
    // session (b2 is another session's) and is refused once the window ends.
    let again = with(
        win_body(&s.player, &id("unknown-round"), &id("win"), "3.00"),
        json!({"session_id": s.session}),
    );
    let app_fast = &app;
    let reply = app_fast.provider("win", again).await;
    assert_refused(&reply, 404, "bet_not_found");
}

#[tokio::test]
async fn another_players_rolled_back_bet_is_unknown_to_my_win() {
    let app = TestApp::spawn_with(|s| s.ledger.correlation_wait_ms = 50).await;
    let a = seat(&app, "100.00", "0").await;
    let b = seat(&app, "100.00", "0").await;
    let bet = id("bet");
    assert_ok(&a.bet(&app, &id("round"), &bet, "10.00").await);
    assert_ok(
        &app.provider("rollback", rollback_body(&a.player, &id("rb"), &bet))
            .await,
    );
    let win = with(
        win_body(&b.player, &id("round"), &id("win"), "5.00"),
        json!({"bet_transaction_id": bet}),
    );
    let reply = app.provider("win", win.clone()).await;
    assert_refused(&reply, 404, "bet_not_found");
    // Not recorded under B's id either: B's own bet with that id may still come.
    assert_eq!(cash(&app.balance(&b.player).await), "100.00");
}

#[tokio::test]
async fn rounds_are_per_player_so_another_players_win_never_closes_mine() {
    let app = TestApp::spawn().await;
    let a = seat(&app, "100.00", "0").await;
    let b = seat(&app, "100.00", "0").await;
    let round = id("table");
    let bet_a = id("bet-a");
    assert_ok(&a.bet(&app, &round, &bet_a, "10.00").await);
    assert_ok(&b.bet(&app, &round, &id("bet-b"), "10.00").await);
    // B's promo win on the same round id, closing it.
    let promo = with(
        win_body(&b.player, &round, &id("promo"), "1.00"),
        json!({"kind": "promo", "round_closed": true}),
    );
    assert_ok(&app.provider("win", promo).await);
    // A's round is still open and A's bet can still be rolled back.
    assert_ok(&a.bet(&app, &round, &id("bet-a2"), "1.00").await);
    assert_ok(
        &app.provider("rollback", rollback_body(&a.player, &id("rb"), &bet_a))
            .await,
    );
    // Two players played the round id: the round query must name one.
    let path = format!("/v1/providers/demo/rounds/{round}");
    assert_refused(&app.viewer(&path).await, 400, "invalid_request");
    let mine = app.viewer(&format!("{path}?player_id={}", a.player)).await;
    assert_ok(&mine);
    assert_eq!(mine.body["player_id"], a.player);
    assert_eq!(mine.body["status"], "open");
    assert_eq!(mine.body["bets"].as_array().unwrap().len(), 2);
    assert_eq!(mine.body["wins"].as_array().unwrap().len(), 0);
    let theirs = app.viewer(&format!("{path}?player_id={}", b.player)).await;
    assert_eq!(theirs.body["status"], "closed", "{:?}", theirs.body);
}

#[tokio::test]
async fn a_promo_win_settles_no_bet() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100.00", "0").await;
    let (round, bet) = (id("round"), id("bet"));
    assert_ok(&s.bet(&app, &round, &bet, "10.00").await);
    let promo = with(
        win_body(&s.player, &round, &id("promo"), "1.00"),
        json!({"kind": "promo"}),
    );
    assert_ok(&app.provider("win", promo).await);
    assert_ok(
        &app.provider("rollback", rollback_body(&s.player, &id("rb"), &bet))
            .await,
    );
    assert_eq!(cash(&app.balance(&s.player).await), "101.00");
}

#[tokio::test]
async fn numbers_that_are_not_exact_at_the_scale_are_refused_not_rounded() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100.00", "0").await;
    for amount in ["1.0000000000000000000000000001e-1", "0.1e-28"] {
        let body = format!(
            r#"{{"transaction_id":"{}","player_id":"{}","session_id":"{}","round_id":"r","game_id":"{GAME}","amount":{amount},"currency":"EUR"}}"#,
            id("bet"),
            s.player,
            s.session
        );
        let now = chrono::Utc::now().timestamp();
        let reply = app
            .signed_raw("bet", "demo", "demo-secret", now, body.as_bytes())
            .await;
        assert_refused(&reply, 400, "invalid_request");
    }
    assert_eq!(cash(&app.balance(&s.player).await), "100.00");
}

#[tokio::test]
async fn ids_in_paths_are_checked_and_every_path_error_uses_the_envelope() {
    let app = TestApp::spawn().await;
    for path in [
        "/v1/players/%00",
        "/v1/players/%00/transactions",
        "/v1/providers/demo/transactions/%00",
        "/v1/providers/%00/transactions/t",
        "/v1/providers/demo/rounds/%00",
        "/v1/players/%FF",
        "/v1/providers/demo/rounds/%FF",
    ] {
        let reply = app.viewer(path).await;
        assert_refused(&reply, 400, "invalid_request");
    }
    for (method, path, body) in [
        (
            Method::PATCH,
            "/v1/players/%00",
            json!({"status": "blocked"}),
        ),
        (
            Method::POST,
            "/v1/players/%00/deposits",
            json!({"transaction_id": "t", "amount": "1"}),
        ),
        (
            Method::POST,
            "/v1/players/%00/withdrawals",
            json!({"transaction_id": "t", "amount": "1"}),
        ),
        (Method::DELETE, "/v1/sessions/%00", Value::Null),
        (Method::DELETE, "/v1/sessions/%FF", Value::Null),
    ] {
        let body = (!body.is_null()).then_some(body);
        let reply = app.operator(method, path, body).await;
        assert_refused(&reply, 400, "invalid_request");
    }
}

#[tokio::test]
async fn a_credit_past_two_to_the_62_minor_units_is_refused_and_nothing_wraps() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    // 10^15 minor units per call (10^13 EUR): 4611 of them stay below 2^62, one more
    // passes it.
    let max_call = "10000000000000.00";
    let per_call: i128 = 1_000_000_000_000_000;
    let limit: i128 = 1 << 62;
    let fits = i64::try_from(limit / per_call).unwrap();
    let deposit = |i: i64| {
        let app = &app;
        let player = &player;
        async move {
            app.operator(
                Method::POST,
                &format!("/v1/players/{player}/deposits"),
                Some(json!({"transaction_id": format!("d{i}"), "amount": max_call})),
            )
            .await
        }
    };
    let replies: Vec<_> = futures::stream::iter(0..fits)
        .map(deposit)
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(replies.iter().all(|r| r.status == StatusCode::OK));
    let total = per_call * i128::from(fits);
    let refused = deposit(fits).await;
    assert_refused(&refused, 422, "balance_limit_exceeded");
    assert_eq!(
        refused.body["error"]["balance"]["cash"],
        format!("{}.00", total / 100)
    );
    // Bonus has a limit of its own; the total is above 2^62 and still exact.
    let bonus = app
        .operator(
            Method::POST,
            &format!("/v1/players/{player}/deposits"),
            Some(json!({"transaction_id": "bonus-1", "amount": "1.00", "category": "bonus"})),
        )
        .await;
    assert_ok(&bonus);
    let balance = app.balance(&player).await;
    let expected_total = total + 100;
    let formatted = format!("{}.{:02}", expected_total / 100, expected_total % 100);
    assert_eq!(balance["total"], formatted, "{balance:?}");
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn a_body_signed_for_one_endpoint_is_refused_at_another() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100.00", "0").await;
    let body = serde_json::to_vec(&win_body(&s.player, &id("round"), &id("tx"), "3.00")).unwrap();
    let now = chrono::Utc::now().timestamp();
    let signature = wallet::signing::sign("demo-secret", now, "/v1/wallet/bet", &body);
    let reply = app
        .http
        .post(format!("{}/v1/wallet/win", app.base))
        .header("content-type", "application/json")
        .header("x-provider-id", "demo")
        .header("x-timestamp", now.to_string())
        .header("x-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(cash(&app.balance(&s.player).await), "100.00");
}

#[tokio::test]
async fn unknown_routes_and_methods_have_codes_of_their_own() {
    let app = TestApp::spawn().await;
    let reply = app.viewer("/v1/nothing-here").await;
    assert_refused(&reply, 404, "not_found");
    let reply = app.operator(Method::PUT, "/v1/players", None).await;
    assert_refused(&reply, 405, "method_not_allowed");
}

#[tokio::test]
async fn the_bearer_scheme_name_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let reply = app
            .http
            .get(format!("{}/v1/players/{player}", app.base))
            .header("authorization", format!("{scheme} demo-viewer-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK, "{scheme}");
    }
}
