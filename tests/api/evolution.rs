//! The Evolution One Wallet adapter (`../shared/protocols.md` 2) from the outside: the
//! `authToken`, the processing order, every status of its table, derived ids and
//! duplicates, cancels, amounts, concurrency, and one money core shared with v1.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};
use crate::op_support::{expire, recorded_refusal, set_blocked};
use crate::provider::{assert_ok, id};

const TOKEN: &str = "evolution-demo-token";

struct Evo<'a> {
    app: &'a TestApp,
    provider: &'static str,
    token: &'static str,
}

impl<'a> Evo<'a> {
    fn new(app: &'a TestApp) -> Self {
        Evo {
            app,
            provider: "evolution-demo",
            token: TOKEN,
        }
    }

    async fn raw(&self, path: &str, query: &str, body: Vec<u8>) -> Reply {
        let response = self
            .app
            .http
            .post(format!(
                "{}/evolution/{}/{path}{query}",
                self.app.base, self.provider
            ))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the wallet answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            bytes,
        }
    }

    async fn call(&self, path: &str, body: Value) -> Reply {
        let query = format!("?authToken={}", self.token);
        let reply = self
            .raw(path, &query, serde_json::to_vec(&body).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body["uuid"], body["uuid"]);
        reply
    }
}

fn status(reply: &Reply) -> &str {
    reply.body["status"].as_str().unwrap_or("")
}

#[track_caller]
fn assert_status(reply: &Reply, expected: &str) {
    assert_eq!(status(reply), expected, "{:?}", reply.body);
}

/// The balance exactly as written (`990.00`), not just its value.
#[track_caller]
fn assert_balance(reply: &Reply, expected: &str) {
    let text = String::from_utf8(reply.bytes.to_vec()).unwrap();
    assert!(text.contains(&format!("\"balance\":{expected},")), "{text}");
}

struct Seat {
    player: String,
    sid: String,
    currency: &'static str,
}

async fn seat(app: &TestApp, currency: &'static str, cash: &str) -> Seat {
    let player = app.player(currency).await;
    if cash != "0" {
        app.deposit(&player, cash, "cash").await;
    }
    let sid = app.session(&player, "evolution-demo", "lobby").await;
    Seat {
        player,
        sid,
        currency,
    }
}

impl Seat {
    fn check(&self) -> Value {
        json!({"sid": self.sid, "userId": self.player, "channel": {"type": "P"}, "uuid": id("u")})
    }

    fn balance(&self) -> Value {
        json!({"sid": self.sid, "userId": self.player, "currency": self.currency, "game": null, "uuid": id("u")})
    }

    fn money(&self, tx: &str, ref_id: &str, amount: &str) -> Value {
        let body = format!(
            r#"{{"sid":"{}","userId":"{}","currency":"{}",
            "game":{{"id":"rnd-7kfw","type":"blackjack","details":{{"table":{{"id":"bj-table-01","vid":"bj-v-01"}}}}}},
            "transaction":{{"id":"{tx}","refId":"{ref_id}","amount":{amount}}},"uuid":"{}"}}"#,
            self.sid,
            self.player,
            self.currency,
            id("u")
        );
        serde_json::from_str(&body).unwrap()
    }

    fn promo(&self, promo_id: &str, kind: &str, amount: &str) -> Value {
        let body = format!(
            r#"{{"sid":"{}","userId":"{}","currency":"{}","game":null,
            "promoTransaction":{{"type":"{kind}","id":"{promo_id}","amount":{amount}}},"uuid":"{}"}}"#,
            self.sid,
            self.player,
            self.currency,
            id("u")
        );
        serde_json::from_str(&body).unwrap()
    }
}

/// `body` with `extra`'s fields set (a `null` removes one).
fn with(mut body: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

async fn total(app: &TestApp, player: &str) -> String {
    app.balance(player).await["total"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Posts text exactly as written (numbers serde_json would rewrite).
async fn text(evo: &Evo<'_>, path: &str, body: String) -> Reply {
    evo.raw(
        path,
        &format!("?authToken={}", evo.token),
        body.into_bytes(),
    )
    .await
}

#[tokio::test]
async fn the_example_exchange_of_section_2_6() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "1000.00").await;
    let check = s.check();
    let reply = evo.call("check", check.clone()).await;
    assert_eq!(
        reply.body,
        json!({"status": "OK", "sid": s.sid, "uuid": check["uuid"]})
    );
    let reply = evo.call("balance", s.balance()).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "1000.00");
    assert!(String::from_utf8_lossy(&reply.bytes).contains("\"bonus\":0.00"));
    let reply = evo
        .call("debit", s.money("tx-9Aot", "ref-1459", "10.000000"))
        .await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "990.00");
    let reply = evo
        .call("credit", s.money("tx-K4FO", "ref-1459", "25.000000"))
        .await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "1015.00");
    let reply = evo
        .call("cancel", s.money("tx-9Aot", "ref-1459", "10.000000"))
        .await;
    assert_status(&reply, "BET_ALREADY_SETTLED");
    assert_balance(&reply, "1015.00");
    let reply = evo
        .call(
            "promo_payout",
            s.promo("promo-77", "JackpotWin", "5.000000"),
        )
        .await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "1020.00");
    let reply = evo
        .raw(
            "debit",
            "?authToken=wrong",
            serde_json::to_vec(&s.money("tx-2", "ref-2", "1")).unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_status(&reply, "INVALID_TOKEN_ID");
    assert_eq!(reply.body["balance"], json!(0));
    assert_eq!(reply.body["bonus"], json!(0));
    // The movements under their derived ids, with the provider that made them.
    let bet = format!("debit:{}:ref-1459", s.player);
    let item = app
        .viewer(&format!("/v1/providers/evolution-demo/transactions/{bet}"))
        .await;
    assert_eq!(item.status, StatusCode::OK, "{:?}", item.body);
    assert_eq!(item.body["kind"], "bet");
    assert_eq!(item.body["amount"], "10.00");
    assert_eq!(item.body["round_id"], "rnd-7kfw:ref-1459");
    assert_eq!(item.body["game_id"], "bj-table-01");
    assert_eq!(item.body["provider_id"], "evolution-demo");
    let jackpot = format!("promo:{}:promo-77", s.player);
    let item = app
        .viewer(&format!(
            "/v1/providers/evolution-demo/transactions/{jackpot}"
        ))
        .await;
    assert_eq!(item.body["win_kind"], "jackpot");
    assert_eq!(total(&app, &s.player).await, "1020.00");
}

