//! Operator API, deposits and withdrawals: categories, idempotency, insufficient funds,
//! and blocked players.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::op_support::{deposit_raw, id, idempotency_keys, ledger_rows, withdraw_raw, zero_eur};

#[tokio::test]
async fn a_deposit_without_category_goes_to_cash() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let tx = id("dep");
    let reply = deposit_raw(
        &app,
        &player,
        json!({"transaction_id": tx, "amount": "50.00"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["transaction_id"], tx);
    assert!(uuid::Uuid::parse_str(reply.body["wallet_transaction_id"].as_str().unwrap()).is_ok());
    assert_eq!(reply.body["currency"], "EUR");
    assert_eq!(
        reply.body["balance"],
        json!({"total": "50.00", "cash": "50.00", "bonus": "0.00"})
    );
    assert!(!reply.replayed());
    assert_eq!(app.balance(&player).await, reply.body["balance"]);
}

#[tokio::test]
async fn a_deposit_with_a_category_credits_that_category() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "50", "cash").await;
    let reply = app.deposit(&player, "10", "bonus").await;
    assert_eq!(
        reply.body["balance"],
        json!({"total": "60.00", "cash": "50.00", "bonus": "10.00"})
    );
    assert_eq!(app.balance(&player).await, reply.body["balance"]);
}

#[tokio::test]
async fn a_repeated_deposit_replays_the_same_body_and_moves_no_money() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let body = json!({"transaction_id": id("dep"), "amount": "25.00"});
    let first = deposit_raw(&app, &player, body.clone()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(!first.replayed());
    let again = deposit_raw(&app, &player, body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.replayed(), "headers: {:?}", again.headers);
    assert_eq!(again.body, first.body);
    assert_eq!(app.balance(&player).await["cash"], "25.00");
    assert_eq!(ledger_rows(&app, &player).await, 1);
}

#[tokio::test]
async fn the_same_deposit_id_with_another_amount_is_409_idempotency_conflict() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let tx = id("dep");
    let first = deposit_raw(
        &app,
        &player,
        json!({"transaction_id": tx, "amount": "25.00"}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    let other = deposit_raw(
        &app,
        &player,
        json!({"transaction_id": tx, "amount": "26.00"}),
    )
    .await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{:?}", other.body);
    assert_eq!(other.code(), "idempotency_conflict");
    let other_category = deposit_raw(
        &app,
        &player,
        json!({"transaction_id": tx, "amount": "25.00", "category": "bonus"}),
    )
    .await;
    assert_eq!(other_category.code(), "idempotency_conflict");
    assert_eq!(
        app.balance(&player).await,
        json!({"total": "25.00", "cash": "25.00", "bonus": "0.00"})
    );
    assert_eq!(ledger_rows(&app, &player).await, 1);
}

#[tokio::test]
async fn the_same_amount_written_differently_replays_instead_of_conflicting() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let tx = id("dep");
    let first = deposit_raw(
        &app,
        &player,
        json!({"transaction_id": tx, "amount": "12.50"}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    let again = deposit_raw(&app, &player, json!({"transaction_id": tx, "amount": 12.5})).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert!(again.replayed());
    assert_eq!(app.balance(&player).await["cash"], "12.50");
}

#[tokio::test]
async fn a_deposit_into_an_unknown_category_is_refused_and_moves_nothing() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let tx = id("dep");
    for category in ["jackpot", "total", ""] {
        let reply = deposit_raw(
            &app,
            &player,
            json!({"transaction_id": tx, "amount": "5", "category": category}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{category}");
        assert_eq!(reply.code(), "invalid_request");
    }
    assert_eq!(app.balance(&player).await, zero_eur());
    assert_eq!(ledger_rows(&app, &player).await, 0);
    // A 400 records nothing: the id is still free for a good call.
    let good = deposit_raw(&app, &player, json!({"transaction_id": tx, "amount": "5"})).await;
    assert_eq!(good.status, StatusCode::OK);
    assert!(!good.replayed());
}

#[tokio::test]
async fn a_deposit_for_an_unknown_player_is_404_and_records_nothing() {
    let app = TestApp::spawn().await;
    let reply = deposit_raw(
        &app,
        "nobody-here",
        json!({"transaction_id": id("dep"), "amount": "5"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
    assert_eq!(reply.code(), "player_not_found");
    assert_eq!(idempotency_keys(&app).await, 0);
}

#[tokio::test]
async fn a_deposit_without_transaction_id_is_invalid_request() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    for body in [
        json!({"amount": "5"}),
        json!({"transaction_id": "", "amount": "5"}),
        json!({"transaction_id": "x".repeat(129), "amount": "5"}),
        json!({"transaction_id": id("dep")}),
    ] {
        let reply = deposit_raw(&app, &player, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.code(), "invalid_request");
    }
    assert_eq!(ledger_rows(&app, &player).await, 0);
}

#[tokio::test]
async fn a_withdrawal_takes_cash() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "50", "cash").await;
    app.deposit(&player, "10", "bonus").await;
    let tx = id("wd");
    let reply = withdraw_raw(
        &app,
        &player,
        json!({"transaction_id": tx, "amount": "20.25"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["transaction_id"], tx);
    assert!(reply.body["wallet_transaction_id"].is_string());
    assert_eq!(reply.body["currency"], "EUR");
    assert_eq!(
        reply.body["balance"],
        json!({"total": "39.75", "cash": "29.75", "bonus": "10.00"})
    );
    assert_eq!(app.balance(&player).await, reply.body["balance"]);
}

#[tokio::test]
async fn a_withdrawal_can_empty_the_cash_exactly() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "50", "cash").await;
    let reply = withdraw_raw(
        &app,
        &player,
        json!({"transaction_id": id("wd"), "amount": "50"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["balance"], zero_eur());
}

#[tokio::test]
async fn a_withdrawal_over_the_cash_is_422_insufficient_funds_with_the_balance() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "30", "cash").await;
    // Bonus does not count: withdrawals are cash only.
    app.deposit(&player, "100", "bonus").await;
    let before = app.balance(&player).await;
    let body = json!({"transaction_id": id("wd"), "amount": "30.01"});
    let reply = withdraw_raw(&app, &player, body.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.code(), "insufficient_funds");
    assert!(reply.body["error"]["message"].is_string());
    assert_eq!(reply.body["error"]["balance"], before);
    assert_eq!(reply.body["error"]["currency"], "EUR");
    assert_eq!(app.balance(&player).await, before);
    assert_eq!(ledger_rows(&app, &player).await, 2);

    // The rejection is recorded: the same call replays it, even once cash would cover it.
    app.deposit(&player, "10", "cash").await;
    let again = withdraw_raw(&app, &player, body).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.replayed());
    assert_eq!(again.body, reply.body);
    assert_eq!(app.balance(&player).await["cash"], "40.00");
}

#[tokio::test]
async fn a_repeated_withdrawal_replays_and_moves_no_money() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "50", "cash").await;
    let body = json!({"transaction_id": id("wd"), "amount": "20"});
    let first = withdraw_raw(&app, &player, body.clone()).await;
    let again = withdraw_raw(&app, &player, body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.replayed());
    assert_eq!(again.body, first.body);
    assert_eq!(app.balance(&player).await["cash"], "30.00");
}

