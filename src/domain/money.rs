//! Exact amounts: decimals parsed exactly from what a client wrote, converted to minor
//! units at a currency's scale, and minor units written back. Amounts are never routed
//! through a binary float and arithmetic on them never wraps.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

/// Largest amount a single call may carry, in minor units (the contract's 10^15).
pub const AMOUNT_MINOR_MAX: i64 = 1_000_000_000_000_000;

/// Largest balance of one category, in minor units (the contract's 2^62). A credit past
/// it is refused; the sum of a few categories still fits an `i128` with room to spare.
pub const BALANCE_MINOR_MAX: i64 = 1 << 62;

const _: () = assert!(AMOUNT_MINOR_MAX < BALANCE_MINOR_MAX);
// A full balance plus a maximal call fits an i64: crediting a call fails only by passing
// the balance limit, never by overflow.
const _: () = assert!(BALANCE_MINOR_MAX.checked_add(AMOUNT_MINOR_MAX).is_some());

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

/// An exact decimal as a client wrote it, before a currency gives it a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalAmount(Decimal);

impl DecimalAmount {
    /// Plain decimal notation (`"12.50"`, `"-0.0"`): optional leading minus, digits,
    /// optional fraction. The text of a JSON string amount.
    pub fn parse_plain(text: &str) -> Result<Self, String> {
        parse_plain_decimal(text).map(Self)
    }

    /// A JSON number literal (`12.5`, `2.5e1`), exponent allowed, parsed exactly from
    /// its text: a value that a `Decimal` cannot hold exactly is refused, not rounded.
    pub fn parse_number(text: &str) -> Result<Self, String> {
        parse_number_literal(text).map(Self)
    }

    /// The value in minor units of `currency`, refusing negative values, values with
    /// more decimals than the currency has, and values above [`AMOUNT_MINOR_MAX`].
    pub fn to_minor(self, currency: &Currency) -> Result<Amount, String> {
        to_minor(self.0, currency)
    }

    /// Canonical text of the value (`12.5` for `12.50`), used in request fingerprints.
    pub fn canonical(self) -> String {
        self.0.normalize().to_string()
    }
}

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

fn parse_number_literal(s: &str) -> Result<Decimal, String> {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], s.get(at.saturating_add(1)..)),
        None => (s, None),
    };
    let mut value = parse_plain_decimal(mantissa)?;
    let Some(exponent) = exponent else {
        return Ok(value);
    };
    let exponent: i32 = exponent
        .strip_prefix('+')
        .unwrap_or(exponent)
        .parse()
        .map_err(|_| format!("amount {s} has a bad exponent"))?;
    let out_of_range = || format!("amount {s} is out of range");
    if exponent.unsigned_abs() > 28 {
        return Err(out_of_range());
    }
    if exponent >= 0 {
        let ten = Decimal::from(10);
        for _ in 0..exponent {
            value = value.checked_mul(ten).ok_or_else(out_of_range)?;
        }
    } else {
        // Moving the decimal point is exact; a value that would need more than
        // Decimal's 28 decimals is not exact at any currency's scale.
        let scale = value.scale().saturating_add(exponent.unsigned_abs());
        value.set_scale(scale).map_err(|_| out_of_range())?;
    }
    Ok(value)
}

/// Converts an exact decimal to minor units of `currency`.
fn to_minor(value: Decimal, currency: &Currency) -> Result<Amount, String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err("amount must not be negative".to_owned());
    }
    let unit = 10_i64
        .checked_pow(currency.scale)
        .ok_or_else(|| "amount is too large".to_owned())?;
    let scaled = value
        .checked_mul(Decimal::from(unit))
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
    Amount::from_minor(minor.max(0)).ok_or_else(|| "amount is too large".to_owned())
}

