//! Between Hub88 integers and the ledger's amounts (`../protocols.md` 1.3): money is a
//! JSON integer, currency units times the provider's multiplier. In, it must be exact
//! at the player's currency scale; out, the balance is rounded down to an integer.

use crate::domain::money::AMOUNT_MINOR_MAX;
use crate::domain::{Amount, Currency};

fn pow10(scale: u32) -> Option<i128> {
    10i128.checked_pow(scale)
}

/// The amount `integer` stands for in `currency`, or `None` when it is not exact at the
/// currency's scale or beyond the largest amount one call may carry (the contract's
/// 10^15 minor units, as for every protocol).
pub fn amount_in(integer: i64, multiplier: u64, currency: &Currency) -> Option<Amount> {
    let scaled = i128::from(integer).checked_mul(pow10(currency.scale)?)?;
    let multiplier = i128::from(multiplier);
    if multiplier == 0 || scaled.checked_rem(multiplier)? != 0 {
        return None;
    }
    let minor = i64::try_from(scaled.checked_div(multiplier)?).ok()?;
    if minor > AMOUNT_MINOR_MAX {
        return None;
    }
    Amount::from_minor(minor)
}

/// `floor(total × multiplier)` as a Hub88 integer, from minor units at `scale`; `None`
/// only when it does not fit an Int64.
pub fn balance_out(total_minor: i128, multiplier: u64, scale: u32) -> Option<i64> {
    let scaled = total_minor.checked_mul(i128::from(multiplier))?;
    i64::try_from(scaled.checked_div_euclid(pow10(scale)?)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str, scale: u32) -> Currency {
        Currency {
            code: code.into(),
            scale,
        }
    }

    #[test]
    fn integers_convert_exactly_or_not_at_all() {
        let eur = currency("EUR", 2);
        let minor = |i: i64, m: u64, c: &Currency| amount_in(i, m, c).map(Amount::minor);
        assert_eq!(minor(150_000, 100_000, &eur), Some(150));
        assert_eq!(minor(1_000, 100_000, &eur), Some(1));
        assert_eq!(minor(0, 100_000, &eur), Some(0));
        assert_eq!(minor(100, 100_000, &eur), None);
        assert_eq!(minor(1_001, 100_000, &eur), None);
        let jpy = currency("JPY", 0);
        assert_eq!(minor(100_000, 100_000, &jpy), Some(1));
        assert_eq!(minor(99_999, 100_000, &jpy), None);
        let usdt = currency("USDT", 6);
        assert_eq!(minor(1, 100_000, &usdt), Some(10));
        let btc = currency("BTC", 8);
        assert_eq!(minor(1, 100_000_000, &btc), Some(1));
        // The ledger's largest amount, and one unit more.
        let max = AMOUNT_MINOR_MAX.checked_mul(1_000).unwrap();
        assert_eq!(minor(max, 100_000, &eur), Some(AMOUNT_MINOR_MAX));
        assert_eq!(minor(max + 1_000, 100_000, &eur), None);
        assert_eq!(minor(i64::MAX, 100_000, &usdt), None);
    }

    #[test]
    fn balances_are_rounded_down() {
        assert_eq!(balance_out(99_850, 100_000, 2), Some(99_850_000));
        // 0.123456789 BTC at scale 9 with Hub88's 10^8: the last digit goes.
        assert_eq!(balance_out(123_456_789, 100_000_000, 9), Some(12_345_678));
        assert_eq!(balance_out(i128::from(i64::MAX), 100_000, 2), None);
    }
}
