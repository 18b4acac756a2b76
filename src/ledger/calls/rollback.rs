//! A rollback's attempt.

use futures::try_join;

use crate::db;
use crate::domain::PlayerId;
use crate::ledger::command::{Fingerprint, RollbackCommand};
use crate::ledger::engine::{finish, Attempt, MoneyCall};
use crate::ledger::policy::Policy;
use crate::ledger::rules::rollback::{decide, ArchivedCall, RollbackContext, Target};
use crate::ledger::{Answer, LedgerError, Wallet};

pub struct RollbackCall {
    pub cmd: RollbackCommand,
    pub fingerprint: Fingerprint,
    pub policy: Policy,
}

impl MoneyCall for RollbackCall {
    fn player(&self) -> &PlayerId {
        &self.cmd.player
    }

    fn kind(&self) -> &'static str {
        "rollback"
    }

    async fn attempt(&self, wallet: &Wallet, attempt: Attempt) -> Result<Answer, LedgerError> {
        let cmd = &self.cmd;
        let client = attempt.client();
        let provider = cmd.key.provider.as_str();
        let target = cmd.target.as_str();
        let player = cmd.player.as_str();
        let statements = [
            db::movement::CONTEXT,
            db::ledger::BET_ROWS,
            db::ledger::FIND,
        ];
        db::prepare(client, &statements).await?;
        // The context goes out first, the other reads after it in the same round trip:
        // each sees at least what it saw, and its ledger sequence, checked under the
        // player's lock, dates them all. The bet's rows go out before the bet itself:
        // an archive committing in between (it bumps no sequence) can then show the
        // bet archived with its rows still live, which the archived-bet rule reads,
        // but never the bet live with its rollback already archived. Keep this order.
        let (ctx, bet_rows, found) = try_join!(
            db::movement::context(client, &cmd.key, &cmd.player, None, None, None),
            db::ledger::bet_rows(client, provider, target, player),
            db::ledger::find(client, provider, target),
        )?;
        if let Some(recorded) = ctx.recorded {
            let balance = self.policy.replay_balance;
            return wallet
                .replay(client, recorded, &self.fingerprint, balance, &cmd.player)
                .await;
        }
        let (player, member) = attempt.lock(wallet, &cmd.player, ctx.player).await?;
        wallet.player_currency(&player)?;
        let target = match &found {
            Some(db::ledger::Found::Live(entry)) => Some(Target::Live(entry)),
            Some(db::ledger::Found::Archived {
                ledger_id,
                player_id,
                kind,
                reversed,
            }) => Some(Target::Archived(ArchivedCall {
                ledger_id: *ledger_id,
                player_id,
                kind: *kind,
                reversed: *reversed,
            })),
            None => None,
        };
        let context = RollbackContext {
            target,
            bet_rows: &bet_rows,
        };
        let decision = decide(context, &player, cmd, &self.policy);
        finish(member, &cmd.key, &self.fingerprint, &player, decision).await
    }
}
