//! The only place with SQL: pool construction, migrations, and one module per table
//! family. Functions take a client and leave transaction boundaries to the caller.

pub mod archive;
pub mod health;
pub mod idempotency;
pub mod ledger;
pub mod movement;
pub mod partitions;
pub mod players;
pub mod rounds;
pub mod sessions;

use std::time::{Duration, Instant};

use deadpool_postgres::{
    HookError, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use crate::config::DatabaseSettings;

pub use deadpool_postgres::Client;

/// The statements of a commit group's SERIALIZABLE transaction that read rows (the row
/// locks, the balance and sequence updates). Each must read only the rows of the
/// group's own players whatever plan statistics lead the planner to: a scan over other
/// players' rows makes every concurrent movement of those players a conflict. The
/// suite checks their plans on a database with statistics.
pub const SERIALIZABLE_READS: &[&str] = &[players::LOCK, players::BALANCES, movement::WRITE];

/// A row version's place in its table (PostgreSQL's `tid`, the `ctid` column): block
/// number and line pointer, sent and read in the binary form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tid {
    pub block: u32,
    pub offset: u16,
}

impl tokio_postgres::types::ToSql for Tid {
    fn to_sql(
        &self,
        _: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.block.to_be_bytes());
        out.extend_from_slice(&self.offset.to_be_bytes());
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        *ty == tokio_postgres::types::Type::TID
    }

    tokio_postgres::types::to_sql_checked!();
}

impl<'a> tokio_postgres::types::FromSql<'a> for Tid {
    fn from_sql(
        _: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Tid, Box<dyn std::error::Error + Sync + Send>> {
        let (block, offset): ([u8; 4], [u8; 2]) = match raw {
            [a, b, c, d, e, f] => ([*a, *b, *c, *d], [*e, *f]),
            _ => return Err(format!("a tid is 6 bytes, not {}", raw.len()).into()),
        };
        Ok(Tid {
            block: u32::from_be_bytes(block),
            offset: u16::from_be_bytes(offset),
        })
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        *ty == tokio_postgres::types::Type::TID
    }
}

/// Embedded migrations from `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why a database call failed, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database: {0}")]
    Pg(#[from] tokio_postgres::Error),
    /// The transaction of the commit group this call was part of failed, perhaps
    /// because of another member's write; `members` calls shared it. `in_doubt`: the
    /// failure came while the write and COMMIT were on the wire without an answer from
    /// the server (a lost connection), so the group may have committed.
    #[error("commit group of {members}: {cause}")]
    Group {
        cause: std::sync::Arc<DbError>,
        members: usize,
        in_doubt: bool,
    },
    /// The call's commit group ended without an answer for it (shutdown, or a member
    /// that did not decide in time). `in_doubt`: it ended after the call handed over
    /// its write, so whether it committed is unknown to this call.
    #[error("commit group: {why}")]
    Lost { why: &'static str, in_doubt: bool },
    /// The player's ledger moved between the call's reads and its lock (another
    /// process, or a writer outside the player's turn, committed a call of the player):
    /// what the call read is stale, and it is read again under the player's lock.
    #[error("the player's ledger moved since this call read it")]
    Stale,
    /// A stored value the service cannot read back (a broken invariant of the data).
    #[error("stored data: {0}")]
    Data(String),
}

/// Reads a stored value through a checked constructor; a failure is [`DbError::Data`].
pub(crate) fn stored<T, E>(what: &str, value: Result<T, E>) -> Result<T, DbError> {
    value.map_err(|_| DbError::Data(format!("a stored {what} is not valid")))
}

impl DbError {
    /// SERIALIZABLE conflicts, deadlocks and lock waits past `lock_timeout`: the whole
    /// transaction may be run again.
    pub fn is_retryable(&self) -> bool {
        matches!(self.sqlstate(), Some(s) if *s == SqlState::T_R_SERIALIZATION_FAILURE
            || *s == SqlState::T_R_DEADLOCK_DETECTED
            || *s == SqlState::LOCK_NOT_AVAILABLE)
    }

    /// See [`DbError::Stale`].
    pub fn is_stale(&self) -> bool {
        matches!(self.root(), DbError::Stale)
    }

    /// A unique key already taken by a transaction that committed meanwhile.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self.sqlstate(), Some(s) if *s == SqlState::UNIQUE_VIOLATION)
    }

    pub fn sqlstate(&self) -> Option<&SqlState> {
        match self.root() {
            DbError::Pg(e) => e.code(),
            _ => None,
        }
    }

    /// Pool timeouts and lost connections (not in doubt): transient, nothing recorded.
    pub fn is_unavailable(&self) -> bool {
        match self.root() {
            DbError::Pool(_) | DbError::Lost { .. } => true,
            // `root` never is one.
            DbError::Group { .. } | DbError::Data(_) | DbError::Stale => false,
            DbError::Pg(pg) => {
                pg.is_closed()
                    || pg.code().is_none()
                    || pg
                        .code()
                        .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57"))
            }
        }
    }

    /// Why an attempt that failed with this error is tried again: the `reason` label
    /// of `wallet_serialization_retries_total` (in the order the retry loop tests them).
    pub fn retry_reason(&self) -> &'static str {
        match self.sqlstate() {
            Some(s) if *s == SqlState::T_R_SERIALIZATION_FAILURE => "serialization",
            Some(s) if *s == SqlState::T_R_DEADLOCK_DETECTED => "deadlock",
            Some(s) if *s == SqlState::LOCK_NOT_AVAILABLE => "lock_timeout",
            _ if self.is_stale() => "stale",
            _ if self.is_unique_violation() => "unique",
            _ if self.is_in_doubt() => "in_doubt",
            _ if self.is_shared_failure() => "shared",
            _ => "unavailable",
        }
    }

