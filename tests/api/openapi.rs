//! The OpenAPI document is the router's own (routes are registered with their
//! `#[utoipa::path]` operations, `utoipa_axum`), it covers exactly what the router serves,
//! and `/docs` works offline.
//!
//! Serving is checked through the running application: every documented path is called
//! with every method; a documented method must answer something other than the 405 and
//! no-such-endpoint fallbacks, an undocumented one must answer 405.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use wallet::domain::ErrorCode;
use wallet::http::v1::status;

use crate::helpers::TestApp;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// `/v1/players/{player_id}` -> `/v1/players/probe-player_id`; a vendor protocol's
/// `{provider_id}` is a configured provider of that protocol (an unknown one is no such
/// route, `../protocols.md` 0.1): `/hub88/{provider_id}/user/info` ->
/// `/hub88/hub88-demo/user/info`.
fn concrete(path: &str) -> String {
    let protocol = path.split('/').nth(1).unwrap_or_default();
    path.split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some("provider_id}") if protocol == "hub88" || protocol == "evolution" => {
                format!("{protocol}-demo")
            }
            Some(name) => format!("probe-{}", name.trim_end_matches('}')),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// How the router answers `method` on `path` (no credentials, no body): served, the
/// 405 fallback, or the no-such-endpoint fallback.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Served(StatusCode),
    MethodNotAllowed,
    NoSuchEndpoint,
}

async fn answer(app: &TestApp, method: &Method, path: &str) -> Answer {
    let response = app
        .http
        .request(method.clone(), format!("{}{}", app.base, concrete(path)))
        .send()
        .await
        .expect("the wallet answers");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status == StatusCode::NOT_FOUND && body["error"]["message"] == "no such endpoint" {
        Answer::NoSuchEndpoint
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        Answer::MethodNotAllowed
    } else {
        Answer::Served(status)
    }
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

/// Every operation of the document: `(method, path, operation)`.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in documented_methods(doc, path) {
            found.push((method.clone(), path.clone(), &item[&method]));
        }
    }
    found
}

#[tokio::test]
async fn the_served_openapi_document_is_the_one_built_from_the_routers() {
    let app = TestApp::spawn().await;
    let served = document(&app).await;
    let built = serde_json::to_value(wallet::http::openapi::document()).unwrap();
    assert_eq!(served, built);
    let json: Value = serde_json::from_str(wallet::http::openapi::document_json()).unwrap();
    assert_eq!(json, built);
}

