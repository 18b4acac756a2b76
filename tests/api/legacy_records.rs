//! Idempotency records written by earlier versions: first the v1 HTTP body answered
//! (`status_code` and `response`), converted to typed outcomes by migration
//! 20261201000001; then those typed outcomes, whose applied ones migration
//! 20261202000001 replaces by the ledger row they repeat. After the upgrade, resending
//! a call answers byte for byte what the old version answered, and moves no money; an
//! applied record its ledger row does not render stops the upgrade.
//!
//! The database is built the way the old version left it: the migrations before the
//! conversion, then the rows the old code wrote for each call (player, balances,
//! session, round, ledger row, idempotency record with the old fingerprint). The
//! current application then starts on it, which applies the remaining migrations.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::migrate::Migrate;
use sqlx::Connection;
use uuid::Uuid;
use wallet::domain::{
    Amount, Currency, DecimalAmount, ExternalTxId, GameId, PlayerId, ProviderId, RoundId, TxKey,
    WinKind,
};
use wallet::ledger::command::{
    BetCommand, CashCommand, CashDirection, Money, RollbackCommand, SessionRef, WinCommand,
};

use crate::helpers::{fresh_database, Reply, TestApp};

/// The migration that converts the v1 bodies into typed outcomes.
const TYPED_OUTCOME: i64 = 20261201000001;
const PROVIDER: &str = "demo";
const OPERATOR: &str = "@operator";
const GAME: &str = "slots";

/// Applies the embedded migrations older than `version`, as the old version did.
pub(crate) async fn migrate_before(url: &str, version: i64) {
    let migrator = &wallet::db::MIGRATOR;
    assert!(
        migrator.iter().any(|m| m.version == version),
        "migration {version} is not among the embedded migrations"
    );
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to the test database");
    conn.ensure_migrations_table().await.unwrap();
    for m in migrator
        .iter()
        .filter(|m| m.version < version && !m.migration_type.is_down_migration())
    {
        conn.apply(m)
            .await
            .unwrap_or_else(|e| panic!("migration {}: {e}", m.version));
    }
    conn.close().await.unwrap();
}

/// The old version's fingerprint (src/ledger/idempotency.rs before the typed record):
/// SHA-256 over the length-prefixed fields.
fn old_fingerprint(fields: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut hash = Sha256::new();
    for (name, value) in fields {
        hash.update(name.as_bytes());
        match value {
            Some(v) => {
                hash.update([1]);
                hash.update((v.len() as u64).to_be_bytes());
                hash.update(v.as_bytes());
            }
            None => hash.update([0]),
        }
    }
    hash.finalize().to_vec()
}

