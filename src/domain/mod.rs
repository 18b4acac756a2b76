//! Pure types and rules of the wallet: money, currencies, ids, kinds and statuses,
//! categories, stake and win allocation, error codes. No I/O, no JSON, no HTTP here.
// Money code: every sum and difference is checked or saturating (casts are denied for
// the whole crate in Cargo.toml's [lints]).
#![deny(clippy::arithmetic_side_effects)]

pub mod category;
pub mod error;
pub mod ids;
pub mod kinds;
pub mod money;
pub mod outcome;
pub mod records;
pub mod refusal;

pub use category::{Balances, Categories, Split};
pub use error::ErrorCode;
pub use ids::{ExternalTxId, GameId, PlayerId, ProviderId, RoundId, TxKey};
pub use kinds::{Direction, PlayerStatus, RoundStatus, TransactionKind, WinKind};
pub use money::{Amount, Currencies, Currency, DecimalAmount};
pub use outcome::{Outcome, Receipt, Refusal};
pub use records::{Entry, Player, Round, Session};
pub use refusal::Reason;
