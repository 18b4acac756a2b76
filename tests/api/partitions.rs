//! The ledger's monthly partitions: made ahead of their months by every replica, rows
//! routed by the time in their UUIDv7 ids, and calls whose rows lie in different months
//! (a round across a month's end) served as if the ledger were one table.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::{NoContext, Timestamp, Uuid};

use crate::helpers::TestApp;
use crate::provider::{assert_ok, bet_body, id, seat, win_body};

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

fn partition_name(month: NaiveDate) -> String {
    format!("transactions_{:04}_{:02}", month.year(), month.month())
}

async fn partition_names(app: &TestApp) -> Vec<String> {
    let pool = wallet::db::single_connection_pool(&app.database_url, "wallet-test").unwrap();
    let client = wallet::db::acquire(&pool).await.unwrap();
    let client: &tokio_postgres::Client = &client;
    wallet::db::partitions::list(client)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

/// The partition that holds ledger row `id`.
async fn partition_of(db: &tokio_postgres::Client, id: Uuid) -> String {
    db.query_one(
        "SELECT tableoid::regclass::text FROM transactions WHERE id = $1",
        &[&id],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn every_replica_keeps_the_partitions_of_the_months_ahead() {
    let app = TestApp::spawn_with(|s| s.ledger.partitions_ahead_months = 5).await;
    let db = app.db().await;
    // The start's check may still be running: this call waits for its lock.
    app.wallet.ensure_ledger_partitions().await.unwrap();
    let names = partition_names(&app).await;
    for ahead in 0..=5 {
        let name = partition_name(month(&db, ahead).await);
        assert!(names.contains(&name), "{name} is missing from {names:?}");
    }

    // A missing month is made once, by one of two replicas checking at the same time.
    let last = partition_name(month(&db, 5).await);
    db.batch_execute(&format!("DROP TABLE {last}"))
        .await
        .unwrap();
    let other = TestApp::spawn_on(app.database_url.clone(), |s| {
        s.ledger.partitions_ahead_months = 5
    })
    .await;
    let (a, b) = tokio::join!(
        app.wallet.ensure_ledger_partitions(),
        other.wallet.ensure_ledger_partitions()
    );
    let mut created = a.unwrap();
    created.extend(b.unwrap());
    // The second replica's own start may have made it first.
    assert!(
        created.is_empty() || created == [last.clone()],
        "{created:?}"
    );
    assert!(partition_names(&app).await.contains(&last));
    assert_eq!(
        app.wallet.ensure_ledger_partitions().await.unwrap(),
        Vec::<String>::new()
    );
}

/// A UUIDv7 of a moment, as the wallet makes its ledger ids.
fn id_at(at: &str) -> Uuid {
    let at: DateTime<Utc> = at.parse().unwrap();
    let secs = u64::try_from(at.timestamp()).unwrap();
    Uuid::new_v7(Timestamp::from_unix(
        NoContext,
        secs,
        at.timestamp_subsec_nanos(),
    ))
}

#[tokio::test]
async fn a_row_lands_in_the_partition_of_its_ids_month() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100", "0").await;
    assert_ok(&s.bet(&app, &id("r"), &id("b"), "1.00").await);
    let mut db = app.db().await;
    for month in ["2031-01-01", "2031-02-01"] {
        let month: NaiveDate = month.parse().unwrap();
        let made: bool = db
            .query_one("SELECT create_ledger_partition($1)", &[&month])
            .await
            .unwrap()
            .get(0);
        assert!(made);
    }
    let template: Uuid = db
        .query_one("SELECT id FROM transactions LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    let cases = [
        ("2031-01-01T00:00:00Z", Some("transactions_2031_01")),
        ("2031-01-31T23:59:59.999Z", Some("transactions_2031_01")),
        ("2031-02-01T00:00:00Z", Some("transactions_2031_02")),
        ("2031-02-28T23:59:59.999Z", Some("transactions_2031_02")),
        // No partition for that month: the row is refused, nothing is written.
        ("2031-03-01T00:00:00Z", None),
        ("2030-12-31T23:59:59.999Z", None),
    ];
    for (at, want) in cases {
        let id = id_at(at);
        let tx = db.transaction().await.unwrap();
        let landed = tx
            .query_one(
                "INSERT INTO transactions SELECT (jsonb_populate_record(t, \
                     jsonb_build_object('id', $1::uuid, 'transaction_id', 'probe'))).* \
                 FROM transactions t WHERE t.id = $2 \
                 RETURNING tableoid::regclass::text, ledger_id_time(id)",
                &[&id, &template],
            )
            .await;
        match (landed, want) {
            (Ok(row), Some(want)) => {
                assert_eq!(row.get::<_, String>(0), want, "{at}");
                let time: DateTime<Utc> = row.get(1);
                assert_eq!(time, at.parse::<DateTime<Utc>>().unwrap(), "{at}");
            }
            (Err(e), None) => {
                assert_eq!(
                    e.code(),
                    Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION),
                    "{at}: {e}"
                );
            }
            (landed, want) => panic!("{at}: {landed:?}, expected {want:?}"),
        }
        tx.rollback().await.unwrap();
    }
}

#[tokio::test]
async fn a_round_across_the_end_of_a_month_settles_and_replays() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "100", "0").await;
    let (round, bet_tx) = (id("r"), id("b"));
    let bet = bet_body(&s.player, &s.session, &round, &bet_tx, "10.00");
    assert_ok(&app.provider("bet", bet.clone()).await);

    // The bet moves to last month, as if it had been made a moment before the month
    // ended: a new id of last month (the row and its idempotency record together).
    let mut db = app.db().await;
    let last_month = month(&db, -1).await;
    db.query_one("SELECT create_ledger_partition($1)", &[&last_month])
        .await
        .unwrap();
    let this_month = partition_name(month(&db, 0).await);
    let old: Uuid = db
        .query_one(
            "SELECT id FROM transactions WHERE transaction_id = $1",
            &[&bet_tx],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(partition_of(&db, old).await, this_month);
    let end = last_month
        .checked_add_months(chrono::Months::new(1))
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        - chrono::Duration::milliseconds(1);
    let moved = id_at(&end.to_rfc3339());
    let tx = db.transaction().await.unwrap();
    tx.execute(
        "UPDATE transactions SET id = $2 WHERE id = $1",
        &[&old, &moved],
    )
    .await
    .unwrap();
    tx.execute(
        "UPDATE idempotency_keys SET ledger_id = $2 WHERE ledger_id = $1",
        &[&old, &moved],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(partition_of(&db, moved).await, partition_name(last_month));

    // A resend of the bet replays from last month's row.
    let replay = app.provider("bet", bet).await;
    assert_ok(&replay);
    assert!(replay.replayed());
    assert_eq!(replay.body["wallet_transaction_id"], moved.to_string());

    // The win of its round, this month, finds it and closes the round.
    let win_tx = id("w");
    let win = app
        .provider("win", win_body(&s.player, &round, &win_tx, "25.00"))
        .await;
    assert_ok(&win);
    let row = db
        .query_one(
            "SELECT id, reference_id FROM transactions WHERE transaction_id = $1",
            &[&win_tx],
        )
        .await
        .unwrap();
    let (win_id, reference): (Uuid, Option<Uuid>) = (row.get(0), row.get(1));
    assert_eq!(reference, Some(moved), "the win is linked to the moved bet");
    assert_eq!(partition_of(&db, win_id).await, this_month);
    assert_eq!(app.balance(&s.player).await["cash"], "115.00");

    // The bet is settled across the month's end: a rollback of it is refused.
    let rollback = app
        .provider(
            "rollback",
            crate::provider::rollback_body(&s.player, &id("rb"), &bet_tx),
        )
        .await;
    crate::provider::assert_refused(&rollback, 422, "bet_already_settled");
    assert_eq!(app.balance(&s.player).await["cash"], "115.00");
    assert!(app.discrepancies().await.is_empty());
    let pool = wallet::db::single_connection_pool(&app.database_url, "wallet-test").unwrap();
    let client = wallet::db::acquire(&pool).await.unwrap();
    let violations = wallet::db::health::rule_violations(&client).await.unwrap();
    assert!(violations.is_empty(), "{violations:#?}");
}
