//! Tracing subscriber (JSON in production, human-readable in development) and the
//! Prometheus metrics recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::Settings;

/// Installs the log subscriber: `RUST_LOG` when set, else `log.filter`. A second call
/// (tests) is a no-op.
pub fn init_logs(settings: &Settings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.filter));
    // Colours only on a terminal: piped or collected logs stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = if settings.json_logs() {
        builder
            .json()
            .flatten_event(true)
            // Every line carries its request's span: request id, caller, provider,
            // player and transaction.
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}

/// Buckets of `wallet_commit_group_size`, in calls.
const GROUP_SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1000.0];

/// Latency buckets in seconds: from 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// How a metric is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

use MetricKind::{Counter, Gauge, Histogram};

/// Every metric the wallet records: name, kind, labels, help text. Described to the
/// recorder at start-up (the `# HELP` lines) and listed in the README; a test fails when
/// a metric is recorded in `src/` without an entry here.
pub const METRICS: &[(&str, MetricKind, &str, &str)] = &[
    ("wallet_http_requests_total", Counter, "route, method, status",
        "HTTP requests answered, by route template, method and status."),
    ("wallet_http_request_duration_seconds", Histogram, "route, method, status",
        "Time from request received to response ready."),
    ("wallet_money_calls_total", Counter, "kind, outcome, code",
        "Money calls (bet, win, rollback, deposit, withdrawal) by outcome: applied, replayed or rejected (with the error code)."),
    ("wallet_serialization_retries_total", Counter, "kind, reason",
        "Attempts run again inside the server, by reason: serialization (40001), deadlock (40P01), lock_timeout (55P03), unique (a key taken meanwhile), stale (reads made stale), shared (a group's failure, tried alone), in_doubt (a commit in doubt), unavailable (the database, after a commit in doubt)."),
    ("wallet_stale_reads_total", Counter, "",
        "Attempts whose reads a call of the same player (usually in another process) made stale before they locked the player."),
    ("wallet_serialization_retries_exhausted_total", Counter, "kind",
        "Money calls that ran out of retries and answered 503 retry_later."),
    ("wallet_money_calls_shed_total", Counter, "",
        "Money calls refused because ledger.money_calls_in_flight_max calls were running (503 retry_later, nothing recorded)."),
    ("wallet_player_lock_wait_seconds", Histogram, "",
        "Time a money call waited for its player's turn (per-player serialization)."),
    ("wallet_player_lock_timeouts_total", Counter, "",
        "Money calls that gave up waiting for their player's turn."),
    ("wallet_player_queue_rejections_total", Counter, "",
        "Money calls refused because their player's queue was full (429 rate_limited)."),
    ("wallet_players_in_flight", Gauge, "",
        "Players with a money call running or queued."),
    ("wallet_correlation_waits_total", Counter, "result",
        "Wins that waited for their bet to land: result found or timed_out."),
    ("wallet_correlation_wait_seconds", Histogram, "",
        "Time a win waited for its bet."),
    ("wallet_correlation_waiting", Gauge, "",
        "Wins waiting for their bet right now."),
    ("wallet_db_pool_connections", Gauge, "",
        "Connections in the pool (idle and in use)."),
    ("wallet_db_pool_connections_idle", Gauge, "",
        "Pooled connections ready for use."),
    ("wallet_db_pool_connections_in_use", Gauge, "",
        "Pooled connections checked out."),
    ("wallet_db_pool_waiters", Gauge, "",
        "Tasks waiting for a pooled connection."),
    ("wallet_db_pool_max_connections", Gauge, "",
        "Configured pool size (database.pool_max_size)."),
    ("wallet_db_acquire_seconds", Histogram, "",
        "Time to take a connection from the pool."),
    ("wallet_db_connections_retired_total", Counter, "reason",
        "Connections closed by the pool: reason uses (connection_uses_max reached) or idle (idle_timeout_ms)."),
    ("wallet_db_round_trip_seconds", Histogram, "",
        "Database round-trip latency of SELECT 1, sampled on every readiness probe and metrics scrape."),
    ("wallet_commit_group_size", Histogram, "",
        "Money calls committed together in one transaction by a commit lane (ledger.commit_group_max at most)."),
    ("wallet_stale_rounds_closed_total", Counter, "",
        "Rounds left open past ledger.stale_round_age_secs and closed by the sweeper."),
    ("wallet_ledger_partitions_created_total", Counter, "",
        "Monthly ledger partitions this process created ahead of their month (ledger.partitions_ahead_months)."),
];

/// Installs the process-wide metrics recorder once, describes every metric, and returns
/// its handle.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("buckets are non-empty")
                .set_buckets_for_metric(
                    Matcher::Full("wallet_commit_group_size".into()),
                    GROUP_SIZE_BUCKETS,
                )
                .expect("buckets are non-empty")
                .install_recorder()
                .expect("the metrics recorder is installed once");
            describe_metrics();
            handle
        })
        .clone()
}

fn describe_metrics() {
    for &(name, kind, _, help) in METRICS {
        let unit = name.ends_with("_seconds").then_some(metrics::Unit::Seconds);
        match (kind, unit) {
            (Counter, _) => metrics::describe_counter!(name, metrics::Unit::Count, help),
            (Gauge, _) => metrics::describe_gauge!(name, help),
            (Histogram, Some(unit)) => metrics::describe_histogram!(name, unit, help),
            (Histogram, None) => metrics::describe_histogram!(name, help),
        }
    }
}
