//! The provider money API, rule by rule: signatures, isolation between providers, the
//! balance call, bets, idempotency, balance categories, bet-win correlation, rollbacks,
//! player and session state, and rounds.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

pub const GAME: &str = "slots";

/// A fresh id with a readable prefix.
pub fn id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

pub fn bet_body(player: &str, session: &str, round: &str, tx: &str, amount: &str) -> Value {
    json!({
        "transaction_id": tx,
        "player_id": player,
        "session_id": session,
        "round_id": round,
        "game_id": GAME,
        "amount": amount,
        "currency": "EUR",
    })
}

/// A win correlated by round only; add fields to the returned object for the rest.
pub fn win_body(player: &str, round: &str, tx: &str, amount: &str) -> Value {
    json!({
        "transaction_id": tx,
        "player_id": player,
        "round_id": round,
        "game_id": GAME,
        "amount": amount,
        "currency": "EUR",
    })
}

pub fn rollback_body(player: &str, tx: &str, reference: &str) -> Value {
    json!({
        "transaction_id": tx,
        "player_id": player,
        "reference_transaction_id": reference,
    })
}

/// `body` with `extra`'s fields set.
pub fn with(mut body: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[track_caller]
pub fn assert_ok(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

#[track_caller]
pub fn assert_refused(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{:?}", reply.body);
    assert_eq!(reply.code(), code, "{:?}", reply.body);
}

/// An EUR player funded with `cash` and `bonus`, and a live `demo` session in GAME.
pub struct Seat {
    pub player: String,
    pub session: String,
}

pub async fn seat(app: &TestApp, cash: &str, bonus: &str) -> Seat {
    let player = app.player("EUR").await;
    if cash != "0" {
        app.deposit(&player, cash, "cash").await;
    }
    if bonus != "0" {
        app.deposit(&player, bonus, "bonus").await;
    }
    let session = app.session(&player, "demo", GAME).await;
    Seat { player, session }
}

impl Seat {
    pub fn bet<'a>(
        &self,
        app: &'a TestApp,
        round: &str,
        tx: &str,
        amount: &str,
    ) -> impl Future<Output = Reply> + 'a {
        app.provider(
            "bet",
            bet_body(&self.player, &self.session, round, tx, amount),
        )
    }

    pub fn win<'a>(
        &self,
        app: &'a TestApp,
        round: &str,
        tx: &str,
        amount: &str,
    ) -> impl Future<Output = Reply> + 'a {
        app.provider("win", win_body(&self.player, round, tx, amount))
    }

    pub fn rollback<'a>(
        &self,
        app: &'a TestApp,
        tx: &str,
        reference: &str,
    ) -> impl Future<Output = Reply> + 'a {
        app.provider("rollback", rollback_body(&self.player, tx, reference))
    }
}

pub fn balance_of(total: &str, cash: &str, bonus: &str) -> Value {
    json!({"total": total, "cash": cash, "bonus": bonus})
}

/// The operator's view of one of `demo`'s transactions.
async fn transaction(app: &TestApp, tx: &str) -> Value {
    let reply = app
        .viewer(&format!("/v1/providers/demo/transactions/{tx}"))
        .await;
    assert_ok(&reply);
    reply.body
}

async fn get_round(app: &TestApp, round: &str) -> Value {
    let reply = app
        .viewer(&format!("/v1/providers/demo/rounds/{round}"))
        .await;
    assert_ok(&reply);
    reply.body
}

// ---------------------------------------------------------------- signatures

#[tokio::test]
async fn a_provider_call_missing_any_signature_header_is_unauthorized() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let body = serde_json::to_vec(&json!({"player_id": player})).unwrap();
    let now = chrono::Utc::now().timestamp();
    let signature = wallet::signing::sign("demo-secret", now, "/v1/wallet/balance", &body);
    let headers = [
        ("x-provider-id", "demo".to_owned()),
        ("x-timestamp", now.to_string()),
        ("x-signature", signature),
    ];
    for skip in 0..headers.len() {
        let mut request = app
            .http
            .post(format!("{}/v1/wallet/balance", app.base))
            .header("content-type", "application/json")
            .body(body.clone());
        for (i, (name, value)) in headers.iter().enumerate() {
            if i != skip {
                request = request.header(*name, value);
            }
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "without {}",
            headers[skip].0
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    // The same request with every header passes.
    let ok = app
        .signed_raw("balance", "demo", "demo-secret", now, &body)
        .await;
    assert_ok(&ok);
}

#[tokio::test]
async fn an_unknown_provider_is_unauthorized() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let reply = app
        .provider_as(
            "nobody",
            "demo-secret",
            "balance",
            json!({"player_id": player}),
        )
        .await;
    assert_refused(&reply, 401, "unauthorized");
}

