//! Hub88's operator wallet API (`../protocols.md` 1), mounted per provider under
//! `/hub88/{provider_id}`: RSA-signed calls in both directions, integer amounts ×
//! multiplier, Hub88's statuses in HTTP 200 bodies. An adapter over the ledger: the
//! money rules are the contract's, only the wire and the status table are Hub88's.

pub mod auth;
pub mod dto;
pub mod handlers;
pub mod map;
pub mod schema;
pub mod status;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::LoggedOutcome;
use super::extract::body_bytes;
use super::AppState;
use crate::config::Protocol;
use crate::http::openapi::{AdapterErrors, Errors};
use auth::SIGNATURE_HEADER;
use dto::Reply;
use handlers::{Answered, Endpoint};
use status::Status;

/// The five endpoints, each with its OpenAPI operation.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(info))
        .routes(routes!(balance))
        .routes(routes!(bet))
        .routes(routes!(win))
        .routes(routes!(rollback))
}

/// What every endpoint answers, but the contract's refusals: HTTP 200 with Hub88's
/// status, signed.
#[allow(dead_code)] // never built: it describes the answer for the document
#[derive(utoipa::IntoResponses)]
#[response(status = 200,
    description = "Hub88's answer: `RS_OK` or an `RS_ERROR_*` status (`shared/protocols.md` \
        1.8); a repeat of a recorded call answers as the first time did",
    headers(
        ("x-hub88-signature" = String, description = "base64 RSASSA-PKCS1-v1_5 SHA-256 of the \
            exact response body, made with the provider's `hub88.signing_key` (ours)."),
        ("idempotent-replayed" = String, description = "`true` when this answers a repeat of \
            an earlier identical call.")))]
pub struct Answer(dto::Reply);

#[utoipa::path(post, path = "/hub88/{provider_id}/user/info", tag = "hub88",
    operation_id = "hub88_user_info", summary = "Player details",
    description = "`user` and `currency` of a known player (blocked players too).",
    params(("provider_id" = String, Path, description = "A provider of protocol `hub88`.")),
    request_body = schema::UserInfo,
    security(("hub88_signature" = [])),
    responses(Answer, Errors<AdapterErrors>))]
async fn info(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Info).await
}

#[utoipa::path(post, path = "/hub88/{provider_id}/user/balance", tag = "hub88",
    operation_id = "hub88_user_balance", summary = "Current balance",
    description = "The player's total × the multiplier; the token must be live and this \
        provider's and player's.",
    params(("provider_id" = String, Path, description = "A provider of protocol `hub88`.")),
    request_body = schema::Balance,
    security(("hub88_signature" = [])),
    responses(Answer, Errors<AdapterErrors>))]
async fn balance(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Balance).await
}

#[utoipa::path(post, path = "/hub88/{provider_id}/transaction/bet", tag = "hub88",
    operation_id = "hub88_transaction_bet", summary = "Debit a stake",
    description = "A bet of the ledger, idempotent by `transaction_uuid` (scoped by \
        provider); `RS_ERROR_NOT_ENOUGH_MONEY` carries the unchanged balance.",
    params(("provider_id" = String, Path, description = "A provider of protocol `hub88`.")),
    request_body = schema::Bet,
    security(("hub88_signature" = [])),
    responses(Answer, Errors<AdapterErrors>))]
async fn bet(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Bet).await
}

#[utoipa::path(post, path = "/hub88/{provider_id}/transaction/win", tag = "hub88",
    operation_id = "hub88_transaction_win", summary = "Credit a win",
    description = "A win of the bet `reference_transaction_uuid`; accepted on an expired \
        token. A win before its bet waits the correlation window, then \
        `RS_ERROR_TRANSACTION_DOES_NOT_EXIST`.",
    params(("provider_id" = String, Path, description = "A provider of protocol `hub88`.")),
    request_body = schema::Win,
    security(("hub88_signature" = [])),
    responses(Answer, Errors<AdapterErrors>))]
async fn win(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Win).await
}

#[utoipa::path(post, path = "/hub88/{provider_id}/transaction/rollback", tag = "hub88",
    operation_id = "hub88_transaction_rollback", summary = "Reverse a bet",
    description = "Restores what the referenced bet took; answers `RS_OK` also when nothing \
        moves (a reference never seen leaves a tombstone; after a win nothing moves).",
    params(("provider_id" = String, Path, description = "A provider of protocol `hub88`.")),
    request_body = schema::Rollback,
    security(("hub88_signature" = [])),
    responses(Answer, Errors<AdapterErrors>))]
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
    match signature.map(|s| HeaderValue::from_str(&s)) {
        Some(Ok(value)) => {
            response.headers_mut().insert(SIGNATURE_HEADER, value);
        }
        // The answer is still the truth of what happened (money may have moved): it
        // goes out unsigned rather than not at all.
        _ => tracing::error!("hub88 answer could not be signed; sent without a signature"),
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
