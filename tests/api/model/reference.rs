//! The reference model of the money rules of `shared/wallet-api.md`, written to be read
//! next to the contract, not to be fast: every lookup is a scan of the whole ledger.
//!
//! Given the model's state and one call, [`Model::branches`] says what the server may
//! answer and what the state is afterwards. Usually that is one answer. Where the
//! contract leaves a choice open (which of several refusals comes first, whether a
//! field that is not a "payload" field makes a resend another call, ...) it lists each
//! reading the contract allows, each with its own next state and a `note` saying which
//! open point it is; the server's answer picks the branch. Every such point is listed
//! in [`notes`] and reported by the test.
//!
//! Readings of the contract the model makes where its text needs one:
//! - Order: the per-call limit (400) first; then the unknown player (404) and the
//!   idempotency record (replay / 409); then, for a bet, the session (401); then the
//!   business refusals, in no fixed order between them.
//! - A bet is *settled* when a `win` is linked to it, or when a `win` both names its round
//!   and is linked into that round (the player's round "has received a win"). A win that
//!   does only one of the two is an open point ([`notes::WIN_NAMES_ROUND`],
//!   [`notes::WIN_LINKED_INTO_ROUND`]).
//! - The session fallback's "unsettled" bet is one that is neither settled in that sense
//!   nor rolled back.
//! - A win by round whose bets are all rolled back is 422 transaction_rolled_back (the
//!   contract's "a win for a bet that was rolled back"), not 404.
//! - A win naming a session needs it to exist and be this provider's and player's (any
//!   game; an expired one is fine), else 401 session_invalid.
//! - Wins on a closed round are accepted: only bets are refused with round_closed.
//! - A rollback naming an id that is not an accepted transaction of this provider
//!   (never seen, or only a refused call) leaves a tombstone of this player; a rollback
//!   naming a rollback is 422 rollback_not_allowed, like one naming a win.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The idempotency namespace of operator deposits and withdrawals (model-internal name).
pub const OPERATOR: &str = "(operator)";
/// One call moves at most 10^15 minor units.
pub const CALL_MAX: u128 = 1_000_000_000_000_000;
/// No balance category goes above 2^62 minor units.
pub const BALANCE_MAX: u128 = 1 << 62;

/// The open points of the contract the model branches on.
pub mod notes {
    pub const REFUSAL_ORDER: &str =
        "several refusals apply at once; the contract orders none of them";
    pub const EARLY_ORDER: &str =
        "several unrecorded refusals apply (400/404/409); the contract orders none of them";
    pub const INCIDENTAL_FIELD: &str =
        "a resend differs only in session_id or round_closed, which the contract does not list as payload";
    pub const RB_OR_SESSION: &str =
        "a win by round whose round's bets are all rolled back also names a session: \
         transaction_rolled_back, or the session fallback";
    /// Which round "has received a win" when a win is linked to a bet of another round
    /// than the one it names (by bet id, or by the session fallback).
    pub const WIN_NAMES_ROUND: &str =
        "a bet's round is named by a win linked to a bet of another round: \
         is the bet settled";
    pub const WIN_LINKED_INTO_ROUND: &str =
        "a bet's round holds the bet a win (naming another round) is linked to: \
         is the bet settled";
    pub const ROUND_OF_WIN: &str =
        "a bet's round is named by one win linked elsewhere and holds the bet of another: \
         is the bet settled";
    pub const SETTLED_AND_ROLLED_BACK: &str =
        "a second rollback of a bet whose round got a win after the first rollback";
    pub const ROLLBACK_OVER_LIMIT: &str =
        "a rollback would take a category above 2^62; the contract caps deposits and wins only";
    pub const BALANCE_EXPIRED_SESSION: &str =
        "the balance call names an expired session; the contract says nothing";
}

// ------------------------------------------------------------------ money

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Currency {
    pub code: &'static str,
    pub scale: u32,
}

pub const EUR: Currency = Currency {
    code: "EUR",
    scale: 2,
};
pub const USD: Currency = Currency {
    code: "USD",
    scale: 2,
};
pub const JPY: Currency = Currency {
    code: "JPY",
    scale: 0,
};

/// The balance categories in their configured order: cash, then bonus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Cash,
    Bonus,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Cash => "cash",
            Category::Bonus => "bonus",
        }
    }
}

/// An amount per category, in minor units. u128, so that the model itself never wraps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Money {
    pub cash: u128,
    pub bonus: u128,
}

impl Money {
    pub const ZERO: Money = Money { cash: 0, bonus: 0 };

    pub fn cash(amount: u128) -> Money {
        Money {
            cash: amount,
            bonus: 0,
        }
    }

    pub fn of(category: Category, amount: u128) -> Money {
        match category {
            Category::Cash => Money::cash(amount),
            Category::Bonus => Money {
                cash: 0,
                bonus: amount,
            },
        }
    }

    pub fn total(self) -> u128 {
        self.cash + self.bonus
    }

