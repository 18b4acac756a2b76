//! Operations endpoints: liveness, readiness, metrics and the OpenAPI document. No token
//! needed.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::openapi::{ErrorCodes, Errors};
use super::AppState;
use crate::db;
use crate::domain::ErrorCode;

/// How long readiness waits for the database before answering 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a scrape waits for its database round-trip sample; a busy pool skips it.
const SCRAPE_PING_TIMEOUT: Duration = Duration::from_millis(250);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// A health answer.
#[derive(Serialize, ToSchema)]
struct Health {
    #[schema(example = "ready")]
    status: &'static str,
}

#[utoipa::path(get, path = "/health/live", tag = "ops", operation_id = "health_live",
    summary = "Liveness: 200 while the process runs",
    responses((status = 200, description = "Live", body = Health)))]
async fn live() -> Json<Health> {
    Json(Health { status: "live" })
}

async fn ping(state: &AppState) -> Result<(), db::DbError> {
    let client = db::acquire(state.wallet.pool()).await?;
    db::ping(&client).await
}

struct ReadyErrors;
impl ErrorCodes for ReadyErrors {
    const CODES: &'static [&'static [ErrorCode]] = &[&[ErrorCode::RetryLater]];
}

#[utoipa::path(get, path = "/health/ready", tag = "ops", operation_id = "health_ready",
    summary = "Readiness: 200 only while the database answers",
    responses(
        (status = 200, description = "Ready", body = Health),
        Errors<ReadyErrors>,
    ))]
async fn ready(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, ping(&state)).await {
        Ok(Ok(())) => Json(Health { status: "ready" }).into_response(),
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
#[utoipa::path(get, path = "/metrics", tag = "ops",
    summary = "Prometheus metrics (text exposition format)",
    responses((status = 200, description = "Metrics", content_type = "text/plain; version=0.0.4",
        body = String)))]
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

#[utoipa::path(get, path = "/openapi.json", tag = "ops", operation_id = "openapi_json",
    summary = "This document",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json",
        body = Object)))]
async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document_json(),
    )
        .into_response()
}