#[tokio::test]
async fn a_wrong_signature_is_unauthorized_and_moves_no_money() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let body = bet_body(&s.player, &s.session, &id("round"), &id("bet"), "5.00");
    // Another provider's secret.
    let reply = app
        .provider_as("demo", "demo2-secret", "bet", body.clone())
        .await;
    assert_refused(&reply, 401, "unauthorized");
    // A signature over other bytes than the ones sent.
    let now = chrono::Utc::now().timestamp();
    let signed = serde_json::to_vec(&body).unwrap();
    let sent = serde_json::to_vec(&with(body.clone(), json!({"amount": "1.00"}))).unwrap();
    let signature = wallet::signing::sign("demo-secret", now, "/v1/wallet/bet", &signed);
    let response = app
        .http
        .post(format!("{}/v1/wallet/bet", app.base))
        .header("content-type", "application/json")
        .header("x-provider-id", "demo")
        .header("x-timestamp", now.to_string())
        .header("x-signature", signature)
        .body(sent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Not hex at all.
    let response = app
        .http
        .post(format!("{}/v1/wallet/bet", app.base))
        .header("x-provider-id", "demo")
        .header("x-timestamp", now.to_string())
        .header("x-signature", "not-a-signature")
        .body(signed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
}

#[tokio::test]
async fn a_timestamp_more_than_300_seconds_from_the_server_clock_is_unauthorized() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let body = serde_json::to_vec(&json!({"player_id": player})).unwrap();
    let now = chrono::Utc::now().timestamp();
    for skew in [-400, -302, 302, 400] {
        let reply = app
            .signed_raw("balance", "demo", "demo-secret", now + skew, &body)
            .await;
        assert_refused(&reply, 401, "unauthorized");
    }
    for skew in [-290, 290] {
        let reply = app
            .signed_raw("balance", "demo", "demo-secret", now + skew, &body)
            .await;
        assert_ok(&reply);
    }
}

