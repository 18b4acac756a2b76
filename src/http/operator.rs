//! The operator API: players, cash in and out, sessions, and audit queries.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::error::{outcome_response, ApiError};
use super::extract::{JsonBody, Operator, Viewer};
use super::{AppState, LogFields};
use crate::ledger::{CreatePlayer, Deposit, OpenSession, PlayerStatusChange, Withdrawal};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/players", post(create_player))
        .route("/v1/players/{player_id}", get(get_player).patch(set_status))
        .route("/v1/players/{player_id}/deposits", post(deposit))
        .route("/v1/players/{player_id}/withdrawals", post(withdraw))
        .route(
            "/v1/players/{player_id}/transactions",
            get(list_transactions),
        )
        .route("/v1/sessions", post(open_session))
        .route("/v1/sessions/{session_id}", delete(expire_session))
        .route(
            "/v1/providers/{provider_id}/transactions/{transaction_id}",
            get(get_transaction),
        )
        .route(
            "/v1/providers/{provider_id}/rounds/{round_id}",
            get(get_round),
        )
}

fn fields(role: &str, player_id: Option<&str>, transaction_id: Option<&str>) -> LogFields {
    LogFields {
        caller: format!("operator:{role}"),
        player_id: player_id.map(str::to_owned),
        transaction_id: transaction_id.map(str::to_owned),
    }
}

async fn create_player(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(req): JsonBody<CreatePlayer>,
) -> Response {
    let log = fields("operator", Some(&req.player_id), None);
    let response = match state.wallet.create_player(req).await {
        Ok((true, player)) => (StatusCode::CREATED, Json(player)).into_response(),
        Ok((false, player)) => (StatusCode::OK, Json(player)).into_response(),
        Err(e) => ApiError(e).into_response(),
    };
    log.attach(response)
}

async fn get_player(
    State(state): State<AppState>,
    _: Viewer,
    Path(player_id): Path<String>,
) -> Response {
    let log = fields("viewer", Some(&player_id), None);
    let result = state.wallet.get_player(&player_id).await;
    log.attach(result.map(Json).map_err(ApiError).into_response())
}

async fn set_status(
    State(state): State<AppState>,
    _: Operator,
    Path(player_id): Path<String>,
    JsonBody(req): JsonBody<PlayerStatusChange>,
) -> Response {
    let log = fields("operator", Some(&player_id), None);
    let result = state.wallet.set_player_status(&player_id, req).await;
    log.attach(result.map(Json).map_err(ApiError).into_response())
}

async fn deposit(
    State(state): State<AppState>,
    _: Operator,
    Path(player_id): Path<String>,
    JsonBody(req): JsonBody<Deposit>,
) -> Response {
    let log = fields("operator", Some(&player_id), Some(&req.transaction_id));
    let result = state.wallet.deposit(&player_id, req).await;
    log.attach(
        result
            .map(outcome_response)
            .map_err(ApiError)
            .into_response(),
    )
}

async fn withdraw(
    State(state): State<AppState>,
    _: Operator,
    Path(player_id): Path<String>,
    JsonBody(req): JsonBody<Withdrawal>,
) -> Response {
    let log = fields("operator", Some(&player_id), Some(&req.transaction_id));
    let result = state.wallet.withdraw(&player_id, req).await;
    log.attach(
        result
            .map(outcome_response)
            .map_err(ApiError)
            .into_response(),
    )
}

#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<String>,
    cursor: Option<String>,
}

async fn list_transactions(
    State(state): State<AppState>,
    _: Viewer,
    Path(player_id): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> Response {
    let log = fields("viewer", Some(&player_id), None);
    let page = match page {
        Ok(Query(page)) => page,
        Err(rejection) => {
            let error = ApiError::new(
                crate::domain::ErrorCode::InvalidRequest,
                rejection.body_text(),
            );
            return log.attach(error.into_response());
        }
    };
    let limit = match page.limit.as_deref().map(str::parse::<i64>).transpose() {
        Ok(limit) => limit,
        Err(_) => {
            return log.attach(
                ApiError::new(
                    crate::domain::ErrorCode::InvalidRequest,
                    "limit must be an integer",
                )
                .into_response(),
            )
        }
    };
    let result = state
        .wallet
        .list_transactions(&player_id, limit, page.cursor.as_deref())
        .await;
    log.attach(result.map(Json).map_err(ApiError).into_response())
}

async fn open_session(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(req): JsonBody<OpenSession>,
) -> Response {
    let log = fields("operator", Some(&req.player_id), None);
    let result = state.wallet.open_session(req).await;
    log.attach(
        result
            .map(|s| (StatusCode::CREATED, Json(s)))
            .map_err(ApiError)
            .into_response(),
    )
}

async fn expire_session(
    State(state): State<AppState>,
    _: Operator,
    Path(session_id): Path<String>,
) -> Response {
    let log = fields("operator", None, None);
    let result = state.wallet.expire_session(&session_id).await;
    log.attach(
        result
            .map(|()| StatusCode::NO_CONTENT)
            .map_err(ApiError)
            .into_response(),
    )
}

async fn get_transaction(
    State(state): State<AppState>,
    _: Viewer,
    Path((provider_id, transaction_id)): Path<(String, String)>,
) -> Response {
    let log = fields("viewer", None, Some(&transaction_id));
    let result = state
        .wallet
        .get_transaction(&provider_id, &transaction_id)
        .await;
    log.attach(result.map(Json).map_err(ApiError).into_response())
}

async fn get_round(
    State(state): State<AppState>,
    _: Viewer,
    Path((provider_id, round_id)): Path<(String, String)>,
) -> Response {
    let log = fields("viewer", None, None);
    let result = state.wallet.get_round(&provider_id, &round_id).await;
    log.attach(result.map(Json).map_err(ApiError).into_response())
}
