//! The idempotency record of every money call, keyed by `call_key(provider,
//! transaction_id)`: the call's fingerprint and what it ended with. An applied call's
//! record points at its ledger row, and its receipt is rendered from that row; a refused
//! call's record holds the refusal as data (`{"reason", "balance", "currency"}`, amounts
//! in minor units), never as one protocol's response body.

use serde_json::{json, Value};

use super::ledger::{split_from_json, split_to_json};
use super::DbError;
use crate::domain::{Balances, Outcome, Reason, Refusal};

/// What was recorded for one `(provider, transaction_id)`.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The call's fingerprint; a read record holds its [stored part](stored_fingerprint).
    pub fingerprint: Vec<u8>,
    pub outcome: Outcome,
}

/// The part of a fingerprint a record keeps: its first 16 bytes. Two different calls
/// under one transaction id (a provider's mistake, not an attack on the wallet) share
/// them with a chance of 2^-128.
pub fn stored_fingerprint(fingerprint: &[u8]) -> &[u8] {
    &fingerprint[..fingerprint.len().min(16)]
}

/// The stored form of a refusal.
pub fn encode_refusal(refusal: &Refusal) -> Value {
    json!({
        "reason": refusal.reason.as_str(),
        "balance": split_to_json(refusal.balance.parts()),
        "currency": refusal.currency,
    })
}

/// Reads a stored refusal back.
pub fn decode_refusal(value: Value) -> Result<Refusal, DbError> {
    let text = |field: &str| -> Result<String, DbError> {
        value
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| DbError::Data(format!("a recorded refusal has no {field}")))
    };
    let reason = text("reason")?;
    let reason = Reason::parse(&reason)
        .ok_or_else(|| DbError::Data(format!("a recorded refusal has reason {reason:?}")))?;
    let balance = value.get("balance").cloned().unwrap_or(Value::Null);
    Ok(Refusal {
        reason,
        balance: Balances::new(split_from_json(balance)?),
        currency: text("currency")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Amount;

    #[test]
    fn every_refusal_reads_back_as_written() {
        let balance = Balances::new([("cash".to_owned(), Amount::from_minor(1).unwrap())].into());
        for reason in Reason::ALL {
            let refusal = Refusal {
                reason: *reason,
                balance: balance.clone(),
                currency: "EUR".into(),
            };
            assert_eq!(decode_refusal(encode_refusal(&refusal)).unwrap(), refusal);
        }
        assert!(decode_refusal(json!({"reason": "other", "currency": "EUR"})).is_err());
        assert!(decode_refusal(json!({"reason": "player_blocked"})).is_err());
    }
}