#[tokio::test]
async fn a_provider_calling_from_outside_its_allowed_networks_is_forbidden() {
    let app = TestApp::spawn_with(|settings| {
        let demo = settings
            .providers
            .iter_mut()
            .find(|p| p.id == "demo")
            .unwrap();
        demo.allowed_networks = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let player = app.player("EUR").await;
    let reply = app.provider("balance", json!({"player_id": player})).await;
    assert_refused(&reply, 403, "forbidden");
    // A provider without an allow-list is not affected.
    let reply = app
        .provider_as(
            "demo2",
            "demo2-secret",
            "balance",
            json!({"player_id": player}),
        )
        .await;
    assert_ok(&reply);
}

// ---------------------------------------------------------------- isolation

#[tokio::test]
async fn a_provider_cannot_reach_another_providers_sessions_rounds_or_transactions() {
    let app = TestApp::spawn_with(|s| s.ledger.correlation_wait_ms = 100).await;
    let s = seat(&app, "10.00", "0").await;
    let round = id("round");
    let bet = id("bet");
    assert_ok(&s.bet(&app, &round, &bet, "4.00").await);

    // demo's session is not demo2's.
    let reply = app
        .provider_as(
            "demo2",
            "demo2-secret",
            "bet",
            bet_body(&s.player, &s.session, &id("round"), &id("bet"), "1.00"),
        )
        .await;
    assert_refused(&reply, 401, "session_invalid");

    // Neither demo's bet id nor demo's round settles a demo2 win.
    let by_id = with(
        win_body(&s.player, &round, &id("win"), "9.00"),
        json!({"bet_transaction_id": bet}),
    );
    let reply = app.provider_as("demo2", "demo2-secret", "win", by_id).await;
    assert_refused(&reply, 404, "bet_not_found");
    let by_round = win_body(&s.player, &round, &id("win"), "9.00");
    let reply = app
        .provider_as("demo2", "demo2-secret", "win", by_round)
        .await;
    assert_refused(&reply, 404, "bet_not_found");

    // A demo2 rollback naming demo's bet is a tombstone in demo2's namespace only.
    let reply = app
        .provider_as(
            "demo2",
            "demo2-secret",
            "rollback",
            rollback_body(&s.player, &id("rb"), &bet),
        )
        .await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"]["total"], "6.00");
    // demo's bet is still live: demo can settle it.
    let reply = s.win(&app, &round, &id("win"), "1.00").await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"]["total"], "7.00");

    // The same transaction id under demo2 is another movement, not a replay.
    let (shared, shared_round) = (id("bet"), id("round"));
    assert_ok(&s.bet(&app, &shared_round, &shared, "1.00").await);
    let s2 = app.session(&s.player, "demo2", GAME).await;
    let reply = app
        .provider_as(
            "demo2",
            "demo2-secret",
            "bet",
            bet_body(&s.player, &s2, &shared_round, &shared, "1.00"),
        )
        .await;
    assert_ok(&reply);
    assert!(!reply.replayed());
    assert_eq!(reply.body["balance"]["total"], "5.00");
    assert!(app.discrepancies().await.is_empty());
}

// ---------------------------------------------------------------- balance

#[tokio::test]
async fn the_balance_call_shows_every_category_of_the_player() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "50.00", "10.00").await;
    let reply = app
        .provider(
            "balance",
            json!({"player_id": s.player, "session_id": s.session}),
        )
        .await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"], balance_of("60.00", "50.00", "10.00"));
    assert_eq!(reply.body["currency"], "EUR");

    let reply = app
        .provider("balance", json!({"player_id": "nobody-here"}))
        .await;
    assert_refused(&reply, 404, "player_not_found");

    let other = app.player("EUR").await;
    let foreign = app.session(&other, "demo", GAME).await;
    let reply = app
        .provider(
            "balance",
            json!({"player_id": s.player, "session_id": foreign}),
        )
        .await;
    assert_refused(&reply, 401, "session_invalid");
}

// ---------------------------------------------------------------- bets

#[tokio::test]
async fn a_bet_needs_a_session_of_this_provider_player_and_game() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let other = app.player("EUR").await;
    let sessions = [
        uuid::Uuid::now_v7().to_string(),
        "not-a-uuid".to_owned(),
        app.session(&other, "demo", GAME).await,
        app.session(&s.player, "demo2", GAME).await,
        app.session(&s.player, "demo", "roulette").await,
    ];
    for session in sessions {
        let reply = app
            .provider(
                "bet",
                bet_body(&s.player, &session, &id("round"), &id("bet"), "1.00"),
            )
            .await;
        assert_refused(&reply, 401, "session_invalid");
    }
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
}

#[tokio::test]
async fn a_bet_on_a_deleted_session_is_session_expired() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    assert_ok(&s.bet(&app, &id("round"), &id("bet"), "1.00").await);
    let deleted = app
        .operator(Method::DELETE, &format!("/v1/sessions/{}", s.session), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let reply = s.bet(&app, &id("round"), &id("bet"), "1.00").await;
    assert_refused(&reply, 422, "session_expired");
    assert_eq!(app.balance(&s.player).await["total"], "9.00");
}

#[tokio::test]
async fn a_bet_of_a_blocked_player_is_refused() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let blocked = app
        .operator(
            Method::PATCH,
            &format!("/v1/players/{}", s.player),
            Some(json!({"status": "blocked"})),
        )
        .await;
    assert_ok(&blocked);
    let reply = s.bet(&app, &id("round"), &id("bet"), "1.00").await;
    assert_refused(&reply, 422, "player_blocked");
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
}

#[tokio::test]
async fn a_bet_in_another_currency_than_the_players_is_refused() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let body = with(
        bet_body(&s.player, &s.session, &id("round"), &id("bet"), "1.00"),
        json!({"currency": "USD"}),
    );
    let reply = app.provider("bet", body).await;
    assert_refused(&reply, 422, "currency_mismatch");
    assert_eq!(reply.body["error"]["currency"], "EUR");
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
}

