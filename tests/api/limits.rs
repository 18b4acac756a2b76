//! The ledger's limits: money calls in flight, a money call's deadline, their
//! configuration, and what a 5xx body may say.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use wallet::config::Settings;
use wallet::db::DbError;
use wallet::ledger::LedgerError;

use crate::helpers::{Reply, TestApp};
use crate::provider::{assert_ok, assert_refused, bet_body, id, seat, win_body, Seat, GAME};

/// The development settings the test apps start from.
fn settings() -> Settings {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/development.toml");
    Settings::load(Some(std::path::Path::new(config))).expect("settings")
}

/// The one problem `validate` reports, which must name `key`.
#[track_caller]
fn refused_for(settings: &Settings, key: &str) {
    let problems = settings.validate().expect_err(&format!("{key}: refused"));
    assert!(
        problems.iter().any(|p| p.starts_with(key)),
        "{key}: {problems:?}"
    );
    assert_eq!(problems.len(), 1, "{key}: {problems:?}");
}

#[test]
fn the_deadline_must_cover_the_player_wait_and_the_correlation_wait() {
    let base = settings();
    assert_eq!(base.validate(), Ok(()));
    let key = "ledger.money_call_deadline_ms";

    let mut s = base.clone();
    s.ledger.player_wait_ms_max = 5_000;
    s.ledger.correlation_wait_ms = 1_000;
    s.ledger.money_call_deadline_ms = 4_999;
    refused_for(&s, key);
    s.ledger.money_call_deadline_ms = 5_000;
    assert_eq!(s.validate(), Ok(()), "equal to the player wait is enough");

    let mut s = base.clone();
    s.ledger.player_wait_ms_max = 1_000;
    s.ledger.correlation_wait_ms = 3_000;
    s.ledger.money_call_deadline_ms = 2_999;
    refused_for(&s, key);
    s.ledger.money_call_deadline_ms = 3_000;
    assert_eq!(
        s.validate(),
        Ok(()),
        "equal to the correlation wait is enough"
    );
}

#[test]
fn each_new_limit_refuses_zero() {
    let base = settings();
    let mut s = base.clone();
    s.ledger.money_calls_in_flight_max = 0;
    refused_for(&s, "ledger.money_calls_in_flight_max");
    s.ledger.money_calls_in_flight_max = 1;
    assert_eq!(s.validate(), Ok(()));

    let mut s = base.clone();
    s.ledger.correlation_attempts_max = 0;
    refused_for(&s, "ledger.correlation_attempts_max");
    s.ledger.correlation_attempts_max = 1;
    assert_eq!(s.validate(), Ok(()));

    let mut s = base.clone();
    s.ledger.sweep_batches_max = 0;
    refused_for(&s, "ledger.sweep_batches_max");
    s.ledger.sweep_batches_max = 1;
    assert_eq!(s.validate(), Ok(()));

    // Zero even with nothing to cover (the smallest player wait, no correlation wait).
    let mut s = base.clone();
    s.ledger.player_wait_ms_max = 1;
    s.ledger.correlation_wait_ms = 0;
    s.ledger.money_call_deadline_ms = 0;
    refused_for(&s, "ledger.money_call_deadline_ms");
    s.ledger.money_call_deadline_ms = 1;
    assert_eq!(s.validate(), Ok(()));
}

/// Waits until `done` holds, for at most 10 s.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A direct connection that holds the player's row lock (as a money call's commit
/// does) until `release`: the player's money calls block at the database meanwhile.
struct RowLock(tokio_postgres::Client);

impl RowLock {
    async fn take(app: &TestApp, player: &str) -> RowLock {
        let db = app.db().await;
        db.batch_execute("BEGIN").await.unwrap();
        db.execute(
            "SELECT 1 FROM players WHERE player_id = $1 FOR UPDATE",
            &[&player],
        )
        .await
        .unwrap();
        RowLock(db)
    }

    async fn release(self) {
        self.0.batch_execute("COMMIT").await.unwrap();
    }
}

async fn transaction(app: &TestApp, tx: &str) -> Reply {
    app.viewer(&format!("/v1/providers/demo/transactions/{tx}"))
        .await
}

/// The call was not recorded: the ledger does not know it, the balance did not move.
async fn assert_not_recorded(app: &TestApp, seat: &Seat, tx: &str, balance: &str) {
    let found = transaction(app, tx).await;
    assert_refused(&found, 404, "transaction_not_found");
    assert_eq!(app.balance(&seat.player).await["total"], balance, "{tx}");
}

