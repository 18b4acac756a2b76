//! Two wallet processes on one database: two `Application`s (each with its own pool,
//! player turns, commit lanes and signals) on the same PostgreSQL database, racing the
//! same pairs of calls, both halves released together, hundreds of times. Whatever each
//! half answered, the balances and the ledger must agree with the answers and with the
//! contract's rules.
//!
//! `WALLET_REPLICA_ATTEMPTS` sets the attempts per race (default 200).

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;

use crate::helpers::{Reply, TestApp};
use crate::provider::{bet_body, id, rollback_body, seat, win_body, with, Seat};

/// Races run side by side, each on a player of its own.
const LANES: usize = 8;

fn attempts() -> usize {
    std::env::var("WALLET_REPLICA_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Two processes on one database.
async fn replicas() -> (TestApp, TestApp) {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(first.database_url.clone(), |_| {}).await;
    (first, second)
}

fn cash(reply: &Reply) -> Decimal {
    reply.body["balance"]["cash"]
        .as_str()
        .unwrap_or_else(|| panic!("no balance in {:?}", reply.body))
        .parse()
        .unwrap()
}

async fn cash_of(app: &TestApp, player: &str) -> Decimal {
    app.balance(player).await["cash"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn ok(reply: &Reply) -> bool {
    reply.status == StatusCode::OK
}

#[track_caller]
fn assert_code(reply: &Reply, codes: &[(u16, &str)]) {
    let seen = (reply.status.as_u16(), reply.code());
    assert!(
        codes.iter().any(|&(s, c)| (s, c) == seen),
        "{seen:?} is none of {codes:?}: {:?}",
        reply.body
    );
}

/// After the races: every balance matches its ledger and no money rule is broken.
async fn assert_ledger_clean(app: &TestApp) {
    assert!(
        app.discrepancies().await.is_empty(),
        "balances differ from the ledger"
    );
    let pool = wallet::db::single_connection_pool(&app.database_url, "wallet-test").unwrap();
    let client = wallet::db::acquire(&pool).await.unwrap();
    let violations = wallet::db::health::rule_violations(&client).await.unwrap();
    assert!(violations.is_empty(), "{violations:?}");
}

/// Seats for the lanes, each with `cash` EUR.
async fn seats(app: &TestApp, cash: &str) -> Vec<Seat> {
    join_all((0..LANES).map(|_| seat(app, cash, "0"))).await
}

/// Runs `race(attempt, seat)` `attempts()` times, `LANES` at once, each lane on its own
/// seat; returns the change of cash each attempt's answers account for, per seat.
async fn race_on<'a, F, Fut>(seats: &'a [Seat], race: F) -> Vec<Decimal>
where
    F: Fn(usize, &'a Seat) -> Fut,
    Fut: std::future::Future<Output = Decimal>,
{
    let mut expected = vec![Decimal::ZERO; seats.len()];
    let total = attempts();
    let mut start = 0;
    while start < total {
        let batch: Vec<usize> = (start..total.min(start + LANES)).collect();
        let changes = join_all(batch.iter().map(|&i| race(i, &seats[i % LANES]))).await;
        for (&i, change) in batch.iter().zip(changes) {
            expected[i % LANES] += change;
        }
        start += LANES;
    }
    expected
}

async fn assert_balances(app: &TestApp, seats: &[Seat], start: Decimal, changes: &[Decimal]) {
    for (seat, change) in seats.iter().zip(changes) {
        assert_eq!(
            cash_of(app, &seat.player).await,
            start + change,
            "the balance of {} is not what the answers say",
            seat.player
        );
    }
}

/// The same call on both processes at once.
async fn both(
    a: &TestApp,
    b: &TestApp,
    endpoint: &str,
    body_a: serde_json::Value,
    body_b: serde_json::Value,
) -> (Reply, Reply) {
    tokio::join!(a.provider(endpoint, body_a), b.provider(endpoint, body_b))
}

#[tokio::test]
async fn a_rollback_of_an_unseen_bet_racing_that_bet_never_costs_the_stake() {
    let (a, b) = replicas().await;
    let seats = seats(&a, "1000.00").await;
    let changes = race_on(&seats, |_, s| {
        let (a, b) = (&a, &b);
        async move {
            let (round, bet) = (id("round"), id("bet"));
            let (placed, rolled) = tokio::join!(
                a.provider("bet", bet_body(&s.player, &s.session, &round, &bet, "1.00")),
                b.provider("rollback", rollback_body(&s.player, &id("rb"), &bet)),
            );
            assert_code(&placed, &[(200, ""), (422, "transaction_rolled_back")]);
            assert_code(&rolled, &[(200, "")]);
            // Either order leaves the stake where it was.
            Decimal::ZERO
        }
    })
    .await;
    assert_balances(&a, &seats, "1000.00".parse().unwrap(), &changes).await;
    assert_ledger_clean(&a).await;
}

#[tokio::test]
async fn two_different_rollbacks_of_one_bet_refund_it_once() {
    let (a, b) = replicas().await;
    let seats = seats(&a, "1000.00").await;
    let changes = race_on(&seats, |_, s| {
        let (a, b) = (&a, &b);
        async move {
            let bet = id("bet");
            let placed = s.bet(a, &id("round"), &bet, "1.00").await;
            assert!(ok(&placed), "{:?}", placed.body);
            let (first, second) = both(
                a,
                b,
                "rollback",
                rollback_body(&s.player, &id("rb1"), &bet),
                rollback_body(&s.player, &id("rb2"), &bet),
            )
            .await;
            assert_code(&first, &[(200, "")]);
            assert_code(&second, &[(200, "")]);
            Decimal::ZERO
        }
    })
    .await;
    assert_balances(&a, &seats, "1000.00".parse().unwrap(), &changes).await;
    assert_ledger_clean(&a).await;
}

#[tokio::test]
async fn a_win_racing_a_rollback_of_its_bet_leaves_one_of_them() {
    let (a, b) = replicas().await;
    let seats = seats(&a, "1000.00").await;
    let changes = race_on(&seats, |_, s| {
        let (a, b) = (&a, &b);
        async move {
            let (round, bet) = (id("round"), id("bet"));
            let placed = s.bet(a, &round, &bet, "1.00").await;
            assert!(ok(&placed), "{:?}", placed.body);
            let win = with(
                win_body(&s.player, &round, &id("win"), "2.00"),
                json!({"bet_transaction_id": bet}),
            );
            let (paid, rolled) = tokio::join!(
                a.provider("win", win),
                b.provider("rollback", rollback_body(&s.player, &id("rb"), &bet)),
            );
            assert_code(&paid, &[(200, ""), (422, "transaction_rolled_back")]);
            assert_code(&rolled, &[(200, ""), (422, "bet_already_settled")]);
            assert!(
                ok(&paid) != ok(&rolled),
                "win {:?} and rollback {:?}",
                paid.body,
                rolled.body
            );
            let mut change = Decimal::from(-1);
            if ok(&paid) {
                change += Decimal::from(2);
            }
            if ok(&rolled) {
                change += Decimal::ONE;
            }
            change
        }
    })
    .await;
    assert_balances(&a, &seats, "1000.00".parse().unwrap(), &changes).await;
    assert_ledger_clean(&a).await;
}

#[tokio::test]
async fn a_new_bet_racing_the_win_that_closes_its_round_never_joins_the_closed_round() {
    let (a, b) = replicas().await;
    let seats = seats(&a, "1000.00").await;
    let db = a.db().await;
    let db = &db;
    let changes = race_on(&seats, |_, s| {
        let (a, b) = (&a, &b);
        async move {
            let round = id("round");
            let placed = s.bet(a, &round, &id("bet"), "1.00").await;
            assert!(ok(&placed), "{:?}", placed.body);
            let (win, late) = (id("win"), id("late"));
            let closing = with(
                win_body(&s.player, &round, &win, "0.50"),
                json!({"round_closed": true}),
            );
            let (paid, joined) = tokio::join!(
                a.provider("win", closing),
                b.provider(
                    "bet",
                    bet_body(&s.player, &s.session, &round, &late, "1.00")
                ),
            );
            assert_code(&paid, &[(200, "")]);
            assert_code(&joined, &[(200, ""), (422, "round_closed")]);
            if ok(&joined) {
                // The bet joined the round while it was open: before the closing win.
                let rows = db
                    .query(
                        "SELECT transaction_id, seq FROM transactions \
                         WHERE player_id = $1 AND transaction_id = ANY($2)",
                        &[&s.player, &vec![win.clone(), late.clone()]],
                    )
                    .await
                    .unwrap();
                let seq = |tx: &str| -> i64 {
                    rows.iter()
                        .find(|r| r.get::<_, &str>(0) == tx)
                        .map(|r| r.get(1))
                        .unwrap()
                };
                assert!(seq(&late) < seq(&win), "the bet joined a closed round");
            }
            let mut change = "-0.50".parse::<Decimal>().unwrap();
            if ok(&joined) {
                change -= Decimal::ONE;
            }
            change
        }
    })
    .await;
    assert_balances(&a, &seats, "1000.00".parse().unwrap(), &changes).await;
    assert_ledger_clean(&a).await;
}

#[tokio::test]
async fn the_same_bet_sent_to_both_processes_is_applied_once() {
    let (a, b) = replicas().await;
    let seats = seats(&a, "1000.00").await;
    let changes = race_on(&seats, |_, s| {
        let (a, b) = (&a, &b);
        async move {
            let body = bet_body(&s.player, &s.session, &id("round"), &id("bet"), "1.00");
            let (first, second) = both(a, b, "bet", body.clone(), body).await;
            assert_code(&first, &[(200, "")]);
            assert_code(&second, &[(200, "")]);
            assert!(
                first.replayed() != second.replayed(),
                "exactly one of the two is a replay"
            );
            assert_eq!(first.body, second.body);
            Decimal::from(-1)
        }
    })
    .await;
    assert_balances(&a, &seats, "1000.00".parse().unwrap(), &changes).await;
    assert_ledger_clean(&a).await;
}

#[tokio::test]
async fn a_hundred_bets_on_one_player_split_over_both_processes_spend_exactly_the_balance() {
    let (a, b) = replicas().await;
    let s = seat(&a, "37.00", "0").await;
    let replies = join_all((0..100).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.provider(
            "bet",
            bet_body(&s.player, &s.session, &id("round"), &id("bet"), "1.00"),
        )
    }))
    .await;
    let mut accepted = 0;
    for reply in &replies {
        assert_code(reply, &[(200, ""), (422, "insufficient_funds")]);
        if ok(reply) {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 37);
    assert_eq!(cash_of(&a, &s.player).await, Decimal::ZERO);
    assert_eq!(cash_of(&b, &s.player).await, Decimal::ZERO);
    // Both applications record into this test process's one metrics registry: the
    // counters are the two processes' sum. Reported, not asserted: how often calls of
    // one player went stale depends on timing; that none answered 5xx is asserted above.
    let text = a
        .http
        .get(format!("{}/metrics", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sum = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    };
    eprintln!(
        "[replicas] 100 bets on one player over two processes: {} retries ({} after stale reads), 0 5xx",
        sum("wallet_serialization_retries_total"),
        sum("wallet_stale_reads_total")
    );
    assert_ledger_clean(&a).await;
}

#[tokio::test]
async fn a_win_sent_to_one_process_before_its_bet_reaches_the_other_is_linked_in_time() {
    let (a, b) = replicas().await;
    let seats = seats(&a, "1000.00").await;
    let window = Duration::from_millis(2000);
    let rounds = join_all(seats.iter().map(|s| {
        let (a, b) = (&a, &b);
        async move {
            let (round, bet) = (id("round"), id("bet"));
            let win = async {
                let sent = Instant::now();
                let reply = a
                    .provider("win", win_body(&s.player, &round, &id("win"), "3.00"))
                    .await;
                (reply, sent.elapsed())
            };
            let late_bet = async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                b.provider("bet", bet_body(&s.player, &s.session, &round, &bet, "1.00"))
                    .await
            };
            let ((paid, took), placed) = tokio::join!(win, late_bet);
            assert!(ok(&placed), "{:?}", placed.body);
            assert!(ok(&paid), "{:?}", paid.body);
            let tx = paid.body["transaction_id"].as_str().unwrap();
            let row = b
                .viewer(&format!("/v1/providers/demo/transactions/{tx}"))
                .await;
            assert_eq!(row.body["reference_transaction_id"], bet, "{:?}", row.body);
            assert_eq!(cash(&paid), "1002.00".parse::<Decimal>().unwrap());
            took
        }
    }))
    .await;
    for took in rounds {
        // The bet lands 300 ms in; the win must not wait out the window.
        assert!(took < window / 2, "the win took {took:?}");
    }
    assert_ledger_clean(&a).await;
}