/// The old canonical text of an amount as the client wrote it: the exact decimal,
/// normalized (`25` for `"25.00"`).
fn old_canonical(amount: &Value) -> String {
    let text = match amount {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Decimal::from_str_exact(&text)
        .unwrap_or_else(|e| panic!("amount {text}: {e}"))
        .normalize()
        .to_string()
}

/// `minor` units written with exactly `scale` decimals (the v1 amount format).
fn decimal(minor: i64, scale: u32) -> String {
    assert!(minor >= 0);
    if scale == 0 {
        return minor.to_string();
    }
    let scale = scale as usize;
    let digits = format!("{minor:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{int}.{frac}")
}

fn tx(text: &str) -> ExternalTxId {
    ExternalTxId::parse(text).unwrap()
}

fn key(provider: &str, transaction: &str) -> TxKey {
    TxKey {
        provider: if provider == OPERATOR {
            ProviderId::operator()
        } else {
            ProviderId::parse(provider).unwrap()
        },
        transaction: tx(transaction),
    }
}

/// A player as the old version kept it, with the balances its calls left.
struct OldPlayer {
    id: String,
    currency: Currency,
    session: Uuid,
    cash: i64,
    bonus: i64,
}

impl OldPlayer {
    /// The v1 balance object: the total and every configured category.
    fn balance(&self) -> Value {
        let scale = self.currency.scale;
        json!({
            "total": decimal(self.cash + self.bonus, scale),
            "cash": decimal(self.cash, scale),
            "bonus": decimal(self.bonus, scale),
        })
    }

    fn money(&self, minor: i64) -> Money {
        Money {
            amount: Amount::from_minor(minor).unwrap(),
            currency: self.currency.clone(),
        }
    }
}

/// One call as a client sent it, before the upgrade and again after it.
#[derive(Debug, Clone)]
enum Call {
    Bet {
        player: String,
        session: Uuid,
        tx: String,
        round: String,
        /// As the client wrote it (a JSON string or number).
        amount: Value,
        money: Money,
    },
    Win {
        player: String,
        tx: String,
        round: String,
        amount: Value,
        money: Money,
        bet: Option<String>,
    },
    Rollback {
        player: String,
        tx: String,
        reference: String,
    },
    Deposit {
        player: String,
        tx: String,
        amount: &'static str,
        category: &'static str,
    },
    Withdrawal {
        player: String,
        tx: String,
        amount: &'static str,
    },
}

impl Call {
    fn provider(&self) -> &'static str {
        match self {
            Call::Deposit { .. } | Call::Withdrawal { .. } => OPERATOR,
            _ => PROVIDER,
        }
    }

    fn tx(&self) -> &str {
        match self {
            Call::Bet { tx, .. }
            | Call::Win { tx, .. }
            | Call::Rollback { tx, .. }
            | Call::Deposit { tx, .. }
            | Call::Withdrawal { tx, .. } => tx,
        }
    }

    /// What the old version stored as the call's fingerprint.
    fn old_fingerprint(&self) -> Vec<u8> {
        match self {
            Call::Bet {
                player,
                round,
                amount,
                money,
                ..
            } => old_fingerprint(&[
                ("call", Some("bet")),
                ("player", Some(player)),
                ("amount", Some(&old_canonical(amount))),
                ("currency", Some(&money.currency.code)),
                ("round", Some(round)),
                ("game", Some(GAME)),
            ]),
            Call::Win {
                player,
                round,
                amount,
                money,
                bet,
                ..
            } => old_fingerprint(&[
                ("call", Some("win")),
                ("player", Some(player)),
                ("amount", Some(&old_canonical(amount))),
                ("currency", Some(&money.currency.code)),
                ("round", Some(round)),
                ("game", Some(GAME)),
                ("kind", Some("win")),
                ("reference", bet.as_deref()),
            ]),
            Call::Rollback {
                player, reference, ..
            } => old_fingerprint(&[
                ("call", Some("rollback")),
                ("player", Some(player)),
                ("reference", Some(reference)),
                ("round", None),
            ]),
            Call::Deposit {
                player,
                amount,
                category,
                ..
            } => old_fingerprint(&[
                ("call", Some("deposit")),
                ("player", Some(player)),
                ("amount", Some(&old_canonical(&json!(amount)))),
                ("category", Some(category)),
            ]),
            Call::Withdrawal { player, amount, .. } => old_fingerprint(&[
                ("call", Some("withdrawal")),
                ("player", Some(player)),
                ("amount", Some(&old_canonical(&json!(amount)))),
            ]),
        }
    }

    /// What the current code computes for the same call.
    fn current_fingerprint(&self) -> Vec<u8> {
        let player_id = |p: &str| PlayerId::parse(p).unwrap();
        match self {
            Call::Bet {
                player,
                session,
                tx,
                round,
                money,
                ..
            } => BetCommand {
                key: key(PROVIDER, tx),
                player: player_id(player),
                session: SessionRef(Some(*session)),
                round: RoundId::parse(round.as_str()).unwrap(),
                game: GameId::parse(GAME).unwrap(),
                stake: money.clone(),
            }
            .fingerprint(),
            Call::Win {
                player,
                tx,
                round,
                money,
                bet,
                ..
            } => WinCommand {
                key: key(PROVIDER, tx),
                player: player_id(player),
                round: RoundId::parse(round.as_str()).unwrap(),
                game: GameId::parse(GAME).unwrap(),
                payout: money.clone(),
                kind: WinKind::Win,
                bet: bet.as_deref().map(self::tx),
                session: None,
                closes_round: false,
            }
            .fingerprint(),
            Call::Rollback {
                player,
                tx,
                reference,
            } => RollbackCommand {
                key: key(PROVIDER, tx),
                player: player_id(player),
                target: self::tx(reference),
                round: None,
            }
            .fingerprint(),
            Call::Deposit {
                player,
                tx,
                amount,
                category,
            } => CashCommand {
                key: key(OPERATOR, tx),
                player: player_id(player),
                amount: DecimalAmount::parse_plain(amount).unwrap(),
                direction: CashDirection::Deposit {
                    category: (*category).to_owned(),
                },
            }
            .fingerprint(),
            Call::Withdrawal { player, tx, amount } => CashCommand {
                key: key(OPERATOR, tx),
                player: player_id(player),
                amount: DecimalAmount::parse_plain(amount).unwrap(),
                direction: CashDirection::Withdrawal,
            }
            .fingerprint(),
        }
    }

    /// Sends the call with the payload the client sent the first time.
    async fn send(&self, app: &TestApp) -> Reply {
        match self {
            Call::Bet {
                player,
                session,
                tx,
                round,
                amount,
                money,
            } => {
                app.provider(
                    "bet",
                    json!({
                        "transaction_id": tx,
                        "player_id": player,
                        "session_id": session.to_string(),
                        "round_id": round,
                        "game_id": GAME,
                        "amount": amount,
                        "currency": money.currency.code,
                    }),
                )
                .await
            }
            Call::Win {
                player,
                tx,
                round,
                amount,
                money,
                bet,
            } => {
                let mut body = json!({
                    "transaction_id": tx,
                    "player_id": player,
                    "round_id": round,
                    "game_id": GAME,
                    "amount": amount,
                    "currency": money.currency.code,
                });
                if let Some(bet) = bet {
                    body["bet_transaction_id"] = json!(bet);
                }
                app.provider("win", body).await
            }
            Call::Rollback {
                player,
                tx,
                reference,
            } => {
                app.provider(
                    "rollback",
                    json!({
                        "transaction_id": tx,
                        "player_id": player,
                        "reference_transaction_id": reference,
                    }),
                )
                .await
            }
            Call::Deposit {
                player,
                tx,
                amount,
                category,
            } => {
                app.operator(
                    Method::POST,
                    &format!("/v1/players/{player}/deposits"),
                    Some(json!({"transaction_id": tx, "amount": amount, "category": category})),
                )
                .await
            }
            Call::Withdrawal { player, tx, amount } => {
                app.operator(
                    Method::POST,
                    &format!("/v1/players/{player}/withdrawals"),
                    Some(json!({"transaction_id": tx, "amount": amount})),
                )
                .await
            }
        }
    }
}

