//! The OpenAPI 3 description served at `GET /openapi.json` and browsed at `/docs`.
//!
//! Request bodies are the ledger's own request types (they derive `ToSchema`); the
//! answers are `serde_json::Value` built in `ledger::view`, so their shapes are described
//! here by schema-only types. Each operation is declared on a stub function below
//! (handlers stay free of documentation noise); the error responses of every operation
//! come from one table, [`ERRORS`], so each code appears with its status and an example.
//! `tests/api/openapi.rs` fails when the router serves a path or method the document
//! does not list, or the document lists one the router does not serve.

#![allow(dead_code)] // Stub operations and schema-only types are read by the derives only.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::json;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder, Schema,
};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::domain::ErrorCode;
use crate::http::v1::dto::AmountInput;
use crate::http::v1::dto::{
    BalanceQuery, Bet, CreatePlayer, Deposit, OpenSession, PlayerStatusChange, Rollback, Win,
    Withdrawal,
};

/// The document, built once.
pub fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// The document as JSON text, rendered once.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_pretty_json()
            .expect("the document serializes")
    })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Casino wallet API",
        description = "Exactly-once bets, wins and rollbacks for game providers (HMAC-signed, \
            under `/v1/wallet/*`), player and cash management for operators (bearer tokens, \
            under `/v1/*`), and operations endpoints.\n\n\
            Amounts are exact decimals: JSON strings or numbers in requests, strings with \
            exactly the currency's decimals in responses. Every error has the body \
            `{\"error\": {\"code\", \"message\", ...}}`. Every response carries `x-request-id`. \
            Money calls are idempotent by `(provider, transaction_id)`: a repeated call \
            answers as the first one did, with `idempotent-replayed: true`.",
        license(name = "Apache-2.0"),
    ),
    paths(
        wallet_balance, wallet_bet, wallet_win, wallet_rollback,
        create_player, get_player, set_player_status, deposit, withdraw, list_transactions,
        open_session, expire_session, get_transaction, get_round,
        health_live, health_ready, metrics, openapi_json,
    ),
    components(schemas(
        Amount, Balance, ErrorBody, ErrorDetail, ErrorCodeName,
        BalanceQuery, Bet, Win, Rollback, BalanceReply, MoneyReceipt,
        CreatePlayer, PlayerStatusChange, Deposit, Withdrawal, OpenSession,
        Player, Session, TransactionItem, TransactionPage, Round, Health,
    )),
    modifiers(&Enrich),
    tags(
        (name = "provider", description = "Game providers: signed money calls. Sign \
            `\"<X-Timestamp>.<raw body>\"` with HMAC-SHA256 and the provider's secret; send the \
            lowercase hex digest as `X-Signature`. Timestamps more than 300 s away from the \
            server clock are refused."),
        (name = "operator", description = "The casino's back office. `Authorization: Bearer \
            <token>`; role `viewer` reads, role `operator` reads and writes."),
        (name = "ops", description = "Health, metrics and this document. No token."),
    ),
)]
pub struct ApiDoc;

// ---------------------------------------------------------------------------------------
// Schemas of answers and shared pieces.

/// An exact decimal amount. In requests: a JSON string in plain decimal notation
/// (`"12.50"`) or a JSON number (`12.5`, `2.5e1`); it must be non-negative and exact at
/// the currency's scale (`"0.001"` EUR is refused, `"12.500"` EUR is fine).
pub struct Amount;

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[0-9]+(\.[0-9]+)?$"))
                    .examples([json!("12.50")]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(0.0))
                    .examples([json!(12.5)]),
            )
            .description(Some(
                "Exact decimal: a string (\"12.50\") or a number (12.5); non-negative, no more \
                 decimals than the currency has.",
            ))
            .into()
    }
}

impl ToSchema for Amount {
    fn name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }
}

/// Request fields typed [`AmountInput`] are documented as [`Amount`].
impl PartialSchema for AmountInput {
    fn schema() -> RefOr<Schema> {
        Ref::from_schema_name("Amount").into()
    }
}

