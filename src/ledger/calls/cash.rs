//! A deposit's or a withdrawal's attempt.

use crate::db;
use crate::domain::PlayerId;
use crate::ledger::command::{CashCommand, CashDirection, Fingerprint};
use crate::ledger::engine::{finish, Attempt, MoneyCall};
use crate::ledger::policy::ReplayBalance;
use crate::ledger::rules::cash::decide;
use crate::ledger::{Answer, LedgerError, Wallet};

pub struct CashCall {
    pub cmd: CashCommand,
    pub fingerprint: Fingerprint,
}

impl MoneyCall for CashCall {
    fn player(&self) -> &PlayerId {
        &self.cmd.player
    }

    fn kind(&self) -> &'static str {
        match self.cmd.direction {
            CashDirection::Deposit { .. } => "deposit",
            CashDirection::Withdrawal => "withdrawal",
        }
    }

    async fn attempt(&self, wallet: &Wallet, attempt: Attempt) -> Result<Answer, LedgerError> {
        let cmd = &self.cmd;
        let client = attempt.client();
        let ctx = db::movement::context(client, &cmd.key, &cmd.player, None, None, None).await?;
        if let Some(recorded) = ctx.recorded {
            let balance = ReplayBalance::Recorded;
            return wallet
                .replay(client, recorded, &self.fingerprint, balance, &cmd.player)
                .await;
        }
        let (player, member) = attempt.lock(wallet, &cmd.player, ctx.player).await?;
        let currency = wallet.player_currency(&player)?;
        let decision = decide(&player, &currency, cmd);
        finish(member, &cmd.key, &self.fingerprint, &player, decision).await
    }
}
