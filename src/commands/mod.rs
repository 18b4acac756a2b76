//! The command-line interface: one subcommand per job of the `wallet` binary.

mod check;
pub mod loadgen;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;

pub use serve::Application;

#[derive(Debug, Parser)]
#[command(name = "wallet", version, about = "Casino wallet transaction server")]
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
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Compare the database's settings with the enterprise profile and print monitoring figures.
    CheckDb,
    /// Prove every balance equals the sum of its ledger entries; list the offending rows.
    CheckLedger,
    /// Drive a running wallet as a signed game provider and report throughput, latency,
    /// correlation and a money check (non-zero exit when the money check fails).
    Loadgen(Box<loadgen::LoadgenArgs>),
}

/// Runs the parsed command; the process exit code follows the result.
pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init_logs(&settings);
    match cli.command {
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
        Command::Loadgen(args) => loadgen::main(*args).await,
    }
}
