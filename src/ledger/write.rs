//! The write half of a money movement: what a call hands to its commit group, and the
//! check of the balances the group's write reports back.

use super::error::LedgerError;
use super::group::Member;
use crate::db::movement::Movement;
use crate::domain::{Balances, Split};

pub use crate::db::movement::RoundChange;

/// Signed deltas of a debit (`sign` -1) or credit (`sign` 1) of `split`.
pub fn deltas(split: &Split, sign: i64) -> Vec<(String, i64)> {
    split
        .iter()
        .filter(|(_, a)| a.0 != 0)
        .map(|(c, a)| (c.clone(), sign * a.0))
        .collect()
}

/// Categories of `split` without a balance row yet.
pub fn missing(balances: &Balances, split: &Split) -> Vec<String> {
    split
        .keys()
        .filter(|c| !balances.0.contains_key(*c))
        .cloned()
        .collect()
}

/// Hands `movement` to the member's group and waits for its COMMIT. `expected` is the
/// balance the movement must lead to, checked against what the database reports.
pub async fn commit(
    member: Member,
    movement: Movement,
    expected: Option<&Balances>,
) -> Result<(), LedgerError> {
    let player_id = movement.player_id.clone();
    let applied = member.commit(movement).await?;
    if let Some(expected) = expected {
        for (category, amount) in &applied {
            // The player row lock makes the read balance current; anything else is a
            // broken invariant, and the transaction has already committed.
            assert_eq!(
                expected.get(category).0,
                *amount,
                "balance of {category} for {player_id} drifted from the computed value",
            );
        }
    }
    Ok(())
}