impl ToSchema for AmountInput {
    fn name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }
}

/// A balance: `total` and one string per configured category (default `cash`, `bonus`),
/// zero ones included, each written with exactly the currency's decimals.
pub struct Balance;

impl PartialSchema for Balance {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The total and one entry per configured balance category, as decimal strings \
                 at the currency's scale.",
            ))
            .property("total", money_string())
            .required("total")
            .property("cash", money_string())
            .required("cash")
            .additional_properties(Some(money_string()))
            .examples([json!({"total": "60.00", "cash": "50.00", "bonus": "10.00"})])
            .into()
    }
}

impl ToSchema for Balance {}

fn money_string() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^[0-9]+(\.[0-9]+)?$"))
}

/// Every machine-readable error code of the contract.
pub struct ErrorCodeName;

impl PartialSchema for ErrorCodeName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl ToSchema for ErrorCodeName {
    fn name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }
}

/// The body of every error response.
#[derive(ToSchema)]
#[schema(example = json!({"error": {"code": "insufficient_funds",
    "message": "the balance does not cover the stake",
    "balance": {"total": "5.00", "cash": "5.00", "bonus": "0.00"}, "currency": "EUR"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong. `balance` and `currency` are present where a balance is relevant
/// (e.g. `insufficient_funds`).
#[derive(ToSchema)]
pub struct ErrorDetail {
    #[schema(value_type = ErrorCodeName)]
    pub code: String,
    /// Human-readable explanation; not for machines.
    pub message: String,
    #[schema(value_type = Option<Balance>)]
    pub balance: Option<()>,
    pub currency: Option<String>,
}

/// The answer of `POST /v1/wallet/balance`.
#[derive(ToSchema)]
#[schema(example = json!({"balance": {"total": "60.00", "cash": "50.00", "bonus": "10.00"},
    "currency": "EUR"}))]
pub struct BalanceReply {
    #[schema(value_type = Balance)]
    pub balance: (),
    pub currency: String,
}

/// The answer of every accepted money call (bet, win, rollback, deposit, withdrawal).
#[derive(ToSchema)]
#[schema(example = json!({"transaction_id": "tx-1",
    "wallet_transaction_id": "01936f4e-8a4b-7c3d-9e2f-0a1b2c3d4e5f",
    "balance": {"total": "50.00", "cash": "50.00", "bonus": "0.00"}, "currency": "EUR"}))]
pub struct MoneyReceipt {
    /// The caller's id of this money movement.
    pub transaction_id: String,
    /// The wallet's own id of this movement (UUID v7).
    pub wallet_transaction_id: uuid::Uuid,
    #[schema(value_type = Balance)]
    pub balance: (),
    pub currency: String,
}

/// A player with balances.
#[derive(ToSchema)]
#[schema(example = json!({"player_id": "p-1", "currency": "EUR", "status": "active",
    "balance": {"total": "0.00", "cash": "0.00", "bonus": "0.00"}}))]
pub struct Player {
    pub player_id: String,
    pub currency: String,
    #[schema(value_type = String, pattern = "^(active|blocked)$")]
    pub status: String,
    #[schema(value_type = Balance)]
    pub balance: (),
}

