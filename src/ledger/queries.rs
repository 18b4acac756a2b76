//! Calls that move no money: balances, players, sessions and the audit reads. Each is
//! one or two statements on a pooled connection.

use futures::try_join;
use uuid::Uuid;

use super::{LedgerError, Wallet};
use crate::db;
use crate::domain::{
    Balances, Entry, ErrorCode, GameId, Player, PlayerId, PlayerStatus, ProviderId, Round, RoundId,
    Session, TransactionKind, TxKey,
};

/// Longest session a call may open: thirty days.
pub const SESSION_TTL_MAX_SECONDS: i64 = 30 * 24 * 3600;
pub const SESSION_TTL_DEFAULT_SECONDS: i64 = 3600;
pub const PAGE_LIMIT_DEFAULT: i64 = 50;
pub const PAGE_LIMIT_MAX: i64 = 500;

pub fn player_not_found() -> LedgerError {
    LedgerError::new(ErrorCode::PlayerNotFound, "no such player")
}

/// A player's balance, for the balance call.
#[derive(Debug, Clone)]
pub struct BalanceView {
    pub balance: Balances,
    pub currency: String,
}

/// A page of a player's ledger, newest first.
#[derive(Debug, Clone)]
pub struct TransactionPage {
    pub items: Vec<Entry>,
    /// The cursor of the next page: the wallet id of this page's last item.
    pub next_cursor: Option<Uuid>,
}

/// A round with its entries by kind.
#[derive(Debug, Clone)]
pub struct RoundView {
    pub round: Round,
    pub bets: Vec<Entry>,
    pub wins: Vec<Entry>,
    pub rollbacks: Vec<Entry>,
}

/// A request to open a session.
#[derive(Debug, Clone)]
pub struct OpenSession {
    pub player: PlayerId,
    pub provider: ProviderId,
    pub game: GameId,
    pub ttl_seconds: Option<i64>,
}

impl Wallet {
    /// The player's balance; with a session named, it must be this provider's and
    /// player's.
    pub async fn balance(
        &self,
        provider: &ProviderId,
        player: &PlayerId,
        session: Option<super::SessionRef>,
    ) -> Result<BalanceView, LedgerError> {
        let client = self.client().await?;
        let session_id = session.and_then(|s| s.0);
        let (found, session_row) = try_join!(db::players::get(&client, player.as_str()), async {
            match session_id {
                Some(id) => db::sessions::get(&client, id).await,
                None => Ok(None),
            }
        })?;
        let found = found.ok_or_else(player_not_found)?;
        if session.is_some() && !session_row.is_some_and(|s| s.belongs_to(provider, player)) {
            return Err(super::rules::bet::session_invalid());
        }
        self.player_currency(&found)?;
        Ok(BalanceView {
            balance: found.balances,
            currency: found.currency,
        })
    }

    /// Creates a player; `(true, player)` when new, `(false, player)` when the same
    /// call was made before.
    pub async fn create_player(
        &self,
        player_id: &PlayerId,
        currency: &str,
    ) -> Result<(bool, Player), LedgerError> {
        self.currency(currency)?;
        let client = self.client().await?;
        let created = db::players::insert(
            &client,
            player_id.as_str(),
            currency,
            self.categories().names(),
        )
        .await?;
        let player = db::players::get(&client, player_id.as_str())
            .await?
            .ok_or_else(|| LedgerError::Internal("a player vanished after its insert".into()))?;
        if !created && player.currency != currency {
            return Err(LedgerError::new(
                ErrorCode::PlayerExists,
                format!(
                    "player {} exists with currency {}",
                    player.player_id, player.currency
                ),
            ));
        }
        self.player_currency(&player)?;
        Ok((created, player))
    }

    pub async fn get_player(&self, player_id: &PlayerId) -> Result<Player, LedgerError> {
        let client = self.client().await?;
        let player = db::players::get(&client, player_id.as_str())
            .await?
            .ok_or_else(player_not_found)?;
        self.player_currency(&player)?;
        Ok(player)
    }

    pub async fn set_player_status(
        &self,
        player_id: &PlayerId,
        status: PlayerStatus,
    ) -> Result<Player, LedgerError> {
        let client = self.client().await?;
        if !db::players::set_status(&client, player_id.as_str(), status).await? {
            return Err(player_not_found());
        }
        let player = db::players::get(&client, player_id.as_str())
            .await?
            .ok_or_else(player_not_found)?;
        self.player_currency(&player)?;
        Ok(player)
    }