/// A ledger row the old version wrote for an applied call.
struct Row<'a> {
    kind: &'static str,
    amount: i64,
    round: Option<&'a str>,
    session: Option<Uuid>,
    /// The ledger id and the provider id of the bet a win pays or a rollback reverses.
    reference: Option<(Uuid, &'a str)>,
}

/// What the old version answered (and stored) for one call.
struct Answered {
    call: Call,
    status: u16,
    body: Value,
}

/// The database as the old version wrote it.
struct OldWallet {
    db: tokio_postgres::Client,
    answered: Vec<Answered>,
}

impl OldWallet {
    async fn player(&self, id: &str, code: &str, scale: u32) -> OldPlayer {
        self.db
            .execute(
                "INSERT INTO players (player_id, currency) VALUES ($1, $2)",
                &[&id, &code],
            )
            .await
            .unwrap();
        self.db
            .execute(
                "INSERT INTO balances (player_id, category) VALUES ($1, 'cash'), ($1, 'bonus')",
                &[&id],
            )
            .await
            .unwrap();
        let session = Uuid::now_v7();
        self.db
            .execute(
                "INSERT INTO sessions (session_id, player_id, provider_id, game_id, expires_at) \
                 VALUES ($1, $2, $3, $4, now() + interval '1 hour')",
                &[&session, &id, &PROVIDER, &GAME],
            )
            .await
            .unwrap();
        OldPlayer {
            id: id.to_owned(),
            currency: Currency {
                code: code.to_owned(),
                scale,
            },
            session,
            cash: 0,
            bonus: 0,
        }
    }

