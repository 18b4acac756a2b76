//! The idempotency record of every money call: the call's fingerprint and its outcome,
//! stored as data (`{"applied": {...}}` or `{"refused": {...}}`, amounts in minor
//! units), never as one protocol's response body.

use serde_json::{json, Value};
use uuid::Uuid;

use super::ledger::{split_from_json, split_to_json};
use super::{stored, DbError};
use crate::domain::{Balances, ExternalTxId, Outcome, Reason, Receipt, Refusal};

/// What was recorded for one `(provider, transaction_id)`.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub fingerprint: Vec<u8>,
    pub outcome: Outcome,
}

/// The stored form of an outcome.
pub fn encode(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Applied(r) => json!({ "applied": {
            "wallet_transaction_id": r.wallet_transaction_id,
            "balance": split_to_json(r.balance.parts()),
            "currency": r.currency,
            "linked_bet": r.linked_bet.as_ref().map(ExternalTxId::as_str),
        }}),
        Outcome::Refused(r) => json!({ "refused": {
            "reason": r.reason.as_str(),
            "balance": split_to_json(r.balance.parts()),
            "currency": r.currency,
        }}),
    }
}

/// Reads a stored outcome back; `transaction_id` is the record's own key.
pub fn decode(value: Value, transaction_id: &ExternalTxId) -> Result<Outcome, DbError> {
    let text = |v: &Value, field: &str| -> Result<String, DbError> {
        v.get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| DbError::Data(format!("a recorded outcome has no {field}")))
    };
    let balance = |v: &Value| -> Result<Balances, DbError> {
        let parts = v.get("balance").cloned().unwrap_or(Value::Null);
        Ok(Balances::new(split_from_json(parts)?))
    };
    if let Some(a) = value.get("applied") {
        let id = stored(
            "wallet transaction id",
            Uuid::parse_str(&text(a, "wallet_transaction_id")?),
        )?;
        let linked_bet = match a.get("linked_bet").and_then(Value::as_str) {
            Some(bet) => Some(stored("linked bet", ExternalTxId::parse(bet))?),
            None => None,
        };
        return Ok(Outcome::Applied(Receipt {
            transaction_id: transaction_id.clone(),
            wallet_transaction_id: id,
            balance: balance(a)?,
            currency: text(a, "currency")?,
            linked_bet,
        }));
    }
    if let Some(r) = value.get("refused") {
        let reason = text(r, "reason")?;
        return Ok(Outcome::Refused(Refusal {
            reason: stored("refusal reason", Reason::parse(&reason).ok_or(()))?,
            balance: balance(r)?,
            currency: text(r, "currency")?,
        }));
    }
    Err(DbError::Data(
        "a recorded outcome is neither applied nor refused".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Amount;

    fn balance(cash: i64) -> Balances {
        Balances::new([("cash".to_owned(), Amount::from_minor(cash).unwrap())].into())
    }

    #[test]
    fn every_outcome_reads_back_as_written() {
        let id = ExternalTxId::parse("t-1").unwrap();
        let mut outcomes = vec![
            Outcome::Applied(Receipt {
                transaction_id: id.clone(),
                wallet_transaction_id: Uuid::now_v7(),
                balance: balance(9000),
                currency: "EUR".into(),
                linked_bet: None,
            }),
            Outcome::Applied(Receipt {
                transaction_id: id.clone(),
                wallet_transaction_id: Uuid::now_v7(),
                balance: balance(0),
                currency: "JPY".into(),
                linked_bet: Some(ExternalTxId::parse("b-1").unwrap()),
            }),
        ];
        for reason in Reason::ALL {
            outcomes.push(Outcome::Refused(Refusal {
                reason: *reason,
                balance: balance(1),
                currency: "EUR".into(),
            }));
        }
        for outcome in outcomes {
            assert_eq!(decode(encode(&outcome), &id).unwrap(), outcome);
        }
        assert!(decode(json!({"other": {}}), &id).is_err());
    }
}
