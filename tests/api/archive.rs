//! `wallet archive`: a month of the ledger goes to a checksummed file and its partition is
//! dropped, while every call of it still replays, every rule that named one of its rows
//! still holds, and `wallet check-ledger` stays exact from the carried balances.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::provider::{
    assert_ok, assert_refused, bet_body, id, rollback_body, seat, win_body, with,
};

/// The first day of the database's current UTC month, plus `months`.
async fn month(db: &tokio_postgres::Client, months: i32) -> NaiveDate {
    db.query_one(
        "SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + $1::int * interval '1 month')::date",
        &[&months],
    )
    .await
    .unwrap()
    .get(0)
}

/// Moves every ledger row of `player` into the month `to` (creating its partition), as
/// if the calls had been made in its first milliseconds, in their order: new ids of that
/// month for the rows, their references and their idempotency records together.
async fn move_player_to(db: &mut tokio_postgres::Client, player: &str, to: NaiveDate) {
    move_rows_to(db, player, 1..=i64::MAX, to).await;
}

/// [`move_player_to`] for the player's rows whose seq is in `seqs`.
async fn move_rows_to(
    db: &mut tokio_postgres::Client,
    player: &str,
    seqs: std::ops::RangeInclusive<i64>,
    to: NaiveDate,
) {
    db.query_one("SELECT create_ledger_partition($1)", &[&to])
        .await
        .unwrap();
    let tx = db.transaction().await.unwrap();
    tx.batch_execute(
        "CREATE TEMP TABLE moved (old UUID PRIMARY KEY, new UUID NOT NULL) ON COMMIT DROP",
    )
    .await
    .unwrap();
    tx.execute(
        "INSERT INTO moved SELECT id, ledger_id_floor(($2::date)::timestamp AT TIME ZONE 'UTC' \
             + row_number() OVER (ORDER BY seq) * interval '1 millisecond') \
         FROM transactions WHERE player_id = $1 AND seq BETWEEN $3 AND $4",
        &[&player, &to, seqs.start(), seqs.end()],
    )
    .await
    .unwrap();
    for sql in [
        "UPDATE transactions t SET id = m.new FROM moved m WHERE t.id = m.old",
        "UPDATE transactions t SET reference_id = m.new FROM moved m WHERE t.reference_id = m.old",
        "UPDATE idempotency_keys k SET ledger_id = m.new FROM moved m WHERE k.ledger_id = m.old",
    ] {
        tx.execute(sql, &[]).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn archive_dir() -> PathBuf {
    std::env::temp_dir().join(format!("wallet-archive-test-{}", Uuid::new_v4()))
}

async fn archive(
    app: &TestApp,
    before: NaiveDate,
    dir: &std::path::Path,
) -> anyhow::Result<Vec<wallet::commands::archive::ArchivedMonth>> {
    let pool = wallet::db::single_connection_pool(&app.database_url, "wallet-test").unwrap();
    let mut client = wallet::db::acquire(&pool).await.unwrap();
    wallet::commands::archive::archive_before(&mut client, before, dir).await
}

/// Reconciliation and every money rule, as `wallet check-ledger` runs them.
async fn assert_ledger_clean(app: &TestApp) {
    assert_eq!(app.discrepancies().await, vec![]);
    let pool = wallet::db::single_connection_pool(&app.database_url, "wallet-test").unwrap();
    let client = wallet::db::acquire(&pool).await.unwrap();
    let violations = wallet::db::health::rule_violations(&client).await.unwrap();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn a_month_is_archived_verified_and_dropped_and_its_calls_still_replay() {
    let app = TestApp::spawn().await;
    let a = seat(&app, "100", "0").await;
    let b = seat(&app, "100", "0").await;
    let (r1, r2) = (id("r"), id("r"));
    let (b1, w1, b2, ghost, broke) = (id("b"), id("w"), id("b"), id("g"), id("b"));
    let bet1 = bet_body(&a.player, &a.session, &r1, &b1, "10.00");
    let win1 = with(
        win_body(&a.player, &r1, &w1, "25.00"),
        json!({"round_closed": true}),
    );
    let bet2 = bet_body(&a.player, &a.session, &r2, &b2, "5.00");
    let tombstone = rollback_body(&a.player, &id("rb"), &ghost);
    let too_much = bet_body(&a.player, &a.session, &id("r"), &broke, "1000.00");
    let calls = [
        ("bet", &bet1),
        ("win", &win1),
        ("bet", &bet2),
        ("rollback", &tombstone),
        ("bet", &too_much),
    ];
    for (path, body) in &calls[..4] {
        assert_ok(&app.provider(path, (*body).clone()).await);
    }
    assert_refused(
        &app.provider("bet", too_much.clone()).await,
        422,
        "insufficient_funds",
    );
    // Player b stays in this month.
    let b_bet = bet_body(&b.player, &b.session, &id("r"), &id("b"), "1.00");
    assert_ok(&app.provider("bet", b_bet).await);

    let mut db = app.db().await;
    let two_ago = month(&db, -2).await;
    move_player_to(&mut db, &a.player, two_ago).await;
    assert_ledger_clean(&app).await;
    // What each call answers before its month is archived.
    let mut answers = Vec::new();
    for (path, body) in &calls {
        let reply = app.provider(path, (*body).clone()).await;
        assert!(reply.replayed());
        answers.push((reply.status, reply.body));
    }

    // This month and the one before may still get calls.
    let dir = archive_dir();
    let err = archive(&app, month(&db, 0).await, &dir).await.unwrap_err();
    assert!(err.to_string().contains("at most"), "{err:#}");

    let archived = archive(&app, month(&db, -1).await, &dir).await.unwrap();
    assert_eq!(archived.len(), 1, "{archived:?}");
    let got = &archived[0];
    let partition = format!("transactions_{}", two_ago.format("%Y_%m"));
    assert_eq!(
        (got.month, got.partition.as_str()),
        (two_ago, partition.as_str())
    );
    // The seat's deposit and the four calls.
    assert_eq!(got.archive.rows, 5);

    // The file is the month: its checksum, its size, and its rows loaded back.
    let path = PathBuf::from(&got.archive.file);
    let on_disk = wallet::commands::archive::hash_file(&path).await.unwrap();
    assert_eq!(on_disk, got.archive.sha256);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(i64::try_from(bytes.len()).unwrap(), got.archive.bytes);
    db.batch_execute("CREATE TEMP TABLE restored (LIKE transactions)")
        .await
        .unwrap();
    let sink = db
        .copy_in("COPY restored FROM STDIN WITH (FORMAT csv, HEADER true)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    use futures::SinkExt;
    sink.send(bytes::Bytes::from(bytes)).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 5);
    let restored = db
        .query_one(
            "SELECT count(*), array_agg(transaction_id ORDER BY seq), \
                    (array_agg(balance_after ORDER BY seq DESC))[1] \
             FROM restored WHERE player_id = $1",
            &[&a.player],
        )
        .await
        .unwrap();
    let ids: Vec<String> = restored.get(1);
    assert_eq!(
        ids[1..],
        [b1.clone(), w1.clone(), b2.clone(), id_of(&tombstone)]
    );

    // The partition is gone; what stays is recorded.
    let gone: Option<String> = db
        .query_one("SELECT to_regclass($1)::text", &[&partition])
        .await
        .unwrap()
        .get(0);
    assert_eq!(gone, None);
    let kept = db
        .query_one(
            "SELECT (SELECT row_count FROM ledger_archives WHERE month = $1), \
                    (SELECT sha256 FROM ledger_archives WHERE month = $1), \
                    (SELECT count(*) FROM ledger_receipts), \
                    (SELECT count(*) FROM ledger_tombstones), \
                    (SELECT seq FROM ledger_carried WHERE player_id = $2), \
                    (SELECT balance FROM ledger_carried WHERE player_id = $2), \
                    (SELECT count(*) FROM transactions WHERE player_id = $2)",
            &[&two_ago, &a.player],
        )
        .await
        .unwrap();
    assert_eq!(kept.get::<_, Option<i64>>(0), Some(5));
    assert_eq!(
        kept.get::<_, Option<String>>(1).as_ref(),
        Some(&got.archive.sha256)
    );
    assert_eq!((kept.get::<_, i64>(2), kept.get::<_, i64>(3)), (5, 1));
    assert_eq!(kept.get::<_, Option<i64>>(4), Some(5));
    let carried: serde_json::Value = kept.get(5);
    assert_eq!(carried, restored.get::<_, serde_json::Value>(2));
    assert_eq!(
        kept.get::<_, i64>(6),
        0,
        "no live row of the player is left"
    );
    assert_ledger_clean(&app).await;
    assert_eq!(app.balance(&a.player).await["cash"], "110.00");

    // Every call of the archived month answers as it did.
    for ((path, body), (status, answer)) in calls.iter().zip(&answers) {
        let reply = app.provider(path, (*body).clone()).await;
        assert!(reply.replayed(), "{body}");
        assert_eq!((&reply.status, &reply.body), (status, answer), "{body}");
    }
    // Another payload under an archived call's id is still a conflict.
    let changed = bet_body(&a.player, &a.session, &r1, &b1, "11.00");
    assert_refused(
        &app.provider("bet", changed).await,
        409,
        "idempotency_conflict",
    );
    // An archived month is final: its open bet is not rolled back, a win is not
    // rollable, and the tombstone still refuses its bet.
    let rb2 = rollback_body(&a.player, &id("rb"), &b2);
    assert_refused(
        &app.provider("rollback", rb2).await,
        422,
        "bet_already_settled",
    );
    let rbw = rollback_body(&a.player, &id("rb"), &w1);
    assert_refused(
        &app.provider("rollback", rbw).await,
        422,
        "rollback_not_allowed",
    );
    let late = bet_body(&a.player, &a.session, &id("r"), &ghost, "1.00");
    assert_refused(
        &app.provider("bet", late).await,
        422,
        "transaction_rolled_back",
    );
    assert_eq!(app.balance(&a.player).await["cash"], "110.00");

    // The player's ledger goes on from the carried seq and balance.
    let r3 = id("r");
    let bet3 = bet_body(&a.player, &a.session, &r3, &id("b"), "20.00");
    assert_ok(&app.provider("bet", bet3).await);
    let win3 = win_body(&a.player, &r3, &id("w"), "2.00");
    assert_ok(&app.provider("win", win3).await);
    let seqs: Vec<i64> = db
        .query(
            "SELECT seq FROM transactions WHERE player_id = $1 ORDER BY seq",
            &[&a.player],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(seqs, vec![6, 7]);
    assert_eq!(app.balance(&a.player).await["cash"], "92.00");
    assert_ledger_clean(&app).await;

    // check-ledger reads what was carried and kept: a carried cent too many, a carried
    // seq one short and a lost receipt each show, and go with their repair.
    let rules_broken = || async {
        let pool = wallet::db::single_connection_pool(&app.database_url, "wallet-test").unwrap();
        let client = wallet::db::acquire(&pool).await.unwrap();
        let mut rules: Vec<&str> = wallet::db::health::rule_violations(&client)
            .await
            .unwrap()
            .iter()
            .map(|v| v.rule)
            .collect();
        rules.dedup();
        rules
    };
    let cent = "UPDATE ledger_carried \
                SET balance = jsonb_set(balance, '{cash}', to_jsonb((balance ->> 'cash')::bigint + $2)) \
                WHERE player_id = $1";
    db.execute(cent, &[&a.player, &1i64]).await.unwrap();
    let off = app.discrepancies().await;
    assert_eq!(off.len(), 1, "{off:?}");
    assert_eq!(
        (off[0].player_id.as_str(), off[0].category.as_str()),
        (a.player.as_str(), "cash")
    );
    assert_eq!(rules_broken().await, vec!["balance-chain"]);
    db.execute(cent, &[&a.player, &-1i64]).await.unwrap();
    let seq = "UPDATE ledger_carried SET seq = seq + $2 WHERE player_id = $1";
    db.execute(seq, &[&a.player, &-1i64]).await.unwrap();
    assert_eq!(rules_broken().await, vec!["balance-chain"]);
    db.execute(seq, &[&a.player, &1i64]).await.unwrap();
    db.batch_execute(
        "CREATE TEMP TABLE lost AS SELECT * FROM ledger_receipts LIMIT 1; \
                      DELETE FROM ledger_receipts WHERE ledger_id IN (SELECT ledger_id FROM lost)",
    )
    .await
    .unwrap();
    assert_eq!(rules_broken().await, vec!["recorded-once"]);
    db.batch_execute("INSERT INTO ledger_receipts SELECT * FROM lost")
        .await
        .unwrap();
    assert_ledger_clean(&app).await;

    // Nothing is left to archive before last month.
    assert!(archive(&app, month(&db, -1).await, &dir)
        .await
        .unwrap()
        .is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_month_that_does_not_continue_the_carried_ledger_stays() {
    let app = TestApp::spawn().await;
    let a = seat(&app, "100", "0").await;
    let (r, b1) = (id("r"), id("b"));
    assert_ok(
        &app.provider("bet", bet_body(&a.player, &a.session, &r, &b1, "10.00"))
            .await,
    );
    let mut db = app.db().await;
    let two_ago = month(&db, -2).await;
    move_player_to(&mut db, &a.player, two_ago).await;
    // A last balance_after that no longer follows from the carried (empty) ledger.
    db.execute(
        "UPDATE transactions SET balance_after = '{\"cash\": 9100, \"bonus\": 0}' \
         WHERE transaction_id = $1",
        &[&b1],
    )
    .await
    .unwrap();

    let dir = archive_dir();
    let err = archive(&app, month(&db, -1).await, &dir).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("does not continue"), "{message}");
    assert!(message.contains(&a.player), "{message}");
    let left = db
        .query_one(
            "SELECT to_regclass($1)::text, (SELECT count(*) FROM ledger_receipts), \
                    (SELECT count(*) FROM ledger_archives), \
                    (SELECT count(*) FROM transactions WHERE player_id = $2)",
            &[
                &format!("transactions_{}", two_ago.format("%Y_%m")),
                &a.player,
            ],
        )
        .await
        .unwrap();
    assert!(
        left.get::<_, Option<String>>(0).is_some(),
        "the partition stays"
    );
    assert_eq!((left.get::<_, i64>(1), left.get::<_, i64>(2)), (0, 0));
    assert_eq!(left.get::<_, i64>(3), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn two_months_in_one_run_carry_on_and_a_reversed_bet_stays_reversed() {
    let app = TestApp::spawn().await;
    let a = seat(&app, "100", "0").await;
    let (b1, b2, b3, b4) = (id("b"), id("b"), id("b"), id("b"));
    let (rb1, rb2, rb4) = (id("rb"), id("rb"), id("rb"));
    // Three months ago: the deposit (seq 1), bet 1 and its rollback, bet 2; two months
    // ago: bet 2's rollback, bet 3, which stays open, and bet 4, whose rollback is of
    // this month.
    let calls = [
        (
            "bet",
            bet_body(&a.player, &a.session, &id("r"), &b1, "10.00"),
        ),
        ("rollback", rollback_body(&a.player, &rb1, &b1)),
        (
            "bet",
            bet_body(&a.player, &a.session, &id("r"), &b2, "5.00"),
        ),
        ("rollback", rollback_body(&a.player, &rb2, &b2)),
        (
            "bet",
            bet_body(&a.player, &a.session, &id("r"), &b3, "7.00"),
        ),
        (
            "bet",
            bet_body(&a.player, &a.session, &id("r"), &b4, "3.00"),
        ),
        ("rollback", rollback_body(&a.player, &rb4, &b4)),
    ];
    for (path, body) in &calls {
        assert_ok(&app.provider(path, body.clone()).await);
    }
    let mut db = app.db().await;
    let (three_ago, two_ago) = (month(&db, -3).await, month(&db, -2).await);
    move_rows_to(&mut db, &a.player, 1..=4, three_ago).await;
    move_rows_to(&mut db, &a.player, 5..=7, two_ago).await;
    assert_ledger_clean(&app).await;
    // What each call answers (with the moved rows' ids) before its month is archived.
    let mut answers = Vec::new();
    for (path, body) in &calls {
        answers.push(app.provider(path, body.clone()).await.body);
    }

    let dir = archive_dir();
    let archived = archive(&app, month(&db, -1).await, &dir).await.unwrap();
    let months: Vec<(NaiveDate, i64)> =
        archived.iter().map(|m| (m.month, m.archive.rows)).collect();
    assert_eq!(months, vec![(three_ago, 4), (two_ago, 3)]);
    // The second month's carried seq and balance replaced the first's.
    let carried = db
        .query_one(
            "SELECT seq, balance ->> 'cash' FROM ledger_carried WHERE player_id = $1",
            &[&a.player],
        )
        .await
        .unwrap();
    assert_eq!(
        (carried.get::<_, i64>(0), carried.get::<_, String>(1)),
        (7, "9000".to_owned())
    );
    assert_ledger_clean(&app).await;

    for ((path, body), answer) in calls.iter().zip(&answers) {
        let reply = app.provider(path, body.clone()).await;
        assert!(reply.replayed(), "{body}");
        assert_eq!(&reply.body, answer, "{body}");
    }
    // A second rollback of a reversed bet succeeds and moves nothing, whether the first
    // was archived with the bet (bet 1), in a later month (bet 2) or is live (bet 4);
    // the open bet of an archived month is settled for good.
    for bet in [&b1, &b2, &b4] {
        let again = app
            .provider("rollback", rollback_body(&a.player, &id("rb"), bet))
            .await;
        assert_ok(&again);
        assert_eq!(app.balance(&a.player).await["cash"], "93.00", "{bet}");
    }
    assert_refused(
        &app.provider("rollback", rollback_body(&a.player, &id("rb"), &b3))
            .await,
        422,
        "bet_already_settled",
    );
    // The live rollbacks name the archived bets, known by their receipts; bet 4's says
    // nothing of its live rollback.
    let live: Vec<(i64, bool)> = db
        .query(
            "SELECT t.seq, r.reversed FROM transactions t \
             JOIN ledger_receipts r ON r.ledger_id = t.reference_id \
             WHERE t.player_id = $1 AND t.kind = 'rollback' ORDER BY t.seq",
            &[&a.player],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(live, vec![(8, false), (9, true), (10, true), (11, false)]);
    assert_ledger_clean(&app).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `wallet check-ledger` and an archive never overlap: the check holds SHARE on
/// `ledger_archives` for its snapshot, and an archive that finds it held gives up after
/// 10 s before doing any work.
#[tokio::test]
async fn an_archive_waits_for_no_check_ledger() {
    let app = TestApp::spawn().await;
    let a = seat(&app, "100", "0").await;
    assert_ok(
        &app.provider(
            "bet",
            bet_body(&a.player, &a.session, &id("r"), &id("b"), "10.00"),
        )
        .await,
    );
    let mut db = app.db().await;
    let two_ago = month(&db, -2).await;
    move_player_to(&mut db, &a.player, two_ago).await;

    let check = db.transaction().await.unwrap();
    check
        .batch_execute("LOCK TABLE ledger_archives IN SHARE MODE")
        .await
        .unwrap();
    let dir = archive_dir();
    let before = month(&app.db().await, -1).await;
    let err = archive(&app, before, &dir).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("check-ledger"), "{message}");
    let partition = format!("transactions_{}", two_ago.format("%Y_%m"));
    let still: Option<String> = check
        .query_one("SELECT to_regclass($1)::text", &[&partition])
        .await
        .unwrap()
        .get(0);
    assert_eq!(still.as_deref(), Some(partition.as_str()));
    check.commit().await.unwrap();

    let archived = archive(&app, before, &dir).await.unwrap();
    assert_eq!(archived.len(), 1);
    assert_ledger_clean(&app).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Receipts kept by the first version of the archive (migration 20261203000002) learn
/// whether their bet was reversed (by an archived rollback of the same provider, player
/// and bet id, or a live one), and nothing the first version reads is gone.
#[tokio::test]
async fn the_first_archives_receipts_learn_which_bets_were_reversed() {
    let url = crate::helpers::fresh_database().await;
    crate::legacy_records::migrate_before(&url, 20261204000001).await;
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let ids: Vec<Uuid> = (1..=5).map(Uuid::from_u128).collect();
    // A bet and its archived rollback; a bet whose rollback is live; a bet of another
    // provider with the same id as the first, and one of another player.
    let receipts: [(&str, &str, &str, &str, Option<&str>); 5] = [
        ("demo", "b1", "p1", "bet", None),
        ("demo", "rb1", "p1", "rollback", Some("b1")),
        ("demo", "b2", "p1", "bet", None),
        ("other", "b1", "p1", "bet", None),
        ("demo", "b1", "p2", "bet", None),
    ];
    for (ledger_id, (provider, tx, player, kind, linked)) in ids.iter().zip(receipts) {
        db.execute(
            "INSERT INTO ledger_receipts (ledger_id, provider_id, transaction_id, player_id, \
                 kind, currency, balance_after, linked_bet) \
             VALUES ($1, $2, $3, $4, $5, 'EUR', '{}', $6)",
            &[ledger_id, &provider, &tx, &player, &kind, &linked],
        )
        .await
        .unwrap();
    }
    // Bet 2's rollback is live: this month's.
    db.execute(
        "INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, amount, \
             currency, split, balance_after, reference_id, reference_transaction_id, seq) \
         VALUES (ledger_id_floor(now()), 'demo', 'rb2', 'p1', 'rollback', 0, 'EUR', '{}', '{}', \
                 $1, 'b2', 1)",
        &[&ids[2]],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO ledger_tombstones VALUES \
             (ledger_key('demo', 'ghost', 'p1'), 'demo', 'ghost', 'p1', $1)",
        &[&Uuid::from_u128(9)],
    )
    .await
    .unwrap();

    let app = TestApp::spawn_on(url, |_| {}).await;
    let db = app.db().await;
    let reversed: Vec<bool> = db
        .query(
            "SELECT reversed FROM ledger_receipts ORDER BY ledger_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(reversed, vec![true, false, true, false, false]);
    // Whatever writes a receipt from here on says whether its bet was reversed.
    let column = db
        .query_one(
            "SELECT is_nullable, column_default FROM information_schema.columns \
             WHERE table_name = 'ledger_receipts' AND column_name = 'reversed'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(column.get::<_, String>(0), "NO");
    assert_eq!(column.get::<_, Option<String>>(1), None);
    // Only added: the tombstones and the receipts' call ids stay for the replicas of
    // the version before, which read them during a rolling deploy.
    let kept: i64 = db
        .query_one(
            "SELECT count(*) FROM ledger_tombstones \
             WHERE key = ledger_key('demo', 'ghost', 'p1') \
               AND (provider_id, reference_transaction_id, player_id) = ('demo', 'ghost', 'p1')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 1);
    let ids: i64 = db
        .query_one(
            "SELECT count(*) FROM ledger_receipts WHERE provider_id IS NOT NULL \
               AND transaction_id IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ids, 5);
}

fn id_of(body: &serde_json::Value) -> String {
    body["transaction_id"].as_str().unwrap().to_owned()
}
