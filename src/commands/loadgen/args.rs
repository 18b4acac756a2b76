//! Command-line options of `wallet loadgen`.

use std::time::Duration;

use clap::Parser;

use super::wire::Protocol;

/// Options of the provider simulator. Also the library entry point's input: tests build it
/// with `LoadgenArgs::parse_from(["loadgen", "--url", ...])`.
#[derive(Debug, Clone, Parser)]
#[command(name = "loadgen")]
pub struct LoadgenArgs {
    /// Base URL of the running wallet.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Run for this many seconds (default when neither --duration nor --operations is
    /// given: players × rounds-per-player rounds).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Stop starting rounds once this many money calls were sent.
    #[arg(long)]
    pub operations: Option<u64>,
    /// Rounds in flight at once (sustained mode). Burst mode uses --burst instead.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Players created and funded for the run.
    #[arg(long, default_value_t = 100)]
    pub players: usize,
    /// Rounds per player when no --duration or --operations bounds the run.
    #[arg(long, default_value_t = 10)]
    pub rounds_per_player: u64,
    /// Share of money calls sent twice at once (idempotent resends).
    #[arg(long, default_value_t = 0.05)]
    pub duplicate_share: f64,
    /// Share of rounds whose win is sent before its bet completes.
    #[arg(long, default_value_t = 0.05)]
    pub win_before_bet_share: f64,
    /// Share of rounds settled by a rollback of the bet instead of a win.
    #[arg(long, default_value_t = 0.05)]
    pub rollback_share: f64,
    /// Burst mode: waves of N rounds started at the same instant (N defaults to 100).
    #[arg(long, num_args = 0..=1, default_missing_value = "100")]
    pub burst: Option<usize>,
    /// Hot-player mode: all traffic on K players (overrides --players).
    #[arg(long)]
    pub hot_players: Option<usize>,
    /// Seed of the random choices (amounts, shares, players).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print a machine-readable JSON report instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Operator bearer token used to create, fund and read back players.
    #[arg(long, default_value = "demo-operator-token")]
    pub operator_token: String,
    /// The API the simulated provider speaks: the wallet's own signed v1 API, or the
    /// Hub88 or Evolution One Wallet adapter. The rounds, loads and money check are the
    /// same for all three.
    #[arg(long, value_enum, default_value_t = Protocol::V1)]
    pub protocol: Protocol,
    /// The provider's id [default: the development configuration's provider of the
    /// protocol: demo, hub88-demo, evolution-demo].
    #[arg(long)]
    pub provider_id: Option<String>,
    /// v1: the provider's HMAC secret.
    #[arg(long, default_value = "demo-secret")]
    pub provider_secret: String,
    /// Hub88: the provider's RSA private key (PEM) that signs every request body.
    #[arg(
        long,
        default_value = "tests/api/protocol-keys/hub88-demo-provider-private.pem"
    )]
    pub hub88_key: String,
    /// Evolution: the `authToken` sent as query parameter.
    #[arg(long, default_value = "evolution-demo-token")]
    pub evolution_token: String,
    /// Currency of the simulated players (2 decimals assumed).
    #[arg(long, default_value = "EUR")]
    pub currency: String,
    /// When given, run the ledger reconciliation query on this database at the end.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Attempts per call (the same body each time) while it gets no answer or a 5xx,
    /// backing off from 10 ms to 320 ms: the default rides out a replica's restart.
    #[arg(long, default_value_t = 12)]
    pub client_tries: u32,
    /// Send ascending transaction and round ids (`<run>-b1`, `<run>-b2`, ...) instead of
    /// ids that start with a hash, as UUID-issuing providers do. Ascending ids put every
    /// new key on the last page of each index, where SERIALIZABLE's page-level predicate
    /// locks make concurrent calls of different players conflict.
    #[arg(long)]
    pub sequential_ids: bool,
    /// Hide the progress bar even on a terminal.
    #[arg(long)]
    pub quiet: bool,
}

impl LoadgenArgs {
    pub fn provider(&self) -> &str {
        self.provider_id
            .as_deref()
            .unwrap_or(self.protocol.default_provider())
    }

    pub fn duration_limit(&self) -> Option<Duration> {
        self.duration.map(Duration::from_secs_f64)
    }

    /// Players that receive traffic.
    pub fn player_count(&self) -> usize {
        self.hot_players.unwrap_or(self.players).max(1)
    }

    /// Rounds to play when neither a duration nor an operation count bounds the run.
    pub fn round_limit(&self) -> Option<u64> {
        if self.duration.is_some() || self.operations.is_some() {
            None
        } else {
            Some(self.player_count() as u64 * self.rounds_per_player.max(1))
        }
    }
}
