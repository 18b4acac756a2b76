//! Faults under load, with real processes: two `wallet serve` processes on a PostgreSQL
//! cluster of this test's own (scripts/pg.sh, in `.pgdata/faults-*`, removed at the end),
//! signed money calls from concurrent clients alternating between the processes, and in
//! turn, a second apart:
//!
//! 1. one wallet process is killed (SIGKILL) and started again on the same port;
//! 2. PostgreSQL is stopped in immediate mode and started again; while it is down both
//!    processes must answer `/health/ready` with 503 and a bet with `503 retry_later`
//!    in under a second;
//! 3. every backend of the wallets is terminated (`pg_terminate_backend`);
//! 4. PostgreSQL is paused for 3 s (SIGSTOP of the postmaster and its children).
//!
//! Every call whose answer was not definitive (a transport error, any 5xx, a 429) is
//! resent after the load with the same body until it is; that answer is its truth. Then
//! every balance must equal the deposits plus the accepted calls, every accepted call must
//! be in the ledger exactly once and every refused one not at all, nothing else may be
//! there, no call first answered only `retry_later` may turn out to have been recorded,
//! and the ledger must reconcile and keep every money rule. The time from each fault's
//! end to the first successful money call is printed.
//!
//! `WALLET_FAULTS_SECONDS` sets how long the load runs (default 12: one fault cycle);
//! the cycle repeats while time is left, e.g.
//! `WALLET_FAULTS_SECONDS=120 ./scripts/test.sh replica_faults`. When the test fails, the
//! wallets' logs and PostgreSQL's `server.log` stay in `.pgdata/faults-*`.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::StreamExt;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::OPERATOR_TOKEN;
use crate::provider::{bet_body, id, rollback_body, win_body, with, GAME};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
/// Players under load, one client task each; one more takes the probes.
const PLAYERS: usize = 20;
const DEPOSIT: &str = "100000.00";
const POOL: &str = "20";
/// Pause between faults, and before the first (every recovery measured so far took well
/// under half a second).
const GAP: Duration = Duration::from_millis(1000);
/// How long PostgreSQL stays down in the restart, and paused in the pause.
const DOWN: Duration = Duration::from_millis(1000);
const PAUSE: Duration = Duration::from_secs(3);
/// The longest a client waits for one answer (the server's money call deadline is 15 s).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the resending of kept calls may take after the load, in all.
const RESEND_DEADLINE: Duration = Duration::from_secs(90);
const LOG: &str = "[replica_faults]";

