//! What the ledger stores, as typed values: players with their balances, game
//! sessions, rounds and ledger entries. `db/` parses rows into these.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Amount, Balances, ExternalTxId, GameId, PlayerId, PlayerStatus, ProviderId, RoundId,
    RoundStatus, Split, TransactionKind, WinKind,
};

/// A player with the balance rows they have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Player {
    pub player_id: PlayerId,
    pub currency: String,
    pub status: PlayerStatus,
    pub balances: Balances,
    /// The sequence number of the player's last ledger entry (0 before the first).
    pub ledger_seq: i64,
}

/// A game session an operator opened.
#[derive(Debug, Clone)]
pub struct Session {
    pub session_id: Uuid,
    pub player_id: PlayerId,
    pub provider_id: ProviderId,
    pub game_id: GameId,
    pub expires_at: DateTime<Utc>,
    /// Whether the session had not expired when it was read.
    pub live: bool,
}

impl Session {
    /// Whether `provider` may use this session for `player`.
    pub fn belongs_to(&self, provider: &ProviderId, player: &PlayerId) -> bool {
        self.provider_id == *provider && self.player_id == *player
    }
}

/// A player's round of a provider.
#[derive(Debug, Clone)]
pub struct Round {
    pub provider_id: ProviderId,
    pub round_id: RoundId,
    pub player_id: PlayerId,
    pub game_id: GameId,
    pub status: RoundStatus,
    pub opened_at: DateTime<Utc>,
}

/// One row of the append-only ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: Uuid,
    pub provider_id: ProviderId,
    pub transaction_id: ExternalTxId,
    pub player_id: PlayerId,
    pub kind: TransactionKind,
    pub win_kind: Option<WinKind>,
    pub amount: Amount,
    pub currency: String,
    /// Unsigned parts of `amount` by category; they add up to it.
    pub split: Split,
    /// The player's balance once this entry applied.
    pub balance_after: Balances,
    pub round_id: Option<RoundId>,
    pub game_id: Option<GameId>,
    pub session_id: Option<Uuid>,
    /// The entry this one settles (a win's bet) or reverses (a rollback's bet).
    pub reference_id: Option<Uuid>,
    /// The caller's id of what this entry references, seen or not (a tombstone's).
    pub reference_transaction_id: Option<ExternalTxId>,
    pub created_at: DateTime<Utc>,
    /// The entry's place in its player's ledger: 1, 2, 3, ... in commit order.
    pub seq: i64,
}