    pub async fn open_session(&self, req: OpenSession) -> Result<Session, LedgerError> {
        if !self.inner.providers.contains(req.provider.as_str()) {
            return Err(LedgerError::invalid(format!(
                "unknown provider_id {:?}",
                req.provider.as_str()
            )));
        }
        let ttl = req.ttl_seconds.unwrap_or(SESSION_TTL_DEFAULT_SECONDS);
        if !(1..=SESSION_TTL_MAX_SECONDS).contains(&ttl) {
            return Err(LedgerError::invalid(format!(
                "ttl_seconds must be between 1 and {SESSION_TTL_MAX_SECONDS}"
            )));
        }
        let client = self.client().await?;
        if db::players::get(&client, req.player.as_str())
            .await?
            .is_none()
        {
            return Err(player_not_found());
        }
        let session_id = Uuid::now_v7();
        let expires_at = db::sessions::insert(
            &client,
            session_id,
            req.player.as_str(),
            req.provider.as_str(),
            req.game.as_str(),
            ttl,
        )
        .await?;
        Ok(Session {
            session_id,
            player_id: req.player,
            provider_id: req.provider,
            game_id: req.game,
            expires_at,
            live: true,
        })
    }

    pub async fn expire_session(&self, session_id: &str) -> Result<(), LedgerError> {
        let not_found = || LedgerError::new(ErrorCode::SessionNotFound, "no such session");
        let session_id = Uuid::parse_str(session_id).map_err(|_| not_found())?;
        let client = self.client().await?;
        if db::sessions::expire(&client, session_id).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// A page of the player's transactions, newest first. The cursor is the wallet id
    /// of the last item of the previous page. Also returns the player, whose currency
    /// the amounts are in.
    pub async fn list_transactions(
        &self,
        player_id: &PlayerId,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<(Player, TransactionPage), LedgerError> {
        let limit = limit.unwrap_or(PAGE_LIMIT_DEFAULT);
        if !(1..=PAGE_LIMIT_MAX).contains(&limit) {
            return Err(LedgerError::invalid(format!(
                "limit must be between 1 and {PAGE_LIMIT_MAX}"
            )));
        }
        let before = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => {
                Some(Uuid::parse_str(c).map_err(|_| LedgerError::invalid("cursor is not valid"))?)
            }
            None => None,
        };
        let client = self.client().await?;
        let (player, mut rows) = try_join!(
            db::players::get(&client, player_id.as_str()),
            db::ledger::list_for_player(
                &client,
                player_id.as_str(),
                before,
                limit.saturating_add(1)
            )
        )?;
        let player = player.ok_or_else(player_not_found)?;
        self.player_currency(&player)?;
        let page_len = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > page_len;
        rows.truncate(page_len);
        let next_cursor = more.then(|| rows.last().map(|r| r.id)).flatten();
        Ok((
            player,
            TransactionPage {
                items: rows,
                next_cursor,
            },
        ))
    }

    pub async fn get_transaction(&self, key: &TxKey) -> Result<Entry, LedgerError> {
        let client = self.client().await?;
        match db::ledger::find(&client, key.provider.as_str(), key.transaction.as_str()).await? {
            Some(db::ledger::Found::Live(entry)) => Ok(*entry),
            Some(db::ledger::Found::Archived { .. }) => Err(LedgerError::new(
                ErrorCode::TransactionNotFound,
                "the transaction's month is archived (see `wallet archive`)",
            )),
            None => Err(LedgerError::new(
                ErrorCode::TransactionNotFound,
                "no such transaction",
            )),
        }
    }

    /// A player's round. `player` may be left out when one player played that round
    /// id, and is required when several did.
    pub async fn get_round(
        &self,
        provider: &ProviderId,
        round_id: &RoundId,
        player: Option<&PlayerId>,
    ) -> Result<RoundView, LedgerError> {
        let client = self.client().await?;
        let (provider_id, round) = (provider.as_str(), round_id.as_str());
        let round = match player {
            Some(player) => db::rounds::get(&client, provider_id, round, player.as_str()).await?,
            None => {
                let mut rounds = db::rounds::list(&client, provider_id, round, 2).await?;
                if rounds.len() > 1 {
                    return Err(LedgerError::invalid(
                        "several players played this round id: name one with player_id",
                    ));
                }
                rounds.pop()
            }
        };
        let round =
            round.ok_or_else(|| LedgerError::new(ErrorCode::RoundNotFound, "no such round"))?;
        let (rows, player) = try_join!(
            db::ledger::round_rows(
                &client,
                provider.as_str(),
                round_id.as_str(),
                round.player_id.as_str()
            ),
            db::players::get(&client, round.player_id.as_str())
        )?;
        let player = player.ok_or_else(player_not_found)?;
        self.player_currency(&player)?;
        let of_kind = |kind: TransactionKind| -> Vec<Entry> {
            rows.iter().filter(|r| r.kind == kind).cloned().collect()
        };
        Ok(RoundView {
            bets: of_kind(TransactionKind::Bet),
            wins: of_kind(TransactionKind::Win),
            rollbacks: of_kind(TransactionKind::Rollback),
            round,
        })
    }
}