#[tokio::test]
async fn the_auth_token_routing_and_the_contracts_refusals() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let body = serde_json::to_vec(&s.money("tx-1", "ref-1", "1.00")).unwrap();
    for query in [
        "",
        "?authToken=",
        "?authToken=evolution-demo2-token",
        "?authtoken=evolution-demo-token",
    ] {
        let reply = evo.raw("debit", query, body.clone()).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_status(&reply, "INVALID_TOKEN_ID");
    }
    // The token is checked before the body.
    let reply = evo.raw("debit", "", b"not json".to_vec()).await;
    assert_status(&reply, "INVALID_TOKEN_ID");
    assert_eq!(total(&app, &s.player).await, "10.00");
    for provider in ["nobody", "demo", "hub88-demo"] {
        let reply = app
            .bearer(
                None,
                Method::POST,
                &format!("/evolution/{provider}/balance?authToken={TOKEN}"),
                Some(s.balance()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{provider}");
        assert_eq!(reply.code(), "not_found");
    }
    let reply = app
        .bearer(None, Method::GET, "/evolution/evolution-demo/balance", None)
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    let reply = app
        .provider_as(
            "evolution-demo",
            "",
            "balance",
            json!({"player_id": s.player}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // The first success of all, now with the right token.
    assert_status(
        &evo.call("debit", s.money("tx-1", "ref-1", "1.00")).await,
        "OK",
    );
    assert_eq!(total(&app, &s.player).await, "9.00");
}

#[tokio::test]
async fn bad_parameters_unknown_users_and_sids_in_the_protocols_order() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let other = seat(&app, "EUR", "10.00").await;
    let demo2_sid = app.session(&s.player, "evolution-demo2", "lobby").await;
    let debit = || s.money(&id("tx"), &id("ref"), "1.00");
    let cases = [
        (json!({"sid": null}), "INVALID_PARAMETER", false),
        (json!({"userId": 7}), "INVALID_PARAMETER", false),
        (json!({"currency": null}), "INVALID_PARAMETER", false),
        (
            json!({"transaction": {"id": "t", "refId": "r"}}),
            "INVALID_PARAMETER",
            false,
        ),
        (
            json!({"transaction": {"id": "t", "refId": "r", "amount": "1.00"}}),
            "INVALID_PARAMETER",
            false,
        ),
        (
            json!({"transaction": {"id": "t", "refId": "r", "amount": -1}}),
            "INVALID_PARAMETER",
            false,
        ),
        (json!({"game": {"id": "g"}}), "INVALID_PARAMETER", false),
        (json!({"userId": "nobody"}), "INVALID_PARAMETER", false),
        (json!({"sid": "not-a-sid"}), "INVALID_SID", true),
        (json!({"sid": other.sid}), "INVALID_SID", true),
        (json!({"sid": demo2_sid}), "INVALID_SID", true),
        (json!({"currency": "USD"}), "INVALID_PARAMETER", true),
        (json!({"currency": "schmeckles"}), "INVALID_PARAMETER", true),
        // The sid before the currency; the user before the sid.
        (
            json!({"sid": other.sid, "currency": "USD"}),
            "INVALID_SID",
            true,
        ),
        (
            json!({"userId": "nobody", "sid": "x"}),
            "INVALID_PARAMETER",
            false,
        ),
    ];
    for (change, expected, knows_player) in cases {
        let reply = evo.call("debit", with(debit(), change.clone())).await;
        assert_status(&reply, expected);
        // Balances: 0 before the player is resolved, the player's from the sid on.
        if knows_player {
            assert_balance(&reply, "10.00");
        } else {
            assert_eq!(reply.body["balance"], json!(0), "{change}");
        }
    }
    // More decimals than EUR has: refused, not rounded.
    let body = serde_json::to_string(&debit())
        .unwrap()
        .replace("\"amount\":1.0", "\"amount\":1.556179");
    let reply = text(&evo, "debit", body).await;
    assert_status(&reply, "INVALID_PARAMETER");
    let reply = evo
        .call("check", with(s.check(), json!({"sid": other.sid})))
        .await;
    assert_status(&reply, "INVALID_SID");
    let reply = evo
        .call("balance", with(s.balance(), json!({"userId": "nobody"})))
        .await;
    assert_status(&reply, "INVALID_PARAMETER");
    let reply = text(&evo, "balance", "[1]".into()).await;
    assert_status(&reply, "INVALID_PARAMETER");
    assert_eq!(total(&app, &s.player).await, "10.00");
}

#[tokio::test]
async fn funds_blocks_and_expired_sids_get_their_statuses() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let reply = evo.call("debit", s.money("tx-1", "ref-big", "10.01")).await;
    assert_status(&reply, "INSUFFICIENT_FUNDS");
    assert_balance(&reply, "10.00");
    assert_status(
        &evo.call("debit", s.money("tx-2", "ref-a", "2.00")).await,
        "OK",
    );
    assert_status(
        &evo.call("debit", s.money("tx-3", "ref-b", "2.00")).await,
        "OK",
    );
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    assert_status(&evo.call("check", s.check()).await, "ACCOUNT_LOCKED");
    assert_status(&evo.call("balance", s.balance()).await, "OK");
    let reply = evo.call("debit", s.money("tx-4", "ref-c", "1.00")).await;
    assert_status(&reply, "ACCOUNT_LOCKED");
    assert_balance(&reply, "6.00");
    // Settlements of a blocked player apply.
    let reply = evo.call("credit", s.money("tx-5", "ref-a", "3.00")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "9.00");
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "active"})),
    )
    .await;
    let reply = app
        .operator(Method::DELETE, &format!("/v1/sessions/{}", s.sid), None)
        .await;
    assert!(reply.status.is_success());
    for path in ["check", "balance"] {
        let body = if path == "check" {
            s.check()
        } else {
            s.balance()
        };
        assert_status(&evo.call(path, body).await, "INVALID_SID");
    }
    assert_status(
        &evo.call("debit", s.money("tx-6", "ref-d", "1.00")).await,
        "INVALID_SID",
    );
    // Settlements on an expired sid apply (a craps bet settled hours later).
    let reply = evo.call("cancel", s.money("tx-3", "ref-b", "2.00")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "11.00");
    let reply = evo
        .call(
            "promo_payout",
            s.promo("p-1", "FreeRoundPlayableSpent", "1"),
        )
        .await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "12.00");
    // Expired and blocked: the expiry is checked first.
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    assert_status(
        &evo.call("debit", s.money("tx-7", "ref-e", "1.00")).await,
        "INVALID_SID",
    );
    assert_eq!(total(&app, &s.player).await, "12.00");
}

