//! Error responses: every failure leaves as the contract's envelope with its status.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::domain::error::error_body;
use crate::domain::ErrorCode;
use crate::ledger::{LedgerError, Outcome};

/// An error on its way out as a response.
#[derive(Debug)]
pub struct ApiError(pub LedgerError);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(LedgerError::new(code, message))
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        ApiError(e)
    }
}

/// What the request log line says about the call's result.
#[derive(Debug, Clone)]
pub struct LoggedOutcome(pub &'static str, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.code();
        if code == ErrorCode::Internal || code == ErrorCode::RetryLater {
            tracing::error!(error = %self.0, "request failed");
        }
        let status = StatusCode::from_u16(code.status()).expect("contract statuses are valid");
        let mut response = (status, Json(self.0.body())).into_response();
        response
            .extensions_mut()
            .insert(LoggedOutcome("error", code.as_str().to_owned()));
        response
    }
}

/// A money call's outcome, replayed or not.
pub fn outcome_response(outcome: Outcome) -> Response {
    let status = StatusCode::from_u16(outcome.status).expect("recorded statuses are valid");
    let label = match (outcome.replayed, outcome.status) {
        (true, _) => LoggedOutcome("replayed", code_of(&outcome.body)),
        (false, 200) => LoggedOutcome("applied", String::new()),
        (false, _) => LoggedOutcome("rejected", code_of(&outcome.body)),
    };
    let mut response = (status, Json(outcome.body)).into_response();
    if outcome.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response.extensions_mut().insert(label);
    response
}

fn code_of(body: &Value) -> String {
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The body for a known path called with a method it does not serve.
pub async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(error_body(
            ErrorCode::InvalidRequest,
            "method not allowed on this path",
            None,
        )),
    )
        .into_response()
}

/// The body for a route nobody serves.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(error_body(
            ErrorCode::InvalidRequest,
            "no such endpoint",
            None,
        )),
    )
        .into_response()
}
