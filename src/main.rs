//! The `wallet` binary: parse the command line and run the chosen subcommand.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = wallet::commands::Cli::parse();
    match wallet::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