/// The bet is in the ledger once, and the balance shows it.
async fn assert_applied(app: &TestApp, seat: &Seat, tx: &str, amount: &str, balance: &str) {
    let found = transaction(app, tx).await;
    assert_ok(&found);
    assert_eq!(found.body["kind"], "bet", "{tx}");
    assert_eq!(found.body["amount"], amount, "{tx}");
    assert_eq!(app.balance(&seat.player).await["total"], balance, "{tx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_the_in_flight_cap_a_bet_answers_retry_later_and_records_nothing() {
    const PLAYERS: usize = 40;
    let app = TestApp::spawn_with(|s| s.ledger.money_calls_in_flight_max = 1).await;
    // One call at a time: the seats are funded one by one.
    let mut seats = Vec::new();
    for _ in 0..=PLAYERS {
        seats.push(seat(&app, "10.00", "0").await);
    }
    let busy = seats.remove(0);
    let bets: Vec<(String, String)> = (0..PLAYERS).map(|_| (id("round"), id("bet"))).collect();
    let burst = |which: Vec<usize>| {
        join_all(which.into_iter().map(|i| {
            let (round, tx) = &bets[i];
            seats[i].bet(&app, round, tx, "1.25")
        }))
    };

    // 1. The only place is held by a bet blocked at the database: all 40 are shed.
    let lock = RowLock::take(&app, &busy.player).await;
    let busy_tx = id("bet");
    let busy_round = id("round");
    let (busy_reply, shed) = tokio::join!(busy.bet(&app, &busy_round, &busy_tx, "1.00"), async {
        until("the busy bet is in flight", || {
            app.wallet.players_in_flight() == 1
        })
        .await;
        // Bounded: a cap that queued calls instead of shedding them would wait here
        // for the busy bet, which waits for this lock.
        let replies = tokio::time::timeout(Duration::from_secs(20), burst((0..PLAYERS).collect()))
            .await
            .expect("the bets over the cap were answered at once");
        lock.release().await;
        replies
    });
    assert_ok(&busy_reply);
    assert_eq!(busy_reply.body["balance"]["total"], "9.00");
    for (i, reply) in shed.iter().enumerate() {
        assert_clean_503("a bet over the cap", reply, &[&seats[i].player]);
        assert!(!reply.replayed());
        assert_not_recorded(&app, &seats[i], &bets[i].1, "10.00").await;
    }

    // 2. Simultaneous resends: each is applied or shed, never half of either; the shed
    //    ones are resent until every bet is in.
    let mut pending: Vec<usize> = (0..PLAYERS).collect();
    let mut rounds = 0;
    let mut shed_total = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(
            rounds <= PLAYERS + 1,
            "resends never got through: {pending:?}"
        );
        let replies = burst(pending.clone()).await;
        let mut still = Vec::new();
        for (&i, reply) in pending.iter().zip(&replies) {
            match reply.status {
                StatusCode::OK => {
                    assert!(!reply.replayed(), "nothing was recorded before");
                    assert_eq!(reply.body["balance"]["total"], "8.75");
                    assert_applied(&app, &seats[i], &bets[i].1, "1.25", "8.75").await;
                }
                _ => {
                    assert_clean_503("a resend over the cap", reply, &[&seats[i].player]);
                    assert_not_recorded(&app, &seats[i], &bets[i].1, "10.00").await;
                    still.push(i);
                }
            }
        }
        shed_total += still.len();
        pending = still;
    }
    eprintln!("simultaneous resends: {shed_total} shed over {rounds} rounds");

    // Each bet applied once: a resend now replays it.
    for (i, (round, tx)) in bets.iter().enumerate() {
        let reply = seats[i].bet(&app, round, tx, "1.25").await;
        assert_ok(&reply);
        assert!(reply.replayed(), "{tx}");
        assert_eq!(reply.body["balance"]["total"], "8.75");
    }
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_win_whose_bet_never_arrives_answers_bet_not_found_by_its_deadline() {
    const DEADLINE_MS: u64 = 1_000;
    let app = TestApp::spawn_with(|s| {
        s.ledger.money_call_deadline_ms = DEADLINE_MS;
        s.ledger.correlation_wait_ms = DEADLINE_MS;
        s.ledger.player_wait_ms_max = DEADLINE_MS;
        // Every bet of the player wakes the win: its attempts must not outlast the
        // deadline however often it is woken.
        s.ledger.correlation_attempts_max = 1_000;
    })
    .await;
    let s = seat(&app, "100.00", "0").await;
    let win_tx = id("win");
    let answered = AtomicBool::new(false);
    let started = Instant::now();
    let ((reply, elapsed), bets) = tokio::join!(
        async {
            let reply = s.win(&app, &id("round"), &win_tx, "5.00").await;
            let elapsed = started.elapsed();
            answered.store(true, Ordering::SeqCst);
            (reply, elapsed)
        },
        async {
            // Bets of the same player in other rounds, every 20 ms, until the answer.
            let mut placed = 0;
            while !answered.load(Ordering::SeqCst)
                && started.elapsed() < Duration::from_millis(DEADLINE_MS * 5)
            {
                assert_ok(&s.bet(&app, &id("round"), &id("bet"), "0.01").await);
                placed += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            placed
        }
    );
    eprintln!("bet_not_found after {elapsed:?}, woken by {bets} bets");
    assert_refused(&reply, 404, "bet_not_found");
    let upper = Duration::from_millis(DEADLINE_MS + 1_500);
    assert!(
        elapsed <= upper,
        "answered after {elapsed:?}, deadline {DEADLINE_MS} ms"
    );
    assert!(
        elapsed >= Duration::from_millis(DEADLINE_MS * 8 / 10),
        "answered after {elapsed:?}: it did not wait for its bet"
    );
    assert!(bets >= 5, "only {bets} bets woke the win");
    assert_refused(
        &transaction(&app, &win_tx).await,
        404,
        "transaction_not_found",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_deadline_covers_the_wait_for_the_turn_after_the_correlation_window() {
    // The window ends at the deadline; the player's turn is then held by a bet blocked at
    // the database. The win's last look may not wait for the turn past its deadline
    // (player_wait_ms_max would allow another DEADLINE_MS).
    const DEADLINE_MS: u64 = 2_000;
    let app = TestApp::spawn_with(|s| {
        s.ledger.money_call_deadline_ms = DEADLINE_MS;
        s.ledger.correlation_wait_ms = DEADLINE_MS;
        s.ledger.player_wait_ms_max = DEADLINE_MS;
    })
    .await;
    let s = seat(&app, "100.00", "0").await;
    let win_tx = id("win");
    let blocked_tx = id("bet");
    let answered = AtomicBool::new(false);
    let started = Instant::now();
    let (reply, blocked) = tokio::join!(
        async {
            let reply = s.win(&app, &id("round"), &win_tx, "5.00").await;
            answered.store(true, Ordering::SeqCst);
            (reply, started.elapsed())
        },
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let lock = RowLock::take(&app, &s.player).await;
            let (reply, ()) = tokio::join!(s.bet(&app, &id("round"), &blocked_tx, "1.00"), async {
                // Held until the win answered (or well past when it should have).
                let limit = Duration::from_millis(DEADLINE_MS * 2 + 1_000);
                while !answered.load(Ordering::SeqCst) && started.elapsed() < limit {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                lock.release().await;
            });
            reply
        }
    );
    let (reply, elapsed) = reply;
    eprintln!("{} after {elapsed:?}", reply.code());
    // Nothing recorded either way: not found, or the turn did not come in time.
    assert!(
        reply.code() == "bet_not_found" || reply.code() == "retry_later",
        "{:?}",
        reply.body
    );
    assert!(
        elapsed <= Duration::from_millis(DEADLINE_MS + 1_500),
        "answered after {elapsed:?}, deadline {DEADLINE_MS} ms"
    );
    assert_refused(
        &transaction(&app, &win_tx).await,
        404,
        "transaction_not_found",
    );
    assert_ok(&blocked);
}

/// Every text a 5xx body may carry as its message (src/ledger/error.rs
/// `public_message`, the player's turn in src/ledger/locks.rs, readiness in
/// src/http/ops.rs, the request timeout in src/http/mod.rs).
fn fixed_texts() -> Vec<String> {
    let lost = || DbError::Data("internal detail".into());
    vec![
        LedgerError::Overloaded.public_message().to_owned(),
        LedgerError::OutcomeUnknown(lost())
            .public_message()
            .to_owned(),
        LedgerError::Internal("internal detail".into())
            .public_message()
            .to_owned(),
        LedgerError::Db(lost()).public_message().to_owned(),
        "this player's earlier calls are still running; nothing was recorded, retry".into(),
        "database unavailable".into(),
        "database did not answer in time".into(),
        "the request timed out; a deposit or withdrawal may have been applied: resend it with \
         the same transaction_id to learn its outcome"
            .into(),
    ]
}

/// A 503 `retry_later` whose body is the envelope with a fixed text, and nothing that
/// names the database, the player or the SQL.
#[track_caller]
fn assert_clean_503(what: &str, reply: &Reply, secrets: &[&str]) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {:?}",
        reply.body
    );
    assert_eq!(reply.code(), "retry_later", "{what}: {:?}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        fixed_texts().iter().any(|t| t == message),
        "{what}: not a fixed text: {message:?}"
    );
    let body = String::from_utf8_lossy(&reply.bytes).to_lowercase();
    for leak in [
        "database:",
        "database pool",
        "db error",
        "postgres",
        "connection refused",
        "select ",
        "insert ",
        " from ",
        "stored data",
        "commit group",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(secrets.iter().map(|s| s.to_lowercase()))
    {
        assert!(
            !body.contains(&leak),
            "{what}: the body says {leak:?}: {body}"
        );
    }
    let keys: Vec<&String> = reply.body["error"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["code", "message"], "{what}: {body}");
}

/// One call of every kind for `player`, whose outcome needs the database.
/// `bet` in `round` is the first.
async fn every_kind_of_call(
    app: &TestApp,
    player: &str,
    session: &str,
    round: &str,
    bet: &str,
) -> Vec<(String, Reply)> {
    let mut out = vec![
        (
            "bet".into(),
            app.provider("bet", bet_body(player, session, round, bet, "1.00"))
                .await,
        ),
        (
            "win".into(),
            app.provider("win", win_body(player, round, &id("win"), "1.00"))
                .await,
        ),
        (
            "rollback".into(),
            app.provider(
                "rollback",
                json!({"transaction_id": id("rb"), "player_id": player,
                       "reference_transaction_id": bet}),
            )
            .await,
        ),
        (
            "balance".into(),
            app.provider("balance", json!({"player_id": player})).await,
        ),
    ];
    let operator: [(Method, String, Option<Value>); 4] = [
        (
            Method::POST,
            format!("/v1/players/{player}/deposits"),
            Some(json!({"transaction_id": id("dep"), "amount": "1.00"})),
        ),
        (
            Method::POST,
            format!("/v1/players/{player}/withdrawals"),
            Some(json!({"transaction_id": id("wd"), "amount": "1.00"})),
        ),
        (Method::GET, format!("/v1/players/{player}"), None),
        (
            Method::POST,
            "/v1/sessions".into(),
            Some(json!({"player_id": player, "provider_id": "demo", "game_id": GAME})),
        ),
    ];
    for (method, path, body) in operator {
        let what = format!("{method} {path}");
        out.push((what, app.operator(method, &path, body).await));
    }
    out.push((
        "readiness".into(),
        app.bearer(None, Method::GET, "/health/ready", None).await,
    ));
    out
}

#[tokio::test]
async fn with_the_database_unreachable_a_503_says_only_a_fixed_text() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let database = format!("wallet_unreachable_{}", uuid::Uuid::now_v7().simple());
    let app = TestApp::spawn_with(|s| {
        s.database.url = format!("postgres://wallet@127.0.0.1:{closed}/{database}");
        s.database.migrate_on_start = false;
        s.database.connect_timeout_ms = 200;
        s.database.acquire_timeout_ms = 500;
    })
    .await;
    let player = id("player-secret");
    let session = uuid::Uuid::now_v7().to_string();
    let calls = every_kind_of_call(&app, &player, &session, &id("round"), &id("bet")).await;
    for (what, reply) in calls {
        assert_clean_503(&what, &reply, &[&player, &database, &closed.to_string()]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_connections_cut_and_refused_a_503_says_only_a_fixed_text_and_nothing_is_recorded()
{
    let app = TestApp::spawn().await;
    let s = seat(&app, "10.00", "0").await;
    let database = app.database_url.rsplit('/').next().unwrap().to_owned();
    let admin_url = std::env::var("WALLET_TEST_DATABASE_URL").unwrap();
    let (admin, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    // Fill the pool with open connections, then cut them all and refuse new ones.
    assert_ok(
        &app.provider("balance", json!({"player_id": s.player}))
            .await,
    );
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {database} ALLOW_CONNECTIONS false"
        ))
        .await
        .unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&database],
        )
        .await
        .unwrap();
    loop {
        let left: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                &[&database],
            )
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let (round, bet) = (id("round"), id("bet"));
    let replies = every_kind_of_call(&app, &s.player, &s.session, &round, &bet).await;
    for (what, reply) in &replies {
        assert_clean_503(what, reply, &[&s.player, &s.session, &database]);
    }

    admin
        .batch_execute(&format!("ALTER DATABASE {database} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    // Nothing was recorded: the same bet now applies (not a replay) and moves money once.
    assert_refused(&transaction(&app, &bet).await, 404, "transaction_not_found");
    assert_eq!(app.balance(&s.player).await["total"], "10.00");
    let reply = s.bet(&app, &round, &bet, "1.00").await;
    assert_ok(&reply);
    assert!(!reply.replayed());
    assert_eq!(reply.body["balance"]["total"], "9.00");
    assert!(app.discrepancies().await.is_empty());
}