#[tokio::test]
async fn a_bet_larger_than_the_balance_is_refused_with_the_unchanged_balance() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "6.00", "4.00").await;
    let reply = s.bet(&app, &id("round"), &id("bet"), "10.01").await;
    assert_refused(&reply, 422, "insufficient_funds");
    assert_eq!(
        reply.body["error"]["balance"],
        balance_of("10.00", "6.00", "4.00")
    );
    assert_eq!(reply.body["error"]["currency"], "EUR");
    assert_eq!(
        app.balance(&s.player).await,
        balance_of("10.00", "6.00", "4.00")
    );
    // Exactly the balance is fine.
    let reply = s.bet(&app, &id("round"), &id("bet"), "10.00").await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"], balance_of("0.00", "0.00", "0.00"));
}

#[tokio::test]
async fn a_zero_bet_is_accepted_and_listed() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "0", "0").await;
    let bet = id("bet");
    let reply = s.bet(&app, &id("round"), &bet, "0").await;
    assert_ok(&reply);
    assert_eq!(reply.body["transaction_id"], bet.as_str());
    assert!(reply.body["wallet_transaction_id"].is_string());
    assert_eq!(reply.body["balance"], balance_of("0.00", "0.00", "0.00"));
    let item = transaction(&app, &bet).await;
    assert_eq!(item["kind"], "bet");
    assert_eq!(item["amount"], "0.00");
}

#[tokio::test]
async fn an_unknown_player_is_player_not_found_before_the_session_is_checked() {
    let app = TestApp::spawn().await;
    let ghost = "player-who-does-not-exist";
    let bogus = uuid::Uuid::now_v7().to_string();
    let reply = app
        .provider(
            "bet",
            bet_body(ghost, &bogus, &id("round"), &id("bet"), "1.00"),
        )
        .await;
    assert_refused(&reply, 404, "player_not_found");
    let reply = app
        .provider(
            "win",
            with(
                win_body(ghost, &id("round"), &id("win"), "1.00"),
                json!({"session_id": bogus, "kind": "promo"}),
            ),
        )
        .await;
    assert_refused(&reply, 404, "player_not_found");
    let reply = app
        .provider("rollback", rollback_body(ghost, &id("rb"), &id("bet")))
        .await;
    assert_refused(&reply, 404, "player_not_found");
    let reply = app
        .provider("balance", json!({"player_id": ghost, "session_id": bogus}))
        .await;
    assert_refused(&reply, 404, "player_not_found");
}

// ---------------------------------------------------------------- idempotency

#[tokio::test]
async fn a_repeated_bet_replays_the_first_answer_and_moves_money_once() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (round, bet) = (id("round"), id("bet"));
    let first = s.bet(&app, &round, &bet, "3.00").await;
    assert_ok(&first);
    assert!(!first.replayed());
    let second = s.bet(&app, &round, &bet, "3.00").await;
    assert_eq!(second.status, first.status);
    assert_eq!(second.body, first.body);
    assert!(second.replayed());
    assert_eq!(app.balance(&s.player).await["total"], "7.00");
    // "3" and "3.00" are the same amount, so the same call.
    let third = s.bet(&app, &round, &bet, "3").await;
    assert!(third.replayed());
    assert_eq!(third.body, first.body);
}

#[tokio::test]
async fn a_recorded_rejection_is_replayed_even_after_the_reason_went_away() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "1.00", "0").await;
    let (round, bet) = (id("round"), id("bet"));
    let first = s.bet(&app, &round, &bet, "5.00").await;
    assert_refused(&first, 422, "insufficient_funds");
    assert!(!first.replayed());
    app.deposit(&s.player, "100.00", "cash").await;
    let again = s.bet(&app, &round, &bet, "5.00").await;
    assert_refused(&again, 422, "insufficient_funds");
    assert!(again.replayed());
    assert_eq!(again.body, first.body);
    assert_eq!(app.balance(&s.player).await["total"], "101.00");
}