    /// Whether the call's write may have committed although the call saw a failure.
    pub fn is_in_doubt(&self) -> bool {
        matches!(
            self,
            DbError::Group { in_doubt: true, .. } | DbError::Lost { in_doubt: true, .. }
        )
    }

    /// The failure itself, for one shared by a commit group.
    pub fn root(&self) -> &DbError {
        match self {
            DbError::Group { cause, .. } => cause.root(),
            e => e,
        }
    }

    /// A failure of a group of several calls that is not a conflict between groups:
    /// one member's write may have caused it (a key another member also writes, say),
    /// so each member tries again alone.
    /// Failures without a SQLSTATE (pool timeouts, a lost connection) are nobody's
    /// write and are not retried this way.
    pub fn is_shared_failure(&self) -> bool {
        matches!(self, DbError::Group { members, .. } if *members > 1)
            && self.sqlstate().is_some()
            && !self.is_retryable()
    }
}

/// Builds the pool: connections are made lazily, carry the statement timeout, are
/// retired after `connection_uses_max` checkouts, and are closed after sitting idle
/// for `idle_timeout_ms` (by [`close_idle_connections`]).
pub fn build_pool(settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    let mut pg: tokio_postgres::Config = settings.url.parse()?;
    pg.application_name("wallet");
    pg.connect_timeout(Duration::from_millis(settings.connect_timeout_ms));
    // enable_seqscan=off: a sequential scan inside a SERIALIZABLE transaction takes a
    // relation-level SIREAD lock, and on small tables the planner prefers one (e.g. for
    // a player's balance rows): every concurrent money movement of any other player then
    // conflicts with it and aborts. Every query of the service has an index to use.
    // plan_cache_mode=force_generic_plan: every statement of the service is a keyed
    // lookup or write whose best plan does not depend on the values; without it the
    // first executions of each prepared statement on a connection are planned anew.
    // lock_timeout bounds the wait for a player's row lock and for the per-player lock
    // of [`lock_players`]: a holder that hangs (a paused process) costs its waiters a
    // retry, not their deadline.
    pg.options(format!(
        "-c statement_timeout={} -c idle_in_transaction_session_timeout={} \
         -c lock_timeout={} -c enable_seqscan=off -c plan_cache_mode=force_generic_plan",
        settings.statement_timeout_ms, settings.statement_timeout_ms, settings.lock_timeout_ms
    ));
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let uses_max = settings.connection_uses_max;
    let pool = Pool::builder(manager)
        .max_size(settings.pool_max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(settings.acquire_timeout()))
        .create_timeout(Some(Duration::from_millis(settings.connect_timeout_ms)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .pre_recycle(deadpool_postgres::Hook::sync_fn(move |_, m| {
            // recycle_count counts returns to the pool: uses beyond the first.
            if m.recycle_count as u64 + 1 >= uses_max {
                metrics::counter!("wallet_db_connections_retired_total", "reason" => "uses")
                    .increment(1);
                return Err(HookError::message("connection reached its use limit"));
            }
            Ok(())
        }))
        .build()?;
    Ok(pool)
}

/// Closes pooled connections idle for longer than `idle`; run periodically.
pub fn close_idle_connections(pool: &Pool, idle: Duration) {
    let before = pool.status().size;
    pool.retain(|_, metrics| metrics.last_used() < idle);
    let closed = before.saturating_sub(pool.status().size);
    if closed > 0 {
        metrics::counter!("wallet_db_connections_retired_total", "reason" => "idle")
            .increment(closed as u64);
    }
}

/// Takes a connection from the pool, recording how long the wait was.
pub async fn acquire(pool: &Pool) -> Result<Object, DbError> {
    let started = Instant::now();
    let client = pool.get().await;
    metrics::histogram!("wallet_db_acquire_seconds").record(started.elapsed().as_secs_f64());
    Ok(client?)
}

/// Applies pending migrations on a dedicated connection.
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// The key of a player's lock among PostgreSQL's advisory locks: the first eight bytes
/// of a SHA-256 of the id, the same in every process and every version of the service.
/// Two players sharing a key only wait for each other now and then.
pub fn player_lock_key(player_id: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"wallet.player\0")
        .chain_update(player_id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Takes the session-level advisory locks of `keys` on this connection, in the order
/// given (callers sort them, so that two connections never wait for each other in a
/// circle), waiting for each up to `lock_timeout`. Every writer of a player's ledger
/// holds the player's lock from before its transaction begins until after it ends (see
/// `ledger::group`), so that calls of one player from several processes wait for each
/// other here instead of aborting each other. Released by the statement that ends the
/// transaction ([`COMMIT_AND_UNLOCK`], [`abort`]) or by [`unlock_all`].
pub async fn lock_players(client: &Client, keys: &[i64]) -> Result<(), DbError> {
    let stmt = client.prepare_cached(LOCK_PLAYERS).await?;
    client.query_one(&stmt, &[&keys]).await?;
    Ok(())
}

const LOCK_PLAYERS: &str = "SELECT count(pg_advisory_lock(k)) FROM unnest($1::bigint[]) AS k";

/// Ends a transaction and gives back the connection's player locks: one message.
pub const COMMIT_AND_UNLOCK: &str = "COMMIT; SELECT pg_advisory_unlock_all()";

/// Gives back every player lock the connection holds.
pub async fn unlock_all(client: &Client) -> Result<(), DbError> {
    client
        .batch_execute("SELECT pg_advisory_unlock_all()")
        .await?;
    Ok(())
}

/// Prepares `statements` on the connection (or finds them in its cache: then without a
/// round trip). Requests on one connection run in the order they are sent, and a query
/// future sends its request when first polled, unless it still has to prepare its
/// statement: prepared first, statements joined with `try_join!` go out in the order
/// they are listed, in one pipelined round trip. Where that order matters for
/// correctness (a read that must see at least what an earlier one saw), this is called
/// first.
pub async fn prepare(client: &Client, statements: &[&str]) -> Result<(), DbError> {
    futures::future::try_join_all(statements.iter().map(|sql| client.prepare_cached(sql))).await?;
    Ok(())
}

/// Starts the SERIALIZABLE transaction of a commit group and locks its players' rows
/// in it, with their balances, after taking the players' advisory locks of `keys`
/// (sorted; empty when the connection already holds them): one pipelined round trip.
/// The transaction's snapshot is taken by the row lock statement, after every wait.
pub async fn begin_and_lock(
    client: &Client,
    keys: &[i64],
    rows: &[(&str, &players::RowsAt)],
) -> Result<std::collections::HashMap<String, crate::domain::Player>, DbError> {
    prepare(client, &[LOCK_PLAYERS, players::LOCK, players::BALANCES]).await?;
    let advisory = async {
        match keys.is_empty() {
            true => Ok(()),
            false => lock_players(client, keys).await,
        }
    };
    let begin = async {
        client
            .batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await
            .map_err(DbError::from)
    };
    let (_, _, players) = futures::try_join!(advisory, begin, players::lock(client, rows))?;
    Ok(players)
}

/// Ends the open transaction, if any, without committing it, and gives back the
/// connection's player locks.
pub async fn abort(client: &Client) -> Result<(), DbError> {
    client
        .batch_execute("ROLLBACK; SELECT pg_advisory_unlock_all()")
        .await?;
    Ok(())
}

/// A cheap round trip, for readiness checks and the sampled round-trip latency
/// (`wallet_db_round_trip_seconds`: each readiness probe and each metrics scrape).
pub async fn ping(client: &Client) -> Result<(), DbError> {
    let started = Instant::now();
    client.simple_query("SELECT 1").await?;
    metrics::histogram!("wallet_db_round_trip_seconds").record(started.elapsed().as_secs_f64());
    Ok(())
}

/// A one-connection pool with the server's own session defaults, for the command-line
/// tools (the checks must see the server's settings, not the service's overrides),
/// named `application_name` in `pg_stat_activity`.
pub fn single_connection_pool(url: &str, application_name: &str) -> anyhow::Result<Pool> {
    let mut pg: tokio_postgres::Config = url.parse()?;
    pg.application_name(application_name);
    pg.connect_timeout(Duration::from_secs(5));
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .max_size(1)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(5)))
        .build()?)
}
