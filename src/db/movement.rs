//! Money movements: a call's shared-key reads as one statement (the first a call
//! makes: it also reads the player's ledger sequence that dates them all), and the writes of a
//! commit group (the movements of several players committed together) as one
//! statement. Statements, not rows, are what a money call pays for most at the
//! database; see `ledger::group`.

use std::collections::HashMap;

use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::idempotency::{self, Recorded};
use super::ledger::{split_from_json, split_to_json, NewLedgerRow};
use super::players::RowsAt;
use super::rounds::round_from;
use super::sessions::session_from;
use super::{stored, Client, DbError, Tid};
use crate::domain::{
    Balances, ExternalTxId, GameId, Outcome, PlayerId, Receipt, Round, RoundId, Session, TxKey,
};

/// What a money call needs to know before its transaction, found by shared keys.
#[derive(Debug, Default)]
pub struct Context {
    /// The outcome recorded for `(provider, transaction_id)`.
    pub recorded: Option<Recorded>,
    pub session: Option<Session>,
    pub round: Option<Round>,
    /// Whether a rollback of the asked-for provider transaction id exists.
    pub rolled_back: bool,
    /// Where the round's row is (its `ctid`), for closing it without an index scan.
    pub round_tid: Option<String>,
    /// The player as this read found it (`None`: no such player).
    pub player: Option<Seen>,
}

/// What a call's first read found of its player.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The player's ledger sequence. The call's transaction checks it under the
    /// player's row lock: equal means nothing of this player committed since, so
    /// everything read here is still current.
    pub ledger_seq: i64,
    /// Where the player's rows are, for the transaction to lock and update them.
    pub rows: RowsAt,
}

/// [`context`]'s statement. An applied call's record is read with its ledger row, from
/// which its receipt is rendered, or, when the row's month was archived, with the
/// receipt the archive kept (looked up only when the row is not live: the subquery's
/// condition on `t` is a one-time filter). A tombstone is a live rollback or an archived
/// one.
pub const CONTEXT: &str = "\
SELECT k.fingerprint, k.refusal,
       coalesce(t.id, a.ledger_id), coalesce(t.provider_id, a.provider_id),
       coalesce(t.transaction_id, a.transaction_id), coalesce(t.balance_after, a.balance_after),
       coalesce(t.currency, a.currency),
       CASE WHEN t.id IS NULL THEN a.linked_bet IS NOT NULL ELSE t.reference_id IS NOT NULL END,
       CASE WHEN t.id IS NULL THEN a.linked_bet ELSE t.reference_transaction_id END,
       s.session_id, s.player_id, s.provider_id, s.game_id, s.expires_at, s.expires_at > now(),
       r.provider_id, r.round_id, r.player_id, r.game_id, r.status, r.opened_at,
       $5::text IS NOT NULL AND EXISTS (SELECT 1 FROM transactions x
           WHERE ledger_key(x.provider_id, x.reference_transaction_id, x.player_id)
                 = ledger_key($1, $5, $6)
             AND (x.provider_id, x.reference_transaction_id, x.player_id)
                 IS NOT DISTINCT FROM ($1, $5, $6)
             AND x.kind = 'rollback'
           UNION ALL SELECT 1 FROM ledger_tombstones z
           WHERE z.key = ledger_key($1, $5, $6)
             AND (z.provider_id, z.reference_transaction_id, z.player_id) = ($1, $5, $6)),
       r.ctid::text, p.ledger_seq, p.ctid, bal.categories, bal.tids
FROM (VALUES (1)) AS one (x)
LEFT JOIN players p ON p.player_id = $6
LEFT JOIN LATERAL (SELECT array_agg(b.category) AS categories, array_agg(b.ctid) AS tids
                   FROM balances b WHERE b.player_id = p.player_id) bal ON true
LEFT JOIN idempotency_keys k ON k.key = call_key($1, $2)
LEFT JOIN transactions t ON t.id = k.ledger_id
LEFT JOIN LATERAL (SELECT kept.* FROM ledger_receipts kept
                   WHERE kept.ledger_id = k.ledger_id AND t.id IS NULL OFFSET 0) a ON true
