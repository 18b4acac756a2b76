//! The operator API: players, cash in and out, sessions, and audit queries.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::map::{self, Renderer};
use super::{dto, money_response, record_call};
use crate::domain::{ErrorCode as E, ExternalTxId, ProviderId, RoundId, TxKey};
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, JsonBody, Operator, Viewer};
use crate::http::openapi::{ErrorCodes, Errors, MONEY_CALL, OPERATOR_READ, OPERATOR_WRITE};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_player))
        .routes(routes!(get_player, set_status))
        .routes(routes!(deposit))
        .routes(routes!(withdraw))
        .routes(routes!(list_transactions))
        .routes(routes!(open_session))
        .routes(routes!(expire_session))
        .routes(routes!(get_transaction))
        .routes(routes!(get_round))
}

/// Turns a handler's result into a response.
fn respond<T: IntoResponse>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(ok) => ok.into_response(),
        Err(e) => e.into_response(),
    }
}

struct CreatePlayerErrors;
impl ErrorCodes for CreatePlayerErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_WRITE, &[E::PlayerExists]];
}

#[utoipa::path(post, path = "/v1/players", tag = "operator",
    summary = "Create a player",
    request_body = dto::CreatePlayer,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: active, every category at zero", body = dto::Player),
        (status = 200, description = "The same call was made before", body = dto::Player),
        Errors<CreatePlayerErrors>,
    ))]
async fn create_player(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(req): JsonBody<dto::CreatePlayer>,
) -> Response {
    record_call(&req.player_id, None);
    respond(
        async {
            let player_id = map::player_id(&req.player_id)?;
            let (created, player) = state
                .wallet
                .create_player(&player_id, &req.currency)
                .await?;
            let body = Json(Renderer::new(&state.wallet).player(&player)?);
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, body))
        }
        .await,
    )
}

struct GetPlayerErrors;
impl ErrorCodes for GetPlayerErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_READ, &[E::PlayerNotFound]];
}

#[utoipa::path(get, path = "/v1/players/{player_id}", tag = "operator",
    summary = "A player with balances",
    params(("player_id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The player", body = dto::Player),
        Errors<GetPlayerErrors>,
    ))]
async fn get_player(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath(player_id): ApiPath<String>,
) -> Response {
    record_call(&player_id, None);
    respond(
        async {
            let player = state
                .wallet
                .get_player(&map::player_id(&player_id)?)
                .await?;
            Ok(Json(Renderer::new(&state.wallet).player(&player)?))
        }
        .await,
    )
}

struct SetStatusErrors;
impl ErrorCodes for SetStatusErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_WRITE, &[E::PlayerNotFound]];
}

#[utoipa::path(patch, path = "/v1/players/{player_id}", tag = "operator",
    operation_id = "set_player_status",
    summary = "Block or unblock a player",
    params(("player_id" = String, Path)),
    request_body = dto::PlayerStatusChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The player", body = dto::Player),
        Errors<SetStatusErrors>,
    ))]
async fn set_status(
    State(state): State<AppState>,
    _: Operator,
    ApiPath(player_id): ApiPath<String>,
    JsonBody(req): JsonBody<dto::PlayerStatusChange>,
) -> Response {
    record_call(&player_id, None);
    respond(
        async {
            let status = map::player_status(&req)?;
            let player_id = map::player_id(&player_id)?;
            let player = state.wallet.set_player_status(&player_id, status).await?;
            Ok(Json(Renderer::new(&state.wallet).player(&player)?))
        }
        .await,
    )
}

struct DepositErrors;
impl ErrorCodes for DepositErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_WRITE, MONEY_CALL, &[E::PlayerNotFound]];
}

#[utoipa::path(post, path = "/v1/players/{player_id}/deposits", tag = "operator",
    summary = "Deposit (idempotent by transaction_id)",
    description = "`category` defaults to `cash`. Allowed for blocked players.",
    params(("player_id" = String, Path)),
    request_body = dto::Deposit,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
            body = dto::MoneyReceipt,
            headers(("idempotent-replayed" = String,
                description = "`true` when this answers a repeat of an earlier identical call."))),
        Errors<DepositErrors>,
    ))]
async fn deposit(
    State(state): State<AppState>,
    _: Operator,
    ApiPath(player_id): ApiPath<String>,
    JsonBody(req): JsonBody<dto::Deposit>,
) -> Response {
    record_call(&player_id, Some(&req.transaction_id));
    match map::deposit(&player_id, req) {
        Ok(cmd) => money_response(&state.wallet, state.wallet.cash(cmd).await),
        Err(e) => e.into_response(),
    }
}

struct WithdrawErrors;
impl ErrorCodes for WithdrawErrors {
    const CODES: &'static [&'static [E]] = &[
        OPERATOR_WRITE,
        MONEY_CALL,
        &[E::PlayerNotFound, E::InsufficientFunds],
    ];
}

#[utoipa::path(post, path = "/v1/players/{player_id}/withdrawals", tag = "operator",
    summary = "Withdraw cash (idempotent by transaction_id)",
    description = "Takes cash only. Allowed for blocked players.",
    params(("player_id" = String, Path)),
    request_body = dto::Withdrawal,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
            body = dto::MoneyReceipt,
            headers(("idempotent-replayed" = String,
                description = "`true` when this answers a repeat of an earlier identical call."))),
        Errors<WithdrawErrors>,
    ))]
