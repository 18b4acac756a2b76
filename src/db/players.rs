//! Players and their category balances.

use std::collections::{BTreeMap, HashMap};

use tokio_postgres::Row;

use super::{stored, Client, DbError, Tid};
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

/// Where a player's row and its balance rows were when a call read them before its
/// transaction: their `ctid`s, by which the transaction finds them again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsAt {
    pub player: Tid,
    /// By category.
    pub balances: BTreeMap<String, Tid>,
}

// Inside the SERIALIZABLE transaction the player and balance rows are found by the
// `ctid`s read just before it, never through an index. An index scan takes predicate
// locks on whole index pages, and every update that cannot stay HOT (any snapshot held
// a few seconds, a report, a `check-ledger`, an ANALYZE, stops the pruning that keeps
// updates HOT) inserts an entry into such a page: each is then a conflict with every
// group that read the page (measured: one 12 s snapshot beside the burst, 4 898 retries
// instead of 0). A TID scan locks only the row it reads. The id is compared with the one
// expected at that ctid, in a form no index serves, so a TID scan is the only plan,
// whatever the statistics. A row that moved since it was read is not found, and the
// call reads again. (A join to the array of ctids would let the planner hash it against
// a scan of the whole index.)
pub(super) const LOCK: &str = "\
SELECT p.player_id, p.currency, p.status, p.ledger_seq
FROM players p
WHERE p.ctid = ANY($1::tid[])
  AND p.player_id = ($2::text[])[array_position($1::tid[], p.ctid)]
FOR UPDATE OF p";

/// The balance rows of the locked players, by `ctid` (see [`LOCK`]); they need no row
/// lock of their own: every writer of a player's balances holds the player's.
pub(super) const BALANCES: &str = "\
SELECT b.player_id, b.category, b.amount
FROM balances b
WHERE b.ctid = ANY($1::tid[])
  AND b.player_id = ($2::text[])[array_position($1::tid[], b.ctid)]";

/// Reads players with their balances where `rows` says they are, and locks the player
/// rows, in `ctid` order (a TID scan reads its list sorted: one order for every group,
/// so that concurrent groups cannot deadlock; an `ORDER BY` would make the planner
/// walk the whole primary key instead), until the transaction ends: every money
/// movement of a player takes this lock first. A player whose row or one of whose
/// balance rows is no longer where it was read is left out.
pub async fn lock(
    client: &Client,
    rows: &[(&str, &RowsAt)],
) -> Result<HashMap<String, Player>, DbError> {
    let lock = client.prepare_cached(LOCK).await?;
    let read = client.prepare_cached(BALANCES).await?;
    let (tids, ids): (Vec<Tid>, Vec<&str>) = rows.iter().map(|(id, at)| (at.player, *id)).unzip();
    let (b_tids, b_ids): (Vec<Tid>, Vec<&str>) = rows
        .iter()
        .flat_map(|(id, at)| at.balances.values().map(move |tid| (*tid, *id)))
        .unzip();
    let (locked, balances) = futures::try_join!(
        async {
            client
                .query(&lock, &[&tids, &ids])
                .await
                .map_err(DbError::from)
        },
        async {
            client
                .query(&read, &[&b_tids, &b_ids])
                .await
                .map_err(DbError::from)
        },
    )?;
    let mut found: HashMap<&str, BTreeMap<String, Amount>> = HashMap::new();
    for row in &balances {
        let amount = stored("balance", Amount::from_minor(row.get(2)).ok_or(()))?;
        found
            .entry(row.get(0))
            .or_default()
            .insert(row.get(1), amount);
    }
    let mut players = HashMap::new();
    for row in &locked {
        let player_id: &str = row.get(0);
        let expected = rows
            .iter()
            .find(|(id, _)| *id == player_id)
            .map(|(_, at)| at);
        let balances = found.remove(player_id).unwrap_or_default();
        if expected.map(|at| at.balances.len()) != Some(balances.len()) {
            continue;
        }
        let status: &str = row.get(2);
        let player = Player {
            player_id: stored("player id", PlayerId::parse(player_id.to_owned()))?,
            currency: row.get(1),
            status: stored("player status", PlayerStatus::parse(status).ok_or(()))?,
            balances: Balances::new(balances),
            ledger_seq: row.get(3),
        };
        players.insert(player_id.to_owned(), player);
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
