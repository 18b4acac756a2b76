//! The contract's error envelope: every failure leaves as
//! `{"error": {"code", "message", ...}}` with the status of the v1 status table. A 5xx
//! never carries internal text: that goes to the request's log line only.

use axum::response::{IntoResponse, Response};
use axum::Json;

use super::v1::dto::{Balance, ErrorBody, ErrorDetail};
use super::v1::status;
use crate::domain::{ErrorCode, Reason};
use crate::ledger::LedgerError;

/// An error on its way out as a response.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    message: String,
    balance: Option<(Balance, String)>,
    /// What went wrong inside, for the log line of a 5xx; never sent.
    detail: Option<String>,
}

/// What the request log line says about the call's result: outcome, error code and,
/// for failures inside the wallet, their cause.
#[derive(Debug, Clone)]
pub struct LoggedOutcome {
    pub outcome: &'static str,
    pub code: &'static str,
    pub detail: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            balance: None,
            detail: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// A fault of the wallet: `500 internal_error` with a fixed text; `detail` is logged.
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError {
            detail: Some(detail.into()),
            ..Self::new(ErrorCode::Internal, "internal error")
        }
    }

    /// Adds what went wrong inside, for the log line only.
    pub fn detail(&mut self, detail: String) {
        self.detail = Some(detail);
    }

    /// A business refusal, which carries the unchanged balance.
    pub fn refusal(reason: Reason, balance: Balance, currency: String) -> Self {
        ApiError {
            balance: Some((balance, currency)),
            ..Self::new(reason.code(), refusal_message(reason))
        }
    }
}

/// The v1 text of each refusal (kept as the first bodies had it: replays of rows
/// recorded then render the same text).
fn refusal_message(reason: Reason) -> &'static str {
    match reason {
        Reason::PlayerBlocked => "the player is blocked",
        Reason::CurrencyMismatch => "the currency is not the player's",
        Reason::SessionExpired => "the session has expired",
        Reason::TransactionRolledBack => "this transaction was already rolled back",
        Reason::BetRolledBack => "the bet of this win was rolled back",
        Reason::RoundClosed => "the round is closed",
        Reason::InsufficientFunds => "the balance does not cover the stake",
        Reason::InsufficientCash => "not enough cash to withdraw",
        Reason::BetAlreadySettled => "the round of this bet has a win",
        Reason::RollbackNotAllowed => "only bets can be rolled back",
        Reason::BalanceLimitExceeded => "the credit would take a balance category above its limit",
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        let code = e.code();
        let detail = match &e {
            LedgerError::Refused { .. } => None,
            other => Some(other.to_string()),
        };
        ApiError {
            detail,
            ..Self::new(code, e.public_message())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status::of(self.code);
        let (balance, currency) = match self.balance {
            Some((b, c)) => (Some(b), Some(c)),
            None => (None, None),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                balance,
                code: self.code.as_str(),
                currency,
                message: self.message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(LoggedOutcome {
            outcome: if self.code.is_refusal() {
                "rejected"
            } else {
                "error"
            },
            code: self.code.as_str(),
            detail: self.detail,
        });
        response
    }
}

/// The body for a route nobody serves.
pub async fn not_found() -> Response {
    ApiError::new(ErrorCode::NotFound, "no such endpoint").into_response()
}

/// The body for a known path called with a method it does not serve.
pub async fn method_not_allowed() -> Response {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "method not allowed on this path",
    )
    .into_response()
}
