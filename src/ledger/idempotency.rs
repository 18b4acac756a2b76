//! Idempotency of money calls: the one place that classifies a recorded outcome
//! against a new call with the same `(provider, transaction_id)`.

use super::command::Fingerprint;
use super::{Answer, LedgerError};
use crate::db::idempotency::{stored_fingerprint, Recorded};
use crate::domain::ErrorCode;

/// Replays what was recorded for the same call; refuses a different call with the
/// same id (before any business rule, as the contract says).
pub fn replay(recorded: Recorded, fingerprint: &Fingerprint) -> Result<Answer, LedgerError> {
    if recorded.fingerprint != stored_fingerprint(fingerprint) {
        return Err(LedgerError::new(
            ErrorCode::IdempotencyConflict,
            "this transaction_id was already used for a different call",
        ));
    }
    Ok(Answer {
        outcome: recorded.outcome,
        replayed: true,
    })
}