#[tokio::test]
async fn every_documented_operation_is_served_and_no_other_method_of_its_path() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert!(paths.len() >= 17, "too few documented paths: {paths:?}");
    for path in paths {
        let documented = documented_methods(&doc, path);
        assert!(!documented.is_empty(), "{path} has no operation");
        for method in &METHODS {
            let answer = answer(&app, method, path).await;
            if documented.contains(&method.as_str().to_lowercase()) {
                assert!(
                    matches!(answer, Answer::Served(_)),
                    "{method} {path} is documented but answers {answer:?}"
                );
            } else {
                assert_eq!(
                    answer,
                    Answer::MethodNotAllowed,
                    "{method} {path} is not documented but does not answer 405"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_error_response_lists_codes_of_its_status_with_an_example_each() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    for (method, path, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            assert!(
                response["headers"]["x-request-id"].is_object(),
                "{method} {path} {status} lacks x-request-id"
            );
            let Some(examples) = response["content"]["application/json"]["examples"].as_object()
            else {
                continue;
            };
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(
                schema, "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
            let description = response["description"].as_str().unwrap();
            for (name, example) in examples {
                let code = ErrorCode::parse(name)
                    .unwrap_or_else(|| panic!("{method} {path}: {name} is no error code"));
                assert_eq!(
                    status::of(code).as_str(),
                    status,
                    "{method} {path}: {name} is documented under the wrong status"
                );
                assert_eq!(example["value"]["error"]["code"], name.as_str());
                assert!(
                    description.contains(&format!("`{name}`")),
                    "{method} {path} {status}: the description does not name {name}"
                );
            }
        }
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
    let all: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, all, "ErrorCode is not the list of every code");
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
    for status in ["200", "422"] {
        assert!(
            bet["responses"][status]["headers"]["idempotent-replayed"].is_object(),
            "bet {status} lacks idempotent-replayed"
        );
    }
    let withdraw = &doc["paths"]["/v1/players/{player_id}/withdrawals"]["post"];
    assert_eq!(withdraw["security"][0]["bearer"], serde_json::json!([]));
    assert!(withdraw["responses"]["403"]["description"]
        .as_str()
        .unwrap()
        .contains("forbidden"));
}

/// The Hub88 and Evolution endpoints of `../protocols.md` 1.1 and 2.1, each a POST with
/// its request schema, its HTTP 200 answer schema, its security scheme and the
/// contract's refusals.
#[tokio::test]
async fn the_document_lists_every_adapter_endpoint_with_its_schemas() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schema_of = |reference: &Value| -> Value {
        let name = reference["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("not a reference: {reference}"))
            .trim_start_matches("#/components/schemas/")
            .to_owned();
        let schema = doc["components"]["schemas"][&name].clone();
        assert!(schema.is_object(), "no schema {name}");
        schema
    };
    let endpoints = [
        ("hub88", "user/info", "Hub88UserInfo", "Hub88Reply"),
        ("hub88", "user/balance", "Hub88Balance", "Hub88Reply"),
        ("hub88", "transaction/bet", "Hub88Bet", "Hub88Reply"),
        ("hub88", "transaction/win", "Hub88Win", "Hub88Reply"),
        (
            "hub88",
            "transaction/rollback",
            "Hub88Rollback",
            "Hub88Reply",
        ),
        (
            "evolution",
            "check",
            "EvolutionCheck",
            "EvolutionCheckReply",
        ),
        (
            "evolution",
            "balance",
            "EvolutionBalance",
            "EvolutionBalanceReply",
        ),
        (
            "evolution",
            "debit",
            "EvolutionMoney",
            "EvolutionBalanceReply",
        ),
        (
            "evolution",
            "credit",
            "EvolutionMoney",
            "EvolutionBalanceReply",
        ),
        (
            "evolution",
            "cancel",
            "EvolutionMoney",
            "EvolutionBalanceReply",
        ),
        (
            "evolution",
            "promo_payout",
            "EvolutionPromoPayout",
            "EvolutionBalanceReply",
        ),
    ];
    for (protocol, endpoint, request, answer) in endpoints {
        let path = format!("/{protocol}/{{provider_id}}/{endpoint}");
        assert_eq!(
            documented_methods(&doc, &path),
            BTreeSet::from(["post".to_owned()]),
            "{path}"
        );
        let op = &doc["paths"][&path]["post"];
        assert_eq!(op["tags"], serde_json::json!([protocol]), "{path}");
        let body = &op["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(
            body["$ref"],
            format!("#/components/schemas/{request}"),
            "{path}"
        );
        let ok = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert_eq!(
            ok["$ref"],
            format!("#/components/schemas/{answer}"),
            "{path}"
        );
        let scheme = if protocol == "hub88" {
            "hub88_signature"
        } else {
            "evolution_auth_token"
        };
        assert!(
            op["security"][0].as_object().unwrap().contains_key(scheme),
            "{path}: {}",
            op["security"]
        );
        for status in ["403", "404", "413"] {
            assert!(op["responses"][status].is_object(), "{path} lacks {status}");
        }
        let answer = schema_of(ok);
        let statuses = answer["properties"]["status"]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: the status is not a closed set: {answer}"));
        let ok_status = if protocol == "hub88" { "RS_OK" } else { "OK" };
        assert!(statuses.iter().any(|s| s == ok_status), "{path}");
        assert!(schema_of(body)["properties"].is_object(), "{path}");
    }
    let hub88 = &doc["paths"]["/hub88/{provider_id}/transaction/bet"]["post"];
    assert!(hub88["responses"]["200"]["headers"]["x-hub88-signature"].is_object());
    let bet = &doc["components"]["schemas"]["Hub88Bet"];
    assert_eq!(bet["properties"]["amount"]["type"], "integer");
    for field in [
        "user",
        "transaction_uuid",
        "token",
        "round",
        "amount",
        "currency",
    ] {
        assert!(
            bet["required"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == field),
            "Hub88Bet: {field} is not required"
        );
    }
    // The optional flags of 1.5, on the bet and on the win (the bet's fields).
    for schema in ["Hub88Bet", "Hub88Win"] {
        let properties = &doc["components"]["schemas"][schema]["properties"];
        for flag in ["is_free", "is_supplier_promo", "round_closed"] {
            // Optional: `["boolean", "null"]` in OpenAPI 3.1.
            let types = &properties[flag]["type"];
            assert!(
                types
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "boolean")),
                "{schema}.{flag}: {types}"
            );
        }
    }
    let win = &doc["components"]["schemas"]["Hub88Win"];
    assert!(
        win["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "reference_transaction_uuid"),
        "{win}"
    );
    let hub88_statuses = doc["components"]["schemas"]["Hub88Reply"]["properties"]["status"]["enum"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(hub88_statuses, 14, "every status of 1.8");
    let money = &doc["components"]["schemas"]["EvolutionMoney"];
    assert!(money["properties"]["userId"].is_object(), "{money}");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["hub88_signature"]["in"], "header");
    assert_eq!(schemes["hub88_signature"]["name"], "X-Hub88-Signature");
    assert_eq!(schemes["evolution_auth_token"]["in"], "query");
    assert_eq!(schemes["evolution_auth_token"]["name"], "authToken");
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