#[tokio::test]
async fn the_same_transaction_id_with_another_payload_is_an_idempotency_conflict() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (round, bet) = (id("round"), id("bet"));
    assert_ok(&s.bet(&app, &round, &bet, "3.00").await);
    let original = bet_body(&s.player, &s.session, &round, &bet, "3.00");
    let other = app.player("EUR").await;
    for change in [
        json!({"amount": "3.01"}),
        json!({"round_id": "another-round"}),
        json!({"game_id": "roulette"}),
        json!({"currency": "USD"}),
        json!({"player_id": other}),
    ] {
        let reply = app
            .provider("bet", with(original.clone(), change.clone()))
            .await;
        assert_refused(&reply, 409, "idempotency_conflict");
    }
    // A win reusing the bet's id is another call too.
    let reply = s.win(&app, &round, &bet, "3.00").await;
    assert_refused(&reply, 409, "idempotency_conflict");
    // The check comes before the business rules: a blocked player still gets 409.
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    let reply = app
        .provider("bet", with(original.clone(), json!({"amount": "9.00"})))
        .await;
    assert_refused(&reply, 409, "idempotency_conflict");
    assert_eq!(app.balance(&s.player).await["total"], "7.00");
    assert_eq!(app.balance(&other).await["total"], "0.00");
}

#[tokio::test]
async fn a_win_refused_as_bet_not_found_is_not_recorded_and_can_be_resent() {
    let app = TestApp::spawn_with(|s| s.ledger.correlation_wait_ms = 100).await;
    let s = seat(&app, "10.00", "0").await;
    let (round, bet, win) = (id("round"), id("bet"), id("win"));
    let early = s.win(&app, &round, &win, "5.00").await;
    assert_refused(&early, 404, "bet_not_found");
    assert_ok(&s.bet(&app, &round, &bet, "2.00").await);
    let resent = s.win(&app, &round, &win, "5.00").await;
    assert_ok(&resent);
    assert!(!resent.replayed());
    assert_eq!(resent.body["balance"]["total"], "13.00");
    assert_eq!(
        transaction(&app, &win).await["reference_transaction_id"],
        bet.as_str()
    );
}

// ---------------------------------------------------------------- categories

#[tokio::test]
async fn a_stake_is_taken_from_cash_first_then_from_bonus() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "5.00", "10.00").await;
    let bet = id("bet");
    let reply = s.bet(&app, &id("round"), &bet, "8.00").await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"], balance_of("7.00", "0.00", "7.00"));
    let item = transaction(&app, &bet).await;
    assert_eq!(item["split"], json!({"cash": "5.00", "bonus": "3.00"}));
    assert_eq!(item["balance_after"], balance_of("7.00", "0.00", "7.00"));
}

#[tokio::test]
async fn a_win_is_split_like_its_stake_with_the_bonus_share_rounded_down() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "2.00", "10.00").await;
    let (round, bet, win) = (id("round"), id("bet"), id("win"));
    // Staked 2.00 cash + 1.00 bonus: a third of any win is bonus.
    assert_ok(&s.bet(&app, &round, &bet, "3.00").await);
    let reply = s.win(&app, &round, &win, "1.00").await;
    assert_ok(&reply);
    let item = transaction(&app, &win).await;
    assert_eq!(item["kind"], "win");
    assert_eq!(item["amount"], "1.00");
    assert_eq!(item["split"], json!({"cash": "0.67", "bonus": "0.33"}));
    assert_eq!(item["reference_transaction_id"], bet.as_str());
    assert_eq!(reply.body["balance"], balance_of("10.00", "0.67", "9.33"));
}

#[tokio::test]
async fn a_win_of_a_round_with_several_bets_follows_their_combined_stake() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "1.00", "3.00").await;
    let round = id("round");
    // First bet all cash, second all bonus: 1.00 cash + 3.00 bonus staked.
    assert_ok(&s.bet(&app, &round, &id("bet"), "1.00").await);
    assert_ok(&s.bet(&app, &round, &id("bet"), "3.00").await);
    let win = id("win");
    assert_ok(&s.win(&app, &round, &win, "10.00").await);
    assert_eq!(
        transaction(&app, &win).await["split"],
        json!({"cash": "2.50", "bonus": "7.50"})
    );
}

