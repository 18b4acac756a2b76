//! A rollback: give back exactly what a bet took, or leave a tombstone.

use super::{Decision, Movement};
use crate::domain::{
    Amount, Entry, ErrorCode, Player, PlayerId, Reason, Split, TransactionKind, WinKind,
};
use crate::ledger::command::RollbackCommand;
use crate::ledger::policy::{Policy, SettledRollback, UnknownRollback};
use crate::ledger::LedgerError;

/// What a rollback read before its transaction.
#[derive(Debug, Clone, Copy)]
pub struct RollbackContext<'a> {
    /// The entry the rollback names, if the provider has one with that id.
    pub target: Option<&'a Entry>,
    /// The player's entries the target's fate depends on: its round and every win or
    /// rollback that references it.
    pub bet_rows: &'a [Entry],
    /// The call the rollback names, when it is the provider's but its month was
    /// archived (`target` is then `None`).
    pub archived: Option<ArchivedCall<'a>>,
}

/// What is kept of an applied call whose ledger row was archived.
#[derive(Debug, Clone, Copy)]
pub struct ArchivedCall<'a> {
    pub player_id: &'a PlayerId,
    pub kind: TransactionKind,
}

fn not_found() -> LedgerError {
    LedgerError::new(
        ErrorCode::TransactionNotFound,
        "no such transaction for this player",
    )
}

