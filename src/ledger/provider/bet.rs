//! A bet: debit the stake from the categories in order, open the round.

use super::{parse_session, session_belongs, session_invalid, Bet, Landing};
use crate::db;
use crate::domain::{Amount, Currency, ErrorCode};
use crate::ledger::idempotency;
use crate::ledger::write::RoundChange;
use crate::ledger::{Attempt, LedgerError, Movement, Outcome, Wallet};

#[derive(Clone)]
pub(super) struct BetCall {
    pub(super) provider_id: String,
    pub(super) amount: Amount,
    pub(super) currency: Currency,
    pub(super) fingerprint: Vec<u8>,
    pub(super) req: Bet,
}

impl Movement for BetCall {
    fn player_id(&self) -> &str {
        &self.req.player_id
    }

    fn kind(&self) -> &'static str {
        "bet"
    }

    async fn attempt(&self, wallet: &Wallet, attempt: Attempt) -> Result<Outcome, LedgerError> {
        let client = attempt.client();
        let req = &self.req;
        let key = (self.provider_id.as_str(), req.transaction_id.as_str());
        let session_id = parse_session(Some(&req.session_id));
        // See `Movement`: shared-key reads first, then the snapshot.
        let db::movement::Context {
            recorded,
            session,
            round,
            rolled_back: tombstone,
            ..
        } = db::movement::context(client, key, session_id, Some(&req.round_id), Some(key.1))
            .await?;
        if let Some(recorded) = recorded {
            return idempotency::replay(recorded, &self.fingerprint);
        }
        let (player, member) = attempt.lock(wallet, &req.player_id).await?;
        if !session_belongs(&session, key.0, &req.player_id)
            || session.as_ref().is_some_and(|s| s.game_id != req.game_id)
        {
            return Err(session_invalid());
        }
        let currency = &self.currency;
        // A refusal shows the player's balance in the player's currency, whatever
        // currency the request named.
        let own = wallet.player_currency(&player.currency)?;
        let refuse = |code, message: &str| wallet.business(code, message, &player, &own);
        let rejection = if player.status != "active" {
            Some(refuse(ErrorCode::PlayerBlocked, "the player is blocked"))
        } else if player.currency != currency.code {
            Some(refuse(
                ErrorCode::CurrencyMismatch,
                "the currency is not the player's",
            ))
        } else if session.as_ref().is_some_and(|s| !s.live) {
            Some(refuse(ErrorCode::SessionExpired, "the session has expired"))
        } else if tombstone {
            Some(refuse(
                ErrorCode::TransactionRolledBack,
                "this transaction was already rolled back",
            ))
        } else if round.as_ref().is_some_and(|r| r.status == "closed") {
            Some(refuse(ErrorCode::RoundClosed, "the round is closed"))
        } else {
            None
        };
        if let Some(rejection) = rejection {
            return wallet
                .reject(member, key, self.fingerprint.clone(), rejection)
                .await;
        }
        if round.as_ref().is_some_and(|r| r.player_id != req.player_id) {
            return Err(LedgerError::invalid("the round belongs to another player"));
        }
        let Some(split) = player
            .balances
            .allocate_stake(self.amount, wallet.categories())
        else {
            let error = refuse(
                ErrorCode::InsufficientFunds,
                "the balance does not cover the stake",
            );
            return wallet
                .reject(member, key, self.fingerprint.clone(), error)
                .await;
        };
        let outcome = wallet
            .land(
                member,
                key,
                &self.fingerprint,
                &player,
                currency,
                Landing {
                    kind: "bet",
                    win_kind: None,
                    amount: self.amount,
                    split,
                    sign: -1,
                    round_id: Some(&req.round_id),
                    game_id: Some(&req.game_id),
                    session_id,
                    reference: None,
                    reference_transaction_id: None,
                    round: match round {
                        Some(_) => RoundChange::None,
                        None => RoundChange::Open {
                            round_id: req.round_id.clone(),
                            game_id: req.game_id.clone(),
                        },
                    },
                },
            )
            .await?;
        wallet.inner.signals.bet_committed(&req.player_id);
        Ok(outcome)
    }
}