/// An open game session.
#[derive(ToSchema)]
pub struct Session {
    pub session_id: uuid::Uuid,
    pub player_id: String,
    pub provider_id: String,
    pub game_id: String,
    /// RFC 3339, UTC.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// One accepted money call as the audit queries list it.
#[derive(ToSchema)]
pub struct TransactionItem {
    pub wallet_transaction_id: uuid::Uuid,
    /// The provider that made the call; null for operator deposits and withdrawals.
    pub provider_id: Option<String>,
    /// The caller's id of the movement.
    pub transaction_id: String,
    pub player_id: String,
    /// `bet`, `win`, `rollback`, `deposit` or `withdrawal`.
    #[schema(pattern = "^(bet|win|rollback|deposit|withdrawal)$")]
    pub kind: String,
    /// For wins: `win`, `promo` or `jackpot`.
    pub win_kind: Option<String>,
    #[schema(value_type = String, example = "10.00")]
    pub amount: (),
    pub currency: String,
    /// Category -> amount; the values add up to `amount`.
    #[schema(value_type = BTreeMap<String, String>, example = json!({"cash": "8.00", "bonus": "2.00"}))]
    pub split: (),
    #[schema(value_type = Balance)]
    pub balance_after: (),
    pub round_id: Option<String>,
    pub game_id: Option<String>,
    pub session_id: Option<uuid::Uuid>,
    /// The provider's id of the bet a win settles or a rollback reverses; null otherwise.
    pub reference_transaction_id: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A page of a player's transactions, newest first.
#[derive(ToSchema)]
pub struct TransactionPage {
    pub items: Vec<TransactionItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A round and every movement in it.
#[derive(ToSchema)]
pub struct Round {
    pub round_id: String,
    pub player_id: String,
    pub game_id: String,
    #[schema(pattern = "^(open|closed)$")]
    pub status: String,
    pub bets: Vec<TransactionItem>,
    pub wins: Vec<TransactionItem>,
    pub rollbacks: Vec<TransactionItem>,
}

/// A health answer.
#[derive(ToSchema)]
pub struct Health {
    #[schema(example = "ready")]
    pub status: String,
}

// ---------------------------------------------------------------------------------------
// Operations. Success responses here; error responses from `ERRORS`.

#[utoipa::path(post, path = "/v1/wallet/balance", tag = "provider",
    summary = "A player's balance",
    description = "With `session_id`, the session must be this provider's and player's.",
    request_body = BalanceQuery,
    security(("provider_id" = [], "provider_timestamp" = [], "provider_signature" = [])),
    responses((status = 200, description = "The balance", body = BalanceReply)))]
fn wallet_balance() {}

#[utoipa::path(post, path = "/v1/wallet/bet", tag = "provider",
    summary = "Debit a stake",
    description = "Spends the stake from the categories in the configured order (default cash, \
        then bonus). The session must be live and this provider's, player's and game's. The \
        first bet of a `(provider, round_id)` opens the round. A zero amount is valid.",
    request_body = Bet,
    security(("provider_id" = [], "provider_timestamp" = [], "provider_signature" = [])),
    responses((status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
        body = MoneyReceipt)))]
fn wallet_bet() {}

#[utoipa::path(post, path = "/v1/wallet/win", tag = "provider",
    summary = "Credit a win",
    description = "`kind` is `win` (default), `promo` or `jackpot`. A `win` is linked to its bet \
        by `bet_transaction_id`, else the round's latest live bet, else the session's latest \
        unsettled bet; when none exists yet the server waits up to the correlation window \
        (default 2 s) before `404 bet_not_found`. Credited in the proportions of the round's \
        stake. `round_closed: true` closes the round. Accepted with an expired session and for \
        blocked players.",
    request_body = Win,
    security(("provider_id" = [], "provider_timestamp" = [], "provider_signature" = [])),
    responses((status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
        body = MoneyReceipt)))]
fn wallet_win() {}

#[utoipa::path(post, path = "/v1/wallet/rollback", tag = "provider",
    summary = "Reverse a bet",
    description = "Restores exactly what the referenced bet took. A rollback of an unknown \
        transaction succeeds without moving money and leaves a tombstone that refuses the bet \
        if it arrives later.",
    request_body = Rollback,
    security(("provider_id" = [], "provider_timestamp" = [], "provider_signature" = [])),
    responses((status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
        body = MoneyReceipt)))]
fn wallet_rollback() {}

#[utoipa::path(post, path = "/v1/players", tag = "operator",
    summary = "Create a player",
    request_body = CreatePlayer,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created: active, every category at zero", body = Player),
        (status = 200, description = "The same call was made before", body = Player)))]
fn create_player() {}

