//! The append-only ledger of money movements.

use std::collections::BTreeMap;

use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{stored, Client, DbError};
use crate::domain::ids::InvalidId;
use crate::domain::{
    Amount, Balances, Entry, ExternalTxId, GameId, PlayerId, ProviderId, RoundId, Split,
    TransactionKind, WinKind,
};

/// A ledger row about to be written.
#[derive(Debug, Clone)]
pub struct NewLedgerRow {
    pub id: Uuid,
    pub provider_id: ProviderId,
    pub transaction_id: ExternalTxId,
    pub player_id: PlayerId,
    pub kind: TransactionKind,
    pub win_kind: Option<WinKind>,
    pub amount: Amount,
    pub currency: String,
    pub split: Split,
    pub balance_after: Balances,
    pub round_id: Option<RoundId>,
    pub game_id: Option<GameId>,
    pub session_id: Option<Uuid>,
    pub reference_id: Option<Uuid>,
    pub reference_transaction_id: Option<ExternalTxId>,
    /// The player's sequence number of this entry.
    pub seq: i64,
}

/// The columns [`from_row`] reads, in its order.
macro_rules! columns {
    () => {
        "id, provider_id, transaction_id, player_id, kind, win_kind, amount, currency, split, \
         balance_after, round_id, game_id, session_id, reference_id, \
         reference_transaction_id, created_at, seq"
    };
}

// The `ledger_key` lookups below compare the texts too (a shared key costs a row read,
// never a wrong row), with IS NOT DISTINCT FROM: a form no index serves, so that the
// planner cannot combine the key index with the player index on a table it has no
// statistics for yet (measured: three times the time of the key index alone on a fresh
// database). Lookups by a row id keep `=`: the id alone names one row, whatever index.

/// The ledger row id of the applied call `(provider_id, transaction_id)` = `($1, $2)`,
/// through its idempotency record (the only index of that pair).
macro_rules! applied_row_id {
    () => {
        "(SELECT ledger_id FROM idempotency_keys WHERE key = call_key($1, $2))"
    };
}

/// [`find`]'s statement: the applied call's ledger row or, when its month was archived,
/// its receipt. The idempotency record is read once; the receipt is looked up only when
/// there is no live row (an uncorrelated NOT EXISTS: a one-time filter), and the live
/// row by its id alone, as a scalar: the planner has no join to choose on a young table
/// and prunes the partitions to one.
pub const FIND: &str = concat!(
    "WITH applied AS MATERIALIZED ",
    applied_row_id!(),
    ", live AS MATERIALIZED (SELECT ",
    columns!(),
    " FROM transactions WHERE id = (SELECT ledger_id FROM applied) \
       AND provider_id = $1 AND transaction_id = $2) \
     SELECT *, NULL::uuid AS archived_id, NULL::text AS archived_player, \
            NULL::text AS archived_kind, NULL::boolean AS archived_reversed FROM live \
     UNION ALL \
     SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
            NULL, NULL, NULL, NULL, r.ledger_id, r.player_id, r.kind, r.reversed \
     FROM ledger_receipts r \
     WHERE r.ledger_id = (SELECT ledger_id FROM applied) \
       AND r.provider_id = $1 AND r.transaction_id = $2 \
       AND NOT EXISTS (SELECT 1 FROM live)"
);

/// [`round_rows`]'s statement.
pub const ROUND_ROWS: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM transactions \
     WHERE ledger_key(provider_id, round_id, player_id) = ledger_key($1, $2, $3) \
       AND (provider_id, round_id, player_id) IS NOT DISTINCT FROM ($1, $2, $3) \
     ORDER BY id"
);

