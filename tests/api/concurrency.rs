//! The provider API under concurrency: bursts over many players, a burst on one player,
//! concurrent duplicates, a win overtaking its bet, and a randomized bank whose final
//! balances must match the test's own model of the accepted calls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};
use crate::provider::{assert_ok, bet_body, id, rollback_body, seat, win_body, with, Seat};

/// The process-wide retry counters, printed for the report (tests of one binary share
/// the metrics registry, so run one test alone to read its own numbers).
async fn print_retries(app: &TestApp, test: &str) {
    let metrics = app
        .bearer(None, reqwest::Method::GET, "/metrics", None)
        .await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("wallet_serialization_retries")
                || l.starts_with("wallet_correlation_waits_total")
        })
        .collect();
    eprintln!("[{test}] retries: {lines:?}");
}

#[track_caller]
fn assert_no_server_error(reply: &Reply) {
    assert!(
        !reply.status.is_server_error(),
        "a 5xx answer: {} {:?}",
        reply.status,
        reply.body
    );
}

#[tokio::test]
async fn a_hundred_simultaneous_bets_of_a_hundred_players_all_succeed_and_reconcile() {
    let app = TestApp::spawn().await;
    let seats = join_all((0..100).map(|_| seat(&app, "10.00", "0"))).await;
    let bets: Vec<String> = (0..100).map(|_| id("bet")).collect();
    let replies = join_all(
        seats
            .iter()
            .zip(&bets)
            .map(|(s, bet)| s.bet(&app, &id("round"), bet, "1.25")),
    )
    .await;
    for reply in &replies {
        assert_ok(reply);
        assert_eq!(reply.body["balance"]["total"], "8.75");
    }
    for s in &seats {
        assert_eq!(app.balance(&s.player).await["total"], "8.75");
        let listed = app
            .viewer(&format!("/v1/players/{}/transactions", s.player))
            .await;
        let kinds: Vec<&str> = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["bet", "deposit"]);
    }
    assert!(app.discrepancies().await.is_empty());
    print_retries(&app, "hundred players").await;
}

/// Calls of different players are committed together in one transaction (a commit
/// group); the same transaction id in several of them makes the group fail, and each
/// call must then be answered on its own.
#[tokio::test]
async fn of_twenty_players_betting_at_once_under_one_transaction_id_exactly_one_is_charged() {
    let app = TestApp::spawn().await;
    let seats = join_all((0..20).map(|_| seat(&app, "10.00", "0"))).await;
    let bet = id("bet");
    let replies = join_all(
        seats
            .iter()
            .map(|s| s.bet(&app, &id("round"), &bet, "1.00")),
    )
    .await;
    let charged: Vec<usize> = (0..replies.len())
        .filter(|&i| replies[i].status == StatusCode::OK)
        .collect();
    assert_eq!(charged.len(), 1, "{replies:?}");
    for (i, (s, reply)) in seats.iter().zip(&replies).enumerate() {
        if i == charged[0] {
            assert_eq!(app.balance(&s.player).await["total"], "9.00");
        } else {
            assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
            assert_eq!(reply.code(), "idempotency_conflict");
            assert_eq!(app.balance(&s.player).await["total"], "10.00");
        }
    }
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn of_a_hundred_simultaneous_bets_on_one_player_exactly_those_the_balance_covers_succeed() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "37.00", "0").await;
    let round = id("round");
    let replies = join_all((0..100).map(|_| s.bet(&app, &round, &id("bet"), "1.00"))).await;
    let mut ok = 0;
    let mut refused = 0;
    for reply in &replies {
        assert_no_server_error(reply);
        let balance = &reply.body["balance"];
        let balance = if balance.is_null() {
            &reply.body["error"]["balance"]
        } else {
            balance
        };
        let total: f64 = balance["total"].as_str().unwrap().parse().unwrap();
        assert!(total >= 0.0, "a negative balance: {:?}", reply.body);
        match reply.status {
            StatusCode::OK => ok += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(reply.code(), "insufficient_funds");
                assert_eq!(reply.body["error"]["balance"]["total"], "0.00");
                refused += 1;
            }
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert_eq!((ok, refused), (37, 63));
    assert_eq!(app.balance(&s.player).await["total"], "0.00");
    assert!(app.discrepancies().await.is_empty());
    print_retries(&app, "one player").await;
}

