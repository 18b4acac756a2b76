//! The Hub88 wire format as the OpenAPI document shows it (`../protocols.md` 1.5, 1.6).
//! Documentation only: the handlers read the fields one by one from the raw JSON
//! ([`super::dto::Fields`]), so that only plain integers are amounts.

#![allow(dead_code)] // never built: these types only describe the wire for utoipa

use utoipa::ToSchema;

/// `POST /user/info`.
#[derive(ToSchema)]
#[schema(as = Hub88UserInfo,
    example = json!({"user": "player-1001", "request_uuid": "0d0f6a52-5a52-4a1e-9a3b-1f1e2d3c4b5a"}))]
pub struct UserInfo {
    /// Our `player_id`.
    user: String,
    /// This HTTP call's id, echoed back.
    request_uuid: String,
}

/// `POST /user/balance`.
#[derive(ToSchema)]
#[schema(as = Hub88Balance)]
pub struct Balance {
    user: String,
    /// Our `session_id` of this provider and player (`POST /v1/sessions`).
    token: String,
    request_uuid: String,
    /// Statistics only.
    game_code: Option<String>,
    /// The user's name at the game supplier; informational.
    supplier_user: Option<String>,
}

/// `POST /transaction/bet`: a debit. Compared for duplicates: `user`, `amount`,
/// `currency`, `round`, `game_code`, `is_free`.
#[derive(ToSchema)]
#[schema(as = Hub88Bet, example = json!({
    "user": "player-1001", "transaction_uuid": "7f0b5c52-4d6e-4f08-9a5e-0c1e2b3a4d5f",
    "supplier_transaction_id": "sup-88213", "token": "3f1d9a0e-6c2b-4e57-8d1a-2b9c7e4f6a10",
    "supplier_user": "cg_45141", "round_closed": false, "round": "rnd-55120",
    "request_uuid": "b6a3e0c4-2f1d-4b8e-9c7a-5d4e3f2a1b0c", "is_free": false,
    "game_code": "clt_dragonrising", "currency": "EUR", "bet": "lines 20", "amount": 150000}))]
pub struct Bet {
    user: String,
    /// The money movement's id: our `transaction_id`, scoped by provider.
    transaction_uuid: String,
    token: String,
    /// Our `round_id`.
    round: String,
    request_uuid: String,
    /// Must equal the session's `game_id`.
    game_code: String,
    /// Must equal the player's currency.
    currency: String,
    /// Stake × the provider's multiplier (100000 unless configured per currency), a plain
    /// JSON integer; it must be exact at the currency's scale (EUR: multiples of 1000).
    #[schema(minimum = 0)]
    amount: i64,
    /// A free bet: recorded as a zero stake (1.11).
    is_free: Option<bool>,
    /// `true` implies `is_free`.
    is_supplier_promo: Option<bool>,
    /// Informational on bets.
    round_closed: Option<bool>,
    supplier_transaction_id: Option<String>,
    supplier_user: Option<String>,
}

/// `POST /transaction/win`: a credit of the bet `reference_transaction_uuid`; the bet's
/// fields plus the reference. `round_closed: true` closes the round. Compared for
/// duplicates: the bet's fields and `reference_transaction_uuid`.
#[derive(ToSchema)]
#[schema(as = Hub88Win)]
pub struct Win {
    user: String,
    transaction_uuid: String,
    /// The `transaction_uuid` of the bet this win pays.
    reference_transaction_uuid: String,
    token: String,
    round: String,
    request_uuid: String,
    game_code: String,
    currency: String,
    /// Prize × multiplier, a plain JSON integer, exact at the currency's scale.
    #[schema(minimum = 0)]
    amount: i64,
    /// The win of a free bet: an ordinary win, paid to `cash` (1.11).
    is_free: Option<bool>,
    /// `true` implies `is_free`.
    is_supplier_promo: Option<bool>,
    /// `true` closes the round: later bets on it are refused.
    round_closed: Option<bool>,
    supplier_transaction_id: Option<String>,
    supplier_user: Option<String>,
}

/// `POST /transaction/rollback`: reverses the bet `reference_transaction_uuid`. A
/// reference never seen answers `RS_OK` and leaves a tombstone; a rollback the ledger
/// refuses (after a win, of a win) answers `RS_OK` with the unchanged balance (1.10).
#[derive(ToSchema)]
#[schema(as = Hub88Rollback)]
pub struct Rollback {
    user: String,
    transaction_uuid: String,
    /// The bet to reverse.
    reference_transaction_uuid: String,
    token: String,
    request_uuid: String,
    round: Option<String>,
    game_code: Option<String>,
    round_closed: Option<bool>,
    supplier_transaction_id: Option<String>,
}
