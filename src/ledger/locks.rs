//! Per-player serialization inside the process: money calls of one player queue on an
//! async mutex before they take a database connection, so a burst on a hot player
//! waits in line instead of aborting at the database. The queue per player is bounded.
//!
//! Also a hint, never a condition of correct money: which players lately had calls made
//! stale by another process more than once ([`PlayerLocks::contended`]), so that their
//! next calls read under the player's advisory lock from their first attempt instead of
//! after a wasted one. One stale read (a duplicate sent to two processes at once, a win
//! racing its bet) says nothing of the player's next calls and marks nothing: an
//! exclusive attempt commits alone, without the group commit's sharing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;

use super::error::LedgerError;
use crate::domain::ErrorCode;

struct Slot {
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Holders and waiters of this player's lock.
    users: usize,
}

pub struct PlayerLocks {
    slots: Arc<Mutex<HashMap<String, Slot>>>,
    queue_max: usize,
    wait_max: Duration,
    /// Players whose calls went stale: until when that counts, and how many times.
    contended: Mutex<HashMap<String, Stales>>,
}

/// How long a stale read is remembered: a second one within it marks its player as
/// contended, for as long again after the latest.
const CONTENDED_FOR: Duration = Duration::from_secs(2);
/// Stale reads within [`CONTENDED_FOR`] of each other that mark a player contended.
const CONTENDED_AFTER: u32 = 2;
/// Players remembered as contended at most; past it, expired marks are dropped and, if
/// that is not enough, no new mark is made.
const CONTENDED_MAX: usize = 10_000;

/// A player's recent stale reads: how many, each within [`CONTENDED_FOR`] of the one
/// before, and until when the latest counts.
#[derive(Clone, Copy)]
struct Stales {
    until: Instant,
    count: u32,
}

/// Held while one money call of the player runs; releases and tidies up on drop.
pub struct PlayerGuard {
    _guard: OwnedMutexGuard<()>,
    _release: Release,
}

struct Release {
    slots: Arc<Mutex<HashMap<String, Slot>>>,
    player_id: String,
}

impl Drop for Release {
    fn drop(&mut self) {
        let mut slots = self.slots.lock().expect("player lock table poisoned");
        if let Some(slot) = slots.get_mut(&self.player_id) {
            slot.users = slot.users.saturating_sub(1);
            if slot.users == 0 {
                slots.remove(&self.player_id);
            }
        }
    }
}

impl PlayerLocks {
    pub fn new(queue_max: usize, wait_max: Duration) -> Self {
        Self {
            slots: Arc::default(),
            queue_max,
            wait_max,
            contended: Mutex::default(),
        }
    }

    /// Remembers that a call of this player found its reads stale.
    pub fn mark_contended(&self, player_id: &str) {
        let now = Instant::now();
        let Some(until) = now.checked_add(CONTENDED_FOR) else {
            return;
        };
        let mut marks = self.contended.lock().expect("contention table poisoned");
        if marks.len() >= CONTENDED_MAX && !marks.contains_key(player_id) {
            marks.retain(|_, s| s.until > now);
            if marks.len() >= CONTENDED_MAX {
                return;
            }
        }
        let count = match marks.get(player_id) {
            Some(s) if s.until > now => s.count.saturating_add(1),
            _ => 1,
        };
        marks.insert(player_id.to_owned(), Stales { until, count });
    }

    /// Whether calls of this player found their reads stale at least
    /// [`CONTENDED_AFTER`] times, each within two seconds of the one before, the latest
    /// in the last two seconds.
    pub fn contended(&self, player_id: &str) -> bool {
        let mut marks = self.contended.lock().expect("contention table poisoned");
        match marks.get(player_id) {
            Some(s) if s.until > Instant::now() => s.count >= CONTENDED_AFTER,
            Some(_) => {
                marks.remove(player_id);
                false
            }
            None => false,
        }
    }

    /// Waits for the player's turn. Refuses with `rate_limited` when `queue_max` calls
    /// of this player are already in line, and with `retry_later` when the turn does
    /// not come within `wait_max`.
    pub async fn lock(
        &self,
        player_id: &str,
        budget: Duration,
    ) -> Result<PlayerGuard, LedgerError> {
        let lock = {
            let mut slots = self.slots.lock().expect("player lock table poisoned");
            let slot = slots.entry(player_id.to_owned()).or_insert_with(|| Slot {
                lock: Arc::default(),
                users: 0,
            });
            if slot.users >= self.queue_max {
                metrics::counter!("wallet_player_queue_rejections_total").increment(1);
                return Err(LedgerError::new(
                    ErrorCode::RateLimited,
                    "too many calls for this player are waiting; retry shortly",
                ));
            }
            slot.users = slot.users.saturating_add(1);
            slot.lock.clone()
        };
        // From here on the slot is counted; `release` gives it back on every path.
        let release = Release {
            slots: self.slots.clone(),
            player_id: player_id.to_owned(),
        };
        let started = Instant::now();
        let guard = tokio::time::timeout(self.wait_max.min(budget), lock.lock_owned()).await;
        metrics::histogram!("wallet_player_lock_wait_seconds")
            .record(started.elapsed().as_secs_f64());
        let guard = guard.map_err(|_| {
            metrics::counter!("wallet_player_lock_timeouts_total").increment(1);
            LedgerError::new(
                ErrorCode::RetryLater,
                "this player's earlier calls are still running; nothing was recorded, retry",
            )
        })?;
        Ok(PlayerGuard {
            _guard: guard,
            _release: release,
        })
    }

    /// Players with a call running or waiting.
    pub fn active(&self) -> usize {
        self.slots.lock().expect("player lock table poisoned").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_caller_waits_and_the_table_empties_afterwards() {
        let locks = Arc::new(PlayerLocks::new(10, Duration::from_secs(5)));
        let first = locks.lock("p", Duration::MAX).await.unwrap();
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move { locks.lock("p", Duration::MAX).await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(first);
        waiter.await.unwrap().unwrap();
        assert_eq!(locks.active(), 0);
    }

    #[test]
    fn a_contended_player_is_remembered_for_a_while_and_others_are_not() {
        let locks = PlayerLocks::new(1, Duration::from_secs(5));
        assert!(!locks.contended("p"));
        locks.mark_contended("p");
        assert!(!locks.contended("p"), "one stale read marks nothing");
        locks.mark_contended("p");
        assert!(locks.contended("p"));
        assert!(!locks.contended("q"));
    }

    #[tokio::test]
    async fn the_queue_of_one_player_is_bounded() {
        let locks = PlayerLocks::new(1, Duration::from_secs(5));
        let _held = locks.lock("p", Duration::MAX).await.unwrap();
        let refused = locks.lock("p", Duration::MAX).await.err().unwrap();
        assert_eq!(refused.code(), ErrorCode::RateLimited);
        assert!(locks.lock("q", Duration::MAX).await.is_ok());
    }
}
