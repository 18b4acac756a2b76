//! The choices where real protocols disagree, as one value per protocol. A protocol
//! adapter picks its policy; the rules read it. The v1 API's choices are [`Policy::V1`].

/// What a rollback of a transaction the wallet has never seen does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownRollback {
    /// Succeeds without moving money and leaves a tombstone that refuses the bet if
    /// it arrives later.
    Tombstone,
    /// Is refused as `transaction_not_found` (nothing recorded; it may be resent).
    NotFound,
}

/// What a rollback of a bet that a win already paid does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettledRollback {
    /// Refused as `bet_already_settled`.
    Refuse,
    /// Refunds the stake all the same.
    Refund,
}

/// Which balance a replayed answer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayBalance {
    /// The balance recorded with the first answer: a replay repeats it byte for byte.
    Recorded,
    /// The player's balance now.
    Current,
}

/// Whether a bet's session must have been opened for the bet's game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionGame {
    /// The session is bound to its game: a bet in another game is `session_invalid`.
    Bound,
    /// The session spans games (an Evolution player moves between tables inside one
    /// session); each bet records its own game.
    Any,
}

/// Which of a bet's refusals wins when several apply. The refusal is recorded, so a
/// resend answers the same one: the order must be the protocol's, not fixed afterwards
/// by the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetRefusals {
    /// The contract's order: a blocked player, then the currency, then the session's
    /// expiry.
    BlockedFirst,
    /// The vendor protocols' order (`../protocols.md` 1.7 steps 7, 10, 11 and 2.7
    /// steps 6, 9, 10): the currency, then the session's expiry, then a blocked player.
    ExpiryFirst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub unknown_rollback: UnknownRollback,
    pub settled_rollback: SettledRollback,
    pub replay_balance: ReplayBalance,
    pub session_game: SessionGame,
    pub bet_refusals: BetRefusals,
}

impl Policy {
    /// The wallet's own API (`../wallet-api.md`).
    pub const V1: Policy = Policy {
        unknown_rollback: UnknownRollback::Tombstone,
        settled_rollback: SettledRollback::Refuse,
        replay_balance: ReplayBalance::Recorded,
        session_game: SessionGame::Bound,
        bet_refusals: BetRefusals::BlockedFirst,
    };

    /// Hub88's operator wallet API (`../protocols.md` 1): unknown rollbacks leave a
    /// tombstone (Caleta wants `RS_OK`), a rollback of a paid bet is refused by the
    /// ledger (the adapter answers `RS_OK` with nothing moved, 1.10), and a duplicate
    /// answers the first answer's balance (1.9); an expired token is refused before a
    /// blocked player (1.7 steps 10 and 11).
    pub const HUB88: Policy = Policy {
        unknown_rollback: UnknownRollback::Tombstone,
        settled_rollback: SettledRollback::Refuse,
        replay_balance: ReplayBalance::Recorded,
        session_game: SessionGame::Bound,
        bet_refusals: BetRefusals::ExpiryFirst,
    };

    /// Evolution One Wallet (`../protocols.md` 2): a cancel of an unknown debit leaves a
    /// tombstone, a cancel after the credit is refused, and a duplicate answers with the
    /// current balance (`BET_ALREADY_EXIST` "with the current balance", 2.5), and a sid
    /// is not bound to a table (0.2); an expired sid is refused before a blocked player
    /// (2.7 steps 9 and 10).
    pub const EVOLUTION: Policy = Policy {
        unknown_rollback: UnknownRollback::Tombstone,
        settled_rollback: SettledRollback::Refuse,
        replay_balance: ReplayBalance::Current,
        session_game: SessionGame::Any,
        bet_refusals: BetRefusals::ExpiryFirst,
    };
}
