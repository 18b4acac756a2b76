//! A win: find the bet it pays, credit it in the proportions of the round's stakes.

use futures::try_join;

use super::{parse_session, session_belongs, session_invalid, Landing, Win};
use crate::db;
use crate::db::ledger::LedgerRow;
use crate::domain::category::{add_split, allocate_win, CASH};
use crate::domain::{Amount, Currency, ErrorCode, Split};
use crate::ledger::idempotency;
use crate::ledger::write::RoundChange;
use crate::ledger::{Attempt, LedgerError, Movement, Outcome, Wallet};

#[derive(Clone)]
pub(super) struct WinCall {
    pub(super) provider_id: String,
    pub(super) amount: Amount,
    pub(super) currency: Currency,
    pub(super) win_kind: String,
    pub(super) fingerprint: Vec<u8>,
    pub(super) req: Win,
}

/// What a win is linked to.
enum Link<'a> {
    Bet(&'a LedgerRow, Vec<&'a LedgerRow>),
    RolledBack,
    Missing,
}

/// Finds the win's bet among the rows of a round: by provider id when given, else the
/// latest bet of the player that is not rolled back. Returns the bet and the round's
/// live bets (their stakes set the win's split).
fn link<'a>(rows: &'a [LedgerRow], player_id: &str, bet_id: Option<&str>) -> Link<'a> {
    let rolled_back = |bet: &LedgerRow| {
        rows.iter()
            .any(|r| r.kind == "rollback" && r.reference_id == Some(bet.id))
    };
    let bets: Vec<&LedgerRow> = rows
        .iter()
        .filter(|r| r.kind == "bet" && r.player_id == player_id)
        .collect();
    let live: Vec<&LedgerRow> = bets.iter().copied().filter(|b| !rolled_back(b)).collect();
    let chosen = match bet_id {
        Some(id) => match bets.iter().find(|b| b.transaction_id == id) {
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

impl Movement for WinCall {
    fn player_id(&self) -> &str {
        &self.req.player_id
    }

    fn kind(&self) -> &'static str {
        "win"
    }

    async fn attempt(&self, wallet: &Wallet, attempt: Attempt) -> Result<Outcome, LedgerError> {
        let client = attempt.client();
        let req = &self.req;
        let key = (self.provider_id.as_str(), req.transaction_id.as_str());
        let session_id = parse_session(req.session_id.as_deref());
        let needs_bet = self.win_kind == "win";
        let bet_id = req.bet_transaction_id.as_deref();
        let rows = async {
            match (needs_bet, bet_id) {
                (false, _) => Ok(Vec::new()),
                (true, Some(bet_id)) => db::ledger::round_rows_of(client, key.0, bet_id).await,
                (true, None) => db::ledger::round_rows(client, key.0, &req.round_id).await,
            }
        };
        // The last resort for a win without bet id or round match: the round of the
        // session's latest unsettled bet in this game.
        let by_session = async {
            match session_id {
                Some(session_id) if needs_bet && bet_id.is_none() => {
                    db::ledger::round_rows_of_open_session_bet(
                        client,
                        key.0,
                        &req.player_id,
                        session_id,
                        &req.game_id,
                    )
                    .await
                }
                _ => Ok(Vec::new()),
            }
        };
        // See `Movement`: shared-key reads first, then the snapshot.
        let tombstone_of = bet_id.filter(|_| needs_bet);
        let closes = req.round_closed == Some(true);
        let round_id = Some(req.round_id.as_str()).filter(|_| closes);
        let (context, mut rows, by_session) = try_join!(
            db::movement::context(client, key, session_id, round_id, tombstone_of),
            rows,
            by_session,
        )?;
        let db::movement::Context {
            recorded,
            session,
            round,
            rolled_back: tombstone,
            round_tid,
        } = context;
        if let Some(recorded) = recorded {
            return idempotency::replay(recorded, &self.fingerprint);
        }
        let (player, member) = attempt.lock(wallet, &req.player_id).await?;
        if req.session_id.is_some() && !session_belongs(&session, key.0, &req.player_id) {
            return Err(session_invalid());
        }
        let currency = &self.currency;
        // A refusal shows the player's balance in the player's currency, whatever
        // currency the request named.
        let own = wallet.player_currency(&player.currency)?;
        let refuse = |code, message: &str| wallet.business(code, message, &player, &own);
        if player.currency != currency.code {
            let error = refuse(
                ErrorCode::CurrencyMismatch,
                "the currency is not the player's",
            );
            return wallet
                .reject(member, key, self.fingerprint.clone(), error)
                .await;
        }
        if needs_bet
            && bet_id.is_none()
            && session.is_some()
            && matches!(link(&rows, &req.player_id, None), Link::Missing)
        {
            rows = by_session;
        }
        let (split, reference) = if needs_bet {
            match link(&rows, &req.player_id, bet_id) {
                Link::Bet(bet, live) => {
                    let mut stakes = Split::new();
                    for b in live {
                        add_split(&mut stakes, &b.split);
                    }
                    (allocate_win(self.amount, &stakes), Some(bet))
                }
                Link::Missing if !tombstone => {
                    return Err(LedgerError::new(
                        ErrorCode::BetNotFound,
                        "no bet found for this win",
                    ));
                }
                // Rolled back, or never seen but a rollback of it left a tombstone.
                Link::RolledBack | Link::Missing => {
                    let error = refuse(
                        ErrorCode::TransactionRolledBack,
                        "the bet of this win was rolled back",
                    );
                    return wallet
                        .reject(member, key, self.fingerprint.clone(), error)
                        .await;
                }
            }
        } else {
            ([(CASH.to_owned(), self.amount)].into(), None)
        };
        // A win may close its round; one that is already closed, or was never opened
        // (a promotional win), stays as it is.
        let round = match (round, round_tid) {
            (Some(r), Some(tid)) if r.status == "open" => RoundChange::Close {
                round_id: req.round_id.clone(),
                tid,
            },
            _ => RoundChange::None,
        };
        wallet
            .land(
                member,
                key,
                &self.fingerprint,
                &player,
                currency,
                Landing {
                    kind: "win",
                    win_kind: Some(&self.win_kind),
                    amount: self.amount,
                    split,
                    sign: 1,
                    round_id: Some(&req.round_id),
                    game_id: Some(&req.game_id),
                    session_id: session.as_ref().map(|s| s.session_id),
                    reference,
                    reference_transaction_id: None,
                    round,
                },
            )
            .await
    }
}