/// [`bet_rows`]'s statement. The bet's round is a scalar subquery, evaluated once before
/// the scan: a join would let the planner hash-join the whole table on the key. A row in
/// both halves (a win of the round naming the bet) comes twice, next to itself; UNION
/// would sort every column to drop it, [`bet_rows`] drops it by id.
pub const BET_ROWS: &str = concat!(
    "WITH bet AS (SELECT round_id FROM transactions WHERE id = ",
    applied_row_id!(),
    " AND provider_id = $1 AND transaction_id = $2 AND player_id = $3) \
     SELECT ",
    columns!(),
    " FROM transactions \
     WHERE ledger_key(provider_id, round_id, player_id) \
           = ledger_key($1, (SELECT round_id FROM bet), $3) \
       AND (provider_id, round_id, player_id) \
           IS NOT DISTINCT FROM ($1, (SELECT round_id FROM bet), $3) \
     UNION ALL SELECT ",
    columns!(),
    " FROM transactions \
     WHERE ledger_key(provider_id, reference_transaction_id, player_id) = ledger_key($1, $2, $3) \
       AND (provider_id, reference_transaction_id, player_id) IS NOT DISTINCT FROM ($1, $2, $3) \
       AND kind IN ('win', 'rollback') \
     ORDER BY id"
);

/// [`open_session_bet`]'s statement.
pub const OPEN_SESSION_BET: &str = concat!(
    "WITH recent AS (SELECT id, provider_id, transaction_id, kind, win_kind, round_id, \
         game_id, session_id, reference_id \
       FROM transactions WHERE player_id = $2 ORDER BY id DESC LIMIT $5), \
     bet AS (SELECT r.transaction_id, r.round_id FROM recent r \
       WHERE r.session_id = $3 AND r.kind = 'bet' AND r.game_id = $4 \
         AND r.provider_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM recent s WHERE s.reference_id = r.id) \
         AND NOT EXISTS (SELECT 1 FROM recent w WHERE w.kind = 'win' \
             AND w.win_kind = 'win' AND w.provider_id = $1 AND w.round_id = r.round_id) \
       ORDER BY r.id DESC LIMIT 1) \
     SELECT ",
    columns!(),
    ", (SELECT transaction_id FROM bet) FROM transactions \
     WHERE ledger_key(provider_id, round_id, player_id) \
           = ledger_key($1, (SELECT round_id FROM bet), $2) \
       AND (provider_id, round_id, player_id) \
           IS NOT DISTINCT FROM ($1, (SELECT round_id FROM bet), $2) \
     ORDER BY id"
);

const LIST_FOR_PLAYER: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM transactions WHERE player_id = $1 \
     AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
);

/// A split as stored: `{"cash": 800, "bonus": 200}` in minor units.
pub(super) fn split_from_json(value: Value) -> Result<Split, DbError> {
    let parts: BTreeMap<String, i64> = stored("split", serde_json::from_value(value))?;
    parts
        .into_iter()
        .map(|(k, v)| Ok((k, stored("amount", Amount::from_minor(v).ok_or(()))?)))
        .collect()
}

pub(super) fn split_to_json(split: &Split) -> Value {
    Value::Object(
        split
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.minor())))
            .collect(),
    )
}

fn opt<T>(
    what: &str,
    value: Option<String>,
    parse: fn(String) -> Result<T, InvalidId>,
) -> Result<Option<T>, DbError> {
    value.map(|v| stored(what, parse(v))).transpose()
}

fn from_row(row: &Row) -> Result<Entry, DbError> {
    let kind: &str = row.get(4);
    let win_kind: Option<&str> = row.get(5);
    Ok(Entry {
        id: row.get(0),
        provider_id: stored("provider id", ProviderId::parse(row.get::<_, String>(1)))?,
        transaction_id: stored(
            "transaction id",
            ExternalTxId::parse(row.get::<_, String>(2)),
        )?,
        player_id: stored("player id", PlayerId::parse(row.get::<_, String>(3)))?,
        kind: stored("kind", TransactionKind::parse(kind).ok_or(()))?,
        win_kind: win_kind
            .map(|k| stored("win kind", WinKind::parse(k).ok_or(())))
            .transpose()?,
        amount: stored("amount", Amount::from_minor(row.get(6)).ok_or(()))?,
        currency: row.get(7),
        split: split_from_json(row.get(8))?,
        balance_after: Balances::new(split_from_json(row.get(9))?),
        round_id: opt("round id", row.get(10), RoundId::parse)?,
        game_id: opt("game id", row.get(11), GameId::parse)?,
        session_id: row.get(12),
        reference_id: row.get(13),
        reference_transaction_id: opt("reference", row.get(14), ExternalTxId::parse)?,
        created_at: row.get(15),
        seq: row.get(16),
    })
}

