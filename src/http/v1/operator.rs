//! The operator API: players, cash in and out, sessions, and audit queries.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::map::{self, Renderer};
use super::{dto, money_response, record_call};
use crate::domain::{ExternalTxId, ProviderId, RoundId, TxKey};
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, Operator, Viewer};
use crate::http::AppState;

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

/// Turns a handler's result into a response.
fn respond<T: IntoResponse>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(ok) => ok.into_response(),
        Err(e) => e.into_response(),
    }
}

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

async fn get_player(
    State(state): State<AppState>,
    _: Viewer,
    Path(player_id): Path<String>,
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

async fn set_status(
    State(state): State<AppState>,
    _: Operator,
    Path(player_id): Path<String>,
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

async fn deposit(
    State(state): State<AppState>,
    _: Operator,
    Path(player_id): Path<String>,
    JsonBody(req): JsonBody<dto::Deposit>,
) -> Response {
    record_call(&player_id, Some(&req.transaction_id));
    match map::deposit(&player_id, req) {
        Ok(cmd) => money_response(&state.wallet, state.wallet.cash(cmd).await),
        Err(e) => e.into_response(),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    _: Operator,
    Path(player_id): Path<String>,
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

async fn list_transactions(
    State(state): State<AppState>,
    _: Viewer,
    Path(player_id): Path<String>,
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

async fn expire_session(
    State(state): State<AppState>,
    _: Operator,
    Path(session_id): Path<String>,
) -> Response {
    respond(
        async {
            state.wallet.expire_session(&session_id).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        .await,
    )
}

async fn get_transaction(
    State(state): State<AppState>,
    _: Viewer,
    Path((provider_id, transaction_id)): Path<(String, String)>,
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

async fn get_round(
    State(state): State<AppState>,
    _: Viewer,
    Path((provider_id, round_id)): Path<(String, String)>,
) -> Response {
    respond(
        async {
            let provider = map::id("provider_id", &provider_id, ProviderId::parse)?;
            let round_id = map::id("round_id", &round_id, RoundId::parse)?;
            let round = state.wallet.get_round(&provider, &round_id).await?;
            Ok(Json(Renderer::new(&state.wallet).round(&round)?))
        }
        .await,
    )
}
