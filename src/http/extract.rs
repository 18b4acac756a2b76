//! Extractors shared by the APIs: credentials from configuration, JSON bodies with
//! contract errors, and operator bearer roles.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::hub88::auth::Hub88Keys;
use super::AppState;
use crate::config::{Protocol, ProviderSettings, Role, Settings};
use crate::domain::ErrorCode;

/// Credentials from configuration, ready for checking requests.
pub struct Auth {
    /// SHA-256 of each operator token and its role: lookups never compare the secret.
    tokens: Vec<([u8; 32], Role)>,
    providers: Vec<ProviderSettings>,
    /// The loaded RSA keys of each `hub88` provider, by provider id.
    hub88: HashMap<String, Arc<Hub88Keys>>,
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
            hub88: settings
                .providers
                .iter()
                .filter_map(|p| {
                    let h = p.hub88.as_ref().filter(|_| p.protocol == Protocol::Hub88)?;
                    // Start-up validation has read these keys already; a key that went
                    // bad since leaves the provider unable to verify anything.
                    match Hub88Keys::load(h) {
                        Ok(keys) => Some((p.id.clone(), Arc::new(keys))),
                        Err(e) => {
                            tracing::error!(provider.id = %p.id, error = %e, "hub88 keys unusable");
                            None
                        }
                    }
                })
                .collect(),
        }
    }

    /// A `hub88` provider's keys.
    pub fn hub88(&self, id: &str) -> Option<Arc<Hub88Keys>> {
        self.hub88.get(id).cloned()
    }

    /// A configured provider by id.
    pub fn provider(&self, id: &str) -> Option<&ProviderSettings> {
        self.providers.iter().find(|p| p.id == id)
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
pub async fn body_bytes(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
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

/// Path parameters, with the contract's envelope for every way they can be wrong (an
/// escape that is not UTF-8, a missing segment); each id is then checked as an id.
pub struct ApiPath<T>(pub T);

impl<T> FromRequestParts<AppState> for ApiPath<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::invalid(format!(
                "invalid path: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// An operator allowed to read.
pub struct Viewer;

/// An operator allowed to write.
pub struct Operator;

fn bearer_role(parts: &mut Parts, state: &AppState) -> Result<Role, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized, "missing or unknown bearer token");
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        // The scheme name is case-insensitive (RFC 9110).
        .and_then(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer").then_some(token))
        .ok_or_else(unauthorized)?;
    let role = state.auth.role(token.trim()).ok_or_else(unauthorized)?;
    let name = match role {
        Role::Operator => "operator",
        Role::Viewer => "viewer",
    };
    tracing::Span::current().record("caller", format!("operator:{name}"));
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
