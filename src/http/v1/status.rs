//! The v1 status table: the HTTP status each contract code answers with.

use axum::http::StatusCode;

use crate::domain::ErrorCode;

pub fn of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthorized | ErrorCode::SessionInvalid => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::PlayerNotFound
        | ErrorCode::TransactionNotFound
        | ErrorCode::RoundNotFound
        | ErrorCode::BetNotFound
        | ErrorCode::SessionNotFound
        | ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::IdempotencyConflict | ErrorCode::PlayerExists => StatusCode::CONFLICT,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::InsufficientFunds
        | ErrorCode::PlayerBlocked
        | ErrorCode::CurrencyMismatch
        | ErrorCode::SessionExpired
        | ErrorCode::RoundClosed
        | ErrorCode::TransactionRolledBack
        | ErrorCode::BetAlreadySettled
        | ErrorCode::RollbackNotAllowed
        | ErrorCode::BalanceLimitExceeded => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RetryLater | ErrorCode::OutcomeUnknown => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_and_only_refusals_are_422() {
        for code in ErrorCode::ALL {
            assert_eq!(
                of(*code) == StatusCode::UNPROCESSABLE_ENTITY,
                code.is_refusal(),
                "{code:?}"
            );
        }
    }
}
