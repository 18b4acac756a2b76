//! Pure types and rules of the wallet: money, currencies, categories, stake and win
//! allocation, error codes. No I/O here.

pub mod category;
pub mod error;
pub mod money;

pub use category::{Balances, Categories, Split};
pub use error::ErrorCode;
pub use money::{Amount, AmountInput, Currencies, Currency};
