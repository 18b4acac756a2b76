//! The OpenAPI 3 description served at `GET /openapi.json` and browsed at `/docs`.
//!
//! The operations are the handlers' own `#[utoipa::path]` attributes, registered with
//! `utoipa_axum::routes!` next to the routes they document (`v1::provider`,
//! `v1::operator`, `ops`), so the router and the document are one list, merged by
//! `http::api`. Request and response bodies are the wire types of `v1::dto`. This module
//! holds the rest: the root ([`ApiDoc`]: info, tags, security schemes), the schemas no
//! Rust type carries by itself ([`Amount`], [`ErrorCodeName`], the closed sets of
//! names), and [`Errors`], the error responses of an operation, derived from the
//! [`ErrorCode`]s it can answer with and the status table of `v1::status`.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::OnceLock;

use serde_json::json;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::schema::{Object, ObjectBuilder, OneOfBuilder, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, Header, HeaderBuilder, OpenApi as Document, Ref, RefOr, Response,
    ResponseBuilder, Schema,
};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

use crate::domain::{ErrorCode, PlayerStatus, RoundStatus, TransactionKind, WinKind};
use crate::http::v1::dto::ErrorBody;
use crate::http::v1::status;

/// The document, built once from the routers.
pub fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut doc) = super::api(|routes| routes).split_for_parts();
        add_request_id_headers(&mut doc);
        doc
    })
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

/// The root of the document; the routers add the paths and the schemas their operations
/// name. `ErrorBody` is named by [`Errors`] only, by reference, so it is listed here; so
/// are the adapters' answers, named by reference by their `IntoResponses` types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Casino wallet API",
        description = "Exactly-once bets, wins and rollbacks for game providers (HMAC-signed, \
            under `/v1/wallet/*`), player and cash management for operators (bearer tokens, \
            under `/v1/*`), and operations endpoints. The contract is the wallet API document \
            (`shared/wallet-api.md`); its section Authentication specifies the provider \
            signature.\n\n\
            Amounts are exact decimals: JSON strings or numbers in requests, strings with \
            exactly the currency's decimals in responses. Every error has the body \
            `{\"error\": {\"code\", \"message\", ...}}`. Every response carries `x-request-id`. \
            Money calls are idempotent by `(provider, transaction_id)`: a repeated call \
            answers as the first one did, with `idempotent-replayed: true`.\n\n\
            Game providers that speak a vendor protocol are served natively under their own \
            prefix (`shared/protocols.md`): Hub88's operator wallet API under \
            `/hub88/{provider_id}/...` (RSA-SHA256 signatures both ways, integer amounts × \
            100000) and Evolution One Wallet under `/evolution/{provider_id}/...` (the \
            `authToken` query parameter, amounts as JSON numbers). Their answers are HTTP 200 \
            with the protocol's own `status`, except the contract's 404, 403, 405 and 413.",
        license(name = "Apache-2.0"),
    ),
    components(schemas(
        ErrorBody,
        crate::http::hub88::dto::Reply,
        crate::http::evolution::dto::CheckReply,
        crate::http::evolution::dto::BalanceReply,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "provider", description = "Game providers: signed money calls (contract: \
            `shared/wallet-api.md`, Authentication). As this server checks it, `X-Signature` \
            is the lowercase hex HMAC-SHA256, with the provider's secret, of \
            `\"<X-Timestamp>.<request path>.<raw body>\"` (the path as sent, e.g. \
            `/v1/wallet/bet`). Timestamps more than 300 s away from the server \
            clock are refused."),
        (name = "operator", description = "The casino's back office. `Authorization: Bearer \
            <token>`; role `viewer` reads, role `operator` reads and writes."),
        (name = "hub88", description = "Hub88's operator wallet API (`shared/protocols.md` 1), \
            per provider of protocol `hub88`. `X-Hub88-Signature` is the base64 \
            RSASSA-PKCS1-v1_5 SHA-256 signature of the exact request body with the provider's \
            private key, verified with its `hub88.verification_key`; every answer is signed \
            the same way with `hub88.signing_key`. Amounts are JSON integers: currency units \
            × `hub88.amount_multiplier` (100000)."),
        (name = "evolution", description = "Evolution One Wallet (`shared/protocols.md` 2), per \
            provider of protocol `evolution`. Every call carries `?authToken=` the provider's \
            `evolution.auth_token`. Ids derive from the player and the bet's `refId`: \
            `debit:<userId>:<refId>`, `credit:...`, `cancel:...`, `promo:<userId>:<id>`."),
        (name = "ops", description = "Health, metrics and this document. No token."),
    ),
)]
pub struct ApiDoc;

/// The operator bearer scheme, the three headers of a signed provider call, Hub88's
/// signature header and Evolution's `authToken`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
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
                "Lowercase hex HMAC-SHA256(secret, \"<X-Timestamp>.<request path>.<raw request body>\"), as \
                 this server checks it; the contract (`shared/wallet-api.md`, Authentication) \
                 specifies the signature.",
            ),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(header, what))),
            );
        }
        components.add_security_scheme(
            "hub88_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Hub88-Signature",
                "base64 (standard, padded) RSASSA-PKCS1-v1_5 SHA-256 signature of the exact \
                 request body, with the provider's private key; `openssl dgst -sha256 -sign \
                 key.pem -binary | base64 -w0`.",
            ))),
        );
        components.add_security_scheme(
            "evolution_auth_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "authToken",
                "The provider's configured `evolution.auth_token`.",
            ))),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Schemas no Rust type carries by itself.

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

impl ToSchema for Amount {}

/// Every machine-readable error code of the contract (schema `ErrorCode`).
pub struct ErrorCodeName;

