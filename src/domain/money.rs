//! Exact amounts: parsing request input at a currency's scale and writing minor units back.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::de::{Deserializer, Error as _};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Largest amount a single call may carry, in minor units. Keeps every sum of a few
/// thousand amounts far away from `i64::MAX`.
pub const AMOUNT_MINOR_MAX: i64 = 1_000_000_000_000_000;

/// A currency code together with its fixed number of decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    pub code: String,
    pub scale: u32,
}

/// The configured currencies, by code.
#[derive(Debug, Clone, Default)]
pub struct Currencies(BTreeMap<String, u32>);

impl Currencies {
    pub fn new(scales: BTreeMap<String, u32>) -> Self {
        Self(scales)
    }

    pub fn get(&self, code: &str) -> Option<Currency> {
        self.0.get(code).map(|&scale| Currency {
            code: code.to_owned(),
            scale,
        })
    }
}

/// An amount as the client wrote it: a JSON string in plain decimal notation or a JSON
/// number (exponent allowed). Kept as text so it is never routed through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountInput(Decimal);

impl AmountInput {
    /// The amount in minor units of `currency`, refusing negative values, values with
    /// more decimals than the currency has, and values above [`AMOUNT_MINOR_MAX`].
    pub fn to_minor(&self, currency: &Currency) -> Result<Amount, String> {
        to_minor(self.0, currency)
    }

    /// Canonical text of the value (`12.5` for `12.50`), used in request fingerprints.
    pub fn canonical(&self) -> String {
        self.0.normalize().to_string()
    }
}

impl<'de> Deserialize<'de> for AmountInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
        parse_raw_amount(raw.get())
            .map(AmountInput)
            .map_err(D::Error::custom)
    }
}

fn parse_raw_amount(text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    if let Some(quoted) = text.strip_prefix('"') {
        let inner: String = serde_json::from_str(&format!("\"{quoted}"))
            .map_err(|_| "amount must be a decimal string or number".to_owned())?;
        parse_plain_decimal(&inner)
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        parse_json_number(text)
    } else {
        Err("amount must be a decimal string or number".to_owned())
    }
}

/// Plain decimal notation only: optional leading minus, digits, optional fraction.
fn parse_plain_decimal(s: &str) -> Result<Decimal, String> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (!digits.contains('.') || !frac.is_empty());
    if !well_formed {
        return Err(format!("amount {s:?} is not a plain decimal number"));
    }
    // Trailing zeros carry no value: dropping them keeps a long but exact input
    // ("12.5000…0", any length) within Decimal's 28 digits of scale.
    let exact = if frac.is_empty() {
        s
    } else {
        s.trim_end_matches('0').trim_end_matches('.')
    };
    Decimal::from_str_exact(exact).map_err(|_| format!("amount {s:?} is out of range"))
}

/// A JSON number literal, exponent allowed; parsed exactly from its text.
fn parse_json_number(s: &str) -> Result<Decimal, String> {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let mut value = parse_plain_decimal(mantissa)?;
    if let Some(exponent) = exponent {
        let exponent: i32 = exponent
            .strip_prefix('+')
            .unwrap_or(exponent)
            .parse()
            .map_err(|_| format!("amount {s} has a bad exponent"))?;
        if exponent.unsigned_abs() > 28 {
            return Err(format!("amount {s} is out of range"));
        }
        let ten = Decimal::from(10);
        for _ in 0..exponent.unsigned_abs() {
            value = if exponent > 0 {
                value
                    .checked_mul(ten)
                    .ok_or_else(|| format!("amount {s} is out of range"))?
            } else {
                value
                    .checked_div(ten)
                    .ok_or_else(|| format!("amount {s} is out of range"))?
            };
        }
    }
    Ok(value)
}

/// Converts an exact decimal to minor units of `currency`.
pub fn to_minor(value: Decimal, currency: &Currency) -> Result<Amount, String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err("amount must not be negative".to_owned());
    }
    let scaled = value
        .checked_mul(Decimal::from(10_i64.pow(currency.scale)))
        .ok_or_else(|| "amount is too large".to_owned())?;
    if scaled.fract() != Decimal::ZERO {
        return Err(format!(
            "amount {value} has more than {} decimals for {}",
            currency.scale, currency.code
        ));
    }
    let minor = i64::try_from(scaled.trunc()).map_err(|_| "amount is too large".to_owned())?;
    if minor > AMOUNT_MINOR_MAX {
        return Err("amount is too large".to_owned());
    }
    Ok(Amount(minor))
}

/// A non-negative amount in minor units of some currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Amount(pub i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub fn minor(self) -> i64 {
        self.0
    }

    /// Writes the amount with exactly `scale` decimals (`1250`, 2 -> `"12.50"`).
    pub fn format(self, scale: u32) -> String {
        let mut d = Decimal::from(self.0);
        d.set_scale(scale).expect("currency scales are at most 28");
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency {
            code: "EUR".into(),
            scale: 2,
        }
    }

    fn parse(json: &str) -> Result<Amount, String> {
        let input: AmountInput = serde_json::from_str(json).map_err(|e| e.to_string())?;
        input.to_minor(&eur())
    }

    #[test]
    fn strings_and_numbers_parse_exactly() {
        assert_eq!(parse("\"12.50\""), Ok(Amount(1250)));
        assert_eq!(parse("12.5"), Ok(Amount(1250)));
        assert_eq!(parse("\"12.500\""), Ok(Amount(1250)));
        assert_eq!(parse("2.5e1"), Ok(Amount(2500)));
        assert_eq!(parse("1E-2"), Ok(Amount(1)));
        assert_eq!(parse("0.1"), Ok(Amount(10)));
        assert_eq!(parse("0"), Ok(Amount(0)));
        let zeros = "0".repeat(40);
        assert_eq!(parse(&format!("\"12.5{zeros}\"")), Ok(Amount(1250)));
        assert_eq!(parse(&format!("12.5{zeros}")), Ok(Amount(1250)));
        assert_eq!(parse("\"100.0\""), Ok(Amount(10000)));
        assert_eq!(parse("\"-0.0\""), Ok(Amount(0)));
    }

    #[test]
    fn bad_amounts_are_refused() {
        for bad in [
            "\"0.001\"",
            "0.001",
            "\"-1\"",
            "-1",
            "\"abc\"",
            "\"1e2\"",
            "\"\"",
            "\" 1\"",
            "\"1.\"",
            "\".5\"",
            "true",
            "null",
            "[1]",
            "1e400",
            "\"99999999999999999999999999999\"",
            "10000000000000.01",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn amounts_format_at_the_currency_scale() {
        assert_eq!(Amount(1250).format(2), "12.50");
        assert_eq!(Amount(5).format(8), "0.00000005");
        assert_eq!(Amount(700).format(0), "700");
        assert_eq!(Amount(0).format(2), "0.00");
    }
}