    async fn round(&self, player: &OldPlayer, round: &str) {
        self.db
            .execute(
                "INSERT INTO rounds (provider_id, round_id, player_id, game_id) \
                 VALUES ($1, $2, $3, $4)",
                &[&PROVIDER, &round, &player.id, &GAME],
            )
            .await
            .unwrap();
    }

    /// Stores the call's idempotency record as the old version did.
    async fn record(&mut self, call: Call, status: u16, body: Value) {
        let fingerprint = call.old_fingerprint();
        assert_eq!(
            fingerprint,
            call.current_fingerprint(),
            "the fingerprint of {call:?} differs between the old and the current version: \
             resends of calls recorded before the upgrade would be idempotency conflicts"
        );
        let status_code = i16::try_from(status).unwrap();
        self.db
            .execute(
                "INSERT INTO idempotency_keys \
                     (provider_id, transaction_id, fingerprint, status_code, response) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &call.provider(),
                    &call.tx(),
                    &fingerprint,
                    &status_code,
                    &body,
                ],
            )
            .await
            .unwrap();
        self.answered.push(Answered { call, status, body });
    }

    /// An applied call: the cash balance moves, the ledger row and the `200` receipt
    /// are stored. Returns the ledger id.
    async fn applied(
        &mut self,
        player: &mut OldPlayer,
        call: impl FnOnce(&OldPlayer) -> Call,
        row: Row<'_>,
    ) -> Uuid {
        let call = call(player);
        let (kind, win_kind) = match row.kind {
            "win" => ("win", Some("win")),
            other => (other, None),
        };
        match kind {
            "bet" | "withdrawal" => player.cash -= row.amount,
            _ => player.cash += row.amount,
        }
        assert!(player.cash >= 0, "the scenario overdraws {}", player.id);
        let id = Uuid::now_v7();
        let split = json!({"cash": row.amount});
        let balance_after = json!({"cash": player.cash, "bonus": player.bonus});
        let game = row.round.map(|_| GAME);
        let (reference_id, reference_tx) = match row.reference {
            Some((id, tx)) => (Some(id), Some(tx)),
            None => (None, None),
        };
        self.db
            .execute(
                "INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, \
                     win_kind, amount, currency, split, balance_after, round_id, game_id, \
                     session_id, reference_id, reference_transaction_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                &[
                    &id,
                    &call.provider(),
                    &call.tx(),
                    &player.id,
                    &kind,
                    &win_kind,
                    &row.amount,
                    &player.currency.code,
                    &split,
                    &balance_after,
                    &row.round,
                    &game,
                    &row.session,
                    &reference_id,
                    &reference_tx,
                ],
            )
            .await
            .unwrap();
        self.db
            .execute(
                "UPDATE balances SET amount = $2 WHERE player_id = $1 AND category = 'cash'",
                &[&player.id, &player.cash],
            )
            .await
            .unwrap();
        let body = json!({
            "transaction_id": call.tx(),
            "wallet_transaction_id": id,
            "balance": player.balance(),
            "currency": player.currency.code,
        });
        self.record(call, 200, body).await;
        id
    }

    /// A call refused by a business rule: only its `422` body is stored.
    async fn refused(&mut self, player: &OldPlayer, call: Call, code: &str, message: &str) {
        let body = json!({"error": {
            "code": code,
            "message": message,
            "balance": player.balance(),
            "currency": player.currency.code,
        }});
        self.record(call, 422, body).await;
    }
}

fn bet(p: &OldPlayer, tx: &str, round: &str, amount: Value, minor: i64) -> Call {
    Call::Bet {
        player: p.id.clone(),
        session: p.session,
        tx: tx.into(),
        round: round.into(),
        amount,
        money: p.money(minor),
    }
}

fn win(p: &OldPlayer, tx: &str, round: &str, amount: Value, minor: i64, bet: Option<&str>) -> Call {
    Call::Win {
        player: p.id.clone(),
        tx: tx.into(),
        round: round.into(),
        amount,
        money: p.money(minor),
        bet: bet.map(str::to_owned),
    }
}

