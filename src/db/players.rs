//! Players and their category balances.

use std::collections::{BTreeMap, HashMap};

use tokio_postgres::Row;

use super::{stored, Client, DbError};
use crate::domain::{Amount, Balances, Player, PlayerId, PlayerStatus};

fn collect(rows: &[Row]) -> Result<Option<Player>, DbError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut balances = BTreeMap::new();
    for row in rows {
        let category: Option<String> = row.get(3);
        if let Some(category) = category {
            let amount = stored("balance", Amount::from_minor(row.get(4)).ok_or(()))?;
            balances.insert(category, amount);
        }
    }
    let status: &str = first.get(2);
    Ok(Some(Player {
        player_id: stored("player id", PlayerId::parse(first.get::<_, String>(0)))?,
        currency: first.get(1),
        status: stored("player status", PlayerStatus::parse(status).ok_or(()))?,
        balances: Balances::new(balances),
        ledger_seq: first.get(5),
    }))
}

const SELECT_PLAYER: &str =
    "SELECT p.player_id, p.currency, p.status, b.category, b.amount, p.ledger_seq \
     FROM players p LEFT JOIN balances b ON b.player_id = p.player_id \
     WHERE p.player_id = $1";

/// Reads a player with its balances, without locking.
pub async fn get(client: &Client, player_id: &str) -> Result<Option<Player>, DbError> {
    let stmt = client.prepare_cached(SELECT_PLAYER).await?;
    collect(&client.query(&stmt, &[&player_id]).await?)
}

// `b.player_id = ANY($1)` repeats the join's condition so that the balances scan is
// bounded by the players' keys whatever join the planner picks: once the tables have
// statistics (autovacuum analyzes them at any moment) it may prefer a merge join over
// the whole index, and a SERIALIZABLE scan of every player's balance rows conflicts
// with every other player's movement (measured: hundreds of retries in the randomized
// bank test with ANALYZE running beside it, none with the bound).
pub(super) const LOCK: &str =
    "SELECT p.player_id, p.currency, p.status, b.category, b.amount, p.ledger_seq \
     FROM players p LEFT JOIN balances b ON b.player_id = p.player_id AND b.player_id = ANY($1) \
     WHERE p.player_id = ANY($1) ORDER BY p.player_id FOR UPDATE OF p";

/// Reads players with their balances and locks their rows, in player id order (so
/// that concurrent groups cannot deadlock), until the transaction ends: every money
/// movement of a player takes this lock first.
pub async fn lock(
    client: &Client,
    player_ids: &[&str],
) -> Result<HashMap<String, Player>, DbError> {
    let stmt = client.prepare_cached(LOCK).await?;
    let rows = client.query(&stmt, &[&player_ids]).await?;
    let mut players = HashMap::new();
    for chunk in rows.chunk_by(|a, b| a.get::<_, &str>(0) == b.get::<_, &str>(0)) {
        if let Some(player) = collect(chunk)? {
            players.insert(player.player_id.as_str().to_owned(), player);
        }
    }
    Ok(players)
}

/// Inserts a player with a zero balance in every category; `false` when the id exists.
pub async fn insert(
    client: &Client,
    player_id: &str,
    currency: &str,
    categories: &[String],
) -> Result<bool, DbError> {
    let stmt = client
        .prepare_cached(
            "WITH p AS (INSERT INTO players (player_id, currency) VALUES ($1, $2) \
                 ON CONFLICT (player_id) DO NOTHING RETURNING player_id) \
             INSERT INTO balances (player_id, category) \
             SELECT p.player_id, c FROM p, unnest($3::text[]) AS c",
        )
        .await?;
    let inserted = client
        .execute(&stmt, &[&player_id, &currency, &categories])
        .await?;
    Ok(inserted > 0)
}

/// Sets the status; `false` when the player does not exist.
pub async fn set_status(
    client: &Client,
    player_id: &str,
    status: PlayerStatus,
) -> Result<bool, DbError> {
    let stmt = client
        .prepare_cached("UPDATE players SET status = $2, updated_at = now() WHERE player_id = $1")
        .await?;
    Ok(client
        .execute(&stmt, &[&player_id, &status.as_str()])
        .await?
        > 0)
}