#[tokio::test]
async fn promo_and_jackpot_wins_and_wins_of_zero_stakes_go_to_cash() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "0", "10.00").await;
    let round = id("round");
    assert_ok(&s.bet(&app, &round, &id("bet"), "5.00").await);
    for kind in ["promo", "jackpot"] {
        let tx = id(kind);
        let body = with(
            win_body(&s.player, &id("round"), &tx, "4.00"),
            json!({"kind": kind}),
        );
        assert_ok(&app.provider("win", body).await);
        let item = transaction(&app, &tx).await;
        assert_eq!(item["split"], json!({"cash": "4.00"}));
        assert_eq!(item["reference_transaction_id"], Value::Null);
    }
    let free = id("round");
    assert_ok(&s.bet(&app, &free, &id("bet"), "0").await);
    let win = id("win");
    assert_ok(&s.win(&app, &free, &win, "2.50").await);
    assert_eq!(
        transaction(&app, &win).await["split"],
        json!({"cash": "2.50"})
    );
    assert_eq!(
        app.balance(&s.player).await,
        balance_of("15.50", "10.50", "5.00")
    );
}

#[tokio::test]
async fn a_rollback_restores_exactly_the_categories_the_bet_took() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "3.00", "10.00").await;
    let (bet, rb) = (id("bet"), id("rb"));
    assert_ok(&s.bet(&app, &id("round"), &bet, "5.00").await);
    let reply = s.rollback(&app, &rb, &bet).await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"], balance_of("13.00", "3.00", "10.00"));
    let item = transaction(&app, &rb).await;
    assert_eq!(item["kind"], "rollback");
    assert_eq!(item["split"], json!({"cash": "3.00", "bonus": "2.00"}));
    assert_eq!(item["reference_transaction_id"], bet.as_str());
    assert!(app.discrepancies().await.is_empty());
}

// ---------------------------------------------------------------- correlation

#[tokio::test]
async fn a_win_names_its_bet_by_bet_transaction_id() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let round = id("round");
    let (first, second) = (id("bet"), id("bet"));
    assert_ok(&s.bet(&app, &round, &first, "1.00").await);
    assert_ok(&s.bet(&app, &round, &second, "1.00").await);
    let win = id("win");
    // The round id of the win differs on purpose: the bet id decides.
    let body = with(
        win_body(&s.player, &id("round"), &win, "1.00"),
        json!({"bet_transaction_id": first}),
    );
    assert_ok(&app.provider("win", body).await);
    assert_eq!(
        transaction(&app, &win).await["reference_transaction_id"],
        first.as_str()
    );
}

#[tokio::test]
async fn a_win_without_bet_id_settles_the_latest_live_bet_of_its_round() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let round = id("round");
    let (first, second) = (id("bet"), id("bet"));
    assert_ok(&s.bet(&app, &round, &first, "1.00").await);
    assert_ok(&s.bet(&app, &round, &second, "1.00").await);
    let win = id("win");
    assert_ok(&s.win(&app, &round, &win, "1.00").await);
    assert_eq!(
        transaction(&app, &win).await["reference_transaction_id"],
        second.as_str()
    );
    let round_view = get_round(&app, &round).await;
    assert_eq!(round_view["bets"].as_array().unwrap().len(), 2);
    assert_eq!(round_view["wins"].as_array().unwrap().len(), 1);
    assert_eq!(round_view["status"], "open");
    // A round receives several wins while it is open.
    assert_ok(&s.win(&app, &round, &id("win"), "1.00").await);
}

#[tokio::test]
async fn a_win_with_only_a_session_settles_the_latest_unsettled_bet_of_that_session_and_game() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let bet = id("bet");
    assert_ok(&s.bet(&app, &id("round"), &bet, "2.00").await);
    let win = id("win");
    let body = with(
        win_body(&s.player, &id("unknown-round"), &win, "3.00"),
        json!({"session_id": s.session}),
    );
    let reply = app.provider("win", body).await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"]["total"], "11.00");
    assert_eq!(
        transaction(&app, &win).await["reference_transaction_id"],
        bet.as_str()
    );
}

