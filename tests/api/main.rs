//! Integration tests against a real PostgreSQL: `scripts/test.sh` starts a throw-away
//! cluster and exports WALLET_TEST_DATABASE_URL; every test gets a database of its own.

mod amounts;
mod archive;
mod audit;
mod auth;
mod cash;
mod concurrency;
mod evolution;
mod exact_money;
mod faults;
mod helpers;
mod hub88;
mod ledger_rules;
mod legacy_records;
mod limits;
mod loadgen;
mod model;
mod observability;
mod op_support;
mod openapi;
mod partitions;
mod players;
mod pool;
mod provider;
mod reconciliation;
mod replica_faults;
mod replicas;
mod sessions;
mod smoke;