#[tokio::test]
async fn fifty_concurrent_copies_of_one_bet_move_money_once_and_answer_alike() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100.00", "0").await;
    let (round, bet) = (id("round"), id("bet"));
    let replies = join_all((0..50).map(|_| s.bet(&app, &round, &bet, "7.00"))).await;
    for reply in &replies {
        assert_ok(reply);
        assert_eq!(reply.body, replies[0].body);
    }
    assert_eq!(replies.iter().filter(|r| !r.replayed()).count(), 1);
    assert!(replies[0].body["wallet_transaction_id"].is_string());
    assert_eq!(app.balance(&s.player).await["total"], "93.00");
    assert!(app.discrepancies().await.is_empty());
    print_retries(&app, "fifty copies").await;
}

#[tokio::test]
async fn a_win_sent_300_ms_before_its_bet_waits_for_it_and_is_linked_to_it() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let (round, bet, win) = (id("round"), id("bet"), id("win"));
    let early_win = s.win(&app, &round, &win, "5.00");
    let late_bet = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.bet(&app, &round, &bet, "2.00").await
    };
    let (win_reply, bet_reply) = tokio::join!(early_win, late_bet);
    assert_ok(&bet_reply);
    assert_ok(&win_reply);
    assert_eq!(win_reply.body["balance"]["total"], "13.00");
    let item = app
        .viewer(&format!("/v1/providers/demo/transactions/{win}"))
        .await;
    assert_eq!(item.body["reference_transaction_id"], bet.as_str());
    print_retries(&app, "win before bet").await;
}

// ---------------------------------------------------------------- randomized bank

const BANK_PLAYERS: usize = 20;
const BANK_WORKERS: usize = 16;
const BANK_SCRIPTS: usize = 600;
const BANK_SEED: u64 = 0x5EED_CA51_0001;
/// Every player starts with this much, in cents: 100.00 cash and 20.00 bonus.
const BANK_START_CENTS: i64 = 12_000;

/// One little story of a round, told to the wallet with resends and races.
#[derive(Debug, Clone, Copy)]
enum Story {
    /// Bet, then a win by round or by bet id (sometimes closing the round).
    BetThenWin,
    /// The win is sent first; the bet follows a moment later.
    WinBeforeBet,
    /// Bet, then its rollback.
    BetThenRollback,
    /// The rollback and its bet race: a tombstone or a restore, never both.
    RollbackRacesBet,
    /// Bet, then a win and a rollback of it race: exactly one of them lands.
    WinRacesRollback,
    /// A lost round: a bet and nothing else.
    BetOnly,
}

#[derive(Debug, Clone)]
struct Script {
    player: usize,
    story: Story,
    bet_cents: i64,
    win_cents: i64,
    win_by_id: bool,
    close: bool,
    copies: [usize; 3],
    resend: bool,
    delay_ms: u64,
}

fn scripts(rng: &mut StdRng) -> Vec<Script> {
    (0..BANK_SCRIPTS)
        .map(|_| {
            let story = match rng.gen_range(0..100) {
                0..=29 => Story::BetThenWin,
                30..=44 => Story::WinBeforeBet,
                45..=59 => Story::BetThenRollback,
                60..=69 => Story::RollbackRacesBet,
                70..=79 => Story::WinRacesRollback,
                _ => Story::BetOnly,
            };
            let mut copies = || {
                if rng.gen_bool(0.3) {
                    rng.gen_range(2..=3)
                } else {
                    1
                }
            };
            let copies = [copies(), copies(), copies()];
            Script {
                player: rng.gen_range(0..BANK_PLAYERS),
                story,
                bet_cents: if rng.gen_bool(0.05) {
                    0
                } else {
                    rng.gen_range(1..=500)
                },
                win_cents: rng.gen_range(0..=1000),
                win_by_id: rng.gen_bool(0.5),
                close: rng.gen_bool(0.3),
                copies,
                resend: rng.gen_bool(0.2),
                delay_ms: rng.gen_range(0..=40),
            }
        })
        .collect()
}

