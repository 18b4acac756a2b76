//! HTTP: one folder per protocol (`v1/`, `hub88/`, `evolution/`, the last two over
//! [`adapter`]), the operations endpoints, the error
//! envelope, shared extractors, the OpenAPI document, and the router's layers: request
//! ids, one span per request, one log line per request, panics, limits. Routes are
//! registered with their OpenAPI operations (`utoipa_axum`), so what the router serves
//! and what `/openapi.json` lists are one list ([`api`]).

mod adapter;
pub mod error;
pub mod evolution;
pub mod extract;
pub mod hub88;
pub mod openapi;
mod ops;
pub mod v1;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::ledger::Wallet;
use error::LoggedOutcome;
use extract::Auth;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Where the OpenAPI document is served, and the browsable page that reads it (Swagger
/// UI, assets built into the binary: no CDN).
pub const OPENAPI_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";

#[derive(Clone)]
pub struct AppState {
    pub wallet: Wallet,
    pub auth: Arc<Auth>,
    pub metrics: PrometheusHandle,
}

/// The whole application router with its middleware.
pub fn router(state: AppState, settings: &Settings) -> Router {
    let (routes, _) = api(|routes| bounded(routes, settings)).split_for_parts();
    routes
        .merge(SwaggerUi::new(DOCS_PATH).config(utoipa_swagger_ui::Config::from(OPENAPI_PATH)))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.server.body_limit_bytes))
        .with_state(state)
        .layer(middleware::from_fn(log_request))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Every documented route with its operation: the provider API and the vendor protocol
/// adapters, then the operator API and the operations endpoints, each of those two
/// wrapped by `bound` ([`bounded`] in [`router`]; nothing for [`openapi::document`],
/// which takes only the operations).
fn api(
    bound: impl Fn(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(v1::provider::router())
        .merge(hub88::router())
        .merge(evolution::router())
        .merge(bound(v1::operator::router()))
        .merge(bound(ops::router()))
}

/// Answers `503 retry_later` when a request runs longer than `server.request_timeout_ms`.
/// Not applied to the provider routes: a money call that holds its player's turn runs
/// to its end (its own waits are bounded by the ledger and the pool), so its answer
/// always tells the truth about what was recorded.
fn bounded(routes: OpenApiRouter<AppState>, settings: &Settings) -> OpenApiRouter<AppState> {
    let limit = Duration::from_millis(settings.server.request_timeout_ms);
    routes.layer(middleware::from_fn(move |request: Request, next: Next| async move {
        match tokio::time::timeout(limit, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                use axum::response::IntoResponse;
                error::ApiError::new(
                    crate::domain::ErrorCode::RetryLater,
                    "the request timed out; a deposit or withdrawal may have been applied: resend it with the same transaction_id to learn its outcome",
                )
                .into_response()
            }
        }
    }))
}

fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    use axum::response::IntoResponse;
    let detail = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a request handler panicked".to_owned());
    error::ApiError::internal(format!("panic: {detail}")).into_response()
}

/// One span per request, which every log line of the call carries (the extractors and
/// handlers record the caller, provider, player and transaction into it), and one
/// structured line per request at its end, plus request metrics.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let span = tracing::info_span!(
        "request",
        request.id = %request_id,
        http.method = %method,
        http.route = %route,
        caller = tracing::field::Empty,
        provider.id = tracing::field::Empty,
        player.id = tracing::field::Empty,
        transaction.id = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let logged = response.extensions().get::<LoggedOutcome>();
    let outcome = logged.map_or("ok", |o| o.outcome);
    let code = logged.map_or("", |o| o.code);
    let detail = logged.and_then(|o| o.detail.as_deref()).unwrap_or("");
    metrics::counter!("wallet_http_requests_total", "route" => route.clone(), "method" => method.to_string(), "status" => status.to_string()).increment(1);
    metrics::histogram!("wallet_http_request_duration_seconds", "route" => route, "method" => method.to_string(), "status" => status.to_string()).record(latency.as_secs_f64());
    let _entered = span.enter();
    if status >= 500 {
        tracing::error!(
            http.status = status,
            latency_ms = latency_ms(latency),
            outcome,
            error.code = code,
            error.detail = detail,
            "request"
        );
    } else {
        tracing::info!(
            http.status = status,
            latency_ms = latency_ms(latency),
            outcome,
            error.code = code,
            "request"
        );
    }
    drop(_entered);
    response
}

fn latency_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
