//! The contract's machine-readable error codes and the HTTP status each one carries.

use serde_json::{json, Map, Value};

/// Every error code of the API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidRequest,
    Unauthorized,
    SessionInvalid,
    Forbidden,
    PlayerNotFound,
    TransactionNotFound,
    RoundNotFound,
    BetNotFound,
    SessionNotFound,
    IdempotencyConflict,
    PlayerExists,
    PayloadTooLarge,
    InsufficientFunds,
    PlayerBlocked,
    CurrencyMismatch,
    SessionExpired,
    RoundClosed,
    TransactionRolledBack,
    BetAlreadySettled,
    RollbackNotAllowed,
    RateLimited,
    RetryLater,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 23] = [
        Self::InvalidRequest,
        Self::Unauthorized,
        Self::SessionInvalid,
        Self::Forbidden,
        Self::PlayerNotFound,
        Self::TransactionNotFound,
        Self::RoundNotFound,
        Self::BetNotFound,
        Self::SessionNotFound,
        Self::IdempotencyConflict,
        Self::PlayerExists,
        Self::PayloadTooLarge,
        Self::InsufficientFunds,
        Self::PlayerBlocked,
        Self::CurrencyMismatch,
        Self::SessionExpired,
        Self::RoundClosed,
        Self::TransactionRolledBack,
        Self::BetAlreadySettled,
        Self::RollbackNotAllowed,
        Self::RateLimited,
        Self::RetryLater,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Unauthorized => "unauthorized",
            Self::SessionInvalid => "session_invalid",
            Self::Forbidden => "forbidden",
            Self::PlayerNotFound => "player_not_found",
            Self::TransactionNotFound => "transaction_not_found",
            Self::RoundNotFound => "round_not_found",
            Self::BetNotFound => "bet_not_found",
            Self::SessionNotFound => "session_not_found",
            Self::IdempotencyConflict => "idempotency_conflict",
            Self::PlayerExists => "player_exists",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InsufficientFunds => "insufficient_funds",
            Self::PlayerBlocked => "player_blocked",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::SessionExpired => "session_expired",
            Self::RoundClosed => "round_closed",
            Self::TransactionRolledBack => "transaction_rolled_back",
            Self::BetAlreadySettled => "bet_already_settled",
            Self::RollbackNotAllowed => "rollback_not_allowed",
            Self::RateLimited => "rate_limited",
            Self::RetryLater => "retry_later",
            Self::Internal => "internal_error",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Unauthorized | Self::SessionInvalid => 401,
            Self::Forbidden => 403,
            Self::PlayerNotFound
            | Self::TransactionNotFound
            | Self::RoundNotFound
            | Self::BetNotFound
            | Self::SessionNotFound => 404,
            Self::IdempotencyConflict | Self::PlayerExists => 409,
            Self::PayloadTooLarge => 413,
            Self::InsufficientFunds
            | Self::PlayerBlocked
            | Self::CurrencyMismatch
            | Self::SessionExpired
            | Self::RoundClosed
            | Self::TransactionRolledBack
            | Self::BetAlreadySettled
            | Self::RollbackNotAllowed => 422,
            Self::RateLimited => 429,
            Self::RetryLater => 503,
            Self::Internal => 500,
        }
    }

    /// Business rejections are recorded for idempotent replay; nothing else is.
    pub fn is_recorded(self) -> bool {
        self.status() == 422
    }
}

/// The contract's error body: `{"error": {"code", "message", ...extra}}`.
pub fn error_body(code: ErrorCode, message: &str, extra: Option<Map<String, Value>>) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), json!(code.as_str()));
    error.insert("message".into(), json!(message));
    if let Some(extra) = extra {
        error.extend(extra);
    }
    json!({ "error": error })
}
