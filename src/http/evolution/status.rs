//! The Evolution status table (`../protocols.md` 2.8): what each ledger outcome answers
//! on each call. Every answer is HTTP 200 with one of these in `status`.

use crate::domain::{ErrorCode, Reason};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    TemporaryError,
    InvalidTokenId,
    InvalidSid,
    AccountLocked,
    FinalErrorActionFailed,
    InsufficientFunds,
    BetDoesNotExist,
    BetAlreadySettled,
    BetAlreadyExist,
    InvalidParameter,
    UnknownError,
}

impl Status {
    pub const ALL: &'static [Status] = &[
        Status::Ok,
        Status::TemporaryError,
        Status::InvalidTokenId,
        Status::InvalidSid,
        Status::AccountLocked,
        Status::FinalErrorActionFailed,
        Status::InsufficientFunds,
        Status::BetDoesNotExist,
        Status::BetAlreadySettled,
        Status::BetAlreadyExist,
        Status::InvalidParameter,
        Status::UnknownError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::TemporaryError => "TEMPORARY_ERROR",
            Status::InvalidTokenId => "INVALID_TOKEN_ID",
            Status::InvalidSid => "INVALID_SID",
            Status::AccountLocked => "ACCOUNT_LOCKED",
            Status::FinalErrorActionFailed => "FINAL_ERROR_ACTION_FAILED",
            Status::InsufficientFunds => "INSUFFICIENT_FUNDS",
            Status::BetDoesNotExist => "BET_DOES_NOT_EXIST",
            Status::BetAlreadySettled => "BET_ALREADY_SETTLED",
            Status::BetAlreadyExist => "BET_ALREADY_EXIST",
            Status::InvalidParameter => "INVALID_PARAMETER",
            Status::UnknownError => "UNKNOWN_ERROR",
        }
    }
}

/// The four money calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Debit,
    Credit,
    Cancel,
    Promo,
}

/// A success, first time or replayed; `tombstone` when a cancel found no debit.
pub fn of_success(call: Call, replayed: bool, tombstone: bool) -> Status {
    match (call, replayed) {
        (Call::Cancel, _) if tombstone => Status::BetDoesNotExist,
        (_, false) => Status::Ok,
        (Call::Debit, true) => Status::BetAlreadyExist,
        (_, true) => Status::BetAlreadySettled,
    }
}

/// A recorded refusal of the ledger on `call` (the same status when replayed).
pub fn of_reason(call: Call, reason: Reason) -> Status {
    match reason {
        Reason::InsufficientFunds => Status::InsufficientFunds,
        Reason::PlayerBlocked => Status::AccountLocked,
        Reason::SessionExpired => Status::InvalidSid,
        // A credit of a refId whose debit was cancelled (P 8.24).
        Reason::TransactionRolledBack if call == Call::Credit => Status::BetAlreadySettled,
        // A debit whose refId a cancel came before (P 8.33).
        Reason::TransactionRolledBack => Status::FinalErrorActionFailed,
        // A credit after the cancel, a cancel after the credit (P 8.22, 8.24).
        Reason::BetRolledBack | Reason::BetAlreadySettled => Status::BetAlreadySettled,
        Reason::CurrencyMismatch => Status::InvalidParameter,
        Reason::RoundClosed
        | Reason::BalanceLimitExceeded
        | Reason::InsufficientCash
        | Reason::RollbackNotAllowed => Status::UnknownError,
    }
}

/// An error of the ledger (nothing recorded).
pub fn of_code(call: Call, code: ErrorCode) -> Status {
    match code {
        // Same refId, other content: a debit must not look taken; a settlement is.
        ErrorCode::IdempotencyConflict if call == Call::Debit => Status::InvalidParameter,
        ErrorCode::IdempotencyConflict => Status::BetAlreadySettled,
        ErrorCode::SessionInvalid | ErrorCode::SessionExpired => Status::InvalidSid,
        ErrorCode::BetNotFound | ErrorCode::TransactionNotFound => Status::BetDoesNotExist,
        ErrorCode::PlayerNotFound | ErrorCode::InvalidRequest | ErrorCode::CurrencyMismatch => {
            Status::InvalidParameter
        }
        // 503 (also a commit in doubt: the retry learns its outcome) and 429.
        ErrorCode::RetryLater | ErrorCode::RateLimited | ErrorCode::OutcomeUnknown => {
            Status::TemporaryError
        }
        _ => Status::UnknownError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_answer_the_specific_codes() {
        assert_eq!(
            of_success(Call::Debit, true, false),
            Status::BetAlreadyExist
        );
        assert_eq!(
            of_success(Call::Credit, true, false),
            Status::BetAlreadySettled
        );
        assert_eq!(
            of_success(Call::Cancel, false, true),
            Status::BetDoesNotExist
        );
        assert_eq!(
            of_success(Call::Cancel, true, true),
            Status::BetDoesNotExist
        );
        assert_eq!(
            of_code(Call::Debit, ErrorCode::IdempotencyConflict),
            Status::InvalidParameter
        );
        assert_eq!(
            of_code(Call::Promo, ErrorCode::IdempotencyConflict),
            Status::BetAlreadySettled
        );
        assert_eq!(
            of_code(Call::Credit, ErrorCode::OutcomeUnknown),
            Status::TemporaryError
        );
        assert_eq!(
            of_code(Call::Credit, ErrorCode::Internal),
            Status::UnknownError
        );
    }

    #[test]
    fn a_rolled_back_transaction_answers_by_call() {
        assert_eq!(
            of_reason(Call::Debit, Reason::TransactionRolledBack),
            Status::FinalErrorActionFailed
        );
        assert_eq!(
            of_reason(Call::Credit, Reason::TransactionRolledBack),
            Status::BetAlreadySettled
        );
        assert_eq!(
            of_reason(Call::Credit, Reason::BetRolledBack),
            Status::BetAlreadySettled
        );
    }
}