LEFT JOIN sessions s ON s.session_id = $3
LEFT JOIN rounds r ON r.provider_id = $1 AND r.round_id = $4 AND r.player_id = $6";

/// Reads the idempotency record of `(provider_id, transaction_id)` and, when asked
/// for, a session, the player's round and whether the player rolled back
/// `rolled_back_id`.
pub async fn context(
    client: &Client,
    key: &TxKey,
    player: &PlayerId,
    session_id: Option<Uuid>,
    round_id: Option<&RoundId>,
    rolled_back_id: Option<&ExternalTxId>,
) -> Result<Context, DbError> {
    let stmt = client.prepare_cached(CONTEXT).await?;
    let round_id = round_id.map(RoundId::as_str);
    let rolled_back_id = rolled_back_id.map(ExternalTxId::as_str);
    let r = client
        .query_one(
            &stmt,
            &[
                &key.provider.as_str(),
                &key.transaction.as_str(),
                &session_id,
                &round_id,
                &rolled_back_id,
                &player.as_str(),
            ],
        )
        .await?;
    let fingerprint: Option<Vec<u8>> = r.get(0);
    let session_id: Option<Uuid> = r.get(9);
    let round_id: Option<String> = r.get(16);
    let recorded = match fingerprint {
        Some(fingerprint) => Some(Recorded {
            fingerprint,
            outcome: recorded_outcome(&r, key)?,
        }),
        None => None,
    };
    let session = match session_id {
        Some(id) => Some(session_from(
            id,
            r.get(10),
            r.get(11),
            r.get(12),
            r.get(13),
            r.get(14),
        )?),
        None => None,
    };
    let round = match round_id {
        Some(round_id) => Some(round_from(
            r.get(15),
            round_id,
            r.get(17),
            r.get(18),
            r.get(19),
            r.get(20),
        )?),
        None => None,
    };
    Ok(Context {
        recorded,
        session,
        round,
        rolled_back: r.get(21),
        round_tid: r.get(22),
        player: seen(&r)?,
    })
}

/// The player's columns of the context row.
fn seen(r: &Row) -> Result<Option<Seen>, DbError> {
    let (Some(ledger_seq), Some(player)) = (r.get::<_, Option<i64>>(23), r.get(24)) else {
        return Ok(None);
    };
    let categories: Vec<String> = r.get::<_, Option<Vec<String>>>(25).unwrap_or_default();
    let tids: Vec<Tid> = r.get::<_, Option<Vec<Tid>>>(26).unwrap_or_default();
    if categories.len() != tids.len() {
        return Err(DbError::Data(
            "balance categories and row ids differ in number".into(),
        ));
    }
    Ok(Some(Seen {
        ledger_seq,
        rows: RowsAt {
            player,
            balances: categories.into_iter().zip(tids).collect(),
        },
    }))
}

/// The outcome of a found record: its refusal, or the receipt its ledger row renders
/// (the row of that very call: a key that led to another call's row is a collision of
/// the 16-byte key, refused as bad data rather than answered with that call).
fn recorded_outcome(r: &Row, key: &TxKey) -> Result<Outcome, DbError> {
    if let Some(refusal) = r.get::<_, Option<Value>>(1) {
        return Ok(Outcome::Refused(idempotency::decode_refusal(refusal)?));
    }
    let Some(id) = r.get::<_, Option<Uuid>>(2) else {
        return Err(DbError::Data(
            "an applied record's ledger row is missing".into(),
        ));
    };
    let (provider, transaction): (&str, &str) = (r.get(3), r.get(4));
    if provider != key.provider.as_str() || transaction != key.transaction.as_str() {
        return Err(DbError::Data(format!(
            "the record of ({}, {}) leads to the ledger row of ({provider}, {transaction})",
            key.provider.as_str(),
            key.transaction.as_str()
        )));
    }
    let linked_bet = match r.get::<_, bool>(7) {
        true => r
            .get::<_, Option<String>>(8)
            .map(|bet| stored("linked bet", ExternalTxId::parse(bet)))
            .transpose()?,
        false => None,
    };
    Ok(Outcome::Applied(Receipt {
        transaction_id: key.transaction.clone(),
        wallet_transaction_id: id,
        balance: Balances::new(split_from_json(r.get(5))?),
        currency: r.get(6),
        linked_bet,
    }))
}

