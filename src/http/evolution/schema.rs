//! The Evolution wire format as the OpenAPI document shows it (`../protocols.md` 2.3,
//! 2.6). Documentation only: the handlers read one request shape
//! ([`super::dto::Request`]) and require each call's own fields.

#![allow(dead_code)] // never built: these types only describe the wire for utoipa

use utoipa::ToSchema;

#[derive(ToSchema)]
#[schema(as = EvolutionChannel)]
pub struct Channel {
    /// `P` (PC) or `M` (mobile); informational.
    #[schema(rename = "type")]
    kind: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = EvolutionTable)]
pub struct Table {
    /// The table: our `game_id`.
    id: String,
    /// Virtual table id; informational.
    vid: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = EvolutionGameDetails)]
pub struct Details {
    table: Table,
}

#[derive(ToSchema)]
#[schema(as = EvolutionGame)]
pub struct Game {
    /// Evolution's game round id (part of our `round_id`).
    id: String,
    /// e.g. `blackjack`.
    #[schema(rename = "type")]
    kind: Option<String>,
    details: Details,
}

#[derive(ToSchema)]
#[schema(as = EvolutionTransaction)]
pub struct Transaction {
    /// Evolution's id of this transaction; a cancel repeats the debit's.
    id: String,
    /// The bet's reference: a credit or a cancel names its debit by it. Our ids derive
    /// from it: `debit:<userId>:<refId>`, `credit:...`, `cancel:...` (2.5).
    #[schema(rename = "refId")]
    ref_id: String,
    /// Currency units as a JSON number (never a string), exact at the currency's scale
    /// (`10.000000` EUR is fine, `1.556` is refused). Not used by a cancel.
    #[schema(minimum = 0)]
    amount: Option<f64>,
}

#[derive(ToSchema)]
#[schema(as = EvolutionPromoTransaction)]
pub struct PromoTransaction {
    /// The payout's id: ours is `promo:<userId>:<id>`.
    id: String,
    /// `JackpotWin` is recorded as a `jackpot` win, anything else as `promo`.
    #[schema(rename = "type")]
    kind: Option<String>,
    /// Currency units as a JSON number, exact at the currency's scale.
    #[schema(minimum = 0)]
    amount: f64,
}

/// `POST /check`: the sid at game entry.
#[derive(ToSchema)]
#[schema(as = EvolutionCheck, example = json!({
    "sid": "3f1d9a0e-6c2b-4e57-8d1a-2b9c7e4f6a10", "userId": "player-1001",
    "channel": {"type": "P"}, "uuid": "u1"}))]
pub struct Check {
    /// Our `session_id` of this provider and player (`POST /v1/sessions`).
    sid: String,
    /// Our `player_id`.
    #[schema(rename = "userId")]
    user_id: String,
    channel: Option<Channel>,
    /// This HTTP call's id, echoed back.
    uuid: Option<String>,
}

/// `POST /balance` (also in the lobby, `game: null`).
#[derive(ToSchema)]
#[schema(as = EvolutionBalance)]
pub struct Balance {
    sid: String,
    #[schema(rename = "userId")]
    user_id: String,
    /// Must equal the player's currency.
    currency: String,
    /// Informational.
    #[schema(nullable)]
    game: Option<Game>,
    uuid: Option<String>,
}

/// `POST /debit`, `/credit` and `/cancel`: one bet, its settlement, its cancellation,
/// all named by `transaction.refId`. On a cancel `game` and `transaction.amount` are
/// optional (the cancel restores what the debit took).
#[derive(ToSchema)]
#[schema(as = EvolutionMoney, example = json!({
    "sid": "3f1d9a0e-6c2b-4e57-8d1a-2b9c7e4f6a10", "userId": "player-1001", "currency": "EUR",
    "game": {"id": "rnd-7kfw", "type": "blackjack",
        "details": {"table": {"id": "bj-table-01", "vid": "bj-v-01"}}},
    "transaction": {"id": "tx-9Aot", "refId": "ref-1459", "amount": 10.0},
    "uuid": "ce7e6a1c-93a4-4d0f-8d64-3c8e2f1b5a77"}))]
pub struct Money {
    sid: String,
    #[schema(rename = "userId")]
    user_id: String,
    currency: String,
    game: Option<Game>,
    transaction: Transaction,
    uuid: Option<String>,
}

/// `POST /promo_payout`: a promotional payout without a bet.
#[derive(ToSchema)]
#[schema(as = EvolutionPromoPayout)]
pub struct PromoPayout {
    sid: String,
    #[schema(rename = "userId")]
    user_id: String,
    currency: String,
    /// The table id is the movement's `game_id` when present.
    #[schema(nullable)]
    game: Option<Game>,
    #[schema(rename = "promoTransaction")]
    promo_transaction: PromoTransaction,
    uuid: Option<String>,
}
