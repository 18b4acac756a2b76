//! Validated identifiers. Every id that reaches the ledger went through one of these
//! constructors, so the ledger and the database never see an empty id, an overlong one
//! or one with control characters (a NUL byte would be a database error).

use std::fmt;

/// Longest id (player, transaction, round, game, provider) the wallet accepts, in bytes.
pub const ID_LEN_MAX: usize = 128;

/// Why a text is not an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ids must be 1 to {ID_LEN_MAX} bytes of printable characters")]
pub struct InvalidId;

/// Whether `value` is a well-formed id: non-empty, at most [`ID_LEN_MAX`] bytes, no
/// control characters.
pub fn is_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= ID_LEN_MAX && !value.chars().any(char::is_control)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `value` and wraps it.
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                if is_id(&value) {
                    Ok(Self(value))
                } else {
                    Err(InvalidId)
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A player, as the operator created them.
    PlayerId
);
id_type!(
    /// A game provider, as configured; operator calls use [`ProviderId::operator`].
    ProviderId
);
id_type!(
    /// The caller's id of one money movement (a provider's or an operator's).
    ExternalTxId
);
id_type!(
    /// A provider's round id; a round is `(provider, round_id, player)`.
    RoundId
);
id_type!(
    /// A provider's game id.
    GameId
);

/// The key space of operator-issued transaction ids; configured provider ids cannot
/// contain `@`, so it never meets a provider's.
pub const OPERATOR_NAMESPACE: &str = "@operator";

impl ProviderId {
    /// The namespace of operator deposits and withdrawals.
    pub fn operator() -> Self {
        Self(OPERATOR_NAMESPACE.to_owned())
    }

    pub fn is_operator(&self) -> bool {
        self.0 == OPERATOR_NAMESPACE
    }
}

/// What identifies one money movement forever: `(provider, transaction_id)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TxKey {
    pub provider: ProviderId,
    pub transaction: ExternalTxId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_printable_and_bounded() {
        let longest = "x".repeat(ID_LEN_MAX);
        let table: [(&str, bool); 8] = [
            ("", false),
            ("a", true),
            (&longest, true),
            ("p-1 ü", true),
            ("a\0b", false),
            ("a\nb", false),
            ("\u{7f}", false),
            ("\u{9f}", false),
        ];
        for (value, ok) in table {
            assert_eq!(PlayerId::parse(value).is_ok(), ok, "{value:?}");
        }
        assert!(PlayerId::parse("x".repeat(ID_LEN_MAX + 1)).is_err());
    }

    #[test]
    fn the_operator_namespace_is_no_provider_id_a_config_can_hold() {
        assert!(ProviderId::operator().is_operator());
        assert!(!ProviderId::parse("demo").unwrap().is_operator());
    }
}
