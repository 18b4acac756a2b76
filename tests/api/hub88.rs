//! The Hub88 adapter (`../shared/protocols.md` 1) from the outside: signatures both
//! ways, the processing order, every status of its table, duplicates, rollbacks, free
//! bets, the amount conversion at its limits, concurrency, and one money core shared
//! with the v1 API.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use spki::der::Decode;

use crate::helpers::{Reply, TestApp};
use crate::op_support::{expire, recorded_refusal, set_blocked};
use crate::provider::{assert_ok, id};

const GAME: &str = "clt_dragonrising";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/protocol-keys");

/// The DER bytes of a PEM file of the demo keys.
fn pem_file(name: &str) -> Vec<u8> {
    let text = std::fs::read(format!("{KEYS}/{name}")).expect("a demo key file");
    pem_rfc7468::decode_vec(&text).expect("PEM").1
}

fn private_key(name: &str) -> KeyPair {
    KeyPair::from_pkcs8(&pem_file(name)).expect("a demo private key")
}

/// Signs as Hub88 does: base64 of RSASSA-PKCS1-v1_5 SHA-256 over the body bytes.
fn sign(key: &KeyPair, body: &[u8]) -> String {
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        body,
        &mut signature,
    )
    .unwrap();
    STANDARD.encode(signature)
}

/// Whether an answer carries our signature over its exact bytes.
fn signed_by_the_wallet(reply: &Reply) -> bool {
    let spki = pem_file("wallet-demo-operator-public.pem");
    let spki = spki::SubjectPublicKeyInfoRef::from_der(&spki).unwrap();
    let public = spki.subject_public_key.as_bytes().unwrap();
    let Some(header) = reply.headers.get("x-hub88-signature") else {
        return false;
    };
    let signature = STANDARD.decode(header.to_str().unwrap()).unwrap();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
        .verify(&reply.bytes, &signature)
        .is_ok()
}

/// A Hub88 caller of one provider, signing with that provider's demo key.
struct Hub88<'a> {
    app: &'a TestApp,
    provider: &'static str,
    key: Arc<KeyPair>,
}

impl<'a> Hub88<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self::of(app, "hub88-demo", "hub88-demo-provider-private.pem")
    }

    fn of(app: &'a TestApp, provider: &'static str, key: &str) -> Self {
        Hub88 {
            app,
            provider,
            key: Arc::new(private_key(key)),
        }
    }

    /// Posts `body` with the header `signature` (none when `None`).
    async fn raw(&self, path: &str, body: Vec<u8>, signature: Option<String>) -> Reply {
        let mut request = self
            .app
            .http
            .post(format!("{}/hub88/{}/{path}", self.app.base, self.provider))
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("X-Hub88-Signature", signature);
        }
        let response = request.send().await.expect("the wallet answers");
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

    /// A correctly signed call; every such answer is HTTP 200 and signed by us.
    async fn call(&self, path: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap();
        let signature = sign(&self.key, &bytes);
        let reply = self.raw(path, bytes, Some(signature)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert!(
            signed_by_the_wallet(&reply),
            "unsigned answer {:?}",
            reply.body
        );
        assert_eq!(reply.body["request_uuid"], body["request_uuid"]);
        reply
    }
}

fn status(reply: &Reply) -> &str {
    reply.body["status"].as_str().unwrap_or("")
}

#[track_caller]
fn assert_status(reply: &Reply, expected: &str) {
    assert_eq!(status(reply), expected, "{:?}", reply.body);
    if expected != "RS_OK" && expected != "RS_ERROR_NOT_ENOUGH_MONEY" {
        // Other errors carry only status and request_uuid (1.6).
        let keys: Vec<&String> = reply.body.as_object().unwrap().keys().collect();
        assert!(
            keys.iter().all(|k| *k == "status" || *k == "request_uuid"),
            "{:?}",
            reply.body
        );
    }
}

#[track_caller]
fn assert_balance(reply: &Reply, expected: i64) {
    assert_eq!(reply.body["balance"], json!(expected), "{:?}", reply.body);
}

/// A player with cash, and a live session of `hub88-demo` in [`GAME`].
struct Seat {
    player: String,
    token: String,
    currency: &'static str,
}

async fn seat(app: &TestApp, currency: &'static str, cash: &str) -> Seat {
    let player = app.player(currency).await;
    if cash != "0" {
        app.deposit(&player, cash, "cash").await;
    }
    let token = app.session(&player, "hub88-demo", GAME).await;
    Seat {
        player,
        token,
        currency,
    }
}

impl Seat {
    fn bet(&self, tx: &str, round: &str, amount: i64) -> Value {
        json!({
            "user": self.player, "transaction_uuid": tx, "supplier_transaction_id": "sup-1",
            "token": self.token, "supplier_user": "cg_1", "round_closed": false,
            "round": round, "request_uuid": id("req"), "is_free": false, "game_code": GAME,
            "currency": self.currency, "bet": "lines 20", "amount": amount,
        })
    }

    fn win(&self, tx: &str, round: &str, bet: &str, amount: i64) -> Value {
        let mut body = self.bet(tx, round, amount);
        body["reference_transaction_uuid"] = json!(bet);
        body["round_closed"] = json!(true);
        body
    }

    fn rollback(&self, tx: &str, bet: &str) -> Value {
        json!({
            "user": self.player, "transaction_uuid": tx, "token": self.token,
            "request_uuid": id("req"), "reference_transaction_uuid": bet, "game_code": GAME,
        })
    }

    fn balance(&self) -> Value {
        json!({"user": self.player, "token": self.token, "request_uuid": id("req"), "game_code": GAME})
    }
}

/// `body` with `extra`'s fields set (a `null` in `extra` removes the field).
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

/// The player's total as the operator API shows it.
async fn total(app: &TestApp, player: &str) -> String {
    app.balance(player).await["total"]
        .as_str()
        .unwrap()
        .to_owned()
}

// ---------------------------------------------------------------- signatures

#[tokio::test]
async fn the_complete_exchange_of_section_4_is_signed_both_ways() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "1000.00").await;
    let bet = id("bet");
    let reply = hub88
        .call("transaction/bet", s.bet(&bet, "rnd-1", 150_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 99_850_000);
    assert_eq!(reply.body["user"], json!(s.player));
    assert_eq!(reply.body["currency"], json!("EUR"));
    assert_eq!(reply.headers["content-type"], "application/json");
    assert!(reply.headers.contains_key("x-request-id"));
    let reply = hub88
        .call("transaction/win", s.win(&id("win"), "rnd-1", &bet, 300_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 100_150_000);
    let item = app
        .viewer(&format!("/v1/providers/hub88-demo/transactions/{bet}"))
        .await;
    assert_eq!(item.status, StatusCode::OK, "{:?}", item.body);
    assert_eq!(item.body["kind"], "bet");
    assert_eq!(item.body["amount"], "1.50");
    assert_eq!(item.body["provider_id"], "hub88-demo");
    assert_eq!(item.body["round_id"], "rnd-1");
}

#[tokio::test]
async fn a_body_signed_with_openssl_is_accepted() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let body = serde_json::to_vec(&s.balance()).unwrap();
    // The command line of the protocol page, byte for byte.
    let mut child = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(format!("{KEYS}/hub88-demo-provider-private.pem"))
        .arg("-binary")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let reply = hub88
        .raw("user/balance", body, Some(STANDARD.encode(out.stdout)))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 1_000_000);
    assert!(signed_by_the_wallet(&reply));
}

