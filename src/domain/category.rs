//! Balance categories (cash, bonus, ...) and the rules that split stakes and wins
//! across them.

use std::collections::BTreeMap;

use super::money::Amount;

/// The category every credit without a stake split goes to.
pub const CASH: &str = "cash";

/// The configured categories, in the order a stake is taken from them.
#[derive(Debug, Clone)]
pub struct Categories(Vec<String>);

impl Categories {
    /// `order` must contain `cash` and no duplicates (checked by configuration).
    pub fn new(order: Vec<String>) -> Self {
        assert!(
            order.iter().any(|c| c == CASH),
            "categories must include cash"
        );
        Self(order)
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|c| c == name)
    }
}

/// Unsigned amounts by category; the parts of one movement or one balance.
pub type Split = BTreeMap<String, Amount>;

/// The sum of a split's parts. Parts are at most 2^62 each, so an `i128` cannot
/// overflow for any number of categories a configuration can hold.
pub fn split_total(split: &Split) -> i128 {
    split.values().map(|a| i128::from(a.minor())).sum()
}

/// A player's balance: one amount per category that has a balance row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Balances(Split);

impl Balances {
    pub fn new(parts: Split) -> Self {
        Self(parts)
    }

    pub fn parts(&self) -> &Split {
        &self.0
    }

    /// The sum of every category, in minor units.
    pub fn total_minor(&self) -> i128 {
        split_total(&self.0)
    }

    pub fn get(&self, category: &str) -> Amount {
        self.0.get(category).copied().unwrap_or_default()
    }

    pub fn has_row(&self, category: &str) -> bool {
        self.0.contains_key(category)
    }

    /// Takes `stake` from the categories in `order`; `None` when the total is short.
    pub fn allocate_stake(&self, stake: Amount, order: &Categories) -> Option<Split> {
        if self.total_minor() < i128::from(stake.minor()) {
            return None;
        }
        let mut left = stake;
        let mut split = Split::new();
        for category in order.names() {
            let take = left.min(self.get(category));
            if !take.is_zero() {
                split.insert(category.clone(), take);
                left = left
                    .checked_sub(take)
                    .expect("take is at most what is left");
            }
        }
        // Categories outside the configured order hold nothing a stake may use; the
        // total check above counted them, so look again before claiming success.
        left.is_zero().then_some(split)
    }

    /// The balance after taking `split` out of it. Panics if a part exceeds its
    /// category: callers allocate from this very balance.
    pub fn debit(&self, split: &Split) -> Balances {
        let mut next = self.clone();
        for (category, part) in split {
            let slot = next.0.entry(category.clone()).or_default();
            *slot = slot
                .checked_sub(*part)
                .unwrap_or_else(|| panic!("debit of {category} beyond its balance"));
        }
        next
    }

    /// The balance after adding `split` to it; `None` when a category would pass the
    /// balance limit.
    pub fn credit(&self, split: &Split) -> Option<Balances> {
        let mut next = self.clone();
        for (category, part) in split {
            let slot = next.0.entry(category.clone()).or_default();
            *slot = slot.checked_add(*part)?;
        }
        Some(next)
    }
}

/// The summed stakes of the bets a win pays, by category.
pub fn stake_totals<'a>(splits: impl IntoIterator<Item = &'a Split>) -> BTreeMap<String, i128> {
    let mut totals: BTreeMap<String, i128> = BTreeMap::new();
    for split in splits {
        for (category, part) in split {
            let total = totals.entry(category.clone()).or_default();
            *total = total.saturating_add(i128::from(part.minor()));
        }
    }
    totals
}