    pub fn plus(self, other: Money) -> Money {
        Money {
            cash: self.cash + other.cash,
            bonus: self.bonus + other.bonus,
        }
    }

    /// Panics when a category would go negative: the rules never let that happen.
    pub fn minus(self, other: Money) -> Money {
        Money {
            cash: self.cash.checked_sub(other.cash).expect("cash below zero"),
            bonus: self
                .bonus
                .checked_sub(other.bonus)
                .expect("bonus below zero"),
        }
    }

    pub fn within_limit(self) -> bool {
        self.cash <= BALANCE_MAX && self.bonus <= BALANCE_MAX
    }
}

/// The stake taken from the categories in order (cash first); None when the total is
/// not enough.
pub fn allocate_stake(balance: Money, amount: u128) -> Option<Money> {
    if balance.total() < amount {
        return None;
    }
    let cash = amount.min(balance.cash);
    Some(Money {
        cash,
        bonus: amount - cash,
    })
}

/// A win in the proportions of `stakes`: the bonus share rounded down, the rest cash;
/// all cash when nothing was staked.
pub fn split_win(amount: u128, stakes: Money) -> Money {
    if stakes.total() == 0 {
        return Money::cash(amount);
    }
    let bonus = amount * stakes.bonus / stakes.total();
    Money {
        cash: amount - bonus,
        bonus,
    }
}

/// `minor` written with exactly `scale` decimals.
pub fn decimal(minor: u128, scale: u32) -> String {
    if scale == 0 {
        return minor.to_string();
    }
    let unit = 10u128.pow(scale);
    format!(
        "{}.{:0width$}",
        minor / unit,
        minor % unit,
        width = scale as usize
    )
}

/// A balance object as the contract writes it.
pub fn balance_json(balance: Money, currency: Currency) -> Value {
    json!({
        "total": decimal(balance.total(), currency.scale),
        "cash": decimal(balance.cash, currency.scale),
        "bonus": decimal(balance.bonus, currency.scale),
    })
}

// ------------------------------------------------------------------ state

#[derive(Clone, Debug)]
pub struct Player {
    pub currency: Currency,
    pub blocked: bool,
    pub balance: Money,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub player: String,
    pub provider: String,
    pub game: String,
    pub live: bool,
}

/// A round of one player: `(provider, round_id, player_id)`.
#[derive(Clone, Debug)]
pub struct Round {
    pub open: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WinKind {
    Win,
    Promo,
    Jackpot,
}

impl WinKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WinKind::Win => "win",
            WinKind::Promo => "promo",
            WinKind::Jackpot => "jackpot",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bet,
    Win(WinKind),
    Rollback,
    Deposit,
    Withdrawal,
}

/// One accepted money call.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The provider, or [`OPERATOR`].
    pub ns: String,
    pub tx: String,
    pub player: String,
    pub kind: Kind,
    /// What moved, per category (the amount is its total).
    pub split: Money,
    pub round: Option<String>,
    pub game: Option<String>,
    pub session: Option<String>,
    /// The provider's id this entry names: the bet a win settles, the id a rollback
    /// reverses (seen or not).
    pub reference: Option<String>,
    /// The ledger index of the bet a win is linked to or a rollback reverses; None for
    /// a tombstone and for promo and jackpot wins.
    pub bet: Option<usize>,
}

/// What makes two calls with one transaction id the same call: the contract's list
/// (amount, currency, player, round, game, kind, reference), the endpoint, and the
/// deposit's category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meaning {
    pub call: &'static str,
    pub player: String,
    /// (currency code, minor units at that currency's scale).
    pub amount: Option<(String, u128)>,
    pub round: Option<String>,
    pub game: Option<String>,
    pub kind: Option<WinKind>,
    pub reference: Option<String>,
    pub category: Option<Category>,
}

/// Fields of a call the contract does not list as payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Incidentals {
    pub session: Option<String>,
    pub round_closed: bool,
}

#[derive(Clone, Debug)]
pub struct RecordKey {
    pub ns: String,
    pub tx: String,
    pub meaning: Meaning,
    pub incidentals: Incidentals,
}

/// An idempotency record: the call and its first answer, replayed as it was.
#[derive(Clone, Debug)]
pub struct Record {
    pub meaning: Meaning,
    pub incidentals: Incidentals,
    pub status: u16,
    pub body: Value,
}

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub players: BTreeMap<String, Player>,
    /// In creation order.
    pub sessions: Vec<Session>,
    pub rounds: BTreeMap<(String, String, String), Round>,
    pub ledger: Vec<Entry>,
    pub records: BTreeMap<(String, String), Record>,
}

// ------------------------------------------------------------------ calls

#[derive(Clone, Debug)]
pub struct BetCall {
    pub provider: String,
    pub tx: String,
    pub player: String,
    pub session: String,
    pub round: String,
    pub game: String,
    pub currency: Currency,
    pub minor: u128,
}

