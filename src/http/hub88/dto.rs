//! The Hub88 wire format (`../protocols.md` 1.5, 1.6): request bodies read field by field
//! from the raw JSON text (so that `1e5`, `1000.5` and `"100000"` are told apart from
//! an integer and no amount passes through a float), and the one answer shape whose
//! optional fields are left out where the protocol has none.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::status::Status;

/// Why a body's fields are not what the endpoint needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// Absent, `null` or an empty string where required, or not a JSON object at all:
    /// `RS_ERROR_WRONG_SYNTAX`.
    Syntax(String),
    /// Of the wrong JSON type, or an amount that is not an integer in range:
    /// `RS_ERROR_WRONG_TYPES`.
    Types(String),
}

impl FieldError {
    pub fn status(&self) -> Status {
        match self {
            FieldError::Syntax(_) => Status::WrongSyntax,
            FieldError::Types(_) => Status::WrongTypes,
        }
    }
}

/// A request body as a JSON object of raw values.
pub struct Fields<'a>(BTreeMap<String, &'a RawValue>);

impl<'a> Fields<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, FieldError> {
        serde_json::from_slice(body)
            .map(Fields)
            .map_err(|_| FieldError::Syntax("the body is not a JSON object".into()))
    }

    /// The raw text of a field that is present and not `null`.
    fn raw(&self, name: &str) -> Option<&'a str> {
        self.0
            .get(name)
            .map(|v| v.get().trim())
            .filter(|text| *text != "null")
    }

    pub fn opt_string(&self, name: &str) -> Result<Option<String>, FieldError> {
        match self.raw(name) {
            None => Ok(None),
            Some(text) if text.starts_with('"') => serde_json::from_str(text)
                .map(Some)
                .map_err(|_| FieldError::Types(format!("{name} must be a string"))),
            Some(_) => Err(FieldError::Types(format!("{name} must be a string"))),
        }
    }

    pub fn string(&self, name: &str) -> Result<String, FieldError> {
        match self.opt_string(name)? {
            Some(text) if !text.is_empty() => Ok(text),
            _ => Err(FieldError::Syntax(format!("{name} is required"))),
        }
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, FieldError> {
        match self.raw(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(FieldError::Types(format!("{name} must be a boolean"))),
        }
    }

    /// A required integer amount (Int64, not negative) as written: digits only, no
    /// fraction, no exponent, no string.
    pub fn amount(&self, name: &str) -> Result<i64, FieldError> {
        let text = self
            .raw(name)
            .ok_or_else(|| FieldError::Syntax(format!("{name} is required")))?;
        let types = || FieldError::Types(format!("{name} must be an integer from 0 to 2^63-1"));
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(types());
        }
        text.parse::<i64>().map_err(|_| types())
    }
}

/// The `request_uuid` to echo: the body's, when it is a JSON object with a string
/// `request_uuid` (also when the call is refused for another reason).
pub fn request_uuid(body: &[u8]) -> Option<String> {
    Fields::parse(body)
        .ok()
        .and_then(|f| f.opt_string("request_uuid").ok().flatten())
}

/// Every Hub88 answer: `user`, `currency` and `balance` on success and
/// `RS_ERROR_NOT_ENOUGH_MONEY`, only `status` and `request_uuid` on other errors.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Hub88Reply, example = json!({"user": "player-1001", "status": "RS_OK",
    "request_uuid": "b6a3e0c4-2f1d-4b8e-9c7a-5d4e3f2a1b0c", "currency": "EUR",
    "balance": 99850000}))]
pub struct Reply {
    /// Our `player_id` (successes and `RS_ERROR_NOT_ENOUGH_MONEY`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[schema(schema_with = crate::http::openapi::hub88_status)]
    pub status: &'static str,
    /// The request's, also on errors and replays; absent only when the body was not a
    /// JSON object with a string `request_uuid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// floor(total × multiplier), a JSON integer (not on `/user/info`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
}

impl Reply {
    pub fn error(status: Status, request_uuid: Option<String>) -> Self {
        Reply {
            user: None,
            status: status.as_str(),
            request_uuid,
            currency: None,
            balance: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_non_negative_integers_are_amounts() {
        let amount = |json: &str| {
            let body = format!(r#"{{"amount":{json}}}"#);
            Fields::parse(body.as_bytes()).unwrap().amount("amount")
        };
        assert_eq!(amount("0"), Ok(0));
        assert_eq!(amount("150000"), Ok(150_000));
        assert_eq!(amount("9223372036854775807"), Ok(i64::MAX));
        for bad in [
            "9223372036854775808",
            "-1",
            "1e5",
            "1000.5",
            "1000.0",
            "\"100000\"",
            "true",
            "[1]",
        ] {
            assert!(matches!(amount(bad), Err(FieldError::Types(_))), "{bad}");
        }
        assert!(matches!(amount("null"), Err(FieldError::Syntax(_))));
    }

    #[test]
    fn required_strings_are_present_non_empty_strings() {
        let f = Fields::parse(br#"{"a":"x","b":"","c":null,"d":5}"#).unwrap();
        assert_eq!(f.string("a"), Ok("x".into()));
        assert!(matches!(f.string("b"), Err(FieldError::Syntax(_))));
        assert!(matches!(f.string("c"), Err(FieldError::Syntax(_))));
        assert!(matches!(f.string("e"), Err(FieldError::Syntax(_))));
        assert!(matches!(f.string("d"), Err(FieldError::Types(_))));
        assert!(Fields::parse(b"[1]").is_err());
        assert_eq!(
            request_uuid(br#"{"request_uuid":"r-1","user":5}"#),
            Some("r-1".into())
        );
        assert_eq!(request_uuid(br#"{"request_uuid":5}"#), None);
    }
}