/// What a call does to its round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundChange {
    None,
    /// Opens a round the call did not find; a unique violation means a concurrent call
    /// opened it meanwhile (the attempt is retried).
    Open {
        round_id: RoundId,
        game_id: GameId,
    },
    /// Closes an open round, found by the `ctid` the call read before its transaction
    /// ([`Context::round_tid`]). Inside SERIALIZABLE an index lookup of the round would
    /// lock a page of `rounds_pkey` that other groups insert new rounds into, and groups
    /// would abort each other; a TID scan locks only the round's own row. Rounds are
    /// updated only when closed, so a moved row is one already closed. The key is
    /// checked in a form no index can serve, and `status` is not filtered on, so that
    /// the TID scan is the only plan: on a young table the planner otherwise picks
    /// `rounds_pkey` or the partial index of open rounds, which locks every open round
    /// (measured: ~200 row locks per transaction and hundreds of aborts).
    Close {
        round_id: RoundId,
        tid: String,
    },
}

/// One call's write: balance deltas, its ledger row, its idempotency record and what it
/// does to its round.
#[derive(Debug, Clone)]
pub struct GroupWrite {
    pub player_id: PlayerId,
    /// Signed change per category.
    pub deltas: Vec<(String, i64)>,
    /// Balance rows to create first (a category configured after the player was made).
    pub missing_categories: Vec<String>,
    /// The ledger row; `None` for a recorded rejection, which moves nothing.
    pub row: Option<NewLedgerRow>,
    pub key: TxKey,
    pub record: Recorded,
    pub round: RoundChange,
}

// The balance and player rows are updated where the group's lock found them (their
// `ctid`s), each row's values picked by its position in the ctid array and its ids
// compared in a form no index serves, so that a TID scan is the only plan (see
// `players::LOCK`). Only a balance row created in this transaction (a category
// configured after the player was made) is found by its key, bounded by the players'
// ids whatever join the planner picks.
pub(super) const WRITE: &str = "\
WITH upd AS (
    UPDATE balances b
    SET amount = b.amount + ($3::bigint[])[array_position($33::tid[], b.ctid)]
    WHERE b.ctid = ANY($33::tid[])
      AND (b.player_id, b.category) IS NOT DISTINCT FROM
          (($1::text[])[array_position($33::tid[], b.ctid)],
           ($2::text[])[array_position($33::tid[], b.ctid)])
    RETURNING b.player_id, b.category, b.amount
), added AS (
    UPDATE balances b SET amount = b.amount + d.delta
    FROM unnest($34::text[], $35::text[], $36::bigint[]) AS d(player_id, category, delta)
    WHERE b.player_id = d.player_id AND b.category = d.category AND b.player_id = ANY($34)
    RETURNING b.player_id, b.category, b.amount
), ledger AS (
    INSERT INTO transactions (id, provider_id, transaction_id, player_id, kind, win_kind,
        amount, currency, split, balance_after, round_id, game_id, session_id,
        reference_id, reference_transaction_id, seq, created_at)
    SELECT *, now() FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],
        $9::text[], $10::bigint[], $11::text[], $12::jsonb[], $13::jsonb[], $14::text[],
        $15::text[], $16::uuid[], $17::uuid[], $18::text[], $31::bigint[])
), sequenced AS (
    UPDATE players p
    SET ledger_seq = ($31::bigint[])[array_position($37::tid[], p.ctid)]
    WHERE p.ctid = ANY($37::tid[])
      AND p.player_id IS NOT DISTINCT FROM ($7::text[])[array_position($37::tid[], p.ctid)]
), idempotency AS (
    INSERT INTO idempotency_keys (key, fingerprint, ledger_id, refusal)
    SELECT call_key(x.provider_id, x.transaction_id), x.fingerprint, x.ledger_id, x.refusal
    FROM unnest($19::text[], $20::text[], $21::bytea[], $32::uuid[], $22::jsonb[])
        AS x(provider_id, transaction_id, fingerprint, ledger_id, refusal)
), opened AS (
    INSERT INTO rounds (provider_id, round_id, player_id, game_id)
    SELECT * FROM unnest($23::text[], $24::text[], $25::text[], $26::text[])
), closed AS (
    UPDATE rounds r SET status = 'closed', closed_at = coalesce(r.closed_at, now())
    FROM unnest($27::text[], $28::text[], $29::text[]::tid[], $30::text[])
        AS c(provider_id, round_id, tid, player_id)
    WHERE r.ctid = c.tid
      AND (r.provider_id, r.round_id, r.player_id)
          IS NOT DISTINCT FROM (c.provider_id, c.round_id, c.player_id)
)
SELECT player_id, category, amount FROM upd
UNION ALL SELECT player_id, category, amount FROM added";