#[tokio::test]
async fn a_win_without_any_bet_is_bet_not_found_once_the_wait_window_passed() {
    let app = TestApp::spawn_with(|s| s.ledger.correlation_wait_ms = 300).await;
    let s = seat(&app, "10.00", "0").await;
    let started = Instant::now();
    let reply = s.win(&app, &id("round"), &id("win"), "1.00").await;
    assert_refused(&reply, 404, "bet_not_found");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered after {:?}, before the wait window ended",
        started.elapsed()
    );
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
}

// ---------------------------------------------------------------- rollbacks

#[tokio::test]
async fn a_rollback_of_an_unseen_bet_leaves_a_tombstone_that_refuses_the_late_bet() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (round, bet, rb) = (id("round"), id("bet"), id("rb"));
    let reply = s.rollback(&app, &rb, &bet).await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"]["total"], "10.00");
    let tombstone = transaction(&app, &rb).await;
    assert_eq!(tombstone["amount"], "0.00");
    let late = s.bet(&app, &round, &bet, "4.00").await;
    assert_refused(&late, 422, "transaction_rolled_back");
    assert_eq!(late.body["error"]["balance"]["total"], "10.00");
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
    let missing = app
        .viewer(&format!("/v1/providers/demo/transactions/{bet}"))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Recorded: the late bet replays its refusal.
    let again = s.bet(&app, &round, &bet, "4.00").await;
    assert!(again.replayed());
    assert_eq!(again.code(), "transaction_rolled_back");
}

#[tokio::test]
async fn a_win_for_a_rolled_back_bet_is_refused() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (round, bet) = (id("round"), id("bet"));
    assert_ok(&s.bet(&app, &round, &bet, "4.00").await);
    assert_ok(&s.rollback(&app, &id("rb"), &bet).await);
    let by_round = s.win(&app, &round, &id("win"), "8.00").await;
    assert_refused(&by_round, 422, "transaction_rolled_back");
    let by_id = with(
        win_body(&s.player, &round, &id("win"), "8.00"),
        json!({"bet_transaction_id": bet}),
    );
    let reply = app.provider("win", by_id).await;
    assert_refused(&reply, 422, "transaction_rolled_back");
    // A tombstoned id that never became a bet refuses its win as well.
    let ghost = id("bet");
    assert_ok(&s.rollback(&app, &id("rb"), &ghost).await);
    let reply = app
        .provider(
            "win",
            with(
                win_body(&s.player, &id("round"), &id("win"), "8.00"),
                json!({"bet_transaction_id": ghost}),
            ),
        )
        .await;
    assert_refused(&reply, 422, "transaction_rolled_back");
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
}

#[tokio::test]
async fn a_bet_whose_round_has_a_win_cannot_be_rolled_back() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (round, bet) = (id("round"), id("bet"));
    assert_ok(&s.bet(&app, &round, &bet, "4.00").await);
    assert_ok(&s.win(&app, &round, &id("win"), "1.00").await);
    let reply = s.rollback(&app, &id("rb"), &bet).await;
    assert_refused(&reply, 422, "bet_already_settled");
    assert_eq!(app.balance(&s.player).await["total"], "7.00");
}

#[tokio::test]
async fn a_win_cannot_be_rolled_back() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (round, win) = (id("round"), id("win"));
    assert_ok(&s.bet(&app, &round, &id("bet"), "4.00").await);
    assert_ok(&s.win(&app, &round, &win, "1.00").await);
    let reply = s.rollback(&app, &id("rb"), &win).await;
    assert_refused(&reply, 422, "rollback_not_allowed");
    assert_eq!(app.balance(&s.player).await["total"], "7.00");
}

