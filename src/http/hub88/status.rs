//! The Hub88 status table (`../protocols.md` 1.8): what each ledger outcome answers on
//! each endpoint. Every answer is HTTP 200 with one of these in `status`.

use crate::domain::{ErrorCode, Reason};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Unknown,
    InvalidToken,
    InvalidGame,
    WrongCurrency,
    NotEnoughMoney,
    UserDisabled,
    InvalidSignature,
    TokenExpired,
    WrongSyntax,
    WrongTypes,
    DuplicateTransaction,
    TransactionDoesNotExist,
    TransactionRolledBack,
}

impl Status {
    pub const ALL: &'static [Status] = &[
        Status::Ok,
        Status::Unknown,
        Status::InvalidToken,
        Status::InvalidGame,
        Status::WrongCurrency,
        Status::NotEnoughMoney,
        Status::UserDisabled,
        Status::InvalidSignature,
        Status::TokenExpired,
        Status::WrongSyntax,
        Status::WrongTypes,
        Status::DuplicateTransaction,
        Status::TransactionDoesNotExist,
        Status::TransactionRolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "RS_OK",
            Status::Unknown => "RS_ERROR_UNKNOWN",
            Status::InvalidToken => "RS_ERROR_INVALID_TOKEN",
            Status::InvalidGame => "RS_ERROR_INVALID_GAME",
            Status::WrongCurrency => "RS_ERROR_WRONG_CURRENCY",
            Status::NotEnoughMoney => "RS_ERROR_NOT_ENOUGH_MONEY",
            Status::UserDisabled => "RS_ERROR_USER_DISABLED",
            Status::InvalidSignature => "RS_ERROR_INVALID_SIGNATURE",
            Status::TokenExpired => "RS_ERROR_TOKEN_EXPIRED",
            Status::WrongSyntax => "RS_ERROR_WRONG_SYNTAX",
            Status::WrongTypes => "RS_ERROR_WRONG_TYPES",
            Status::DuplicateTransaction => "RS_ERROR_DUPLICATE_TRANSACTION",
            Status::TransactionDoesNotExist => "RS_ERROR_TRANSACTION_DOES_NOT_EXIST",
            Status::TransactionRolledBack => "RS_ERROR_TRANSACTION_ROLLED_BACK",
        }
    }

    /// Whether the answer carries `user`, `currency` and `balance` (1.6).
    pub fn carries_balance(self) -> bool {
        matches!(self, Status::Ok | Status::NotEnoughMoney)
    }
}

/// The three money endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Bet,
    Win,
    Rollback,
}

/// A recorded refusal of the ledger. `None` on a rollback: a refused rollback (of a
/// paid bet, or of a win) answers `RS_OK` with the balance unchanged, because Caleta
/// retries every rollback until a final status and never rolls back wins (1.10).
pub fn of_reason(call: Call, reason: Reason) -> Option<Status> {
    if call == Call::Rollback {
        return None;
    }
    Some(match reason {
        Reason::InsufficientFunds => Status::NotEnoughMoney,
        Reason::PlayerBlocked => Status::UserDisabled,
        Reason::SessionExpired => Status::TokenExpired,
        Reason::CurrencyMismatch => Status::WrongCurrency,
        Reason::TransactionRolledBack | Reason::BetRolledBack => Status::TransactionRolledBack,
        // Hub88 reserves RS_ERROR_UNKNOWN for errors without a specific status.
        Reason::RoundClosed
        | Reason::BalanceLimitExceeded
        | Reason::InsufficientCash
        | Reason::BetAlreadySettled
        | Reason::RollbackNotAllowed => Status::Unknown,
    })
}

/// An error of the ledger (nothing recorded).
pub fn of_code(code: ErrorCode) -> Status {
    match code {
        ErrorCode::IdempotencyConflict => Status::DuplicateTransaction,
        ErrorCode::SessionInvalid | ErrorCode::PlayerNotFound => Status::InvalidToken,
        ErrorCode::BetNotFound | ErrorCode::TransactionNotFound => Status::TransactionDoesNotExist,
        ErrorCode::CurrencyMismatch => Status::WrongCurrency,
        ErrorCode::InvalidRequest => Status::WrongTypes,
        _ => Status::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_name_and_rollbacks_are_never_refused() {
        let names: std::collections::HashSet<_> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), Status::ALL.len());
        for reason in Reason::ALL {
            assert_eq!(of_reason(Call::Rollback, *reason), None);
            assert_ne!(of_reason(Call::Bet, *reason), Some(Status::Ok));
        }
        assert_eq!(of_code(ErrorCode::RetryLater), Status::Unknown);
        assert_eq!(of_code(ErrorCode::OutcomeUnknown), Status::Unknown);
    }
}