fn cents(value: i64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

fn parse_cents(value: &Value) -> i64 {
    let text = value.as_str().expect("an amount string");
    let (whole, frac) = text.split_once('.').expect("two decimals");
    whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

struct Bank<'a> {
    app: &'a TestApp,
    seats: &'a [Seat],
    calls: AtomicUsize,
}

/// What one call came to: whether it moved money (exactly one copy applied with 200).
struct Answer {
    accepted: bool,
    status: StatusCode,
    code: String,
}

impl Bank<'_> {
    /// Sends `copies` identical copies at once and checks that they agree: no 5xx, at
    /// most one applied, every recorded answer the same.
    async fn send(&self, endpoint: &str, body: &Value, copies: usize) -> Answer {
        self.calls.fetch_add(copies, Ordering::Relaxed);
        let replies =
            join_all((0..copies).map(|_| self.app.provider(endpoint, body.clone()))).await;
        for reply in &replies {
            if reply.status.is_server_error() {
                print_retries(self.app, "bank").await;
            }
            assert!(
                !reply.status.is_server_error(),
                "{endpoint} {body}: {} {:?}",
                reply.status,
                reply.body
            );
        }
        let recorded: Vec<&Reply> = replies
            .iter()
            .filter(|r| r.status == StatusCode::OK || r.status == StatusCode::UNPROCESSABLE_ENTITY)
            .collect();
        let applied = recorded.iter().filter(|r| !r.replayed()).count();
        assert!(applied <= 1, "{applied} copies applied: {:?}", body);
        for reply in &recorded {
            assert_eq!(reply.status, recorded[0].status, "{body:?}");
            assert_eq!(reply.body, recorded[0].body, "{body:?}");
        }
        let first = recorded.first().copied().unwrap_or(&replies[0]);
        Answer {
            accepted: first.status == StatusCode::OK,
            status: first.status,
            code: first.code().to_owned(),
        }
    }

    /// Resends a call later: a recorded answer replays, anything else is not recorded.
    async fn resend(&self, endpoint: &str, body: &Value, first: &Answer) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let reply = self.app.provider(endpoint, body.clone()).await;
        assert_no_server_error(&reply);
        if first.status == StatusCode::OK || first.status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(reply.replayed(), "{body:?}: {:?}", reply.body);
            assert_eq!(reply.status, first.status);
        }
    }

    /// Runs a script and returns the money it moved for its player, in cents, as the
    /// model of the accepted calls says.
    async fn run(&self, script: &Script) -> i64 {
        let s = &self.seats[script.player];
        let (round, bet_id) = (id("round"), id("bet"));
        let bet = bet_body(
            &s.player,
            &s.session,
            &round,
            &bet_id,
            &cents(script.bet_cents),
        );
        let mut win = win_body(&s.player, &round, &id("win"), &cents(script.win_cents));
        if script.win_by_id {
            win = with(win, json!({"bet_transaction_id": bet_id}));
        }
        if script.close {
            win = with(win, json!({"round_closed": true}));
        }
        let rollback = rollback_body(&s.player, &id("rb"), &bet_id);
        let [c0, c1, c2] = script.copies;
        let (bet_cents, win_cents) = (script.bet_cents, script.win_cents);
        let delay = Duration::from_millis(script.delay_ms);
        let mut sent = Vec::new();
        let delta = match script.story {
            Story::BetOnly => {
                let b = self.send("bet", &bet, c0).await;
                let delta = if b.accepted { -bet_cents } else { 0 };
                sent.push(("bet", bet, b));
                delta
            }
            Story::BetThenWin => {
                let b = self.send("bet", &bet, c0).await;
                let w = self.send("win", &win, c1).await;
                if b.accepted {
                    assert!(
                        w.accepted,
                        "win of an accepted bet: {} {}",
                        w.status, w.code
                    );
                } else {
                    assert_eq!(w.code, "bet_not_found");
                }
                let delta = if b.accepted { win_cents - bet_cents } else { 0 };
                sent.push(("bet", bet, b));
                sent.push(("win", win, w));
                delta
            }
            Story::WinBeforeBet => {
                let late_bet = async {
                    tokio::time::sleep(delay).await;
                    self.send("bet", &bet, c0).await
                };
                let (w, b) = tokio::join!(self.send("win", &win, c1), late_bet);
                if b.accepted {
                    assert!(w.accepted, "a win before its bet: {} {}", w.status, w.code);
                }
                let delta = i64::from(b.accepted) * -bet_cents + i64::from(w.accepted) * win_cents;
                sent.push(("bet", bet, b));
                sent.push(("win", win, w));
                delta
            }
            Story::BetThenRollback => {
                let b = self.send("bet", &bet, c0).await;
                let r = self.send("rollback", &rollback, c2).await;
                assert!(r.accepted, "rollback: {} {}", r.status, r.code);
                sent.push(("bet", bet, b));
                sent.push(("rollback", rollback, r));
                0
            }
            Story::RollbackRacesBet => {
                let late_bet = async {
                    tokio::time::sleep(delay / 4).await;
                    self.send("bet", &bet, c0).await
                };
                let (r, b) = tokio::join!(self.send("rollback", &rollback, c2), late_bet);
                assert!(r.accepted, "rollback: {} {}", r.status, r.code);
                if !b.accepted {
                    assert!(
                        b.code == "transaction_rolled_back" || b.code == "insufficient_funds",
                        "{}",
                        b.code
                    );
                }
                sent.push(("bet", bet, b));
                sent.push(("rollback", rollback, r));
                // A bet that landed was rolled back after it; a refused one moved nothing.
                0
            }
            Story::WinRacesRollback => {
                let b = self.send("bet", &bet, c0).await;
                let (w, r) = tokio::join!(
                    self.send("win", &win, c1),
                    self.send("rollback", &rollback, c2)
                );
                let delta = if b.accepted {
                    assert!(
                        w.accepted != r.accepted,
                        "win {} {} and rollback {} {}",
                        w.status,
                        w.code,
                        r.status,
                        r.code
                    );
                    if w.accepted {
                        assert_eq!(r.code, "bet_already_settled");
                        win_cents - bet_cents
                    } else {
                        assert_eq!(w.code, "transaction_rolled_back");
                        0
                    }
                } else {
                    0
                };
                sent.push(("bet", bet, b));
                sent.push(("win", win, w));
                sent.push(("rollback", rollback, r));
                delta
            }
        };
        if script.resend {
            for (endpoint, body, answer) in &sent {
                self.resend(endpoint, body, answer).await;
            }
        }
        delta
    }
}