/// The columns of a group's write, one array per column.
#[derive(Default)]
struct Columns<'a> {
    d_player: Vec<&'a str>,
    d_category: Vec<&'a str>,
    d_delta: Vec<i64>,
    id: Vec<Uuid>,
    provider: Vec<&'a str>,
    transaction: Vec<&'a str>,
    player: Vec<&'a str>,
    kind: Vec<&'static str>,
    win_kind: Vec<Option<&'static str>>,
    amount: Vec<i64>,
    currency: Vec<&'a str>,
    split: Vec<Value>,
    balance_after: Vec<Value>,
    round: Vec<Option<&'a str>>,
    game: Vec<Option<&'a str>>,
    session: Vec<Option<Uuid>>,
    reference: Vec<Option<Uuid>>,
    reference_transaction: Vec<Option<&'a str>>,
    seq: Vec<i64>,
    i_provider: Vec<&'a str>,
    i_transaction: Vec<&'a str>,
    i_fingerprint: Vec<&'a [u8]>,
    i_ledger: Vec<Option<Uuid>>,
    i_refusal: Vec<Option<Value>>,
    o_provider: Vec<&'a str>,
    o_round: Vec<&'a str>,
    o_player: Vec<&'a str>,
    o_game: Vec<&'a str>,
    c_provider: Vec<&'a str>,
    c_round: Vec<&'a str>,
    c_tid: Vec<&'a str>,
    c_player: Vec<&'a str>,
    d_tid: Vec<Tid>,
    a_player: Vec<&'a str>,
    a_category: Vec<&'a str>,
    a_delta: Vec<i64>,
    s_tid: Vec<Tid>,
}

impl<'a> Columns<'a> {
    /// Adds a movement of the player whose rows the group's lock found at `at`.
    fn push(&mut self, m: &'a GroupWrite, at: &'a RowsAt) -> Result<(), DbError> {
        for (category, delta) in &m.deltas {
            match at.balances.get(category) {
                Some(tid) => {
                    self.d_tid.push(*tid);
                    self.d_player.push(m.player_id.as_str());
                    self.d_category.push(category);
                    self.d_delta.push(*delta);
                }
                None => {
                    self.a_player.push(m.player_id.as_str());
                    self.a_category.push(category);
                    self.a_delta.push(*delta);
                }
            }
        }
        if let Some(r) = &m.row {
            if r.player_id != m.player_id {
                return Err(DbError::Data("a ledger row of another player".into()));
            }
            self.s_tid.push(at.player);
            self.id.push(r.id);
            self.provider.push(r.provider_id.as_str());
            self.transaction.push(r.transaction_id.as_str());
            self.player.push(r.player_id.as_str());
            self.kind.push(r.kind.as_str());
            self.win_kind.push(r.win_kind.map(|k| k.as_str()));
            self.amount.push(r.amount.minor());
            self.currency.push(&r.currency);
            self.split.push(split_to_json(&r.split));
            self.balance_after
                .push(split_to_json(r.balance_after.parts()));
            self.round.push(r.round_id.as_ref().map(RoundId::as_str));
            self.game.push(r.game_id.as_ref().map(GameId::as_str));
            self.session.push(r.session_id);
            self.reference.push(r.reference_id);
            self.reference_transaction.push(
                r.reference_transaction_id
                    .as_ref()
                    .map(ExternalTxId::as_str),
            );
            self.seq.push(r.seq);
        }
        self.i_provider.push(m.key.provider.as_str());
        self.i_transaction.push(m.key.transaction.as_str());
        self.i_fingerprint
            .push(idempotency::stored_fingerprint(&m.record.fingerprint));
        let (ledger, refusal) = match &m.record.outcome {
            Outcome::Applied(r) => (Some(r.wallet_transaction_id), None),
            Outcome::Refused(r) => (None, Some(idempotency::encode_refusal(r))),
        };
        self.i_ledger.push(ledger);
        self.i_refusal.push(refusal);
        match &m.round {
            RoundChange::None => {}
            RoundChange::Open { round_id, game_id } => {
                self.o_provider.push(m.key.provider.as_str());
                self.o_round.push(round_id.as_str());
                self.o_player.push(m.player_id.as_str());
                self.o_game.push(game_id.as_str());
            }
            RoundChange::Close { round_id, tid } => {
                self.c_provider.push(m.key.provider.as_str());
                self.c_round.push(round_id.as_str());
                self.c_tid.push(tid);
                self.c_player.push(m.player_id.as_str());
            }
        }
        Ok(())
    }
}

