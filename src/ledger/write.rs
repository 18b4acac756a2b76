//! The write half of a money movement: one statement (balance deltas, the ledger row,
//! the idempotency record, the round change) and COMMIT, sent as one pipeline.

use futures::try_join;

use super::error::LedgerError;
use crate::db::ledger::{NewLedgerRow, Recorded};
use crate::db::movement::{self, Movement};
use crate::db::{self, Client};
use crate::domain::{Balances, Split};

pub use crate::db::movement::RoundChange;

pub struct Write<'a> {
    pub player_id: &'a str,
    /// Signed change per category.
    pub deltas: Vec<(String, i64)>,
    /// The balance the deltas must lead to; checked against what the database says.
    pub expected: Option<&'a Balances>,
    /// Balance rows to create first (a category configured after the player was made).
    pub missing_categories: Vec<String>,
    pub row: Option<NewLedgerRow<'a>>,
    pub key: (&'a str, &'a str),
    pub record: Recorded,
    pub round: RoundChange<'a>,
}

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

pub async fn commit(client: &Client, w: Write<'_>) -> Result<(), LedgerError> {
    let (categories, amounts): (Vec<String>, Vec<i64>) = w.deltas.iter().cloned().unzip();
    let ensure = async {
        if w.missing_categories.is_empty() {
            Ok(())
        } else {
            db::players::ensure_balance_rows(client, w.player_id, &w.missing_categories).await
        }
    };
    let movement = Movement {
        player_id: w.player_id,
        categories: &categories,
        deltas: &amounts,
        row: w.row.as_ref(),
        key: w.key,
        record: &w.record,
        round: w.round,
    };
    let write = movement::write(client, &movement);
    let (_, applied, _) = try_join!(ensure, write, db::commit(client))?;
    if let Some(expected) = w.expected {
        for (category, amount) in &applied {
            // The player row lock makes the read balance current; anything else is a
            // broken invariant, and the transaction has already committed.
            assert_eq!(
                expected.get(category).0,
                *amount,
                "balance of {category} for {} drifted from the computed value",
                w.player_id
            );
        }
    }
    Ok(())
}
