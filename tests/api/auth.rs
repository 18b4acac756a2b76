//! Operator authentication and the edges every operator call shares: roles, the error
//! envelope, request ids, body size and malformed JSON.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{TestApp, OPERATOR_TOKEN, VIEWER_TOKEN};
use crate::op_support::{id, idempotency_keys, ledger_rows, zero_eur};

/// A raw operator POST: the body bytes go out exactly as given.
async fn post_raw(app: &TestApp, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn a_call_without_a_token_is_401_unauthorized() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let read = app
        .bearer(None, Method::GET, &format!("/v1/players/{player}"), None)
        .await;
    assert_eq!(read.status, StatusCode::UNAUTHORIZED);
    assert_eq!(read.code(), "unauthorized");
    let write = app
        .bearer(
            None,
            Method::POST,
            "/v1/players",
            Some(json!({"player_id": id("p"), "currency": "EUR"})),
        )
        .await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED);
    assert_eq!(write.code(), "unauthorized");
}

#[tokio::test]
async fn an_unknown_token_is_401_unauthorized_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    for token in ["wrong-token", "", "demo-operator-token-x"] {
        let reply = app
            .bearer(
                Some(token),
                Method::POST,
                &format!("/v1/players/{player}/deposits"),
                Some(json!({"transaction_id": id("dep"), "amount": "5"})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(reply.code(), "unauthorized");
    }
    assert_eq!(app.balance(&player).await, zero_eur());
    assert_eq!(idempotency_keys(&app).await, 0);
}

#[tokio::test]
async fn a_token_in_another_scheme_is_401_unauthorized() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/v1/players/x", app.base))
        .header("authorization", format!("Basic {OPERATOR_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_viewer_can_read_every_operator_query() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "10", "cash").await;
    let round = id("r");
    let tx = id("b");
    crate::op_support::bet(&app, &player, &round, &tx, "1").await;
    for path in [
        format!("/v1/players/{player}"),
        format!("/v1/players/{player}/transactions"),
        format!("/v1/providers/demo/transactions/{tx}"),
        format!("/v1/providers/demo/rounds/{round}"),
    ] {
        let reply = app.viewer(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
    }
}

#[tokio::test]
async fn a_viewer_cannot_create_a_player() {
    let app = TestApp::spawn().await;
    let player = id("p");
    let reply = app
        .bearer(
            Some(VIEWER_TOKEN),
            Method::POST,
            "/v1/players",
            Some(json!({"player_id": player, "currency": "EUR"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "forbidden");
    assert_eq!(
        app.viewer(&format!("/v1/players/{player}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_viewer_cannot_deposit_withdraw_block_or_manage_sessions() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "10", "cash").await;
    let session = app.session(&player, "demo", "slots").await;
    let calls = [
        (
            Method::POST,
            format!("/v1/players/{player}/deposits"),
            Some(json!({"transaction_id": id("dep"), "amount": "5"})),
        ),
        (
            Method::POST,
            format!("/v1/players/{player}/withdrawals"),
            Some(json!({"transaction_id": id("wd"), "amount": "5"})),
        ),
        (
            Method::PATCH,
            format!("/v1/players/{player}"),
            Some(json!({"status": "blocked"})),
        ),
        (
            Method::POST,
            "/v1/sessions".to_owned(),
            Some(json!({"player_id": player, "provider_id": "demo", "game_id": "g"})),
        ),
        (Method::DELETE, format!("/v1/sessions/{session}"), None),
    ];
    for (method, path, body) in calls {
        let reply = app
            .bearer(Some(VIEWER_TOKEN), method.clone(), &path, body)
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(reply.code(), "forbidden");
    }
    let view = app.viewer(&format!("/v1/players/{player}")).await;
    assert_eq!(view.body["status"], "active");
    assert_eq!(view.body["balance"]["cash"], "10.00");
    assert_eq!(ledger_rows(&app, &player).await, 1);
    // The session survived the viewer's DELETE: the operator can still expire it.
    let expire = app
        .operator(Method::DELETE, &format!("/v1/sessions/{session}"), None)
        .await;
    assert_eq!(expire.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn every_error_has_the_envelope_with_code_and_message() {
    let app = TestApp::spawn().await;
    let replies = [
        app.bearer(None, Method::GET, "/v1/players/x", None).await,
        app.viewer("/v1/players/nobody-here").await,
        app.operator(Method::POST, "/v1/players", Some(json!({"player_id": 5})))
            .await,
    ];
    for reply in replies {
        let error = reply.body["error"]
            .as_object()
            .unwrap_or_else(|| panic!("no error envelope: {}", reply.body));
        assert!(!reply.code().is_empty(), "{}", reply.body);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            reply.body
        );
        assert_eq!(reply.body.as_object().unwrap().len(), 1, "{}", reply.body);
        assert!(reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
    }
}

#[tokio::test]
async fn every_response_carries_an_x_request_id() {
    let app = TestApp::spawn().await;
    let ok = app
        .operator(
            Method::POST,
            "/v1/players",
            Some(json!({"player_id": id("p"), "currency": "EUR"})),
        )
        .await;
    let error = app.bearer(None, Method::GET, "/v1/players/x", None).await;
    for reply in [ok, error] {
        let rid = reply.headers.get("x-request-id").expect("x-request-id");
        assert!(!rid.is_empty());
    }
}

#[tokio::test]
async fn a_request_id_sent_by_the_client_is_echoed() {
    let app = TestApp::spawn().await;
    for (path, token) in [
        ("/v1/players/nobody-here", Some(VIEWER_TOKEN)),
        ("/v1/players/nobody-here", None),
    ] {
        let mut request = app
            .http
            .get(format!("{}{path}", app.base))
            .header("x-request-id", "trace-me-42");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_payload_too_large() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let body = serde_json::to_vec(&json!({
        "transaction_id": id("dep"),
        "amount": "5",
        "padding": "x".repeat(65 * 1024),
    }))
    .unwrap();
    let (status, reply) = post_raw(&app, &format!("/v1/players/{player}/deposits"), body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
    assert_eq!(reply["error"]["code"], "payload_too_large");
    assert_eq!(app.balance(&player).await, zero_eur());
    assert_eq!(idempotency_keys(&app).await, 0);
}

#[tokio::test]
async fn a_refused_oversized_body_still_echoes_the_request_id() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let response = app
        .http
        .post(format!("{}/v1/players/{player}/deposits", app.base))
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .header("x-request-id", "big-one-7")
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.headers()["x-request-id"], "big-one-7");
}

#[tokio::test]
async fn a_body_just_under_the_limit_is_accepted() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let head = format!(
        r#"{{"transaction_id": "{}", "amount": "5", "padding": ""#,
        id("dep")
    );
    let tail = r#""}"#;
    // Pad until the body is exactly the limit.
    let padding = "x".repeat(64 * 1024 - head.len() - tail.len());
    let body = format!("{head}{padding}{tail}").into_bytes();
    assert_eq!(body.len(), 64 * 1024);
    let (status, reply) = post_raw(&app, &format!("/v1/players/{player}/deposits"), body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
}

#[tokio::test]
async fn malformed_json_is_invalid_request_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    for body in [
        &b"{\"transaction_id\": \"a\", \"amount\": "[..],
        b"not json",
        b"",
        b"[]",
        b"{\"transaction_id\": \"a\", \"amount\": \"5\"} trailing",
    ] {
        let (status, reply) = post_raw(
            &app,
            &format!("/v1/players/{player}/deposits"),
            body.to_vec(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(reply["error"]["code"], "invalid_request");
    }
    assert_eq!(app.balance(&player).await, zero_eur());
    assert_eq!(ledger_rows(&app, &player).await, 0);
}

#[tokio::test]
async fn unknown_request_fields_are_ignored() {
    let app = TestApp::spawn().await;
    let reply = app
        .operator(
            Method::POST,
            "/v1/players",
            Some(json!({"player_id": id("p"), "currency": "EUR", "nickname": "lucky"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
}

#[tokio::test]
async fn a_malformed_query_string_still_gets_the_error_envelope() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    let reply = app
        .viewer(&format!(
            "/v1/players/{player}/transactions?limit=1&limit=2"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert_eq!(reply.code(), "invalid_request", "{:?}", reply.body);
}

#[tokio::test]
async fn a_wrong_method_still_gets_the_error_envelope() {
    let app = TestApp::spawn().await;
    let reply = app.operator(Method::PUT, "/v1/players", None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.code(), "method_not_allowed", "{:?}", reply.body);
    assert!(reply.headers.contains_key("x-request-id"));
}
