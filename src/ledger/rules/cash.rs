//! Deposits and withdrawals by the operator.

use super::{Decision, Movement};
use crate::domain::category::CASH;
use crate::domain::{Currency, Player, Reason, Split, TransactionKind};
use crate::ledger::command::{CashCommand, CashDirection};
use crate::ledger::LedgerError;

/// `currency` is the player's own; the amount is converted at its scale here.
pub fn decide(player: &Player, currency: &Currency, cmd: &CashCommand) -> Decision {
    let amount = match cmd.amount.to_minor(currency) {
        Ok(amount) => amount,
        Err(message) => return Decision::Fail(LedgerError::invalid(message)),
    };
    let (kind, category) = match &cmd.direction {
        CashDirection::Deposit { category } => (TransactionKind::Deposit, category.as_str()),
        CashDirection::Withdrawal => (TransactionKind::Withdrawal, CASH),
    };
    if kind == TransactionKind::Withdrawal && player.balances.get(CASH) < amount {
        return Decision::Refuse(Reason::InsufficientCash);
    }
    let split: Split = [(category.to_owned(), amount)].into();
    Movement::new(kind, amount, split).plan(player)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::ledger::rules::fixtures::*;

    fn command(amount: &str, direction: CashDirection) -> CashCommand {
        CashCommand {
            key: TxKey {
                provider: ProviderId::operator(),
                transaction: ExternalTxId::parse("d1").unwrap(),
            },
            player: PlayerId::parse("p1").unwrap(),
            amount: DecimalAmount::parse_plain(amount).unwrap(),
            direction,
        }
    }

    fn run(player: &Player, amount: &str, direction: CashDirection) -> Result<Balances, String> {
        match decide(player, &eur(), &command(amount, direction)) {
            Decision::Apply(plan) => Ok(plan.balance_after),
            Decision::Refuse(r) => Err(r.as_str().to_owned()),
            Decision::Fail(e) => Err(e.code().as_str().to_owned()),
        }
    }

    #[test]
    fn withdrawals_take_cash_only_up_to_the_cash_balance() {
        let player = player(100, 500);
        let out = || CashDirection::Withdrawal;
        let table: [(&str, Result<i64, &str>); 4] = [
            ("0", Ok(100)),
            ("0.01", Ok(99)),
            ("1.00", Ok(0)),
            ("1.01", Err("insufficient_cash")),
        ];
        for (amount, expected) in table {
            let got = run(&player, amount, out()).map(|b| b.get("cash").minor());
            assert_eq!(got, expected.map_err(str::to_owned), "{amount}");
        }
        assert_eq!(
            run(&player, "0.001", out()),
            Err("invalid_request".to_owned())
        );
    }

    #[test]
    fn deposits_go_to_their_category_up_to_the_balance_limit() {
        let bonus = || CashDirection::Deposit {
            category: "bonus".into(),
        };
        let got = run(&player(0, 0), "2.50", bonus()).unwrap();
        assert_eq!(got.get("bonus").minor(), 250);
        let mut full = player(0, 0);
        full.balances = Balances::new(split(&[("cash", money::BALANCE_MINOR_MAX)]));
        let cash = || CashDirection::Deposit {
            category: "cash".into(),
        };
        assert_eq!(
            run(&full, "0.01", cash()),
            Err("balance_limit_exceeded".to_owned())
        );
        assert!(run(&full, "0.01", bonus()).is_ok());
    }
}
