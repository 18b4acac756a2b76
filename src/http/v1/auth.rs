//! Provider authentication of the v1 API: `X-Provider-Id`, `X-Timestamp` within the
//! window, `X-Signature` over the timestamp, the path and the raw body
//! ([`crate::signing`]), and the provider's allowed networks.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, OriginalUri, Request};
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

use crate::domain::{ErrorCode, ProviderId};
use crate::http::error::ApiError;
use crate::http::extract::{body_bytes, parse_json, Auth};
use crate::http::AppState;

/// Largest distance between a provider's `X-Timestamp` and the server clock.
pub const SIGNATURE_WINDOW_SECONDS: i64 = 300;

/// A provider request whose signature, timestamp and source address checked out.
pub struct Signed<T> {
    pub provider: ProviderId,
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
    path: &str,
    body: &[u8],
    now: i64,
) -> Result<ProviderId, ApiError> {
    let unauthorized = |why: &str| ApiError::new(ErrorCode::Unauthorized, why);
    let provider_id =
        header(headers, "x-provider-id").ok_or_else(|| unauthorized("missing X-Provider-Id"))?;
    let timestamp =
        header(headers, "x-timestamp").ok_or_else(|| unauthorized("missing X-Timestamp"))?;
    let signature =
        header(headers, "x-signature").ok_or_else(|| unauthorized("missing X-Signature"))?;
    // A provider speaking another protocol has no HMAC secret to check against.
    let provider = auth
        .provider(provider_id)
        .filter(|p| p.protocol == crate::config::Protocol::Generic)
        .ok_or_else(|| unauthorized("unknown provider"))?;
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| unauthorized("X-Timestamp must be unix seconds"))?;
    if now.abs_diff(seconds) > SIGNATURE_WINDOW_SECONDS.unsigned_abs() {
        return Err(unauthorized("X-Timestamp is too far from the server clock"));
    }
    let signature = hex::decode(signature).map_err(|_| unauthorized("X-Signature must be hex"))?;
    if !crate::signing::verify(&provider.secret, timestamp, path, body, &signature) {
        return Err(unauthorized("signature does not match"));
    }
    if !provider.allowed_networks.is_empty() {
        let allowed = peer.is_some_and(|peer| {
            provider
                .allowed_networks
                .iter()
                .any(|net| net.contains(&peer.ip()))
        });
        if !allowed {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "source address not allowed for this provider",
            ));
        }
    }
    ProviderId::parse(provider.id.clone())
        .map_err(|_| ApiError::internal("a configured provider id is not an id"))
}

impl<T: DeserializeOwned> FromRequest<AppState> for Signed<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        // The path as the client sent it, without the query string.
        let path = req
            .extensions()
            .get::<OriginalUri>()
            .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let bytes = body_bytes(req, state).await?;
        let now = chrono::Utc::now().timestamp();
        let provider = verify(&state.auth, &headers, peer, &path, &bytes, now)?;
        let span = tracing::Span::current();
        span.record("caller", format!("provider:{provider}"));
        span.record("provider.id", provider.as_str());
        let body = parse_json(&bytes)?;
        Ok(Signed { provider, body })
    }
}