#[utoipa::path(get, path = "/v1/players/{player_id}", tag = "operator",
    summary = "A player with balances",
    params(("player_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The player", body = Player)))]
fn get_player() {}

#[utoipa::path(patch, path = "/v1/players/{player_id}", tag = "operator",
    summary = "Block or unblock a player",
    params(("player_id" = String, Path)),
    request_body = PlayerStatusChange,
    security(("bearer" = [])),
    responses((status = 200, description = "The player", body = Player)))]
fn set_player_status() {}

#[utoipa::path(post, path = "/v1/players/{player_id}/deposits", tag = "operator",
    summary = "Deposit (idempotent by transaction_id)",
    description = "`category` defaults to `cash`. Allowed for blocked players.",
    params(("player_id" = String, Path)),
    request_body = Deposit,
    security(("bearer" = [])),
    responses((status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
        body = MoneyReceipt)))]
fn deposit() {}

#[utoipa::path(post, path = "/v1/players/{player_id}/withdrawals", tag = "operator",
    summary = "Withdraw cash (idempotent by transaction_id)",
    description = "Takes cash only. Allowed for blocked players.",
    params(("player_id" = String, Path)),
    request_body = Withdrawal,
    security(("bearer" = [])),
    responses((status = 200, description = "Applied, or replayed with `idempotent-replayed: true`",
        body = MoneyReceipt)))]
fn withdraw() {}

#[utoipa::path(get, path = "/v1/players/{player_id}/transactions", tag = "operator",
    summary = "A player's transactions, newest first",
    params(
        ("player_id" = String, Path),
        ("limit" = Option<i64>, Query, description = "Page size (default 50, at most 500)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "One page", body = TransactionPage)))]
fn list_transactions() {}

#[utoipa::path(post, path = "/v1/sessions", tag = "operator",
    summary = "Open a game session",
    description = "`ttl_seconds` defaults to 3600 (at least 1). A player may hold several live \
        sessions.",
    request_body = OpenSession,
    security(("bearer" = [])),
    responses((status = 201, description = "Opened", body = Session)))]
fn open_session() {}

#[utoipa::path(delete, path = "/v1/sessions/{session_id}", tag = "operator",
    summary = "Expire a session now",
    params(("session_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Expired")))]
fn expire_session() {}

#[utoipa::path(get, path = "/v1/providers/{provider_id}/transactions/{transaction_id}",
    tag = "operator",
    summary = "One transaction by the provider's id",
    description = "Operator deposits and withdrawals are not listed under a provider.",
    params(("provider_id" = String, Path), ("transaction_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The transaction", body = TransactionItem)))]
fn get_transaction() {}

#[utoipa::path(get, path = "/v1/providers/{provider_id}/rounds/{round_id}", tag = "operator",
    summary = "A round with its bets, wins and rollbacks",
    params(("provider_id" = String, Path), ("round_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The round", body = Round)))]
fn get_round() {}

#[utoipa::path(get, path = "/health/live", tag = "ops",
    summary = "Liveness: 200 while the process runs",
    responses((status = 200, description = "Live", body = Health)))]
fn health_live() {}

#[utoipa::path(get, path = "/health/ready", tag = "ops",
    summary = "Readiness: 200 only while the database answers",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "`retry_later`: the database did not answer", body = ErrorBody)))]
fn health_ready() {}

#[utoipa::path(get, path = "/metrics", tag = "ops",
    summary = "Prometheus metrics (text exposition format)",
    responses((status = 200, description = "Metrics", content_type = "text/plain; version=0.0.4",
        body = String)))]
fn metrics() {}

#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    summary = "This document",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json",
        body = Object)))]
fn openapi_json() {}

// ---------------------------------------------------------------------------------------
// Error responses per operation.

use ErrorCode as E;

/// Errors every signed provider call can answer with.
const PROVIDER_COMMON: &[ErrorCode] = &[
    E::InvalidRequest,
    E::Unauthorized,
    E::Forbidden,
    E::PlayerNotFound,
    E::PayloadTooLarge,
    E::RetryLater,
];

