//! Operator API, audit queries: a player's transactions page by page, one transaction
//! by its provider id, and a round with its bets, wins and rollbacks.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::op_support::{bet, deposit_raw, id, withdraw_raw};

const ITEM_FIELDS: [&str; 10] = [
    "wallet_transaction_id",
    "provider_id",
    "transaction_id",
    "kind",
    "amount",
    "split",
    "balance_after",
    "round_id",
    "reference_transaction_id",
    "created_at",
];

fn assert_item_shape(item: &Value) {
    for field in ITEM_FIELDS {
        assert!(item.get(field).is_some(), "item lacks {field}: {item}");
    }
    let created = item["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z'), "{created} is not UTC");
    chrono::DateTime::parse_from_rfc3339(created).expect("RFC 3339");
    let amount: rust_decimal::Decimal = item["amount"].as_str().unwrap().parse().unwrap();
    let split_sum: rust_decimal::Decimal = item["split"]
        .as_object()
        .expect("split is an object")
        .values()
        .map(|v| {
            v.as_str()
                .expect("split values are strings")
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(split_sum, amount, "split does not add up: {item}");
    assert!(!item["amount"].as_str().unwrap().starts_with('-'), "{item}");
    assert!(item["balance_after"]["total"].is_string(), "{item}");
}

#[tokio::test]
async fn the_transaction_list_is_newest_first_with_every_contract_field() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let dep = id("dep");
    deposit_raw(
        &app,
        &player,
        json!({"transaction_id": dep, "amount": "50"}),
    )
    .await;
    let bonus = app.deposit(&player, "10", "bonus").await;
    let wd = id("wd");
    withdraw_raw(
        &app,
        &player,
        json!({"transaction_id": wd, "amount": "5.50"}),
    )
    .await;

    let reply = app
        .viewer(&format!("/v1/players/{player}/transactions"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["next_cursor"], Value::Null);
    let items = reply.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    items.iter().for_each(assert_item_shape);

    let newest = &items[0];
    assert_eq!(newest["transaction_id"], wd);
    assert_eq!(newest["kind"], "withdrawal");
    assert_eq!(newest["amount"], "5.50");
    assert_eq!(newest["split"], json!({"cash": "5.50"}));
    assert_eq!(
        newest["balance_after"],
        json!({"total": "54.50", "cash": "44.50", "bonus": "10.00"})
    );
    assert_eq!(newest["round_id"], Value::Null);
    assert_eq!(newest["reference_transaction_id"], Value::Null);

    assert_eq!(items[1]["transaction_id"], bonus.body["transaction_id"]);
    assert_eq!(
        items[1]["wallet_transaction_id"],
        bonus.body["wallet_transaction_id"]
    );
    assert_eq!(items[1]["split"], json!({"bonus": "10.00"}));
    assert_eq!(items[2]["transaction_id"], dep);
    assert_eq!(items[2]["kind"], "deposit");
    assert_eq!(items[2]["amount"], "50.00");
}

#[tokio::test]
async fn the_transaction_list_pages_with_a_cursor_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let player = app.player("JPY").await;
    for n in 1..=5 {
        app.deposit(&player, &n.to_string(), "cash").await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/players/{player}/transactions?limit=2&cursor={c}"),
            None => format!("/v1/players/{player}/transactions?limit=2"),
        };
        let reply = app.viewer(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let items = reply.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|i| i["amount"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        match reply.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["5", "4", "3", "2", "1"]);
}

#[tokio::test]
async fn a_full_last_page_has_no_next_cursor() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "1", "cash").await;
    app.deposit(&player, "2", "cash").await;
    let reply = app
        .viewer(&format!("/v1/players/{player}/transactions?limit=2"))
        .await;
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(reply.body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_bad_limit_or_cursor_is_invalid_request() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    for query in [
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=100000",
        "cursor=not-a-cursor",
    ] {
        let reply = app
            .viewer(&format!("/v1/players/{player}/transactions?{query}"))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.code(), "invalid_request", "{query}");
    }
}

#[tokio::test]
async fn listing_an_unknown_players_transactions_is_404_player_not_found() {
    let app = TestApp::spawn().await;
    let reply = app.viewer("/v1/players/nobody-here/transactions").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "player_not_found");
}

#[tokio::test]
async fn refused_calls_are_not_listed() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let refused = withdraw_raw(
        &app,
        &player,
        json!({"transaction_id": id("wd"), "amount": "1"}),
    )
    .await;
    assert_eq!(refused.code(), "insufficient_funds");
    let reply = app
        .viewer(&format!("/v1/players/{player}/transactions"))
        .await;
    assert_eq!(reply.body["items"], json!([]));
}

