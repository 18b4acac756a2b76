//! In-process signals from committed bets to wins waiting for them: a win that arrives
//! before its bet subscribes to the player's signal, and every committed bet of that
//! player wakes it to look again. The number of waiting wins is bounded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Default)]
pub struct BetSignals {
    by_player: Mutex<HashMap<String, Arc<Notify>>>,
    waiting: AtomicUsize,
}

/// A registration to be woken by the player's next committed bet.
pub struct Subscription<'a> {
    signals: &'a BetSignals,
    player_id: String,
    notify: Arc<Notify>,
}

impl BetSignals {
    /// Registers interest in the player's bets; `None` when `waiters_max` wins already
    /// wait (the caller then answers without waiting).
    pub fn subscribe(&self, player_id: &str, waiters_max: usize) -> Option<Subscription<'_>> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= waiters_max {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let notify = self
            .by_player
            .lock()
            .expect("signal table poisoned")
            .entry(player_id.to_owned())
            .or_default()
            .clone();
        Some(Subscription {
            signals: self,
            player_id: player_id.to_owned(),
            notify,
        })
    }

    /// Wakes every win waiting on this player.
    pub fn bet_committed(&self, player_id: &str) {
        let notify = self
            .by_player
            .lock()
            .expect("signal table poisoned")
            .get(player_id)
            .cloned();
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

impl Subscription<'_> {
    pub fn notify(&self) -> &Notify {
        &self.notify
    }
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        self.signals.waiting.fetch_sub(1, Ordering::AcqRel);
        let mut table = self
            .signals
            .by_player
            .lock()
            .expect("signal table poisoned");
        // The table holds one reference and this subscription another: last one out.
        if Arc::strong_count(&self.notify) == 2 {
            table.remove(&self.player_id);
        }
    }
}