#[tokio::test]
async fn a_server_configured_with_pkcs1_pem_keys_verifies_and_signs_as_with_spki_and_pkcs8() {
    // The same two demo keys as the development configuration, in their `BEGIN RSA
    // PUBLIC KEY` / `BEGIN RSA PRIVATE KEY` forms (1.2's accepted formats).
    let app = TestApp::spawn_with(|settings| {
        let hub88 = settings
            .providers
            .iter_mut()
            .find(|p| p.id == "hub88-demo")
            .and_then(|p| p.hub88.as_mut())
            .unwrap();
        hub88.verification_key = format!("{KEYS}/hub88-demo-provider-public.pkcs1.pem");
        hub88.signing_key = format!("{KEYS}/wallet-demo-operator-private.pkcs1.pem");
    })
    .await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    // `call` checks the answer's signature with the SPKI public key.
    let reply = hub88
        .call("transaction/bet", s.bet(&id("bet"), "rnd-1", 150_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 850_000);
    // The PKCS#1 verification key still refuses another provider's key.
    let other = private_key("hub88-demo2-provider-private.pem");
    let bytes = serde_json::to_vec(&s.bet(&id("bet"), "rnd-2", 1_000)).unwrap();
    let reply = hub88
        .raw("transaction/bet", bytes.clone(), Some(sign(&other, &bytes)))
        .await;
    assert_status(&reply, "RS_ERROR_INVALID_SIGNATURE");
    assert!(signed_by_the_wallet(&reply));
    assert_eq!(total(&app, &s.player).await, "8.50");
}

#[tokio::test]
async fn a_wrong_key_an_altered_body_or_no_signature_is_refused_and_moves_nothing() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let tx = id("bet");
    let body = s.bet(&tx, "rnd-1", 150_000);
    let bytes = serde_json::to_vec(&body).unwrap();
    let other_key = private_key("hub88-demo2-provider-private.pem");
    let altered = serde_json::to_vec(&with(body.clone(), json!({"amount": 1_000}))).unwrap();
    // Re-serialised with other spacing: the bytes differ, so the signature does too.
    let respaced = serde_json::to_vec_pretty(&body).unwrap();
    let attempts = [
        (bytes.clone(), Some(sign(&other_key, &bytes))),
        (altered, Some(sign(&hub88.key, &bytes))),
        (respaced, Some(sign(&hub88.key, &bytes))),
        (bytes.clone(), None),
        (bytes.clone(), Some("not base64!".to_owned())),
        (bytes.clone(), Some(String::new())),
    ];
    for (sent, signature) in attempts {
        let reply = hub88.raw("transaction/bet", sent, signature).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_status(&reply, "RS_ERROR_INVALID_SIGNATURE");
        assert_eq!(reply.body["request_uuid"], body["request_uuid"]);
        assert!(signed_by_the_wallet(&reply));
    }
    assert_eq!(total(&app, &s.player).await, "10.00");
    // Nothing was recorded: the same transaction correctly signed is processed.
    let reply = hub88.call("transaction/bet", body).await;
    assert_status(&reply, "RS_OK");
    assert!(!reply.headers.contains_key("idempotent-replayed"));
    assert_eq!(total(&app, &s.player).await, "8.50");
}

#[tokio::test]
async fn routing_source_address_method_and_size_use_the_contracts_envelope() {
    let app = TestApp::spawn_with(|settings| {
        let demo2 = settings
            .providers
            .iter_mut()
            .find(|p| p.id == "hub88-demo2")
            .unwrap();
        demo2.allowed_networks = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let s = seat(&app, "EUR", "10.00").await;
    for provider in ["nobody", "demo", "evolution-demo"] {
        let reply = app
            .http
            .post(format!("{}/hub88/{provider}/user/balance", app.base))
            .body(serde_json::to_vec(&s.balance()).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::NOT_FOUND, "{provider}");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
    let demo2 = Hub88::of(&app, "hub88-demo2", "hub88-demo2-provider-private.pem");
    let bytes = serde_json::to_vec(&s.balance()).unwrap();
    let reply = demo2
        .raw(
            "user/balance",
            bytes.clone(),
            Some(sign(&demo2.key, &bytes)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["error"]["code"], "forbidden");
    let reply = app
        .bearer(None, Method::GET, "/hub88/hub88-demo/user/balance", None)
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.code(), "method_not_allowed");
    let hub88 = Hub88::new(&app);
    let huge = vec![b' '; 100 * 1024];
    let reply = hub88
        .raw("user/balance", huge.clone(), Some(sign(&hub88.key, &huge)))
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "payload_too_large");
    // A hub88 provider cannot use the v1 API.
    let reply = app
        .provider_as("hub88-demo", "", "balance", json!({"player_id": s.player}))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "unauthorized");
}

// ---------------------------------------------------------------- the status table

#[tokio::test]
async fn user_info_and_balance_answer_the_players_details() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "12.34").await;
    let reply = hub88
        .call(
            "user/info",
            json!({"user": s.player, "request_uuid": "r-1"}),
        )
        .await;
    assert_eq!(
        reply.body,
        json!({"status": "RS_OK", "request_uuid": "r-1", "user": s.player, "currency": "EUR"})
    );
    let reply = hub88
        .call(
            "user/info",
            json!({"user": "nobody", "request_uuid": "r-2"}),
        )
        .await;
    assert_status(&reply, "RS_ERROR_UNKNOWN");
    let reply = hub88.call("user/balance", s.balance()).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 1_234_000);
    let reply = hub88
        .call("user/balance", with(s.balance(), json!({"user": "nobody"})))
        .await;
    assert_status(&reply, "RS_ERROR_INVALID_TOKEN");
    // Blocked players are described and their balance read.
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    let reply = hub88
        .call(
            "user/info",
            json!({"user": s.player, "request_uuid": "r-3"}),
        )
        .await;
    assert_status(&reply, "RS_OK");
    assert_status(&hub88.call("user/balance", s.balance()).await, "RS_OK");
}

#[tokio::test]
async fn tokens_games_and_currencies_are_checked_in_the_protocols_order() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let other = seat(&app, "EUR", "10.00").await;
    let demo2_token = app.session(&s.player, "hub88-demo2", GAME).await;
    let v1_token = app.session(&s.player, "demo", GAME).await;
    let bet = || s.bet(&id("bet"), "rnd-1", 1_000);
    let cases = [
        (json!({"user": "nobody"}), "RS_ERROR_INVALID_TOKEN"),
        (json!({"token": other.token}), "RS_ERROR_INVALID_TOKEN"),
        (json!({"token": demo2_token}), "RS_ERROR_INVALID_TOKEN"),
        (json!({"token": v1_token}), "RS_ERROR_INVALID_TOKEN"),
        (json!({"token": "not-a-token"}), "RS_ERROR_INVALID_TOKEN"),
        (
            json!({"token": uuid::Uuid::now_v7().to_string()}),
            "RS_ERROR_INVALID_TOKEN",
        ),
        (
            json!({"game_code": "another_game"}),
            "RS_ERROR_INVALID_GAME",
        ),
        (json!({"currency": "schmeckles"}), "RS_ERROR_WRONG_CURRENCY"),
        (json!({"currency": "USD"}), "RS_ERROR_WRONG_CURRENCY"),
        // Which check wins when several fail: the token before the game, the game
        // before the currency, the currency before the amount.
        (
            json!({"token": other.token, "game_code": "x"}),
            "RS_ERROR_INVALID_TOKEN",
        ),
        (
            json!({"game_code": "x", "currency": "USD"}),
            "RS_ERROR_INVALID_GAME",
        ),
        (
            json!({"currency": "USD", "amount": 1}),
            "RS_ERROR_WRONG_CURRENCY",
        ),
        // The syntax before the user.
        (
            json!({"user": "nobody", "round": ""}),
            "RS_ERROR_WRONG_SYNTAX",
        ),
    ];
    for (change, expected) in cases {
        let reply = hub88
            .call("transaction/bet", with(bet(), change.clone()))
            .await;
        assert_status(&reply, expected);
        let reply = hub88
            .call(
                "transaction/win",
                with(s.win(&id("win"), "rnd-1", "b", 1_000), change),
            )
            .await;
        assert_status(&reply, expected);
    }
    let reply = hub88
        .call(
            "transaction/rollback",
            with(s.rollback(&id("rb"), "b"), json!({"token": other.token})),
        )
        .await;
    assert_status(&reply, "RS_ERROR_INVALID_TOKEN");
    let reply = hub88
        .call(
            "user/balance",
            with(s.balance(), json!({"token": other.token})),
        )
        .await;
    assert_status(&reply, "RS_ERROR_INVALID_TOKEN");
    assert_eq!(total(&app, &s.player).await, "10.00");
}