/// Errors every money call adds: idempotency, the per-player queue.
const MONEY_COMMON: &[ErrorCode] = &[E::IdempotencyConflict, E::RateLimited];

/// Errors every operator call can answer with (writes add `forbidden` for viewers).
const OPERATOR_READ: &[ErrorCode] = &[E::InvalidRequest, E::Unauthorized, E::RetryLater];
const OPERATOR_WRITE: &[ErrorCode] = &[
    E::InvalidRequest,
    E::Unauthorized,
    E::Forbidden,
    E::PayloadTooLarge,
    E::RetryLater,
];

/// One operation's error codes: the common sets it shares, then its own.
pub type OperationErrors = (
    &'static str,
    &'static str,
    &'static [&'static [ErrorCode]],
    &'static [ErrorCode],
);

/// `(method, path, common sets, codes of this operation)`.
pub const ERRORS: &[OperationErrors] = &[
    (
        "post",
        "/v1/wallet/balance",
        &[PROVIDER_COMMON],
        &[E::SessionInvalid],
    ),
    (
        "post",
        "/v1/wallet/bet",
        &[PROVIDER_COMMON, MONEY_COMMON],
        &[
            E::SessionInvalid,
            E::SessionExpired,
            E::InsufficientFunds,
            E::PlayerBlocked,
            E::CurrencyMismatch,
            E::RoundClosed,
            E::TransactionRolledBack,
        ],
    ),
    (
        "post",
        "/v1/wallet/win",
        &[PROVIDER_COMMON, MONEY_COMMON],
        &[
            E::SessionInvalid,
            E::BetNotFound,
            E::CurrencyMismatch,
            E::TransactionRolledBack,
        ],
    ),
    (
        "post",
        "/v1/wallet/rollback",
        &[PROVIDER_COMMON, MONEY_COMMON],
        &[
            E::TransactionNotFound,
            E::BetAlreadySettled,
            E::RollbackNotAllowed,
        ],
    ),
    ("post", "/v1/players", &[OPERATOR_WRITE], &[E::PlayerExists]),
    (
        "get",
        "/v1/players/{player_id}",
        &[OPERATOR_READ],
        &[E::PlayerNotFound],
    ),
    (
        "patch",
        "/v1/players/{player_id}",
        &[OPERATOR_WRITE],
        &[E::PlayerNotFound],
    ),
    (
        "post",
        "/v1/players/{player_id}/deposits",
        &[OPERATOR_WRITE, MONEY_COMMON],
        &[E::PlayerNotFound],
    ),
    (
        "post",
        "/v1/players/{player_id}/withdrawals",
        &[OPERATOR_WRITE, MONEY_COMMON],
        &[E::PlayerNotFound, E::InsufficientFunds],
    ),
    (
        "get",
        "/v1/players/{player_id}/transactions",
        &[OPERATOR_READ],
        &[E::PlayerNotFound],
    ),
    (
        "post",
        "/v1/sessions",
        &[OPERATOR_WRITE],
        &[E::PlayerNotFound],
    ),
    (
        "delete",
        "/v1/sessions/{session_id}",
        &[OPERATOR_WRITE],
        &[E::SessionNotFound],
    ),
    (
        "get",
        "/v1/providers/{provider_id}/transactions/{transaction_id}",
        &[OPERATOR_READ],
        &[E::TransactionNotFound],
    ),
    (
        "get",
        "/v1/providers/{provider_id}/rounds/{round_id}",
        &[OPERATOR_READ],
        &[E::RoundNotFound],
    ),
];

/// Adds the security schemes, the per-operation error responses, the
/// `x-request-id` / `idempotent-replayed` headers, and enumerations the request types
/// cannot carry themselves.
struct Enrich;

