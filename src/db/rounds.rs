//! Game rounds: opened by their first bet, closed by a win or by the stale-round sweep.

use chrono::{DateTime, Utc};

use super::{stored, Client, DbError};
use crate::domain::{GameId, PlayerId, ProviderId, Round, RoundId, RoundStatus};

pub(super) fn round_from(
    provider_id: String,
    round_id: String,
    player_id: String,
    game_id: String,
    status: &str,
    opened_at: DateTime<Utc>,
) -> Result<Round, DbError> {
    Ok(Round {
        provider_id: stored("provider id", ProviderId::parse(provider_id))?,
        round_id: stored("round id", RoundId::parse(round_id))?,
        player_id: stored("player id", PlayerId::parse(player_id))?,
        game_id: stored("game id", GameId::parse(game_id))?,
        status: stored("round status", RoundStatus::parse(status).ok_or(()))?,
        opened_at,
    })
}

/// A player's round of a provider.
pub async fn get(
    client: &Client,
    provider_id: &str,
    round_id: &str,
    player_id: &str,
) -> Result<Option<Round>, DbError> {
    let stmt = client
        .prepare_cached(
            "SELECT provider_id, round_id, player_id, game_id, status, opened_at FROM rounds \
             WHERE provider_id = $1 AND round_id = $2 AND player_id = $3",
        )
        .await?;
    let row = client
        .query_opt(&stmt, &[&provider_id, &round_id, &player_id])
        .await?;
    row.map(|r| round_from(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .transpose()
}

/// The rounds of a provider's round id, one per player who played it (at most `limit`).
pub async fn list(
    client: &Client,
    provider_id: &str,
    round_id: &str,
    limit: i64,
) -> Result<Vec<Round>, DbError> {
    let stmt = client
        .prepare_cached(
            "SELECT provider_id, round_id, player_id, game_id, status, opened_at FROM rounds \
             WHERE provider_id = $1 AND round_id = $2 ORDER BY player_id LIMIT $3",
        )
        .await?;
    let rows = client
        .query(&stmt, &[&provider_id, &round_id, &limit])
        .await?;
    rows.iter()
        .map(|r| round_from(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

/// Closes up to `limit` open rounds opened before `cutoff`; returns how many.
pub async fn close_stale(
    client: &Client,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<u64, DbError> {
    let stmt = client
        .prepare_cached(
            "UPDATE rounds SET status = 'closed', closed_at = now() \
             WHERE (provider_id, round_id, player_id) IN \
             (SELECT provider_id, round_id, player_id FROM rounds WHERE status = 'open' AND opened_at < $1 \
              ORDER BY opened_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .await?;
    Ok(client.execute(&stmt, &[&cutoff, &limit]).await?)
}
