//! A bet's attempt.

use crate::db;
use crate::domain::{Outcome, PlayerId};
use crate::ledger::command::{BetCommand, Fingerprint};
use crate::ledger::engine::{finish, Attempt, MoneyCall};
use crate::ledger::policy::Policy;
use crate::ledger::rules::bet::{decide, BetContext};
use crate::ledger::{Answer, LedgerError, Wallet};

pub struct BetCall {
    pub cmd: BetCommand,
    pub fingerprint: Fingerprint,
    pub policy: Policy,
}

impl MoneyCall for BetCall {
    fn player(&self) -> &PlayerId {
        &self.cmd.player
    }

    fn kind(&self) -> &'static str {
        "bet"
    }

    async fn attempt(&self, wallet: &Wallet, attempt: Attempt) -> Result<Answer, LedgerError> {
        let cmd = &self.cmd;
        let client = attempt.client();
        let ctx = db::movement::context(
            client,
            &cmd.key,
            &cmd.player,
            cmd.session.0,
            Some(&cmd.round),
            Some(&cmd.key.transaction),
        )
        .await?;
        if let Some(recorded) = ctx.recorded {
            let balance = self.policy.replay_balance;
            return wallet
                .replay(client, recorded, &self.fingerprint, balance, &cmd.player)
                .await;
        }
        let (player, member) = attempt.lock(wallet, &cmd.player, ctx.player).await?;
        wallet.player_currency(&player)?;
        let context = BetContext {
            session: ctx.session.as_ref(),
            round: ctx.round.as_ref(),
            tombstone: ctx.rolled_back,
        };
        let decision = decide(context, &player, cmd, wallet.categories(), &self.policy);
        let answer = finish(member, &cmd.key, &self.fingerprint, &player, decision).await?;
        if matches!(answer.outcome, Outcome::Applied(_)) {
            wallet.inner.signals.bet_committed(cmd.player.as_str());
        }
        Ok(answer)
    }
}
