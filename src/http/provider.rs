//! The provider API: signed balance, bet, win and rollback calls.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::error::{outcome_response, ApiError};
use super::extract::Signed;
use super::{AppState, LogFields};
use crate::ledger::{BalanceQuery, Bet, Rollback, Win};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/wallet/balance", post(balance))
        .route("/v1/wallet/bet", post(bet))
        .route("/v1/wallet/win", post(win))
        .route("/v1/wallet/rollback", post(rollback))
}

fn fields(provider_id: &str, player_id: &str, transaction_id: Option<&str>) -> LogFields {
    LogFields {
        caller: format!("provider:{provider_id}"),
        player_id: Some(player_id.to_owned()),
        transaction_id: transaction_id.map(str::to_owned),
    }
}

async fn balance(State(state): State<AppState>, call: Signed<BalanceQuery>) -> Response {
    let log = fields(&call.provider_id, &call.body.player_id, None);
    let result = state.wallet.balance(&call.provider_id, call.body).await;
    log.attach(result.map(Json).map_err(ApiError::from).into_response())
}

async fn bet(State(state): State<AppState>, call: Signed<Bet>) -> Response {
    let log = fields(
        &call.provider_id,
        &call.body.player_id,
        Some(&call.body.transaction_id),
    );
    let result = state.wallet.bet(&call.provider_id, call.body).await;
    log.attach(
        result
            .map(outcome_response)
            .map_err(ApiError::from)
            .into_response(),
    )
}

async fn win(State(state): State<AppState>, call: Signed<Win>) -> Response {
    let log = fields(
        &call.provider_id,
        &call.body.player_id,
        Some(&call.body.transaction_id),
    );
    let result = state.wallet.win(&call.provider_id, call.body).await;
    log.attach(
        result
            .map(outcome_response)
            .map_err(ApiError::from)
            .into_response(),
    )
}

async fn rollback(State(state): State<AppState>, call: Signed<Rollback>) -> Response {
    let log = fields(
        &call.provider_id,
        &call.body.player_id,
        Some(&call.body.transaction_id),
    );
    let result = state.wallet.rollback(&call.provider_id, call.body).await;
    log.attach(
        result
            .map(outcome_response)
            .map_err(ApiError::from)
            .into_response(),
    )
}
