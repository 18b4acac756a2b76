//! A model-based property test of the money rules: long random sequences of provider
//! and operator calls run through the real HTTP API and through a reference model of
//! the contract (`model/reference.rs`); after every step the server must have answered
//! as the model allows (status, error code, balance, replays) and every player's balance
//! must be the model's. At the end of each case the ledger must reconcile and list every
//! accepted money call.
//!
//! The normal suite runs a fixed-seed slice (16 cases of up to 40 steps). A longer run:
//!
//! ```text
//! WALLET_MODEL_CASES=2000 ./scripts/test.sh model
//! ```
//!
//! Environment: `WALLET_MODEL_CASES` (default 16), `WALLET_MODEL_STEPS` (most steps per
//! case, default 40), `WALLET_MODEL_SEED` (a number, or `random`; default fixed),
//! `WALLET_MODEL_SHRINK` (most shrink iterations after a failure, default 256).
//!
//! A failure prints the shrunk case as the sequence of HTTP calls it made, ids without
//! their per-case prefix and sessions as S0, S1, ..., with the answers the model allowed.

mod known;
mod reference;
mod steps;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use futures::future::join_all;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};
use reference::{
    balance_json, decimal, Branch, Call, Category, Currency, Expect, Fresh, Model, BALANCE_MAX,
};
use steps::{Action, Case, Names, Sent, Spelling, PROVIDERS};

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}")),
        Err(_) => default,
    }
}

fn seed() -> u64 {
    match std::env::var("WALLET_MODEL_SEED").as_deref() {
        Ok("random") => {
            let seed = rand::random();
            eprintln!("[model] WALLET_MODEL_SEED={seed}");
            seed
        }
        Ok(v) => v.parse().expect("WALLET_MODEL_SEED: a number or `random`"),
        Err(_) => 0x5eed_2026_0001,
    }
}

/// How often each answer and each open point of the contract came up, for the report.
static TALLY: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
static CASE: AtomicU64 = AtomicU64::new(0);
static REQUESTS: AtomicU64 = AtomicU64::new(0);
static STEPS: AtomicU64 = AtomicU64::new(0);

fn tally(key: String) {
    *TALLY.lock().unwrap().entry(key).or_default() += 1;
}

#[test]
fn the_wallet_answers_every_call_as_the_reference_model_of_the_contract_does() {
    let cases = u32::try_from(env_number("WALLET_MODEL_CASES", 16)).unwrap_or(u32::MAX);
    let max_steps = usize::try_from(env_number("WALLET_MODEL_STEPS", 40)).unwrap_or(usize::MAX);
    let shrink = u32::try_from(env_number("WALLET_MODEL_SHRINK", 256)).unwrap_or(u32::MAX);
    let seed = seed();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(TestApp::spawn_with(|s| s.ledger.correlation_wait_ms = 0));
    let config = Config {
        cases,
        max_shrink_iters: shrink,
        failure_persistence: None,
        ..Config::default()
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let started = std::time::Instant::now();
    let result = runner.run(&steps::case(max_steps), |case| {
        runtime
            .block_on(run_case(&app, &case))
            .map_err(TestCaseError::fail)
    });
    let tally = std::mem::take(&mut *TALLY.lock().unwrap());
    let lines: Vec<String> = tally
        .iter()
        .map(|(k, n)| format!("  {n:>6}  {k}"))
        .collect();
    eprintln!(
        "[model] seed {seed}: {} case runs, {} steps, {} HTTP requests in {:.1?}; answers and open points:\n{}",
        CASE.load(Ordering::Relaxed),
        STEPS.load(Ordering::Relaxed),
        REQUESTS.load(Ordering::Relaxed),
        started.elapsed(),
        lines.join("\n")
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => {
            panic!("the server disagrees with the model.\n{reason}\n\nshrunk case: {case:#?}")
        }
        Err(TestError::Abort(reason)) => panic!("proptest aborted: {reason}"),
    }
}

/// One case against the shared app, in a namespace of its own (fresh players, ids with
/// the case's prefix).
async fn run_case(app: &TestApp, case: &Case) -> Result<(), String> {
    let mut run = Run::new(app, case.players.len());
    run.setup(case).await?;
    for step in &case.steps {
        STEPS.fetch_add(1, Ordering::Relaxed);
        match steps::concretize(step, &run.names, &run.model, &run.history) {
            Action::Skip => continue,
            Action::Call(sent) => run.call(sent).await?,
            Action::OpenSession {
                player,
                provider,
                game,
            } => run.open_session(&player, &provider, &game).await?,
        }
        run.check_players().await?;
    }
    run.finish().await
}

struct Run<'a> {
    app: &'a TestApp,
    names: Names,
    model: Model,
    /// The calls made so far, for resends.
    history: Vec<Sent>,
    transcript: Vec<String>,
}