async fn withdraw(
    State(state): State<AppState>,
    _: Operator,
    ApiPath(player_id): ApiPath<String>,
    JsonBody(req): JsonBody<dto::Withdrawal>,
) -> Response {
    record_call(&player_id, Some(&req.transaction_id));
    match map::withdrawal(&player_id, req) {
        Ok(cmd) => money_response(&state.wallet, state.wallet.cash(cmd).await),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<String>,
    cursor: Option<String>,
}

struct ListTransactionsErrors;
impl ErrorCodes for ListTransactionsErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_READ, &[E::PlayerNotFound]];
}

#[utoipa::path(get, path = "/v1/players/{player_id}/transactions", tag = "operator",
    summary = "A player's transactions, newest first",
    params(
        ("player_id" = String, Path),
        ("limit" = Option<i64>, Query, description = "Page size (default 50, at most 500)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page", body = dto::TransactionPage),
        Errors<ListTransactionsErrors>,
    ))]
async fn list_transactions(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath(player_id): ApiPath<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> Response {
    record_call(&player_id, None);
    respond(
        async {
            let Query(page) = page.map_err(|r| ApiError::invalid(r.body_text()))?;
            let limit = page
                .limit
                .as_deref()
                .map(str::parse::<i64>)
                .transpose()
                .map_err(|_| ApiError::invalid("limit must be an integer"))?;
            let player_id = map::player_id(&player_id)?;
            let (_, page) = state
                .wallet
                .list_transactions(&player_id, limit, page.cursor.as_deref())
                .await?;
            Ok(Json(Renderer::new(&state.wallet).page(&page)?))
        }
        .await,
    )
}

struct OpenSessionErrors;
impl ErrorCodes for OpenSessionErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_WRITE, &[E::PlayerNotFound]];
}

#[utoipa::path(post, path = "/v1/sessions", tag = "operator",
    summary = "Open a game session",
    description = "`ttl_seconds` defaults to 3600 (at least 1). A player may hold several live \
        sessions.",
    request_body = dto::OpenSession,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Opened", body = dto::Session),
        Errors<OpenSessionErrors>,
    ))]
async fn open_session(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(req): JsonBody<dto::OpenSession>,
) -> Response {
    record_call(&req.player_id, None);
    respond(
        async {
            let session = state.wallet.open_session(map::open_session(req)?).await?;
            Ok((StatusCode::CREATED, Json(map::session(&session))))
        }
        .await,
    )
}

struct ExpireSessionErrors;
impl ErrorCodes for ExpireSessionErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_WRITE, &[E::SessionNotFound]];
}

#[utoipa::path(delete, path = "/v1/sessions/{session_id}", tag = "operator",
    summary = "Expire a session now",
    params(("session_id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Expired"),
        Errors<ExpireSessionErrors>,
    ))]
async fn expire_session(
    State(state): State<AppState>,
    _: Operator,
    ApiPath(session_id): ApiPath<String>,
) -> Response {
    respond(
        async {
            map::check("session_id", &session_id)?;
            state.wallet.expire_session(&session_id).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        .await,
    )
}

struct GetTransactionErrors;
impl ErrorCodes for GetTransactionErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_READ, &[E::TransactionNotFound]];
}

#[utoipa::path(get, path = "/v1/providers/{provider_id}/transactions/{transaction_id}",
    tag = "operator",
    summary = "One transaction by the provider's id",
    description = "Operator deposits and withdrawals are not listed under a provider.",
    params(("provider_id" = String, Path), ("transaction_id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The transaction", body = dto::TransactionItem),
        Errors<GetTransactionErrors>,
    ))]
async fn get_transaction(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath((provider_id, transaction_id)): ApiPath<(String, String)>,
) -> Response {
    tracing::Span::current().record("transaction.id", transaction_id.as_str());
    respond(
        async {
            let key = TxKey {
                provider: map::id("provider_id", &provider_id, ProviderId::parse)?,
                transaction: map::id("transaction_id", &transaction_id, ExternalTxId::parse)?,
            };
            let entry = state.wallet.get_transaction(&key).await?;
            Ok(Json(Renderer::new(&state.wallet).item(&entry)?))
        }
        .await,
    )
}

/// `?player_id=`: which player's round, when several played the round id.
#[derive(Debug, Deserialize)]
struct RoundOf {
    player_id: Option<String>,
}

struct GetRoundErrors;
impl ErrorCodes for GetRoundErrors {
    const CODES: &'static [&'static [E]] = &[OPERATOR_READ, &[E::RoundNotFound]];
}

#[utoipa::path(get, path = "/v1/providers/{provider_id}/rounds/{round_id}", tag = "operator",
    summary = "A round with its bets, wins and rollbacks",
    params(
        ("provider_id" = String, Path),
        ("round_id" = String, Path),
        ("player_id" = Option<String>, Query,
            description = "Which player's round, when several played the round id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The round", body = dto::Round),
        Errors<GetRoundErrors>,
    ))]
async fn get_round(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath((provider_id, round_id)): ApiPath<(String, String)>,
    of: Result<Query<RoundOf>, QueryRejection>,
) -> Response {
    respond(
        async {
            let Query(of) = of.map_err(|r| ApiError::invalid(r.body_text()))?;
            let provider = map::id("provider_id", &provider_id, ProviderId::parse)?;
            let round_id = map::id("round_id", &round_id, RoundId::parse)?;
            let player = of.player_id.as_deref().map(map::player_id).transpose()?;
            let round = state
                .wallet
                .get_round(&provider, &round_id, player.as_ref())
                .await?;
            Ok(Json(Renderer::new(&state.wallet).round(&round)?))
        }
        .await,
    )
}
