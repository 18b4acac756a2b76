//! Balance categories (cash, bonus, ...) and the rules that split stakes and wins
//! across them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

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

/// A player's balance: one amount per configured category.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Balances(pub Split);

impl Balances {
    pub fn total(&self) -> Amount {
        Amount(self.0.values().map(|a| a.0).sum())
    }

    pub fn get(&self, category: &str) -> Amount {
        self.0.get(category).copied().unwrap_or_default()
    }

    /// Takes `stake` from the categories in `order`; `None` when the total is short.
    pub fn allocate_stake(&self, stake: Amount, order: &Categories) -> Option<Split> {
        if self.total() < stake {
            return None;
        }
        let mut left = stake.0;
        let mut split = Split::new();
        for category in order.names() {
            let take = left.min(self.get(category).0);
            if take > 0 {
                split.insert(category.clone(), Amount(take));
                left -= take;
            }
        }
        debug_assert_eq!(left, 0);
        Some(split)
    }

    /// The balance after taking `split` out of it. Panics if a part exceeds its
    /// category: callers allocate from this very balance.
    pub fn debit(&self, split: &Split) -> Balances {
        let mut next = self.clone();
        for (category, part) in split {
            let slot = next.0.entry(category.clone()).or_default();
            assert!(slot.0 >= part.0, "debit of {category} beyond its balance");
            slot.0 -= part.0;
        }
        next
    }

    /// The balance after adding `split` to it.
    pub fn credit(&self, split: &Split) -> Balances {
        let mut next = self.clone();
        for (category, part) in split {
            next.0.entry(category.clone()).or_default().0 += part.0;
        }
        next
    }

    /// `{"total": "60.00", "cash": "50.00", ...}` with every configured category.
    pub fn to_json(&self, scale: u32, categories: &Categories) -> Value {
        let mut out = Map::new();
        out.insert("total".into(), Value::String(self.total().format(scale)));
        for category in categories.names() {
            out.insert(
                category.clone(),
                Value::String(self.get(category).format(scale)),
            );
        }
        Value::Object(out)
    }
}

/// Splits a win across categories in proportion to `stakes` (the summed splits of the
/// bets it pays). Every category but cash gets its share rounded down; cash gets the
/// rest, so the parts always add up to `win`. No stake at all pays everything to cash.
pub fn allocate_win(win: Amount, stakes: &Split) -> Split {
    let staked: i128 = stakes.values().map(|a| i128::from(a.0)).sum();
    let mut split = Split::new();
    let mut given: i64 = 0;
    if staked > 0 {
        for (category, part) in stakes {
            if category == CASH || part.0 == 0 {
                continue;
            }
            let share = i128::from(win.0) * i128::from(part.0) / staked;
            let share = i64::try_from(share).expect("a share never exceeds the win");
            if share > 0 {
                split.insert(category.clone(), Amount(share));
                given += share;
            }
        }
    }
    let cash = win.0 - given;
    if cash > 0 || split.is_empty() {
        split.insert(CASH.to_owned(), Amount(cash));
    }
    split
}

/// Unsigned split as JSON (`{"cash": "8.00", "bonus": "2.00"}`).
pub fn split_to_json(split: &Split, scale: u32) -> Value {
    Value::Object(
        split
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.format(scale))))
            .collect(),
    )
}

/// Adds `b` into `a`, category by category.
pub fn add_split(a: &mut Split, b: &Split) {
    for (category, part) in b {
        a.entry(category.clone()).or_default().0 += part.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(parts: &[(&str, i64)]) -> Split {
        parts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Amount(*v)))
            .collect()
    }

    fn order() -> Categories {
        Categories::new(vec!["cash".into(), "bonus".into()])
    }

    #[test]
    fn a_stake_spends_cash_before_bonus() {
        let balance = Balances(split(&[("cash", 800), ("bonus", 500)]));
        assert_eq!(
            balance.allocate_stake(Amount(1000), &order()),
            Some(split(&[("cash", 800), ("bonus", 200)]))
        );
        assert_eq!(balance.allocate_stake(Amount(1301), &order()), None);
        assert_eq!(
            balance.allocate_stake(Amount(0), &order()),
            Some(Split::new())
        );
    }

    #[test]
    fn a_win_follows_the_stake_proportions_with_the_remainder_to_cash() {
        let stakes = split(&[("cash", 800), ("bonus", 200)]);
        assert_eq!(
            allocate_win(Amount(1000), &stakes),
            split(&[("cash", 800), ("bonus", 200)])
        );
        let stakes = split(&[("cash", 1), ("bonus", 2)]);
        // bonus share 100 * 2 / 3 = 66.67 -> 66; cash gets 34.
        assert_eq!(
            allocate_win(Amount(100), &stakes),
            split(&[("cash", 34), ("bonus", 66)])
        );
    }

    #[test]
    fn a_win_without_stake_goes_to_cash() {
        assert_eq!(
            allocate_win(Amount(0), &Split::new()),
            split(&[("cash", 0)])
        );
        assert_eq!(
            allocate_win(Amount(5), &Split::new()),
            split(&[("cash", 5)])
        );
    }
}