/// The scans of `plan` (EXPLAIN's JSON form) on `tables` that are not bounded by a key
/// condition, as "node type on table".
fn unbounded_scans(plan: &Value, tables: &[&str], found: &mut Vec<String>) {
    let table = plan["Relation Name"].as_str().unwrap_or_default();
    let node = plan["Node Type"].as_str().unwrap_or_default();
    let bounded = ["Index Cond", "Recheck Cond", "TID Cond"]
        .iter()
        .any(|k| plan.get(k).is_some());
    if tables.contains(&table) && node != "ModifyTable" && !bounded {
        found.push(format!("{node} on {table}"));
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        unbounded_scans(child, tables, found);
    }
}

/// The index scans of `plan` on `tables`, as "node type on table: index condition".
fn index_scans(plan: &Value, tables: &[&str], found: &mut Vec<String>) {
    let node = plan["Node Type"].as_str().unwrap_or_default();
    let index = plan["Index Name"].as_str().unwrap_or_default();
    if node.contains("Index") && tables.iter().any(|t| index.starts_with(&format!("{t}_"))) {
        let cond = plan["Index Cond"].as_str().unwrap_or_default();
        found.push(format!("{node} on {index}: {cond}"));
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        index_scans(child, tables, found);
    }
}

#[tokio::test]
async fn the_transaction_reads_only_its_players_rows_on_tables_with_statistics() {
    let app = TestApp::spawn().await;
    let seats = join_all((0..30).map(|_| seat(&app, "50.00", "5.00"))).await;
    for s in &seats {
        let round = id("round");
        let bet = id("bet");
        assert_ok(&s.bet(&app, &round, &bet, "1.00").await);
        assert_ok(
            &app.provider("win", win_body(&s.player, &round, &id("win"), "2.00"))
                .await,
        );
    }
    // The service's own session settings, on a database autovacuum has analyzed.
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/development.toml");
    let mut settings = wallet::config::Settings::load(Some(std::path::Path::new(config))).unwrap();
    settings.database.url = app.database_url.clone();
    let pool = wallet::db::build_pool(&settings.database).unwrap();
    let client = wallet::db::acquire(&pool).await.unwrap();
    client.batch_execute("ANALYZE").await.unwrap();
    for (i, sql) in wallet::db::SERIALIZABLE_READS.iter().enumerate() {
        let params = client.prepare(sql).await.unwrap().params().len();
        client
            .batch_execute(&format!("PREPARE read_{i} AS {sql}"))
            .await
            .unwrap();
        let nulls = vec!["NULL"; params].join(", ");
        let messages = client
            .simple_query(&format!("EXPLAIN (FORMAT JSON) EXECUTE read_{i}({nulls})"))
            .await
            .unwrap();
        let text = messages
            .iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .expect("a plan");
        let plan: Value = serde_json::from_str(&text).unwrap();
        let mut found = Vec::new();
        unbounded_scans(
            &plan[0]["Plan"],
            &["players", "balances", "rounds"],
            &mut found,
        );
        assert!(found.is_empty(), "{found:?} in the plan of {sql}\n{plan:#}");
        // Player and balance rows are found by ctid, not through an index (whose pages'
        // predicate locks every non-HOT update conflicts with); only a balance row
        // created in the transaction itself is found by its key ($34: its players).
        let mut found = Vec::new();
        index_scans(&plan[0]["Plan"], &["players", "balances"], &mut found);
        found.retain(|scan| !scan.contains("$34"));
        assert!(found.is_empty(), "{found:?} in the plan of {sql}\n{plan:#}");
    }
}

