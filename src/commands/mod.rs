//! The command-line interface: one subcommand per job of the `wallet` binary.

pub mod archive;
mod check;
mod healthcheck;
pub mod loadgen;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;

pub use healthcheck::HealthcheckArgs;
pub use serve::Application;

/// Environment read by every subcommand that loads the configuration.
const CONFIG_ENV_HELP: &str = "\
Configuration, read at start by every subcommand (but `healthcheck --url`); later
layers win:
  1. built-in defaults (config/default.toml, compiled in)
  2. the file named by --config / WALLET_CONFIG
  3. the environment file WALLET_ENV_FILE (default: .env in the working directory, if
     present), loaded into the environment
  4. environment variables WALLET__<SECTION>__<KEY>, e.g.
     WALLET__DATABASE__URL=postgres://wallet:secret@db:5432/wallet
     WALLET__ENV=production   WALLET__LOG__FORMAT=json   WALLET__SERVER__LISTEN=0.0.0.0:8080
  RUST_LOG (e.g. info,wallet=debug) overrides log.filter.
The README lists every key.";

#[derive(Debug, Parser)]
#[command(
    name = "wallet",
    version,
    about = "Casino wallet transaction server",
    long_about = "Casino wallet transaction server: exactly-once bets, wins and rollbacks for \
        game providers, player and cash management for operators, on PostgreSQL.",
    after_help = CONFIG_ENV_HELP
)]
pub struct Cli {
    /// Config file layered over the built-in defaults.
    #[arg(long, global = true, env = "WALLET_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies migrations first unless database.migrate_on_start is false).
    #[command(
        long_about = "Run the HTTP server: provider API (/v1/wallet/*), operator API (/v1/*), \
            /health/live, /health/ready, /metrics, /openapi.json and /docs, on server.listen. \
            Applies pending migrations first unless database.migrate_on_start is false. \
            SIGTERM or SIGINT stops accepting connections and drains in-flight requests for \
            up to server.shutdown_grace_ms.",
        after_help = CONFIG_ENV_HELP
    )]
    Serve,
    /// Apply pending database migrations and exit.
    #[command(
        long_about = "Apply the migrations embedded in the binary to database.url and exit. \
            Safe to run repeatedly and concurrently with a running server.",
        after_help = CONFIG_ENV_HELP
    )]
    Migrate,
    /// Compare the database's settings with the enterprise profile and print monitoring figures.
    #[command(
        long_about = "Connect to database.url, print every setting of the enterprise profile \
            (config/postgresql.conf) with its expected and actual value, then the monitoring \
            figures: connections in use as a share of max_connections, shared-buffer hit ratio, \
            WAL bytes written, autovacuum runs per table, lock waits. Exit status 1 when a \
            setting differs.",
        after_help = CONFIG_ENV_HELP
    )]
    CheckDb,
    /// Prove every balance equals the sum of its ledger entries and every money rule holds.
    #[command(
        long_about = "In one snapshot of database.url: every balance (player, category) \
            must equal the sum of its ledger entries, and the ledger must keep the seven money \
            rules (a bet reversed at most once, never after it was paid, no win of a reversed \
            bet, no bet after its round closed, splits that add up, each player's balance \
            chain unbroken, each ledger row the one its call's idempotency record names). \
            Prints the offending rows and exits 1 when there are any. \
            Read-only.",
        after_help = CONFIG_ENV_HELP
    )]
    CheckLedger,
    /// Move whole months of the ledger into checksummed CSV files and drop them.
    #[command(
        long_about = "Archive every month of the ledger before --before (YYYY-MM, UTC; at \
            most last month), oldest first, each in one transaction: check that the month \
            continues every player's carried balance and sequence, copy its rows to \
            <dir>/<partition>.csv with a SHA-256, verify the file against what was read back \
            and against a second copy, keep a receipt of every call (resends still replay), \
            each player's carried balance and the tombstones, then detach and drop the \
            month's partition. Safe to run while the service runs; a failure changes nothing.",
        after_help = CONFIG_ENV_HELP
    )]
    Archive(archive::ArchiveArgs),
    /// Drive a running wallet as a signed game provider and report throughput, latency,
    /// correlation and a money check (non-zero exit when the money check fails).
    Loadgen(Box<loadgen::LoadgenArgs>),
    /// GET /health/live of a running wallet; exit 0 when it answers 200 (for HEALTHCHECK).
    #[command(
        long_about = "GET the liveness endpoint (or readiness with --ready) of a running \
            wallet and exit 0 on a 2xx answer, 1 otherwise. Without --url the address comes \
            from server.listen (0.0.0.0 is checked as 127.0.0.1), so it reads the same \
            configuration as `serve`. Meant for container health checks: the image has no curl.",
        after_help = CONFIG_ENV_HELP
    )]
    Healthcheck(HealthcheckArgs),
}

/// Runs the parsed command on an async runtime of `server.worker_threads` threads; the
/// process exit code follows the result.
pub fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    if let Command::Healthcheck(args) = &cli.command {
        if args.url.is_some() {
            let args = args.clone();
            return Ok(runtime(0)?.block_on(healthcheck::healthcheck(args, None)));
        }
    }
    let settings = Settings::load(cli.config.as_deref())?;
    runtime(settings.server.worker_threads)?.block_on(run_with(cli.command, settings))
}

/// A multi-threaded runtime of `worker_threads` threads (0: tokio's default, one per
/// CPU the process may use).
fn runtime(worker_threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if worker_threads > 0 {
        builder.worker_threads(worker_threads);
    }
    Ok(builder.enable_all().build()?)
}

async fn run_with(command: Command, settings: Settings) -> anyhow::Result<std::process::ExitCode> {
    crate::telemetry::init_logs(&settings);
    match command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Migrate => {
            crate::db::migrate(&settings.database.url).await?;
            println!("migrations applied");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::CheckDb => check::check_db(&settings).await,
        Command::CheckLedger => check::check_ledger(&settings).await,
        Command::Archive(args) => archive::main(args, &settings).await,
        Command::Loadgen(args) => loadgen::main(*args).await,
        Command::Healthcheck(args) => Ok(healthcheck::healthcheck(args, Some(&settings)).await),
    }
}
