//! Casino wallet transaction server: exactly-once bets, wins and rollbacks on PostgreSQL.

pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod ledger;
pub mod signing;
pub mod telemetry;
