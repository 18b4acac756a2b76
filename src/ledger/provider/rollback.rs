//! A rollback: give back exactly what a bet took, or leave a tombstone.

use futures::try_join;

use super::{Landing, Rollback};
use crate::db;
use crate::domain::{Amount, ErrorCode, Split};
use crate::ledger::idempotency;
use crate::ledger::write::RoundChange;
use crate::ledger::{Attempt, LedgerError, Movement, Outcome, Wallet};

#[derive(Clone)]
pub(super) struct RollbackCall {
    pub(super) provider_id: String,
    pub(super) fingerprint: Vec<u8>,
    pub(super) req: Rollback,
}

impl Movement for RollbackCall {
    fn player_id(&self) -> &str {
        &self.req.player_id
    }

    fn kind(&self) -> &'static str {
        "rollback"
    }

    async fn attempt(&self, wallet: &Wallet, attempt: Attempt) -> Result<Outcome, LedgerError> {
        let client = attempt.client();
        let req = &self.req;
        let key = (self.provider_id.as_str(), req.transaction_id.as_str());
        let reference = req.reference_transaction_id.as_str();
        // See `Movement`: shared-key reads first, then the snapshot.
        let (db::movement::Context { recorded, .. }, rows, target) = try_join!(
            db::movement::context(client, key, None, None, None),
            db::ledger::round_rows_of(client, key.0, reference),
            db::ledger::find(client, key.0, reference),
        )?;
        if let Some(recorded) = recorded {
            return idempotency::replay(recorded, &self.fingerprint);
        }
        let (player, member) = attempt.lock(wallet, &req.player_id).await?;
        let currency = wallet.player_currency(&player.currency)?;
        let refuse = |code, message: &str| wallet.business(code, message, &player, &currency);
        let mut landing = Landing {
            kind: "rollback",
            win_kind: None,
            amount: Amount::ZERO,
            split: Split::new(),
            sign: 1,
            round_id: req.round_id.as_deref(),
            game_id: None,
            session_id: None,
            reference: None,
            reference_transaction_id: Some(reference),
            round: RoundChange::None,
        };
        match &target {
            // Never seen: a tombstone that refuses the bet if it still arrives.
            None => {}
            Some(t) if t.player_id != req.player_id => {
                return Err(LedgerError::new(
                    ErrorCode::TransactionNotFound,
                    "no such transaction for this player",
                ));
            }
            Some(t) if t.kind != "bet" => {
                let error = refuse(
                    ErrorCode::RollbackNotAllowed,
                    "only bets can be rolled back",
                );
                return wallet
                    .reject(member, key, self.fingerprint.clone(), error)
                    .await;
            }
            Some(bet) => {
                let bet = rows.iter().find(|r| r.id == bet.id).unwrap_or(bet);
                let already = rows
                    .iter()
                    .any(|r| r.kind == "rollback" && r.reference_id == Some(bet.id));
                if !already && rows.iter().any(|r| r.kind == "win") {
                    let error = refuse(
                        ErrorCode::BetAlreadySettled,
                        "the round of this bet has a win",
                    );
                    return wallet
                        .reject(member, key, self.fingerprint.clone(), error)
                        .await;
                }
                landing.reference = Some(bet);
                landing.round_id = bet.round_id.as_deref();
                landing.game_id = bet.game_id.as_deref();
                landing.session_id = bet.session_id;
                if !already {
                    landing.amount = bet.amount;
                    landing.split = bet.split.clone();
                }
            }
        }
        wallet
            .land(member, key, &self.fingerprint, &player, &currency, landing)
            .await
    }
}