fn deposit(p: &OldPlayer, tx: &str, amount: &'static str, category: &'static str) -> Call {
    Call::Deposit {
        player: p.id.clone(),
        tx: tx.into(),
        amount,
        category,
    }
}

fn withdrawal(p: &OldPlayer, tx: &str, amount: &'static str) -> Call {
    Call::Withdrawal {
        player: p.id.clone(),
        tx: tx.into(),
        amount,
    }
}

/// Writes what the old version stored for a history of EUR, JPY (scale 0) and BTC
/// (scale 8) calls; returns the players with their final balances.
async fn old_history(old: &mut OldWallet) -> Vec<OldPlayer> {
    // EUR: 100.00 cash and 10.00 bonus deposited.
    let mut eur = old.player("legacy-eur", "EUR", 2).await;
    old.applied(
        &mut eur,
        |p| deposit(p, "dep-eur-1", "100.00", "cash"),
        Row {
            kind: "deposit",
            amount: 10_000,
            round: None,
            session: None,
            reference: None,
        },
    )
    .await;
    // The bonus deposit, by hand: `applied` moves cash only.
    eur.bonus = 1_000;
    old.db
        .execute(
            "UPDATE balances SET amount = 1000 WHERE player_id = $1 AND category = 'bonus'",
            &[&eur.id],
        )
        .await
        .unwrap();
    let bonus_id = Uuid::now_v7();
    old.db
        .execute(
            "INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, amount, \
                 currency, split, balance_after) \
             VALUES ($1, $2, 'dep-eur-2', $3, 'deposit', 1000, 'EUR', '{\"bonus\": 1000}', \
                 '{\"cash\": 10000, \"bonus\": 1000}')",
            &[&bonus_id, &OPERATOR, &eur.id],
        )
        .await
        .unwrap();
    let call = deposit(&eur, "dep-eur-2", "10.00", "bonus");
    let body = json!({
        "transaction_id": "dep-eur-2",
        "wallet_transaction_id": bonus_id,
        "balance": eur.balance(),
        "currency": "EUR",
    });
    old.record(call, 200, body).await;

    // A bet applied, and a win applied that names it.
    old.round(&eur, "round-1").await;
    let session = Some(eur.session);
    let b1 = old
        .applied(
            &mut eur,
            |p| bet(p, "bet-1", "round-1", json!("25.00"), 2_500),
            Row {
                kind: "bet",
                amount: 2_500,
                round: Some("round-1"),
                session,
                reference: None,
            },
        )
        .await;
    old.applied(
        &mut eur,
        |p| win(p, "win-1", "round-1", json!("40.00"), 4_000, Some("bet-1")),
        Row {
            kind: "win",
            amount: 4_000,
            round: Some("round-1"),
            session: None,
            reference: Some((b1, "bet-1")),
        },
    )
    .await;
    // A bet the balance (125.00) does not cover.
    old.refused(
        &eur,
        bet(&eur, "bet-2", "round-2", json!("500.00"), 50_000),
        "insufficient_funds",
        "the balance does not cover the stake",
    )
    .await;
    // A bet rolled back, then a win for it.
    old.round(&eur, "round-3").await;
    let b3 = old
        .applied(
            &mut eur,
            |p| bet(p, "bet-3", "round-3", json!("5"), 500),
            Row {
                kind: "bet",
                amount: 500,
                round: Some("round-3"),
                session,
                reference: None,
            },
        )
        .await;
    let rollback = Call::Rollback {
        player: eur.id.clone(),
        tx: "rollback-3".into(),
        reference: "bet-3".into(),
    };
    old.applied(
        &mut eur,
        |_| rollback,
        Row {
            kind: "rollback",
            amount: 500,
            round: Some("round-3"),
            session: None,
            reference: Some((b3, "bet-3")),
        },
    )
    .await;
    old.refused(
        &eur,
        win(
            &eur,
            "win-3",
            "round-3",
            json!("10.00"),
            1_000,
            Some("bet-3"),
        ),
        "transaction_rolled_back",
        "the bet of this win was rolled back",
    )
    .await;
    // 120.00 is within the total (125.00) but not the cash (115.00).
    old.refused(
        &eur,
        withdrawal(&eur, "wd-eur-1", "120.00"),
        "insufficient_funds",
        "not enough cash to withdraw",
    )
    .await;

    // JPY, scale 0; the bet's amount was sent as a JSON number.
    let mut jpy = old.player("legacy-jpy", "JPY", 0).await;
    let row = |kind, amount, round| Row {
        kind,
        amount,
        round,
        session: None,
        reference: None,
    };
    old.applied(
        &mut jpy,
        |p| deposit(p, "dep-jpy-1", "1000", "cash"),
        row("deposit", 1_000, None),
    )
    .await;
    old.round(&jpy, "round-j1").await;
    old.applied(
        &mut jpy,
        |p| bet(p, "bet-j1", "round-j1", json!(300), 300),
        row("bet", 300, Some("round-j1")),
    )
    .await;
    old.refused(
        &jpy,
        bet(&jpy, "bet-j2", "round-j2", json!("5000"), 5_000),
        "insufficient_funds",
        "the balance does not cover the stake",
    )
    .await;

    // BTC, scale 8; the win is correlated by its round.
    let mut btc = old.player("legacy-btc", "BTC", 8).await;
    old.applied(
        &mut btc,
        |p| deposit(p, "dep-btc-1", "0.01", "cash"),
        row("deposit", 1_000_000, None),
    )
    .await;
    old.round(&btc, "round-b1").await;
    let bb1 = old
        .applied(
            &mut btc,
            |p| bet(p, "bet-b1", "round-b1", json!("0.00012345"), 12_345),
            row("bet", 12_345, Some("round-b1")),
        )
        .await;
    old.applied(
        &mut btc,
        |p| win(p, "win-b1", "round-b1", json!("0.00020000"), 20_000, None),
        Row {
            kind: "win",
            amount: 20_000,
            round: Some("round-b1"),
            session: None,
            reference: Some((bb1, "bet-b1")),
        },
    )
    .await;
    old.refused(
        &btc,
        withdrawal(&btc, "wd-btc-1", "1"),
        "insufficient_funds",
        "not enough cash to withdraw",
    )
    .await;
    vec![eur, jpy, btc]
}

