//! The reconciliation query and `wallet check-ledger`: every balance equals the sum of its
//! ledger entries, and a corrupted balance is caught and named.

use std::process::Output;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::op_support::{bet, id, withdraw_raw};

/// A player with deposits, a withdrawal, a bet and a win: every kind of entry.
async fn busy_player(app: &TestApp) -> String {
    let player = app.player("EUR").await;
    app.deposit(&player, "100", "cash").await;
    app.deposit(&player, "20", "bonus").await;
    let wd = withdraw_raw(
        app,
        &player,
        json!({"transaction_id": id("wd"), "amount": "10"}),
    )
    .await;
    assert_eq!(wd.status, StatusCode::OK);
    let round = id("r");
    let b = id("b");
    assert_eq!(
        bet(app, &player, &round, &b, "105").await.status,
        StatusCode::OK
    );
    let win = app
        .provider(
            "win",
            json!({
                "transaction_id": id("w"), "player_id": player, "round_id": round,
                "game_id": "slots", "amount": "50", "currency": "EUR", "bet_transaction_id": b,
            }),
        )
        .await;
    assert_eq!(win.status, StatusCode::OK, "{:?}", win.body);
    player
}

fn check_ledger(app: &TestApp) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wallet"))
        .arg("check-ledger")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "WALLET_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/development.toml"),
        )
        .env("WALLET__DATABASE__URL", &app.database_url)
        .env("WALLET_ENV_FILE", "/nonexistent/wallet-test.env")
        .output()
        .expect("run wallet check-ledger")
}

#[tokio::test]
async fn a_busy_ledger_reconciles() {
    let app = TestApp::spawn().await;
    let player = busy_player(&app).await;
    assert_eq!(app.discrepancies().await, vec![]);
    // Sanity: 90 cash + 15 bonus staked, so the win of 50 is split 90:105 and 15:105,
    // the bonus share (7.142..) rounded down.
    assert_eq!(
        app.balance(&player).await,
        json!({"total": "55.00", "cash": "42.86", "bonus": "12.14"})
    );
}

#[tokio::test]
async fn the_reconciliation_query_names_exactly_a_corrupted_balance() {
    let app = TestApp::spawn().await;
    let player = busy_player(&app).await;
    let other = busy_player(&app).await;
    let cash_before: i64 = app
        .db()
        .await
        .query_one(
            "SELECT amount FROM balances WHERE player_id = $1 AND category = 'bonus'",
            &[&player],
        )
        .await
        .unwrap()
        .get(0);
    let changed = app
        .db()
        .await
        .execute(
            "UPDATE balances SET amount = amount + 1 WHERE player_id = $1 AND category = 'bonus'",
            &[&player],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let found = app.discrepancies().await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].player_id, player);
    assert_eq!(found[0].category, "bonus");
    assert_eq!(found[0].balance, Some(cash_before + 1));
    assert_eq!(found[0].ledger_sum, cash_before);
    assert_ne!(found[0].player_id, other);
}

#[tokio::test]
async fn a_missing_balance_row_is_a_discrepancy() {
    let app = TestApp::spawn().await;
    let player = busy_player(&app).await;
    app.db()
        .await
        .execute(
            "DELETE FROM balances WHERE player_id = $1 AND category = 'cash'",
            &[&player],
        )
        .await
        .unwrap();
    let found = app.discrepancies().await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].player_id, player);
    assert_eq!(found[0].category, "cash");
    assert_eq!(found[0].balance, None);
}

#[tokio::test]
async fn check_ledger_exits_zero_on_a_clean_ledger() {
    let app = TestApp::spawn().await;
    busy_player(&app).await;
    let output = check_ledger(&app);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "status {:?}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn check_ledger_exits_non_zero_and_lists_a_corrupted_balance() {
    let app = TestApp::spawn().await;
    let player = busy_player(&app).await;
    let clean = busy_player(&app).await;
    app.db()
        .await
        .execute(
            "UPDATE balances SET amount = 999999 WHERE player_id = $1 AND category = 'cash'",
            &[&player],
        )
        .await
        .unwrap();
    let output = check_ledger(&app);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "stdout: {stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains(&player))
        .unwrap_or_else(|| panic!("{player} not listed:\n{stdout}"));
    assert!(line.contains("cash"), "{line}");
    assert!(line.contains("999999"), "{line}");
    assert!(line.contains("4286"), "{line}");
    assert!(!stdout.contains(&clean), "{stdout}");
}
