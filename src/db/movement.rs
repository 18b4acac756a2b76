//! The write of one money call as a single statement: balance deltas, the ledger row,
//! the idempotency record and the round change. One statement instead of four keeps
//! the per-call work of both the server and PostgreSQL down; data-modifying CTEs all
//! run, whether or not the final SELECT reads them.

use super::ledger::{split_to_json, NewLedgerRow, Recorded};
use super::{Client, DbError};

/// What a call does to its round.
pub enum RoundChange<'a> {
    None,
    /// Opens a round the call did not find; a unique violation means a concurrent call
    /// opened it meanwhile (the attempt is retried).
    Open {
        round_id: &'a str,
        game_id: &'a str,
    },
    Close {
        round_id: &'a str,
    },
}

pub struct Movement<'a> {
    pub player_id: &'a str,
    /// Signed change per category (categories whose balance row exists).
    pub categories: &'a [String],
    pub deltas: &'a [i64],
    /// The ledger row; `None` for a recorded rejection, which moves nothing.
    pub row: Option<&'a NewLedgerRow<'a>>,
    pub key: (&'a str, &'a str),
    pub record: &'a Recorded,
    pub round: RoundChange<'a>,
}

const WRITE: &str = "\
WITH upd AS (
    UPDATE balances b SET amount = b.amount + d.delta
    FROM unnest($2::text[], $3::bigint[]) AS d(category, delta)
    WHERE b.player_id = $1 AND b.category = d.category
    RETURNING b.category, b.amount
), ledger AS (
    INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, win_kind,
        amount, currency, split, balance_after, round_id, game_id, session_id,
        reference_id, reference_transaction_id, created_at)
    SELECT $4, $5, $6, $1, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now()
    WHERE $4::uuid IS NOT NULL
), idempotency AS (
    INSERT INTO idempotency_keys (provider_id, transaction_id, fingerprint, status_code, response)
    VALUES ($5, $6, $18, $19, $20)
), opened AS (
    INSERT INTO rounds (provider_id, round_id, player_id, game_id)
    SELECT $5, $21, $1, $22 WHERE $23 = 'open'
), closed AS (
    UPDATE rounds SET status = 'closed', closed_at = now()
    WHERE $23 = 'close' AND provider_id = $5 AND round_id = $21 AND status = 'open'
)
SELECT category, amount FROM upd";

/// Writes the movement; returns the new amount of every updated balance row.
pub async fn write(client: &Client, m: &Movement<'_>) -> Result<Vec<(String, i64)>, DbError> {
    let stmt = client.prepare_cached(WRITE).await?;
    let row = m.row;
    let (op, round_id, game_id) = match m.round {
        RoundChange::None => ("none", None, None),
        RoundChange::Open { round_id, game_id } => ("open", Some(round_id), Some(game_id)),
        RoundChange::Close { round_id } => ("close", Some(round_id), None),
    };
    let split = row.map(|r| split_to_json(r.split));
    let balance_after = row.map(|r| split_to_json(r.balance_after));
    let status = m.record.status_code as i16;
    let rows = client
        .query(
            &stmt,
            &[
                &m.player_id,
                &m.categories,
                &m.deltas,
                &row.map(|r| r.id),
                &m.key.0,
                &m.key.1,
                &row.map(|r| r.kind),
                &row.and_then(|r| r.win_kind),
                &row.map(|r| r.amount.0),
                &row.map(|r| r.currency),
                &split,
                &balance_after,
                &row.and_then(|r| r.round_id),
                &row.and_then(|r| r.game_id),
                &row.and_then(|r| r.session_id),
                &row.and_then(|r| r.reference_id),
                &row.and_then(|r| r.reference_transaction_id),
                &m.record.fingerprint,
                &status,
                &m.record.response,
                &round_id,
                &game_id,
                &op,
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
