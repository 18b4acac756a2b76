//! The closed sets of the ledger: transaction kinds, win kinds, player and round
//! statuses, and the direction of a movement. Parsed from the database in `db/`, written
//! back with `as_str`; rules compare enums, never strings.

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value written as `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a ledger row records.
    TransactionKind {
        Bet => "bet",
        Win => "win",
        Rollback => "rollback",
        Deposit => "deposit",
        Withdrawal => "withdrawal",
    }
);

text_enum!(
    /// What a win pays: a bet (`win`), or nothing in particular (`promo`, `jackpot`).
    WinKind {
        Win => "win",
        Promo => "promo",
        Jackpot => "jackpot",
    }
);

text_enum!(
    /// Whether a player may bet.
    PlayerStatus {
        Active => "active",
        Blocked => "blocked",
    }
);

text_enum!(
    /// Whether a round takes more bets.
    RoundStatus {
        Open => "open",
        Closed => "closed",
    }
);

/// Which way a movement moves money for the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Debit,
    Credit,
}

impl TransactionKind {
    /// The direction of a row of this kind: bets and withdrawals take, the rest give.
    pub fn direction(self) -> Direction {
        match self {
            TransactionKind::Bet | TransactionKind::Withdrawal => Direction::Debit,
            TransactionKind::Win | TransactionKind::Rollback | TransactionKind::Deposit => {
                Direction::Credit
            }
        }
    }
}

impl WinKind {
    /// Only a plain win pays a bet; promo and jackpot wins need none and settle none.
    pub fn pays_a_bet(self) -> bool {
        self == WinKind::Win
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_what_it_writes() {
        for kind in TransactionKind::ALL {
            assert_eq!(TransactionKind::parse(kind.as_str()), Some(*kind));
        }
        for kind in WinKind::ALL {
            assert_eq!(WinKind::parse(kind.as_str()), Some(*kind));
        }
        for status in PlayerStatus::ALL {
            assert_eq!(PlayerStatus::parse(status.as_str()), Some(*status));
        }
        for status in RoundStatus::ALL {
            assert_eq!(RoundStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(TransactionKind::parse("Bet"), None);
        assert_eq!(WinKind::parse(""), None);
    }

    #[test]
    fn bets_and_withdrawals_debit_everything_else_credits() {
        use TransactionKind::*;
        let table = [
            (Bet, Direction::Debit),
            (Withdrawal, Direction::Debit),
            (Win, Direction::Credit),
            (Rollback, Direction::Credit),
            (Deposit, Direction::Credit),
        ];
        for (kind, direction) in table {
            assert_eq!(kind.direction(), direction, "{kind}");
        }
    }
}