/// Splits a win across categories in proportion to `stakes` (the summed splits of the
/// bets it pays). Every category but cash gets its share rounded down; cash gets the
/// rest, so the parts always add up to `win`. No stake at all pays everything to cash.
pub fn allocate_win(win: Amount, stakes: &BTreeMap<String, i128>) -> Split {
    let staked: i128 = stakes.values().copied().fold(0, i128::saturating_add);
    let mut split = Split::new();
    let mut cash = win;
    if staked > 0 {
        for (category, part) in stakes {
            if category == CASH || *part == 0 {
                continue;
            }
            // win ≤ 2^62 and part ≤ staked, so the product fits an i128 and the share
            // is at most the win.
            let share = i128::from(win.minor())
                .checked_mul(*part)
                .and_then(|p| p.checked_div(staked))
                .and_then(|s| i64::try_from(s).ok())
                .and_then(Amount::from_minor)
                .expect("a share never exceeds the win");
            if !share.is_zero() {
                split.insert(category.clone(), share);
                cash = cash
                    .checked_sub(share)
                    .expect("shares add up to the win at most");
            }
        }
    }
    if !cash.is_zero() || split.is_empty() {
        split.insert(CASH.to_owned(), cash);
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(minor: i64) -> Amount {
        Amount::from_minor(minor).unwrap()
    }

    fn split(parts: &[(&str, i64)]) -> Split {
        parts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), amount(*v)))
            .collect()
    }

    fn order() -> Categories {
        Categories::new(vec!["cash".into(), "bonus".into()])
    }

    #[test]
    fn a_stake_spends_cash_before_bonus() {
        let balance = Balances::new(split(&[("cash", 800), ("bonus", 500)]));
        let table: [(i64, Option<Split>); 5] = [
            (0, Some(Split::new())),
            (1, Some(split(&[("cash", 1)]))),
            (1000, Some(split(&[("cash", 800), ("bonus", 200)]))),
            (1300, Some(split(&[("cash", 800), ("bonus", 500)]))),
            (1301, None),
        ];
        for (stake, expected) in table {
            assert_eq!(
                balance.allocate_stake(amount(stake), &order()),
                expected,
                "{stake}"
            );
        }
    }

    #[test]
    fn a_category_outside_the_order_is_never_staked() {
        let balance = Balances::new(split(&[("cash", 100), ("legacy", 500)]));
        assert_eq!(balance.allocate_stake(amount(200), &order()), None);
    }

    #[test]
    fn a_win_follows_the_stake_proportions_with_the_remainder_to_cash() {
        let stakes = stake_totals([&split(&[("cash", 800), ("bonus", 200)])]);
        assert_eq!(
            allocate_win(amount(1000), &stakes),
            split(&[("cash", 800), ("bonus", 200)])
        );
        let stakes = stake_totals([&split(&[("cash", 1)]), &split(&[("bonus", 2)])]);
        // bonus share 100 * 2 / 3 = 66.67 -> 66; cash gets 34.
        assert_eq!(
            allocate_win(amount(100), &stakes),
            split(&[("cash", 34), ("bonus", 66)])
        );
        let max = amount(crate::domain::money::BALANCE_MINOR_MAX);
        let stakes = stake_totals([&split(&[("bonus", 3), ("cash", 1)])]);
        let parts = allocate_win(max, &stakes);
        assert_eq!(split_total(&parts), i128::from(max.minor()));
    }

    #[test]
    fn a_win_without_stake_goes_to_cash() {
        let none = BTreeMap::new();
        assert_eq!(allocate_win(amount(0), &none), split(&[("cash", 0)]));
        assert_eq!(allocate_win(amount(5), &none), split(&[("cash", 5)]));
    }

    #[test]
    fn a_credit_past_the_balance_limit_is_refused() {
        let max = crate::domain::money::BALANCE_MINOR_MAX;
        let balance = Balances::new(split(&[("cash", max - 1)]));
        assert!(balance.credit(&split(&[("cash", 1)])).is_some());
        assert_eq!(balance.credit(&split(&[("cash", 2)])), None);
        assert!(balance.credit(&split(&[("bonus", max)])).is_some());
    }

    #[test]
    fn a_debit_leaves_the_rest() {
        let balance = Balances::new(split(&[("cash", 800), ("bonus", 500)]));
        let after = balance.debit(&split(&[("cash", 800), ("bonus", 1)]));
        assert_eq!(after, Balances::new(split(&[("cash", 0), ("bonus", 499)])));
    }
}