async fn count(db: &tokio_postgres::Client, table: &str) -> i64 {
    db.query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_resend_of_a_call_recorded_by_the_previous_version_answers_byte_for_byte_as_it_did() {
    let url = fresh_database().await;
    migrate_before(&url, TYPED_OUTCOME).await;
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut old = OldWallet {
        db,
        answered: Vec::new(),
    };
    let players = old_history(&mut old).await;
    let ledger_rows = count(&old.db, "transactions").await;
    let records = count(&old.db, "idempotency_keys").await;
    assert_eq!(records, i64::try_from(old.answered.len()).unwrap());

    // The scenario's own bodies are the old format (a check of the test itself).
    let eur_refusal = old
        .answered
        .iter()
        .find(|a| a.call.tx() == "bet-2")
        .unwrap();
    assert_eq!(
        serde_json::to_string(&eur_refusal.body).unwrap(),
        r#"{"error":{"balance":{"bonus":"10.00","cash":"115.00","total":"125.00"},"code":"insufficient_funds","currency":"EUR","message":"the balance does not cover the stake"}}"#
    );
    let btc_bet = old
        .answered
        .iter()
        .find(|a| a.call.tx() == "bet-b1")
        .unwrap();
    assert_eq!(
        btc_bet.body["balance"],
        json!({"total": "0.00987655", "cash": "0.00987655", "bonus": "0.00000000"})
    );
    let jpy_bet = old
        .answered
        .iter()
        .find(|a| a.call.tx() == "bet-j1")
        .unwrap();
    assert_eq!(
        jpy_bet.body["balance"],
        json!({"total": "700", "cash": "700", "bonus": "0"})
    );

    // The upgrade: the current application migrates the rest on start.
    let app = TestApp::spawn_on(url, |_| {}).await;
    let db = app.db().await;
    let columns: Vec<String> = db
        .query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = 'idempotency_keys'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        columns.contains(&"refusal".to_owned()) && !columns.contains(&"response".to_owned()),
        "the conversions ran: {columns:?}"
    );
    let balances_before: Vec<Value> = {
        let mut out = Vec::new();
        for p in &players {
            out.push(app.balance(&p.id).await);
        }
        out
    };
    for (p, balance) in players.iter().zip(&balances_before) {
        assert_eq!(*balance, p.balance(), "{} after the upgrade", p.id);
    }

    for answered in &old.answered {
        let reply = answered.call.send(&app).await;
        // What the old server sent: its stored JSONB read into a serde_json::Value
        // (maps with sorted keys), serialized compactly.
        let expected = serde_json::to_string(&answered.body).unwrap();
        let got = String::from_utf8_lossy(&reply.bytes);
        assert_eq!(
            reply.status.as_u16(),
            answered.status,
            "{}: {got}",
            answered.call.tx()
        );
        assert_eq!(got, expected, "{}: body of the replay", answered.call.tx());
        assert!(
            reply.replayed(),
            "{}: idempotent-replayed: {:?}",
            answered.call.tx(),
            reply.headers.get("idempotent-replayed")
        );
    }

    for (p, before) in players.iter().zip(&balances_before) {
        assert_eq!(app.balance(&p.id).await, *before, "{} moved", p.id);
    }
    assert_eq!(
        count(&db, "transactions").await,
        ledger_rows,
        "no money moved"
    );
    assert_eq!(count(&db, "idempotency_keys").await, records);
    assert!(app.discrepancies().await.is_empty());

    // The fingerprint survived the conversion: another payload under a recorded id is
    // a conflict, not a replay.
    let eur = &players[0];
    let other = bet(eur, "bet-1", "round-1", json!("26.00"), 2_600);
    let reply = other.send(&app).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
    assert_eq!(reply.code(), "idempotency_conflict");
}

