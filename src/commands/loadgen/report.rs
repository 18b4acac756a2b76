//! The end-of-run report: throughput, latency percentiles, statuses, retries, bet-win
//! correlation and the money check, as JSON or as a human summary.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::client::Stats;
use super::wire::Protocol;

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        Latency {
            count: h.len(),
            mean_us: (h.mean() * 10.0).round() / 10.0,
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    }
}

/// Counters scraped from the wallet's /metrics before and after the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerCounters {
    pub serialization_retries: f64,
    /// The same retries by their `reason` label.
    pub serialization_retries_by_reason: std::collections::BTreeMap<String, f64>,
    pub serialization_retries_exhausted: f64,
    pub correlation_waits: f64,
    pub player_lock_wait_seconds_sum: f64,
    pub db_acquire_seconds_sum: f64,
    pub db_acquire_count: f64,
}

impl ServerCounters {
    /// Sums every series of each metric of interest in Prometheus text format.
    pub fn parse(text: &str) -> ServerCounters {
        let mut c = ServerCounters::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let name = series.split('{').next().unwrap_or(series);
            match name {
                "wallet_serialization_retries_total" => {
                    c.serialization_retries += value;
                    let reason = label(series, "reason").unwrap_or("unlabelled");
                    *c.serialization_retries_by_reason
                        .entry(reason.to_owned())
                        .or_default() += value;
                }
                "wallet_serialization_retries_exhausted_total" => {
                    c.serialization_retries_exhausted += value
                }
                "wallet_correlation_waits_total" => c.correlation_waits += value,
                "wallet_player_lock_wait_seconds_sum" => c.player_lock_wait_seconds_sum += value,
                "wallet_db_acquire_seconds_sum" => c.db_acquire_seconds_sum += value,
                "wallet_db_acquire_seconds_count" => c.db_acquire_count += value,
                _ => {}
            }
        }
        c
    }

    pub fn minus(&self, before: &ServerCounters) -> ServerCounters {
        ServerCounters {
            serialization_retries: self.serialization_retries - before.serialization_retries,
            serialization_retries_by_reason: self
                .serialization_retries_by_reason
                .iter()
                .map(|(reason, n)| {
                    let was = before.serialization_retries_by_reason.get(reason);
                    (reason.clone(), n - was.copied().unwrap_or(0.0))
                })
                .filter(|(_, n)| *n > 0.0)
                .collect(),
            serialization_retries_exhausted: self.serialization_retries_exhausted
                - before.serialization_retries_exhausted,
            correlation_waits: self.correlation_waits - before.correlation_waits,
            player_lock_wait_seconds_sum: self.player_lock_wait_seconds_sum
                - before.player_lock_wait_seconds_sum,
            db_acquire_seconds_sum: self.db_acquire_seconds_sum - before.db_acquire_seconds_sum,
            db_acquire_count: self.db_acquire_count - before.db_acquire_count,
        }
    }
}