/// A non-negative amount in minor units of some currency, at most
/// [`BALANCE_MINOR_MAX`]. Built only through checked constructors and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Amount(i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// `minor` as an amount, if it is within `0..=BALANCE_MINOR_MAX`.
    pub fn from_minor(minor: i64) -> Option<Amount> {
        (0..=BALANCE_MINOR_MAX)
            .contains(&minor)
            .then_some(Amount(minor))
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The sum, if it stays within the balance limit.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).and_then(Amount::from_minor)
    }

    /// The difference, if it is not negative.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).and_then(Amount::from_minor)
    }

    /// Writes the amount with exactly `scale` decimals (`1250`, 2 -> `"12.50"`).
    pub fn format(self, scale: u32) -> String {
        format_minor(i128::from(self.0), scale)
    }
}

/// Writes a sum of minor units with exactly `scale` decimals.
pub fn format_minor(minor: i128, scale: u32) -> String {
    let mut d = Decimal::from_i128_with_scale(minor, 0);
    d.set_scale(scale).expect("currency scales are at most 28");
    d.to_string()
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

    fn amount(minor: i64) -> Amount {
        Amount::from_minor(minor).unwrap()
    }

    fn plain(text: &str) -> Result<Amount, String> {
        DecimalAmount::parse_plain(text)?.to_minor(&eur())
    }

    fn number(text: &str) -> Result<Amount, String> {
        DecimalAmount::parse_number(text)?.to_minor(&eur())
    }

    #[test]
    fn strings_and_numbers_parse_exactly() {
        let zeros = "0".repeat(40);
        let long = format!("12.5{zeros}");
        for (text, minor) in [
            ("12.50", 1250),
            ("12.500", 1250),
            ("100.0", 10000),
            ("-0.0", 0),
            ("0", 0),
            (long.as_str(), 1250),
        ] {
            assert_eq!(plain(text), Ok(amount(minor)), "{text}");
        }
        for (text, minor) in [
            ("12.5", 1250),
            ("2.5e1", 2500),
            ("1E-2", 1),
            ("0.1", 10),
            ("0", 0),
            ("1e+2", 10000),
            (long.as_str(), 1250),
        ] {
            assert_eq!(number(text), Ok(amount(minor)), "{text}");
        }
    }

    #[test]
    fn bad_amounts_are_refused() {
        for bad in [
            "0.001",
            "-1",
            "abc",
            "1e2",
            "",
            " 1",
            "1.",
            ".5",
            "99999999999999999999999999999",
        ] {
            assert!(plain(bad).is_err(), "string {bad:?} was accepted");
        }
        for bad in [
            "0.001",
            "-1",
            "1e400",
            "10000000000000.01",
            // Not exact in 28 decimals: refused, never rounded to 0.10 or to zero.
            "1.0000000000000000000000000001e-1",
            "0.1e-28",
            "1e-29",
        ] {
            assert!(number(bad).is_err(), "number {bad} was accepted");
        }
    }

    #[test]
    fn the_per_call_limit_is_inclusive() {
        let max = AMOUNT_MINOR_MAX / 100;
        assert_eq!(plain(&max.to_string()), Ok(amount(AMOUNT_MINOR_MAX)));
        assert!(plain(&format!("{max}.01")).is_err());
    }

    #[test]
    fn amounts_stay_within_zero_and_the_balance_limit() {
        assert_eq!(Amount::from_minor(-1), None);
        assert_eq!(Amount::from_minor(0), Some(Amount::ZERO));
        assert!(Amount::from_minor(BALANCE_MINOR_MAX).is_some());
        assert_eq!(Amount::from_minor(BALANCE_MINOR_MAX + 1), None);
        let max = amount(BALANCE_MINOR_MAX);
        assert_eq!(max.checked_add(Amount::ZERO), Some(max));
        assert_eq!(max.checked_add(amount(1)), None);
        assert_eq!(amount(1).checked_sub(amount(2)), None);
        assert_eq!(amount(2).checked_sub(amount(2)), Some(Amount::ZERO));
    }

    #[test]
    fn amounts_format_at_the_currency_scale() {
        assert_eq!(amount(1250).format(2), "12.50");
        assert_eq!(amount(5).format(8), "0.00000005");
        assert_eq!(amount(700).format(0), "700");
        assert_eq!(amount(0).format(2), "0.00");
        assert_eq!(
            format_minor(3 * i128::from(BALANCE_MINOR_MAX), 0),
            "13835058055282163712"
        );
    }
}
