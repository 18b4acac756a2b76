//! The wallet's own API (v1, `../wallet-api.md`): HMAC-signed provider calls and the
//! bearer-token operator API. DTOs and their mapping to the ledger's commands and from
//! its outcomes live here, with the status table.

pub mod auth;
pub mod dto;
pub mod map;
pub mod operator;
pub mod provider;
pub mod status;

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{ApiError, LoggedOutcome};
use crate::domain::Outcome;
use crate::ledger::{Answer, LedgerError, Wallet};
use map::Renderer;

/// Records who and what a call is about on the request's span (its log line).
pub(crate) fn record_call(player_id: &str, transaction_id: Option<&str>) {
    let span = tracing::Span::current();
    span.record("player.id", player_id);
    if let Some(id) = transaction_id {
        span.record("transaction.id", id);
    }
}

/// A money call's answer as a response: its receipt, or its refusal, replayed or not.
pub(crate) fn money_response(wallet: &Wallet, result: Result<Answer, LedgerError>) -> Response {
    let answer = match result {
        Ok(answer) => answer,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut response = match Renderer::new(wallet).answer(&answer) {
        Ok(receipt) => {
            let mut response = Json(receipt).into_response();
            response.extensions_mut().insert(LoggedOutcome {
                outcome: "applied",
                code: "",
                detail: None,
            });
            response
        }
        Err(refusal) => refusal.into_response(),
    };
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        let code = match &answer.outcome {
            Outcome::Applied(_) => "",
            Outcome::Refused(r) => r.reason.code().as_str(),
        };
        response.extensions_mut().insert(LoggedOutcome {
            outcome: "replayed",
            code,
            detail: None,
        });
    }
    response
}