#[derive(Clone, Debug)]
pub struct WinCall {
    pub provider: String,
    pub tx: String,
    pub player: String,
    pub round: String,
    pub game: String,
    pub currency: Currency,
    pub minor: u128,
    /// None: the field is left out (a `win`).
    pub kind: Option<WinKind>,
    pub bet: Option<String>,
    pub session: Option<String>,
    pub round_closed: Option<bool>,
}

#[derive(Clone, Debug)]
pub struct RollbackCall {
    pub provider: String,
    pub tx: String,
    pub player: String,
    pub reference: String,
    pub round: Option<String>,
}

#[derive(Clone, Debug)]
pub struct DepositCall {
    pub tx: String,
    pub player: String,
    pub minor: u128,
    /// None: the field is left out (cash).
    pub category: Option<Category>,
}

#[derive(Clone, Debug)]
pub struct WithdrawalCall {
    pub tx: String,
    pub player: String,
    pub minor: u128,
}

#[derive(Clone, Debug)]
pub enum Call {
    Bet(BetCall),
    Win(WinCall),
    Rollback(RollbackCall),
    Deposit(DepositCall),
    Withdrawal(WithdrawalCall),
    /// The provider's balance call.
    Balance {
        provider: String,
        player: String,
        session: Option<String>,
    },
    /// PATCH /v1/players/{id}.
    SetStatus {
        player: String,
        blocked: bool,
    },
    /// DELETE /v1/sessions/{id}.
    ExpireSession {
        session: String,
    },
}

impl Call {
    /// A call that moves money and is idempotent by transaction id.
    pub fn is_money(&self) -> bool {
        matches!(
            self,
            Call::Bet(_)
                | Call::Win(_)
                | Call::Rollback(_)
                | Call::Deposit(_)
                | Call::Withdrawal(_)
        )
    }
}

// ------------------------------------------------------------------ expectations