#[tokio::test]
async fn duplicates_answer_the_specific_codes_and_move_money_once() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    assert_status(
        &evo.call("debit", s.money("tx-1", "ref-1", "10.00")).await,
        "OK",
    );
    assert_status(
        &evo.call("debit", s.money("tx-2", "ref-2", "5.00")).await,
        "OK",
    );
    // Same refId, same content, another transaction id: already there, current balance.
    let reply = evo
        .call("debit", s.money("tx-1b", "ref-1", "10.000000"))
        .await;
    assert_status(&reply, "BET_ALREADY_EXIST");
    assert_balance(&reply, "85.00");
    assert_eq!(reply.headers["idempotent-replayed"], "true");
    let reply = evo.call("debit", s.money("tx-1", "ref-1", "11.00")).await;
    assert_status(&reply, "INVALID_PARAMETER");
    assert_status(
        &evo.call("credit", s.money("tx-3", "ref-1", "20.00")).await,
        "OK",
    );
    for (tx, amount) in [("tx-3", "20.00"), ("tx-4", "30.00")] {
        let reply = evo.call("credit", s.money(tx, "ref-1", amount)).await;
        assert_status(&reply, "BET_ALREADY_SETTLED");
        assert_balance(&reply, "105.00");
    }
    assert_status(
        &evo.call(
            "promo_payout",
            s.promo("p-1", "RealTimeMonetaryReward", "1.00"),
        )
        .await,
        "OK",
    );
    for amount in ["1.00", "2.00"] {
        let reply = evo
            .call(
                "promo_payout",
                s.promo("p-1", "RealTimeMonetaryReward", amount),
            )
            .await;
        assert_status(&reply, "BET_ALREADY_SETTLED");
    }
    // A refusal is replayed as the same refusal.
    let reply = evo.call("debit", s.money("tx-5", "ref-5", "500.00")).await;
    assert_status(&reply, "INSUFFICIENT_FUNDS");
    assert_status(
        &evo.call("debit", s.money("tx-5", "ref-5", "500.00")).await,
        "INSUFFICIENT_FUNDS",
    );
    // Another player's refId is another bet.
    let other = seat(&app, "EUR", "100.00").await;
    assert_status(
        &evo.call("debit", other.money("tx-1", "ref-1", "10.00"))
            .await,
        "OK",
    );
    assert_eq!(total(&app, &s.player).await, "106.00");
    assert_eq!(total(&app, &other.player).await, "90.00");
}

