//! The disagreements the property test found, each as the shortest sequence of calls
//! that shows it. They run through the same runner as the property test, with the
//! reference model as the oracle: a test here fails with the transcript of its calls and
//! the answers the contract allows.
//!
//! Every player starts with 10.00 EUR cash; `S0`, `S1`, ... are the sessions opened
//! first (all `demo`, game `slots`), `p0`, `p1` the players; every id gets the run's
//! prefix.

use super::reference::{BetCall, Call, RollbackCall, WinCall, WinKind, EUR};
use super::steps::{Case, PlayerSetup, Sent};
use super::Run;
use crate::helpers::TestApp;

/// Runs `calls` for `players` players (10.00 EUR cash each) with sessions of the given
/// players; panics at the first answer the model does not allow.
async fn play(players: usize, sessions: &[u8], calls: Vec<Call>) {
    let app = TestApp::spawn_with(|s| s.ledger.correlation_wait_ms = 0).await;
    let case = Case {
        players: (0..players)
            .map(|_| PlayerSetup {
                yen: false,
                cash: 1000,
                bonus: 0,
                near_limit_cash: None,
                near_limit_bonus: None,
            })
            .collect(),
        sessions: sessions.iter().map(|&p| (p, 0, 0)).collect(),
        steps: vec![],
    };
    let mut run = Run::new(&app, players);
    let result = async {
        run.setup(&case).await?;
        for call in calls {
            let call = localize(call, &run);
            run.call(Sent { call, spelling: 0 }).await?;
            run.check_players().await?;
        }
        run.finish().await
    }
    .await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Gives the call's ids the run's prefix and turns `S<i>` into the i-th session's id.
fn localize(call: Call, run: &Run<'_>) -> Call {
    let id = |s: &str| format!("{}{s}", run.names.prefix);
    let session = |s: &str| {
        let i: usize = s[1..].parse().expect("a session written S<i>");
        run.model.sessions[i].id.clone()
    };
    match call {
        Call::Bet(b) => Call::Bet(BetCall {
            tx: id(&b.tx),
            player: id(&b.player),
            session: session(&b.session),
            round: id(&b.round),
            ..b
        }),
        Call::Win(w) => Call::Win(WinCall {
            tx: id(&w.tx),
            player: id(&w.player),
            round: id(&w.round),
            bet: w.bet.as_deref().map(id),
            session: w.session.as_deref().map(session),
            ..w
        }),
        Call::Rollback(r) => Call::Rollback(RollbackCall {
            tx: id(&r.tx),
            player: id(&r.player),
            reference: id(&r.reference),
            round: r.round.as_deref().map(id),
            ..r
        }),
        other => other,
    }
}

fn bet(player: usize, session: usize, round: &str, tx: &str, cents: u128) -> Call {
    Call::Bet(BetCall {
        provider: "demo".into(),
        tx: tx.into(),
        player: format!("p{player}"),
        session: format!("S{session}"),
        round: round.into(),
        game: "slots".into(),
        currency: EUR,
        minor: cents,
    })
}

/// A win by round; set `bet`, `session`, `kind` or `round_closed` with `..win(...)`.
fn win(player: usize, round: &str, tx: &str, cents: u128) -> WinCall {
    WinCall {
        provider: "demo".into(),
        tx: tx.into(),
        player: format!("p{player}"),
        round: round.into(),
        game: "slots".into(),
        currency: EUR,
        minor: cents,
        kind: None,
        bet: None,
        session: None,
        round_closed: None,
    }
}

fn rollback(player: usize, tx: &str, reference: &str) -> Call {
    Call::Rollback(RollbackCall {
        provider: "demo".into(),
        tx: tx.into(),
        player: format!("p{player}"),
        reference: reference.into(),
        round: None,
    })
}

// ------------------------------------------------------------------ tombstones

/// p0's tombstone of `b1` is p0's: p1's bet `b1` is a bet like any other.
#[tokio::test]
async fn another_players_tombstone_does_not_refuse_a_bet() {
    play(
        2,
        &[0, 1],
        vec![rollback(0, "rb1", "b1"), bet(1, 1, "r1", "b1", 100)],
    )
    .await;
}

/// A win naming `b1` by id resolves among this player's transactions only: p0's
/// tombstone of `b1` says nothing about p1's win (404 bet_not_found, not 422).
#[tokio::test]
async fn another_players_tombstone_does_not_refuse_a_win_naming_that_id() {
    let by_id = WinCall {
        bet: Some("b1".into()),
        ..win(1, "r1", "w1", 100)
    };
    play(2, &[0, 1], vec![rollback(0, "rb1", "b1"), Call::Win(by_id)]).await;
}

/// p1's rolled-back bet `b1` is unknown to p0: p0's win naming it is 404 bet_not_found,
/// not 422 transaction_rolled_back.
#[tokio::test]
async fn another_players_rolled_back_bet_is_unknown_to_a_win_naming_it() {
    let by_id = WinCall {
        bet: Some("b1".into()),
        ..win(0, "r2", "w1", 100)
    };
    play(
        2,
        &[0, 1],
        vec![
            bet(1, 1, "r1", "b1", 100),
            rollback(1, "rb1", "b1"),
            Call::Win(by_id),
        ],
    )
    .await;
}

// ------------------------------------------------------------------ rounds per player

/// A round is `(provider, round_id, player_id)`: two players may bet on one round id.
#[tokio::test]
async fn two_players_may_bet_on_the_same_round_id() {
    play(
        2,
        &[0, 1],
        vec![bet(1, 1, "r1", "b1", 100), bet(0, 0, "r1", "b2", 100)],
    )
    .await;
}

/// p0's win closing "its" round r1 does not close p1's round r1.
#[tokio::test]
async fn closing_a_round_leaves_another_players_round_of_that_id_open() {
    let close = WinCall {
        kind: Some(WinKind::Promo),
        round_closed: Some(true),
        ..win(0, "r1", "w1", 100)
    };
    play(
        2,
        &[0, 1],
        vec![
            bet(1, 1, "r1", "b1", 100),
            Call::Win(close),
            bet(1, 1, "r1", "b2", 100),
        ],
    )
    .await;
}

/// p1's win that names round r2 is in p1's round r2, not p0's: p0's bet there is not
/// settled and may be rolled back.
#[tokio::test]
async fn another_players_win_naming_a_round_does_not_settle_this_players_bet() {
    let elsewhere = WinCall {
        bet: Some("b1".into()),
        ..win(1, "r2", "w1", 100)
    };
    play(
        2,
        &[0, 1],
        vec![
            bet(0, 0, "r2", "b2", 100),
            bet(1, 1, "r1", "b1", 100),
            Call::Win(elsewhere),
            rollback(0, "rb1", "b2"),
        ],
    )
    .await;
}

// ------------------------------------------------------------------ settled bets

/// Promo and jackpot wins settle no bet: the bet of their round may still be rolled back.
#[tokio::test]
async fn a_promo_win_in_a_round_does_not_settle_its_bet() {
    let promo = WinCall {
        kind: Some(WinKind::Promo),
        ..win(0, "r1", "w1", 50)
    };
    play(
        1,
        &[0],
        vec![
            bet(0, 0, "r1", "b1", 100),
            Call::Win(promo),
            rollback(0, "rb1", "b1"),
        ],
    )
    .await;
}

/// A win linked by `bet_transaction_id` settles that bet, whatever round the win names:
/// its rollback is 422 bet_already_settled.
#[tokio::test]
async fn a_bet_a_win_names_by_id_from_another_round_is_settled() {
    let by_id = WinCall {
        bet: Some("b1".into()),
        ..win(0, "r2", "w1", 50)
    };
    play(
        1,
        &[0],
        vec![
            bet(0, 0, "r1", "b1", 100),
            Call::Win(by_id),
            rollback(0, "rb1", "b1"),
        ],
    )
    .await;
}

// ------------------------------------------------------------------ session fallback

/// The session fallback takes the latest *unsettled* bet of the session. The win by
/// round r1 is linked to b2 and settles round r1, so neither b1 nor b2 is unsettled: a
/// win by session alone finds no bet (and on no reading of "unsettled" may it be linked
/// to b2, which a win is already linked to).
#[tokio::test]
async fn the_session_fallback_skips_bets_that_a_win_settled() {
    let by_session = WinCall {
        session: Some("S0".into()),
        ..win(0, "rx", "w2", 50)
    };
    play(
        1,
        &[0],
        vec![
            bet(0, 0, "r1", "b1", 100),
            bet(0, 0, "r1", "b2", 100),
            Call::Win(win(0, "r1", "w1", 50)),
            Call::Win(by_session),
        ],
    )
    .await;
}

/// The session fallback links a bet *of that session*: with b1 from S0 and b2 from S1
/// in one round, a win naming S0 (and a round without bets) is linked to b1.
#[tokio::test]
async fn the_session_fallback_links_a_bet_of_that_session() {
    let by_session = WinCall {
        session: Some("S0".into()),
        ..win(0, "rx", "w1", 50)
    };
    play(
        1,
        &[0, 0],
        vec![
            bet(0, 0, "r1", "b1", 100),
            bet(0, 1, "r1", "b2", 100),
            Call::Win(by_session),
        ],
    )
    .await;
}