#[tokio::test]
async fn a_randomized_bank_ends_with_every_balance_as_the_model_of_accepted_calls_predicts() {
    let app = TestApp::spawn_with(|s| s.ledger.correlation_wait_ms = 1000).await;
    let mut rng = StdRng::seed_from_u64(BANK_SEED);
    let seats = join_all((0..BANK_PLAYERS).map(|_| seat(&app, "100.00", "20.00"))).await;
    let all = scripts(&mut rng);
    let bank = Bank {
        app: &app,
        seats: &seats,
        calls: AtomicUsize::new(0),
    };
    let next = AtomicUsize::new(0);
    let workers = join_all((0..BANK_WORKERS).map(|_| async {
        let mut moved: HashMap<usize, i64> = HashMap::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(script) = all.get(i) else {
                return moved;
            };
            *moved.entry(script.player).or_default() += bank.run(script).await;
        }
    }));
    // Autovacuum analyzes the tables at moments nobody chooses; here it happens all the
    // time, so that a plan that only holds on a table without statistics shows.
    let db = app.db().await;
    let analyze = async {
        loop {
            db.batch_execute("ANALYZE").await.expect("ANALYZE");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let per_worker = tokio::select! {
        moved = workers => moved,
        () = analyze => unreachable!("the ANALYZE loop ends only with the bank"),
    };
    let mut model = [BANK_START_CENTS; BANK_PLAYERS];
    for moved in per_worker {
        for (player, cents) in moved {
            model[player] += cents;
        }
    }
    eprintln!(
        "[bank] {} scripts, {} calls",
        all.len(),
        bank.calls.load(Ordering::Relaxed)
    );
    for (i, s) in seats.iter().enumerate() {
        let balance = app.balance(&s.player).await;
        assert_eq!(
            parse_cents(&balance["total"]),
            model[i],
            "player {i}: {balance:?}"
        );
        assert!(parse_cents(&balance["cash"]) >= 0 && parse_cents(&balance["bonus"]) >= 0);
    }
    assert!(app.discrepancies().await.is_empty());
    print_retries(&app, "bank").await;
}