fn load_duration() -> Duration {
    let seconds = std::env::var("WALLET_FAULTS_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    Duration::from_secs(seconds)
}

fn ms(d: Duration) -> String {
    format!("{:.0}ms", d.as_secs_f64() * 1000.0)
}

/// The wall clock as the wallets log it (UTC).
fn now() -> String {
    chrono::Utc::now().format("%H:%M:%S%.3f").to_string()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

// ------------------------------------------------------------------ the cluster

/// A PostgreSQL cluster of this test's own, through scripts/pg.sh. Dropping it stops and
/// removes it (and the wallet logs beside it, unless the test failed).
struct Cluster {
    /// `.pgdata/faults-*`: the data directory and the wallet logs.
    dir: PathBuf,
    data: PathBuf,
    port: u16,
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A free port above the ephemeral range (32768-60999 on Linux): a port in it may be
/// taken as the local port of some outgoing connection (a busy machine makes thousands)
/// while PostgreSQL or a wallet restarts, and the restart could not bind it.
fn free_port(from: u16) -> u16 {
    (from..from.saturating_add(100))
        .find(|&p| port_is_free(p))
        .expect("a free port")
}

/// `bash -c` with scripts/pg.sh sourced and PG_BIN set: `$1` is the data directory,
/// `$2` the port.
fn pg_command(script: &str, data: &Path, port: u16) -> Command {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!(
            "source scripts/pg.sh\npg_ensure_binaries\n{script}"
        ))
        .arg("replica_faults")
        .arg(data)
        .arg(port.to_string())
        .current_dir(REPO)
        .env("PG_LOG_PREFIX", LOG)
        .stdin(Stdio::null());
    command
}

impl Cluster {
    fn new() -> Cluster {
        let base = Path::new(REPO).join(".pgdata");
        std::fs::create_dir_all(&base).unwrap();
        let dir = base.join(format!("faults-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir(&dir).unwrap();
        Cluster {
            data: dir.join("data"),
            dir,
            port: free_port(61600),
        }
    }

    /// Runs `script` (see [`pg_command`]); panics with its output when it fails.
    async fn pg(&self, script: &str) -> Duration {
        let started = Instant::now();
        let out = tokio::process::Command::from(pg_command(script, &self.data, self.port))
            .output()
            .await
            .expect("run bash");
        assert!(
            out.status.success(),
            "`{script}` failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    }

    async fn start(&self) -> Duration {
        self.pg(r#"pg_start "$1" "$2""#).await
    }

    async fn stop_immediately(&self) -> Duration {
        self.pg(
            r#"pg__as_owner "$PG_BIN/pg_ctl" stop --pgdata="$1" -m immediate --wait >/dev/null"#,
        )
        .await
    }

    fn wallet_url(&self) -> String {
        format!("postgres://wallet@127.0.0.1:{}/wallet", self.port)
    }

    /// When a superuser connection first runs a statement again (polled; gives up after
    /// two minutes).
    async fn accepting(&self) -> Instant {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            let connect = tokio_postgres::connect(&url, tokio_postgres::NoTls);
            if let Ok(Ok((client, connection))) =
                tokio::time::timeout(Duration::from_secs(1), connect).await
            {
                tokio::spawn(connection);
                if client.simple_query("SELECT 1").await.is_ok() {
                    return Instant::now();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Instant::now()
    }

    async fn superuser(&self) -> tokio_postgres::Client {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect as postgres");
        tokio::spawn(connection);
        client
    }

    /// The postmaster's PID, when it runs.
    fn postmaster(&self) -> Option<String> {
        let pid_file = std::fs::read_to_string(self.data.join("postmaster.pid")).ok()?;
        let pid = pid_file.lines().next()?.trim().to_owned();
        // Only a postgres serving this data directory (the PID may have been reused).
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        String::from_utf8_lossy(&cmdline)
            .contains(&*self.data.to_string_lossy())
            .then_some(pid)
    }

    /// Sends `signal` (`STOP`, `CONT`) to every process of the cluster: the postmaster
    /// first (so it forks nothing meanwhile), then its children (backends and auxiliary
    /// processes) as found after it. How many processes were signalled.
    fn signal(&self, signal: &str) -> usize {
        let Some(postmaster) = self.postmaster() else {
            return 0;
        };
        kill(signal, std::slice::from_ref(&postmaster));
        let children = children_of(&postmaster);
        kill(signal, &children);
        children.len() + 1
    }
}

fn children_of(parent: &str) -> Vec<String> {
    let mut children = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return children;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{name}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold anything, so split after its ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_owned));
        if ppid.as_deref() == Some(parent) {
            children.push(name);
        }
    }
    children
}

fn kill(signal: &str, pids: &[String]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .args(pids)
        .stderr(Stdio::null())
        .status();
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A cluster paused by a failed test would never stop.
        self.signal("CONT");
        if std::thread::panicking() {
            let _ = std::fs::copy(self.data.join("server.log"), self.dir.join("server.log"));
        }
        let removed = pg_command(r#"pg_remove "$1""#, &self.data, self.port)
            .stdout(Stdio::null())
            .status();
        if !matches!(removed, Ok(s) if s.success()) {
            eprintln!(
                "{LOG} could not remove the cluster in {}",
                self.data.display()
            );
        }
        if std::thread::panicking() {
            eprintln!("{LOG} wallet logs kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

// ------------------------------------------------------------------ the wallets

/// One `wallet serve` process; dropping it kills it.
struct Wallet {
    name: &'static str,
    port: u16,
    log: PathBuf,
    database_url: String,
    child: Option<Child>,
}

impl Wallet {
    fn new(name: &'static str, cluster: &Cluster, port: u16) -> Wallet {
        Wallet {
            name,
            port,
            log: cluster.dir.join(format!("{name}.log")),
            database_url: cluster.wallet_url(),
            child: None,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process (its output appended to its log), like scripts/bench.sh's
    /// start_wallet.
    fn spawn(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_wallet"));
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("WALLET") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        let child = command
            .arg("serve")
            // As scripts/bench.sh runs it: from the repository (configured paths are
            // relative to it).
            .current_dir(REPO)
            .env("WALLET_CONFIG", format!("{REPO}/config/development.toml"))
            .env("WALLET__DATABASE__URL", &self.database_url)
            .env("WALLET__SERVER__LISTEN", format!("127.0.0.1:{}", self.port))
            .env("WALLET__DATABASE__POOL_MAX_SIZE", POOL)
            .env("WALLET__LOG__FILTER", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn wallet serve");
        self.child = Some(child);
    }

    /// SIGKILL, and reap it.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `Some(status)` when the process has exited.
    fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Waits until `/health/ready` answers 200; how long that took.
    async fn wait_ready(&mut self, http: &reqwest::Client) -> Duration {
        let started = Instant::now();
        let url = format!("{}/health/ready", self.base());
        loop {
            if let Ok(r) = http.get(&url).send().await {
                if r.status() == reqwest::StatusCode::OK {
                    return started.elapsed();
                }
            }
            if let Some(status) = self.exited() {
                panic!("{} exited ({status}):\n{}", self.name, self.log_tail());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{} not ready within 60 s:\n{}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Wallet {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("{LOG} last lines of {}:\n{}", self.name, self.log_tail());
        }
    }
}

// ------------------------------------------------------------------ money calls

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Bet,
    Win,
    Rollback,
}

/// One answer to one send of a call.
#[derive(Clone, Debug)]
enum Seen {
    Ok {
        replayed: bool,
    },
    /// A 4xx other than 429: the contract's definitive refusals.
    Refused {
        status: u16,
        code: String,
    },
    /// A 5xx or a 429: nothing definitive.
    Transient {
        status: u16,
        code: String,
    },
    /// No (complete) answer.
    Transport(String),
}

impl Seen {
    fn definitive(&self) -> bool {
        matches!(self, Seen::Ok { .. } | Seen::Refused { .. })
    }

    /// For the counts of the report.
    fn label(&self) -> String {
        match self {
            Seen::Ok { .. } => "200".into(),
            Seen::Refused { status, code } | Seen::Transient { status, code } => {
                format!("{status} {code}")
            }
            Seen::Transport(why) => format!("transport error ({why})"),
        }
    }

    fn retry_later(&self) -> bool {
        matches!(self, Seen::Transient { status: 503, code } if code == "retry_later")
    }
}

/// One answer to one send of a call: which process, what, when (UTC, as in the
/// logs) and how long it took.
#[derive(Debug)]
#[allow(dead_code)] // (read by Debug, in the failure messages)
struct Answer {
    process: usize,
    seen: Seen,
    at: String,
    took: Duration,
}

/// One money call and every answer it got, in order.
struct Call {
    seat: usize,
    kind: Kind,
    tx: String,
    body: Vec<u8>,
    /// The change of the player's cash if the call is applied.
    effect: Decimal,
    answers: Vec<Answer>,
    /// A 200 whose body names another transaction.
    wrong_body: Option<String>,
}

impl Call {
    fn new(seat: usize, kind: Kind, tx: String, body: &Value, effect: Decimal) -> Call {
        Call {
            seat,
            kind,
            tx,
            body: serde_json::to_vec(body).unwrap(),
            effect,
            answers: Vec::new(),
            wrong_body: None,
        }
    }

    fn endpoint(&self) -> &'static str {
        match self.kind {
            Kind::Bet => "bet",
            Kind::Win => "win",
            Kind::Rollback => "rollback",
        }
    }

    fn last(&self) -> Option<&Seen> {
        self.answers.last().map(|a| &a.seen)
    }

    fn settled(&self) -> bool {
        self.last().is_some_and(Seen::definitive)
    }

    fn applied(&self) -> bool {
        matches!(self.last(), Some(Seen::Ok { .. }))
    }

    fn needed_resend(&self) -> bool {
        self.answers.first().is_some_and(|a| !a.seen.definitive())
    }
}

struct Seat {
    player: String,
    session: String,
}

/// When each successful money call was answered, and by which process.
#[derive(Default)]
struct Successes(Mutex<Vec<(Instant, usize)>>);

impl Successes {
    fn record(&self, process: usize) {
        self.0.lock().unwrap().push((Instant::now(), process));
    }

    /// The time from `since` to the first 200 of a money call (of `process`, or of
    /// either) answered after it.
    fn first_after(&self, since: Instant, process: Option<usize>) -> Option<Duration> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|&&(at, by)| at >= since && process.map_or(true, |p| p == by))
            .map(|&(at, _)| at.duration_since(since))
            .min()
    }
}

struct Ctx {
    http: reqwest::Client,
    bases: [String; 2],
    seats: Vec<Seat>,
    successes: Successes,
    stop: AtomicBool,
}

impl Ctx {
    /// Sends the call (signed now) to `process` and records the answer.
    async fn send(&self, call: &mut Call, process: usize) -> Seen {
        let asked = Instant::now();
        let path = format!("/v1/wallet/{}", call.endpoint());
        let timestamp = chrono::Utc::now().timestamp();
        let signature = wallet::signing::sign("demo-secret", timestamp, &path, &call.body);
        let sent = self
            .http
            .post(format!("{}{path}", self.bases[process]))
            .header("content-type", "application/json")
            .header("x-provider-id", "demo")
            .header("x-timestamp", timestamp.to_string())
            .header("x-signature", signature)
            .body(call.body.clone())
            .send()
            .await;
        let seen = match sent {
            Err(e) => Seen::Transport(transport(&e)),
            Ok(response) => {
                let status = response.status().as_u16();
                let replayed = response
                    .headers()
                    .get("idempotent-replayed")
                    .is_some_and(|v| v == "true");
                match response.bytes().await {
                    Err(e) => Seen::Transport(transport(&e)),
                    Ok(bytes) => {
                        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
                        match status {
                            200 => {
                                if body["transaction_id"] != call.tx.as_str() {
                                    call.wrong_body = Some(body.to_string());
                                }
                                Seen::Ok { replayed }
                            }
                            429 => Seen::Transient { status, code },
                            400..=499 => Seen::Refused { status, code },
                            _ => Seen::Transient { status, code },
                        }
                    }
                }
            }
        };
        if matches!(seen, Seen::Ok { .. }) {
            self.successes.record(process);
        }
        call.answers.push(Answer {
            process,
            seen: seen.clone(),
            at: now(),
            took: asked.elapsed(),
        });
        seen
    }

    async fn operator(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.bases[0]))
            .bearer_auth(OPERATOR_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the wallet answers");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn seat(&self, i: usize) -> Seat {
        let player = format!("faults-{i}-{}", uuid::Uuid::now_v7().simple());
        let post = reqwest::Method::POST;
        self.operator(
            post.clone(),
            "/v1/players",
            Some(json!({"player_id": player, "currency": "EUR"})),
        )
        .await;
        self.operator(
            post.clone(),
            &format!("/v1/players/{player}/deposits"),
            Some(json!({"transaction_id": id("dep"), "amount": DEPOSIT})),
        )
        .await;
        let session = self
            .operator(
                post,
                "/v1/sessions",
                Some(
                    json!({"player_id": player, "provider_id": "demo", "game_id": GAME,
                    "ttl_seconds": 86400}),
                ),
            )
            .await["session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        Seat { player, session }
    }

    async fn cash(&self, process: usize, player: &str) -> Decimal {
        let response = self
            .http
            .get(format!("{}/v1/players/{player}", self.bases[process]))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .expect("the wallet answers");
        let body: Value = response.json().await.unwrap();
        dec(body["balance"]["cash"]
            .as_str()
            .unwrap_or_else(|| panic!("no balance in {body}")))
    }
}

fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else {
        "cut".into()
    }
}

/// One client: rounds of the seat's player, each a bet and then a win by round that
/// closes it (or, every fourth round, a rollback of the bet), sent to the two processes
/// in turn. A round goes on only while every answer in it is a 200, so a win or a
/// rollback only ever follows a bet that is applied and neither paid nor rolled back:
/// each call's effect on the balance is fixed by whether it is applied. A call without a
/// definitive answer is left for the resend, and the client backs off a little.
async fn client(ctx: Arc<Ctx>, seat: usize) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut sends = seat;
    let mut rounds = 0u32;
    let mut backoff = Duration::ZERO;
    let (player, session) = (&ctx.seats[seat].player, &ctx.seats[seat].session);
    let next = |sends: &mut usize| {
        *sends += 1;
        *sends % 2
    };
    while !ctx.stop.load(Ordering::Relaxed) {
        rounds += 1;
        let round = id("round");
        let stake = if rounds % 2 == 0 { "2.00" } else { "1.00" };
        let tx = id("bet");
        let body = bet_body(player, session, &round, &tx, stake);
        let mut bet = Call::new(seat, Kind::Bet, tx.clone(), &body, -dec(stake));
        let placed = ctx.send(&mut bet, next(&mut sends)).await;
        calls.push(bet);
        let follow = if !matches!(placed, Seen::Ok { .. }) {
            None
        } else if rounds % 4 == 0 {
            let rb = id("rb");
            let body = rollback_body(player, &rb, &tx);
            Some(Call::new(seat, Kind::Rollback, rb, &body, dec(stake)))
        } else {
            let amount = ["0.00", "1.50", "3.00"][usize::try_from(rounds % 3).unwrap()];
            let win = id("win");
            let body = with(
                win_body(player, &round, &win, amount),
                json!({"round_closed": true}),
            );
            Some(Call::new(seat, Kind::Win, win, &body, dec(amount)))
        };
        let last = match follow {
            None => placed,
            Some(mut call) => {
                let seen = ctx.send(&mut call, next(&mut sends)).await;
                calls.push(call);
                seen
            }
        };
        if last.definitive() {
            backoff = Duration::ZERO;
        } else {
            backoff = (backoff * 2).clamp(Duration::from_millis(20), Duration::from_millis(200));
            tokio::time::sleep(backoff).await;
        }
    }
    calls
}

// ------------------------------------------------------------------ the faults

const KILL: &str = "(a) SIGKILL + restart of a wallet (first 200 of that process)";
const KILL_ANY: &str = "(a) SIGKILL + restart of a wallet (first 200 of either)";
const RESTART: &str = "(b) PostgreSQL restart, immediate mode";
const TERMINATE: &str = "(c) pg_terminate_backend of the wallets' backends";
const PAUSED: &str = "(d) PostgreSQL paused 3 s (SIGSTOP/SIGCONT)";

struct Faults {
    /// (fault kind, cycle, when it ended, whose next 200 counts: one process or either).
    ends: Vec<(&'static str, usize, Instant, Option<usize>)>,
    failures: Vec<String>,
    /// The probes' calls (a seat of their own), for the final checks.
    probes: Vec<Call>,
}

/// One cycle of the four faults, `GAP` apart.
async fn cycle(
    ctx: &Ctx,
    cluster: &Cluster,
    wallets: &mut [Wallet; 2],
    n: usize,
    faults: &mut Faults,
) {
    // (a) a wallet process dies and comes back on the same port.
    let victim = n % 2;
    let at = now();
    wallets[victim].kill();
    let respawned = Instant::now();
    wallets[victim].spawn();
    faults.ends.push((KILL, n, respawned, Some(victim)));
    faults.ends.push((KILL_ANY, n, respawned, None));
    let ready = wallets[victim].wait_ready(&ctx.http).await;
    eprintln!(
        "{LOG} {at} cycle {n} (a): {} killed and started again, ready in {}",
        wallets[victim].name,
        ms(ready)
    );
    tokio::time::sleep(GAP).await;

    // (b) PostgreSQL stops at once (no shutdown checkpoint, backends killed) and starts.
    let at = now();
    let stopped = cluster.stop_immediately().await;
    let down = Instant::now();
    let mut readiness = Vec::new();
    for (process, base) in ctx.bases.iter().enumerate() {
        let asked = Instant::now();
        let status = match ctx.http.get(format!("{base}/health/ready")).send().await {
            Ok(r) => r.status().as_u16().to_string(),
            Err(e) => format!("transport error {e}"),
        };
        let took = asked.elapsed();
        readiness.push(format!(
            "{} {status} in {}",
            wallets[process].name,
            ms(took)
        ));
        if status != "503" {
            faults.failures.push(format!(
                "cycle {n}: /health/ready of {} answered {status} while PostgreSQL was down",
                wallets[process].name
            ));
        }
    }
    let probe_seat = PLAYERS;
    let (player, session) = (
        &ctx.seats[probe_seat].player,
        &ctx.seats[probe_seat].session,
    );
    let tx = id("probe");
    let body = bet_body(player, session, &id("round"), &tx, "1.00");
    let mut probe = Call::new(probe_seat, Kind::Bet, tx, &body, dec("-1.00"));
    let asked = Instant::now();
    let answer = ctx.send(&mut probe, n % 2).await;
    let took = asked.elapsed();
    faults.probes.push(probe);
    if !answer.retry_later() || took >= Duration::from_secs(1) {
        faults.failures.push(format!(
            "cycle {n}: a bet while PostgreSQL was down answered {} in {} \
             (expected 503 retry_later in under 1 s)",
            answer.label(),
            ms(took)
        ));
    }
    tokio::time::sleep(DOWN.saturating_sub(down.elapsed())).await;
    // The fault ends when PostgreSQL accepts connections again (pg_start goes on to
    // provision).
    let (started, up) = tokio::join!(cluster.start(), cluster.accepting());
    faults.ends.push((RESTART, n, up, None));
    eprintln!(
        "{LOG} {at} cycle {n} (b): PostgreSQL stopped (immediate) in {}; while down: /health/ready {}; \
         a bet answered {} in {}; down for {} until it accepted connections (pg_start took {})",
        ms(stopped),
        readiness.join(", "),
        answer.label(),
        ms(took),
        ms(up.duration_since(down)),
        ms(started)
    );
    tokio::time::sleep(GAP).await;

    // (c) every backend of the wallets is terminated.
    let admin = cluster.superuser().await;
    let at = now();
    let terminated = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'wallet'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .filter(|row| row.get::<_, bool>(0))
        .count();
    let ended = Instant::now();
    drop(admin);
    faults.ends.push((TERMINATE, n, ended, None));
    eprintln!("{LOG} {at} cycle {n} (c): terminated {terminated} wallet backends");
    if terminated == 0 {
        faults.failures.push(format!(
            "cycle {n}: no wallet backend to terminate (application_name 'wallet')"
        ));
    }
    tokio::time::sleep(GAP).await;

    // (d) PostgreSQL freezes: every process of the cluster stopped, then continued.
    let at = now();
    let stopped = cluster.signal("STOP");
    tokio::time::sleep(PAUSE).await;
    let continued = cluster.signal("CONT");
    let resumed = Instant::now();
    faults.ends.push((PAUSED, n, resumed, None));
    eprintln!(
        "{LOG} {at} cycle {n} (d): {stopped} PostgreSQL processes paused for {}, {continued} continued",
        ms(PAUSE)
    );
    if stopped < 2 {
        faults.failures.push(format!(
            "cycle {n}: found {stopped} PostgreSQL processes to pause"
        ));
    }
    tokio::time::sleep(GAP).await;
}

// ------------------------------------------------------------------ the test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_stays_exact_through_killed_processes_and_database_restarts_terminations_and_pauses()
{
    let setup = Instant::now();
    let cluster = Cluster::new();
    cluster.pg(r#"pg_init "$1""#).await;
    cluster.start().await;
    let first = free_port(61700);
    let mut wallets = [
        Wallet::new("wallet-a", &cluster, first),
        Wallet::new("wallet-b", &cluster, free_port(first + 1)),
    ];
    let http = reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    // One after the other: the first applies the migrations.
    for wallet in &mut wallets {
        wallet.spawn();
        wallet.wait_ready(&http).await;
    }
    let mut ctx = Ctx {
        http,
        bases: [wallets[0].base(), wallets[1].base()],
        seats: Vec::new(),
        successes: Successes::default(),
        stop: AtomicBool::new(false),
    };
    let seats = join_all((0..=PLAYERS).map(|i| ctx.seat(i))).await;
    ctx.seats = seats;
    let ctx = Arc::new(ctx);
    eprintln!(
        "{LOG} set up in {}: PostgreSQL on port {}, {} on {} and {} on {}",
        ms(setup.elapsed()),
        cluster.port,
        wallets[0].name,
        wallets[0].port,
        wallets[1].name,
        wallets[1].port
    );

    // The load, and the faults in cycles while it runs.
    let duration = load_duration();
    let load_started = Instant::now();
    let clients: Vec<_> = (0..PLAYERS)
        .map(|seat| tokio::spawn(client(ctx.clone(), seat)))
        .collect();
    let mut faults = Faults {
        ends: Vec::new(),
        failures: Vec::new(),
        probes: Vec::new(),
    };
    tokio::time::sleep(GAP).await;
    let mut cycles = 0;
    while cycles == 0 || load_started.elapsed() < duration {
        cycles += 1;
        cycle(&ctx, &cluster, &mut wallets, cycles, &mut faults).await;
    }
    tokio::time::sleep(duration.saturating_sub(load_started.elapsed())).await;
    ctx.stop.store(true, Ordering::Relaxed);
    let mut calls: Vec<Call> = Vec::new();
    for client in clients {
        calls.extend(client.await.expect("a client task"));
    }
    calls.append(&mut faults.probes);
    let load = load_started.elapsed();

    // The time each fault took to heal.
    let mut healed: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for &(kind, n, end, process) in &faults.ends {
        let took = match ctx.successes.first_after(end, process) {
            Some(took) => ms(took),
            None => {
                faults.failures.push(format!(
                    "cycle {n}: no money call succeeded after {kind} before the load ended"
                ));
                "none".into()
            }
        };
        healed.entry(kind).or_default().push(took);
    }
    eprintln!("{LOG} time from the fault's end to the first successful money call, per cycle:");
    for (kind, times) in &healed {
        eprintln!("{LOG}   {kind}: {}", times.join(", "));
    }

    // Both processes must still be there.
    for (process, wallet) in wallets.iter_mut().enumerate() {
        if let Some(status) = wallet.exited() {
            faults.failures.push(format!(
                "{} exited during the load ({status}):\n{}",
                wallet.name,
                wallet.log_tail()
            ));
            wallet.spawn();
            wallet.wait_ready(&ctx.http).await;
        }
        assert_eq!(wallet.base(), ctx.bases[process]);
    }

    // Resend every call without a definitive answer until it has one.
    let first_answers: BTreeMap<String, usize> =
        calls
            .iter()
            .filter(|c| c.needed_resend())
            .fold(BTreeMap::new(), |mut counts, c| {
                *counts.entry(c.answers[0].seen.label()).or_default() += 1;
                counts
            });
    let resend_deadline = Instant::now() + RESEND_DEADLINE;
    let resent = Instant::now();
    futures::stream::iter(calls.iter_mut().filter(|c| !c.settled()))
        .for_each_concurrent(16, |call| {
            let ctx = &ctx;
            async move {
                let mut process = call.answers.len();
                while Instant::now() < resend_deadline {
                    process += 1;
                    if ctx.send(call, process % 2).await.definitive() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
        .await;
    let resent_in = resent.elapsed();

    // The report.
    let needed: Vec<&Call> = calls.iter().filter(|c| c.needed_resend()).collect();
    let resends: usize = needed
        .iter()
        .map(|c| c.answers.iter().skip(1).count())
        .sum();
    let had_applied = needed
        .iter()
        .filter(|c| {
            c.answers
                .iter()
                .any(|a| matches!(a.seen, Seen::Ok { replayed: true }))
        })
        .count();
    let applied_now = needed
        .iter()
        .filter(|c| matches!(c.last(), Some(Seen::Ok { replayed: false })))
        .count();
    let mut by_kind: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
    for call in &calls {
        let entry = by_kind.entry(call.kind).or_default();
        entry.0 += 1;
        if call.applied() {
            entry.1 += 1;
        }
    }
    eprintln!(
        "{LOG} load {} with {PLAYERS} clients, {cycles} fault cycle(s): {} money calls \
         (calls, applied: {by_kind:?})",
        ms(load),
        calls.len()
    );
    eprintln!(
        "{LOG} {} calls needed a resend (first answers: {first_answers:?}); {resends} resends \
         in {}; the resend found {had_applied} already applied (replayed), applied {applied_now}",
        needed.len(),
        ms(resent_in)
    );

    // Every call has its truth, and it is one the contract allows.
    let mut unknown_players = vec![false; ctx.seats.len()];
    for call in &calls {
        match call.last() {
            Some(Seen::Ok { .. }) => {}
            Some(Seen::Refused { status: 422, code })
                if call.kind == Kind::Bet && code == "insufficient_funds" => {}
            Some(seen) if seen.definitive() => faults.failures.push(format!(
                "{:?} {} was refused: {} (its answers: {:?})",
                call.kind,
                call.tx,
                seen.label(),
                call.answers
            )),
            _ => {
                unknown_players[call.seat] = true;
                faults.failures.push(format!(
                    "{:?} {} has no definitive answer after resending until the deadline: {:?}",
                    call.kind, call.tx, call.answers
                ));
            }
        }
        if let Some(body) = &call.wrong_body {
            faults.failures.push(format!(
                "{:?} {} answered 200 with another transaction's body: {body}",
                call.kind, call.tx
            ));
        }
        // retry_later promises nothing was recorded: a call that only ever heard it
        // cannot have been applied before its next send.
        let first_ok = call
            .answers
            .iter()
            .position(|a| matches!(a.seen, Seen::Ok { .. }));
        if let Some(at) = first_ok {
            let all_retry_later = at > 0 && call.answers[..at].iter().all(|a| a.seen.retry_later());
            if all_retry_later && matches!(call.answers[at].seen, Seen::Ok { replayed: true }) {
                faults.failures.push(format!(
                    "{:?} {} answered 503 retry_later, yet its resend was a replay of a recorded \
                     outcome: {:?}",
                    call.kind, call.tx, call.answers
                ));
            }
        }
    }

    // Every balance is the deposit plus the effects of the applied calls.
    let mut expected = vec![dec(DEPOSIT); ctx.seats.len()];
    for call in calls.iter().filter(|c| c.applied()) {
        expected[call.seat] += call.effect;
    }
    for (i, seat) in ctx.seats.iter().enumerate() {
        if unknown_players[i] {
            continue;
        }
        for (process, wallet) in wallets.iter().enumerate() {
            let cash = ctx.cash(process, &seat.player).await;
            if cash != expected[i] {
                faults.failures.push(format!(
                    "the cash of {} is {cash} on {}, the answers account for {}",
                    seat.player, wallet.name, expected[i]
                ));
            }
        }
    }

    // Every applied call is in the ledger once, no refused one, and nothing else.
    let pool = wallet::db::single_connection_pool(&cluster.wallet_url(), "wallet-test").unwrap();
    let client = wallet::db::acquire(&pool).await.unwrap();
    let rows = client
        .query(
            "SELECT transaction_id, count(*) FROM transactions WHERE provider_id = 'demo' \
             GROUP BY transaction_id",
            &[],
        )
        .await
        .unwrap();
    let mut ledger: HashMap<String, i64> = rows
        .iter()
        .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)))
        .collect();
    for call in calls.iter().filter(|c| c.settled()) {
        let count = ledger.remove(&call.tx).unwrap_or(0);
        let want = i64::from(call.applied());
        if count != want {
            faults.failures.push(format!(
                "{:?} {} is in the ledger {count} times, its answers say {want}: {:?}",
                call.kind, call.tx, call.answers
            ));
        }
    }
    let unsettled: Vec<&str> = calls
        .iter()
        .filter(|c| !c.settled())
        .map(|c| c.tx.as_str())
        .collect();
    ledger.retain(|tx, _| !unsettled.contains(&tx.as_str()));
    if !ledger.is_empty() {
        faults.failures.push(format!(
            "{} ledger rows of demo belong to no call of this test: {:?}",
            ledger.len(),
            ledger.keys().take(10).collect::<Vec<_>>()
        ));
    }
    let discrepancies = wallet::db::health::reconcile(&client).await.unwrap();
    if !discrepancies.is_empty() {
        faults.failures.push(format!(
            "balances differ from the ledger: {discrepancies:?}"
        ));
    }
    let violations = wallet::db::health::rule_violations(&client).await.unwrap();
    if !violations.is_empty() {
        faults
            .failures
            .push(format!("money rules broken: {violations:?}"));
    }

    // What the processes logged (warn and above); a panic is a failure.
    for wallet in &wallets {
        let text = std::fs::read_to_string(&wallet.log).unwrap_or_default();
        let mut levels: BTreeMap<&str, usize> = BTreeMap::new();
        for line in text.lines() {
            for level in ["WARN", "ERROR"] {
                if line.contains(level) {
                    *levels.entry(level).or_default() += 1;
                }
            }
            if line.contains("panicked") {
                faults
                    .failures
                    .push(format!("{} panicked: {line}", wallet.name));
            }
        }
        eprintln!("{LOG} {} logged {levels:?}", wallet.name);
    }

    assert!(
        calls.iter().filter(|c| c.applied()).count() > PLAYERS,
        "the load applied almost nothing"
    );
    assert!(
        faults.failures.is_empty(),
        "{} problems:\n{}",
        faults.failures.len(),
        faults.failures.join("\n")
    );
}
