//! Integration tests against a real PostgreSQL: `scripts/test.sh` starts a throw-away
//! cluster and exports WALLET_TEST_DATABASE_URL; every test gets a database of its own.

mod helpers;
mod smoke;