#[tokio::test]
async fn malformed_bodies_are_wrong_syntax_or_wrong_types_and_move_nothing() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let tx = id("bet");
    let body = s.bet(&tx, "rnd-1", 1_000);
    let cases = [
        (json!({"user": null}), "RS_ERROR_WRONG_SYNTAX"),
        (json!({"token": ""}), "RS_ERROR_WRONG_SYNTAX"),
        (json!({"transaction_uuid": null}), "RS_ERROR_WRONG_SYNTAX"),
        (json!({"amount": null}), "RS_ERROR_WRONG_SYNTAX"),
        (json!({"user": 5}), "RS_ERROR_WRONG_TYPES"),
        (json!({"amount": "1000"}), "RS_ERROR_WRONG_TYPES"),
        (json!({"amount": 1000.5}), "RS_ERROR_WRONG_TYPES"),
        (json!({"amount": -1000}), "RS_ERROR_WRONG_TYPES"),
        (json!({"amount": true}), "RS_ERROR_WRONG_TYPES"),
        (json!({"is_free": "yes"}), "RS_ERROR_WRONG_TYPES"),
        (json!({"round_closed": 1}), "RS_ERROR_WRONG_TYPES"),
        // Not exact in EUR cents.
        (json!({"amount": 100}), "RS_ERROR_WRONG_TYPES"),
        (json!({"amount": 1_001}), "RS_ERROR_WRONG_TYPES"),
    ];
    for (change, expected) in cases {
        let reply = hub88
            .call("transaction/bet", with(body.clone(), change.clone()))
            .await;
        assert_status(&reply, expected);
    }
    // Texts that serde_json would not write: an exponent, a fraction of zero, beyond
    // Int64, not an object.
    let texts = [
        ("1e5", "RS_ERROR_WRONG_TYPES"),
        ("100000.0", "RS_ERROR_WRONG_TYPES"),
        ("9223372036854775808", "RS_ERROR_WRONG_TYPES"),
    ];
    let bytes = serde_json::to_vec(&body).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    for (amount, expected) in texts {
        let sent = text.replace("\"amount\":1000", &format!("\"amount\":{amount}"));
        assert_ne!(sent, text);
        let reply = hub88
            .raw(
                "transaction/bet",
                sent.clone().into(),
                Some(sign(&hub88.key, sent.as_bytes())),
            )
            .await;
        assert_status(&reply, expected);
        assert_eq!(reply.body["request_uuid"], body["request_uuid"]);
    }
    for sent in ["[1]", "not json", ""] {
        let reply = hub88
            .raw(
                "transaction/bet",
                sent.into(),
                Some(sign(&hub88.key, sent.as_bytes())),
            )
            .await;
        assert_status(&reply, "RS_ERROR_WRONG_SYNTAX");
        assert!(reply.body.get("request_uuid").is_none());
    }
    assert_eq!(total(&app, &s.player).await, "10.00");
    // Nothing was recorded: the corrected call goes through with the same id.
    assert_status(&hub88.call("transaction/bet", body).await, "RS_OK");
    assert_eq!(total(&app, &s.player).await, "9.99");
}

#[tokio::test]
async fn funds_blocks_expiry_and_closed_rounds_get_their_statuses() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "1000.00").await;
    let first = id("bet");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&first, "rnd-1", 150_000))
            .await,
        "RS_OK",
    );
    // Not enough money: the unchanged actual balance, user and currency.
    let reply = hub88
        .call("transaction/bet", s.bet(&id("bet"), "rnd-2", 200_000_000))
        .await;
    assert_status(&reply, "RS_ERROR_NOT_ENOUGH_MONEY");
    assert_balance(&reply, 99_850_000);
    assert_eq!(reply.body["currency"], "EUR");
    assert_eq!(reply.body["user"], json!(s.player));
    // A closed round takes no more bets.
    let win = s.win(&id("win"), "rnd-1", &first, 0);
    assert_status(&hub88.call("transaction/win", win).await, "RS_OK");
    let reply = hub88
        .call("transaction/bet", s.bet(&id("bet"), "rnd-1", 1_000))
        .await;
    assert_status(&reply, "RS_ERROR_UNKNOWN");
    // Blocked: bets refused, wins and rollbacks applied.
    let open = id("bet");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&open, "rnd-3", 1_000))
            .await,
        "RS_OK",
    );
    let other = id("bet");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&other, "rnd-4", 1_000))
            .await,
        "RS_OK",
    );
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    let reply = hub88
        .call("transaction/bet", s.bet(&id("bet"), "rnd-5", 1_000))
        .await;
    assert_status(&reply, "RS_ERROR_USER_DISABLED");
    let reply = hub88
        .call("transaction/win", s.win(&id("win"), "rnd-3", &open, 5_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 99_853_000);
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "active"})),
    )
    .await;
    // Expired token: balance and bets refused, wins and rollbacks applied.
    let reply = app
        .operator(Method::DELETE, &format!("/v1/sessions/{}", s.token), None)
        .await;
    assert!(reply.status.is_success(), "{:?}", reply.body);
    assert_status(
        &hub88.call("user/balance", s.balance()).await,
        "RS_ERROR_TOKEN_EXPIRED",
    );
    let reply = hub88
        .call("transaction/bet", s.bet(&id("bet"), "rnd-6", 1_000))
        .await;
    assert_status(&reply, "RS_ERROR_TOKEN_EXPIRED");
    let reply = hub88
        .call("transaction/rollback", s.rollback(&id("rb"), &other))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 99_854_000);
    // A replay of a bet accepted before the expiry is still its first answer (the
    // duplicate check comes before the expiry, 1.7 steps 9 and 10).
    let reply = hub88
        .call("transaction/bet", s.bet(&first, "rnd-1", 150_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 99_850_000);
    assert_eq!(reply.headers["idempotent-replayed"], "true");
    // An expired token of a blocked player: the expiry is checked first.
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    let reply = hub88
        .call("transaction/bet", s.bet(&id("bet"), "rnd-7", 1_000))
        .await;
    assert_status(&reply, "RS_ERROR_TOKEN_EXPIRED");
    assert_eq!(total(&app, &s.player).await, "998.54");
}

// ---------------------------------------------------------------- duplicates

