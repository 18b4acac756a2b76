//! Evolution One Wallet (`../protocols.md` 2), mounted per provider under
//! `/evolution/{provider_id}`: the `authToken` query parameter, amounts as exact JSON
//! numbers, ids derived per player and `refId`, Evolution's statuses in HTTP 200
//! bodies. An adapter over the ledger: the money rules are the contract's.

pub mod auth;
pub mod dto;
pub mod handlers;
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
use handlers::Endpoint;

/// The six endpoints, each with its OpenAPI operation.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(balance))
        .routes(routes!(debit))
        .routes(routes!(credit))
        .routes(routes!(cancel))
        .routes(routes!(promo_payout))
}

/// What `check` answers, but the contract's refusals: HTTP 200 with Evolution's status.
#[allow(dead_code)] // never built: it describes the answer for the document
#[derive(utoipa::IntoResponses)]
#[response(
    status = 200,
    description = "Evolution's answer: `OK`, `INVALID_TOKEN_ID`, `INVALID_PARAMETER`, \
        `INVALID_SID` or `ACCOUNT_LOCKED`"
)]
pub struct CheckAnswer(dto::CheckReply);

/// What the other endpoints answer, but the contract's refusals: HTTP 200 with
/// Evolution's status and the balance.
#[allow(dead_code)] // never built: it describes the answer for the document
#[derive(utoipa::IntoResponses)]
#[response(status = 200,
    description = "Evolution's answer and the balance (`shared/protocols.md` 2.8); a repeat \
        of a recorded call carries `idempotent-replayed: true`",
    headers(("idempotent-replayed" = String, description = "`true` when this answers a \
        repeat of an earlier identical call.")))]
pub struct BalanceAnswer(dto::BalanceReply);

#[utoipa::path(post, path = "/evolution/{provider_id}/check", tag = "evolution",
    operation_id = "evolution_check", summary = "Validate a sid at game entry",
    description = "`OK` with the sid presented for a live sid of this provider and player.",
    params(("provider_id" = String, Path, description = "A provider of protocol `evolution`."),
        ("authToken" = String, Query, description = "The provider's `evolution.auth_token`.")),
    request_body = schema::Check,
    security(("evolution_auth_token" = [])),
    responses(CheckAnswer, Errors<AdapterErrors>))]
async fn check(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Check).await
}

#[utoipa::path(post, path = "/evolution/{provider_id}/balance", tag = "evolution",
    operation_id = "evolution_balance", summary = "Current balance",
    description = "The player's total and bonus part (blocked players too).",
    params(("provider_id" = String, Path, description = "A provider of protocol `evolution`."),
        ("authToken" = String, Query, description = "The provider's `evolution.auth_token`.")),
    request_body = schema::Balance,
    security(("evolution_auth_token" = [])),
    responses(BalanceAnswer, Errors<AdapterErrors>))]
async fn balance(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Balance).await
}

#[utoipa::path(post, path = "/evolution/{provider_id}/debit", tag = "evolution",
    operation_id = "evolution_debit", summary = "Place a bet",
    description = "A bet keyed `debit:<userId>:<refId>`; the same refId again answers `BET_ALREADY_EXIST`, a refId cancelled first `FINAL_ERROR_ACTION_FAILED`.",
    params(("provider_id" = String, Path, description = "A provider of protocol `evolution`."),
        ("authToken" = String, Query, description = "The provider's `evolution.auth_token`.")),
    request_body = schema::Money,
    security(("evolution_auth_token" = [])),
    responses(BalanceAnswer, Errors<AdapterErrors>))]
async fn debit(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Debit).await
}

#[utoipa::path(post, path = "/evolution/{provider_id}/credit", tag = "evolution",
    operation_id = "evolution_credit", summary = "Settle a bet",
    description = "A win of the debit with this `refId` (zero for a loss); accepted on an expired sid; a second credit answers `BET_ALREADY_SETTLED`.",
    params(("provider_id" = String, Path, description = "A provider of protocol `evolution`."),
        ("authToken" = String, Query, description = "The provider's `evolution.auth_token`.")),
    request_body = schema::Money,
    security(("evolution_auth_token" = [])),
    responses(BalanceAnswer, Errors<AdapterErrors>))]
async fn credit(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Credit).await
}

#[utoipa::path(post, path = "/evolution/{provider_id}/cancel", tag = "evolution",
    operation_id = "evolution_cancel", summary = "Cancel a bet",
    description = "Restores what the debit of this `refId` took; before the debit it answers `BET_DOES_NOT_EXIST` and leaves a tombstone; after the credit `BET_ALREADY_SETTLED`.",
    params(("provider_id" = String, Path, description = "A provider of protocol `evolution`."),
        ("authToken" = String, Query, description = "The provider's `evolution.auth_token`.")),
    request_body = schema::Money,
    security(("evolution_auth_token" = [])),
    responses(BalanceAnswer, Errors<AdapterErrors>))]
async fn cancel(state: State<AppState>, id: Path<String>, req: Request) -> Response {
    call(state, id, req, Endpoint::Cancel).await
}

#[utoipa::path(post, path = "/evolution/{provider_id}/promo_payout", tag = "evolution",
    operation_id = "evolution_promo_payout", summary = "Promotional payout",
    description = "A `promo` win (a `jackpot` win for `JackpotWin`) without a bet, keyed `promo:<userId>:<promoTransaction.id>`.",
    params(("provider_id" = String, Path, description = "A provider of protocol `evolution`."),
        ("authToken" = String, Query, description = "The provider's `evolution.auth_token`.")),
    request_body = schema::PromoPayout,
    security(("evolution_auth_token" = [])),
    responses(BalanceAnswer, Errors<AdapterErrors>))]
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