#[tokio::test]
async fn cancels_before_the_debit_after_the_credit_and_twice() {
    let app = TestApp::spawn_with(|settings| settings.ledger.correlation_wait_ms = 200).await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    // Before the debit: remembered, and the late debit is refused.
    let reply = evo.call("cancel", s.money("tx-1", "ref-1", "10.00")).await;
    assert_status(&reply, "BET_DOES_NOT_EXIST");
    assert_balance(&reply, "100.00");
    assert_status(
        &evo.call("cancel", s.money("tx-1", "ref-1", "10.00")).await,
        "BET_DOES_NOT_EXIST",
    );
    let reply = evo.call("debit", s.money("tx-1", "ref-1", "10.00")).await;
    assert_status(&reply, "FINAL_ERROR_ACTION_FAILED");
    assert_status(
        &evo.call("credit", s.money("tx-2", "ref-1", "10.00")).await,
        "BET_ALREADY_SETTLED",
    );
    // Twice, the second with another transaction id.
    assert_status(
        &evo.call("debit", s.money("tx-3", "ref-3", "10.00")).await,
        "OK",
    );
    let reply = evo.call("cancel", s.money("tx-3", "ref-3", "10.00")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "100.00");
    assert_status(
        &evo.call("cancel", s.money("tx-3x", "ref-3", "10.00")).await,
        "BET_ALREADY_SETTLED",
    );
    assert_status(
        &evo.call("credit", s.money("tx-4", "ref-3", "50.00")).await,
        "BET_ALREADY_SETTLED",
    );
    // Other bets of the same game round stay; a credit of zero is a loss.
    assert_status(
        &evo.call("debit", s.money("tx-5", "ref-5", "10.00")).await,
        "OK",
    );
    assert_status(
        &evo.call("debit", s.money("tx-6", "ref-6", "10.00")).await,
        "OK",
    );
    assert_status(
        &evo.call("cancel", s.money("tx-5", "ref-5", "10.00")).await,
        "OK",
    );
    let reply = evo.call("credit", s.money("tx-7", "ref-6", "0")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "90.00");
    // After the credit: nothing moves.
    let reply = evo.call("cancel", s.money("tx-6", "ref-6", "10.00")).await;
    assert_status(&reply, "BET_ALREADY_SETTLED");
    assert_balance(&reply, "90.00");
    // A credit without its debit: not found, not recorded, fine once the debit exists.
    let reply = evo.call("credit", s.money("tx-8", "ref-8", "5.00")).await;
    assert_status(&reply, "BET_DOES_NOT_EXIST");
    assert_status(
        &evo.call("debit", s.money("tx-9", "ref-8", "5.00")).await,
        "OK",
    );
    assert_status(
        &evo.call("credit", s.money("tx-8", "ref-8", "5.00")).await,
        "OK",
    );
    assert_eq!(total(&app, &s.player).await, "90.00");
}

#[tokio::test]
async fn amounts_are_exact_at_each_currencys_scale() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let jpy = seat(&app, "JPY", "1000").await;
    let reply = evo.call("balance", jpy.balance()).await;
    assert_balance(&reply, "1000");
    let reply = evo.call("debit", jpy.money("t-1", "r-1", "1.000000")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "999");
    assert_status(
        &evo.call("debit", jpy.money("t-2", "r-2", "1.5")).await,
        "INVALID_PARAMETER",
    );
    let usdt = seat(&app, "USDT", "1").await;
    let reply = evo
        .call("debit", usdt.money("t-1", "r-1", "0.000001"))
        .await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "0.999999");
    assert_status(
        &evo.call("debit", usdt.money("t-2", "r-2", "0.0000001"))
            .await,
        "INVALID_PARAMETER",
    );
    let eur = seat(&app, "EUR", "10000000000000.00").await;
    let reply = evo.call("debit", eur.money("t-1", "r-1", "1e1")).await;
    assert_balance(&reply, "9999999999990.00");
    // The ledger's largest amount, and one cent more.
    assert_status(
        &evo.call("debit", eur.money("t-2", "r-2", "10000000000000.01"))
            .await,
        "INVALID_PARAMETER",
    );
    assert_status(
        &evo.call("debit", eur.money("t-3", "r-3", "9999999999990.00"))
            .await,
        "OK",
    );
    assert_eq!(total(&app, &eur.player).await, "0.00");
}

#[tokio::test]
async fn of_100_simultaneous_debits_with_funds_for_37_exactly_37_succeed() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "37.00").await;
    let calls = (0..100).map(|_| {
        let body = s.money(&id("tx"), &id("ref"), "1.00");
        let evo = &evo;
        async move { evo.call("debit", body).await }
    });
    let replies = futures::future::join_all(calls).await;
    let ok = replies.iter().filter(|r| status(r) == "OK").count();
    let poor = replies
        .iter()
        .filter(|r| status(r) == "INSUFFICIENT_FUNDS")
        .count();
    assert_eq!((ok, poor), (37, 63));
    assert_eq!(total(&app, &s.player).await, "0.00");
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn fifty_concurrent_copies_of_one_debit_are_applied_once() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let body = s.money("tx-1", "ref-1", "15.00");
    let replies = futures::future::join_all((0..50).map(|_| evo.call("debit", body.clone()))).await;
    let ok = replies.iter().filter(|r| status(r) == "OK").count();
    let again = replies
        .iter()
        .filter(|r| status(r) == "BET_ALREADY_EXIST")
        .count();
    assert_eq!((ok, again), (1, 49));
    assert_eq!(total(&app, &s.player).await, "85.00");
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn an_evolution_debit_and_a_v1_bet_share_one_balance() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "20.00").await;
    let v1_sid = app.session(&s.player, "demo", "slots").await;
    let reply = app
        .provider(
            "bet",
            json!({"transaction_id": id("v1"), "player_id": s.player, "session_id": v1_sid,
                "round_id": "r-1", "game_id": "slots", "amount": "15.00", "currency": "EUR"}),
        )
        .await;
    assert_ok(&reply);
    let reply = evo.call("debit", s.money("tx-1", "ref-1", "6.00")).await;
    assert_status(&reply, "INSUFFICIENT_FUNDS");
    assert_balance(&reply, "5.00");
    assert_status(
        &evo.call("debit", s.money("tx-2", "ref-2", "5.00")).await,
        "OK",
    );
    let page = app
        .viewer(&format!("/v1/players/{}/transactions", s.player))
        .await;
    let ids: Vec<(&str, &str)> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["transaction_id"].as_str().unwrap(),
                i["provider_id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let derived = format!("debit:{}:ref-2", s.player);
    assert!(
        ids.contains(&(derived.as_str(), "evolution-demo")),
        "{ids:?}"
    );
    assert_eq!(total(&app, &s.player).await, "0.00");
}

