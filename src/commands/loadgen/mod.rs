//! `wallet loadgen`: a game-provider simulator that signs its calls like a real provider,
//! creates and funds its own players, drives bets, wins and rollbacks over HTTP, and ends
//! with a report and a money check (balances against its own model, plus reconciliation).

mod args;
mod client;
mod model;
mod report;
mod wire;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{stream, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::json;

pub use args::LoadgenArgs;
pub use report::{Correlation, Latency, MoneyCheck, Report, ServerCounters};
pub use wire::Protocol;

use client::Client;
use model::{parse_minor, Player, Sim, FUNDING_MINOR};
use wire::Dialect;

/// Operator calls in flight during set-up and read-back.
const SETUP_CONCURRENCY: usize = 32;

/// The CLI: runs, prints, and exits non-zero when the money check fails.
pub async fn main(args: LoadgenArgs) -> anyhow::Result<ExitCode> {
    let json = args.json;
    let report = run(args).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print_human();
    }
    Ok(if report.money_check.clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The library entry point: set up players, drive the load, check the money.
pub async fn run(args: LoadgenArgs) -> anyhow::Result<Report> {
    let in_flight = args.burst.unwrap_or(args.concurrency).max(1);
    let dialect = Dialect::new(
        args.protocol,
        &args.provider_secret,
        &args.hub88_key,
        &args.evolution_token,
    )?;
    let client = Client::new(
        &args.url,
        &args.operator_token,
        args.provider(),
        dialect,
        args.client_tries,
        in_flight * 2,
    )?;
    let run_id = format!("lg{}-{}", args.seed, chrono::Utc::now().timestamp_millis());
    let players = create_players(&client, &run_id, &args).await?;
    let sim = Arc::new(Sim {
        client,
        players,
        run_id,
        seed: args.seed,
        game_id: "loadgen-slots".to_owned(),
        currency: args.currency.clone(),
        duplicate_share: args.duplicate_share,
        win_before_bet_share: args.win_before_bet_share,
        rollback_share: args.rollback_share,
        sequential_ids: args.sequential_ids,
        wins: Mutex::new(Vec::new()),
    });

    let before = scrape(&sim.client).await;
    let started = Instant::now();
    let rounds = drive(&sim, &args, in_flight).await;
    let elapsed_s = started.elapsed().as_secs_f64().max(1e-6);
    let after = scrape(&sim.client).await;

    let correlation = check_correlation(&sim).await;
    let money_check = check_money(&sim, args.database_url.as_deref()).await?;

    let stats = sim.client.stats.lock().unwrap();
    let (latency, latency_by_kind, ops_per_s, success_rate) = Report::from_stats(&stats, elapsed_s);
    Ok(Report {
        mode: match (args.burst, args.hot_players) {
            (Some(n), Some(k)) => format!("burst of {n} on {k} hot player(s)"),
            (Some(n), None) => format!("burst of {n}"),
            (None, Some(k)) => format!("sustained on {k} hot player(s)"),
            (None, None) => "sustained".to_owned(),
        },
        protocol: args.protocol,
        provider_id: args.provider().to_owned(),
        url: args.url.clone(),
        concurrency: in_flight,
        players: sim.players.len(),
        seed: args.seed,
        elapsed_s: report::round1(elapsed_s * 10.0) / 10.0,
        rounds,
        calls: stats.calls(),
        calls_per_s: report::round1(stats.calls() as f64 / elapsed_s),
        ops_per_s,
        latency,
        latency_by_kind,
        status_counts: stats.statuses.clone(),
        replayed: stats.replayed,
        server_errors_5xx: stats.server_errors,
        retry_later: stats.retry_later,
        client_retries: stats.client_retries,
        resent_calls: stats.resent_calls,
        unresolved_calls: stats.unresolved_calls,
        transport_errors: stats.transport_errors,
        client_signing_mean_us: if stats.signed_calls == 0 {
            None
        } else {
            Some(report::round1(
                stats.signing_micros as f64 / stats.signed_calls as f64,
            ))
        },
        success_rate,
        server: after.minus(&before),
        correlation,
        money_check,
    })
}

async fn scrape(client: &Client) -> ServerCounters {
    match client.metrics().await {
        Ok(text) => ServerCounters::parse(&text),
        Err(_) => ServerCounters::default(),
    }
}

/// Creates, funds and opens a session for every player of the run.
async fn create_players(
    client: &Client,
    run_id: &str,
    args: &LoadgenArgs,
) -> anyhow::Result<Vec<Player>> {
    let count = args.player_count();
    let results: Vec<anyhow::Result<Player>> = stream::iter(0..count)
        .map(|i| create_player(client, format!("{run_id}-p{i}"), args))
        .buffered(SETUP_CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

async fn create_player(client: &Client, id: String, args: &LoadgenArgs) -> anyhow::Result<Player> {
    let expect = |what: &str, got: (u16, serde_json::Value), want: u16| {
        anyhow::ensure!(got.0 == want, "{what} for {id}: {} {}", got.0, got.1);
        Ok(got.1)
    };
    let created = client
        .operator(
            Method::POST,
            "/v1/players",
            Some(&json!({"player_id": id, "currency": args.currency})),
        )
        .await
        .context("create a player (is the wallet running at --url?)")?;
    expect("create", created, 201)?;
    let deposit = json!({
        "transaction_id": format!("{id}-funding"),
        "amount": model::format_minor(FUNDING_MINOR),
    });
    let funded = client
        .operator(
            Method::POST,
            &format!("/v1/players/{id}/deposits"),
            Some(&deposit),
        )
        .await?;
    expect("deposit", funded, 200)?;
    let session = json!({
        "player_id": id,
        "provider_id": client.provider_id(),
        "game_id": "loadgen-slots",
        "ttl_seconds": 86_400,
    });
    let opened = client
        .operator(Method::POST, "/v1/sessions", Some(&session))
        .await?;
    let body = expect("session", opened, 201)?;
    let session_id = body["session_id"].as_str().unwrap_or_default().to_owned();
    Ok(Player {
        id,
        session_id,
        delta_minor: AtomicI64::new(0),
    })
}

/// Plays rounds until the duration, call count or round count is reached. Sustained mode
/// keeps `in_flight` rounds going; burst mode starts waves of `in_flight` rounds at once.
async fn drive(sim: &Arc<Sim>, args: &LoadgenArgs, in_flight: usize) -> u64 {
    let deadline = args.duration_limit().map(|d| Instant::now() + d);
    let round_limit = args.round_limit();
    let operations = args.operations;
    let next_round = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let progress = progress_bar(args, deadline.is_some(), round_limit.or(operations));

    let more = {
        let sim = Arc::clone(sim);
        let next_round = Arc::clone(&next_round);
        let stop = Arc::clone(&stop);
        move || -> Option<u64> {
            if stop.load(Ordering::Relaxed)
                || deadline.is_some_and(|d| Instant::now() >= d)
                || operations.is_some_and(|n| sim.client.stats.lock().unwrap().calls() >= n)
            {
                return None;
            }
            let round = next_round.fetch_add(1, Ordering::Relaxed);
            if round_limit.is_some_and(|n| round >= n) {
                return None;
            }
            Some(round)
        }
    };
    let ticker = spawn_ticker(
        sim,
        progress.clone(),
        deadline.is_some(),
        round_limit.is_some(),
        &next_round,
    );

    let players = sim.players.len() as u64;
    let player_of = move |round: u64| usize::try_from(round % players).unwrap_or(0);
    if args.burst.is_some() {
        'waves: loop {
            let mut wave = Vec::with_capacity(in_flight);
            for _ in 0..in_flight {
                let Some(round) = more() else {
                    break;
                };
                let sim = Arc::clone(sim);
                wave.push(tokio::spawn(async move {
                    sim.play_round(player_of(round), round).await
                }));
            }
            let done = wave.len() < in_flight;
            for task in wave {
                let _ = task.await;
            }
            if done {
                break 'waves;
            }
        }
    } else {
        let workers: Vec<_> = (0..in_flight)
            .map(|_| {
                let sim = Arc::clone(sim);
                let more = more.clone();
                tokio::spawn(async move {
                    while let Some(round) = more() {
                        sim.play_round(player_of(round), round).await;
                    }
                })
            })
            .collect();
        for worker in workers {
            let _ = worker.await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    ticker.abort();
    progress.finish_and_clear();
    let started = next_round.load(Ordering::Relaxed);
    round_limit.map_or(started, |n| started.min(n))
}

fn progress_bar(args: &LoadgenArgs, timed: bool, count: Option<u64>) -> ProgressBar {
    if args.json || args.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (length, template) = match (timed, count) {
        (true, _) => (
            tenths(args.duration.unwrap_or(0.0)),
            "{spinner} [{elapsed_precise}] {bar:40} {msg}",
        ),
        (false, Some(n)) => (
            n,
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
        ),
        (false, None) => (0, "{spinner} [{elapsed_precise}] {msg}"),
    };
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Updates the progress bar ten times a second with calls/s and error counts.
fn spawn_ticker(
    sim: &Arc<Sim>,
    bar: ProgressBar,
    timed: bool,
    by_rounds: bool,
    next_round: &Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    let sim = Arc::clone(sim);
    let next_round = Arc::clone(next_round);
    let started = Instant::now();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            let (calls, errors) = {
                let s = sim.client.stats.lock().unwrap();
                (s.calls(), s.server_errors + s.transport_errors)
            };
            let rate = calls as f64 / started.elapsed().as_secs_f64().max(1e-3);
            if timed {
                bar.set_position(tenths(started.elapsed().as_secs_f64()));
            } else if by_rounds {
                bar.set_position(next_round.load(Ordering::Relaxed));
            } else {
                bar.set_position(calls);
            }
            bar.set_message(format!("{calls} calls, {rate:.0}/s, {errors} errors"));
        }
    })
}

/// Reads every win back through the operator API (by its ledger id, which the protocol
/// may derive) and compares its recorded bet with the one the simulator meant.
async fn check_correlation(sim: &Sim) -> Correlation {
    let wins = sim.wins.lock().unwrap().clone();
    let provider = sim.client.provider_id().to_owned();
    let correct: u64 = stream::iter(wins.iter())
        .map(|(win_tx, bet_tx)| {
            let path = format!("/v1/providers/{provider}/transactions/{win_tx}");
            async move {
                match sim.client.operator(Method::GET, &path, None).await {
                    Ok((200, body)) => {
                        u64::from(body["reference_transaction_id"].as_str() == Some(bet_tx))
                    }
                    _ => 0,
                }
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .fold(0, |acc, x| async move { acc + x })
        .await;
    let checked = wins.len() as u64;
    Correlation {
        checked,
        correct,
        accuracy: if checked == 0 {
            1.0
        } else {
            correct as f64 / checked as f64
        },
    }
}

/// Every player's balance against the model, then the reconciliation query if a
/// database URL was given.
async fn check_money(sim: &Sim, database_url: Option<&str>) -> anyhow::Result<MoneyCheck> {
    let results: Vec<(String, i64, Option<i64>)> = stream::iter(sim.players.iter())
        .map(|p| async move {
            let expected = FUNDING_MINOR + p.delta_minor.load(Ordering::Relaxed);
            let actual = match sim
                .client
                .operator(Method::GET, &format!("/v1/players/{}", p.id), None)
                .await
            {
                Ok((200, body)) => body["balance"]["total"].as_str().and_then(parse_minor),
                _ => None,
            };
            (p.id.clone(), expected, actual)
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    let bad: Vec<_> = results
        .into_iter()
        .filter(|(_, expected, actual)| Some(*expected) != *actual)
        .collect();
    let (reconciliation_clean, reconciliation_discrepancies) = match database_url {
        None => (None, None),
        Some(url) => {
            let pool = crate::db::single_connection_pool(url, "wallet-loadgen")?;
            let client = crate::db::acquire(&pool).await?;
            let rows = crate::db::health::reconcile(&client).await?;
            (Some(rows.is_empty()), Some(rows.len() as u64))
        }
    };
    Ok(MoneyCheck {
        players: sim.players.len() as u64,
        mismatches: bad.len() as u64,
        examples: bad.iter().take(5).cloned().collect(),
        reconciliation_clean,
        reconciliation_discrepancies,
        clean: bad.is_empty() && reconciliation_clean != Some(false),
    })
}

/// Seconds as whole tenths, for the progress bar (negative and NaN count as zero).
fn tenths(seconds: f64) -> u64 {
    let tenths = (seconds * 10.0).round();
    if tenths.is_finite() && tenths > 0.0 {
        // Float-to-int `as` saturates; progress never needs more than 2^53 tenths.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = tenths as u64;
        whole
    } else {
        0
    }
}
