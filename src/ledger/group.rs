//! Group commit: the transactional halves of money calls of *different* players share
//! one SERIALIZABLE transaction. A commit lane takes the calls waiting for it (at most
//! `ledger.commit_group_max`, one per player), locks all their player rows in one
//! statement, hands each call its player, collects what each call decided to write,
//! and writes everything in one statement followed by one COMMIT.
//!
//! Why: on a small machine PostgreSQL's cost per money call is mostly per statement
//! and per transaction (protocol, executor start-up, snapshot, commit), not per row.
//! A group of N calls pays for four statements instead of 4·N. When the service is
//! quiet a lane takes each call as it comes, so a lone call is not delayed; groups grow
//! only while calls queue for a lane.
//!
//! A group fails or commits as a whole. Its members then retry as they would alone: a
//! conflict (40001/40P01) or a key taken meanwhile is retried as usual, and any other
//! failure of a group of several is retried by each member alone, so one member's
//! error never becomes another's answer.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::db::movement::GroupWrite;
use crate::db::{self, DbError};
use crate::domain::Player;

/// The entrance to the commit lanes.
pub struct Groups {
    queue: mpsc::Sender<Join>,
}

/// A call asking for its player's row to be locked in the next group.
struct Join {
    player_id: String,
    /// Run in a group of one (after a failure shared with other calls).
    solo: bool,
    locked: oneshot::Sender<Result<Option<Player>, DbError>>,
    write: oneshot::Receiver<Pending>,
}

/// What a member decided to write, and where to send the outcome.
struct Pending {
    movement: GroupWrite,
    done: oneshot::Sender<Result<Applied, DbError>>,
}

/// The new amount of each balance row a movement updated.
pub type Applied = Vec<(String, i64)>;

/// A call's place in a group whose transaction holds its player's row lock. Dropping
/// it leaves the group without writing anything.
pub struct Member {
    write: oneshot::Sender<Pending>,
}

impl Groups {
    /// Starts `lanes` commit lanes on `pool`. A lane waits at most `member_wait` for
    /// the members of its group to decide what to write.
    pub fn start(pool: Pool, lanes: usize, group_max: usize, member_wait: Duration) -> Self {
        let (queue, receiver) = mpsc::channel(lanes.saturating_mul(group_max).max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..lanes {
            let lane = Lane {
                pool: pool.clone(),
                queue: Arc::clone(&receiver),
                group_max,
                member_wait,
                carry: None,
            };
            tokio::spawn(lane.run());
        }
        Groups { queue }
    }

    /// Waits for a group to lock `player_id`; `None` when there is no such player.
    pub async fn join(
        &self,
        player_id: &str,
        solo: bool,
    ) -> Result<(Option<Player>, Member), DbError> {
        let (locked, locked_rx) = oneshot::channel();
        let (write, write_rx) = oneshot::channel();
        self.queue
            .send(Join {
                player_id: player_id.to_owned(),
                solo,
                locked,
                write: write_rx,
            })
            .await
            .map_err(|_| DbError::Lost {
                why: "the commit lanes have stopped",
                in_doubt: false,
            })?;
        let player = locked_rx.await.map_err(|_| DbError::Lost {
            why: "the commit group ended before locking",
            in_doubt: false,
        })??;
        Ok((player, Member { write }))
    }
}

impl Member {
    /// Hands the movement to the group and waits for its COMMIT.
    pub async fn commit(self, movement: GroupWrite) -> Result<Applied, DbError> {
        let (done, done_rx) = oneshot::channel();
        self.write
            .send(Pending { movement, done })
            .map_err(|_| DbError::Lost {
                why: "the commit group gave up waiting for this call",
                in_doubt: false,
            })?;
        done_rx.await.map_err(|_| DbError::Lost {
            why: "the commit group ended before answering",
            in_doubt: true,
        })?
    }
}

struct Lane {
    pool: Pool,
    queue: Arc<Mutex<mpsc::Receiver<Join>>>,
    group_max: usize,
    member_wait: Duration,
    /// A call taken from the queue that could not join the group just formed.
    carry: Option<Join>,
}

impl Lane {
    async fn run(mut self) {
        while let Some(group) = self.next_group().await {
            #[allow(clippy::cast_precision_loss)] // a group holds at most a thousand calls
            metrics::histogram!("wallet_commit_group_size").record(group.len() as f64);
            self.commit(group).await;
        }
    }

