//! A win: find the bet it pays, credit it in the proportions of the round's stakes.

use super::bet::session_invalid;
use super::{Decision, Movement};
use crate::db::movement::RoundChange;
use crate::domain::category::{allocate_win, stake_totals, CASH};
use crate::domain::{
    Entry, ErrorCode, ExternalTxId, Player, PlayerId, Reason, Round, RoundStatus, Session,
    TransactionKind,
};
use crate::ledger::command::WinCommand;
use crate::ledger::LedgerError;

/// What a win read before its transaction.
#[derive(Debug, Clone, Copy)]
pub struct WinContext<'a> {
    /// The session the win named, if it named one and it exists.
    pub session: Option<&'a Session>,
    /// The win's round, read only when the win closes it.
    pub round: Option<&'a Round>,
    /// Where that round's row is, for closing it.
    pub round_tid: Option<&'a str>,
    /// A rollback of the named bet id exists.
    pub tombstone: bool,
    /// The player's ledger entries the win's bet is found among: the named bet's round
    /// and what references it, or the win's own round.
    pub rows: &'a [Entry],
    /// The session's latest unsettled bet in this game, with the entries of its round.
    pub session_bet: Option<(&'a ExternalTxId, &'a [Entry])>,
}

/// What a win is linked to.
#[derive(Debug, PartialEq, Eq)]
pub enum Link<'a> {
    /// The bet, and the round's bets that are not rolled back (their stakes set the
    /// win's split).
    Bet(&'a Entry, Vec<&'a Entry>),
    RolledBack,
    Missing,
}

/// Finds the win's bet among the rows of a round: by provider id when given, else the
/// latest bet of the player that is not rolled back.
pub fn link<'a>(rows: &'a [Entry], player: &PlayerId, bet_id: Option<&ExternalTxId>) -> Link<'a> {
    let rolled_back = |bet: &Entry| {
        rows.iter()
            .any(|r| r.kind == TransactionKind::Rollback && r.reference_id == Some(bet.id))
    };
    let bets: Vec<&Entry> = rows
        .iter()
        .filter(|r| r.kind == TransactionKind::Bet && r.player_id == *player)
        .collect();
    let live: Vec<&Entry> = bets.iter().copied().filter(|b| !rolled_back(b)).collect();
    let chosen = match bet_id {
        Some(id) => match bets.iter().find(|b| b.transaction_id == *id) {
            Some(bet) if rolled_back(bet) => return Link::RolledBack,
            Some(bet) => Some(*bet),
            None => None,
        },
        None => live.last().copied(),
    };
    match chosen {
        Some(bet) => Link::Bet(bet, live),
        None if bet_id.is_none() && !bets.is_empty() => Link::RolledBack,
        None => Link::Missing,
    }
}

pub fn bet_not_found() -> LedgerError {
    LedgerError::new(ErrorCode::BetNotFound, "no bet found for this win")
}

