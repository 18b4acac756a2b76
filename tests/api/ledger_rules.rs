//! `wallet check-ledger`'s money rules (`wallet::db::health::rule_violations`): a ledger
//! written through the API breaks none of them, and each rule names exactly the row a
//! broken service would have written against it.
//!
//! Corruptions are appended the way a service would write a row: the next `seq`,
//! `players.ledger_seq` moved along, `balance_after` replayed from the previous row and
//! the balance rows updated by the split, so that only the rule under test breaks (and
//! the balances still reconcile).

use std::process::Output;

use serde_json::{json, Map, Value};
use uuid::Uuid;
use wallet::db::health::{rule, Violation};

use crate::helpers::TestApp;
use crate::provider::{assert_ok, id, seat, win_body, with, Seat, GAME};

async fn violations(app: &TestApp) -> Vec<Violation> {
    let pool = wallet::db::single_connection_pool(&app.database_url, "wallet-test").unwrap();
    let client = wallet::db::acquire(&pool).await.unwrap();
    wallet::db::health::rule_violations(&client).await.unwrap()
}

/// `found` is exactly one violation per expected (rule, row).
#[track_caller]
fn assert_exactly(found: &[Violation], expected: &[(&str, Uuid)]) {
    let mut got: Vec<(&str, Option<Uuid>)> =
        found.iter().map(|v| (v.rule, v.transaction_id)).collect();
    let mut want: Vec<(&str, Option<Uuid>)> =
        expected.iter().map(|(r, id)| (*r, Some(*id))).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{found:#?}");
}

/// The detail of the violation naming row `id`.
#[track_caller]
fn detail_of(found: &[Violation], id: Uuid) -> String {
    found
        .iter()
        .find(|v| v.transaction_id == Some(id))
        .unwrap_or_else(|| panic!("no violation names {id}: {found:#?}"))
        .detail
        .clone()
}

/// What the ledger holds about one of `demo`'s transactions.
struct Stored {
    id: Uuid,
    player_id: String,
    split: Value,
    round_id: Option<String>,
    transaction_id: String,
}

async fn stored(app: &TestApp, provider_tx: &str) -> Stored {
    let row = app
        .db()
        .await
        .query_one(
            "SELECT id, player_id, split, round_id, transaction_id FROM transactions \
             WHERE provider_id = 'demo' AND transaction_id = $1",
            &[&provider_tx],
        )
        .await
        .unwrap();
    Stored {
        id: row.get(0),
        player_id: row.get(1),
        split: row.get(2),
        round_id: row.get(3),
        transaction_id: row.get(4),
    }
}

/// A ledger row a broken service writes.
struct Append {
    kind: &'static str,
    win_kind: Option<&'static str>,
    amount: i64,
    split: Value,
    round_id: Option<String>,
    reference_id: Option<Uuid>,
    reference_transaction_id: Option<String>,
    /// Written instead of the replayed balance.
    balance_after: Option<Value>,
    /// Sequence numbers skipped before this row.
    skip_seq: i64,
}

impl Append {
    fn new(kind: &'static str, amount: i64, split: Value) -> Append {
        Append {
            kind,
            win_kind: (kind == "win").then_some("win"),
            amount,
            split,
            round_id: None,
            reference_id: None,
            reference_transaction_id: None,
            balance_after: None,
            skip_seq: 0,
        }
    }

    /// A rollback restoring exactly what `bet` took.
    fn rollback_of(bet: &Stored) -> Append {
        let amount = bet
            .split
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        Append {
            round_id: bet.round_id.clone(),
            reference_id: Some(bet.id),
            reference_transaction_id: Some(bet.transaction_id.clone()),
            ..Append::new("rollback", amount, bet.split.clone())
        }
    }

    /// A `win`-kind win of `amount` cash linked to `bet`.
    fn win_of(bet: &Stored, amount: i64) -> Append {
        Append {
            round_id: bet.round_id.clone(),
            reference_id: Some(bet.id),
            reference_transaction_id: Some(bet.transaction_id.clone()),
            ..Append::new("win", amount, json!({"cash": amount}))
        }
    }
}

/// Appends `row` to the player's ledger as the next row (see the module comment) and
/// returns its id.
async fn append(app: &TestApp, player: &str, row: Append) -> Uuid {
    let mut db = app.db().await;
    let tx = db.transaction().await.unwrap();
    let last: i64 = tx
        .query_one(
            "SELECT ledger_seq FROM players WHERE player_id = $1 FOR UPDATE",
            &[&player],
        )
        .await
        .unwrap()
        .get(0);
    let previous: Value = tx
        .query_opt(
            "SELECT balance_after FROM transactions WHERE player_id = $1 \
             ORDER BY seq DESC LIMIT 1",
            &[&player],
        )
        .await
        .unwrap()
        .map(|r| r.get(0))
        .unwrap_or_else(|| json!({}));
    let sign = if matches!(row.kind, "bet" | "withdrawal") {
        -1
    } else {
        1
    };
    let mut after: Map<String, Value> = previous.as_object().cloned().unwrap_or_default();
    let deltas: Vec<(String, i64)> = row
        .split
        .as_object()
        .map(|parts| {
            parts
                .iter()
                .map(|(k, v)| (k.clone(), sign * v.as_i64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    for (category, delta) in &deltas {
        let now = after.get(category).and_then(Value::as_i64).unwrap_or(0);
        after.insert(category.clone(), json!(now + delta));
    }
    let balance_after = row.balance_after.unwrap_or(Value::Object(after));
    let id = Uuid::now_v7();
    let seq = last + 1 + row.skip_seq;
    let game = row.round_id.as_ref().map(|_| GAME);
    tx.execute(
        "INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, win_kind, \
             amount, currency, split, balance_after, round_id, game_id, reference_id, \
             reference_transaction_id, seq) \
         VALUES ($1, 'demo', $2, $3, $4, $5, $6, 'EUR', $7, $8, $9, $10, $11, $12, $13)",
        &[
            &id,
            &format!("broken-{}", id.simple()),
            &player,
            &row.kind,
            &row.win_kind,
            &row.amount,
            &row.split,
            &balance_after,
            &row.round_id,
            &game,
            &row.reference_id,
            &row.reference_transaction_id,
            &seq,
        ],
    )
    .await
    .unwrap();
    tx.execute(
        "INSERT INTO idempotency_keys (key, fingerprint, ledger_id) \
         VALUES (call_key('demo', $1), '\\x00', $2)",
        &[&format!("broken-{}", id.simple()), &id],
    )
    .await
    .unwrap();
    tx.execute(
        "UPDATE players SET ledger_seq = $2 WHERE player_id = $1",
        &[&player, &seq],
    )
    .await
    .unwrap();
    for (category, delta) in &deltas {
        tx.execute(
            "INSERT INTO balances (player_id, category) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&player, category],
        )
        .await
        .unwrap();
        tx.execute(
            "UPDATE balances SET amount = amount + $3 WHERE player_id = $1 AND category = $2",
            &[&player, category, delta],
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

/// Appends a deposit of 1.00 cash and deletes its idempotency record; returns its row.
async fn deposit_without_record(app: &TestApp, player: &str) -> Uuid {
    let row = append(
        app,
        player,
        Append::new("deposit", 100, json!({"cash": 100})),
    )
    .await;
    app.db()
        .await
        .execute("DELETE FROM idempotency_keys WHERE ledger_id = $1", &[&row])
        .await
        .unwrap();
    row
}

/// A funded seat (100.00 cash, 20.00 bonus) with one 30.00 bet in a round of its own;
/// returns the seat and the bet's row.
async fn seat_with_bet(app: &TestApp) -> (Seat, Stored) {
    let s = seat(app, "100", "20").await;
    let b = id("b");
    assert_ok(&s.bet(app, &id("r"), &b, "30").await);
    (s, stored(app, &b).await)
}

/// The ledger holds no rule violation and reconciles.
async fn assert_clean_before_corruption(app: &TestApp) {
    let found = violations(app).await;
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(app.discrepancies().await, vec![]);
}

#[tokio::test]
async fn a_ledger_written_through_the_api_breaks_no_money_rule() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100", "20").await;
    // A bet paid by a win named by bet id.
    let (r1, b1) = (id("r"), id("b"));
    assert_ok(&s.bet(&app, &r1, &b1, "105").await);
    let paid = with(
        win_body(&s.player, &r1, &id("w"), "50"),
        json!({"bet_transaction_id": b1}),
    );
    assert_ok(&app.provider("win", paid).await);
    // A bet rolled back, a second rollback of it (moves nothing), a tombstone.
    let (r2, b2) = (id("r"), id("b"));
    assert_ok(&s.bet(&app, &r2, &b2, "5").await);
    assert_ok(&s.rollback(&app, &id("rb"), &b2).await);
    assert_ok(&s.rollback(&app, &id("rb"), &b2).await);
    assert_ok(&s.rollback(&app, &id("rb"), &id("unseen")).await);
    // A round of two bets, one rolled back, then paid by round and closed.
    let (r3, b3, b4) = (id("r"), id("b"), id("b"));
    assert_ok(&s.bet(&app, &r3, &b3, "2").await);
    assert_ok(&s.bet(&app, &r3, &b4, "3").await);
    assert_ok(&s.rollback(&app, &id("rb"), &b4).await);
    let closing = with(
        win_body(&s.player, &r3, &id("w"), "7"),
        json!({"round_closed": true}),
    );
    assert_ok(&app.provider("win", closing).await);
    // A promo win, a free round (zero bet, zero win), a withdrawal.
    let promo = with(
        win_body(&s.player, &id("r"), &id("w"), "1.50"),
        json!({"kind": "promo"}),
    );
    assert_ok(&app.provider("win", promo).await);
    let (r4, b5) = (id("r"), id("b"));
    assert_ok(&s.bet(&app, &r4, &b5, "0").await);
    assert_ok(&s.win(&app, &r4, &id("w"), "0").await);
    let withdrawal = app
        .operator(
            reqwest::Method::POST,
            &format!("/v1/players/{}/withdrawals", s.player),
            Some(json!({"transaction_id": id("wd"), "amount": "1"})),
        )
        .await;
    assert_ok(&withdrawal);
    // Another player in the same round id (a live table), rolled back.
    let other = seat(&app, "10", "0").await;
    let b6 = id("b");
    assert_ok(&other.bet(&app, &r1, &b6, "4").await);
    assert_ok(&other.rollback(&app, &id("rb"), &b6).await);

    assert_clean_before_corruption(&app).await;
    let seqs: Vec<i64> = app
        .db()
        .await
        .query(
            "SELECT seq FROM transactions WHERE player_id = $1 ORDER BY seq",
            &[&s.player],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<i64> = (1..).take(seqs.len()).collect();
    assert_eq!(seqs, expected);
    assert!(seqs.len() >= 14, "{seqs:?}");
}

#[tokio::test]
async fn rule_1_a_second_reversal_of_a_bet_is_named() {
    let app = TestApp::spawn().await;
    let (s, bet) = seat_with_bet(&app).await;
    assert_ok(&s.rollback(&app, &id("rb"), &bet.transaction_id).await);
    assert_clean_before_corruption(&app).await;

    let again = append(&app, &s.player, Append::rollback_of(&bet)).await;
    let found = violations(&app).await;
    assert_exactly(&found, &[(rule::REVERSED_ONCE, again)]);
    assert_eq!(found[0].player_id, s.player);
    assert!(found[0].detail.contains(&bet.id.to_string()), "{found:?}");
    assert_eq!(app.discrepancies().await, vec![]);
}

#[tokio::test]
async fn rule_2_a_rollback_of_a_paid_bet_is_named() {
    let app = TestApp::spawn().await;
    let (s, bet) = seat_with_bet(&app).await;
    let round = bet.round_id.clone().unwrap();
    let win = with(
        win_body(&s.player, &round, &id("w"), "10"),
        json!({"bet_transaction_id": bet.transaction_id}),
    );
    assert_ok(&app.provider("win", win).await);
    assert_clean_before_corruption(&app).await;

    let refund = append(&app, &s.player, Append::rollback_of(&bet)).await;
    let found = violations(&app).await;
    assert_exactly(&found, &[(rule::PAID_OR_REVERSED, refund)]);
    assert_eq!(app.discrepancies().await, vec![]);
}

#[tokio::test]
async fn rule_2_a_rollback_after_a_win_in_the_bets_round_is_named() {
    let app = TestApp::spawn().await;
    let (s, first) = seat_with_bet(&app).await;
    let round = first.round_id.clone().unwrap();
    let b = id("b");
    assert_ok(&s.bet(&app, &round, &b, "5").await);
    let second = stored(&app, &b).await;
    // Paid by bet id: the win is linked to the first bet only.
    let win = with(
        win_body(&s.player, &round, &id("w"), "10"),
        json!({"bet_transaction_id": first.transaction_id}),
    );
    assert_ok(&app.provider("win", win).await);
    // The service itself refuses this one: the round has received a win.
    let refused = s.rollback(&app, &id("rb"), &b).await;
    assert_eq!(refused.code(), "bet_already_settled", "{:?}", refused.body);
    assert_clean_before_corruption(&app).await;

    let refund = append(&app, &s.player, Append::rollback_of(&second)).await;
    let found = violations(&app).await;
    assert_exactly(&found, &[(rule::PAID_OR_REVERSED, refund)]);
    assert!(found[0].detail.contains(&round), "{found:?}");
}

#[tokio::test]
async fn rule_3_a_win_of_a_rolled_back_bet_is_named() {
    let app = TestApp::spawn().await;
    let (s, bet) = seat_with_bet(&app).await;
    assert_ok(&s.rollback(&app, &id("rb"), &bet.transaction_id).await);
    assert_clean_before_corruption(&app).await;

    let win = append(&app, &s.player, Append::win_of(&bet, 1000)).await;
    let found = violations(&app).await;
    assert_exactly(&found, &[(rule::REFERENCES, win)]);
    assert_eq!(app.discrepancies().await, vec![]);
}

#[tokio::test]
async fn rule_3_a_reference_to_another_players_row_or_to_no_row_is_named() {
    let app = TestApp::spawn().await;
    let (_, theirs) = seat_with_bet(&app).await;
    let (mine, _) = seat_with_bet(&app).await;
    assert_clean_before_corruption(&app).await;

    let foreign = append(&app, &mine.player, Append::win_of(&theirs, 500)).await;
    let dangling = Stored {
        id: Uuid::now_v7(),
        player_id: mine.player.clone(),
        split: json!({"cash": 100}),
        round_id: theirs.round_id.clone(),
        transaction_id: id("gone"),
    };
    let nowhere = append(&app, &mine.player, Append::win_of(&dangling, 500)).await;
    let found = violations(&app).await;
    assert_exactly(
        &found,
        &[(rule::REFERENCES, foreign), (rule::REFERENCES, nowhere)],
    );
    assert!(
        found.iter().all(|v| v.player_id == mine.player),
        "{found:?}"
    );
    assert!(
        found.iter().any(|v| v.detail.contains(&theirs.player_id)),
        "{found:?}"
    );
}

#[tokio::test]
async fn rule_4_a_bet_accepted_after_its_round_closed_is_named() {
    let app = TestApp::spawn().await;
    let (s, bet) = seat_with_bet(&app).await;
    let round = bet.round_id.clone().unwrap();
    let closing = with(
        win_body(&s.player, &round, &id("w"), "0"),
        json!({"round_closed": true}),
    );
    assert_ok(&app.provider("win", closing).await);
    assert_clean_before_corruption(&app).await;

    let late = append(
        &app,
        &s.player,
        Append {
            round_id: Some(round.clone()),
            ..Append::new("bet", 500, json!({"cash": 500}))
        },
    )
    .await;
    let found = violations(&app).await;
    assert_exactly(&found, &[(rule::BET_BEFORE_CLOSE, late)]);
    assert_eq!(app.discrepancies().await, vec![]);
}

#[tokio::test]
async fn rule_5_a_split_that_does_not_add_up_to_its_amount_is_named() {
    let app = TestApp::spawn().await;
    let (s, _) = seat_with_bet(&app).await;
    assert_clean_before_corruption(&app).await;

    let short = append(
        &app,
        &s.player,
        Append::new("deposit", 1000, json!({"cash": 900})),
    )
    .await;
    let found = violations(&app).await;
    assert_exactly(&found, &[(rule::SPLIT_SUM, short)]);
    assert!(found[0].detail.contains("900"), "{found:?}");
    assert_eq!(app.discrepancies().await, vec![]);
}

#[tokio::test]
async fn rule_6_a_broken_balance_chain_is_named() {
    let app = TestApp::spawn().await;
    // A balance_after that is not the previous one plus the split.
    let (off, _) = seat_with_bet(&app).await;
    // A row that skips a sequence number.
    let (gap, _) = seat_with_bet(&app).await;
    // A player row whose ledger_seq is not its last row's.
    let (behind, behind_bet) = seat_with_bet(&app).await;
    assert_clean_before_corruption(&app).await;

    let wrong_after = append(
        &app,
        &off.player,
        Append {
            // Before: 70.00 cash, 20.00 bonus; plus 10.00 cash.
            balance_after: Some(json!({"cash": 8001, "bonus": 2000})),
            ..Append::new("deposit", 1000, json!({"cash": 1000}))
        },
    )
    .await;
    let skipped = append(
        &app,
        &gap.player,
        Append {
            skip_seq: 1,
            ..Append::new("deposit", 1000, json!({"cash": 1000}))
        },
    )
    .await;
    app.db()
        .await
        .execute(
            "UPDATE players SET ledger_seq = ledger_seq + 1 WHERE player_id = $1",
            &[&behind.player],
        )
        .await
        .unwrap();

    let found = violations(&app).await;
    assert_exactly(
        &found,
        &[
            (rule::BALANCE_CHAIN, wrong_after),
            (rule::BALANCE_CHAIN, skipped),
            (rule::BALANCE_CHAIN, behind_bet.id),
        ],
    );
    let detail = |id: Uuid| detail_of(&found, id);
    assert!(detail(wrong_after).contains("cash: 7000 + 1000 = 8000, recorded 8001"));
    assert!(detail(skipped).contains("missing"), "{}", detail(skipped));
    assert!(detail(behind_bet.id).contains("ledger_seq"));
    assert_eq!(app.discrepancies().await, vec![]);
}

#[tokio::test]
async fn rule_6_a_missing_row_in_the_middle_breaks_the_chain_and_the_sequence() {
    let app = TestApp::spawn().await;
    let (s, _) = seat_with_bet(&app).await;
    assert_clean_before_corruption(&app).await;
    // The deposit of the bonus (seq 2) disappears; the bet after it starts from a
    // balance the replay no longer reaches, seq 2 is missing, and the deposit's record
    // names a row that is gone.
    let deposit_row: Uuid = app
        .db()
        .await
        .query_one(
            "SELECT id FROM transactions WHERE player_id = $1 AND seq = 2",
            &[&s.player],
        )
        .await
        .unwrap()
        .get(0);
    let bet_row: Uuid = app
        .db()
        .await
        .query_one(
            "SELECT id FROM transactions WHERE player_id = $1 AND seq = 3",
            &[&s.player],
        )
        .await
        .unwrap()
        .get(0);
    app.db()
        .await
        .execute(
            "DELETE FROM transactions WHERE player_id = $1 AND seq = 2",
            &[&s.player],
        )
        .await
        .unwrap();
    let found = violations(&app).await;
    assert_exactly(
        &found,
        &[
            (rule::BALANCE_CHAIN, bet_row),
            (rule::RECORDED_ONCE, deposit_row),
        ],
    );
    assert!(found[0].detail.contains("seq 2 missing"), "{found:?}");
    assert!(found[1].detail.contains("does not exist"), "{found:?}");
}

#[tokio::test]
async fn rule_7_a_row_without_its_record_and_a_call_written_twice_are_named() {
    let app = TestApp::spawn().await;
    let (s, bet) = seat_with_bet(&app).await;
    assert_clean_before_corruption(&app).await;
    let db = app.db().await;

    // A row whose record was never written.
    let unrecorded = deposit_without_record(&app, &s.player).await;
    // The bet's call written a second time: a row with the bet's (provider, transaction
    // id), whose record names the first row.
    let twice = deposit_without_record(&app, &s.player).await;
    db.execute(
        "UPDATE transactions SET transaction_id = $2 WHERE id = $1",
        &[&twice, &bet.transaction_id],
    )
    .await
    .unwrap();
    // A row recorded as refused.
    let refused = append(
        &app,
        &s.player,
        Append::new("deposit", 100, json!({"cash": 100})),
    )
    .await;
    db.execute(
        "UPDATE idempotency_keys SET ledger_id = NULL, \
             refusal = '{\"reason\": \"player_blocked\", \"balance\": {}, \"currency\": \"EUR\"}' \
         WHERE ledger_id = $1",
        &[&refused],
    )
    .await
    .unwrap();

    let found = violations(&app).await;
    assert_exactly(
        &found,
        &[
            (rule::RECORDED_ONCE, unrecorded),
            (rule::RECORDED_ONCE, twice),
            (rule::RECORDED_ONCE, refused),
        ],
    );
    let detail = |id: Uuid| detail_of(&found, id);
    assert!(detail(unrecorded).contains("no idempotency record"));
    assert!(
        detail(twice).contains(&bet.id.to_string()),
        "{}",
        detail(twice)
    );
    assert!(
        detail(refused).contains("player_blocked"),
        "{}",
        detail(refused)
    );
    assert_eq!(app.discrepancies().await, vec![]);
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
async fn check_ledger_fails_on_a_rule_violation_the_balances_do_not_show() {
    let app = TestApp::spawn().await;
    let (s, bet) = seat_with_bet(&app).await;
    assert_ok(&s.rollback(&app, &id("rb"), &bet.transaction_id).await);

    let clean = check_ledger(&app);
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert!(clean.status.success(), "stdout: {stdout}");
    assert!(stdout.contains("ledger: clean"), "{stdout}");

    let again = append(&app, &s.player, Append::rollback_of(&bet)).await;
    assert_eq!(app.discrepancies().await, vec![]);
    let output = check_ledger(&app);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "stdout: {stdout}");
    assert!(!stdout.contains("clean"), "{stdout}");
    assert!(
        stdout.contains("every balance equals the sum of its ledger entries"),
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.contains(&again.to_string()))
        .unwrap_or_else(|| panic!("{again} not listed:\n{stdout}"));
    assert!(line.starts_with(rule::REVERSED_ONCE), "{line}");
    assert!(line.contains(&s.player), "{line}");
}

/// Every rule on a ledger written by hand (players made through the API, every row
/// appended), independent of the service's writer, malformed JSON included: the rule
/// queries report it instead of failing, and `wallet check-ledger` still lists them when
/// the reconciliation's casts fail on it.
mod by_hand {
    use super::*;

    async fn bet_row(app: &TestApp, player: &str, round: &str, amount: i64) -> Stored {
        let row = Append {
            round_id: Some(round.to_owned()),
            ..Append::new("bet", amount, json!({"cash": amount}))
        };
        let id = append(app, player, row).await;
        let r = app
            .db()
            .await
            .query_one(
                "SELECT transaction_id FROM transactions WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
        Stored {
            id,
            player_id: player.to_owned(),
            split: json!({"cash": amount}),
            round_id: Some(round.to_owned()),
            transaction_id: r.get(0),
        }
    }

    async fn funded(app: &TestApp) -> String {
        let p = app.player("EUR").await;
        append(
            app,
            &p,
            Append::new("deposit", 10000, json!({"cash": 10000})),
        )
        .await;
        append(
            app,
            &p,
            Append::new("deposit", 2000, json!({"bonus": 2000})),
        )
        .await;
        p
    }

    #[tokio::test]
    async fn every_rule_names_its_rows_and_malformed_json_is_reported() {
        let app = TestApp::spawn().await;
        // Clean: a paid bet, a reversed bet with a second rollback that moves nothing, a
        // tombstone and a zero promo win.
        let p = funded(&app).await;
        let r1 = id("r");
        let b1 = bet_row(&app, &p, &r1, 3000).await;
        append(&app, &p, Append::win_of(&b1, 500)).await;
        let b2 = bet_row(&app, &p, &id("r"), 100).await;
        append(&app, &p, Append::rollback_of(&b2)).await;
        append(
            &app,
            &p,
            Append {
                reference_id: Some(b2.id),
                ..Append::new("rollback", 0, json!({}))
            },
        )
        .await;
        append(&app, &p, Append::new("rollback", 0, json!({}))).await;
        append(
            &app,
            &p,
            Append {
                win_kind: Some("promo"),
                ..Append::new("win", 0, json!({"cash": 0}))
            },
        )
        .await;
        let found = violations(&app).await;
        assert!(found.is_empty(), "{found:#?}");
        assert_eq!(app.discrepancies().await, vec![]);

        // 1: a second reversal.
        let again = append(&app, &p, Append::rollback_of(&b2)).await;
        let found = violations(&app).await;
        assert_exactly(&found, &[(rule::REVERSED_ONCE, again)]);

        // 2: a refund of a paid bet, and of a bet whose round was paid.
        let p2 = funded(&app).await;
        let b = bet_row(&app, &p2, &id("r"), 1000).await;
        append(&app, &p2, Append::win_of(&b, 10)).await;
        let r2a = append(&app, &p2, Append::rollback_of(&b)).await;
        let p3 = funded(&app).await;
        let round = id("r");
        let first = bet_row(&app, &p3, &round, 1000).await;
        let second = bet_row(&app, &p3, &round, 500).await;
        append(&app, &p3, Append::win_of(&first, 10)).await;
        let r2b = append(&app, &p3, Append::rollback_of(&second)).await;
        // 3: a win of a reversed bet, of another player's bet, of no row.
        let p4 = funded(&app).await;
        let b = bet_row(&app, &p4, &id("r"), 1000).await;
        append(&app, &p4, Append::rollback_of(&b)).await;
        let r3a = append(&app, &p4, Append::win_of(&b, 10)).await;
        let p5 = funded(&app).await;
        let r3b = append(&app, &p5, Append::win_of(&first, 10)).await;
        let ghost = Stored {
            id: Uuid::now_v7(),
            ..bet_row(&app, &p5, &id("r"), 1).await
        };
        let r3c = append(&app, &p5, Append::win_of(&ghost, 10)).await;
        // 4: a bet in a round closed an hour before it.
        let p6 = funded(&app).await;
        let round = id("r");
        let b = bet_row(&app, &p6, &round, 10).await;
        app.db()
            .await
            .execute(
                "INSERT INTO rounds (provider_id, round_id, player_id, game_id, status, closed_at) \
                 VALUES ('demo', $1, $2, 'slots', 'closed', now() - interval '1 hour')",
                &[&round, &p6],
            )
            .await
            .unwrap();
        // 5: a short split, a split that is no object, a part that is a string.
        let p7 = funded(&app).await;
        let r5 = append(
            &app,
            &p7,
            Append::new("deposit", 1000, json!({"cash": 900})),
        )
        .await;
        let r5b = append(&app, &p7, Append::new("deposit", 0, json!("oops"))).await;
        let r5c = append(&app, &p7, Append::new("deposit", 5, json!({"cash": "5"}))).await;
        // 6: a wrong balance_after, a skipped seq, a balance_after that is no object,
        // and a ledger_seq ahead of the last row (named by that row).
        let p8 = funded(&app).await;
        let r6a = append(
            &app,
            &p8,
            Append {
                balance_after: Some(json!({"cash": 11001, "bonus": 2000})),
                ..Append::new("deposit", 1000, json!({"cash": 1000}))
            },
        )
        .await;
        let r6b = append(
            &app,
            &p8,
            Append {
                skip_seq: 1,
                ..Append::new("deposit", 1000, json!({"cash": 1000}))
            },
        )
        .await;
        let p9 = funded(&app).await;
        let r6c = append(
            &app,
            &p9,
            Append {
                balance_after: Some(json!([1, 2])),
                ..Append::new("deposit", 1000, json!({"cash": 1000}))
            },
        )
        .await;
        let r6d = append(&app, &p9, Append::new("deposit", 1, json!({"cash": 1}))).await;
        app.db()
            .await
            .execute(
                "UPDATE players SET ledger_seq = ledger_seq + 5 WHERE player_id = $1",
                &[&p9],
            )
            .await
            .unwrap();
        let found = violations(&app).await;
        assert_exactly(
            &found,
            &[
                (rule::REVERSED_ONCE, again),
                (rule::PAID_OR_REVERSED, r2a),
                (rule::PAID_OR_REVERSED, r2b),
                (rule::REFERENCES, r3a),
                (rule::REFERENCES, r3b),
                (rule::REFERENCES, r3c),
                (rule::BET_BEFORE_CLOSE, b.id),
                (rule::SPLIT_SUM, r5),
                (rule::SPLIT_SUM, r5b),
                (rule::SPLIT_SUM, r5c),
                (rule::BALANCE_CHAIN, r6a),
                (rule::BALANCE_CHAIN, r6b),
                (rule::BALANCE_CHAIN, r6c),
                (rule::BALANCE_CHAIN, r6d),
            ],
        );

        // The reconciliation cannot read the split "oops"; the rules are listed all the
        // same.
        let output = check_ledger(&app);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "stdout: {stdout}");
        assert!(stdout.contains("the reconciliation failed"), "{stdout}");
        for (rule, row) in [(rule::REVERSED_ONCE, again), (rule::BALANCE_CHAIN, r6d)] {
            assert!(
                stdout
                    .lines()
                    .any(|l| l.starts_with(rule) && l.contains(&row.to_string())),
                "{rule} {row} not listed:\n{stdout}"
            );
        }
        assert!(stdout.contains("14 violation(s)"), "{stdout}");
    }
}
