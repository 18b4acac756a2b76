//! The provider API: signed balance, bet, win and rollback calls.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::auth::Signed;
use super::map::{self, Renderer};
use super::{dto, money_response, record_call};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::ledger::{Policy, SessionRef};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/wallet/balance", post(balance))
        .route("/v1/wallet/bet", post(bet))
        .route("/v1/wallet/win", post(win))
        .route("/v1/wallet/rollback", post(rollback))
}

async fn balance(State(state): State<AppState>, call: Signed<dto::BalanceQuery>) -> Response {
    record_call(&call.body.player_id, None);
    let result = async {
        let player = map::player_id(&call.body.player_id)?;
        let session = call.body.session_id.as_deref().map(SessionRef::parse);
        let view = state
            .wallet
            .balance(&call.provider, &player, session)
            .await?;
        Renderer::new(&state.wallet).balance_reply(&view)
    };
    match result.await {
        Ok(reply) => Json(reply).into_response(),
        Err(e) => ApiError::into_response(e),
    }
}

async fn bet(State(state): State<AppState>, call: Signed<dto::Bet>) -> Response {
    record_call(&call.body.player_id, Some(&call.body.transaction_id));
    let cmd = match map::bet(&state.wallet, &call.provider, call.body) {
        Ok(cmd) => cmd,
        Err(e) => return e.into_response(),
    };
    let result = state.wallet.bet(cmd, Policy::V1).await;
    money_response(&state.wallet, result)
}

async fn win(State(state): State<AppState>, call: Signed<dto::Win>) -> Response {
    record_call(&call.body.player_id, Some(&call.body.transaction_id));
    let cmd = match map::win(&state.wallet, &call.provider, call.body) {
        Ok(cmd) => cmd,
        Err(e) => return e.into_response(),
    };
    let result = state.wallet.win(cmd, Policy::V1).await;
    money_response(&state.wallet, result)
}

async fn rollback(State(state): State<AppState>, call: Signed<dto::Rollback>) -> Response {
    record_call(&call.body.player_id, Some(&call.body.transaction_id));
    let cmd = match map::rollback(&call.provider, call.body) {
        Ok(cmd) => cmd,
        Err(e) => return e.into_response(),
    };
    let result = state.wallet.rollback(cmd, Policy::V1).await;
    money_response(&state.wallet, result)
}
