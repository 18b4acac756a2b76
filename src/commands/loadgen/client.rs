//! The simulator's HTTP side: signed provider calls, operator calls, and the per-call
//! statistics (latency histograms, status counts, retries).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::Value;

use crate::signing::sign;

/// The kind of a money call, for per-kind statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Bet,
    Win,
    Rollback,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bet => "bet",
            Kind::Win => "win",
            Kind::Rollback => "rollback",
        }
    }

    fn endpoint(self) -> &'static str {
        match self {
            Kind::Bet => "bet",
            Kind::Win => "win",
            Kind::Rollback => "rollback",
        }
    }
}

/// What one money call ended with (after client retries).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// HTTP status; 0 when the connection failed on every try.
    pub status: u16,
    pub code: String,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.status == 200
    }

    /// No answer, or a 5xx (`retry_later`, `outcome_unknown`, a balancer's 502/503):
    /// the call is resent as it was, as a provider would, until it has a definitive
    /// answer.
    pub fn undecided(&self) -> bool {
        self.status == 0 || self.status >= 500
    }
}

/// Everything counted while the run goes.
pub struct Stats {
    pub all: Histogram<u64>,
    pub by_kind: BTreeMap<Kind, Histogram<u64>>,
    /// "200", "422 insufficient_funds", "503 retry_later", "transport", ...
    pub statuses: BTreeMap<String, u64>,
    pub replayed: u64,
    pub retry_later: u64,
    pub client_retries: u64,
    /// Calls that saw a failure (no answer, or any 5xx) and were resent.
    pub resent_calls: u64,
    /// Calls still without a definitive answer after every try.
    pub unresolved_calls: u64,
    pub server_errors: u64,
    pub transport_errors: u64,
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
            replayed: 0,
            retry_later: 0,
            client_retries: 0,
            resent_calls: 0,
            unresolved_calls: 0,
            server_errors: 0,
            transport_errors: 0,
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
    provider_secret: String,
    tries: u32,
    pub stats: Mutex<Stats>,
}

impl Client {
    pub fn new(
        base: &str,
        operator_token: &str,
        provider_id: &str,
        provider_secret: &str,
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
            provider_secret: provider_secret.to_owned(),
            tries: tries.max(1),
            stats: Mutex::new(Stats::new()),
        })
    }

    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// A signed provider money call, retried with the same body on 503 and on
    /// connection failures (safe: the transaction id makes it idempotent).
    pub async fn money(&self, kind: Kind, body: &Value) -> Outcome {
        let bytes = serde_json::to_vec(body).expect("JSON body");
        let path = format!("/v1/wallet/{}", kind.endpoint());
        let url = format!("{}{path}", self.base);
        let mut outcome = Outcome {
            status: 0,
            code: String::new(),
        };
        for attempt in 0..self.tries {
            if attempt > 0 {
                {
                    let mut s = self.stats.lock().unwrap();
                    s.client_retries += 1;
                    s.resent_calls += u64::from(attempt == 1);
                }
                tokio::time::sleep(Duration::from_millis(5 << attempt.min(6))).await;
            }
            let timestamp = chrono::Utc::now().timestamp();
            let started = Instant::now();
            let result = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-provider-id", &self.provider_id)
                .header("x-timestamp", timestamp.to_string())
                .header(
                    "x-signature",
                    sign(&self.provider_secret, timestamp, &path, &bytes),
                )
                .body(bytes.clone())
                .send()
                .await;
            let (status, replayed, code) = match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let replayed = response
                        .headers()
                        .get("idempotent-replayed")
                        .is_some_and(|v| v == "true");
                    let code = match response.json::<Value>().await {
                        Ok(v) => v["error"]["code"].as_str().unwrap_or("").to_owned(),
                        Err(_) => String::new(),
                    };
                    (status, replayed, code)
                }
                Err(_) => (0, false, "transport".to_owned()),
            };
            let micros = u64::try_from(started.elapsed().as_micros().max(1)).unwrap_or(u64::MAX);
            self.record(kind, status, &code, replayed, micros);
            outcome = Outcome { status, code };
            if !outcome.undecided() {
                break;
            }
        }
        let mut s = self.stats.lock().unwrap();
        s.unresolved_calls += u64::from(outcome.undecided());
        outcome
    }

    fn record(&self, kind: Kind, status: u16, code: &str, replayed: bool, micros: u64) {
        let mut s = self.stats.lock().unwrap();
        s.all.saturating_record(micros);
        if let Some(h) = s.by_kind.get_mut(&kind) {
            h.saturating_record(micros);
        }
        let key = match (status, code) {
            (0, _) => "transport".to_owned(),
            (s, "") => s.to_string(),
            (s, c) => format!("{s} {c}"),
        };
        *s.statuses.entry(key).or_default() += 1;
        s.replayed += u64::from(replayed);
        s.retry_later += u64::from(status == 503 && code == "retry_later");
        s.server_errors += u64::from(status >= 500);
        s.transport_errors += u64::from(status == 0);
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