#[tokio::test]
async fn a_duplicate_gets_the_first_answer_and_a_different_payload_is_refused() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let bet = id("bet");
    let first = hub88
        .call("transaction/bet", s.bet(&bet, "rnd-1", 150_000))
        .await;
    assert_status(&first, "RS_OK");
    // Another movement in between: the replay still reports the first balance.
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&id("bet"), "rnd-2", 1_000_000))
            .await,
        "RS_OK",
    );
    // Same payload, other request_uuid and token-independent fields.
    let again = with(
        s.bet(&bet, "rnd-1", 150_000),
        json!({"request_uuid": "resent", "supplier_user": "someone", "round_closed": true}),
    );
    let reply = hub88.call("transaction/bet", again).await;
    assert_status(&reply, "RS_OK");
    assert_eq!(reply.body["balance"], first.body["balance"]);
    assert_eq!(reply.body["request_uuid"], "resent");
    assert_eq!(reply.headers["idempotent-replayed"], "true");
    // Any compared field different: a duplicate transaction, nothing moves.
    let other = seat(&app, "EUR", "100.00").await;
    let changes = [
        json!({"amount": 160_000}),
        json!({"round": "rnd-9"}),
        json!({"is_free": true}),
    ];
    for change in changes {
        let reply = hub88
            .call(
                "transaction/bet",
                with(s.bet(&bet, "rnd-1", 150_000), change),
            )
            .await;
        assert_status(&reply, "RS_ERROR_DUPLICATE_TRANSACTION");
    }
    let reply = hub88
        .call("transaction/bet", other.bet(&bet, "rnd-1", 150_000))
        .await;
    assert_status(&reply, "RS_ERROR_DUPLICATE_TRANSACTION");
    // A win with the bet's own id is another kind: a conflict.
    let reply = hub88
        .call("transaction/win", s.win(&bet, "rnd-1", &bet, 1_000))
        .await;
    assert_status(&reply, "RS_ERROR_DUPLICATE_TRANSACTION");
    let reply = hub88
        .call("transaction/rollback", s.rollback(&bet, &bet))
        .await;
    assert_status(&reply, "RS_ERROR_DUPLICATE_TRANSACTION");
    assert_eq!(total(&app, &s.player).await, "88.50");
    assert_eq!(total(&app, &other.player).await, "100.00");
    // A refusal is replayed as a refusal, with its balance.
    let poor = id("bet");
    let refused = hub88
        .call("transaction/bet", s.bet(&poor, "rnd-3", 100_000_000))
        .await;
    assert_status(&refused, "RS_ERROR_NOT_ENOUGH_MONEY");
    app.deposit(&s.player, "1000.00", "cash").await;
    let reply = hub88
        .call("transaction/bet", s.bet(&poor, "rnd-3", 100_000_000))
        .await;
    assert_status(&reply, "RS_ERROR_NOT_ENOUGH_MONEY");
    assert_eq!(reply.body["balance"], refused.body["balance"]);
    assert_eq!(reply.headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn transaction_ids_are_scoped_by_provider() {
    let app = TestApp::spawn().await;
    let s = seat(&app, "EUR", "100.00").await;
    let demo2_token = app.session(&s.player, "hub88-demo2", GAME).await;
    let tx = id("bet");
    let hub88 = Hub88::new(&app);
    let demo2 = Hub88::of(&app, "hub88-demo2", "hub88-demo2-provider-private.pem");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&tx, "rnd-1", 1_000_000))
            .await,
        "RS_OK",
    );
    let reply = demo2
        .call(
            "transaction/bet",
            with(
                s.bet(&tx, "rnd-1", 1_000_000),
                json!({"token": demo2_token}),
            ),
        )
        .await;
    assert_status(&reply, "RS_OK");
    assert!(!reply.headers.contains_key("idempotent-replayed"));
    // The v1 `demo` provider may use the same id too.
    let v1_token = app.session(&s.player, "demo", GAME).await;
    let reply = app
        .provider(
            "bet",
            json!({"transaction_id": tx, "player_id": s.player, "session_id": v1_token,
                "round_id": "rnd-1", "game_id": GAME, "amount": "10.00", "currency": "EUR"}),
        )
        .await;
    assert_ok(&reply);
    assert_eq!(total(&app, &s.player).await, "70.00");
}

// ---------------------------------------------------------------- rollbacks and wins

#[tokio::test]
async fn a_rollback_restores_the_bet_once_and_other_bets_of_the_round_stay() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let a = id("bet");
    let b = id("bet");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&a, "rnd-1", 1_000_000))
            .await,
        "RS_OK",
    );
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&b, "rnd-1", 2_000_000))
            .await,
        "RS_OK",
    );
    let rb = id("rb");
    let reply = hub88
        .call("transaction/rollback", s.rollback(&rb, &a))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 8_000_000);
    // The same rollback again: its first answer.
    let reply = hub88
        .call("transaction/rollback", s.rollback(&rb, &a))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 8_000_000);
    assert_eq!(reply.headers["idempotent-replayed"], "true");
    // A second, different rollback of the same bet: RS_OK, no money.
    let reply = hub88
        .call("transaction/rollback", s.rollback(&id("rb"), &a))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 8_000_000);
    // A win of the rolled-back bet.
    let reply = hub88
        .call("transaction/win", s.win(&id("win"), "rnd-1", &a, 5_000_000))
        .await;
    assert_status(&reply, "RS_ERROR_TRANSACTION_ROLLED_BACK");
    // The other bet of the round still pays.
    let reply = hub88
        .call("transaction/win", s.win(&id("win"), "rnd-1", &b, 5_000_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 13_000_000);
    let item = app
        .viewer(&format!("/v1/providers/hub88-demo/transactions/{rb}"))
        .await;
    assert_eq!(item.body["kind"], "rollback");
    assert_eq!(item.body["reference_transaction_id"], json!(a));
    assert_eq!(item.body["amount"], "10.00");
}

#[tokio::test]
async fn a_rollback_before_its_bet_leaves_a_tombstone_that_refuses_the_bet_and_its_win() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let bet = id("bet");
    let reply = hub88
        .call("transaction/rollback", s.rollback(&id("rb"), &bet))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 10_000_000);
    let reply = hub88
        .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000_000))
        .await;
    assert_status(&reply, "RS_ERROR_TRANSACTION_ROLLED_BACK");
    let reply = hub88
        .call(
            "transaction/win",
            s.win(&id("win"), "rnd-1", &bet, 1_000_000),
        )
        .await;
    assert_status(&reply, "RS_ERROR_TRANSACTION_ROLLED_BACK");
    assert_eq!(total(&app, &s.player).await, "100.00");
}

#[tokio::test]
async fn a_rollback_after_a_win_or_of_a_win_answers_ok_and_moves_nothing() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let bet = id("bet");
    let win = id("win");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000_000))
            .await,
        "RS_OK",
    );
    assert_status(
        &hub88
            .call("transaction/win", s.win(&win, "rnd-1", &bet, 3_000_000))
            .await,
        "RS_OK",
    );
    for target in [&bet, &win] {
        let rb = id("rb");
        let reply = hub88
            .call("transaction/rollback", s.rollback(&rb, target))
            .await;
        assert_status(&reply, "RS_OK");
        assert_balance(&reply, 12_000_000);
        // Nothing is listed under the refused rollback's id.
        let item = app
            .viewer(&format!("/v1/providers/hub88-demo/transactions/{rb}"))
            .await;
        assert_eq!(item.status, StatusCode::NOT_FOUND, "{:?}", item.body);
        // Twice: the same answer.
        let reply = hub88
            .call("transaction/rollback", s.rollback(&rb, target))
            .await;
        assert_status(&reply, "RS_OK");
        assert_balance(&reply, 12_000_000);
    }
    // Another player's transaction does not exist for this one.
    let other = seat(&app, "EUR", "0").await;
    let reply = hub88
        .call("transaction/rollback", other.rollback(&id("rb"), &bet))
        .await;
    assert_status(&reply, "RS_ERROR_TRANSACTION_DOES_NOT_EXIST");
    assert_eq!(total(&app, &s.player).await, "120.00");
}