pub fn decide(
    ctx: RollbackContext<'_>,
    player: &Player,
    cmd: &RollbackCommand,
    policy: &Policy,
) -> Decision {
    let mut movement = Movement::new(TransactionKind::Rollback, Amount::ZERO, Split::new());
    movement.round_id = cmd.round.clone();
    movement.reference_transaction_id = Some(cmd.target.clone());
    if let (None, Some(call)) = (ctx.target, ctx.archived) {
        // An archived month is final: its bets are settled for good, and what they took
        // is no longer here to give back.
        return if call.player_id != &cmd.player {
            Decision::Fail(not_found())
        } else if call.kind != TransactionKind::Bet {
            Decision::Refuse(Reason::RollbackNotAllowed)
        } else {
            Decision::Refuse(Reason::BetAlreadySettled)
        };
    }
    let Some(target) = ctx.target else {
        // Never seen: a tombstone that refuses the bet if it still arrives.
        return match policy.unknown_rollback {
            UnknownRollback::Tombstone => movement.plan(player),
            UnknownRollback::NotFound => Decision::Fail(not_found()),
        };
    };
    if target.player_id != cmd.player {
        return Decision::Fail(not_found());
    }
    if target.kind != TransactionKind::Bet {
        return Decision::Refuse(Reason::RollbackNotAllowed);
    }
    let bet = target;
    let already = ctx
        .bet_rows
        .iter()
        .any(|r| r.kind == TransactionKind::Rollback && r.reference_id == Some(bet.id));
    // Settled: a win is linked to the bet (whatever round it names), or the player's
    // round of the bet received a win. Promo and jackpot wins settle nothing.
    let paid = ctx.bet_rows.iter().any(|r| {
        r.kind == TransactionKind::Win
            && r.win_kind == Some(WinKind::Win)
            && (r.reference_id == Some(bet.id)
                || (r.round_id.is_some() && r.round_id == bet.round_id))
    });
    if !already && paid && policy.settled_rollback == SettledRollback::Refuse {
        return Decision::Refuse(Reason::BetAlreadySettled);
    }
    movement.reference_id = Some(bet.id);
    movement.reference_transaction_id = Some(bet.transaction_id.clone());
    movement.round_id = bet.round_id.clone();
    movement.game_id = bet.game_id.clone();
    movement.session_id = bet.session_id;
    // A second rollback of one bet succeeds without moving money.
    if !already {
        movement.amount = bet.amount;
        movement.split = bet.split.clone();
    }
    movement.plan(player)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::ledger::rules::fixtures::*;

    fn command(target: &str) -> RollbackCommand {
        RollbackCommand {
            key: TxKey {
                provider: provider(),
                transaction: ExternalTxId::parse("rb1").unwrap(),
            },
            player: PlayerId::parse("p1").unwrap(),
            target: ExternalTxId::parse(target).unwrap(),
            round: None,
        }
    }

    fn run(ctx: RollbackContext<'_>, policy: &Policy, target: &str) -> Result<Split, String> {
        match decide(ctx, &player(100, 0), &command(target), policy) {
            Decision::Apply(plan) => Ok(plan.movement.split),
            Decision::Refuse(r) => Err(r.as_str().to_owned()),
            Decision::Fail(e) => Err(e.code().as_str().to_owned()),
        }
    }

    #[test]
    fn a_rollback_restores_exactly_the_stake_once() {
        let bet = entry(TransactionKind::Bet, "b1", &[("cash", 80), ("bonus", 20)]);
        let ctx = RollbackContext {
            target: Some(&bet),
            bet_rows: std::slice::from_ref(&bet),
            archived: None,
        };
        assert_eq!(
            run(ctx, &Policy::V1, "b1"),
            Ok(split(&[("cash", 80), ("bonus", 20)]))
        );
        let mut first = entry(
            TransactionKind::Rollback,
            "rb0",
            &[("cash", 80), ("bonus", 20)],
        );
        first.reference_id = Some(bet.id);
        let rows = [bet.clone(), first];
        let ctx = RollbackContext {
            target: Some(&bet),
            bet_rows: &rows,
            archived: None,
        };
        assert_eq!(run(ctx, &Policy::V1, "b1"), Ok(Split::new()));
    }

    #[test]
    fn refusals_and_the_policy_choices() {
        let bet = entry(TransactionKind::Bet, "b1", &[("cash", 10)]);
        let win = entry(TransactionKind::Win, "w1", &[("cash", 5)]);
        let mut foreign = bet.clone();
        foreign.player_id = PlayerId::parse("p2").unwrap();
        let paid = [bet.clone(), win.clone()];
        let refund = Policy {
            settled_rollback: SettledRollback::Refund,
            ..Policy::V1
        };
        let strict = Policy {
            unknown_rollback: UnknownRollback::NotFound,
            ..Policy::V1
        };
        let none = RollbackContext {
            target: None,
            bet_rows: &[],
            archived: None,
        };
        let table: Vec<(RollbackContext<'_>, &Policy, Result<Split, String>)> = vec![
            (none, &Policy::V1, Ok(Split::new())),
            (none, &strict, Err("transaction_not_found".into())),
            (
                RollbackContext {
                    target: Some(&foreign),
                    bet_rows: &[],
                    archived: None,
                },
                &Policy::V1,
                Err("transaction_not_found".into()),
            ),
            (
                RollbackContext {
                    target: Some(&win),
                    bet_rows: &paid,
                    archived: None,
                },
                &Policy::V1,
                Err("rollback_not_allowed".into()),
            ),
            (
                RollbackContext {
                    target: Some(&bet),
                    bet_rows: &paid,
                    archived: None,
                },
                &Policy::V1,
                Err("bet_already_settled".into()),
            ),
            (
                RollbackContext {
                    target: Some(&bet),
                    bet_rows: &paid,
                    archived: None,
                },
                &refund,
                Ok(split(&[("cash", 10)])),
            ),
        ];
        for (i, (ctx, policy, expected)) in table.into_iter().enumerate() {
            assert_eq!(run(ctx, policy, "b1"), expected, "row {i}");
        }
    }

    #[test]
    fn a_call_of_an_archived_month_is_final() {
        let me = PlayerId::parse("p1").unwrap();
        let other = PlayerId::parse("p2").unwrap();
        let refund = Policy {
            settled_rollback: SettledRollback::Refund,
            ..Policy::V1
        };
        let archived = |player_id, kind| RollbackContext {
            target: None,
            bet_rows: &[],
            archived: Some(ArchivedCall { player_id, kind }),
        };
        let table = [
            (
                archived(&me, TransactionKind::Bet),
                &Policy::V1,
                "bet_already_settled",
            ),
            (
                archived(&me, TransactionKind::Bet),
                &refund,
                "bet_already_settled",
            ),
            (
                archived(&me, TransactionKind::Win),
                &Policy::V1,
                "rollback_not_allowed",
            ),
            (
                archived(&other, TransactionKind::Bet),
                &Policy::V1,
                "transaction_not_found",
            ),
        ];
        for (i, (ctx, policy, expected)) in table.into_iter().enumerate() {
            assert_eq!(run(ctx, policy, "b1"), Err(expected.to_owned()), "row {i}");
        }
    }
}
