//! Game sessions opened by operators for a player, a provider and a game.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{stored, Client, DbError};
use crate::domain::{GameId, PlayerId, ProviderId, Session};

pub(super) fn session_from(
    session_id: Uuid,
    player_id: String,
    provider_id: String,
    game_id: String,
    expires_at: DateTime<Utc>,
    live: bool,
) -> Result<Session, DbError> {
    Ok(Session {
        session_id,
        player_id: stored("player id", PlayerId::parse(player_id))?,
        provider_id: stored("provider id", ProviderId::parse(provider_id))?,
        game_id: stored("game id", GameId::parse(game_id))?,
        expires_at,
        live,
    })
}

pub async fn insert(
    client: &Client,
    session_id: Uuid,
    player_id: &str,
    provider_id: &str,
    game_id: &str,
    ttl_seconds: i64,
) -> Result<DateTime<Utc>, DbError> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO sessions (session_id, player_id, provider_id, game_id, expires_at) \
             VALUES ($1, $2, $3, $4, date_trunc('milliseconds', now()) + make_interval(secs => $5)) \
             RETURNING expires_at",
        )
        .await?;
    // make_interval takes seconds as double precision; a TTL is at most 30 days.
    #[allow(clippy::cast_precision_loss)]
    let ttl = ttl_seconds as f64;
    let row = client
        .query_one(
            &stmt,
            &[&session_id, &player_id, &provider_id, &game_id, &ttl],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn get(client: &Client, session_id: Uuid) -> Result<Option<Session>, DbError> {
    let stmt = client
        .prepare_cached(
            "SELECT session_id, player_id, provider_id, game_id, expires_at, expires_at > now() \
             FROM sessions WHERE session_id = $1",
        )
        .await?;
    let row = client.query_opt(&stmt, &[&session_id]).await?;
    row.map(|r| session_from(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .transpose()
}

/// Expires the session now; `false` when it does not exist.
pub async fn expire(client: &Client, session_id: Uuid) -> Result<bool, DbError> {
    let stmt = client
        .prepare_cached(
            "UPDATE sessions SET expires_at = LEAST(expires_at, now()) WHERE session_id = $1",
        )
        .await?;
    Ok(client.execute(&stmt, &[&session_id]).await? > 0)
}