impl<'a> Run<'a> {
    /// A run in a namespace of its own: fresh players, ids with the run's prefix.
    fn new(app: &'a TestApp, players: usize) -> Run<'a> {
        let n = CASE.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("m{n}-");
        Run {
            app,
            names: Names {
                prefix: prefix.clone(),
                players: (0..players).map(|i| format!("{prefix}p{i}")).collect(),
                fresh: Default::default(),
            },
            model: Model::default(),
            history: vec![],
            transcript: vec![],
        }
    }

    async fn setup(&mut self, case: &Case) -> Result<(), String> {
        for (i, setup) in case.players.iter().enumerate() {
            let id = self.names.players[i].clone();
            let currency = steps::setup_currency(i, setup);
            let reply = self
                .app
                .operator(
                    Method::POST,
                    "/v1/players",
                    Some(json!({"player_id": id, "currency": currency.code})),
                )
                .await;
            if reply.status != 201 {
                return Err(self.fail(&format!("creating {id}: {} {}", reply.status, reply.body)));
            }
            self.log(format!("create player {id} in {}", currency.code));
            self.model.add_player(&id, currency);
            for (category, minor) in [(Category::Cash, setup.cash), (Category::Bonus, setup.bonus)]
            {
                if minor > 0 {
                    let tx = format!("{}init-{i}-{}", self.names.prefix, category.as_str());
                    self.call_quietly(deposit(&tx, &id, u128::from(minor), category))
                        .await?;
                }
            }
            for (category, near) in [
                (Category::Cash, setup.near_limit_cash),
                (Category::Bonus, setup.near_limit_bonus),
            ] {
                if let Some(near) = near {
                    self.near_limit(i, &id, category, BALANCE_MAX - near.gap())
                        .await?;
                }
            }
        }
        for &(player, provider, game) in &case.sessions {
            let player = self.names.player(player);
            let provider = PROVIDERS[usize::from(provider) % PROVIDERS.len()].0;
            let game = steps::GAMES[usize::from(game) % steps::GAMES.len()];
            self.open_session(&player, provider, game).await?;
        }
        self.check_players().await
    }

    /// Brings `category` of the player to `target` minor units: one real deposit (a
    /// template ledger row) and a copy of it written into the database with the rest,
    /// since 2^62 is thousands of calls of at most 10^15.
    async fn near_limit(
        &mut self,
        i: usize,
        player: &str,
        category: Category,
        target: u128,
    ) -> Result<(), String> {
        let template = format!("{}seed-{i}-{}", self.names.prefix, category.as_str());
        self.call_quietly(deposit(&template, player, 1, category))
            .await?;
        let have = match category {
            Category::Cash => self.model.players[player].balance.cash,
            Category::Bonus => self.model.players[player].balance.bonus,
        };
        let rest = target - have;
        let copy = format!("{template}-rest");
        let rest_i64 = i64::try_from(rest).unwrap();
        let id = uuid::Uuid::now_v7();
        let mut db = self.app.db().await;
        let t = db.transaction().await.unwrap();
        let inserted = t
            .execute(
                "INSERT INTO transactions \
                 SELECT (jsonb_populate_record(t, jsonb_build_object( \
                    'id', $3::uuid, 'transaction_id', $2::text, 'amount', $4::bigint, \
                    'split', jsonb_build_object($5::text, to_jsonb($4::bigint)), \
                    'balance_after', jsonb_set(t.balance_after, ARRAY[$5::text], \
                        to_jsonb((t.balance_after ->> $5::text)::bigint + $4::bigint)), \
                    'seq', t.seq + 1))).* \
                 FROM transactions t WHERE t.transaction_id = $1 AND t.player_id = $6",
                &[
                    &template,
                    &copy,
                    &id,
                    &rest_i64,
                    &category.as_str(),
                    &player,
                ],
            )
            .await
            .map_err(|e| format!("seeding a balance near 2^62: {e}"))?;
        assert_eq!(
            inserted, 1,
            "the template deposit {template} is in the ledger"
        );
        // The copy's idempotency record, as every ledger row has one.
        t.execute(
            "INSERT INTO idempotency_keys (key, fingerprint, ledger_id) \
             SELECT call_key(provider_id, transaction_id), '\\x00', id \
             FROM transactions WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(|e| format!("seeding a balance near 2^62: {e}"))?;
        // The template is the player's last row: the copy follows it in the player's
        // ledger sequence, as `wallet check-ledger`'s balance chain requires.
        t.execute(
            "UPDATE players SET ledger_seq = ledger_seq + 1 WHERE player_id = $1",
            &[&player],
        )
        .await
        .map_err(|e| format!("seeding a balance near 2^62: {e}"))?;
        let updated = t
            .execute(
                "UPDATE balances SET amount = amount + $3 WHERE player_id = $1 AND category = $2",
                &[&player, &category.as_str(), &rest_i64],
            )
            .await
            .map_err(|e| format!("seeding a balance near 2^62: {e}"))?;
        assert_eq!(
            updated,
            1,
            "the player has a {} balance row",
            category.as_str()
        );
        t.commit().await.unwrap();
        self.model.seed(&copy, player, category, rest);
        self.log(format!(
            "(fixture: {player}'s {} set to 2^62 - {} minor units in the database)",
            category.as_str(),
            BALANCE_MAX - target
        ));
        Ok(())
    }

    async fn open_session(
        &mut self,
        player: &str,
        provider: &str,
        game: &str,
    ) -> Result<(), String> {
        let body = json!({"player_id": player, "provider_id": provider, "game_id": game});
        let reply = self
            .app
            .operator(Method::POST, "/v1/sessions", Some(body.clone()))
            .await;
        let id = reply.body["session_id"].as_str().map(str::to_owned);
        match (reply.status.as_u16(), id) {
            (201, Some(id)) => {
                self.model.add_session(&id, player, provider, game);
                self.log(format!("POST /v1/sessions {body} -> 201 {id}"));
                Ok(())
            }
            _ => Err(self.fail(&format!(
                "opening a session {body}: {} {}",
                reply.status, reply.body
            ))),
        }
    }

    /// A setup call: checked like a step, kept out of the resend history.
    async fn call_quietly(&mut self, sent: Sent) -> Result<(), String> {
        self.call(sent).await?;
        self.history.pop();
        Ok(())
    }

    /// Sends one call, requires an answer the model allows, moves the model along it.
    async fn call(&mut self, sent: Sent) -> Result<(), String> {
        let branches = self.model.branches(&sent.call);
        let (line, reply) = self.send(&sent).await;
        let reference = self.reference_of(&sent.call, &reply, &branches).await;
        let mut mismatches = vec![];
        let mut chosen = None;
        for (i, branch) in branches.iter().enumerate() {
            match check(&branch.expect, &reply, reference.as_ref()) {
                Ok(()) => {
                    chosen = Some(i);
                    break;
                }
                Err(why) => mismatches.push(why),
            }
        }
        self.log(format!(
            "{line} -> {} {}{}",
            reply.status.as_u16(),
            compact(&reply.body),
            if reply.replayed() { " [replayed]" } else { "" }
        ));
        let Some(i) = chosen else {
            let allowed: Vec<String> = branches
                .iter()
                .zip(&mismatches)
                .map(|(b, why)| format!("  - {} ({why})", describe(&b.expect)))
                .collect();
            return Err(self.fail(&format!(
                "the last call's answer is not one the model allows:\n{}",
                allowed.join("\n")
            )));
        };
        let endpoint = endpoint_name(&sent.call);
        let answer = format!(
            "{endpoint} {}{}{}",
            reply.status.as_u16(),
            if reply.code().is_empty() {
                String::new()
            } else {
                format!(" {}", reply.code())
            },
            if reply.replayed() { " (replay)" } else { "" }
        );
        tally(answer.clone());
        let branch: Branch = branches.into_iter().nth(i).unwrap();
        if !branch.note.is_empty() {
            tally(format!("open point: {} -> took {answer}", branch.note));
        }
        self.model = branch.settle(reply.status.as_u16(), &reply.body);
        self.history.push(sent);
        Ok(())
    }

    /// The `reference_transaction_id` of a win the server just accepted.
    async fn reference_of(&self, call: &Call, reply: &Reply, branches: &[Branch]) -> Option<Value> {
        let Call::Win(w) = call else { return None };
        let wanted = branches.iter().any(|b| {
            matches!(
                &b.expect,
                Expect::Fresh(Fresh {
                    reference: Some(_),
                    ..
                })
            )
        });
        if !wanted || reply.status != 200 || reply.replayed() {
            return None;
        }
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        let item = self
            .app
            .viewer(&format!(
                "/v1/providers/{}/transactions/{}",
                w.provider, w.tx
            ))
            .await;
        Some(if item.status == 200 {
            item.body["reference_transaction_id"].clone()
        } else {
            json!(format!(
                "(GET of the win answered {} {})",
                item.status, item.body
            ))
        })
    }

    async fn send(&self, sent: &Sent) -> (String, Reply) {
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        let app = self.app;
        let provider = |endpoint: &'static str, provider: &str, body: Value| {
            let secret = PROVIDERS
                .iter()
                .find(|(p, _)| *p == provider)
                .map(|(_, s)| *s)
                .unwrap();
            let line = format!("{provider} POST /v1/wallet/{endpoint} {}", compact(&body));
            let provider = provider.to_owned();
            async move {
                let reply = app.provider_as(&provider, secret, endpoint, body).await;
                (line, reply)
            }
        };
        let operator = |method: Method, path: String, body: Option<Value>| async move {
            let line = format!(
                "{method} {path}{}",
                body.as_ref()
                    .map(|b| format!(" {}", compact(b)))
                    .unwrap_or_default()
            );
            (line, app.operator(method, &path, body).await)
        };
        let currency_of = |player: &str| {
            self.model
                .player(player)
                .map_or(reference::EUR, |p| p.currency)
        };
        match &sent.call {
            Call::Bet(b) => {
                let body = json!({
                    "transaction_id": b.tx,
                    "player_id": b.player,
                    "session_id": b.session,
                    "round_id": b.round,
                    "game_id": b.game,
                    "amount": amount_json(b.minor, b.currency, sent.spelling),
                    "currency": b.currency.code,
                });
                provider("bet", &b.provider, body).await
            }
            Call::Win(w) => {
                let mut body = json!({
                    "transaction_id": w.tx,
                    "player_id": w.player,
                    "round_id": w.round,
                    "game_id": w.game,
                    "amount": amount_json(w.minor, w.currency, sent.spelling),
                    "currency": w.currency.code,
                });
                if let Some(kind) = w.kind {
                    body["kind"] = json!(kind.as_str());
                }
                if let Some(bet) = &w.bet {
                    body["bet_transaction_id"] = json!(bet);
                }
                if let Some(session) = &w.session {
                    body["session_id"] = json!(session);
                }
                if let Some(closed) = w.round_closed {
                    body["round_closed"] = json!(closed);
                }
                provider("win", &w.provider, body).await
            }
            Call::Rollback(r) => {
                let mut body = json!({
                    "transaction_id": r.tx,
                    "player_id": r.player,
                    "reference_transaction_id": r.reference,
                });
                if let Some(round) = &r.round {
                    body["round_id"] = json!(round);
                }
                provider("rollback", &r.provider, body).await
            }
            Call::Balance {
                provider: p,
                player,
                session,
            } => {
                let mut body = json!({"player_id": player});
                if let Some(session) = session {
                    body["session_id"] = json!(session);
                }
                provider("balance", p, body).await
            }
            Call::Deposit(d) => {
                let mut body = json!({
                    "transaction_id": d.tx,
                    "amount": amount_json(d.minor, currency_of(&d.player), sent.spelling),
                });
                if let Some(category) = d.category {
                    body["category"] = json!(category.as_str());
                }
                operator(
                    Method::POST,
                    format!("/v1/players/{}/deposits", d.player),
                    Some(body),
                )
                .await
            }
            Call::Withdrawal(w) => {
                let body = json!({
                    "transaction_id": w.tx,
                    "amount": amount_json(w.minor, currency_of(&w.player), sent.spelling),
                });
                operator(
                    Method::POST,
                    format!("/v1/players/{}/withdrawals", w.player),
                    Some(body),
                )
                .await
            }
            Call::SetStatus { player, blocked } => {
                let status = if *blocked { "blocked" } else { "active" };
                operator(
                    Method::PATCH,
                    format!("/v1/players/{player}"),
                    Some(json!({"status": status})),
                )
                .await
            }
            Call::ExpireSession { session } => {
                operator(Method::DELETE, format!("/v1/sessions/{session}"), None).await
            }
        }
    }

    /// Every player's balance and status as the operator API shows them.
    async fn check_players(&mut self) -> Result<(), String> {
        let players: Vec<(String, reference::Player)> = self
            .model
            .players
            .iter()
            .map(|(id, p)| (id.clone(), p.clone()))
            .collect();
        let app = &self.app;
        REQUESTS.fetch_add(players.len() as u64, Ordering::Relaxed);
        let replies = join_all(players.iter().map(|(id, _)| {
            let path = format!("/v1/players/{id}");
            async move { app.viewer(&path).await }
        }))
        .await;
        for ((id, p), reply) in players.iter().zip(replies) {
            let want_balance = balance_json(p.balance, p.currency);
            let want_status = if p.blocked { "blocked" } else { "active" };
            if reply.status != 200
                || reply.body["balance"] != want_balance
                || reply.body["status"] != want_status
                || reply.body["currency"] != p.currency.code
            {
                return Err(self.fail(&format!(
                    "GET /v1/players/{id} -> {} {}\n  the model has {want_status}, {} {want_balance}",
                    reply.status,
                    compact(&reply.body),
                    p.currency.code
                )));
            }
        }
        Ok(())
    }

    /// The ledger reconciles, keeps every money rule `wallet check-ledger` checks, and
    /// lists exactly the accepted money calls.
    async fn finish(&mut self) -> Result<(), String> {
        let discrepancies = self.app.discrepancies().await;
        if !discrepancies.is_empty() {
            return Err(self.fail(&format!("the ledger does not reconcile: {discrepancies:?}")));
        }
        let pool = wallet::db::single_connection_pool(&self.app.database_url, "wallet-test")
            .map_err(|e| self.fail(&format!("connect for the rule checks: {e}")))?;
        let client = wallet::db::acquire(&pool)
            .await
            .map_err(|e| self.fail(&format!("connect for the rule checks: {e}")))?;
        let violations = wallet::db::health::rule_violations(&client)
            .await
            .map_err(|e| self.fail(&format!("the rule checks failed: {e}")))?;
        if !violations.is_empty() {
            return Err(self.fail(&format!("the ledger breaks money rules: {violations:?}")));
        }
        let players: Vec<String> = self.model.players.keys().cloned().collect();
        for player in players {
            let mut listed = 0;
            let mut cursor: Option<String> = None;
            loop {
                let path = match &cursor {
                    Some(c) => format!("/v1/players/{player}/transactions?limit=100&cursor={c}"),
                    None => format!("/v1/players/{player}/transactions?limit=100"),
                };
                let page = self.app.viewer(&path).await;
                if page.status != 200 {
                    return Err(self.fail(&format!("GET {path} -> {} {}", page.status, page.body)));
                }
                listed += page.body["items"].as_array().map_or(0, Vec::len);
                match page.body["next_cursor"].as_str() {
                    Some(c) if !c.is_empty() => cursor = Some(c.to_owned()),
                    _ => break,
                }
            }
            let accepted = self.model.entries_of(&player);
            if listed != accepted {
                return Err(self.fail(&format!(
                    "{player}'s transaction list has {listed} items; the model accepted {accepted} money calls"
                )));
            }
        }
        Ok(())
    }

    fn log(&mut self, line: String) {
        self.transcript.push(line);
    }

    /// The failure message: the whole case so far, readable.
    fn fail(&self, what: &str) -> String {
        let mut text = String::from("calls of the case (ids without their prefix):\n");
        for (i, line) in self.transcript.iter().enumerate() {
            text.push_str(&format!("{i:>4}  {line}\n"));
        }
        text.push_str(what);
        let mut text = text.replace(&self.names.prefix, "");
        for (i, s) in self.model.sessions.iter().enumerate() {
            text = text.replace(&s.id, &format!("S{i}"));
        }
        text.replace(steps::BOGUS_SESSION, "S-bogus")
    }
}

fn deposit(tx: &str, player: &str, minor: u128, category: Category) -> Sent {
    Sent {
        call: Call::Deposit(reference::DepositCall {
            tx: tx.to_owned(),
            player: player.to_owned(),
            minor,
            category: Some(category),
        }),
        spelling: 0,
    }
}

/// `minor` in `currency` written one of three ways: at the scale, with one more zero,
/// or as a JSON number (when that is exact).
fn amount_json(minor: u128, currency: Currency, spelling: Spelling) -> Value {
    let plain = decimal(minor, currency.scale);
    let unit = 10u128.pow(currency.scale);
    match spelling % 3 {
        0 => json!(plain),
        1 if currency.scale == 0 => json!(format!("{plain}.0")),
        1 => json!(format!("{plain}0")),
        _ if minor % unit == 0 && minor <= 1 << 53 => {
            json!(u64::try_from(minor / unit).unwrap_or(u64::MAX))
        }
        // A double prints as the shortest text that reads back as itself: for up to
        // 15 significant digits that is the decimal itself.
        _ if minor < 10u128.pow(13) => json!(minor as f64 / unit as f64),
        _ => json!(plain),
    }
}

/// Whether `reply` is the answer `expect` describes; else why not.
fn check(expect: &Expect, reply: &Reply, reference: Option<&Value>) -> Result<(), String> {
    let status = reply.status.as_u16();
    match expect {
        Expect::Replay { status: want, body } => {
            if status != *want || reply.body != *body || !reply.replayed() {
                return Err(format!(
                    "wanted the recorded {want} {} again with idempotent-replayed: true",
                    compact(body)
                ));
            }
            Ok(())
        }
        Expect::Fresh(f) => {
            if status != f.status {
                return Err(format!("status {status}"));
            }
            if reply.replayed() {
                return Err("a replay of a call never recorded".into());
            }
            match f.code {
                Some(code) if reply.code() != code => {
                    return Err(format!("code {:?}", reply.code()))
                }
                None if !reply.body["error"].is_null() => return Err("an error body".into()),
                _ => {}
            }
            if let Some((balance, currency)) = f.balance {
                let want = balance_json(balance, currency);
                let (shown, shown_currency) = if status < 400 {
                    (&reply.body["balance"], &reply.body["currency"])
                } else {
                    (
                        &reply.body["error"]["balance"],
                        &reply.body["error"]["currency"],
                    )
                };
                let optional = status >= 400;
                if !(optional && shown.is_null()) && *shown != want {
                    return Err(format!("balance {shown}, the model has {want}"));
                }
                if !(optional && shown_currency.is_null())
                    && f.player_status.is_none()
                    && *shown_currency != currency.code
                {
                    return Err(format!("currency {shown_currency}"));
                }
            }
            if let Some(tx) = &f.transaction_id {
                if reply.body["transaction_id"] != tx.as_str()
                    || !reply.body["wallet_transaction_id"].is_string()
                {
                    return Err("transaction_id / wallet_transaction_id".into());
                }
            }
            if let Some(s) = f.player_status {
                if reply.body["status"] != s {
                    return Err(format!("player status {}", reply.body["status"]));
                }
            }
            if let (Some(want), Some(got)) = (&f.reference, reference) {
                let want = want.as_ref().map_or(Value::Null, |r| json!(r));
                if *got != want {
                    return Err(format!(
                        "the win's reference_transaction_id is {got}, the model links {want}"
                    ));
                }
            }
            Ok(())
        }
    }
}

fn describe(expect: &Expect) -> String {
    match expect {
        Expect::Replay { status, body } => format!("replay of {status} {}", compact(body)),
        Expect::Fresh(f) => {
            let mut text = format!("{}", f.status);
            if let Some(code) = f.code {
                text.push_str(&format!(" {code}"));
            }
            if let Some((balance, currency)) = f.balance {
                text.push_str(&format!(" balance {}", balance_json(balance, currency)));
            }
            if let Some(reference) = &f.reference {
                text.push_str(&format!(" linked to {reference:?}"));
            }
            if f.record.is_some() {
                text.push_str(" (recorded)");
            }
            text
        }
    }
}

fn endpoint_name(call: &Call) -> &'static str {
    match call {
        Call::Bet(_) => "bet",
        Call::Win(w) => match (w.kind, &w.bet, &w.session) {
            (Some(reference::WinKind::Promo), _, _) => "win(promo)",
            (Some(reference::WinKind::Jackpot), _, _) => "win(jackpot)",
            (_, Some(_), _) => "win by bet id",
            (_, None, Some(_)) => "win by round or session",
            (_, None, None) => "win by round",
        },
        Call::Rollback(_) => "rollback",
        Call::Deposit(_) => "deposit",
        Call::Withdrawal(_) => "withdrawal",
        Call::Balance { .. } => "balance",
        Call::SetStatus { .. } => "set-status",
        Call::ExpireSession { .. } => "expire-session",
    }
}

fn compact(body: &Value) -> String {
    serde_json::to_string(body).unwrap_or_default()
}
