//! The contract's machine-readable error codes. How each one travels on a wire (HTTP
//! status, a protocol's own status string) is the business of that protocol's folder
//! under `http/`.

macro_rules! codes {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// Every error code of the API contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant),+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text),+
                }
            }
        }
    };
}

codes! {
    InvalidRequest => "invalid_request",
    Unauthorized => "unauthorized",
    SessionInvalid => "session_invalid",
    Forbidden => "forbidden",
    PlayerNotFound => "player_not_found",
    TransactionNotFound => "transaction_not_found",
    RoundNotFound => "round_not_found",
    BetNotFound => "bet_not_found",
    SessionNotFound => "session_not_found",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    IdempotencyConflict => "idempotency_conflict",
    PlayerExists => "player_exists",
    PayloadTooLarge => "payload_too_large",
    InsufficientFunds => "insufficient_funds",
    PlayerBlocked => "player_blocked",
    CurrencyMismatch => "currency_mismatch",
    SessionExpired => "session_expired",
    RoundClosed => "round_closed",
    TransactionRolledBack => "transaction_rolled_back",
    BetAlreadySettled => "bet_already_settled",
    RollbackNotAllowed => "rollback_not_allowed",
    BalanceLimitExceeded => "balance_limit_exceeded",
    RateLimited => "rate_limited",
    RetryLater => "retry_later",
    OutcomeUnknown => "outcome_unknown",
    Internal => "internal_error",
}

impl ErrorCode {
    /// Business refusals: recorded for idempotent replay, like successes. Nothing else
    /// is recorded (a `bet_not_found` win may be resent once its bet exists).
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            ErrorCode::InsufficientFunds
                | ErrorCode::PlayerBlocked
                | ErrorCode::CurrencyMismatch
                | ErrorCode::SessionExpired
                | ErrorCode::RoundClosed
                | ErrorCode::TransactionRolledBack
                | ErrorCode::BetAlreadySettled
                | ErrorCode::RollbackNotAllowed
                | ErrorCode::BalanceLimitExceeded
        )
    }

    /// The code written as `text`, if any.
    pub fn parse(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}