pub fn decide(ctx: WinContext<'_>, player: &Player, cmd: &WinCommand) -> Decision {
    if cmd.session.is_some()
        && !ctx
            .session
            .is_some_and(|s| s.belongs_to(&cmd.key.provider, &cmd.player))
    {
        return Decision::Fail(session_invalid());
    }
    if player.currency != cmd.payout.currency.code {
        return Decision::Refuse(Reason::CurrencyMismatch);
    }
    let (split, bet) = if cmd.kind.pays_a_bet() {
        let mut rows = ctx.rows;
        let mut bet_id = cmd.bet.as_ref();
        if cmd.bet.is_none() && link(rows, &cmd.player, None) == Link::Missing {
            // The last resort: exactly the session's latest unsettled bet.
            if let Some((bet, session_rows)) = ctx.session_bet.filter(|_| ctx.session.is_some()) {
                rows = session_rows;
                bet_id = Some(bet);
            }
        }
        match link(rows, &cmd.player, bet_id) {
            Link::Bet(bet, live) => {
                let stakes = stake_totals(live.iter().map(|b| &b.split));
                (allocate_win(cmd.payout.amount, &stakes), Some(bet))
            }
            Link::Missing if !ctx.tombstone => return Decision::Fail(bet_not_found()),
            // Rolled back, or never seen but a rollback of it left a tombstone.
            Link::RolledBack | Link::Missing => return Decision::Refuse(Reason::BetRolledBack),
        }
    } else {
        ([(CASH.to_owned(), cmd.payout.amount)].into(), None)
    };
    let mut movement = Movement::new(TransactionKind::Win, cmd.payout.amount, split);
    movement.win_kind = Some(cmd.kind);
    movement.round_id = Some(cmd.round.clone());
    movement.game_id = Some(cmd.game.clone());
    movement.session_id = ctx.session.map(|s| s.session_id);
    movement.reference_id = bet.map(|b| b.id);
    movement.reference_transaction_id = bet.map(|b| b.transaction_id.clone());
    // A win may close its round; one that is already closed, or was never opened (a
    // promotional win), stays as it is.
    movement.round = match (ctx.round, ctx.round_tid) {
        (Some(r), Some(tid)) if cmd.closes_round && r.status == RoundStatus::Open => {
            RoundChange::Close {
                round_id: cmd.round.clone(),
                tid: tid.to_owned(),
            }
        }
        _ => RoundChange::None,
    };
    movement.plan(player)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::ledger::command::Money;
    use crate::ledger::rules::fixtures::*;

    fn command(payout: i64, kind: WinKind, bet: Option<&str>) -> WinCommand {
        WinCommand {
            key: TxKey {
                provider: provider(),
                transaction: ExternalTxId::parse("w1").unwrap(),
            },
            player: PlayerId::parse("p1").unwrap(),
            round: RoundId::parse("r1").unwrap(),
            game: GameId::parse("g1").unwrap(),
            payout: Money {
                amount: amount(payout),
                currency: eur(),
            },
            kind,
            bet: bet.map(|b| ExternalTxId::parse(b).unwrap()),
            session: None,
            closes_round: false,
        }
    }

    fn context(rows: &[Entry]) -> WinContext<'_> {
        WinContext {
            session: None,
            round: None,
            round_tid: None,
            tombstone: false,
            rows,
            session_bet: None,
        }
    }

    fn rollback_of(bet: &Entry) -> Entry {
        let mut r = entry(TransactionKind::Rollback, "rb", &[]);
        r.reference_id = Some(bet.id);
        r
    }

    fn outcome(d: Decision) -> Result<Split, String> {
        match d {
            Decision::Apply(plan) => Ok(plan.movement.split),
            Decision::Refuse(r) => Err(r.as_str().to_owned()),
            Decision::Fail(e) => Err(e.code().as_str().to_owned()),
        }
    }

    #[test]
    fn a_win_is_split_like_the_live_stakes_of_its_round() {
        let b1 = entry(TransactionKind::Bet, "b1", &[("cash", 800), ("bonus", 200)]);
        let b2 = entry(TransactionKind::Bet, "b2", &[("bonus", 1000)]);
        let rb = rollback_of(&b2);
        let rows = [b1.clone(), b2, rb];
        let player = player(0, 0);
        let table: [(i64, Option<&str>, Result<Split, String>); 4] = [
            (0, None, Ok(split(&[("cash", 0)]))),
            (1000, None, Ok(split(&[("cash", 800), ("bonus", 200)]))),
            (
                1000,
                Some("b1"),
                Ok(split(&[("cash", 800), ("bonus", 200)])),
            ),
            (1000, Some("b2"), Err("bet_rolled_back".to_owned())),
        ];
        for (payout, bet, expected) in table {
            let d = decide(context(&rows), &player, &command(payout, WinKind::Win, bet));
            assert_eq!(outcome(d), expected, "{payout} {bet:?}");
        }
    }

    #[test]
    fn a_win_without_a_bet_waits_unless_a_tombstone_says_it_was_rolled_back() {
        let player = player(0, 0);
        let cmd = command(100, WinKind::Win, Some("b9"));
        let d = decide(context(&[]), &player, &cmd);
        assert_eq!(outcome(d), Err("bet_not_found".to_owned()));
        let ctx = WinContext {
            tombstone: true,
            ..context(&[])
        };
        assert_eq!(
            outcome(decide(ctx, &player, &cmd)),
            Err("bet_rolled_back".to_owned())
        );
    }

    #[test]
    fn promo_and_jackpot_wins_need_no_bet_and_go_to_cash() {
        for kind in [WinKind::Promo, WinKind::Jackpot] {
            let d = decide(context(&[]), &player(0, 0), &command(500, kind, None));
            assert_eq!(outcome(d), Ok(split(&[("cash", 500)])));
        }
    }

    #[test]
    fn a_win_past_the_balance_limit_is_refused() {
        let max = money::BALANCE_MINOR_MAX;
        let mut rich = player(0, 0);
        rich.balances = Balances::new(split(&[("cash", max)]));
        let d = decide(context(&[]), &rich, &command(1, WinKind::Promo, None));
        assert_eq!(outcome(d), Err("balance_limit_exceeded".to_owned()));
        let d = decide(context(&[]), &rich, &command(0, WinKind::Promo, None));
        assert!(outcome(d).is_ok());
    }

    #[test]
    fn a_win_in_another_currency_is_refused_and_a_foreign_session_is_invalid() {
        let mut yen = player(0, 0);
        yen.currency = "JPY".into();
        let d = decide(context(&[]), &yen, &command(1, WinKind::Promo, None));
        assert_eq!(outcome(d), Err("currency_mismatch".to_owned()));
        let mut cmd = command(1, WinKind::Promo, None);
        cmd.session = Some(crate::ledger::command::SessionRef(None));
        let d = decide(context(&[]), &player(0, 0), &cmd);
        assert_eq!(outcome(d), Err("session_invalid".to_owned()));
    }
}
