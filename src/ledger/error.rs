//! The ledger's error: a contract error code with its message (a call refused before
//! anything was recorded), or a database failure that the retry loop or the caller
//! classifies. Business refusals are not errors: they are outcomes
//! ([`crate::domain::Outcome::Refused`]), recorded and replayed like successes.

use crate::db::DbError;
use crate::domain::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Refused before anything was recorded: bad input, unknown things, conflicts.
    #[error("{code:?}: {message}")]
    Refused { code: ErrorCode, message: String },
    /// A database failure. Retryable ones are retried by the ledger first; what
    /// surfaces is classified by [`LedgerError::code`].
    #[error(transparent)]
    Db(#[from] DbError),
    /// The call's commit was in doubt and the ledger could not learn its outcome
    /// within its bounds: the call may have applied.
    #[error("the outcome of the commit is unknown: {0}")]
    OutcomeUnknown(DbError),
    /// Too many money calls in flight in this process: nothing was recorded.
    #[error("too many money calls in flight")]
    Overloaded,
    /// A broken invariant or an operational fault (a player's currency that left the
    /// configuration, a task that panicked); the text is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

impl LedgerError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        LedgerError::Refused {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// The contract code this error answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            LedgerError::Refused { code, .. } => *code,
            LedgerError::Db(e) if e.is_in_doubt() => ErrorCode::OutcomeUnknown,
            LedgerError::Db(e) if e.is_retryable() || e.is_unavailable() => ErrorCode::RetryLater,
            LedgerError::Db(_) | LedgerError::Internal(_) => ErrorCode::Internal,
            LedgerError::OutcomeUnknown(_) => ErrorCode::OutcomeUnknown,
            LedgerError::Overloaded => ErrorCode::RetryLater,
        }
    }

    /// The message a client may read: the refusal's own text, or a fixed text per
    /// code that never carries internal detail.
    pub fn public_message(&self) -> &str {
        match self {
            LedgerError::Refused { message, .. } => message,
            _ => match self.code() {
                ErrorCode::RetryLater => "the wallet is busy or its database is unavailable; nothing was recorded, retry with the same transaction_id",
                ErrorCode::OutcomeUnknown => "the database was lost while this call committed and its outcome could not be learned; it may have applied: resend the same call to learn its outcome",
                _ => "internal error",
            },
        }
    }
}