/// The migration that renders applied outcomes from their ledger rows.
const OUTCOME_FROM_ROW: i64 = 20261202000001;

/// A database at the typed-outcome layout with one deposit of 5.00: its ledger row and
/// its applied record, whose stored balance is `recorded_cash` minor units.
async fn typed_outcome_database(recorded_cash: i64) -> String {
    let url = fresh_database().await;
    migrate_before(&url, OUTCOME_FROM_ROW).await;
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let id = Uuid::now_v7();
    db.batch_execute(
        "INSERT INTO players (player_id, currency, ledger_seq) VALUES ('p-1', 'EUR', 1);
         INSERT INTO balances (player_id, category, amount) VALUES ('p-1', 'cash', 500);",
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, amount, \
             currency, split, balance_after, seq) \
         VALUES ($1, '@operator', 'dep-1', 'p-1', 'deposit', 500, 'EUR', \
             '{\"cash\": 500}', '{\"cash\": 500}', 1)",
        &[&id],
    )
    .await
    .unwrap();
    let outcome = json!({"applied": {
        "wallet_transaction_id": id,
        "balance": {"cash": recorded_cash},
        "currency": "EUR",
        "linked_bet": null,
    }});
    db.execute(
        "INSERT INTO idempotency_keys (provider_id, transaction_id, fingerprint, outcome) \
         VALUES ('@operator', 'dep-1', '\\x00', $1)",
        &[&outcome],
    )
    .await
    .unwrap();
    url
}

#[tokio::test]
async fn the_upgrade_stops_at_an_applied_record_its_ledger_row_does_not_render() {
    let url = typed_outcome_database(499).await;
    let error = wallet::db::migrate(&url).await.unwrap_err();
    assert!(
        format!("{error:#}").contains("the applied record of (@operator, dep-1) does not match"),
        "{error:#}"
    );
    // Nothing changed: the record is still the old one.
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let outcome: Value = db
        .query_one("SELECT outcome FROM idempotency_keys", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(outcome["applied"]["balance"], json!({"cash": 499}));

    // The same database with a record that matches upgrades, and keeps the key.
    let url = typed_outcome_database(500).await;
    wallet::db::migrate(&url).await.unwrap();
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = db
        .query_one(
            "SELECT t.transaction_id, k.refusal IS NULL FROM idempotency_keys k \
             JOIN transactions t ON t.id = k.ledger_id \
             WHERE k.key = call_key('@operator', 'dep-1')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "dep-1");
    assert!(row.get::<_, bool>(1));
}
