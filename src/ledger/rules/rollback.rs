//! A rollback: give back exactly what a bet took, or leave a tombstone.

use super::{Decision, Movement};
use crate::domain::{
    Amount, Entry, ErrorCode, Player, PlayerId, Reason, Split, TransactionKind, WinKind,
};
use crate::ledger::command::RollbackCommand;
use crate::ledger::policy::{Policy, SettledRollback, UnknownRollback};
use crate::ledger::LedgerError;
use uuid::Uuid;

/// What a rollback read before its transaction.
#[derive(Debug, Clone, Copy)]
pub struct RollbackContext<'a> {
    /// The call the rollback names, if the provider made one with that id.
    pub target: Option<Target<'a>>,
    /// The player's entries the target's fate depends on: its round and every win or
    /// rollback that references it.
    pub bet_rows: &'a [Entry],
}

/// The call a rollback names.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Its ledger row.
    Live(&'a Entry),
    /// Its month was archived: what its receipt keeps.
    Archived(ArchivedCall<'a>),
}

/// What is kept of an applied call whose ledger row was archived.
#[derive(Debug, Clone, Copy)]
pub struct ArchivedCall<'a> {
    pub ledger_id: Uuid,
    pub player_id: &'a PlayerId,
    pub kind: TransactionKind,
    /// A bet that a rollback reversed.
    pub reversed: bool,
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
    let target = match ctx.target {
        Some(Target::Live(entry)) => entry,
        Some(Target::Archived(call)) => return archived(call, ctx.bet_rows, cmd, movement, player),
        // Never seen: a tombstone that refuses the bet if it still arrives.
        None => {
            return match policy.unknown_rollback {
                UnknownRollback::Tombstone => movement.plan(player),
                UnknownRollback::NotFound => Decision::Fail(not_found()),
            }
        }
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

/// A rollback naming a call of an archived month. The month is final: its bets are
/// settled for good and what they took is no longer here to give back, but a bet that
/// was reversed answers a second rollback as a live one does, without moving money. It
/// was reversed when its receipt says so (a rollback archived with it or after it) or
/// when a live rollback references it (one in a month not archived yet, or one that
/// committed while the bet's month was being archived).
fn archived(
    call: ArchivedCall<'_>,
    bet_rows: &[Entry],
    cmd: &RollbackCommand,
    mut movement: Movement,
    player: &Player,
) -> Decision {
    let reversed = call.reversed
        || bet_rows
            .iter()
            .any(|r| r.kind == TransactionKind::Rollback && r.reference_id == Some(call.ledger_id));
    if call.player_id != &cmd.player {
        Decision::Fail(not_found())
    } else if call.kind != TransactionKind::Bet {
        Decision::Refuse(Reason::RollbackNotAllowed)
    } else if reversed {
        movement.reference_id = Some(call.ledger_id);
        movement.plan(player)
    } else {
        Decision::Refuse(Reason::BetAlreadySettled)
    }
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
            target: Some(Target::Live(&bet)),
            bet_rows: std::slice::from_ref(&bet),
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
            target: Some(Target::Live(&bet)),
            bet_rows: &rows,
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
        };
        let table: Vec<(RollbackContext<'_>, &Policy, Result<Split, String>)> = vec![
            (none, &Policy::V1, Ok(Split::new())),
            (none, &strict, Err("transaction_not_found".into())),
            (
                RollbackContext {
                    target: Some(Target::Live(&foreign)),
                    bet_rows: &[],
                },
                &Policy::V1,
                Err("transaction_not_found".into()),
            ),
            (
                RollbackContext {
                    target: Some(Target::Live(&win)),
                    bet_rows: &paid,
                },
                &Policy::V1,
                Err("rollback_not_allowed".into()),
            ),
            (
                RollbackContext {
                    target: Some(Target::Live(&bet)),
                    bet_rows: &paid,
                },
                &Policy::V1,
                Err("bet_already_settled".into()),
            ),
            (
                RollbackContext {
                    target: Some(Target::Live(&bet)),
                    bet_rows: &paid,
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
        let bet_id = Uuid::from_u128(7);
        // A live rollback of the archived bet, and one of some other bet.
        let mut reversal = entry(TransactionKind::Rollback, "rb0", &[("cash", 10)]);
        reversal.reference_id = Some(bet_id);
        let mut elsewhere = reversal.clone();
        elsewhere.reference_id = Some(Uuid::from_u128(8));
        let (reversal, elsewhere) = ([reversal], [elsewhere]);
        let with_rows = |kind, reversed, bet_rows| RollbackContext {
            target: Some(Target::Archived(ArchivedCall {
                ledger_id: bet_id,
                player_id: &me,
                kind,
                reversed,
            })),
            bet_rows,
        };
        let archived = |player_id, kind, reversed| RollbackContext {
            target: Some(Target::Archived(ArchivedCall {
                ledger_id: bet_id,
                player_id,
                kind,
                reversed,
            })),
            bet_rows: &[],
        };
        let table = [
            (
                with_rows(TransactionKind::Bet, false, &reversal),
                &Policy::V1,
                Ok(()),
            ),
            (
                with_rows(TransactionKind::Bet, false, &elsewhere),
                &Policy::V1,
                Err("bet_already_settled"),
            ),
            (
                archived(&me, TransactionKind::Bet, false),
                &Policy::V1,
                Err("bet_already_settled"),
            ),
            (
                archived(&me, TransactionKind::Bet, false),
                &refund,
                Err("bet_already_settled"),
            ),
            (
                archived(&me, TransactionKind::Bet, true),
                &Policy::V1,
                Ok(()),
            ),
            (
                archived(&me, TransactionKind::Win, false),
                &Policy::V1,
                Err("rollback_not_allowed"),
            ),
            (
                archived(&other, TransactionKind::Bet, true),
                &Policy::V1,
                Err("transaction_not_found"),
            ),
        ];
        for (i, (ctx, policy, expected)) in table.into_iter().enumerate() {
            // A second rollback of a reversed bet moves nothing.
            let expected = expected.map(|()| Split::new()).map_err(str::to_owned);
            assert_eq!(run(ctx, policy, "b1"), expected, "row {i}");
        }
    }
}