#[tokio::test]
async fn a_win_without_its_bet_does_not_exist_and_is_not_recorded() {
    let app = TestApp::spawn_with(|settings| settings.ledger.correlation_wait_ms = 200).await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let bet = id("bet");
    let win = s.win(&id("win"), "rnd-1", &bet, 1_000_000);
    let reply = hub88.call("transaction/win", win.clone()).await;
    assert_status(&reply, "RS_ERROR_TRANSACTION_DOES_NOT_EXIST");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000_000))
            .await,
        "RS_OK",
    );
    let reply = hub88.call("transaction/win", win).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 10_000_000);
}

// ---------------------------------------------------------------- free bets

#[tokio::test]
async fn a_free_bet_moves_nothing_and_its_win_is_cash() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "1.00").await;
    let free = id("bet");
    let body = with(s.bet(&free, "rnd-1", 500_000), json!({"is_free": true}));
    let reply = hub88.call("transaction/bet", body.clone()).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 100_000);
    // The reported amount still tells duplicates apart.
    let reply = hub88
        .call("transaction/bet", with(body, json!({"amount": 600_000})))
        .await;
    assert_status(&reply, "RS_ERROR_DUPLICATE_TRANSACTION");
    let promo = id("bet");
    let body = with(
        s.bet(&promo, "rnd-2", 500_000),
        json!({"is_supplier_promo": true}),
    );
    assert_balance(&hub88.call("transaction/bet", body).await, 100_000);
    let reply = hub88
        .call(
            "transaction/win",
            s.win(&id("win"), "rnd-1", &free, 250_000),
        )
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 350_000);
    assert_eq!(app.balance(&s.player).await["cash"], "3.50");
    let reply = hub88
        .call("transaction/rollback", s.rollback(&id("rb"), &promo))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 350_000);
}

// ---------------------------------------------------------------- amounts

#[tokio::test]
async fn amounts_convert_exactly_at_each_currencys_limits() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    // EUR: multiples of 1000 (one cent); zero is a valid stake.
    let eur = seat(&app, "EUR", "10000000000000.00").await;
    app.deposit(&eur.player, "10000000000000.00", "cash").await;
    for (amount, expected) in [
        (0, "RS_OK"),
        (1_000, "RS_OK"),
        (999, "RS_ERROR_WRONG_TYPES"),
        (100, "RS_ERROR_WRONG_TYPES"),
        (i64::MAX, "RS_ERROR_WRONG_TYPES"),
        // The ledger's largest amount (10^15 cents) and one cent more.
        (1_000_000_000_000_000_000, "RS_OK"),
        (1_000_000_000_000_001_000, "RS_ERROR_WRONG_TYPES"),
    ] {
        let reply = hub88
            .call("transaction/bet", eur.bet(&id("bet"), "rnd-1", amount))
            .await;
        assert_eq!(status(&reply), expected, "EUR {amount}: {:?}", reply.body);
    }
    // JPY: whole yen only.
    let jpy = seat(&app, "JPY", "1000").await;
    let reply = hub88
        .call("transaction/bet", jpy.bet(&id("bet"), "rnd-1", 100_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 99_900_000);
    let reply = hub88
        .call("transaction/bet", jpy.bet(&id("bet"), "rnd-1", 150_000))
        .await;
    assert_status(&reply, "RS_ERROR_WRONG_TYPES");
    // USDT (6 decimals): every integer; a balance below the protocol's precision is
    // rounded down.
    let usdt = seat(&app, "USDT", "0.000019").await;
    let reply = hub88.call("user/balance", usdt.balance()).await;
    assert_balance(&reply, 1);
    let reply = hub88
        .call("transaction/bet", usdt.bet(&id("bet"), "rnd-1", 1))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 0);
    assert_eq!(total(&app, &usdt.player).await, "0.000009");
    // BTC with its configured multiplier 10^8: one satoshi is 1.
    let btc = seat(&app, "BTC", "0.00000002").await;
    let reply = hub88
        .call("transaction/bet", btc.bet(&id("bet"), "rnd-1", 1))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 1);
}

// ---------------------------------------------------------------- concurrency

#[tokio::test]
async fn of_100_simultaneous_bets_with_funds_for_37_exactly_37_succeed() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "37.00").await;
    let calls = (0..100).map(|i| {
        let body = s.bet(&id("bet"), &format!("rnd-{i}"), 100_000);
        let hub88 = &hub88;
        async move { hub88.call("transaction/bet", body).await }
    });
    let replies = futures::future::join_all(calls).await;
    let ok = replies.iter().filter(|r| status(r) == "RS_OK").count();
    let poor = replies
        .iter()
        .filter(|r| status(r) == "RS_ERROR_NOT_ENOUGH_MONEY")
        .count();
    assert_eq!((ok, poor), (37, 63));
    assert_eq!(total(&app, &s.player).await, "0.00");
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn fifty_concurrent_copies_of_one_bet_are_applied_once() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let body = s.bet(&id("bet"), "rnd-1", 1_500_000);
    let calls = (0..50).map(|_| hub88.call("transaction/bet", body.clone()));
    let replies = futures::future::join_all(calls).await;
    assert!(replies
        .iter()
        .all(|r| status(r) == "RS_OK" && r.body["balance"] == json!(8_500_000)));
    let fresh = replies
        .iter()
        .filter(|r| !r.headers.contains_key("idempotent-replayed"))
        .count();
    assert_eq!(fresh, 1);
    assert_eq!(total(&app, &s.player).await, "85.00");
    assert!(app.discrepancies().await.is_empty());
}

// ---------------------------------------------------------------- one money core

#[tokio::test]
async fn a_hub88_bet_and_a_v1_bet_share_one_balance_and_the_operator_sees_both() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "20.00").await;
    let v1_token = app.session(&s.player, "demo", GAME).await;
    let v1_tx = id("v1");
    let reply = app
        .provider(
            "bet",
            json!({"transaction_id": v1_tx, "player_id": s.player, "session_id": v1_token,
                "round_id": "rnd-v1", "game_id": GAME, "amount": "15.00", "currency": "EUR"}),
        )
        .await;
    assert_ok(&reply);
    // The v1 bet's debit is seen by Hub88: 5.00 left, 6.00 is too much.
    let reply = hub88
        .call("transaction/bet", s.bet(&id("bet"), "rnd-1", 600_000))
        .await;
    assert_status(&reply, "RS_ERROR_NOT_ENOUGH_MONEY");
    assert_balance(&reply, 500_000);
    let tx = id("bet");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&tx, "rnd-1", 500_000))
            .await,
        "RS_OK",
    );
    let page = app
        .viewer(&format!("/v1/players/{}/transactions", s.player))
        .await;
    let items = page.body["items"].as_array().unwrap();
    let providers: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["transaction_id"].as_str().unwrap(),
                i["provider_id"].as_str().unwrap_or("operator"),
            )
        })
        .collect();
    assert!(
        providers.contains(&(tx.as_str(), "hub88-demo")),
        "{providers:?}"
    );
    assert!(
        providers.contains(&(v1_tx.as_str(), "demo")),
        "{providers:?}"
    );
    assert_eq!(total(&app, &s.player).await, "0.00");
    assert!(app.discrepancies().await.is_empty());
}

// ---------------------------------------------------------------- review fixes