#[tokio::test]
async fn a_second_different_rollback_of_the_same_bet_moves_no_money() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let bet = id("bet");
    assert_ok(&s.bet(&app, &id("round"), &bet, "4.00").await);
    let first = s.rollback(&app, &id("rb"), &bet).await;
    assert_ok(&first);
    assert_eq!(first.body["balance"]["total"], "10.00");
    let second_id = id("rb");
    let second = s.rollback(&app, &second_id, &bet).await;
    assert_ok(&second);
    assert!(!second.replayed());
    assert_eq!(second.body["balance"]["total"], "10.00");
    assert_eq!(transaction(&app, &second_id).await["amount"], "0.00");
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn a_reference_to_another_players_transaction_is_not_found_and_moves_nothing() {
    let app = TestApp::spawn_with(|s| s.ledger.correlation_wait_ms = 100).await;
    let alice = seat(&app, "10.00", "0").await;
    let bob = seat(&app, "10.00", "0").await;
    let (round, bet) = (id("round"), id("bet"));
    assert_ok(&alice.bet(&app, &round, &bet, "4.00").await);
    let reply = bob.rollback(&app, &id("rb"), &bet).await;
    assert_refused(&reply, 404, "transaction_not_found");
    let reply = app
        .provider(
            "win",
            with(
                win_body(&bob.player, &round, &id("win"), "4.00"),
                json!({"bet_transaction_id": bet}),
            ),
        )
        .await;
    assert_refused(&reply, 404, "bet_not_found");
    assert_eq!(app.balance(&alice.player).await["total"], "6.00");
    assert_eq!(app.balance(&bob.player).await["total"], "10.00");
    // Alice's bet is untouched and still hers to roll back.
    assert_ok(&alice.rollback(&app, &id("rb"), &bet).await);
    assert_eq!(app.balance(&alice.player).await["total"], "10.00");
}

// ---------------------------------------------------------------- player and session state

#[tokio::test]
async fn wins_and_rollbacks_are_accepted_with_an_expired_session_and_a_blocked_player() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (won, lost) = (id("round"), id("round"));
    let lost_bet = id("bet");
    assert_ok(&s.bet(&app, &won, &id("bet"), "2.00").await);
    assert_ok(&s.bet(&app, &lost, &lost_bet, "3.00").await);
    let deleted = app
        .operator(Method::DELETE, &format!("/v1/sessions/{}", s.session), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    let win = with(
        win_body(&s.player, &won, &id("win"), "6.00"),
        json!({"session_id": s.session}),
    );
    let reply = app.provider("win", win).await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"]["total"], "11.00");
    let reply = s.rollback(&app, &id("rb"), &lost_bet).await;
    assert_ok(&reply);
    assert_eq!(reply.body["balance"]["total"], "14.00");
    // Bets stay refused.
    let reply = s.bet(&app, &id("round"), &id("bet"), "1.00").await;
    assert_refused(&reply, 422, "player_blocked");
}

// ---------------------------------------------------------------- rounds

#[tokio::test]
async fn a_win_with_round_closed_closes_the_round_for_later_bets() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let round_id = id("round");
    assert_ok(&s.bet(&app, &round_id, &id("bet"), "1.00").await);
    assert_ok(&s.bet(&app, &round_id, &id("bet"), "1.00").await);
    assert_eq!(get_round(&app, &round_id).await["status"], "open");
    let close = with(
        win_body(&s.player, &round_id, &id("win"), "0"),
        json!({"round_closed": true}),
    );
    assert_ok(&app.provider("win", close).await);
    let view = get_round(&app, &round_id).await;
    assert_eq!(view["status"], "closed");
    assert_eq!(view["player_id"], s.player.as_str());
    assert_eq!(view["game_id"], GAME);
    let reply = s.bet(&app, &round_id, &id("bet"), "1.00").await;
    assert_refused(&reply, 422, "round_closed");
    assert_eq!(app.balance(&s.player).await["total"], "8.00");
}

#[tokio::test]
async fn the_sweep_closes_rounds_left_open_longer_than_the_configured_age() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (stale, fresh) = (id("round"), id("round"));
    assert_ok(&s.bet(&app, &stale, &id("bet"), "1.00").await);
    assert_ok(&s.bet(&app, &fresh, &id("bet"), "1.00").await);
    // The default age is 48 h: make one round three days old.
    app.db()
        .await
        .execute(
            "UPDATE rounds SET opened_at = now() - interval '3 days' WHERE round_id = $1",
            &[&stale],
        )
        .await
        .unwrap();
    let closed = app.wallet.close_stale_rounds().await.unwrap();
    assert_eq!(closed, 1);
    assert_eq!(get_round(&app, &stale).await["status"], "closed");
    assert_eq!(get_round(&app, &fresh).await["status"], "open");
    let reply = s.bet(&app, &stale, &id("bet"), "1.00").await;
    assert_refused(&reply, 422, "round_closed");
    assert_ok(&s.bet(&app, &fresh, &id("bet"), "1.00").await);
}
