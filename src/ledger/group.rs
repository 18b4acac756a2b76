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
//! Across processes: before its transaction, a lane takes the PostgreSQL advisory lock
//! of each member's player (session-level, in key order, see [`db::lock_players`]) and
//! gives them back with its COMMIT, so that calls of one player committed by several
//! processes wait for each other instead of aborting each other's groups. A call that
//! must read and commit under its player's lock ([`Groups::alone`]) takes the lock on
//! its own connection before it reads and commits there, in a group of one.
//!
//! A group fails or commits as a whole. Its members then retry as they would alone: a
//! conflict (40001/40P01) or a key taken meanwhile is retried as usual, and any other
//! failure of a group of several is retried by each member alone, so one member's
//! error never becomes another's answer.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::db::movement::GroupWrite;
use crate::db::players::RowsAt;
use crate::db::{self, DbError};
use crate::domain::Player;

/// The entrance to the commit lanes.
pub struct Groups {
    queue: mpsc::Sender<Join>,
    member_wait: Duration,
}

/// Whether lanes take their players' advisory locks.
#[derive(Clone, Copy)]
struct TakeLocks(bool);

/// A call asking for its player's row to be locked in the next group.
struct Join {
    player_id: String,
    /// Where the call read its player's rows.
    rows: RowsAt,
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
    /// With `advisory_locks`, lanes hold their players' advisory locks around each
    /// transaction.
    pub fn start(
        pool: Pool,
        lanes: usize,
        group_max: usize,
        member_wait: Duration,
        advisory_locks: bool,
    ) -> Self {
        let (queue, receiver) = mpsc::channel(lanes.saturating_mul(group_max).max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..lanes {
            let lane = Lane {
                pool: pool.clone(),
                queue: Arc::clone(&receiver),
                group_max,
                member_wait,
                take_locks: TakeLocks(advisory_locks),
                carry: None,
            };
            tokio::spawn(lane.run());
        }
        Groups { queue, member_wait }
    }

    /// Waits for a group to lock `player_id`; `None` when there is no such player.
    pub async fn join(
        &self,
        player_id: &str,
        rows: RowsAt,
        solo: bool,
    ) -> Result<(Option<Player>, Member), DbError> {
        let (join, locked, member) = Join::new(player_id, rows, solo);
        self.queue.send(join).await.map_err(|_| DbError::Lost {
            why: "the commit lanes have stopped",
            in_doubt: false,
        })?;
        Ok((locked.wait().await?, member))
    }

    /// Runs a group of one on `client`, a connection that already holds the player's
    /// advisory lock; the group's end gives the lock back, and the connection to the
    /// pool.
    pub async fn alone(
        &self,
        client: Object,
        player_id: &str,
        rows: RowsAt,
    ) -> Result<(Option<Player>, Member), DbError> {
        let (join, locked, member) = Join::new(player_id, rows, true);
        tokio::spawn(commit(
            client,
            vec![join],
            self.member_wait,
            TakeLocks(false),
        ));
        Ok((locked.wait().await?, member))
    }
}

/// The receiving end of a [`Join`]'s lock.
struct Locked(oneshot::Receiver<Result<Option<Player>, DbError>>);

impl Locked {
    async fn wait(self) -> Result<Option<Player>, DbError> {
        self.0.await.map_err(|_| DbError::Lost {
            why: "the commit group ended before locking",
            in_doubt: false,
        })?
    }
}

impl Join {
    fn new(player_id: &str, rows: RowsAt, solo: bool) -> (Join, Locked, Member) {
        let (locked, locked_rx) = oneshot::channel();
        let (write, write_rx) = oneshot::channel();
        let join = Join {
            player_id: player_id.to_owned(),
            rows,
            solo,
            locked,
            write: write_rx,
        };
        (join, Locked(locked_rx), Member { write })
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
    take_locks: TakeLocks,
    /// A call taken from the queue that could not join the group just formed.
    carry: Option<Join>,
}

impl Lane {
    async fn run(mut self) {
        while let Some(group) = self.next_group().await {
            #[allow(clippy::cast_precision_loss)] // a group holds at most a thousand calls
            metrics::histogram!("wallet_commit_group_size").record(group.len() as f64);
            match db::acquire(&self.pool).await {
                Ok(client) => commit(client, group, self.member_wait, self.take_locks).await,
                Err(e) => {
                    let error = shared(e, group.len(), false);
                    for join in group {
                        let _ = join.locked.send(Err(error()));
                    }
                }
            }
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
}

/// Runs one group's transaction on `client`: the players' advisory locks (unless the
/// connection holds them already), BEGIN and the row locks, the members' decisions,
/// then the write and COMMIT; every way out gives the advisory locks back.
async fn commit(client: Object, group: Vec<Join>, member_wait: Duration, take_locks: TakeLocks) {
    let members = group.len();
    let fail = |e: DbError, in_doubt: bool| shared(e, members, in_doubt);
    let player_ids: Vec<&str> = group.iter().map(|j| j.player_id.as_str()).collect();
    let mut keys: Vec<i64> = match take_locks.0 {
        true => player_ids.iter().map(|p| db::player_lock_key(p)).collect(),
        false => Vec::new(),
    };
    keys.sort_unstable();
    keys.dedup();
    let rows: Vec<(&str, &RowsAt)> = group
        .iter()
        .map(|j| (j.player_id.as_str(), &j.rows))
        .collect();
    let locked = db::begin_and_lock(&client, &keys, &rows).await;
    drop(rows);
    let mut players = match locked {
        Ok(players) => players,
        Err(e) => {
            end(client).await;
            let error = fail(e, false);
            for join in group {
                let _ = join.locked.send(Err(error()));
            }
            return;
        }
    };
    let mut waiting = Vec::with_capacity(members);
    let mut at = HashMap::with_capacity(members);
    for join in group {
        let player = players.remove(&join.player_id);
        if player.is_some() {
            at.insert(join.player_id.clone(), join.rows);
        }
        // A member that is gone has nothing to write; its receiver says so below.
        let _ = join.locked.send(Ok(player));
        waiting.push(join.write);
    }
    // Members decide in memory between the lock and the write; the wait is a
    // safety net, not a schedule.
    let now = tokio::time::Instant::now();
    let deadline = now.checked_add(member_wait).unwrap_or(now);
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
    match db::movement::write_and_commit(&client, &movements, &at).await {
        Ok(mut applied) => {
            for (movement, done) in movements.iter().zip(done) {
                let rows = applied
                    .remove(movement.player_id.as_str())
                    .unwrap_or_default();
                let _ = done.send(Ok(rows));
            }
        }
        Err(e) => {
            // When the connection ended (lost, or closed by the server: an
            // administrator's terminate, a shutdown, SQLSTATE classes 57 and 08) the
            // COMMIT may have applied before it did: the error can belong to the lock
            // release sent with it, or overtake its answer. Only an error the server
            // answered on a live connection (a conflict, a key taken) proves it did not.
            let in_doubt = e.is_unavailable();
            end(client).await;
            let error = fail(e, in_doubt);
            for done in done {
                let _ = done.send(Err(error()));
            }
        }
    }
}

/// A failure shared by the `members` calls of a group, once per member.
fn shared(e: DbError, members: usize, in_doubt: bool) -> impl Fn() -> DbError {
    let cause = Arc::new(e);
    move || DbError::Group {
        cause: Arc::clone(&cause),
        members,
        in_doubt,
    }
}

/// Ends a transaction that will not commit; a connection in an unknown state is never
/// handed out again.
async fn end(client: Object) {
    if db::abort(&client).await.is_err() {
        drop(Object::take(client));
    }
}