#[tokio::test]
async fn a_provider_transaction_is_found_by_its_provider_id() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "20", "cash").await;
    let round = id("r");
    let tx = id("b");
    let placed = bet(&app, &player, &round, &tx, "7.25").await;
    assert_eq!(placed.status, StatusCode::OK, "{:?}", placed.body);
    let reply = app
        .viewer(&format!("/v1/providers/demo/transactions/{tx}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_item_shape(&reply.body);
    assert_eq!(
        reply.body["wallet_transaction_id"],
        placed.body["wallet_transaction_id"]
    );
    assert_eq!(reply.body["provider_id"], "demo");
    assert_eq!(reply.body["transaction_id"], tx);
    assert_eq!(reply.body["kind"], "bet");
    assert_eq!(reply.body["amount"], "7.25");
    assert_eq!(reply.body["split"], json!({"cash": "7.25"}));
    assert_eq!(reply.body["round_id"], round);
    assert_eq!(reply.body["balance_after"]["cash"], "12.75");
}

#[tokio::test]
async fn a_transaction_is_not_found_under_another_provider_or_an_unknown_id() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "20", "cash").await;
    let tx = id("b");
    bet(&app, &player, &id("r"), &tx, "1").await;
    for path in [
        format!("/v1/providers/demo2/transactions/{tx}"),
        "/v1/providers/demo/transactions/never-seen".to_owned(),
    ] {
        let reply = app.viewer(&path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.code(), "transaction_not_found");
    }
}

#[tokio::test]
async fn a_round_lists_its_bets_wins_and_rollbacks_with_its_status() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "100", "cash").await;
    let round = id("r");
    let (b1, b2, w, rb) = (id("b"), id("b"), id("w"), id("rb"));
    assert_eq!(
        bet(&app, &player, &round, &b1, "10").await.status,
        StatusCode::OK
    );
    assert_eq!(
        bet(&app, &player, &round, &b2, "5").await.status,
        StatusCode::OK
    );

    let open = app
        .viewer(&format!("/v1/providers/demo/rounds/{round}"))
        .await;
    assert_eq!(open.status, StatusCode::OK, "{:?}", open.body);
    assert_eq!(open.body["status"], "open");

    let rolled = app
        .provider(
            "rollback",
            json!({"transaction_id": rb, "player_id": player, "reference_transaction_id": b2, "round_id": round}),
        )
        .await;
    assert_eq!(rolled.status, StatusCode::OK, "{:?}", rolled.body);
    let won = app
        .provider(
            "win",
            json!({
                "transaction_id": w, "player_id": player, "round_id": round, "game_id": "slots",
                "amount": "30", "currency": "EUR", "bet_transaction_id": b1, "round_closed": true,
            }),
        )
        .await;
    assert_eq!(won.status, StatusCode::OK, "{:?}", won.body);

    let reply = app
        .viewer(&format!("/v1/providers/demo/rounds/{round}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["round_id"], round);
    assert_eq!(reply.body["player_id"], player);
    assert_eq!(reply.body["game_id"], "slots");
    assert_eq!(reply.body["status"], "closed");
    let ids = |list: &str| -> HashSet<String> {
        reply.body[list]
            .as_array()
            .unwrap_or_else(|| panic!("{list} is not a list: {}", reply.body))
            .iter()
            .inspect(|item| assert_item_shape(item))
            .map(|i| i["transaction_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("bets"), HashSet::from([b1.clone(), b2.clone()]));
    assert_eq!(ids("wins"), HashSet::from([w.clone()]));
    assert_eq!(ids("rollbacks"), HashSet::from([rb.clone()]));
    assert_eq!(reply.body["wins"][0]["reference_transaction_id"], b1);
    assert_eq!(reply.body["rollbacks"][0]["reference_transaction_id"], b2);
    assert_eq!(reply.body["wins"][0]["amount"], "30.00");
}

#[tokio::test]
async fn an_unknown_round_or_another_providers_round_is_404_round_not_found() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "10", "cash").await;
    let round = id("r");
    bet(&app, &player, &round, &id("b"), "1").await;
    for path in [
        format!("/v1/providers/demo2/rounds/{round}"),
        "/v1/providers/demo/rounds/never-seen".to_owned(),
    ] {
        let reply = app.viewer(&path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.code(), "round_not_found");
    }
}