/// What one answer must look like.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // a handful per call: clarity over size
pub enum Expect {
    Fresh(Fresh),
    /// The recorded answer again, with `idempotent-replayed: true`.
    Replay {
        status: u16,
        body: Value,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Fresh {
    pub status: u16,
    /// The error code; None for a success.
    pub code: Option<&'static str>,
    /// The balance the body shows: `balance` of a success, `error.balance` of a
    /// refusal (when the server includes it).
    pub balance: Option<(Money, Currency)>,
    /// The `transaction_id` a money call's success echoes.
    pub transaction_id: Option<String>,
    /// For an accepted win: the `reference_transaction_id` of its ledger entry.
    pub reference: Option<Option<String>>,
    /// `status` of a player body.
    pub player_status: Option<&'static str>,
    /// The answer is recorded under this key.
    pub record: Option<RecordKey>,
}

#[derive(Clone, Debug)]
pub struct Branch {
    pub expect: Expect,
    pub next: Model,
    /// Empty when the contract allows this answer only; else the open point.
    pub note: &'static str,
}

impl Branch {
    /// The state after the server answered `status`/`body` along this branch.
    pub fn settle(self, status: u16, body: &Value) -> Model {
        let mut next = self.next;
        if let Expect::Fresh(Fresh {
            record: Some(key), ..
        }) = self.expect
        {
            next.records.insert(
                (key.ns, key.tx),
                Record {
                    meaning: key.meaning,
                    incidentals: key.incidentals,
                    status,
                    body: body.clone(),
                },
            );
        }
        next
    }

    fn noted(mut self, note: &'static str) -> Branch {
        if self.note.is_empty() {
            self.note = note;
        }
        self
    }
}

/// Marks every branch with `note` when there is more than one.
fn open_point(branches: Vec<Branch>, note: &'static str) -> Vec<Branch> {
    if branches.len() < 2 {
        return branches;
    }
    branches.into_iter().map(|b| b.noted(note)).collect()
}

/// A win's link, as the correlation rules find it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Bet(usize),
    /// The bet (or the bet id's tombstone) was rolled back.
    RolledBack,
    Missing,
    /// Promo and jackpot wins.
    NoBetNeeded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settled {
    Yes,
    No,
    /// Only under one of two readings: the open point.
    Maybe(&'static str),
}

// ------------------------------------------------------------------ the rules

impl Model {
    pub fn add_player(&mut self, id: &str, currency: Currency) {
        self.players.insert(
            id.to_owned(),
            Player {
                currency,
                blocked: false,
                balance: Money::ZERO,
            },
        );
    }

    pub fn add_session(&mut self, id: &str, player: &str, provider: &str, game: &str) {
        self.sessions.push(Session {
            id: id.to_owned(),
            player: player.to_owned(),
            provider: provider.to_owned(),
            game: game.to_owned(),
            live: true,
        });
    }

    /// A deposit the test wrote into the database directly (to get near the balance
    /// limit without thousands of calls): a ledger entry and no idempotency record.
    pub fn seed(&mut self, tx: &str, player: &str, category: Category, amount: u128) {
        let p = self.players.get_mut(player).expect("a known player");
        p.balance = p.balance.plus(Money::of(category, amount));
        self.ledger.push(Entry {
            ns: OPERATOR.to_owned(),
            tx: tx.to_owned(),
            player: player.to_owned(),
            kind: Kind::Deposit,
            split: Money::of(category, amount),
            round: None,
            game: None,
            session: None,
            reference: None,
            bet: None,
        });
    }

    pub fn player(&self, id: &str) -> Option<&Player> {
        self.players.get(id)
    }

    fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// The accepted transaction `(ns, tx)`, of whichever player.
    fn transaction(&self, ns: &str, tx: &str) -> Option<usize> {
        self.ledger.iter().position(|e| e.ns == ns && e.tx == tx)
    }

    /// `player`'s accepted bet `(ns, tx)`: references resolve among this provider's
    /// transactions of this player only.
    fn bet_of(&self, ns: &str, tx: &str, player: &str) -> Option<usize> {
        self.transaction(ns, tx)
            .filter(|&i| self.ledger[i].player == player && self.ledger[i].kind == Kind::Bet)
    }

    fn rolled_back(&self, bet: usize) -> bool {
        self.ledger
            .iter()
            .any(|e| e.kind == Kind::Rollback && e.bet == Some(bet))
    }

    /// `player` rolled back `tx` under `ns` before any transaction had that id.
    fn tombstone(&self, ns: &str, tx: &str, player: &str) -> bool {
        self.ledger.iter().any(|e| {
            e.kind == Kind::Rollback
                && e.bet.is_none()
                && e.ns == ns
                && e.player == player
                && e.reference.as_deref() == Some(tx)
        })
    }

    /// The bets of the player's round `(ns, round, player)`, oldest first.
    fn bets_in_round(&self, ns: &str, round: &str, player: &str) -> Vec<usize> {
        (0..self.ledger.len())
            .filter(|&i| {
                let e = &self.ledger[i];
                e.kind == Kind::Bet
                    && e.ns == ns
                    && e.player == player
                    && e.round.as_deref() == Some(round)
            })
            .collect()
    }

    /// The stakes of the round of `bet` that are not rolled back.
    fn live_stakes_of_round_of(&self, bet: usize) -> Money {
        let b = &self.ledger[bet];
        self.bets_in_round(&b.ns, b.round.as_deref().unwrap_or_default(), &b.player)
            .into_iter()
            .filter(|&i| !self.rolled_back(i))
            .fold(Money::ZERO, |sum, i| sum.plus(self.ledger[i].split))
    }

    /// A bet is settled when a `win` is linked to it, or when the player's round it is
    /// in has received a `win` (promo and jackpot wins settle nothing).
    fn settled(&self, bet: usize) -> Settled {
        let b = &self.ledger[bet];
        let (mut named, mut linked_into) = (false, false);
        for w in &self.ledger {
            if w.kind != Kind::Win(WinKind::Win) || w.ns != b.ns || w.player != b.player {
                continue;
            }
            if w.bet == Some(bet) {
                return Settled::Yes;
            }
            let names_the_round = w.round == b.round;
            let linked_into_the_round = w.bet.is_some_and(|j| self.ledger[j].round == b.round);
            match (names_the_round, linked_into_the_round) {
                (true, true) => return Settled::Yes,
                (true, false) => named = true,
                (false, true) => linked_into = true,
                (false, false) => {}
            }
        }
        match (named, linked_into) {
            (false, false) => Settled::No,
            (true, false) => Settled::Maybe(notes::WIN_NAMES_ROUND),
            (false, true) => Settled::Maybe(notes::WIN_LINKED_INTO_ROUND),
            (true, true) => Settled::Maybe(notes::ROUND_OF_WIN),
        }
    }

    /// Every answer the contract allows for `call`, each with the state after it.
    pub fn branches(&self, call: &Call) -> Vec<Branch> {
        match call {
            Call::Bet(c) => self.bet(c),
            Call::Win(c) => self.win(c),
            Call::Rollback(c) => self.rollback(c),
            Call::Deposit(c) => self.deposit(c),
            Call::Withdrawal(c) => self.withdrawal(c),
            Call::Balance {
                provider,
                player,
                session,
            } => self.balance_call(provider, player, session.as_deref()),
            Call::SetStatus { player, blocked } => {
                let mut next = self.clone();
                let p = next.players.get_mut(player).expect("a known player");
                p.blocked = *blocked;
                let (balance, currency) = (p.balance, p.currency);
                vec![Branch {
                    expect: Expect::Fresh(Fresh {
                        status: 200,
                        balance: Some((balance, currency)),
                        player_status: Some(if *blocked { "blocked" } else { "active" }),
                        ..Fresh::default()
                    }),
                    next,
                    note: "",
                }]
            }
            Call::ExpireSession { session } => {
                let mut next = self.clone();
                match next.sessions.iter_mut().find(|s| s.id == *session) {
                    Some(s) => {
                        s.live = false;
                        vec![Branch {
                            expect: Expect::Fresh(Fresh {
                                status: 204,
                                ..Fresh::default()
                            }),
                            next,
                            note: "",
                        }]
                    }
                    None => vec![self.failed(404, "session_not_found")],
                }
            }
        }
    }

    /// An answer that records nothing and changes nothing.
    fn failed(&self, status: u16, code: &'static str) -> Branch {
        Branch {
            expect: Expect::Fresh(Fresh {
                status,
                code: Some(code),
                ..Fresh::default()
            }),
            next: self.clone(),
            note: "",
        }
    }

    /// A business refusal: 422, nothing moves, the answer is recorded.
    fn refused(&self, key: &RecordKey, code: &'static str) -> Branch {
        let p = &self.players[&key.meaning.player];
        Branch {
            expect: Expect::Fresh(Fresh {
                status: 422,
                code: Some(code),
                balance: Some((p.balance, p.currency)),
                record: Some(key.clone()),
                ..Fresh::default()
            }),
            next: self.clone(),
            note: "",
        }
    }

    fn refusals(&self, key: &RecordKey, codes: &[&'static str]) -> Vec<Branch> {
        let branches = codes.iter().map(|c| self.refused(key, c)).collect();
        open_point(branches, notes::REFUSAL_ORDER)
    }

    /// `next` with `entry` appended and the player's balance set, answered 200.
    fn accepted(
        mut next: Model,
        key: &RecordKey,
        entry: Entry,
        balance: Money,
        reference: Option<Option<String>>,
    ) -> Branch {
        let p = next.players.get_mut(&entry.player).expect("a known player");
        p.balance = balance;
        let currency = p.currency;
        next.ledger.push(entry);
        Branch {
            expect: Expect::Fresh(Fresh {
                status: 200,
                balance: Some((balance, currency)),
                transaction_id: Some(key.tx.clone()),
                reference,
                record: Some(key.clone()),
                ..Fresh::default()
            }),
            next,
            note: "",
        }
    }

    /// What comes before every business rule: the per-call limit (400), the unknown
    /// player (404) and the idempotency record (a replay, or 409 for another call).
    /// None when the business rules decide.
    fn before_rules(&self, key: &RecordKey, minor: Option<u128>) -> Option<Vec<Branch>> {
        let known = self.players.contains_key(&key.meaning.player);
        let recorded = self.records.get(&(key.ns.clone(), key.tx.clone()));
        if minor.is_some_and(|m| m > CALL_MAX) {
            let mut early = vec![self.failed(400, "invalid_request")];
            if !known {
                early.push(self.failed(404, "player_not_found"));
            }
            if recorded.is_some() {
                early.push(self.failed(409, "idempotency_conflict"));
            }
            return Some(open_point(early, notes::EARLY_ORDER));
        }
        let replay = |r: &Record| Branch {
            expect: Expect::Replay {
                status: r.status,
                body: r.body.clone(),
            },
            next: self.clone(),
            note: "",
        };
        let conflict = || self.failed(409, "idempotency_conflict");
        match recorded {
            None if !known => Some(vec![self.failed(404, "player_not_found")]),
            None => None,
            Some(_) if !known => Some(open_point(
                vec![self.failed(404, "player_not_found"), conflict()],
                notes::EARLY_ORDER,
            )),
            Some(r) if r.meaning != key.meaning => Some(vec![conflict()]),
            Some(r) if r.incidentals != key.incidentals => Some(open_point(
                vec![replay(r), conflict()],
                notes::INCIDENTAL_FIELD,
            )),
            Some(r) => Some(vec![replay(r)]),
        }
    }

    fn bet(&self, c: &BetCall) -> Vec<Branch> {
        let key = RecordKey {
            ns: c.provider.clone(),
            tx: c.tx.clone(),
            meaning: Meaning {
                call: "bet",
                player: c.player.clone(),
                amount: Some((c.currency.code.to_owned(), c.minor)),
                round: Some(c.round.clone()),
                game: Some(c.game.clone()),
                kind: None,
                reference: None,
                category: None,
            },
            incidentals: Incidentals {
                session: Some(c.session.clone()),
                round_closed: false,
            },
        };
        if let Some(early) = self.before_rules(&key, Some(c.minor)) {
            return early;
        }
        let player = &self.players[&c.player];
        let Some(session) = self
            .session(&c.session)
            .filter(|s| s.provider == c.provider && s.player == c.player && s.game == c.game)
        else {
            return vec![self.failed(401, "session_invalid")];
        };
        let round_key = (c.provider.clone(), c.round.clone(), c.player.clone());
        let round = self.rounds.get(&round_key);
        let other_currency = c.currency.code != player.currency.code;
        let stake = allocate_stake(player.balance, c.minor);
        let mut refusals = vec![];
        if player.blocked {
            refusals.push("player_blocked");
        }
        if other_currency {
            refusals.push("currency_mismatch");
        }
        if !session.live {
            refusals.push("session_expired");
        }
        if self.tombstone(&c.provider, &c.tx, &c.player) {
            refusals.push("transaction_rolled_back");
        }
        if round.is_some_and(|r| !r.open) {
            refusals.push("round_closed");
        }
        if stake.is_none() && !other_currency {
            refusals.push("insufficient_funds");
        }
        if !refusals.is_empty() {
            return self.refusals(&key, &refusals);
        }
        let stake = stake.expect("checked above");
        let mut next = self.clone();
        // The player's first bet with this round id opens their round; later ones join.
        next.rounds.entry(round_key).or_insert(Round { open: true });
        let entry = Entry {
            ns: c.provider.clone(),
            tx: c.tx.clone(),
            player: c.player.clone(),
            kind: Kind::Bet,
            split: stake,
            round: Some(c.round.clone()),
            game: Some(c.game.clone()),
            session: Some(c.session.clone()),
            reference: None,
            bet: None,
        };
        vec![Self::accepted(
            next,
            &key,
            entry,
            player.balance.minus(stake),
            None,
        )]
    }

    /// What a `win` may be linked to, with the open point when there is more than one.
    fn correlate(&self, c: &WinCall) -> Vec<(Link, &'static str)> {
        // 1. By bet id, among this provider's transactions of this player.
        if let Some(id) = &c.bet {
            let link = match self.bet_of(&c.provider, id, &c.player) {
                Some(i) if self.rolled_back(i) => Link::RolledBack,
                Some(i) => Link::Bet(i),
                None if self.tombstone(&c.provider, id, &c.player) => Link::RolledBack,
                None => Link::Missing,
            };
            return vec![(link, "")];
        }
        // 2. The player's round: its latest bet that is not rolled back.
        let round_bets = self.bets_in_round(&c.provider, &c.round, &c.player);
        if let Some(&latest) = round_bets.iter().rev().find(|&&i| !self.rolled_back(i)) {
            return vec![(Link::Bet(latest), "")];
        }
        // 3. The session: its latest unsettled bet in this game.
        match (&c.session, round_bets.is_empty()) {
            (None, true) => vec![(Link::Missing, "")],
            (None, false) => vec![(Link::RolledBack, "")],
            (Some(session), true) => self.by_session(session, c),
            (Some(session), false) => {
                let mut links = vec![(Link::RolledBack, notes::RB_OR_SESSION)];
                links.extend(
                    self.by_session(session, c)
                        .into_iter()
                        .map(|(link, _)| (link, notes::RB_OR_SESSION)),
                );
                links
            }
        }
    }

    /// The latest unsettled (and not rolled back) bet of `session` in the win's game.
    fn by_session(&self, session: &str, c: &WinCall) -> Vec<(Link, &'static str)> {
        let mut links = vec![];
        let mut note = "";
        for i in (0..self.ledger.len()).rev() {
            let e = &self.ledger[i];
            let candidate = e.kind == Kind::Bet
                && e.ns == c.provider
                && e.player == c.player
                && e.session.as_deref() == Some(session)
                && e.game.as_deref() == Some(c.game.as_str())
                && !self.rolled_back(i);
            if !candidate {
                continue;
            }
            match self.settled(i) {
                Settled::Yes => {}
                Settled::Maybe(open) => {
                    note = if note.is_empty() {
                        open
                    } else {
                        notes::ROUND_OF_WIN
                    };
                    links.push((Link::Bet(i), open));
                }
                Settled::No => {
                    links.push((Link::Bet(i), ""));
                    return mark(links, note);
                }
            }
        }
        links.push((Link::Missing, ""));
        mark(links, note)
    }

    fn win(&self, c: &WinCall) -> Vec<Branch> {
        let kind = c.kind.unwrap_or(WinKind::Win);
        let key = RecordKey {
            ns: c.provider.clone(),
            tx: c.tx.clone(),
            meaning: Meaning {
                call: "win",
                player: c.player.clone(),
                amount: Some((c.currency.code.to_owned(), c.minor)),
                round: Some(c.round.clone()),
                game: Some(c.game.clone()),
                kind: Some(kind),
                reference: c.bet.clone(),
                category: None,
            },
            incidentals: Incidentals {
                session: c.session.clone(),
                round_closed: c.round_closed.unwrap_or(false),
            },
        };
        if let Some(early) = self.before_rules(&key, Some(c.minor)) {
            return early;
        }
        let player = &self.players[&c.player];
        if let Some(id) = &c.session {
            // An expired session is fine for a win; a foreign one is not.
            if !self
                .session(id)
                .is_some_and(|s| s.provider == c.provider && s.player == c.player)
            {
                return vec![self.failed(401, "session_invalid")];
            }
        }
        let other_currency = c.currency.code != player.currency.code;
        let links = match kind {
            WinKind::Win => self.correlate(c),
            WinKind::Promo | WinKind::Jackpot => vec![(Link::NoBetNeeded, "")],
        };
        let mut branches = vec![];
        if other_currency {
            branches.push(self.refused(&key, "currency_mismatch"));
        }
        for (link, note) in links {
            let branch = match link {
                Link::Bet(_) | Link::NoBetNeeded if other_currency => continue,
                Link::Bet(bet) => {
                    let split = split_win(c.minor, self.live_stakes_of_round_of(bet));
                    self.credit_win(c, &key, kind, split, Some(bet))
                }
                Link::NoBetNeeded => self.credit_win(c, &key, kind, Money::cash(c.minor), None),
                Link::RolledBack => self.refused(&key, "transaction_rolled_back"),
                Link::Missing => self.failed(404, "bet_not_found"),
            };
            branches.push(branch.noted(note));
        }
        open_point(branches, notes::REFUSAL_ORDER)
    }

    fn credit_win(
        &self,
        c: &WinCall,
        key: &RecordKey,
        kind: WinKind,
        split: Money,
        bet: Option<usize>,
    ) -> Branch {
        let player = &self.players[&c.player];
        let after = player.balance.plus(split);
        if !after.within_limit() {
            return self.refused(key, "balance_limit_exceeded");
        }
        let mut next = self.clone();
        if c.round_closed == Some(true) {
            let round_key = (c.provider.clone(), c.round.clone(), c.player.clone());
            if let Some(round) = next.rounds.get_mut(&round_key) {
                round.open = false;
            }
        }
        let reference = bet.map(|i| self.ledger[i].tx.clone());
        let entry = Entry {
            ns: c.provider.clone(),
            tx: c.tx.clone(),
            player: c.player.clone(),
            kind: Kind::Win(kind),
            split,
            round: Some(c.round.clone()),
            game: Some(c.game.clone()),
            session: c.session.clone(),
            reference: reference.clone(),
            bet,
        };
        Self::accepted(next, key, entry, after, Some(reference))
    }

    fn rollback(&self, c: &RollbackCall) -> Vec<Branch> {
        let key = RecordKey {
            ns: c.provider.clone(),
            tx: c.tx.clone(),
            meaning: Meaning {
                call: "rollback",
                player: c.player.clone(),
                amount: None,
                round: c.round.clone(),
                game: None,
                kind: None,
                reference: Some(c.reference.clone()),
                category: None,
            },
            incidentals: Incidentals::default(),
        };
        if let Some(early) = self.before_rules(&key, None) {
            return early;
        }
        let Some(target) = self.transaction(&c.provider, &c.reference) else {
            // Never seen: a tombstone, nothing moves.
            return vec![self.reverse(c, &key, None, Money::ZERO)];
        };
        if self.ledger[target].player != c.player {
            return vec![self.failed(404, "transaction_not_found")];
        }
        if self.ledger[target].kind != Kind::Bet {
            return vec![self.refused(&key, "rollback_not_allowed")];
        }
        let settled = self.settled(target);
        if self.rolled_back(target) {
            // A second rollback of one bet moves nothing.
            let mut branches = vec![self.reverse(c, &key, Some(target), Money::ZERO)];
            if settled != Settled::No {
                branches.push(self.refused(&key, "bet_already_settled"));
            }
            return open_point(branches, notes::SETTLED_AND_ROLLED_BACK);
        }
        let refuse = || self.refused(&key, "bet_already_settled");
        let give_back = || {
            let stake = self.ledger[target].split;
            let after = self.players[&c.player].balance.plus(stake);
            let reversed = self.reverse(c, &key, Some(target), stake);
            if after.within_limit() {
                vec![reversed]
            } else {
                open_point(
                    vec![self.refused(&key, "balance_limit_exceeded"), reversed],
                    notes::ROLLBACK_OVER_LIMIT,
                )
            }
        };
        match settled {
            Settled::Yes => vec![refuse()],
            Settled::No => give_back(),
            Settled::Maybe(open) => {
                let mut branches = vec![refuse().noted(open)];
                branches.extend(give_back().into_iter().map(|b| b.noted(open)));
                branches
            }
        }
    }

    fn reverse(
        &self,
        c: &RollbackCall,
        key: &RecordKey,
        bet: Option<usize>,
        give_back: Money,
    ) -> Branch {
        let b = bet.map(|i| &self.ledger[i]);
        let entry = Entry {
            ns: c.provider.clone(),
            tx: c.tx.clone(),
            player: c.player.clone(),
            kind: Kind::Rollback,
            split: give_back,
            round: b.and_then(|b| b.round.clone()).or_else(|| c.round.clone()),
            game: b.and_then(|b| b.game.clone()),
            session: b.and_then(|b| b.session.clone()),
            reference: Some(c.reference.clone()),
            bet,
        };
        let after = self.players[&c.player].balance.plus(give_back);
        Self::accepted(self.clone(), key, entry, after, None)
    }

    fn deposit(&self, c: &DepositCall) -> Vec<Branch> {
        let category = c.category.unwrap_or(Category::Cash);
        let code = self.players.get(&c.player).map_or("?", |p| p.currency.code);
        let key = RecordKey {
            ns: OPERATOR.to_owned(),
            tx: c.tx.clone(),
            meaning: Meaning {
                call: "deposit",
                player: c.player.clone(),
                amount: Some((code.to_owned(), c.minor)),
                round: None,
                game: None,
                kind: None,
                reference: None,
                category: Some(category),
            },
            incidentals: Incidentals::default(),
        };
        if let Some(early) = self.before_rules(&key, Some(c.minor)) {
            return early;
        }
        let split = Money::of(category, c.minor);
        let after = self.players[&c.player].balance.plus(split);
        if !after.within_limit() {
            return vec![self.refused(&key, "balance_limit_exceeded")];
        }
        let entry = cash_entry(&c.tx, &c.player, Kind::Deposit, split);
        vec![Self::accepted(self.clone(), &key, entry, after, None)]
    }

    fn withdrawal(&self, c: &WithdrawalCall) -> Vec<Branch> {
        let code = self.players.get(&c.player).map_or("?", |p| p.currency.code);
        let key = RecordKey {
            ns: OPERATOR.to_owned(),
            tx: c.tx.clone(),
            meaning: Meaning {
                call: "withdrawal",
                player: c.player.clone(),
                amount: Some((code.to_owned(), c.minor)),
                round: None,
                game: None,
                kind: None,
                reference: None,
                category: None,
            },
            incidentals: Incidentals::default(),
        };
        if let Some(early) = self.before_rules(&key, Some(c.minor)) {
            return early;
        }
        let balance = self.players[&c.player].balance;
        if balance.cash < c.minor {
            return vec![self.refused(&key, "insufficient_funds")];
        }
        let split = Money::cash(c.minor);
        let entry = cash_entry(&c.tx, &c.player, Kind::Withdrawal, split);
        vec![Self::accepted(
            self.clone(),
            &key,
            entry,
            balance.minus(split),
            None,
        )]
    }

    fn balance_call(&self, provider: &str, player: &str, session: Option<&str>) -> Vec<Branch> {
        let Some(p) = self.players.get(player) else {
            return vec![self.failed(404, "player_not_found")];
        };
        let ok = Branch {
            expect: Expect::Fresh(Fresh {
                status: 200,
                balance: Some((p.balance, p.currency)),
                ..Fresh::default()
            }),
            next: self.clone(),
            note: "",
        };
        match session.map(|id| self.session(id)) {
            None => vec![ok],
            Some(Some(s)) if s.provider == provider && s.player == player => {
                if s.live {
                    vec![ok]
                } else {
                    open_point(
                        vec![ok, self.failed(422, "session_expired")],
                        notes::BALANCE_EXPIRED_SESSION,
                    )
                }
            }
            Some(_) => vec![self.failed(401, "session_invalid")],
        }
    }

    /// How many accepted money calls of `player` the ledger lists.
    pub fn entries_of(&self, player: &str) -> usize {
        self.ledger.iter().filter(|e| e.player == player).count()
    }
}

fn cash_entry(tx: &str, player: &str, kind: Kind, split: Money) -> Entry {
    Entry {
        ns: OPERATOR.to_owned(),
        tx: tx.to_owned(),
        player: player.to_owned(),
        kind,
        split,
        round: None,
        game: None,
        session: None,
        reference: None,
        bet: None,
    }
}

fn mark(links: Vec<(Link, &'static str)>, note: &'static str) -> Vec<(Link, &'static str)> {
    if links.len() < 2 {
        return links;
    }
    links
        .into_iter()
        .map(|(l, n)| (l, if n.is_empty() { note } else { n }))
        .collect()
}

#[cfg(test)]
mod tests {
    //! The model's own arithmetic, checked against the contract's examples.

    use super::*;

    #[test]
    fn the_contracts_examples_of_splits_and_stakes() {
        // Staked 2.00 cash + 1.00 bonus: a win of 1.00 is 0.67 cash, 0.33 bonus.
        assert_eq!(
            split_win(
                100,
                Money {
                    cash: 200,
                    bonus: 100
                }
            ),
            Money {
                cash: 67,
                bonus: 33
            }
        );
        assert_eq!(split_win(250, Money::ZERO), Money::cash(250));
        assert_eq!(
            allocate_stake(
                Money {
                    cash: 500,
                    bonus: 1000
                },
                800
            ),
            Some(Money {
                cash: 500,
                bonus: 300
            })
        );
        assert_eq!(allocate_stake(Money { cash: 1, bonus: 1 }, 3), None);
        assert_eq!(decimal(1250, 2), "12.50");
        assert_eq!(decimal(5, 2), "0.05");
        assert_eq!(decimal(7, 0), "7");
    }
}
