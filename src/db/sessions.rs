//! Game sessions opened by operators for a player, a provider and a game.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Client, DbError};

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub session_id: Uuid,
    pub player_id: String,
    pub provider_id: String,
    pub game_id: String,
    pub expires_at: DateTime<Utc>,
    /// Whether the session had not expired at the time of the query.
    pub live: bool,
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
    let ttl = ttl_seconds as f64;
    let row = client
        .query_one(
            &stmt,
            &[&session_id, &player_id, &provider_id, &game_id, &ttl],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn get(client: &Client, session_id: Uuid) -> Result<Option<SessionRow>, DbError> {
    let stmt = client
        .prepare_cached(
            "SELECT session_id, player_id, provider_id, game_id, expires_at, expires_at > now() \
             FROM sessions WHERE session_id = $1",
        )
        .await?;
    let row = client.query_opt(&stmt, &[&session_id]).await?;
    Ok(row.map(|r| SessionRow {
        session_id: r.get(0),
        player_id: r.get(1),
        provider_id: r.get(2),
        game_id: r.get(3),
        expires_at: r.get(4),
        live: r.get(5),
    }))
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
