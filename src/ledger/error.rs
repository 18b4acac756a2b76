//! The ledger's error: a contract error code with its message, or a database failure
//! that the retry loop or the caller classifies.

use serde_json::{Map, Value};

use crate::db::DbError;
use crate::domain::error::error_body;
use crate::domain::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A refusal from the contract's table (or `internal_error`).
    #[error("{code:?}: {message}")]
    Api {
        code: ErrorCode,
        message: String,
        extra: Option<Map<String, Value>>,
    },
    /// A database failure; retryable ones are retried by the ledger before they
    /// surface as `retry_later`.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl LedgerError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        LedgerError::Api {
            code,
            message: message.into(),
            extra: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn with_balance(mut self, balance: Value, currency: &str) -> Self {
        if let LedgerError::Api { extra, .. } = &mut self {
            let map = extra.get_or_insert_with(Map::new);
            map.insert("balance".into(), balance);
            map.insert("currency".into(), Value::String(currency.to_owned()));
        }
        self
    }

    /// The contract code this error answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            LedgerError::Api { code, .. } => *code,
            LedgerError::Db(e) if e.is_retryable() || is_unavailable(e) => ErrorCode::RetryLater,
            LedgerError::Db(_) => ErrorCode::Internal,
        }
    }

    /// The error body of the contract's envelope.
    pub fn body(&self) -> Value {
        match self {
            LedgerError::Api {
                code,
                message,
                extra,
            } => error_body(*code, message, extra.clone()),
            LedgerError::Db(_) => match self.code() {
                ErrorCode::RetryLater => error_body(
                    ErrorCode::RetryLater,
                    "the wallet is busy or its database is unavailable; nothing was recorded, retry with the same transaction_id",
                    None,
                ),
                code => error_body(code, "internal error; nothing was recorded", None),
            },
        }
    }
}

/// Pool timeouts and lost connections: transient, the call may be retried.
fn is_unavailable(e: &DbError) -> bool {
    match e.root() {
        DbError::Pool(_) | DbError::Lost(_) => true,
        // `root` never is one.
        DbError::Group { .. } => false,
        DbError::Pg(pg) => {
            pg.is_closed()
                || pg.code().is_none()
                || pg
                    .code()
                    .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57"))
        }
    }
}