impl PartialSchema for ErrorCodeName {
    fn schema() -> RefOr<Schema> {
        names(ErrorCode::ALL.iter().map(|c| c.as_str()), false).into()
    }
}

impl ToSchema for ErrorCodeName {
    fn name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }
}

/// A string field that holds one of `values` (or null, when `nullable`).
fn names<'a>(values: impl Iterator<Item = &'a str>, nullable: bool) -> Object {
    let mut allowed: Vec<serde_json::Value> = values.map(|v| json!(v)).collect();
    let schema_type = if nullable {
        allowed.push(serde_json::Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .enum_values(Some(allowed))
        .build()
}

/// `active` or `blocked` (for `#[schema(schema_with = ...)]` in `v1::dto`).
pub fn player_status() -> Object {
    names(PlayerStatus::ALL.iter().map(|s| s.as_str()), false)
}

/// `open` or `closed`.
pub fn round_status() -> Object {
    names(RoundStatus::ALL.iter().map(|s| s.as_str()), false)
}

/// `bet`, `win`, `rollback`, `deposit` or `withdrawal`.
pub fn transaction_kind() -> Object {
    names(TransactionKind::ALL.iter().map(|k| k.as_str()), false)
}

/// `win`, `promo`, `jackpot` or null.
pub fn win_kind_or_null() -> Object {
    names(WinKind::ALL.iter().map(|k| k.as_str()), true)
}

/// Hub88's statuses (`../protocols.md` 1.8): `RS_OK`, `RS_ERROR_*`.
pub fn hub88_status() -> Object {
    names(
        crate::http::hub88::status::Status::ALL
            .iter()
            .map(|s| s.as_str()),
        false,
    )
}

/// Evolution's statuses (2.8): `OK`, `BET_ALREADY_EXIST`, `INSUFFICIENT_FUNDS`, ...
pub fn evolution_status() -> Object {
    names(
        crate::http::evolution::status::Status::ALL
            .iter()
            .map(|s| s.as_str()),
        false,
    )
}

// ---------------------------------------------------------------------------------------
// Error responses.

/// Errors every signed provider call can answer with.
pub const PROVIDER_CALL: &[ErrorCode] = &[
    ErrorCode::InvalidRequest,
    ErrorCode::Unauthorized,
    ErrorCode::Forbidden,
    ErrorCode::PlayerNotFound,
    ErrorCode::PayloadTooLarge,
    ErrorCode::RetryLater,
];

/// Errors every money call adds: idempotency, the per-player queue.
pub const MONEY_CALL: &[ErrorCode] = &[ErrorCode::IdempotencyConflict, ErrorCode::RateLimited];

/// Errors every operator read can answer with.
pub const OPERATOR_READ: &[ErrorCode] = &[
    ErrorCode::InvalidRequest,
    ErrorCode::Unauthorized,
    ErrorCode::RetryLater,
];

/// Errors every operator write can answer with (`forbidden` for viewers).
pub const OPERATOR_WRITE: &[ErrorCode] = &[
    ErrorCode::InvalidRequest,
    ErrorCode::Unauthorized,
    ErrorCode::Forbidden,
    ErrorCode::PayloadTooLarge,
    ErrorCode::RetryLater,
];

/// The refusals of a vendor protocol endpoint in the contract's envelope
/// (`../protocols.md` 0.1): unknown provider or another protocol's (`not_found`), a
/// source outside `allowed_ips`, a body over the limit. Everything else is HTTP 200.
pub struct AdapterErrors;

impl ErrorCodes for AdapterErrors {
    const CODES: &'static [&'static [ErrorCode]] = &[&[
        ErrorCode::NotFound,
        ErrorCode::Forbidden,
        ErrorCode::PayloadTooLarge,
    ]];
}

/// The error codes one operation can answer with; `responses(Errors<Self>)` in its
/// `#[utoipa::path]` documents them.
pub trait ErrorCodes {
    /// Shared sets and the operation's own codes; a code may be in several.
    const CODES: &'static [&'static [ErrorCode]];
}

/// The error responses of an operation: one per status that its codes answer with
/// ([`status::of`]), listing the codes, with an example body for each. Refusals carry the
/// unchanged balance and are recorded, so their responses may be replays
/// (`idempotent-replayed: true`).
pub struct Errors<C>(PhantomData<C>);

impl<C: ErrorCodes> IntoResponses for Errors<C> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
        for &code in C::CODES.iter().copied().flatten() {
            let codes = by_status.entry(status::of(code).as_u16()).or_default();
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        by_status
            .into_iter()
            .map(|(status, codes)| (status.to_string(), error_response(&codes).into()))
            .collect()
    }
}

fn error_response(codes: &[ErrorCode]) -> Response {
    let names: Vec<String> = codes.iter().map(|c| format!("`{}`", c.as_str())).collect();
    let examples = codes.iter().map(|code| {
        let mut error = json!({"code": code.as_str(), "message": "human readable"});
        if code.is_refusal() {
            error["balance"] = json!({"total": "5.00", "cash": "5.00", "bonus": "0.00"});
            error["currency"] = json!("EUR");
        }
        let example = ExampleBuilder::new().value(Some(json!({ "error": error })));
        (code.as_str(), example.build())
    });
    let mut response = ResponseBuilder::new()
        .description(names.join(", "))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .examples_from_iter(examples)
                .build(),
        );
    if codes.iter().all(|c| c.is_refusal()) {
        response = response.header(
            "idempotent-replayed",
            header("`true` when this answers a repeat of an earlier identical call."),
        );
    }
    response.build()
}

fn header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

/// Every response carries `x-request-id` (set by the router's outermost layers).
fn add_request_id_headers(doc: &mut Document) {
    let header = header("The request's id, echoed from the request when given.");
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .insert("x-request-id".into(), header.clone());
                }
            }
        }
    }
}