    /// The calls waiting now, up to `group_max` and one per player; `None` once the
    /// service has shut down.
    async fn next_group(&mut self) -> Option<Vec<Join>> {
        let mut queue = self.queue.lock().await;
        let first = match self.carry.take() {
            Some(join) => join,
            None => queue.recv().await?,
        };
        let mut players = HashSet::from([first.player_id.clone()]);
        let mut group = vec![first];
        while !group[0].solo && group.len() < self.group_max {
            let Ok(join) = queue.try_recv() else { break };
            // A call that must run alone starts the next group, and so does a second
            // call of a player already in it: the player's turn keeps those apart in
            // this process, and a group must never lock one player for two calls.
            if join.solo || !players.insert(join.player_id.clone()) {
                self.carry = Some(join);
                break;
            }
            group.push(join);
        }
        Some(group)
    }

    async fn commit(&self, group: Vec<Join>) {
        let members = group.len();
        let shared = |e: DbError, in_doubt: bool| {
            let cause = Arc::new(e);
            move || DbError::Group {
                cause: Arc::clone(&cause),
                members,
                in_doubt,
            }
        };
        let client = match db::acquire(&self.pool).await {
            Ok(client) => client,
            Err(e) => {
                let error = shared(e, false);
                for join in group {
                    let _ = join.locked.send(Err(error()));
                }
                return;
            }
        };
        let player_ids: Vec<&str> = group.iter().map(|j| j.player_id.as_str()).collect();
        let mut players = match db::begin_and_lock(&client, &player_ids).await {
            Ok(players) => players,
            Err(e) => {
                end(client).await;
                let error = shared(e, false);
                for join in group {
                    let _ = join.locked.send(Err(error()));
                }
                return;
            }
        };
        let mut waiting = Vec::with_capacity(members);
        for join in group {
            let player = players.remove(&join.player_id);
            // A member that is gone has nothing to write; its receiver says so below.
            let _ = join.locked.send(Ok(player));
            waiting.push(join.write);
        }
        // Members decide in memory between the lock and the write; the wait is a
        // safety net, not a schedule.
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(self.member_wait).unwrap_or(now);
        let mut movements = Vec::with_capacity(members);
        let mut done = Vec::with_capacity(members);
        for write in waiting {
            match tokio::time::timeout_at(deadline, write).await {
                Ok(Ok(pending)) => {
                    movements.push(pending.movement);
                    done.push(pending.done);
                }
                // The member answered without writing (a replay, a refusal that is
                // not recorded, an error).
                Ok(Err(_)) => {}
                Err(_) => {
                    tracing::error!(members, "a commit group member did not decide in time");
                    end(client).await;
                    return; // the members' senders are dropped: each sees `Lost`
                }
            }
        }
        if movements.is_empty() {
            end(client).await;
            return;
        }
        match db::movement::write_and_commit(&client, &movements).await {
            Ok(mut applied) => {
                for (movement, done) in movements.iter().zip(done) {
                    let rows = applied
                        .remove(movement.player_id.as_str())
                        .unwrap_or_default();
                    let _ = done.send(Ok(rows));
                }
            }
            Err(e) => {
                // Without an answer from the server (no SQLSTATE: the connection was
                // lost) the COMMIT may have reached it and applied.
                let in_doubt = e.sqlstate().is_none();
                end(client).await;
                let error = shared(e, in_doubt);
                for done in done {
                    let _ = done.send(Err(error()));
                }
            }
        }
    }
}

/// Ends a transaction that will not commit; a connection in an unknown state is never
/// handed out again.
async fn end(client: Object) {
    if db::abort(&client).await.is_err() {
        drop(Object::take(client));
    }
}
