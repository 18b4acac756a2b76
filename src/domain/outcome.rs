//! What a money call ended with, as data: applied (a receipt) or refused by a business
//! rule (a refusal). This is what the idempotency record keeps, and what every
//! protocol renders in its own words, replays included.

use uuid::Uuid;

use super::{Balances, ExternalTxId, Reason};

/// A money movement that was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The caller's id of the movement.
    pub transaction_id: ExternalTxId,
    /// The wallet's id of its ledger entry.
    pub wallet_transaction_id: Uuid,
    /// The player's balance right after it.
    pub balance: Balances,
    pub currency: String,
    /// The bet a win was linked to or a rollback reversed.
    pub linked_bet: Option<ExternalTxId>,
}

/// A money call a business rule refused; nothing moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: Reason,
    /// The player's unchanged balance.
    pub balance: Balances,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied(Receipt),
    Refused(Refusal),
}
