//! The provider API: signed balance, bet, win and rollback calls.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Signed;
use super::map::{self, Renderer};
use super::{dto, money_response, record_call};
use crate::domain::ErrorCode as E;
use crate::http::error::ApiError;
use crate::http::openapi::{ErrorCodes, Errors, MONEY_CALL, PROVIDER_CALL};
use crate::http::AppState;
use crate::ledger::{Policy, SessionRef};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(balance))
        .routes(routes!(bet))
        .routes(routes!(win))
        .routes(routes!(rollback))
}

struct BalanceErrors;
impl ErrorCodes for BalanceErrors {
    const CODES: &'static [&'static [E]] = &[PROVIDER_CALL, &[E::SessionInvalid]];
}

#[utoipa::path(post, path = "/v1/wallet/balance", tag = "provider",
    operation_id = "wallet_balance",
    summary = "A player's balance",
    description = "With `session_id`, the session must be this provider's and player's.",
    request_body = dto::BalanceQuery,
    security(("provider_id" = [], "provider_timestamp" = [], "provider_signature" = [])),
    responses(
        (status = 200, description = "The balance", body = dto::BalanceReply),
        Errors<BalanceErrors>,
    ))]
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

struct BetErrors;
impl ErrorCodes for BetErrors {
    const CODES: &'static [&'static [E]] = &[
        PROVIDER_CALL,
        MONEY_CALL,
        &[
            E::SessionInvalid,
            E::SessionExpired,
            E::InsufficientFunds,
            E::PlayerBlocked,
            E::CurrencyMismatch,
            E::RoundClosed,
            E::TransactionRolledBack,
        ],
    ];
}

#[utoipa::path(post, path = "/v1/wallet/bet", tag = "provider",
    operation_id = "wallet_bet",
    summary = "Debit a stake",
    description = "Spends the stake from the categories in the configured order (default cash, \
        then bonus). The session must be live and this provider's, player's and game's. The \
        first bet of a `(provider, round_id)` opens the round. A zero amount is valid.",
    request_body = dto::Bet,
    security(("provider_id" = [], "provider_timestamp" = [], "provider_signature" = [])),
    responses(
        (status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
            body = dto::MoneyReceipt,
            headers(("idempotent-replayed" = String,
                description = "`true` when this answers a repeat of an earlier identical call."))),
        Errors<BetErrors>,
    ))]
async fn bet(State(state): State<AppState>, call: Signed<dto::Bet>) -> Response {
    record_call(&call.body.player_id, Some(&call.body.transaction_id));
    let cmd = match map::bet(&state.wallet, &call.provider, call.body) {
        Ok(cmd) => cmd,
        Err(e) => return e.into_response(),
    };
    let result = state.wallet.bet(cmd, Policy::V1).await;
    money_response(&state.wallet, result)
}

struct WinErrors;
impl ErrorCodes for WinErrors {
    const CODES: &'static [&'static [E]] = &[
        PROVIDER_CALL,
        MONEY_CALL,
        &[
            E::SessionInvalid,
            E::BetNotFound,
            E::CurrencyMismatch,
            E::TransactionRolledBack,
        ],
    ];
}

#[utoipa::path(post, path = "/v1/wallet/win", tag = "provider",
    operation_id = "wallet_win",
    summary = "Credit a win",
    description = "`kind` is `win` (default), `promo` or `jackpot`. A `win` is linked to its bet \
        by `bet_transaction_id`, else the round's latest live bet, else the session's latest \
        unsettled bet; when none exists yet the server waits up to the correlation window \
        (default 2 s) before `404 bet_not_found`. Credited in the proportions of the round's \
        stake. `round_closed: true` closes the round. Accepted with an expired session and for \
        blocked players.",
    request_body = dto::Win,
    security(("provider_id" = [], "provider_timestamp" = [], "provider_signature" = [])),
    responses(
        (status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
            body = dto::MoneyReceipt,
            headers(("idempotent-replayed" = String,
                description = "`true` when this answers a repeat of an earlier identical call."))),
        Errors<WinErrors>,
    ))]
async fn win(State(state): State<AppState>, call: Signed<dto::Win>) -> Response {
    record_call(&call.body.player_id, Some(&call.body.transaction_id));
    let cmd = match map::win(&state.wallet, &call.provider, call.body) {
        Ok(cmd) => cmd,
        Err(e) => return e.into_response(),
    };
    let result = state.wallet.win(cmd, Policy::V1).await;
    money_response(&state.wallet, result)
}

struct RollbackErrors;
impl ErrorCodes for RollbackErrors {
    const CODES: &'static [&'static [E]] = &[
        PROVIDER_CALL,
        MONEY_CALL,
        &[
            E::TransactionNotFound,
            E::BetAlreadySettled,
            E::RollbackNotAllowed,
        ],
    ];
}

#[utoipa::path(post, path = "/v1/wallet/rollback", tag = "provider",
    operation_id = "wallet_rollback",
    summary = "Reverse a bet",
    description = "Restores exactly what the referenced bet took. A rollback of an unknown \
        transaction succeeds without moving money and leaves a tombstone that refuses the bet \
        if it arrives later.",
    request_body = dto::Rollback,
    security(("provider_id" = [], "provider_timestamp" = [], "provider_signature" = [])),
    responses(
        (status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
            body = dto::MoneyReceipt,
            headers(("idempotent-replayed" = String,
                description = "`true` when this answers a repeat of an earlier identical call."))),
        Errors<RollbackErrors>,
    ))]
async fn rollback(State(state): State<AppState>, call: Signed<dto::Rollback>) -> Response {
    record_call(&call.body.player_id, Some(&call.body.transaction_id));
    let cmd = match map::rollback(&call.provider, call.body) {
        Ok(cmd) => cmd,
        Err(e) => return e.into_response(),
    };
    let result = state.wallet.rollback(cmd, Policy::V1).await;
    money_response(&state.wallet, result)
}