fn from_rows(rows: &[Row]) -> Result<Vec<Entry>, DbError> {
    rows.iter().map(from_row).collect()
}

/// An applied call found by the provider's id.
#[derive(Debug, Clone)]
pub enum Found {
    /// Its ledger row.
    Live(Box<Entry>),
    /// Its month was archived: only its receipt is still here.
    Archived {
        ledger_id: Uuid,
        player_id: PlayerId,
        kind: TransactionKind,
        /// A bet that a rollback reversed.
        reversed: bool,
    },
}

/// One applied call by the provider's id.
pub async fn find(
    client: &Client,
    provider_id: &str,
    transaction_id: &str,
) -> Result<Option<Found>, DbError> {
    let stmt = client.prepare_cached(FIND).await?;
    let row = client
        .query_opt(&stmt, &[&provider_id, &transaction_id])
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.get::<_, Option<Uuid>>(0).is_some() {
        return Ok(Some(Found::Live(Box::new(from_row(&row)?))));
    }
    let kind: String = row.get(19);
    Ok(Some(Found::Archived {
        ledger_id: row.get(17),
        player_id: stored("player id", PlayerId::parse(row.get::<_, String>(18)))?,
        kind: stored("kind", TransactionKind::parse(&kind).ok_or(()))?,
        reversed: row.get(20),
    }))
}

/// Every row of a player's round of a provider, oldest first.
pub async fn round_rows(
    client: &Client,
    provider_id: &str,
    round_id: &str,
    player_id: &str,
) -> Result<Vec<Entry>, DbError> {
    let stmt = client.prepare_cached(ROUND_ROWS).await?;
    let rows = client
        .query(&stmt, &[&provider_id, &round_id, &player_id])
        .await?;
    from_rows(&rows)
}

/// What a bet's fate depends on: every row of the player's round the provider's
/// transaction `transaction_id` of that player belongs to, and every win or rollback of
/// the player that references it (a win may name a bet of another round), oldest first.
/// Another player's transaction with that id is not seen.
pub async fn bet_rows(
    client: &Client,
    provider_id: &str,
    transaction_id: &str,
    player_id: &str,
) -> Result<Vec<Entry>, DbError> {
    let stmt = client.prepare_cached(BET_ROWS).await?;
    let rows = client
        .query(&stmt, &[&provider_id, &transaction_id, &player_id])
        .await?;
    let mut entries = from_rows(&rows)?;
    entries.dedup_by_key(|e| e.id);
    Ok(entries)
}

/// How far back in a player's ledger the session fallback of a win looks for its bet.
const SESSION_BET_LOOKBACK: i64 = 200;

/// The session's latest unsettled bet in `game_id` (no win or rollback references it
/// and its round has received no win), with every row of its round, oldest first.
/// Looks at the player's newest [`SESSION_BET_LOOKBACK`] ledger rows only (through the
/// player index, so the cost does not grow with the player's history).
pub async fn open_session_bet(
    client: &Client,
    provider_id: &str,
    player_id: &str,
    session_id: Uuid,
    game_id: &str,
) -> Result<Option<(ExternalTxId, Vec<Entry>)>, DbError> {
    let stmt = client.prepare_cached(OPEN_SESSION_BET).await?;
    let rows = client
        .query(
            &stmt,
            &[
                &provider_id,
                &player_id,
                &session_id,
                &game_id,
                &SESSION_BET_LOOKBACK,
            ],
        )
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let bet = stored(
        "transaction id",
        ExternalTxId::parse(first.get::<_, String>(17)),
    )?;
    Ok(Some((bet, from_rows(&rows)?)))
}

/// A page of a player's transactions, newest first, strictly older than `before`.
pub async fn list_for_player(
    client: &Client,
    player_id: &str,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Entry>, DbError> {
    let stmt = client.prepare_cached(LIST_FOR_PLAYER).await?;
    let rows = client.query(&stmt, &[&player_id, &before, &limit]).await?;
    from_rows(&rows)
}
