//! Idempotency of money calls: a fingerprint of what a call means, and the replay or
//! conflict decision against what was recorded for the same `(provider, transaction_id)`.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{LedgerError, Outcome};
use crate::db::ledger::Recorded;
use crate::domain::ErrorCode;

/// The key space of operator-issued transaction ids; provider ids cannot contain `@`.
pub const OPERATOR_NAMESPACE: &str = "@operator";

/// Hashes the fields that define a call. Two calls with the same transaction id and
/// the same fingerprint are the same call.
pub fn fingerprint(fields: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut hash = Sha256::new();
    for (name, value) in fields {
        hash.update(name.as_bytes());
        match value {
            Some(v) => {
                hash.update([1]);
                hash.update((v.len() as u64).to_be_bytes());
                hash.update(v.as_bytes());
            }
            None => hash.update([0]),
        }
    }
    hash.finalize().to_vec()
}

/// What to do about a recorded outcome: replay it for the same call, refuse a
/// different call with the same id.
pub fn replay(recorded: Recorded, fingerprint: &[u8]) -> Result<Outcome, LedgerError> {
    if recorded.fingerprint != fingerprint {
        return Err(LedgerError::new(
            ErrorCode::IdempotencyConflict,
            "this transaction_id was already used for a different call",
        ));
    }
    Ok(Outcome {
        status: recorded.status_code,
        body: recorded.response,
        replayed: true,
    })
}

/// The record to store for an outcome about to be committed.
pub fn record(fingerprint: Vec<u8>, status: u16, body: &Value) -> Recorded {
    Recorded {
        fingerprint,
        status_code: status,
        response: body.clone(),
    }
}
