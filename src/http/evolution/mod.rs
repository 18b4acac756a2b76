//! Evolution One Wallet (`../protocols.md` 2), mounted per provider under
//! `/evolution/{provider_id}`: the `authToken` query parameter, amounts as exact JSON
//! numbers, ids derived per player and `refId`, Evolution's statuses in HTTP 200
//! bodies. An adapter over the ledger: the money rules are the contract's.

pub mod auth;
pub mod dto;
pub mod handlers;
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
use handlers::Endpoint;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/evolution/{provider_id}/check", post(check))
        .route("/evolution/{provider_id}/balance", post(balance))
        .route("/evolution/{provider_id}/debit", post(debit))
        .route("/evolution/{provider_id}/credit", post(credit))
        .route("/evolution/{provider_id}/cancel", post(cancel))
        .route("/evolution/{provider_id}/promo_payout", post(promo_payout))
}

async fn check(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Check).await
}

async fn balance(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Balance).await
}

async fn debit(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Debit).await
}

async fn credit(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Credit).await
}

async fn cancel(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Cancel).await
}

async fn promo_payout(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Promo).await
}

/// One call in the order of 2.7: routing, source address and body size (the contract's
/// envelope), the `authToken`, then the endpoint.
async fn call(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    req: Request,
    endpoint: Endpoint,
) -> Response {
    let (settings, provider) =
        match super::adapter::provider(&state, &provider_id, Protocol::Evolution, &req) {
            Ok(found) => found,
            Err(e) => return e.into_response(),
        };
    let token_ok = settings
        .evolution
        .as_ref()
        .is_some_and(|e| auth::token_ok(req.uri(), &e.auth_token));
    let body = match body_bytes(req, &state).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let answered = handlers::handle(&state, &provider, endpoint, &body, token_ok).await;
    let mut response = (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        answered.body,
    )
        .into_response();
    if answered.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response.extensions_mut().insert(LoggedOutcome {
        outcome: match (answered.replayed, answered.status == status::Status::Ok) {
            (true, _) => "replayed",
            (false, true) => "applied",
            (false, false) => "rejected",
        },
        code: answered.status.as_str(),
        detail: answered.detail,
    });
    response
}
