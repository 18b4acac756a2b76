//! The OpenAPI document covers exactly what the router serves, and `/docs` works offline.
//!
//! The router's route list is derived from the code itself: every `.route("<path>", ...)`
//! in `src/`, then each path is probed with every method (axum answers 405 for a method
//! a path does not serve). A route added without documentation, a method added to a
//! documented path, or a documented operation nobody serves all fail here.

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// Every string literal passed as the first argument of `.route(` under `dir`.
fn route_literals(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            route_literals(&path, found);
            continue;
        }
        if path.extension() != Some(std::ffi::OsStr::new("rs")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for forbidden in [".nest(", ".nest_service(", ".route_service("] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}: teach tests/api/openapi.rs to see those routes",
                path.display()
            );
        }
        for (at, _) in text.match_indices(".route(") {
            let rest = text[at + ".route(".len()..].trim_start();
            let literal = rest
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .map(|(lit, _)| lit.to_owned())
                .unwrap_or_else(|| {
                    panic!(
                        "{}: .route( without a string literal path: the route list cannot \
                         be derived; use a literal",
                        path.display()
                    )
                });
            found.insert(literal);
        }
    }
}

fn served_paths() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    route_literals(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(found.len() >= 17, "route scan found too little: {found:?}");
    found
}

/// `/v1/players/{player_id}` -> `/v1/players/probe-player_id`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(name) => format!("probe-{}", name.trim_end_matches('}')),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the router serves `method` on `path`: neither 405 nor the no-such-endpoint
/// fallback.
async fn serves(app: &TestApp, method: &Method, path: &str) -> bool {
    let response = app
        .http
        .request(method.clone(), format!("{}{}", app.base, concrete(path)))
        .send()
        .await
        .expect("the wallet answers");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let fallback =
        status == StatusCode::NOT_FOUND && body["error"]["message"] == "no such endpoint";
    status != StatusCode::METHOD_NOT_ALLOWED && !fallback
}

async fn document(app: &TestApp) -> Value {
    let reply = app.bearer(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"], "application/json",
        "served as JSON"
    );
    assert!(reply.body["openapi"].as_str().unwrap().starts_with("3."));
    reply.body
}

fn documented_methods(doc: &Value, path: &str) -> BTreeSet<String> {
    doc["paths"][path]
        .as_object()
        .map(|item| {
            item.keys()
                .filter(|k| METHODS.iter().any(|m| m.as_str().eq_ignore_ascii_case(k)))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_route_the_router_serves_is_in_the_openapi_document_and_nothing_else() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let served = served_paths();
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        served, documented,
        "router paths (left) and documented paths (right) differ"
    );
    for path in &served {
        let mut methods = BTreeSet::new();
        for method in &METHODS {
            if serves(&app, method, path).await {
                methods.insert(method.as_str().to_lowercase());
            }
        }
        assert!(!methods.is_empty(), "{path} is in the code but not served");
        assert_eq!(
            methods,
            documented_methods(&doc, path),
            "served (left) and documented (right) methods of {path} differ"
        );
    }
}

#[tokio::test]
async fn the_document_describes_auth_schemes_schemas_and_every_error_code() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    for (name, header) in [
        ("provider_id", "X-Provider-Id"),
        ("provider_timestamp", "X-Timestamp"),
        ("provider_signature", "X-Signature"),
    ] {
        assert_eq!(schemes[name]["type"], "apiKey");
        assert_eq!(schemes[name]["in"], "header");
        assert_eq!(schemes[name]["name"], header);
    }
    let codes: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for code in [
        "invalid_request",
        "unauthorized",
        "session_invalid",
        "forbidden",
        "player_not_found",
        "transaction_not_found",
        "round_not_found",
        "bet_not_found",
        "session_not_found",
        "idempotency_conflict",
        "player_exists",
        "payload_too_large",
        "insufficient_funds",
        "player_blocked",
        "currency_mismatch",
        "session_expired",
        "round_closed",
        "transaction_rolled_back",
        "bet_already_settled",
        "rollback_not_allowed",
        "rate_limited",
        "retry_later",
    ] {
        assert!(codes.contains(code), "ErrorCode lacks {code}");
    }
    for schema in [
        "Amount",
        "Balance",
        "ErrorBody",
        "Bet",
        "Win",
        "Rollback",
        "BalanceQuery",
        "MoneyReceipt",
        "Player",
        "TransactionItem",
        "TransactionPage",
        "Round",
        "Session",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "no schema {schema}"
        );
    }
    let amount = &doc["components"]["schemas"]["Bet"]["properties"]["amount"];
    assert_eq!(amount["$ref"], "#/components/schemas/Amount");
    let bet = &doc["paths"]["/v1/wallet/bet"]["post"];
    assert!(bet["security"][0]
        .as_object()
        .unwrap()
        .contains_key("provider_signature"));
    for status in ["200", "400", "401", "404", "409", "422", "503"] {
        assert!(bet["responses"][status].is_object(), "bet lacks {status}");
    }
    let unprocessable = bet["responses"]["422"]["description"].as_str().unwrap();
    assert!(unprocessable.contains("insufficient_funds"));
    let withdraw = &doc["paths"]["/v1/players/{player_id}/withdrawals"]["post"];
    assert_eq!(withdraw["security"][0]["bearer"], serde_json::json!([]));
    assert!(withdraw["responses"]["403"]["description"]
        .as_str()
        .unwrap()
        .contains("forbidden"));
}

#[tokio::test]
async fn the_docs_page_is_served_with_its_own_assets() {
    let app = TestApp::spawn().await;
    let page = app
        .http
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "no CDN: {html}");
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let response = app
            .http
            .get(format!("{}/docs/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        if asset == "swagger-initializer.js" {
            let js = response.text().await.unwrap();
            assert!(js.contains("/openapi.json"), "{js}");
        }
    }
}