impl Modify for Enrich {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Operator token from configuration; role `viewer` reads, `operator` \
                         reads and writes.",
                    ))
                    .build(),
            ),
        );
        for (name, header, what) in [
            (
                "provider_id",
                "X-Provider-Id",
                "The provider's configured id.",
            ),
            (
                "provider_timestamp",
                "X-Timestamp",
                "Unix seconds; at most 300 s away from the server clock.",
            ),
            (
                "provider_signature",
                "X-Signature",
                "Lowercase hex HMAC-SHA256(secret, \"<X-Timestamp>.<raw request body>\").",
            ),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(header, what))),
            );
        }
        restrict_strings(components, "Win", "kind", &["win", "promo", "jackpot"]);
        restrict_strings(
            components,
            "PlayerStatusChange",
            "status",
            &["active", "blocked"],
        );
        for (method, path, common, own) in ERRORS {
            let Some(operation) = operation_mut(doc, method, path) else {
                panic!("ERRORS lists {method} {path}, which the document lacks");
            };
            let codes = common.iter().flat_map(|c| c.iter()).chain(own.iter());
            add_errors(operation, codes.copied());
            if MONEY_CALLS.contains(path) {
                add_replay_header(operation);
            }
        }
        for item in doc.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                add_request_id_header(operation);
            }
        }
    }
}

const MONEY_CALLS: &[&str] = &[
    "/v1/wallet/bet",
    "/v1/wallet/win",
    "/v1/wallet/rollback",
    "/v1/players/{player_id}/deposits",
    "/v1/players/{player_id}/withdrawals",
];

fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn operation_mut<'a>(doc: &'a mut Document, method: &str, path: &str) -> Option<&'a mut Operation> {
    let item = doc.paths.paths.get_mut(path)?;
    match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        "patch" => item.patch.as_mut(),
        "delete" => item.delete.as_mut(),
        "put" => item.put.as_mut(),
        _ => None,
    }
}

/// One response per status, listing its codes, with an example body for each code.
fn add_errors(operation: &mut Operation, codes: impl Iterator<Item = ErrorCode>) {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes {
        let list = by_status
            .entry(crate::http::v1::status::of(code).as_u16())
            .or_default();
        if !list.contains(&code) {
            list.push(code);
        }
    }
    for (status, codes) in by_status {
        let names: Vec<String> = codes.iter().map(|c| format!("`{}`", c.as_str())).collect();
        let examples = codes.iter().map(|code| {
            let mut error = json!({"code": code.as_str(), "message": "human readable"});
            if *code == E::InsufficientFunds {
                error["balance"] = json!({"total": "5.00", "cash": "5.00", "bonus": "0.00"});
                error["currency"] = json!("EUR");
            }
            (
                code.as_str(),
                ExampleBuilder::new()
                    .value(Some(json!({ "error": error })))
                    .build(),
            )
        });
        let response = ResponseBuilder::new()
            .description(names.join(", "))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .examples_from_iter(examples)
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .insert(status.to_string(), response.into());
    }
}

fn header(description: &str) -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

fn add_request_id_header(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            response.headers.insert(
                "x-request-id".into(),
                header("The request's id, echoed from the request when given."),
            );
        }
    }
}

fn add_replay_header(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status == "200" || status == "422", response) {
            response.headers.insert(
                "idempotent-replayed".into(),
                header("`true` when this answers a repeat of an earlier identical call."),
            );
        }
    }
}

/// Turns `schema.property` (a string, maybe nullable) into an enumeration.
fn restrict_strings(
    components: &mut utoipa::openapi::Components,
    schema: &str,
    property: &str,
    values: &[&str],
) {
    let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
        panic!("schema {schema} is missing or not an object");
    };
    let Some(RefOr::T(Schema::Object(field))) = object.properties.get_mut(property) else {
        panic!("{schema}.{property} is missing or not a plain schema");
    };
    let nullable =
        matches!(&field.schema_type, SchemaType::Array(types) if types.contains(&Type::Null));
    let mut allowed: Vec<serde_json::Value> = values.iter().map(|v| json!(v)).collect();
    if nullable {
        allowed.push(serde_json::Value::Null);
    }
    field.enum_values = Some(allowed);
}
