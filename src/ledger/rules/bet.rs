//! A bet: debit the stake from the categories in order, open the round.

use super::{Decision, Movement};
use crate::db::movement::RoundChange;
use crate::domain::{
    Categories, ErrorCode, Player, PlayerStatus, Reason, Round, RoundStatus, Session,
    TransactionKind,
};
use crate::ledger::command::BetCommand;
use crate::ledger::policy::{BetRefusals, Policy, SessionGame};
use crate::ledger::LedgerError;

/// What a bet read before its transaction.
#[derive(Debug, Clone, Copy)]
pub struct BetContext<'a> {
    pub session: Option<&'a Session>,
    pub round: Option<&'a Round>,
    /// A rollback of this bet's id came first.
    pub tombstone: bool,
}

pub fn session_invalid() -> LedgerError {
    LedgerError::new(
        ErrorCode::SessionInvalid,
        "session unknown or not this provider's, player's and game's",
    )
}

/// The checks in the contract's order: the session, then the business refusals, then
/// the funds.
pub fn decide(
    ctx: BetContext<'_>,
    player: &Player,
    cmd: &BetCommand,
    categories: &Categories,
    policy: &Policy,
) -> Decision {
    let game_ok = |s: &Session| match policy.session_game {
        SessionGame::Bound => s.game_id == cmd.game,
        SessionGame::Any => true,
    };
    let session_ok = ctx
        .session
        .is_some_and(|s| s.belongs_to(&cmd.key.provider, &cmd.player) && game_ok(s));
    if !session_ok {
        return Decision::Fail(session_invalid());
    }
    let blocked = (player.status == PlayerStatus::Blocked).then_some(Reason::PlayerBlocked);
    let currency = (player.currency != cmd.stake.currency.code).then_some(Reason::CurrencyMismatch);
    let expired = ctx
        .session
        .is_some_and(|s| !s.live)
        .then_some(Reason::SessionExpired);
    let first = match policy.bet_refusals {
        BetRefusals::BlockedFirst => blocked.or(currency).or(expired),
        BetRefusals::ExpiryFirst => currency.or(expired).or(blocked),
    };
    let closed = ctx.round.is_some_and(|r| r.status == RoundStatus::Closed);
    let refusal = first
        .or(ctx.tombstone.then_some(Reason::TransactionRolledBack))
        .or(closed.then_some(Reason::RoundClosed));
    if let Some(reason) = refusal {
        return Decision::Refuse(reason);
    }
    let Some(split) = player.balances.allocate_stake(cmd.stake.amount, categories) else {
        return Decision::Refuse(Reason::InsufficientFunds);
    };
    let mut movement = Movement::new(TransactionKind::Bet, cmd.stake.amount, split);
    movement.round_id = Some(cmd.round.clone());
    movement.game_id = Some(cmd.game.clone());
    movement.session_id = cmd.session.0;
    movement.round = match ctx.round {
        Some(_) => RoundChange::None,
        None => RoundChange::Open {
            round_id: cmd.round.clone(),
            game_id: cmd.game.clone(),
        },
    };
    movement.plan(player)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::ledger::command::{Money, SessionRef};
    use crate::ledger::rules::fixtures::*;

    fn command(stake: i64, session: &Session) -> BetCommand {
        BetCommand {
            key: TxKey {
                provider: provider(),
                transaction: ExternalTxId::parse("b1").unwrap(),
            },
            player: PlayerId::parse("p1").unwrap(),
            session: SessionRef(Some(session.session_id)),
            round: RoundId::parse("r1").unwrap(),
            game: GameId::parse("g1").unwrap(),
            stake: Money {
                amount: amount(stake),
                currency: eur(),
            },
        }
    }

    fn run(ctx: BetContext<'_>, player: &Player, cmd: &BetCommand) -> Result<Plan, String> {
        match decide(ctx, player, cmd, &categories(), &Policy::V1) {
            Decision::Apply(plan) => Ok(plan),
            Decision::Refuse(reason) => Err(reason.as_str().to_owned()),
            Decision::Fail(e) => Err(e.code().as_str().to_owned()),
        }
    }

    use super::super::Plan;

    #[test]
    fn stakes_from_zero_to_the_whole_balance_are_debited_and_one_more_is_refused() {
        let session = session(true);
        let ctx = BetContext {
            session: Some(&session),
            round: None,
            tombstone: false,
        };
        let player = player(800, 500);
        let table: [(i64, Result<Split, &str>); 5] = [
            (0, Ok(Split::new())),
            (1, Ok(split(&[("cash", 1)]))),
            (1000, Ok(split(&[("cash", 800), ("bonus", 200)]))),
            (1300, Ok(split(&[("cash", 800), ("bonus", 500)]))),
            (1301, Err("insufficient_funds")),
        ];
        for (stake, expected) in table {
            let got = run(ctx, &player, &command(stake, &session)).map(|p| p.movement.split);
            assert_eq!(got, expected.map_err(str::to_owned), "stake {stake}");
        }
    }

    #[test]
    fn a_first_bet_opens_its_round_and_a_later_one_joins_it() {
        let session = session(true);
        let open = round(RoundStatus::Open);
        let player = player(100, 0);
        let cmd = command(10, &session);
        let first = BetContext {
            session: Some(&session),
            round: None,
            tombstone: false,
        };
        let plan = run(first, &player, &cmd).unwrap();
        assert!(matches!(plan.movement.round, RoundChange::Open { .. }));
        assert_eq!(plan.balance_after.get("cash"), amount(90));
        let later = BetContext {
            round: Some(&open),
            ..first
        };
        assert!(matches!(
            run(later, &player, &cmd).unwrap().movement.round,
            RoundChange::None
        ));
    }

    #[test]
    fn a_session_spanning_games_takes_bets_in_any_game_when_the_policy_says_so() {
        let mut lobby = session(true);
        lobby.game_id = GameId::parse("lobby").unwrap();
        let ctx = BetContext {
            session: Some(&lobby),
            round: None,
            tombstone: false,
        };
        let player = player(100, 0);
        let cmd = command(10, &lobby);
        let any = Policy {
            session_game: SessionGame::Any,
            ..Policy::V1
        };
        assert!(matches!(
            decide(ctx, &player, &cmd, &categories(), &any),
            Decision::Apply(_)
        ));
        assert_eq!(run(ctx, &player, &cmd).unwrap_err(), "session_invalid");
    }

    #[test]
    fn each_refusal_in_the_contracts_order() {
        let live = session(true);
        let expired = session(false);
        let closed = round(RoundStatus::Closed);
        let mut blocked = player(100, 0);
        blocked.status = PlayerStatus::Blocked;
        let mut yen = player(100, 0);
        yen.currency = "JPY".into();
        let mut foreign = session(true);
        foreign.player_id = PlayerId::parse("p2").unwrap();
        let mut other_game = session(true);
        other_game.game_id = GameId::parse("g2").unwrap();
        let ok = player(100, 0);
        let ctx = |session: Option<&'static Session>| BetContext {
            session,
            round: None,
            tombstone: false,
        };
        let leak = |s: Session| -> &'static Session { Box::leak(Box::new(s)) };
        let (live, expired, foreign, other_game) =
            (leak(live), leak(expired), leak(foreign), leak(other_game));
        let closed: &'static Round = Box::leak(Box::new(closed));
        let table: Vec<(BetContext<'static>, &Player, &str)> = vec![
            (ctx(None), &ok, "session_invalid"),
            (ctx(Some(foreign)), &ok, "session_invalid"),
            (ctx(Some(other_game)), &ok, "session_invalid"),
            // Blocked comes before every other refusal.
            (ctx(Some(expired)), &blocked, "player_blocked"),
            (ctx(Some(expired)), &yen, "currency_mismatch"),
            (ctx(Some(expired)), &ok, "session_expired"),
            (
                BetContext {
                    tombstone: true,
                    round: Some(closed),
                    ..ctx(Some(live))
                },
                &ok,
                "transaction_rolled_back",
            ),
            (
                BetContext {
                    round: Some(closed),
                    ..ctx(Some(live))
                },
                &ok,
                "round_closed",
            ),
        ];
        for (ctx, player, expected) in table {
            let session = ctx.session.unwrap_or(live);
            let got = run(ctx, player, &command(10, session));
            assert_eq!(got.unwrap_err(), expected);
        }
    }

    #[test]
    fn the_vendor_protocols_refuse_an_expired_session_before_a_blocked_player() {
        let expired = session(false);
        let live = session(true);
        let mut blocked = player(100, 0);
        blocked.status = PlayerStatus::Blocked;
        let mut blocked_yen = blocked.clone();
        blocked_yen.currency = "JPY".into();
        let ctx = |session| BetContext {
            session: Some(session),
            round: None,
            tombstone: false,
        };
        let refusal = |ctx, player: &Player, policy: &Policy| match decide(
            ctx,
            player,
            &command(10, &expired),
            &categories(),
            policy,
        ) {
            Decision::Refuse(reason) => reason,
            _ => panic!("refused"),
        };
        for policy in [Policy::HUB88, Policy::EVOLUTION] {
            assert_eq!(
                refusal(ctx(&expired), &blocked, &policy),
                Reason::SessionExpired
            );
            assert_eq!(
                refusal(ctx(&expired), &blocked_yen, &policy),
                Reason::CurrencyMismatch
            );
            assert_eq!(
                refusal(ctx(&live), &blocked, &policy),
                Reason::PlayerBlocked
            );
        }
        assert_eq!(
            refusal(ctx(&expired), &blocked, &Policy::V1),
            Reason::PlayerBlocked
        );
    }
}