// ---------------------------------------------------------------- review fixes

/// 2^62 minor units: the balance limit of a category.
const BALANCE_LIMIT_MINOR: i64 = 1 << 62;

/// Sets the player's cash to `minor` behind the ledger's back (a balance at its limit
/// would take thousands of maximal deposits).
async fn set_cash(app: &TestApp, player: &str, minor: i64) {
    let db = app.db().await;
    let n = db
        .execute(
            "UPDATE balances SET amount = $2 WHERE player_id = $1 AND category = 'cash'",
            &[&player, &minor],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_replayed_refusal_keeps_its_status_after_the_sid_expires() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    let debit = s.money("tx-1", "ref-1", "1.00");
    let first = evo.call("debit", debit.clone()).await;
    assert_status(&first, "ACCOUNT_LOCKED");
    let reply = app
        .operator(Method::DELETE, &format!("/v1/sessions/{}", s.sid), None)
        .await;
    assert!(reply.status.is_success());
    // The same debit again: the first answer, not the expiry found since (2.8).
    let again = evo.call("debit", debit).await;
    assert_status(&again, "ACCOUNT_LOCKED");
    assert!(again.replayed(), "{:?}", again.headers);
    assert_balance(&again, "10.00");
    assert_eq!(total(&app, &s.player).await, "10.00");
}

#[tokio::test]
async fn an_expired_sid_of_a_blocked_player_is_invalid_sid_first_and_on_every_resend() {
    // 2.7: the expiry (step 9) comes before the block (step 10); the refusal is
    // recorded, so a resend answers the same refusal (2.8).
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    set_blocked(&app, &s.player, true).await;
    expire(&app, &s.sid).await;
    let debit = s.money("tx-1", "ref-1", "1.00");
    let first = evo.call("debit", debit.clone()).await;
    assert_status(&first, "INVALID_SID");
    assert!(!first.replayed());
    assert_balance(&first, "10.00");
    let derived = format!("debit:{}:ref-1", s.player);
    assert_eq!(
        recorded_refusal(&app, "evolution-demo", &derived)
            .await
            .as_deref(),
        Some("session_expired")
    );
    let again = evo.call("debit", debit.clone()).await;
    assert_status(&again, "INVALID_SID");
    assert!(again.replayed(), "{:?}", again.headers);
    assert_balance(&again, "10.00");
    set_blocked(&app, &s.player, false).await;
    let again = evo.call("debit", debit).await;
    assert_status(&again, "INVALID_SID");
    assert!(again.replayed());
    assert_eq!(total(&app, &s.player).await, "10.00");
}

#[tokio::test]
async fn a_derived_id_past_the_id_limit_is_refused_with_the_players_balance() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let long = "r".repeat(125);
    // `debit:<user>:<refId>` is longer than 128 bytes although the refId is not.
    for path in ["debit", "credit", "cancel"] {
        let reply = evo.call(path, s.money("tx-1", &long, "1.00")).await;
        assert_status(&reply, "INVALID_PARAMETER");
        assert_balance(&reply, "10.00");
    }
    let reply = evo
        .call("promo_payout", s.promo(&long, "JackpotWin", "1.00"))
        .await;
    assert_status(&reply, "INVALID_PARAMETER");
    assert_balance(&reply, "10.00");
    // A game round too long for a round id.
    let mut debit = s.money("tx-2", "ref-2", "1.00");
    debit["game"]["id"] = json!("g".repeat(128));
    let reply = evo.call("debit", debit).await;
    assert_status(&reply, "INVALID_PARAMETER");
    assert_balance(&reply, "10.00");
    assert_eq!(total(&app, &s.player).await, "10.00");
}

#[tokio::test]
async fn check_answers_invalid_token_id_and_invalid_parameter() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let reply = evo
        .raw(
            "check",
            "?authToken=wrong",
            serde_json::to_vec(&s.check()).unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_status(&reply, "INVALID_TOKEN_ID");
    // check's own shape, never a balance.
    assert!(reply.body.get("balance").is_none(), "{:?}", reply.body);
    let unknown = with(s.check(), json!({"userId": "nobody-at-all"}));
    let reply = evo.call("check", unknown).await;
    assert_status(&reply, "INVALID_PARAMETER");
    assert!(reply.body.get("balance").is_none(), "{:?}", reply.body);
    let no_sid = with(s.check(), json!({"sid": null}));
    assert_status(&evo.call("check", no_sid).await, "INVALID_PARAMETER");
    assert_status(&evo.call("check", s.check()).await, "OK");
}