#[tokio::test]
async fn the_same_withdrawal_id_with_another_amount_is_409_idempotency_conflict() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "50", "cash").await;
    let tx = id("wd");
    withdraw_raw(&app, &player, json!({"transaction_id": tx, "amount": "20"})).await;
    let other = withdraw_raw(&app, &player, json!({"transaction_id": tx, "amount": "21"})).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.code(), "idempotency_conflict");
    assert_eq!(app.balance(&player).await["cash"], "30.00");
}

#[tokio::test]
async fn a_withdrawal_for_an_unknown_player_is_404_player_not_found() {
    let app = TestApp::spawn().await;
    let reply = withdraw_raw(
        &app,
        "nobody-here",
        json!({"transaction_id": id("wd"), "amount": "1"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "player_not_found");
}

#[tokio::test]
async fn a_blocked_player_may_still_deposit_and_withdraw() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let blocked = app
        .operator(
            Method::PATCH,
            &format!("/v1/players/{player}"),
            Some(json!({"status": "blocked"})),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK);
    let dep = deposit_raw(
        &app,
        &player,
        json!({"transaction_id": id("dep"), "amount": "40"}),
    )
    .await;
    assert_eq!(dep.status, StatusCode::OK, "{:?}", dep.body);
    let wd = withdraw_raw(
        &app,
        &player,
        json!({"transaction_id": id("wd"), "amount": "15"}),
    )
    .await;
    assert_eq!(wd.status, StatusCode::OK, "{:?}", wd.body);
    let player_view = app.viewer(&format!("/v1/players/{player}")).await;
    assert_eq!(player_view.body["status"], "blocked");
    assert_eq!(player_view.body["balance"]["cash"], "25.00");
}

#[tokio::test]
async fn operator_ids_do_not_collide_with_provider_transaction_ids() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "50", "cash").await;
    let tx = id("shared");
    let bet = crate::op_support::bet(&app, &player, &id("r"), &tx, "5").await;
    assert_eq!(bet.status, StatusCode::OK, "{:?}", bet.body);
    let dep = deposit_raw(&app, &player, json!({"transaction_id": tx, "amount": "5"})).await;
    assert_eq!(dep.status, StatusCode::OK, "{:?}", dep.body);
    assert!(!dep.replayed());
    assert_eq!(app.balance(&player).await["cash"], "50.00");
}

#[tokio::test]
async fn concurrent_duplicates_of_a_deposit_apply_once_and_replay_the_rest() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let body = json!({"transaction_id": id("dep"), "amount": "10"});
    let replies =
        futures::future::join_all((0..20).map(|_| deposit_raw(&app, &player, body.clone()))).await;
    assert!(replies.iter().all(|r| r.status == StatusCode::OK));
    let fresh: Vec<_> = replies.iter().filter(|r| !r.replayed()).collect();
    assert_eq!(fresh.len(), 1, "{} calls applied", fresh.len());
    assert!(replies.iter().all(|r| r.body == fresh[0].body));
    assert_eq!(app.balance(&player).await["cash"], "10.00");
    assert_eq!(ledger_rows(&app, &player).await, 1);
}

#[tokio::test]
async fn a_category_configured_after_the_player_was_made_takes_money_and_keeps_it() {
    let before = TestApp::spawn().await;
    let player = before.player("EUR").await;
    before.deposit(&player, "10.00", "cash").await;
    // The same database, with a category the player has no balance row for yet.
    let after = TestApp::spawn_on(before.database_url.clone(), |s| {
        s.ledger.category_order = vec!["cash".into(), "bonus".into(), "free".into()];
    })
    .await;
    // The first movement creates the row in its transaction, the second finds it.
    after.deposit(&player, "5.00", "free").await;
    after.deposit(&player, "1.25", "free").await;
    after.deposit(&player, "2.00", "cash").await;
    let balance = after.balance(&player).await;
    assert_eq!(balance["free"], "6.25", "{balance:?}");
    assert_eq!(balance["cash"], "12.00", "{balance:?}");
    assert_eq!(balance["total"], "18.25", "{balance:?}");
    assert!(after.discrepancies().await.is_empty());
}
