//! The Evolution wire format (`../protocols.md` 2.3, 2.6): one request shape for all
//! calls (each call then requires its own fields), amounts read exactly from the raw
//! JSON number, and answers whose `balance` and `bonus` are JSON numbers written with
//! exactly the currency's decimals.

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::domain::DecimalAmount;

/// A JSON number (never a string), not negative, read from its text.
#[derive(Debug, Clone, Copy)]
pub struct Number(pub DecimalAmount);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
        let text = raw.get().trim();
        if !text.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(D::Error::custom(
                "amount must be a JSON number of at least 0",
            ));
        }
        DecimalAmount::parse_number(text)
            .map(Number)
            .map_err(D::Error::custom)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Table {
    pub id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Details {
    pub table: Option<Table>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Game {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub details: Option<Details>,
}

impl Game {
    pub fn table(&self) -> Option<&str> {
        self.details
            .as_ref()
            .and_then(|d| d.table.as_ref())
            .and_then(|t| t.id.as_deref())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Transaction {
    pub id: String,
    #[serde(rename = "refId")]
    pub ref_id: String,
    pub amount: Option<Number>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PromoTransaction {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub amount: Number,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Channel {
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Every call's body; which fields are required depends on the call.
#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    pub sid: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub uuid: Option<String>,
    pub currency: Option<String>,
    pub channel: Option<Channel>,
    pub game: Option<Game>,
    pub transaction: Option<Transaction>,
    #[serde(rename = "promoTransaction")]
    pub promo_transaction: Option<PromoTransaction>,
}

/// The `uuid` to echo, read leniently: also from a body that is refused.
pub fn uuid(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("uuid")?.as_str().map(str::to_owned)
}

/// The answer of `check`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EvolutionCheckReply,
    example = json!({"status": "OK", "sid": "3f1d9a0e-6c2b-4e57-8d1a-2b9c7e4f6a10", "uuid": "u1"}))]
pub struct CheckReply {
    #[schema(schema_with = crate::http::openapi::evolution_status)]
    pub status: &'static str,
    /// On success the sid presented (never rotated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

/// The answer of every other call: the total and the bonus part, as JSON numbers with
/// the currency's decimals (`990.00`), or `0` before the player is known.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EvolutionBalanceReply,
    example = json!({"status": "OK", "balance": 990.00, "bonus": 0.00, "uuid": "ce7e6a1c-93a4-4d0f-8d64-3c8e2f1b5a77"}))]
pub struct BalanceReply {
    #[schema(schema_with = crate::http::openapi::evolution_status)]
    pub status: &'static str,
    /// The player's total, a JSON number with the currency's decimals (`990.00`); `0`
    /// when the call was refused before the player was known.
    #[schema(value_type = f64)]
    pub balance: Box<RawValue>,
    /// The `bonus` category, written the same way.
    #[schema(value_type = f64)]
    pub bonus: Box<RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

/// A number's JSON text as a raw value; `text` is what `format_minor` writes (digits,
/// one optional point), which is always valid JSON.
pub fn number(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_else(|_| zero())
}

pub fn zero() -> Box<RawValue> {
    RawValue::from_string("0".to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_non_negative_json_numbers() {
        let parse = |json: &str| serde_json::from_str::<Number>(json).map(|n| n.0.canonical());
        assert_eq!(parse("10.000000").unwrap(), "10");
        assert_eq!(parse("1.5e1").unwrap(), "15");
        for bad in ["\"10.00\"", "-1", "true", "null", "{}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
