//! What the vendor protocol adapters (`hub88/`, `evolution/`) share: the routing guard
//! of `../protocols.md` 0.1 (the provider must speak the protocol of the path, and call
//! from its allowed networks) and the session a token or sid names.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};

use super::error::ApiError;
use super::AppState;
use crate::config::{Protocol, ProviderSettings};
use crate::db;
use crate::domain::{ErrorCode, PlayerId, ProviderId, Session};
use crate::ledger::{LedgerError, SessionRef, Wallet};

/// The provider of a protocol path, or the contract's refusal: `404 not_found` when it
/// is unknown or speaks another protocol (no such route), `403 forbidden` when the call
/// comes from outside its allowed networks.
pub fn provider<'a>(
    state: &'a AppState,
    provider_id: &str,
    protocol: Protocol,
    req: &Request,
) -> Result<(&'a ProviderSettings, ProviderId), ApiError> {
    let provider = state
        .auth
        .provider(provider_id)
        .filter(|p| p.protocol == protocol)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such endpoint"))?;
    if !provider.allowed_networks.is_empty() {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
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
    let id = ProviderId::parse(provider.id.clone())
        .map_err(|_| ApiError::internal("a configured provider id is not an id"))?;
    let span = tracing::Span::current();
    span.record("caller", format!("provider:{id}"));
    span.record("provider.id", id.as_str());
    Ok((provider, id))
}

/// The session `token` names when it is this provider's and this player's; `None` for
/// an unknown token, a token that cannot be one of ours, or anybody else's session. An
/// expired session is returned (`live` false): whether it may be used depends on the
/// call.
pub async fn session(
    wallet: &Wallet,
    provider: &ProviderId,
    player: &PlayerId,
    token: &str,
) -> Result<Option<Session>, LedgerError> {
    let Some(id) = SessionRef::parse(token).0 else {
        return Ok(None);
    };
    let client = db::acquire(wallet.pool()).await?;
    let found = db::sessions::get(&client, id).await?;
    Ok(found.filter(|s| s.belongs_to(provider, player)))
}
