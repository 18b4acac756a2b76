//! The simulator's HTTP side: provider calls (written and read by the protocol's
//! [`Dialect`]), operator calls, and the per-call statistics (latency histograms, status
//! counts, retries), the same for every protocol.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::Value;

use super::wire::{Call, Dialect};
pub use super::wire::{Kind, Outcome};

/// Everything counted while the run goes.
pub struct Stats {
    pub all: Histogram<u64>,
    pub by_kind: BTreeMap<Kind, Histogram<u64>>,
    /// "200", "422 insufficient_funds", "503 retry_later", "transport", and for the
    /// adapters "200 RS_OK", "200 BET_ALREADY_EXIST", ...
    pub statuses: BTreeMap<String, u64>,
    /// Answers that say the movement is in the ledger (replays included).
    pub accepted: u64,
    pub replayed: u64,
    pub retry_later: u64,
    pub client_retries: u64,
    /// Calls that saw a failure (no answer, or any 5xx) and were resent.
    pub resent_calls: u64,
    /// Calls still without a definitive answer after every try.
    pub unresolved_calls: u64,
    /// Answers that were not definitive: HTTP 5xx, or the protocol's "unknown /
    /// temporary" status in an HTTP 200 (Hub88 `RS_ERROR_UNKNOWN`, Evolution
    /// `TEMPORARY_ERROR`, `UNKNOWN_ERROR`).
    pub server_errors: u64,
    pub transport_errors: u64,
    /// Calls whose body the client signed (Hub88) and the time that took, in µs: the
    /// simulator's own share of the CPU per call.
    pub signed_calls: u64,
    pub signing_micros: u64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

impl Stats {
    fn new() -> Stats {
        Stats {
            all: histogram(),
            by_kind: [Kind::Bet, Kind::Win, Kind::Rollback]
                .into_iter()
                .map(|k| (k, histogram()))
                .collect(),
            statuses: BTreeMap::new(),
            accepted: 0,
            replayed: 0,
            retry_later: 0,
            client_retries: 0,
            resent_calls: 0,
            unresolved_calls: 0,
            server_errors: 0,
            transport_errors: 0,
            signed_calls: 0,
            signing_micros: 0,
        }
    }

    pub fn calls(&self) -> u64 {
        self.all.len()
    }
}

/// A provider and operator client of one wallet.
pub struct Client {
    http: reqwest::Client,
    base: String,
    operator_token: String,
    provider_id: String,
    pub dialect: Dialect,
    tries: u32,
    pub stats: Mutex<Stats>,
}

impl Client {
    pub fn new(
        base: &str,
        operator_token: &str,
        provider_id: &str,
        dialect: Dialect,
        tries: u32,
        connections: usize,
    ) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections.max(1))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_owned(),
            operator_token: operator_token.to_owned(),
            provider_id: provider_id.to_owned(),
            dialect,
            tries: tries.max(1),
            stats: Mutex::new(Stats::new()),
        })
    }

    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// A provider money call in the protocol's dialect, retried with the same body while
    /// undecided (safe: the transaction id makes it idempotent).
    pub async fn money(&self, call: &Call) -> Outcome {
        let signing = Instant::now();
        let prepared = self.dialect.prepare(&self.provider_id, call);
        if self.dialect.signs_bodies() {
            let mut s = self.stats.lock().unwrap();
            s.signed_calls += 1;
            s.signing_micros += micros(signing);
        }
        let url = format!("{}{}", self.base, prepared.path);
        let mut outcome = Outcome::transport();
        for attempt in 0..self.tries {
            if attempt > 0 {
                {
                    let mut s = self.stats.lock().unwrap();
                    s.client_retries += 1;
                    s.resent_calls += u64::from(attempt == 1);
                }
                tokio::time::sleep(Duration::from_millis(5 << attempt.min(6))).await;
            }
            let mut request = self
                .http
                .post(&url)
                .header("content-type", "application/json");
            for (name, value) in prepared
                .headers
                .iter()
                .cloned()
                .chain(self.dialect.attempt_headers(&prepared))
            {
                request = request.header(name, value);
            }
            let started = Instant::now();
            let result = request.body(prepared.body.clone()).send().await;
            let (answer, replayed) = match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let replayed = response
                        .headers()
                        .get("idempotent-replayed")
                        .is_some_and(|v| v == "true");
                    let body = response.json::<Value>().await.unwrap_or(Value::Null);
                    (self.dialect.outcome(call.kind, status, &body), replayed)
                }
                Err(_) => (Outcome::transport(), false),
            };
            self.record(call.kind, &answer, replayed, micros(started));
            outcome = answer;
            if !outcome.undecided() {
                break;
            }
        }
        let mut s = self.stats.lock().unwrap();
        s.unresolved_calls += u64::from(outcome.undecided());
        outcome
    }

    fn record(&self, kind: Kind, outcome: &Outcome, replayed: bool, micros: u64) {
        let mut s = self.stats.lock().unwrap();
        s.all.saturating_record(micros);
        if let Some(h) = s.by_kind.get_mut(&kind) {
            h.saturating_record(micros);
        }
        let key = match (outcome.status, outcome.code.as_str()) {
            (0, _) => "transport".to_owned(),
            (s, "") => s.to_string(),
            (s, c) => format!("{s} {c}"),
        };
        *s.statuses.entry(key).or_default() += 1;
        s.accepted += u64::from(outcome.ok());
        s.replayed += u64::from(replayed);
        s.retry_later += u64::from(outcome.retry_later);
        s.server_errors += u64::from(outcome.status != 0 && outcome.undecided());
        s.transport_errors += u64::from(outcome.status == 0);
    }

    /// An operator call; returns status and JSON body (Null when empty).
    pub async fn operator(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.operator_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok((status, value))
    }

    /// The wallet's /metrics text.
    pub async fn metrics(&self) -> anyhow::Result<String> {
        Ok(self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .text()
            .await?)
    }
}

/// Microseconds since `started`, at least 1.
fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros().max(1)).unwrap_or(u64::MAX)
}
