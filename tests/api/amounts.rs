//! Amount parsing at the edges, through the operator deposit: the scale of each currency,
//! strings and JSON numbers, and every refused input leaving the wallet untouched.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::op_support::{deposit_raw, id, ledger_rows};

/// Deposits `amount` (any JSON) and returns the reply.
async fn deposit(app: &TestApp, player: &str, amount: Value) -> crate::helpers::Reply {
    deposit_raw(
        app,
        player,
        json!({"transaction_id": id("dep"), "amount": amount}),
    )
    .await
}

/// Asserts each amount is refused with 400 and the player's wallet did not move.
async fn assert_refused(app: &TestApp, currency: &str, amounts: &[Value]) {
    let player = app.player(currency).await;
    let before = app.balance(&player).await;
    for amount in amounts {
        let reply = deposit(app, &player, amount.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{amount} {currency} was not refused: {:?}",
            reply.body
        );
        assert_eq!(reply.code(), "invalid_request", "{amount}");
    }
    assert_eq!(app.balance(&player).await, before);
    assert_eq!(ledger_rows(app, &player).await, 0);
}

/// Asserts `amount` is accepted and credited as `credited`.
async fn assert_credited(app: &TestApp, currency: &str, amount: Value, credited: &str) {
    let player = app.player(currency).await;
    let reply = deposit(app, &player, amount.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{amount} {currency}: {:?}",
        reply.body
    );
    assert_eq!(
        reply.body["balance"]["cash"], credited,
        "{amount} {currency}"
    );
    assert_eq!(app.balance(&player).await["cash"], credited);
}

#[tokio::test]
async fn each_currency_accepts_amounts_at_its_own_scale() {
    let app = TestApp::spawn().await;
    assert_credited(&app, "EUR", json!("12.34"), "12.34").await;
    assert_credited(&app, "JPY", json!("700"), "700").await;
    assert_credited(&app, "BTC", json!("0.00000001"), "0.00000001").await;
    assert_credited(&app, "USDT", json!("1.000001"), "1.000001").await;
}

#[tokio::test]
async fn amounts_finer_than_the_currency_scale_are_refused() {
    let app = TestApp::spawn().await;
    assert_refused(
        &app,
        "EUR",
        &[json!("0.001"), json!(0.001), json!("12.345")],
    )
    .await;
    assert_refused(&app, "JPY", &[json!("0.5"), json!(1.5)]).await;
    assert_refused(&app, "BTC", &[json!("0.000000001")]).await;
    assert_refused(&app, "USDT", &[json!("1.0000001")]).await;
}

#[tokio::test]
async fn trailing_zeros_beyond_the_scale_are_fine() {
    let app = TestApp::spawn().await;
    assert_credited(&app, "EUR", json!("12.500"), "12.50").await;
    assert_credited(&app, "JPY", json!("700.000"), "700").await;
    assert_credited(&app, "USDT", json!("2.50000000"), "2.500000").await;
}

#[tokio::test]
async fn a_json_number_and_the_same_value_as_a_string_credit_the_same() {
    let app = TestApp::spawn().await;
    assert_credited(&app, "EUR", json!(12.5), "12.50").await;
    assert_credited(&app, "EUR", json!("12.50"), "12.50").await;
    assert_credited(&app, "EUR", json!(7), "7.00").await;
}

#[tokio::test]
async fn a_json_number_is_parsed_exactly_not_through_a_float() {
    let app = TestApp::spawn().await;
    let player = app.player("BTC").await;
    // 0.1 + 0.2 as floats is 0.30000000000000004; exact parsing gives 0.30000000.
    let body = br#"{"transaction_id": "f1", "amount": 0.1}"#;
    let second = br#"{"transaction_id": "f2", "amount": 0.2}"#;
    for bytes in [&body[..], &second[..]] {
        let response = app
            .http
            .post(format!("{}/v1/players/{player}/deposits", app.base))
            .bearer_auth(crate::helpers::OPERATOR_TOKEN)
            .header("content-type", "application/json")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.balance(&player).await["cash"], "0.30000000");
}

