//! The money calls, each read → lock → decide → write: the context by shared keys, the
//! player's row in a commit group, the pure rule of [`super::rules`], then the write.

pub mod bet;
pub mod cash;
pub mod rollback;
pub mod win;