#[tokio::test]
async fn a_replayed_refusal_keeps_its_status_after_the_token_expires() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    app.operator(
        Method::PATCH,
        &format!("/v1/players/{}", s.player),
        Some(json!({"status": "blocked"})),
    )
    .await;
    let bet = s.bet(&id("bet"), "rnd-1", 1_000);
    assert_status(
        &hub88.call("transaction/bet", bet.clone()).await,
        "RS_ERROR_USER_DISABLED",
    );
    let reply = app
        .operator(Method::DELETE, &format!("/v1/sessions/{}", s.token), None)
        .await;
    assert!(reply.status.is_success(), "{:?}", reply.body);
    // The same bet again: the first status, not the expiry found since (1.9).
    let again = hub88.call("transaction/bet", bet).await;
    assert_status(&again, "RS_ERROR_USER_DISABLED");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(total(&app, &s.player).await, "10.00");
}

#[tokio::test]
async fn an_expired_token_of_a_blocked_player_is_token_expired_first_and_on_every_resend() {
    // 1.7: the expiry (step 10) comes before the ledger's rules (step 11), the block
    // among them; the refusal is recorded, so a resend answers it again (1.9).
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    set_blocked(&app, &s.player, true).await;
    expire(&app, &s.token).await;
    let tx = id("bet");
    let bet = s.bet(&tx, "rnd-1", 1_000);
    let first = hub88.call("transaction/bet", bet.clone()).await;
    assert_status(&first, "RS_ERROR_TOKEN_EXPIRED");
    assert!(!first.replayed());
    assert_eq!(
        recorded_refusal(&app, "hub88-demo", &tx).await.as_deref(),
        Some("session_expired")
    );
    let again = hub88.call("transaction/bet", bet.clone()).await;
    assert_status(&again, "RS_ERROR_TOKEN_EXPIRED");
    assert!(again.replayed(), "{:?}", again.headers);
    // Unblocked since: still the first answer.
    set_blocked(&app, &s.player, false).await;
    let again = hub88.call("transaction/bet", bet).await;
    assert_status(&again, "RS_ERROR_TOKEN_EXPIRED");
    assert!(again.replayed());
    assert_eq!(total(&app, &s.player).await, "10.00");
}

#[tokio::test]
async fn an_unreachable_database_is_unknown_and_moves_nothing() {
    let app = TestApp::spawn_with(|s| {
        s.database.pool_max_size = 1;
        s.database.acquire_timeout_ms = 200;
    })
    .await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let tx = id("bet");
    // The only connection is taken: the wallet's database answers 503 retry_later.
    let held = wallet::db::acquire(app.wallet.pool()).await.unwrap();
    for (path, body) in [
        ("user/balance", s.balance()),
        ("transaction/bet", s.bet(&tx, "rnd-1", 1_000)),
    ] {
        assert_status(&hub88.call(path, body).await, "RS_ERROR_UNKNOWN");
    }
    drop(held);
    // Nothing was recorded: the same bet is applied once the database is back.
    let reply = hub88
        .call("transaction/bet", s.bet(&tx, "rnd-1", 1_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert!(!reply.replayed());
    assert_balance(&reply, 999_000);
}

#[tokio::test]
async fn a_call_past_the_players_queue_is_unknown_and_moves_nothing() {
    let app = TestApp::spawn_with(|s| s.ledger.player_queue_max = 1).await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    // Hold the player's balance rows: the first bet waits in its turn.
    let db = app.db().await;
    db.batch_execute("BEGIN").await.unwrap();
    db.execute(
        "SELECT 1 FROM balances WHERE player_id = $1 FOR UPDATE",
        &[&s.player],
    )
    .await
    .unwrap();
    let first = hub88.call("transaction/bet", s.bet(&id("bet"), "rnd-1", 1_000));
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        // The queue of one is full: 429 rate_limited.
        let reply = hub88
            .call("transaction/bet", s.bet(&id("bet"), "rnd-2", 2_000))
            .await;
        db.batch_execute("COMMIT").await.unwrap();
        reply
    };
    let (first, second) = tokio::join!(first, second);
    assert_status(&second, "RS_ERROR_UNKNOWN");
    assert_status(&first, "RS_OK");
    assert_balance(&first, 999_000);
    assert_eq!(total(&app, &s.player).await, "9.99");
}

#[tokio::test]
async fn a_win_past_the_balance_limit_is_unknown_and_moves_nothing() {
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let bet = id("bet");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000))
            .await,
        "RS_OK",
    );
    // Cash at its limit (2^62 minor units), set behind the ledger's back.
    let db = app.db().await;
    let n = db
        .execute(
            "UPDATE balances SET amount = $2 WHERE player_id = $1 AND category = 'cash'",
            &[&s.player, &(1_i64 << 62)],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let before = total(&app, &s.player).await;
    let reply = hub88
        .call("transaction/win", s.win(&id("win"), "rnd-1", &bet, 1_000))
        .await;
    assert_status(&reply, "RS_ERROR_UNKNOWN");
    assert_eq!(total(&app, &s.player).await, before);
}

// ---------------------------------------------------------------- more rules of section 1

/// The operator API's item of one of `hub88-demo`'s transactions.
async fn item(app: &TestApp, transaction: &str) -> Reply {
    app.viewer(&format!(
        "/v1/providers/hub88-demo/transactions/{transaction}"
    ))
    .await
}

#[tokio::test]
async fn a_win_on_an_expired_token_is_applied() {
    // 0.2 and 1.7 step 10: token validity is not checked on wins.
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let bet = id("bet");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000_000))
            .await,
        "RS_OK",
    );
    expire(&app, &s.token).await;
    assert_status(
        &hub88.call("user/balance", s.balance()).await,
        "RS_ERROR_TOKEN_EXPIRED",
    );
    let win = id("win");
    let body = s.win(&win, "rnd-1", &bet, 2_500_000);
    let reply = hub88.call("transaction/win", body.clone()).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 11_500_000);
    let listed = item(&app, &win).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body["kind"], "win");
    assert_eq!(listed.body["amount"], "25.00");
    assert_eq!(listed.body["reference_transaction_id"], json!(bet));
    // Its resend on the expired token: the first answer, no money.
    let reply = hub88.call("transaction/win", body).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 11_500_000);
    assert!(reply.replayed());
    assert_eq!(total(&app, &s.player).await, "115.00");
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn a_rollback_for_a_blocked_player_is_applied() {
    // 0.2 and 1.8: a blocked player's bets are refused, rollbacks applied.
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let bet = id("bet");
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000_000))
            .await,
        "RS_OK",
    );
    set_blocked(&app, &s.player, true).await;
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&id("bet"), "rnd-2", 1_000))
            .await,
        "RS_ERROR_USER_DISABLED",
    );
    let rb = id("rb");
    let reply = hub88
        .call("transaction/rollback", s.rollback(&rb, &bet))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 10_000_000);
    let listed = item(&app, &rb).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body["kind"], "rollback");
    assert_eq!(listed.body["amount"], "10.00");
    assert_eq!(listed.body["reference_transaction_id"], json!(bet));
    assert_eq!(total(&app, &s.player).await, "100.00");
}

