//! Hub88's operator wallet API (`../protocols.md` 1), mounted per provider under
//! `/hub88/{provider_id}`: RSA-signed calls in both directions, integer amounts ×
//! multiplier, Hub88's statuses in HTTP 200 bodies. An adapter over the ledger: the
//! money rules are the contract's, only the wire and the status table are Hub88's.

pub mod auth;
pub mod dto;
pub mod handlers;
pub mod map;
pub mod status;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use super::error::LoggedOutcome;
use super::extract::body_bytes;
use super::AppState;
use crate::config::Protocol;
use auth::SIGNATURE_HEADER;
use dto::Reply;
use handlers::{Answered, Endpoint};
use status::Status;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hub88/{provider_id}/user/info", post(info))
        .route("/hub88/{provider_id}/user/balance", post(balance))
        .route("/hub88/{provider_id}/transaction/bet", post(bet))
        .route("/hub88/{provider_id}/transaction/win", post(win))
        .route("/hub88/{provider_id}/transaction/rollback", post(rollback))
}

async fn info(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Info).await
}

async fn balance(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Balance).await
}

async fn bet(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Bet).await
}

async fn win(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Win).await
}

async fn rollback(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Rollback).await
}

/// One call in the order of 1.7: routing, source address and body size (the contract's
/// envelope), the signature over the raw bytes, then the endpoint.
async fn call(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    req: Request,
    endpoint: Endpoint,
) -> Response {
    let provider = match super::adapter::provider(&state, &provider_id, Protocol::Hub88, &req) {
        Ok((_, provider)) => provider,
        Err(e) => return e.into_response(),
    };
    let Some(keys) = state.auth.hub88(provider.as_str()) else {
        return super::error::ApiError::internal("a hub88 provider without loaded keys")
            .into_response();
    };
    let signature = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match body_bytes(req, &state).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let request_uuid = dto::request_uuid(&body);
    let answered = if keys.verify(signature.as_deref(), &body) {
        handlers::handle(&state, &provider, &keys, endpoint, &body, request_uuid).await
    } else {
        Answered::new(Reply::error(Status::InvalidSignature, request_uuid))
    };
    signed(&keys, answered)
}

/// The answer as HTTP 200 JSON, signed with our key over its exact bytes.
fn signed(keys: &auth::Hub88Keys, answered: Answered) -> Response {
    let body = match serde_json::to_vec(&answered.reply) {
        Ok(body) => body,
        Err(e) => return super::error::ApiError::internal(e.to_string()).into_response(),
    };
    let signature = keys.sign(&body);
    let mut response = (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&signature) {
        response.headers_mut().insert(SIGNATURE_HEADER, value);
    }
    if answered.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    let status = answered.reply.status;
    response.extensions_mut().insert(LoggedOutcome {
        outcome: match (answered.replayed, status == Status::Ok.as_str()) {
            (true, _) => "replayed",
            (false, true) => "applied",
            (false, false) => "rejected",
        },
        code: status,
        detail: answered.detail,
    });
    response
}