/// The value of label `name` in a Prometheus series such as `m{a="x",b="y"}`.
fn label<'a>(series: &'a str, name: &str) -> Option<&'a str> {
    let labels = series.split_once('{')?.1.strip_suffix('}')?;
    labels.split(',').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.trim_matches('"'))
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Correlation {
    /// Wins whose bet was accepted, read back through the operator API.
    pub checked: u64,
    /// Of those, wins recorded with the bet the simulator meant.
    pub correct: u64,
    pub accuracy: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MoneyCheck {
    pub players: u64,
    /// Players whose balance differs from the simulator's model.
    pub mismatches: u64,
    /// The first few mismatches: (player, expected, actual) in minor units.
    pub examples: Vec<(String, i64, Option<i64>)>,
    /// Reconciliation query result: None when no --database-url was given.
    pub reconciliation_clean: Option<bool>,
    pub reconciliation_discrepancies: Option<u64>,
    pub clean: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub protocol: Protocol,
    pub provider_id: String,
    pub mode: String,
    pub url: String,
    pub concurrency: usize,
    pub players: usize,
    pub seed: u64,
    pub elapsed_s: f64,
    pub rounds: u64,
    pub calls: u64,
    pub calls_per_s: f64,
    /// Money calls per second by kind (every HTTP attempt counts).
    pub ops_per_s: BTreeMap<String, f64>,
    pub latency: Latency,
    pub latency_by_kind: BTreeMap<String, Latency>,
    pub status_counts: BTreeMap<String, u64>,
    pub replayed: u64,
    pub server_errors_5xx: u64,
    pub retry_later: u64,
    pub client_retries: u64,
    /// Calls that saw a failure and were resent; `unresolved_calls` of them (or of the
    /// others) never got a definitive answer.
    pub resent_calls: u64,
    pub unresolved_calls: u64,
    pub transport_errors: u64,
    /// Hub88: the simulator's own mean time to write and RSA-sign one request body (µs),
    /// client CPU spent on the same machine as the wallet.
    pub client_signing_mean_us: Option<f64>,
    /// Share of the answers (every attempt) that said the movement is in the ledger.
    pub success_rate: f64,
    pub server: ServerCounters,
    pub correlation: Correlation,
    pub money_check: MoneyCheck,
}

impl Report {
    pub fn from_stats(
        stats: &Stats,
        elapsed_s: f64,
    ) -> (
        Latency,
        BTreeMap<String, Latency>,
        BTreeMap<String, f64>,
        f64,
    ) {
        let by_kind = stats
            .by_kind
            .iter()
            .map(|(k, h)| (k.name().to_owned(), Latency::of(h)))
            .collect();
        let ops = stats
            .by_kind
            .iter()
            .map(|(k, h)| (k.name().to_owned(), round1(h.len() as f64 / elapsed_s)))
            .collect();
        let success = if stats.calls() == 0 {
            1.0
        } else {
            stats.accepted as f64 / stats.calls() as f64
        };
        (Latency::of(&stats.all), by_kind, ops, success)
    }

    pub fn print_human(&self) {
        println!(
            "wallet loadgen: {} against {} ({:?} provider {})",
            self.mode, self.url, self.protocol, self.provider_id
        );
        println!(
            "  {} rounds, {} money calls in {:.1} s = {:.0} calls/s (concurrency {}, {} players, seed {})",
            self.rounds, self.calls, self.elapsed_s, self.calls_per_s, self.concurrency, self.players, self.seed
        );
        for (kind, rate) in &self.ops_per_s {
            println!("  {kind:<9} {rate:>9.1}/s");
        }
        println!("  latency (ms)      mean     p50     p90     p99   p99.9     max");
        let ms = |us: u64| us as f64 / 1000.0;
        let line = |name: &str, l: &Latency| {
            println!(
                "  {name:<14} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2}",
                l.mean_us / 1000.0,
                ms(l.p50_us),
                ms(l.p90_us),
                ms(l.p99_us),
                ms(l.p999_us),
                ms(l.max_us)
            )
        };
        line("all", &self.latency);
        for (kind, l) in &self.latency_by_kind {
            line(kind, l);
        }
        let statuses: Vec<String> = self
            .status_counts
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        println!(
            "  statuses: {} (replayed {})",
            statuses.join(", "),
            self.replayed
        );
        println!(
            "  success {:.3}%, 5xx {}, retry_later {}, client retries {}, transport errors {}",
            100.0 * self.success_rate,
            self.server_errors_5xx,
            self.retry_later,
            self.client_retries,
            self.transport_errors
        );
        println!(
            "  calls resent after a failure {}, still unresolved {}",
            self.resent_calls, self.unresolved_calls
        );
        if let Some(us) = self.client_signing_mean_us {
            println!("  client: {us:.1} us to write and sign a request body (mean)");
        }
        println!(
            "  server: serialization retries {} {:?}, exhausted {}, correlation waits {}, pool acquire mean {:.3} ms",
            self.server.serialization_retries,
            self.server.serialization_retries_by_reason,
            self.server.serialization_retries_exhausted,
            self.server.correlation_waits,
            if self.server.db_acquire_count > 0.0 {
                1000.0 * self.server.db_acquire_seconds_sum / self.server.db_acquire_count
            } else {
                0.0
            }
        );
        println!(
            "  correlation: {}/{} wins linked to the intended bet ({:.2}%)",
            self.correlation.correct,
            self.correlation.checked,
            100.0 * self.correlation.accuracy
        );
        let m = &self.money_check;
        let reconciliation = match m.reconciliation_clean {
            None => "not run (no --database-url)".to_owned(),
            Some(true) => "clean".to_owned(),
            Some(false) => format!(
                "{} discrepancies",
                m.reconciliation_discrepancies.unwrap_or(0)
            ),
        };
        println!(
            "  money check: {} players, {} mismatches; reconciliation {}: {}",
            m.players,
            m.mismatches,
            reconciliation,
            if m.clean { "CLEAN" } else { "FAILED" }
        );
        for (player, expected, actual) in &m.examples {
            println!("    {player}: expected {expected}, wallet says {actual:?}");
        }
    }
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_summed_and_split_by_reason() {
        let before = ServerCounters::parse(
            "# TYPE wallet_serialization_retries_total counter\n\
             wallet_serialization_retries_total{kind=\"bet\",reason=\"serialization\"} 2\n",
        );
        let after = ServerCounters::parse(
            "wallet_serialization_retries_total{kind=\"bet\",reason=\"serialization\"} 5\n\
             wallet_serialization_retries_total{kind=\"win\",reason=\"serialization\"} 1\n\
             wallet_serialization_retries_total{kind=\"win\",reason=\"stale\"} 4\n\
             wallet_serialization_retries_total{kind=\"bet\"} 1\n",
        );
        let run = after.minus(&before);
        assert_eq!(run.serialization_retries, 9.0);
        let reasons: Vec<(&str, f64)> = run
            .serialization_retries_by_reason
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            reasons,
            [("serialization", 4.0), ("stale", 4.0), ("unlabelled", 1.0)]
        );
    }

    #[test]
    fn a_label_is_read_by_name() {
        for (series, name, value) in [
            ("m{a=\"x\",b=\"y\"}", "b", Some("y")),
            ("m{a=\"x\",b=\"y\"}", "a", Some("x")),
            ("m{a=\"x\"}", "b", None),
            ("m", "a", None),
        ] {
            assert_eq!(label(series, name), value, "{series} {name}");
        }
    }
}
