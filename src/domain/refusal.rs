//! Why a money call was refused by a business rule. A refusal is recorded like a
//! success (a resend gets the same answer), so each reason is stored by name.

use super::ErrorCode;

macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident => $text:literal, $code:ident;)+) => {
        /// Every business refusal a money call can meet.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($(#[$doc])* $variant),+
        }

        impl Reason {
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),+];

            /// The name a recorded refusal is stored under.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Reason> {
                match text {
                    $($text => Some(Reason::$variant),)+
                    _ => None,
                }
            }

            /// The contract's error code for this refusal.
            pub fn code(self) -> ErrorCode {
                match self {
                    $(Reason::$variant => ErrorCode::$code),+
                }
            }
        }
    };
}

reasons! {
    PlayerBlocked => "player_blocked", PlayerBlocked;
    CurrencyMismatch => "currency_mismatch", CurrencyMismatch;
    SessionExpired => "session_expired", SessionExpired;
    /// A bet whose id a rollback already reversed (a tombstone).
    TransactionRolledBack => "transaction_rolled_back", TransactionRolledBack;
    /// A win whose bet was rolled back.
    BetRolledBack => "bet_rolled_back", TransactionRolledBack;
    RoundClosed => "round_closed", RoundClosed;
    /// A stake larger than the balance.
    InsufficientFunds => "insufficient_funds", InsufficientFunds;
    /// A withdrawal larger than the cash balance.
    InsufficientCash => "insufficient_cash", InsufficientFunds;
    BetAlreadySettled => "bet_already_settled", BetAlreadySettled;
    RollbackNotAllowed => "rollback_not_allowed", RollbackNotAllowed;
    BalanceLimitExceeded => "balance_limit_exceeded", BalanceLimitExceeded;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_a_refusal_code_and_reads_back() {
        for reason in Reason::ALL {
            assert!(reason.code().is_refusal(), "{reason:?}");
            assert_eq!(Reason::parse(reason.as_str()), Some(*reason));
        }
    }
}