#[tokio::test]
async fn a_bad_signature_wins_over_a_malformed_body() {
    // 1.7: the signature (step 2) before the body (step 3); 1.6: request_uuid echoed
    // whenever the body is an object with a string request_uuid.
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    let other = private_key("hub88-demo2-provider-private.pem");
    let missing = serde_json::to_vec(&with(
        s.bet(&id("bet"), "rnd-1", 1_000),
        json!({"round": null}),
    ))
    .unwrap();
    let wrong_type = serde_json::to_vec(&with(
        s.bet(&id("bet"), "rnd-1", 1_000),
        json!({"amount": "1000"}),
    ))
    .unwrap();
    let bodies: [(Vec<u8>, &str, bool); 4] = [
        (b"not json".to_vec(), "RS_ERROR_WRONG_SYNTAX", false),
        (b"[1]".to_vec(), "RS_ERROR_WRONG_SYNTAX", false),
        (missing, "RS_ERROR_WRONG_SYNTAX", true),
        (wrong_type, "RS_ERROR_WRONG_TYPES", true),
    ];
    for (body, malformed, has_uuid) in bodies {
        for signature in [None, Some(sign(&other, &body)), Some("AAAA".to_owned())] {
            let reply = hub88.raw("transaction/bet", body.clone(), signature).await;
            assert_status(&reply, "RS_ERROR_INVALID_SIGNATURE");
            assert_eq!(reply.body.get("request_uuid").is_some(), has_uuid);
            assert!(signed_by_the_wallet(&reply));
        }
        // Correctly signed, the same body is refused for what it is.
        let reply = hub88
            .raw(
                "transaction/bet",
                body.clone(),
                Some(sign(&hub88.key, &body)),
            )
            .await;
        assert_status(&reply, malformed);
    }
    assert_eq!(total(&app, &s.player).await, "10.00");
}

#[tokio::test]
async fn the_body_then_the_currency_then_the_amount_then_the_duplicate_check() {
    // 1.7 steps 3, 7, 8 and 9, pairwise.
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    // A negative amount is step 3, before the currency (step 7).
    let reply = hub88
        .call(
            "transaction/bet",
            with(
                s.bet(&id("bet"), "rnd-1", 1_000),
                json!({"currency": "USD", "amount": -1_000}),
            ),
        )
        .await;
    assert_status(&reply, "RS_ERROR_WRONG_TYPES");
    // The currency (step 7) before an amount not exact in it (step 8).
    for path in ["transaction/bet", "transaction/win"] {
        let body = if path == "transaction/bet" {
            s.bet(&id("bet"), "rnd-1", 1_000)
        } else {
            s.win(&id("win"), "rnd-1", "b", 1_000)
        };
        let reply = hub88
            .call(
                path,
                with(body, json!({"currency": "USD", "amount": 1_500})),
            )
            .await;
        assert_status(&reply, "RS_ERROR_WRONG_CURRENCY");
    }
    // The amount (step 8) before the duplicate check (step 9): a recorded bet and win
    // resent with an inexact amount are WRONG_TYPES, not duplicates, and nothing is
    // recorded for them.
    let bet = id("bet");
    let first = hub88
        .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000_000))
        .await;
    assert_status(&first, "RS_OK");
    let win = id("win");
    assert_status(
        &hub88
            .call("transaction/win", s.win(&win, "rnd-1", &bet, 2_000_000))
            .await,
        "RS_OK",
    );
    let reply = hub88
        .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000_500))
        .await;
    assert_status(&reply, "RS_ERROR_WRONG_TYPES");
    let reply = hub88
        .call("transaction/win", s.win(&win, "rnd-1", &bet, 2_000_500))
        .await;
    assert_status(&reply, "RS_ERROR_WRONG_TYPES");
    // With an exact but different amount: the duplicate check answers.
    let reply = hub88
        .call("transaction/bet", s.bet(&bet, "rnd-1", 1_001_000))
        .await;
    assert_status(&reply, "RS_ERROR_DUPLICATE_TRANSACTION");
    // The recorded answers are untouched.
    let reply = hub88
        .call("transaction/bet", s.bet(&bet, "rnd-1", 1_000_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_eq!(reply.body["balance"], first.body["balance"]);
    assert!(reply.replayed());
    assert_eq!(total(&app, &s.player).await, "110.00");
}

#[tokio::test]
async fn duplicates_differing_only_in_currency_game_code_or_reference() {
    // 1.9: currency, game_code and reference_transaction_uuid are compared; the checks
    // of 1.7 steps 6 and 7 come first, so a different currency (never the player's) is
    // WRONG_CURRENCY, a game_code other than the token's INVALID_GAME, and a game_code
    // matching another token's game a duplicate.
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let other_game = app.session(&s.player, "hub88-demo", "other_game").await;
    let (b1, b2, b3) = (id("bet"), id("bet"), id("bet"));
    for (bet, round) in [(&b1, "rnd-1"), (&b2, "rnd-2"), (&b3, "rnd-3")] {
        assert_status(
            &hub88
                .call("transaction/bet", s.bet(bet, round, 1_000_000))
                .await,
            "RS_OK",
        );
    }
    let win = id("win");
    assert_status(
        &hub88
            .call("transaction/win", s.win(&win, "rnd-1", &b1, 5_000_000))
            .await,
        "RS_OK",
    );
    let rb = id("rb");
    assert_status(
        &hub88
            .call("transaction/rollback", s.rollback(&rb, &b3))
            .await,
        "RS_OK",
    );
    assert_eq!(total(&app, &s.player).await, "130.00");
    let cases = [
        // Only the currency.
        (
            "transaction/bet",
            with(s.bet(&b1, "rnd-1", 1_000_000), json!({"currency": "USD"})),
            "RS_ERROR_WRONG_CURRENCY",
        ),
        (
            "transaction/win",
            with(
                s.win(&win, "rnd-1", &b1, 5_000_000),
                json!({"currency": "USD"}),
            ),
            "RS_ERROR_WRONG_CURRENCY",
        ),
        // Only the game_code, on the same token.
        (
            "transaction/bet",
            with(
                s.bet(&b1, "rnd-1", 1_000_000),
                json!({"game_code": "other_game"}),
            ),
            "RS_ERROR_INVALID_GAME",
        ),
        (
            "transaction/win",
            with(
                s.win(&win, "rnd-1", &b1, 5_000_000),
                json!({"game_code": "other_game"}),
            ),
            "RS_ERROR_INVALID_GAME",
        ),
        // The game_code of another live token of the player (the token itself is not
        // compared).
        (
            "transaction/bet",
            with(
                s.bet(&b1, "rnd-1", 1_000_000),
                json!({"game_code": "other_game", "token": other_game}),
            ),
            "RS_ERROR_DUPLICATE_TRANSACTION",
        ),
        (
            "transaction/win",
            with(
                s.win(&win, "rnd-1", &b1, 5_000_000),
                json!({"game_code": "other_game", "token": other_game}),
            ),
            "RS_ERROR_DUPLICATE_TRANSACTION",
        ),
        (
            "transaction/rollback",
            with(s.rollback(&rb, &b3), json!({"game_code": "other_game"})),
            "RS_ERROR_DUPLICATE_TRANSACTION",
        ),
        // Only the reference: another bet of the player, or one never seen.
        (
            "transaction/win",
            s.win(&win, "rnd-1", &b2, 5_000_000),
            "RS_ERROR_DUPLICATE_TRANSACTION",
        ),
        (
            "transaction/win",
            s.win(&win, "rnd-1", "never-seen", 5_000_000),
            "RS_ERROR_DUPLICATE_TRANSACTION",
        ),
        (
            "transaction/rollback",
            s.rollback(&rb, &b2),
            "RS_ERROR_DUPLICATE_TRANSACTION",
        ),
    ];
    for (path, body, expected) in cases {
        let reply = hub88.call(path, body.clone()).await;
        assert_status(&reply, expected);
        assert!(!reply.replayed(), "{body}");
    }
    // Nothing moved: b2 is neither paid nor rolled back, and still takes its win.
    assert_eq!(total(&app, &s.player).await, "130.00");
    let reply = hub88
        .call("transaction/win", s.win(&id("win"), "rnd-2", &b2, 500_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 13_500_000);
    let listed = item(&app, &rb).await;
    assert_eq!(listed.body["reference_transaction_id"], json!(b3));
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn the_balance_is_the_total_of_cash_and_bonus() {
    // 0.3: the balance reported is the total; 1.3: floor(total × multiplier).
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "10.00").await;
    app.deposit(&s.player, "5.00", "bonus").await;
    let reply = hub88.call("user/balance", s.balance()).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 1_500_000);
    // A stake of 12.00 spends the cash, then 2.00 of the bonus.
    let bet = id("bet");
    let reply = hub88
        .call("transaction/bet", s.bet(&bet, "rnd-1", 1_200_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 300_000);
    let balance = app.balance(&s.player).await;
    assert_eq!(balance["cash"], "0.00");
    assert_eq!(balance["bonus"], "3.00");
    // Not enough money counts the bonus too: 3.01 is refused with the total.
    let reply = hub88
        .call("transaction/bet", s.bet(&id("bet"), "rnd-2", 301_000))
        .await;
    assert_status(&reply, "RS_ERROR_NOT_ENOUGH_MONEY");
    assert_balance(&reply, 300_000);
    // The rollback gives each category back what it gave.
    let reply = hub88
        .call("transaction/rollback", s.rollback(&id("rb"), &bet))
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 1_500_000);
    let balance = app.balance(&s.player).await;
    assert_eq!(balance["cash"], "10.00");
    assert_eq!(balance["bonus"], "5.00");
}

#[tokio::test]
async fn fields_that_are_not_compared_or_are_ignored() {
    // 1.9: token, request_uuid, round_closed and informational fields are not compared;
    // 1.4: balance and rollback ignore game_code, game_id is ignored; 1.5: optional
    // fields may be null, a required one may not.
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "100.00").await;
    let second = app.session(&s.player, "hub88-demo", GAME).await;
    let (b1, b2) = (id("bet"), id("bet"));
    let first = hub88
        .call("transaction/bet", s.bet(&b1, "rnd-1", 1_000_000))
        .await;
    assert_status(&first, "RS_OK");
    assert_balance(&first, 9_000_000);
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&b2, "rnd-2", 1_000_000))
            .await,
        "RS_OK",
    );
    let resent = with(
        s.bet(&b1, "rnd-1", 1_000_000),
        json!({"token": second, "request_uuid": "again", "round_closed": true,
            "supplier_transaction_id": "sup-other", "supplier_user": "cg_other",
            "bet": "other lines", "meta": {"x": 1}, "game_id": 7}),
    );
    let reply = hub88.call("transaction/bet", resent).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 9_000_000);
    assert!(reply.replayed());
    // A win that leaves its round open, resent with round_closed: the first answer,
    // and the round stays open.
    let win = id("win");
    let body = with(s.win(&win, "rnd-1", &b1, 0), json!({"round_closed": false}));
    assert_status(&hub88.call("transaction/win", body.clone()).await, "RS_OK");
    let reply = hub88
        .call(
            "transaction/win",
            with(body, json!({"round_closed": true, "token": second})),
        )
        .await;
    assert_status(&reply, "RS_OK");
    assert!(reply.replayed());
    assert_status(
        &hub88
            .call("transaction/bet", s.bet(&id("bet"), "rnd-1", 1_000))
            .await,
        "RS_OK",
    );
    // Balance and rollback ignore game_code.
    let reply = hub88
        .call(
            "user/balance",
            with(s.balance(), json!({"game_code": "some_other_game"})),
        )
        .await;
    assert_status(&reply, "RS_OK");
    let reply = hub88
        .call(
            "transaction/rollback",
            with(
                s.rollback(&id("rb"), &b2),
                json!({"game_code": "some_other_game"}),
            ),
        )
        .await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 8_999_000);
    // Optional fields written as null are absent; a required one is missing.
    let mut nulls = s.bet(&id("bet"), "rnd-3", 1_000);
    for field in [
        "is_free",
        "is_supplier_promo",
        "round_closed",
        "supplier_user",
    ] {
        nulls[field] = Value::Null;
    }
    let reply = hub88.call("transaction/bet", nulls).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 8_998_000);
    let mut balance = s.balance();
    balance["game_code"] = Value::Null;
    assert_status(&hub88.call("user/balance", balance).await, "RS_OK");
    for field in ["round", "currency", "token"] {
        let mut missing = s.bet(&id("bet"), "rnd-3", 1_000);
        missing[field] = Value::Null;
        let reply = hub88.call("transaction/bet", missing).await;
        assert_status(&reply, "RS_ERROR_WRONG_SYNTAX");
    }
    assert_eq!(total(&app, &s.player).await, "89.98");
}