#[tokio::test]
async fn an_unreachable_database_is_temporary_error_and_moves_nothing() {
    let app = TestApp::spawn_with(|s| {
        s.database.pool_max_size = 1;
        s.database.acquire_timeout_ms = 200;
    })
    .await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    // The only connection is taken: the wallet cannot reach its database.
    let held = wallet::db::acquire(app.wallet.pool()).await.unwrap();
    for (path, body) in [
        ("balance", s.balance()),
        ("debit", s.money("tx-1", "ref-1", "1.00")),
    ] {
        let reply = evo.call(path, body).await;
        assert_status(&reply, "TEMPORARY_ERROR");
    }
    drop(held);
    // Nothing was recorded: the same debit is applied once the database is back.
    let reply = evo.call("debit", s.money("tx-1", "ref-1", "1.00")).await;
    assert_status(&reply, "OK");
    assert!(!reply.replayed());
    assert_balance(&reply, "9.00");
}

#[tokio::test]
async fn a_payout_past_the_balance_limit_is_unknown_error_and_moves_nothing() {
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    set_cash(&app, &s.player, BALANCE_LIMIT_MINOR).await;
    let before = total(&app, &s.player).await;
    let reply = evo
        .call("promo_payout", s.promo("p-1", "JackpotWin", "0.01"))
        .await;
    assert_status(&reply, "UNKNOWN_ERROR");
    assert_eq!(total(&app, &s.player).await, before);
}

// ---------------------------------------------------------------- more rules of section 2

async fn item(app: &TestApp, transaction: &str) -> Reply {
    app.viewer(&format!(
        "/v1/providers/evolution-demo/transactions/{transaction}"
    ))
    .await
}

/// The bonus exactly as written (`3.00`).
#[track_caller]
fn assert_bonus(reply: &Reply, expected: &str) {
    let text = String::from_utf8(reply.bytes.to_vec()).unwrap();
    assert!(text.contains(&format!("\"bonus\":{expected},")), "{text}");
}

#[tokio::test]
async fn a_credit_on_an_expired_sid_is_applied() {
    // 0.2, 2.8 and 2.9: settlements may come hours after the sid expired.
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    assert_status(
        &evo.call("debit", s.money("tx-1", "ref-1", "2.00")).await,
        "OK",
    );
    expire(&app, &s.sid).await;
    assert_status(
        &evo.call("debit", s.money("tx-2", "ref-2", "1.00")).await,
        "INVALID_SID",
    );
    let reply = evo.call("credit", s.money("tx-3", "ref-1", "5.00")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "13.00");
    let credit = format!("credit:{}:ref-1", s.player);
    let listed = item(&app, &credit).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body["kind"], "win");
    assert_eq!(listed.body["amount"], "5.00");
    assert_eq!(
        listed.body["reference_transaction_id"],
        json!(format!("debit:{}:ref-1", s.player))
    );
    // Again on the expired sid: settled once.
    let reply = evo.call("credit", s.money("tx-3", "ref-1", "5.00")).await;
    assert_status(&reply, "BET_ALREADY_SETTLED");
    assert_balance(&reply, "13.00");
    assert_eq!(total(&app, &s.player).await, "13.00");
}

#[tokio::test]
async fn a_cancel_and_a_promo_payout_for_a_blocked_player_are_applied() {
    // 0.2 and 2.8: a blocked player's debits are refused; cancels and promo payouts
    // are applied.
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    assert_status(
        &evo.call("debit", s.money("tx-1", "ref-1", "2.00")).await,
        "OK",
    );
    set_blocked(&app, &s.player, true).await;
    assert_status(
        &evo.call("debit", s.money("tx-2", "ref-2", "1.00")).await,
        "ACCOUNT_LOCKED",
    );
    let reply = evo.call("cancel", s.money("tx-1", "ref-1", "2.00")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "10.00");
    let cancel = format!("cancel:{}:ref-1", s.player);
    let listed = item(&app, &cancel).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body["kind"], "rollback");
    assert_eq!(listed.body["amount"], "2.00");
    let reply = evo
        .call(
            "promo_payout",
            s.promo("p-1", "RewardGamePlayableSpent", "1.50"),
        )
        .await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "11.50");
    let promo = format!("promo:{}:p-1", s.player);
    let listed = item(&app, &promo).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body["kind"], "win");
    assert_eq!(listed.body["win_kind"], "promo");
    assert_eq!(total(&app, &s.player).await, "11.50");
}

