//! The simulated game provider: players, the rounds it plays (bet, then win or rollback,
//! with duplicate resends and wins racing their bets), and its model of the money it
//! expects every player to hold afterwards.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::client::Client;
use super::wire::{Call, Kind, Outcome};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Every player starts with this much cash (minor units): bets never run out of money,
/// so every accepted call's effect on the balance is known.
pub const FUNDING_MINOR: i64 = 100_000_000;

/// A funded player with one live session.
pub struct Player {
    pub id: String,
    pub session_id: String,
    /// Sum of the effects of accepted money calls (minor units), funding excluded.
    pub delta_minor: AtomicI64,
}

/// What the run shares between its tasks.
pub struct Sim {
    pub client: Client,
    pub players: Vec<Player>,
    pub run_id: String,
    pub seed: u64,
    pub game_id: String,
    pub currency: String,
    pub duplicate_share: f64,
    pub win_before_bet_share: f64,
    pub rollback_share: f64,
    pub sequential_ids: bool,
    /// (win's ledger id, ledger id of the bet it must settle) of every win sent.
    pub wins: Mutex<Vec<(String, String)>>,
}

/// Minor units as a 2-decimal string: 1234 -> "12.34".
pub fn format_minor(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// A 2-decimal string as minor units: "12.34" -> 1234.
pub fn parse_minor(text: &str) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, "00"));
    if frac.len() != 2 {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = frac.parse().ok()?;
    Some(whole * 100 + frac)
}

impl Sim {
    /// The prefix of a round's ids: the run id, led by a hash of the round number
    /// unless ascending ids were asked for.
    fn tag(&self, round: u64) -> String {
        if self.sequential_ids {
            self.run_id.clone()
        } else {
            let hash = (round ^ self.seed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29);
            format!("{hash:016x}-{}", self.run_id)
        }
    }

    /// Sends `call` once, or twice at once when this call is a duplicate resend.
    /// The call counts as accepted when any copy was.
    async fn send(&self, call: &Call, duplicate: bool) -> Outcome {
        if duplicate {
            let (a, b) = tokio::join!(self.client.money(call), self.client.money(call));
            if a.ok() {
                a
            } else {
                b
            }
        } else {
            self.client.money(call).await
        }
    }

    /// Plays round number `round` on player `index`: a bet, then a win (sometimes sent
    /// before the bet completes) or a rollback. Returns the number of calls made.
    pub async fn play_round(&self, index: usize, round: u64) {
        let mut rng = StdRng::seed_from_u64(self.seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let player = &self.players[index];
        let tag = self.tag(round);
        let bet_tx = format!("{tag}-b{round}");
        let round_id = format!("{tag}-r{round}");
        let stake: i64 = rng.gen_range(10..=1000);
        let rollback = rng.gen_bool(self.rollback_share.clamp(0.0, 1.0));
        let early_win = !rollback && rng.gen_bool(self.win_before_bet_share.clamp(0.0, 1.0));
        let win_by_reference = rng.gen_bool(0.5);
        let prize: i64 = if rng.gen_bool(0.5) {
            0
        } else {
            rng.gen_range(0..=2 * stake)
        };
        let mut dup = || rng.gen_bool(self.duplicate_share.clamp(0.0, 1.0));
        let (dup_bet, dup_settle) = (dup(), dup());

        let bet = Call {
            kind: Kind::Bet,
            tx: bet_tx.clone(),
            player_id: player.id.clone(),
            session_id: player.session_id.clone(),
            round: round_id,
            game: self.game_id.clone(),
            currency: self.currency.clone(),
            amount_minor: stake,
            bet_tx,
            win_by_reference,
        };
        let win = Call {
            kind: Kind::Win,
            tx: format!("{tag}-w{round}"),
            amount_minor: prize,
            ..bet.clone()
        };

        if early_win {
            // The win leaves first; the bet follows a moment later on another connection.
            let bet_later = async {
                tokio::time::sleep(Duration::from_millis(2)).await;
                self.send(&bet, dup_bet).await
            };
            let (w, b) = tokio::join!(self.send(&win, dup_settle), bet_later);
            self.settle_bet(player, &b, stake);
            self.settle_win(player, &win, w, b.ok(), prize).await;
            return;
        }

        let b = self.send(&bet, dup_bet).await;
        self.settle_bet(player, &b, stake);
        if !b.ok() {
            return;
        }
        if rollback {
            let cancel = Call {
                kind: Kind::Rollback,
                tx: format!("{tag}-x{round}"),
                ..bet.clone()
            };
            if self.send(&cancel, dup_settle).await.ok() {
                player.delta_minor.fetch_add(stake, Ordering::Relaxed);
            }
        } else {
            let w = self.send(&win, dup_settle).await;
            self.settle_win(player, &win, w, true, prize).await;
        }
    }

    fn settle_bet(&self, player: &Player, outcome: &Outcome, stake: i64) {
        if outcome.ok() {
            player.delta_minor.fetch_sub(stake, Ordering::Relaxed);
        }
    }

    /// Books an accepted win; a win that lost its race (the wallet does not know its bet
    /// yet) although its bet was accepted is resent once, as a provider would.
    async fn settle_win(
        &self,
        player: &Player,
        win: &Call,
        mut outcome: Outcome,
        bet_accepted: bool,
        prize: i64,
    ) {
        if !bet_accepted {
            return;
        }
        if outcome.bet_not_found() {
            self.client.stats.lock().unwrap().client_retries += 1;
            outcome = self.client.money(win).await;
        }
        if outcome.ok() {
            player.delta_minor.fetch_add(prize, Ordering::Relaxed);
        }
        let dialect = &self.client.dialect;
        let ids = (dialect.ledger_id(win), dialect.ledger_bet_id(win));
        self.wins.lock().unwrap().push(ids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_round_trip_through_two_decimal_strings() {
        for minor in [0, 5, 99, 100, 1234, FUNDING_MINOR] {
            assert_eq!(parse_minor(&format_minor(minor)), Some(minor));
        }
        assert_eq!(parse_minor("12.5"), None);
    }
}