#[tokio::test]
async fn a_json_number_may_use_an_exponent() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let response = app
        .http
        .post(format!("{}/v1/players/{player}/deposits", app.base))
        .bearer_auth(crate::helpers::OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body(br#"{"transaction_id": "e1", "amount": 2.5e1}"#.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.balance(&player).await["cash"], "25.00");
}

#[tokio::test]
async fn an_exponent_inside_a_string_is_refused() {
    let app = TestApp::spawn().await;
    assert_refused(&app, "EUR", &[json!("2.5e1"), json!("1E2")]).await;
}

#[tokio::test]
async fn negative_amounts_are_refused() {
    let app = TestApp::spawn().await;
    assert_refused(
        &app,
        "EUR",
        &[json!("-1"), json!(-1), json!("-0.01"), json!(-12.5)],
    )
    .await;
}

#[tokio::test]
async fn non_numeric_amounts_are_refused() {
    let app = TestApp::spawn().await;
    assert_refused(
        &app,
        "EUR",
        &[
            json!("abc"),
            json!(""),
            json!(" 5"),
            json!("5 "),
            json!("1,5"),
            json!("1."),
            json!(".5"),
            json!("+5"),
            json!("NaN"),
            json!("Infinity"),
            json!(true),
            json!(null),
            json!([5]),
            json!({"value": 5}),
        ],
    )
    .await;
}

#[tokio::test]
async fn huge_amounts_are_refused() {
    let app = TestApp::spawn().await;
    assert_refused(
        &app,
        "EUR",
        &[
            json!("99999999999999999999999999999"),
            json!("1000000000000000000000"),
            json!(u64::MAX),
        ],
    )
    .await;
    assert_refused(&app, "BTC", &[json!("100000000000")]).await;
}

#[tokio::test]
async fn a_huge_exponent_in_a_json_number_is_refused() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    for amount in ["1e400", "1e30", "1e-400"] {
        let response = app
            .http
            .post(format!("{}/v1/players/{player}/deposits", app.base))
            .bearer_auth(crate::helpers::OPERATOR_TOKEN)
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"transaction_id": "{}", "amount": {amount}}}"#,
                id("dep")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{amount}");
    }
    assert_eq!(ledger_rows(&app, &player).await, 0);
}

#[tokio::test]
async fn a_refused_withdrawal_amount_changes_nothing() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "10", "cash").await;
    for amount in [json!("0.001"), json!("-1"), json!("ten")] {
        let reply = crate::op_support::withdraw_raw(
            &app,
            &player,
            json!({"transaction_id": id("wd"), "amount": amount}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{amount}");
        assert_eq!(reply.code(), "invalid_request");
    }
    assert_eq!(app.balance(&player).await["cash"], "10.00");
    assert_eq!(ledger_rows(&app, &player).await, 1);
}

#[tokio::test]
async fn many_trailing_zeros_are_still_fine() {
    let app = TestApp::spawn().await;
    let zeros = "0".repeat(40);
    assert_credited(&app, "EUR", json!(format!("12.5{zeros}")), "12.50").await;
    assert_credited(
        &app,
        "BTC",
        json!(format!("0.00000001{zeros}")),
        "0.00000001",
    )
    .await;
}

#[tokio::test]
async fn a_json_number_with_many_trailing_zeros_is_fine() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let zeros = "0".repeat(40);
    let response = app
        .http
        .post(format!("{}/v1/players/{player}/deposits", app.base))
        .bearer_auth(crate::helpers::OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"transaction_id": "z1", "amount": 12.5{zeros}}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.balance(&player).await["cash"], "12.50");
}

#[tokio::test]
async fn a_fraction_just_beyond_the_scale_is_refused_even_when_long() {
    let app = TestApp::spawn().await;
    let digits = "0".repeat(40);
    assert_refused(&app, "EUR", &[json!(format!("12.5{digits}1"))]).await;
}