#[tokio::test]
async fn the_token_the_currency_the_amount_then_the_derived_id_then_the_expiry() {
    // 2.7 steps 2, 6, 7, 8 and 9, pairwise.
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    // A wrong authToken (step 2) before an unreadable or wrong body (3, 4, 7).
    for body in [
        "not json".to_owned(),
        "{\"sid\":null}".to_owned(),
        serde_json::to_string(&with(
            s.money("tx-0", "ref-0", "1.00"),
            json!({"userId": "nobody", "currency": "USD"}),
        ))
        .unwrap(),
    ] {
        let reply = evo.raw("debit", "?authToken=wrong", body.into()).await;
        assert_status(&reply, "INVALID_TOKEN_ID");
        assert_eq!(reply.body["balance"], json!(0));
        assert_eq!(reply.body["bonus"], json!(0));
    }
    // The currency (step 6) and an inexact amount (step 7): refused, with the player's
    // balance, and not recorded (the same refId goes through once corrected).
    let inexact = |tx: &str, ref_id: &str, currency: &str| {
        let body = serde_json::to_string(&with(
            s.money(tx, ref_id, "1.00"),
            json!({"currency": currency}),
        ))
        .unwrap()
        .replace("\"amount\":1.0", "\"amount\":1.556");
        assert!(body.contains("1.556"), "{body}");
        body
    };
    let reply = text(&evo, "debit", inexact("tx-1", "ref-1", "USD")).await;
    assert_status(&reply, "INVALID_PARAMETER");
    assert_balance(&reply, "100.00");
    assert_status(
        &evo.call("debit", s.money("tx-1", "ref-1", "10.00")).await,
        "OK",
    );
    assert_status(
        &evo.call("credit", s.money("tx-2", "ref-1", "20.00")).await,
        "OK",
    );
    assert_status(
        &evo.call("promo_payout", s.promo("p-1", "JackpotWin", "1.00"))
            .await,
        "OK",
    );
    // Resending a settled refId or promo id with an inexact amount or another currency:
    // refused for that (steps 6, 7) before the duplicate check (step 8) could answer
    // BET_ALREADY_SETTLED.
    let reply = text(&evo, "credit", inexact("tx-2", "ref-1", "EUR")).await;
    assert_status(&reply, "INVALID_PARAMETER");
    assert_balance(&reply, "111.00");
    let reply = evo
        .call(
            "credit",
            with(
                s.money("tx-2", "ref-1", "20.00"),
                json!({"currency": "USD"}),
            ),
        )
        .await;
    assert_status(&reply, "INVALID_PARAMETER");
    let reply = evo
        .call(
            "cancel",
            with(
                s.money("tx-1", "ref-1", "10.00"),
                json!({"currency": "USD"}),
            ),
        )
        .await;
    assert_status(&reply, "INVALID_PARAMETER");
    let body = serde_json::to_string(&s.promo("p-1", "JackpotWin", "1.00"))
        .unwrap()
        .replace("\"amount\":1.0", "\"amount\":1.005");
    let reply = text(&evo, "promo_payout", body).await;
    assert_status(&reply, "INVALID_PARAMETER");
    // The same resends correctly written: the duplicate check answers.
    assert_status(
        &evo.call("credit", s.money("tx-2", "ref-1", "20.00")).await,
        "BET_ALREADY_SETTLED",
    );
    assert_status(
        &evo.call("promo_payout", s.promo("p-1", "JackpotWin", "1.00"))
            .await,
        "BET_ALREADY_SETTLED",
    );
    // The derived id (step 8) before the expiry (step 9): a debit resent after its sid
    // expired is the bet already there.
    expire(&app, &s.sid).await;
    let reply = evo.call("debit", s.money("tx-1", "ref-1", "10.00")).await;
    assert_status(&reply, "BET_ALREADY_EXIST");
    assert_balance(&reply, "111.00");
    assert_status(
        &evo.call("debit", s.money("tx-3", "ref-3", "1.00")).await,
        "INVALID_SID",
    );
    assert_eq!(total(&app, &s.player).await, "111.00");
}

#[tokio::test]
async fn the_bonus_is_reported_apart_and_within_the_balance() {
    // 0.3 and 2.6: balance = the total, bonus = the bonus category, both with the
    // currency's decimals.
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    app.deposit(&s.player, "5.00", "bonus").await;
    let reply = evo.call("balance", s.balance()).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "15.00");
    assert_bonus(&reply, "5.00");
    // 12.00 spends the cash, then 2.00 of the bonus.
    let reply = evo.call("debit", s.money("tx-1", "ref-1", "12.00")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "3.00");
    assert_bonus(&reply, "3.00");
    let reply = evo.call("debit", s.money("tx-2", "ref-2", "3.01")).await;
    assert_status(&reply, "INSUFFICIENT_FUNDS");
    assert_balance(&reply, "3.00");
    assert_bonus(&reply, "3.00");
    // A refusal from the sid on carries the player's values too.
    let reply = evo
        .call("balance", with(s.balance(), json!({"currency": "USD"})))
        .await;
    assert_status(&reply, "INVALID_PARAMETER");
    assert_bonus(&reply, "3.00");
    let reply = evo.call("cancel", s.money("tx-1", "ref-1", "12.00")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "15.00");
    assert_bonus(&reply, "5.00");
    // A currency without decimals: integers.
    let yen = seat(&app, "JPY", "1000").await;
    app.deposit(&yen.player, "5", "bonus").await;
    let reply = evo.call("balance", yen.balance()).await;
    assert_balance(&reply, "1005");
    assert_bonus(&reply, "5");
}

