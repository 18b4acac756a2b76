//! Operations endpoints: liveness, readiness, metrics and the OpenAPI document. No token
//! needed.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::error::ApiError;
use super::AppState;
use crate::db;
use crate::domain::ErrorCode;

/// How long readiness waits for the database before answering 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a scrape waits for its database round-trip sample; a busy pool skips it.
const SCRAPE_PING_TIMEOUT: Duration = Duration::from_millis(250);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "live" }))
}

async fn ping(state: &AppState) -> Result<(), db::DbError> {
    let client = db::acquire(state.wallet.pool()).await?;
    db::ping(&client).await
}

async fn ready(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, ping(&state)).await {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(e)) => {
            let mut error = ApiError::new(ErrorCode::RetryLater, "database unavailable");
            error.detail(e.to_string());
            error.into_response()
        }
        Err(_) => {
            ApiError::new(ErrorCode::RetryLater, "database did not answer in time").into_response()
        }
    }
}

/// Renders the registry. Pool gauges are read now, so they are exact at scrape time, and
/// one database round trip is sampled (bounded, off the request path).
async fn metrics(State(state): State<AppState>) -> Response {
    let status = state.wallet.pool().status();
    metrics::gauge!("wallet_db_pool_connections").set(status.size as f64);
    metrics::gauge!("wallet_db_pool_connections_idle").set(status.available as f64);
    metrics::gauge!("wallet_db_pool_connections_in_use")
        .set(status.size.saturating_sub(status.available) as f64);
    metrics::gauge!("wallet_db_pool_waiters").set(status.waiting as f64);
    metrics::gauge!("wallet_db_pool_max_connections").set(status.max_size as f64);
    metrics::gauge!("wallet_players_in_flight").set(state.wallet.players_in_flight() as f64);
    metrics::gauge!("wallet_correlation_waiting").set(state.wallet.correlation_waiting() as f64);
    if status.waiting == 0 {
        let _ = tokio::time::timeout(SCRAPE_PING_TIMEOUT, ping(&state)).await;
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document_json(),
    )
        .into_response()
}