#[tokio::test]
async fn a_free_bet_needs_the_right_game_a_live_token_and_an_unblocked_player() {
    // 1.11: like any bet, whatever it never costs.
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let s = seat(&app, "EUR", "1.00").await;
    let free = |round: &str| with(s.bet(&id("bet"), round, 0), json!({"is_free": true}));
    let reply = hub88
        .call(
            "transaction/bet",
            with(free("rnd-1"), json!({"game_code": "another_game"})),
        )
        .await;
    assert_status(&reply, "RS_ERROR_INVALID_GAME");
    set_blocked(&app, &s.player, true).await;
    let reply = hub88.call("transaction/bet", free("rnd-1")).await;
    assert_status(&reply, "RS_ERROR_USER_DISABLED");
    set_blocked(&app, &s.player, false).await;
    let reply = hub88.call("transaction/bet", free("rnd-1")).await;
    assert_status(&reply, "RS_OK");
    assert_balance(&reply, 100_000);
    expire(&app, &s.token).await;
    let reply = hub88.call("transaction/bet", free("rnd-2")).await;
    assert_status(&reply, "RS_ERROR_TOKEN_EXPIRED");
    assert_eq!(total(&app, &s.player).await, "1.00");
}

#[tokio::test]
async fn round_closed_on_a_bet_is_informational_and_each_player_has_their_own_round() {
    // 1.12 and 0.3: only a win closes a round, and only that player's.
    let app = TestApp::spawn().await;
    let hub88 = Hub88::new(&app);
    let a = seat(&app, "EUR", "10.00").await;
    let b = seat(&app, "EUR", "10.00").await;
    let first = id("bet");
    let closing_bet = with(
        a.bet(&first, "rnd-shared", 100_000),
        json!({"round_closed": true}),
    );
    assert_status(&hub88.call("transaction/bet", closing_bet).await, "RS_OK");
    assert_status(
        &hub88
            .call("transaction/bet", a.bet(&id("bet"), "rnd-shared", 100_000))
            .await,
        "RS_OK",
    );
    assert_status(
        &hub88
            .call("transaction/bet", b.bet(&id("bet"), "rnd-shared", 100_000))
            .await,
        "RS_OK",
    );
    assert_status(
        &hub88
            .call(
                "transaction/win",
                a.win(&id("win"), "rnd-shared", &first, 0),
            )
            .await,
        "RS_OK",
    );
    // a's round is closed, b's is not.
    let reply = hub88
        .call("transaction/bet", a.bet(&id("bet"), "rnd-shared", 100_000))
        .await;
    assert_status(&reply, "RS_ERROR_UNKNOWN");
    let reply = hub88
        .call("transaction/bet", b.bet(&id("bet"), "rnd-shared", 100_000))
        .await;
    assert_status(&reply, "RS_OK");
    assert_eq!(total(&app, &a.player).await, "8.00");
    assert_eq!(total(&app, &b.player).await, "8.00");
}