#[tokio::test]
async fn a_source_network_not_allowed_is_403_and_a_body_too_large_is_413() {
    // 0.1: these come before the authToken (2.7 step 1), in the contract's envelope.
    let app = TestApp::spawn_with(|settings| {
        let demo2 = settings
            .providers
            .iter_mut()
            .find(|p| p.id == "evolution-demo2")
            .unwrap();
        demo2.allowed_networks = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let s = seat(&app, "EUR", "10.00").await;
    let sid2 = app.session(&s.player, "evolution-demo2", "lobby").await;
    let debit = with(s.money("tx-1", "ref-1", "1.00"), json!({"sid": sid2}));
    let demo2 = Evo {
        app: &app,
        provider: "evolution-demo2",
        token: "evolution-demo2-token",
    };
    for query in ["?authToken=evolution-demo2-token", "?authToken=wrong"] {
        let reply = demo2
            .raw("debit", query, serde_json::to_vec(&debit).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.body);
        assert_eq!(reply.code(), "forbidden");
    }
    let evo = Evo::new(&app);
    let mut huge = serde_json::to_vec(&s.money("tx-2", "ref-2", "1.00")).unwrap();
    huge.extend(vec![b' '; 100 * 1024]);
    for query in [format!("?authToken={TOKEN}"), "?authToken=wrong".to_owned()] {
        let reply = evo.raw("debit", &query, huge.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{:?}",
            reply.body
        );
        assert_eq!(reply.code(), "payload_too_large");
    }
    assert_eq!(total(&app, &s.player).await, "10.00");
    // Nothing was recorded: the same debit, small, goes through.
    assert_status(
        &evo.call("debit", s.money("tx-2", "ref-2", "1.00")).await,
        "OK",
    );
    assert_eq!(total(&app, &s.player).await, "9.00");
}

#[tokio::test]
async fn sids_side_by_side_uuids_echoed_only_when_sent_and_refids_with_separators() {
    // 2.9: several live sids of one player; 2.6: uuid echoed when the request had one;
    // 2.5: `%` and `:` escaped in derived ids, so two such refIds stay two bets; 2.3: a
    // cancel needs neither game nor amount.
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let mobile = app.session(&s.player, "evolution-demo", "lobby").await;
    let on_mobile = |body: Value| with(body, json!({"sid": mobile}));
    assert_status(&evo.call("check", s.check()).await, "OK");
    let reply = evo
        .call(
            "check",
            on_mobile(with(s.check(), json!({"channel": {"type": "M"}}))),
        )
        .await;
    assert_eq!(reply.body["sid"], json!(mobile));
    assert_status(&reply, "OK");
    let reply = evo
        .call("debit", on_mobile(s.money("tx-1", "r:1", "1.00")))
        .await;
    assert_status(&reply, "OK");
    let reply = evo.call("debit", s.money("tx-2", "r%3A1", "2.00")).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "7.00");
    for (derived, amount) in [("r%3A1", "1.00"), ("r%253A1", "2.00")] {
        let listed = app
            .viewer(&format!(
                "/v1/providers/evolution-demo/transactions/debit:{}:{}",
                s.player,
                derived.replace('%', "%25")
            ))
            .await;
        assert_eq!(
            listed.status,
            StatusCode::OK,
            "{derived}: {:?}",
            listed.body
        );
        assert_eq!(listed.body["amount"], amount);
        assert_eq!(listed.body["round_id"], format!("rnd-7kfw:{derived}"));
    }
    // A cancel with only the transaction's ids.
    let mut cancel = with(s.money("tx-1", "r:1", "1.00"), json!({"game": null}));
    cancel["transaction"] = json!({"id": "tx-1", "refId": "r:1"});
    let reply = evo.call("cancel", cancel).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "8.00");
    // No uuid sent, none echoed; every answer is JSON with a request id.
    let reply = evo
        .call("balance", with(s.balance(), json!({"uuid": null})))
        .await;
    assert_status(&reply, "OK");
    assert!(reply.body.get("uuid").is_none(), "{:?}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert!(reply.headers.contains_key("x-request-id"));
    let reply = evo.raw("balance", "?authToken=wrong", b"{}".to_vec()).await;
    assert!(reply.body.get("uuid").is_none(), "{:?}", reply.body);
    assert!(reply.headers.contains_key("x-request-id"));
    assert_eq!(total(&app, &s.player).await, "8.00");
}

#[tokio::test]
async fn a_promo_payouts_game_is_its_table_and_jackpot_structures_are_informational() {
    // 2.3 and 2.5: a promo payout's game_id is the table when a game is given, else
    // `promo`; extra jackpot structures move no money.
    let app = TestApp::spawn().await;
    let evo = Evo::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let at_table = with(
        s.promo("p-1", "FromGame", "2.00"),
        json!({"game": {"id": "rnd-9", "type": "roulette",
            "details": {"table": {"id": "rt-table-07"}}}}),
    );
    assert_status(&evo.call("promo_payout", at_table).await, "OK");
    assert_status(
        &evo.call("promo_payout", s.promo("p-2", "JackpotWin", "3.00"))
            .await,
        "OK",
    );
    for (promo, game, kind) in [("p-1", "rt-table-07", "promo"), ("p-2", "promo", "jackpot")] {
        let listed = item(&app, &format!("promo:{}:{promo}", s.player)).await;
        assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
        assert_eq!(listed.body["game_id"], game);
        assert_eq!(listed.body["round_id"], format!("promo:{promo}"));
        assert_eq!(listed.body["win_kind"], kind);
    }
    let mut debit = s.money("tx-1", "ref-1", "1.00");
    debit["jackpots"] = json!([{"id": "jp-1", "amount": 500.0, "type": "NetEnt"}]);
    debit["transaction"]["jackpotContributions"] = json!([{"id": "jp-1", "amount": 0.05}]);
    let reply = evo.call("debit", debit).await;
    assert_status(&reply, "OK");
    assert_balance(&reply, "14.00");
    assert_eq!(total(&app, &s.player).await, "14.00");
}
