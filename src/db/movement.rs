//! One money call's shared-key reads and its write, each as a single statement. One
//! statement instead of four keeps the per-call work of both the server and PostgreSQL
//! down.

use uuid::Uuid;

use super::ledger::{split_to_json, NewLedgerRow, Recorded};
use super::rounds::RoundRow;
use super::sessions::SessionRow;
use super::{Client, DbError};

/// What a money call needs to know before its transaction, found by shared keys.
#[derive(Debug, Default)]
pub struct Context {
    /// The outcome recorded for `(provider, transaction_id)`.
    pub recorded: Option<Recorded>,
    pub session: Option<SessionRow>,
    pub round: Option<RoundRow>,
    /// Whether a rollback of the asked-for provider transaction id exists.
    pub rolled_back: bool,
}

const CONTEXT: &str = "\
SELECT i.fingerprint, i.status_code, i.response,
       s.session_id, s.player_id, s.provider_id, s.game_id, s.expires_at, s.expires_at > now(),
       r.provider_id, r.round_id, r.player_id, r.game_id, r.status, r.opened_at,
       $5::text IS NOT NULL AND EXISTS (SELECT 1 FROM transactions t
           WHERE t.provider_id = $1 AND t.reference_transaction_id = $5 AND t.kind = 'rollback')
FROM (VALUES (1)) AS one (x)
LEFT JOIN idempotency_keys i ON i.provider_id = $1 AND i.transaction_id = $2
LEFT JOIN sessions s ON s.session_id = $3
LEFT JOIN rounds r ON r.provider_id = $1 AND r.round_id = $4";

/// Reads the idempotency record of `(provider_id, transaction_id)` and, when asked
/// for, a session, a round and whether `rolled_back_id` has a rollback.
pub async fn context(
    client: &Client,
    key: (&str, &str),
    session_id: Option<Uuid>,
    round_id: Option<&str>,
    rolled_back_id: Option<&str>,
) -> Result<Context, DbError> {
    let stmt = client.prepare_cached(CONTEXT).await?;
    let r = client
        .query_one(
            &stmt,
            &[&key.0, &key.1, &session_id, &round_id, &rolled_back_id],
        )
        .await?;
    let fingerprint: Option<Vec<u8>> = r.get(0);
    let session_id: Option<Uuid> = r.get(3);
    let round_id: Option<String> = r.get(10);
    Ok(Context {
        recorded: fingerprint.map(|fingerprint| Recorded {
            fingerprint,
            status_code: r.get::<_, i16>(1) as u16,
            response: r.get(2),
        }),
        session: session_id.map(|session_id| SessionRow {
            session_id,
            player_id: r.get(4),
            provider_id: r.get(5),
            game_id: r.get(6),
            expires_at: r.get(7),
            live: r.get(8),
        }),
        round: round_id.map(|round_id| RoundRow {
            provider_id: r.get(9),
            round_id,
            player_id: r.get(11),
            game_id: r.get(12),
            status: r.get(13),
            opened_at: r.get(14),
        }),
        rolled_back: r.get(15),
    })
}

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
