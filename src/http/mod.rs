//! HTTP: routers per audience (provider, operator, ops), extractors, error mapping,
//! request ids, the OpenAPI document and the one-line-per-request log.

pub mod error;
pub mod extract;
pub mod openapi;
mod operator;
mod ops;
mod provider;

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
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::ledger::Wallet;
use error::LoggedOutcome;
use extract::Auth;

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

/// Who called and about what, attached to a response for the request log.
#[derive(Debug, Clone, Default)]
pub struct LogFields {
    pub caller: String,
    pub player_id: Option<String>,
    pub transaction_id: Option<String>,
}

impl LogFields {
    pub fn attach(self, mut response: Response) -> Response {
        response.extensions_mut().insert(self);
        response
    }
}

/// The whole application router with its middleware.
pub fn router(state: AppState, settings: &Settings) -> Router {
    Router::new()
        .merge(provider::router())
        .merge(bounded(operator::router(), settings))
        .merge(bounded(ops::router(), settings))
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

/// Answers `503 retry_later` when a request runs longer than `server.request_timeout_ms`.
/// Not applied to the provider routes: a money call that holds its player's turn runs
/// to its end (its own waits are bounded by the ledger and the pool), so its answer
/// always tells the truth about what was recorded.
fn bounded(router: Router<AppState>, settings: &Settings) -> Router<AppState> {
    let limit = Duration::from_millis(settings.server.request_timeout_ms);
    router.layer(middleware::from_fn(move |request: Request, next: Next| async move {
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

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    use axum::response::IntoResponse;
    tracing::error!("request handler panicked");
    error::ApiError::new(crate::domain::ErrorCode::Internal, "internal error").into_response()
}

/// One structured line per request, plus request metrics.
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
    let response = next.run(request).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let fields = response
        .extensions()
        .get::<LogFields>()
        .cloned()
        .unwrap_or_default();
    let outcome = response.extensions().get::<LoggedOutcome>().cloned();
    let (outcome, code) = outcome.map(|o| (o.0, o.1)).unwrap_or(("ok", String::new()));
    metrics::counter!("wallet_http_requests_total", "route" => route.clone(), "method" => method.to_string(), "status" => status.to_string()).increment(1);
    metrics::histogram!("wallet_http_request_duration_seconds", "route" => route.clone(), "method" => method.to_string(), "status" => status.to_string()).record(latency.as_secs_f64());
    tracing::info!(
        request.id = %request_id,
        http.method = %method,
        http.route = %route,
        http.status = status,
        latency_ms = latency_ms(latency),
        caller = %fields.caller,
        player.id = fields.player_id.as_deref().unwrap_or(""),
        transaction.id = fields.transaction_id.as_deref().unwrap_or(""),
        outcome,
        error.code = %code,
        "request"
    );
    response
}

fn latency_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