const ENSURE_BALANCE_ROWS: &str = "\
INSERT INTO balances (player_id, category)
SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT (player_id, category) DO NOTHING";

/// Writes the movements of a commit group (at most one per player) in one statement,
/// after creating missing balance rows, and commits: one pipelined round trip. Returns
/// the new amount of every updated balance row, by player. `at` says where the group's
/// lock found each player's rows.
pub async fn write_and_commit(
    client: &Client,
    movements: &[GroupWrite],
    at: &HashMap<String, RowsAt>,
) -> Result<HashMap<String, Vec<(String, i64)>>, DbError> {
    let (players, categories): (Vec<&str>, Vec<&str>) = movements
        .iter()
        .flat_map(|m| {
            m.missing_categories
                .iter()
                .map(|c| (m.player_id.as_str(), c.as_str()))
        })
        .unzip();
    // Prepare first: a statement still to be prepared would have its Bind sent after
    // the COMMIT below, and run outside the transaction.
    let ensure = match players.is_empty() {
        true => None,
        false => Some(client.prepare_cached(ENSURE_BALANCE_ROWS).await?),
    };
    let stmt = client.prepare_cached(WRITE).await?;
    let mut c = Columns::default();
    for m in movements {
        let rows = at
            .get(m.player_id.as_str())
            .ok_or_else(|| DbError::Data("a movement of a player the group did not lock".into()))?;
        c.push(m, rows)?;
    }
    // Each request below goes out when first polled, in this order.
    let ensure = async {
        match &ensure {
            Some(ensure) => client.execute(ensure, &[&players, &categories]).await,
            None => Ok(0),
        }
    };
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 37] = [
        &c.d_player,
        &c.d_category,
        &c.d_delta,
        &c.id,
        &c.provider,
        &c.transaction,
        &c.player,
        &c.kind,
        &c.win_kind,
        &c.amount,
        &c.currency,
        &c.split,
        &c.balance_after,
        &c.round,
        &c.game,
        &c.session,
        &c.reference,
        &c.reference_transaction,
        &c.i_provider,
        &c.i_transaction,
        &c.i_fingerprint,
        &c.i_refusal,
        &c.o_provider,
        &c.o_round,
        &c.o_player,
        &c.o_game,
        &c.c_provider,
        &c.c_round,
        &c.c_tid,
        &c.c_player,
        &c.seq,
        &c.i_ledger,
        &c.d_tid,
        &c.a_player,
        &c.a_category,
        &c.a_delta,
        &c.s_tid,
    ];
    let write = client.query(&stmt, &params);
    let commit = client.batch_execute(super::COMMIT_AND_UNLOCK);
    let (_, rows, ()) = futures::try_join!(ensure, write, commit)?;
    let mut applied: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for r in &rows {
        applied
            .entry(r.get(0))
            .or_default()
            .push((r.get(1), r.get(2)));
    }
    Ok(applied)
}
