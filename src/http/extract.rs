//! Extractors: JSON bodies with contract errors, operator bearer roles, and signed
//! provider requests.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::AppState;
use crate::config::{Role, Settings};
use crate::domain::ErrorCode;
use crate::ledger::LedgerError;

/// Largest distance between a provider's `X-Timestamp` and the server clock.
pub const SIGNATURE_WINDOW_SECONDS: i64 = 300;

/// Credentials from configuration, ready for checking requests.
pub struct Auth {
    /// SHA-256 of each operator token and its role: lookups never compare the secret.
    tokens: Vec<([u8; 32], Role)>,
    providers: Vec<crate::config::ProviderSettings>,
}

impl Auth {
    pub fn new(settings: &Settings) -> Self {
        Self {
            tokens: settings
                .operator_tokens
                .iter()
                .map(|t| (Sha256::digest(t.token.as_bytes()).into(), t.role))
                .collect(),
            providers: settings.providers.clone(),
        }
    }

    fn role(&self, token: &str) -> Option<Role> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.tokens
            .iter()
            .find(|(known, _)| *known == digest)
            .map(|(_, role)| *role)
    }
}

/// Reads the body, answering `413 payload_too_large` over the configured limit.
async fn body_bytes(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                "request body is over the size limit",
            )
        } else {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("cannot read the body: {rejection}"),
            )
        }
    })
}

/// Parses JSON, naming what is wrong (`amount: ...`) in an `invalid_request`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("invalid JSON body: {e}")))
}

/// A JSON body with contract errors for every way it can be wrong.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        Ok(JsonBody(parse_json(&bytes)?))
    }
}

/// An operator allowed to read.
pub struct Viewer;

/// An operator allowed to write.
pub struct Operator;

/// Identity for the request log line.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

fn bearer_role(parts: &mut Parts, state: &AppState) -> Result<Role, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized, "missing or unknown bearer token");
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let role = state.auth.role(token.trim()).ok_or_else(unauthorized)?;
    parts
        .extensions
        .insert(Caller(format!("operator:{role:?}").to_lowercase()));
    Ok(role)
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        bearer_role(parts, state).map(|_| Viewer)
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer_role(parts, state)? {
            Role::Operator => Ok(Operator),
            Role::Viewer => Err(ApiError::new(
                ErrorCode::Forbidden,
                "the viewer role cannot write",
            )),
        }
    }
}

/// A provider request whose signature, timestamp and source address checked out.
pub struct Signed<T> {
    pub provider_id: String,
    pub body: T,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks a provider's headers against the raw body; returns the provider id.
fn verify(
    auth: &Auth,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    body: &[u8],
    now: i64,
) -> Result<String, LedgerError> {
    let unauthorized = |why: &str| LedgerError::new(ErrorCode::Unauthorized, why);
    let provider_id =
        header(headers, "x-provider-id").ok_or_else(|| unauthorized("missing X-Provider-Id"))?;
    let timestamp =
        header(headers, "x-timestamp").ok_or_else(|| unauthorized("missing X-Timestamp"))?;
    let signature =
        header(headers, "x-signature").ok_or_else(|| unauthorized("missing X-Signature"))?;
    let provider = auth
        .providers
        .iter()
        .find(|p| p.id == provider_id)
        .ok_or_else(|| unauthorized("unknown provider"))?;
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| unauthorized("X-Timestamp must be unix seconds"))?;
    if (now - seconds).abs() > SIGNATURE_WINDOW_SECONDS {
        return Err(unauthorized("X-Timestamp is too far from the server clock"));
    }
    let signature = hex::decode(signature).map_err(|_| unauthorized("X-Signature must be hex"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(provider.secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| unauthorized("signature does not match"))?;
    if !provider.allowed_networks.is_empty() {
        let allowed = peer.is_some_and(|peer| {
            provider
                .allowed_networks
                .iter()
                .any(|net| net.contains(&peer.ip()))
        });
        if !allowed {
            return Err(LedgerError::new(
                ErrorCode::Forbidden,
                "source address not allowed for this provider",
            ));
        }
    }
    Ok(provider.id.clone())
}

impl<T: DeserializeOwned> FromRequest<AppState> for Signed<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let bytes = body_bytes(req, state).await?;
        let now = chrono::Utc::now().timestamp();
        let provider_id = verify(&state.auth, &headers, peer, &bytes, now)?;
        let body = parse_json(&bytes)?;
        Ok(Signed { provider_id, body })
    }
}

/// Signs a body the way providers must: lowercase hex HMAC-SHA256 of
/// `"<timestamp>.<body>"`. For clients, tests and the load generator.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
