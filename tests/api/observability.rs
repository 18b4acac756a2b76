//! `/metrics` speaks the Prometheus text format and carries the wallet's metric families.

use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn metrics_after_a_deposit_name_requests_money_calls_pool_and_database_latency() {
    let app = TestApp::spawn().await;
    let player = app.player("EUR").await;
    app.deposit(&player, "10.00", "cash").await;
    // A readiness probe samples the database round trip too.
    app.bearer(None, Method::GET, "/health/ready", None).await;

    let response = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for name in [
        "wallet_http_requests_total",
        "wallet_http_request_duration_seconds_bucket",
        "wallet_money_calls_total",
        "wallet_db_acquire_seconds_bucket",
        "wallet_db_round_trip_seconds_bucket",
        "wallet_db_pool_connections",
        "wallet_db_pool_connections_in_use",
        "wallet_db_pool_waiters",
        "wallet_db_pool_max_connections",
        "wallet_player_lock_wait_seconds_bucket",
        "wallet_commit_group_size_bucket",
    ] {
        assert!(
            text.lines().any(|line| line.starts_with(name)),
            "/metrics lacks {name}:\n{text}"
        );
    }
    assert!(
        text.contains(r#"route="/v1/players/{player_id}/deposits""#),
        "requests are labelled by route template, not by raw path:\n{text}"
    );
    assert!(
        text.contains("# HELP wallet_money_calls_total"),
        "metrics carry descriptions:\n{text}"
    );
}

/// Every `"wallet_..."` name passed to a `metrics::` macro under `dir`.
fn recorded_names(dir: &std::path::Path, found: &mut std::collections::BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            recorded_names(&path, found);
        } else if path.extension() == Some(std::ffi::OsStr::new("rs")) {
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices("metrics::") {
                let call = &text[at..];
                let Some(open) = call.find('(') else { continue };
                let args = call[open + 1..].trim_start();
                if let Some(name) = args
                    .strip_prefix("\"wallet_")
                    .and_then(|r| r.split_once('"'))
                {
                    found.insert(format!("wallet_{}", name.0));
                }
            }
        }
    }
}

#[test]
fn every_recorded_metric_is_described() {
    let mut recorded = std::collections::BTreeSet::new();
    recorded_names(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut recorded,
    );
    assert!(recorded.len() >= 15, "scan found too little: {recorded:?}");
    let described: std::collections::BTreeSet<String> = wallet::telemetry::METRICS
        .iter()
        .map(|m| m.0.to_owned())
        .collect();
    let missing: Vec<_> = recorded.difference(&described).collect();
    assert!(
        missing.is_empty(),
        "add these to telemetry::METRICS: {missing:?}"
    );
}
