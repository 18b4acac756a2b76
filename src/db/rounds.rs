//! Game rounds: opened by their first bet, closed by a win or by the stale-round sweep.

use chrono::{DateTime, Utc};

use super::{Client, DbError};

#[derive(Debug, Clone)]
pub struct RoundRow {
    pub provider_id: String,
    pub round_id: String,
    pub player_id: String,
    pub game_id: String,
    pub status: String,
    pub opened_at: DateTime<Utc>,
}

pub async fn get(
    client: &Client,
    provider_id: &str,
    round_id: &str,
) -> Result<Option<RoundRow>, DbError> {
    let stmt = client
        .prepare_cached(
            "SELECT provider_id, round_id, player_id, game_id, status, opened_at FROM rounds \
             WHERE provider_id = $1 AND round_id = $2",
        )
        .await?;
    let row = client.query_opt(&stmt, &[&provider_id, &round_id]).await?;
    Ok(row.map(|r| RoundRow {
        provider_id: r.get(0),
        round_id: r.get(1),
        player_id: r.get(2),
        game_id: r.get(3),
        status: r.get(4),
        opened_at: r.get(5),
    }))
}

/// Closes up to `limit` open rounds opened before `cutoff`; returns how many.
pub async fn close_stale(
    client: &Client,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<u64, DbError> {
    let stmt = client
        .prepare_cached(
            "UPDATE rounds SET status = 'closed', closed_at = now() WHERE (provider_id, round_id) IN \
             (SELECT provider_id, round_id FROM rounds WHERE status = 'open' AND opened_at < $1 \
              ORDER BY opened_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .await?;
    Ok(client.execute(&stmt, &[&cutoff, &limit]).await?)
}
