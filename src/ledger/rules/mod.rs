//! The money rules, as pure functions: from what a call read (its context), the locked
//! player and the command, each `decide` says what to write or why to refuse. No I/O
//! here, so every rule has a table test beside it.

pub mod bet;
pub mod cash;
pub mod rollback;
pub mod win;

use uuid::Uuid;

use super::LedgerError;
use crate::db::movement::RoundChange;
use crate::domain::{
    Amount, Balances, Direction, ExternalTxId, GameId, Player, Reason, RoundId, Split,
    TransactionKind, WinKind,
};

/// What a call decided.
#[derive(Debug)]
pub enum Decision {
    /// Write this movement.
    Apply(Plan),
    /// A business refusal: recorded, nothing moves.
    Refuse(Reason),
    /// Refused before anything is recorded (an unknown session, a missing bet, ...).
    Fail(LedgerError),
}

/// One movement to write, with its effect on the player: the balance after it and the
/// entry's place in the player's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub movement: Movement,
    pub balance_after: Balances,
    /// The player's last sequence number plus one.
    pub seq: i64,
}

/// What a movement is: its kind, amount and split, and what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub kind: TransactionKind,
    pub win_kind: Option<WinKind>,
    pub amount: Amount,
    pub split: Split,
    pub round_id: Option<RoundId>,
    pub game_id: Option<GameId>,
    pub session_id: Option<Uuid>,
    /// The entry this one settles or reverses.
    pub reference_id: Option<Uuid>,
    /// The caller's id of what this entry references (seen or not).
    pub reference_transaction_id: Option<ExternalTxId>,
    pub round: RoundChange,
}

impl Movement {
    /// A movement of `kind` and `amount` split as `split`, about nothing else yet.
    pub fn new(kind: TransactionKind, amount: Amount, split: Split) -> Self {
        Movement {
            kind,
            win_kind: None,
            amount,
            split,
            round_id: None,
            game_id: None,
            session_id: None,
            reference_id: None,
            reference_transaction_id: None,
            round: RoundChange::None,
        }
    }

    /// Applies the movement to the player's balance: a debit of a split allocated from
    /// that balance, or a credit, which a category's balance limit may refuse.
    pub fn plan(self, player: &Player) -> Decision {
        debug_assert_eq!(
            crate::domain::category::split_total(&self.split),
            i128::from(self.amount.minor()),
            "a split adds up to its amount"
        );
        let balance_after = match self.kind.direction() {
            Direction::Debit => player.balances.debit(&self.split),
            Direction::Credit => match player.balances.credit(&self.split) {
                Some(balance) => balance,
                None => return Decision::Refuse(Reason::BalanceLimitExceeded),
            },
        };
        let Some(seq) = player.ledger_seq.checked_add(1) else {
            return Decision::Fail(LedgerError::Internal(
                "a player's ledger sequence is exhausted".into(),
            ));
        };
        Decision::Apply(Plan {
            movement: self,
            balance_after,
            seq,
        })
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Small builders shared by the rule tables.

    use chrono::Utc;
    use uuid::Uuid;

    use crate::domain::*;

    pub fn amount(minor: i64) -> Amount {
        Amount::from_minor(minor).unwrap()
    }

    pub fn eur() -> Currency {
        Currency {
            code: "EUR".into(),
            scale: 2,
        }
    }

    pub fn categories() -> Categories {
        Categories::new(vec!["cash".into(), "bonus".into()])
    }

    pub fn split(parts: &[(&str, i64)]) -> Split {
        parts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), amount(*v)))
            .collect()
    }

    pub fn player(cash: i64, bonus: i64) -> Player {
        Player {
            player_id: PlayerId::parse("p1").unwrap(),
            currency: "EUR".into(),
            status: PlayerStatus::Active,
            balances: Balances::new(split(&[("cash", cash), ("bonus", bonus)])),
            ledger_seq: 0,
        }
    }

    pub fn provider() -> ProviderId {
        ProviderId::parse("demo").unwrap()
    }

    pub fn session(live: bool) -> Session {
        Session {
            session_id: Uuid::now_v7(),
            player_id: PlayerId::parse("p1").unwrap(),
            provider_id: provider(),
            game_id: GameId::parse("g1").unwrap(),
            expires_at: Utc::now(),
            live,
        }
    }

    pub fn round(status: RoundStatus) -> Round {
        Round {
            provider_id: provider(),
            round_id: RoundId::parse("r1").unwrap(),
            player_id: PlayerId::parse("p1").unwrap(),
            game_id: GameId::parse("g1").unwrap(),
            status,
            opened_at: Utc::now(),
        }
    }

    /// A ledger entry of `kind` by player p1 on round r1, game g1.
    pub fn entry(kind: TransactionKind, id: &str, split_parts: &[(&str, i64)]) -> Entry {
        let split = split(split_parts);
        let total = category::split_total(&split);
        Entry {
            id: Uuid::now_v7(),
            provider_id: provider(),
            transaction_id: ExternalTxId::parse(id).unwrap(),
            player_id: PlayerId::parse("p1").unwrap(),
            kind,
            win_kind: (kind == TransactionKind::Win).then_some(WinKind::Win),
            amount: amount(i64::try_from(total).unwrap()),
            currency: "EUR".into(),
            split,
            balance_after: Balances::default(),
            round_id: Some(RoundId::parse("r1").unwrap()),
            game_id: Some(GameId::parse("g1").unwrap()),
            session_id: None,
            reference_id: None,
            reference_transaction_id: None,
            created_at: Utc::now(),
            seq: 1,
        }
    }
}
