//! What the property test generates: a setup (players, sessions) and a sequence of
//! steps. A step holds small numbers, not ids: it is turned into a concrete call only
//! when it runs, against the model's state then ("the k-th latest bet", "the player's
//! whole balance"), so that shrunk sequences stay meaningful and collisions stay
//! frequent (a handful of transaction ids, round ids and sessions per case).

use proptest::prelude::*;

use super::reference::{
    BetCall, Call, Category, Currency, DepositCall, Kind, Model, Money, RollbackCall, WinCall,
    WinKind, WithdrawalCall, BALANCE_MAX, CALL_MAX, EUR, JPY, USD,
};

pub const PROVIDERS: [(&str, &str); 2] = [("demo", "demo-secret"), ("demo2", "demo2-secret")];
pub const GAMES: [&str; 2] = ["slots", "roulette"];
/// Provider transaction ids per case (bets, wins and rollbacks share them).
pub const TX_POOL: u8 = 6;
/// Operator transaction ids per case.
pub const OP_POOL: u8 = 3;
/// Round ids per game per case.
pub const ROUND_POOL: u8 = 3;
/// A session id the wallet never issued.
pub const BOGUS_SESSION: &str = "01900000-0000-7000-8000-000000000000";

#[derive(Clone, Debug)]
pub struct Case {
    pub players: Vec<PlayerSetup>,
    /// (player, provider, game) of each session opened before the steps.
    pub sessions: Vec<(u8, u8, u8)>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug)]
pub struct PlayerSetup {
    /// JPY (0 decimals) instead of EUR; never for the first player.
    pub yen: bool,
    pub cash: u32,
    pub bonus: u32,
    /// Categories brought near the 2^62 limit.
    pub near_limit_cash: Option<Near>,
    pub near_limit_bonus: Option<Near>,
}

/// How far below 2^62 a category starts.
#[derive(Clone, Copy, Debug)]
pub enum Near {
    AtLimit,
    OneBelow,
    Below(u32),
    CallMaxBelow,
}

impl Near {
    pub fn gap(self) -> u128 {
        match self {
            Near::AtLimit => 0,
            Near::OneBelow => 1,
            Near::Below(n) => u128::from(n),
            Near::CallMaxBelow => CALL_MAX,
        }
    }
}

/// Which player a call names, relative to the one its target suggests.
#[derive(Clone, Copy, Debug)]
pub enum Who {
    Same,
    Other(u8),
    /// A player id that does not exist.
    Ghost,
}

#[derive(Clone, Copy, Debug)]
pub enum Amt {
    Zero,
    One,
    Small(u16),
    Large(u32),
    /// The player's cash, their whole balance, or one minor unit more.
    AllCash,
    AllTotal,
    TotalPlusOne,
    CallMax,
    OverCallMax,
}

impl Amt {
    pub fn minor(self, balance: Money) -> u128 {
        match self {
            Amt::Zero => 0,
            Amt::One => 1,
            Amt::Small(n) => u128::from(n),
            Amt::Large(n) => u128::from(n),
            Amt::AllCash => balance.cash,
            Amt::AllTotal => balance.total(),
            Amt::TotalPlusOne => balance.total() + 1,
            Amt::CallMax => CALL_MAX,
            Amt::OverCallMax => CALL_MAX + 1,
        }
    }
}

/// How an amount is written: at the scale, with extra zeros, or as a JSON number.
pub type Spelling = u8;

/// A transaction id: one never used before, or one of a small pool (so that resends
/// of an id with another call, and rollbacks before their bet, are frequent).
#[derive(Clone, Copy, Debug)]
pub enum TxPick {
    Fresh,
    Pool(u8),
}

#[derive(Clone, Copy, Debug)]
pub enum WinTarget {
    /// By `bet_transaction_id`: the k-th latest bet, named with its own round or
    /// another one, with or without its session.
    BetId {
        k: u8,
        same_round: bool,
        session: bool,
    },
    /// By round: the round of the k-th latest bet, no bet id.
    Round { k: u8, session: bool },
    /// By session: its player, provider and game, in a round of the pool or in one
    /// where nobody bet (`round: None`).
    Session { session: u8, round: Option<u8> },
    /// Anything: pool picks.
    Free {
        provider: u8,
        player: u8,
        game: u8,
        round: u8,
        bet: Option<u8>,
    },
}

#[derive(Clone, Copy, Debug)]
pub enum RollbackTarget {
    /// The k-th latest bet.
    Bet(u8),
    /// The k-th latest provider transaction of any kind (a win, a rollback, ...).
    Entry(u8),
    /// A pool id, seen or not.
    Pool { provider: u8, player: u8, id: u8 },
}

#[derive(Clone, Copy, Debug)]
pub enum Change {
    Nothing,
    /// The same value written another way (and `kind: "win"` / `category: "cash"`
    /// spelled out or left out): the same call.
    Respell,
    Amount,
    Player,
    Round,
    Game,
    Kind,
    Reference,
    Currency,
    Session,
    RoundClosed,
    Category,
}

#[derive(Clone, Debug)]
pub enum Step {
    Bet {
        tx: TxPick,
        session: u8,
        bogus_session: bool,
        who: Who,
        other_provider: bool,
        other_game: bool,
        round: u8,
        amount: Amt,
        other_currency: bool,
        spelling: Spelling,
    },
    Win {
        tx: TxPick,
        target: WinTarget,
        kind: Option<WinKind>,
        amount: Amt,
        round_closed: Option<bool>,
        who: Who,
        other_currency: bool,
        spelling: Spelling,
    },
    Rollback {
        tx: TxPick,
        target: RollbackTarget,
        who: Who,
        other_provider: bool,
        with_round: bool,
    },
    /// The `back`-th latest money call again, maybe changed.
    Resend {
        back: u8,
        change: Change,
    },
    Deposit {
        tx: TxPick,
        player: u8,
        amount: Amt,
        category: Option<Category>,
        spelling: Spelling,
    },
    Withdrawal {
        tx: TxPick,
        player: u8,
        amount: Amt,
        spelling: Spelling,
    },
    SetStatus {
        player: u8,
        blocked: bool,
    },
    ExpireSession {
        session: u8,
    },
    OpenSession {
        player: u8,
        provider: u8,
        game: u8,
    },
    Balance {
        session: Option<u8>,
        provider: u8,
        who: Who,
        player: u8,
    },
}

// ------------------------------------------------------------------ strategies

fn tx(pool: u8) -> impl Strategy<Value = TxPick> {
    prop_oneof![
        7 => Just(TxPick::Fresh),
        3 => (0..pool).prop_map(TxPick::Pool),
    ]
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        93 => Just(Who::Same),
        5 => any::<u8>().prop_map(Who::Other),
        2 => Just(Who::Ghost),
    ]
}

fn amount() -> impl Strategy<Value = Amt> {
    prop_oneof![
        40 => (1u16..=2000).prop_map(Amt::Small),
        6 => Just(Amt::Zero),
        6 => Just(Amt::One),
        5 => (2001u32..=2_000_000).prop_map(Amt::Large),
        4 => Just(Amt::AllCash),
        4 => Just(Amt::AllTotal),
        4 => Just(Amt::TotalPlusOne),
        4 => Just(Amt::CallMax),
        3 => Just(Amt::OverCallMax),
    ]
}

fn near() -> impl Strategy<Value = Option<Near>> {
    prop_oneof![
        32 => Just(None),
        1 => Just(Some(Near::AtLimit)),
        1 => Just(Some(Near::OneBelow)),
        1 => (2u32..=5000).prop_map(|n| Some(Near::Below(n))),
        1 => Just(Some(Near::CallMaxBelow)),
    ]
}

fn player_setup() -> impl Strategy<Value = PlayerSetup> {
    (
        prop::bool::weighted(0.35),
        prop_oneof![1 => Just(0u32), 4 => 0u32..=20_000],
        prop_oneof![1 => Just(0u32), 2 => 0u32..=10_000],
        near(),
        near(),
    )
        .prop_map(
            |(yen, cash, bonus, near_limit_cash, near_limit_bonus)| PlayerSetup {
                yen,
                cash,
                bonus,
                near_limit_cash,
                near_limit_bonus,
            },
        )
}

fn win_target() -> impl Strategy<Value = WinTarget> {
    prop_oneof![
        3 => (any::<u8>(), prop::bool::weighted(0.6), prop::bool::weighted(0.3))
            .prop_map(|(k, same_round, session)| WinTarget::BetId { k, same_round, session }),
        4 => (any::<u8>(), prop::bool::weighted(0.3))
            .prop_map(|(k, session)| WinTarget::Round { k, session }),
        2 => (any::<u8>(), prop::option::weighted(0.4, 0..ROUND_POOL))
            .prop_map(|(session, round)| WinTarget::Session { session, round }),
        1 => (any::<u8>(), any::<u8>(), any::<u8>(), 0..ROUND_POOL, prop::option::weighted(0.5, 0..TX_POOL))
            .prop_map(|(provider, player, game, round, bet)| WinTarget::Free { provider, player, game, round, bet }),
    ]
}

fn rollback_target() -> impl Strategy<Value = RollbackTarget> {
    prop_oneof![
        6 => any::<u8>().prop_map(RollbackTarget::Bet),
        2 => any::<u8>().prop_map(RollbackTarget::Entry),
        2 => (any::<u8>(), any::<u8>(), 0..TX_POOL)
            .prop_map(|(provider, player, id)| RollbackTarget::Pool { provider, player, id }),
    ]
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        30 => Just(Change::Nothing),
        8 => Just(Change::Respell),
        6 => Just(Change::Amount),
        4 => Just(Change::Player),
        4 => Just(Change::Round),
        2 => Just(Change::Game),
        3 => Just(Change::Kind),
        3 => Just(Change::Reference),
        2 => Just(Change::Currency),
        3 => Just(Change::Session),
        3 => Just(Change::RoundClosed),
        2 => Just(Change::Category),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let bet = (
        (tx(TX_POOL), any::<u8>(), prop::bool::weighted(0.03), who()),
        (
            prop::bool::weighted(0.03),
            prop::bool::weighted(0.03),
            0..ROUND_POOL,
            amount(),
            prop::bool::weighted(0.03),
            0u8..3,
        ),
    )
        .prop_map(
            |(
                (tx, session, bogus_session, who),
                (other_provider, other_game, round, amount, other_currency, spelling),
            )| Step::Bet {
                tx,
                session,
                bogus_session,
                who,
                other_provider,
                other_game,
                round,
                amount,
                other_currency,
                spelling,
            },
        );
    let kind = prop_oneof![
        7 => Just(None),
        7 => Just(Some(WinKind::Win)),
        3 => Just(Some(WinKind::Promo)),
        3 => Just(Some(WinKind::Jackpot)),
    ];
    let round_closed = prop_oneof![
        7 => Just(None),
        2 => Just(Some(true)),
        1 => Just(Some(false)),
    ];
    let win = (
        (tx(TX_POOL), win_target(), kind, amount()),
        (round_closed, who(), prop::bool::weighted(0.03), 0u8..3),
    )
        .prop_map(
            |((tx, target, kind, amount), (round_closed, who, other_currency, spelling))| {
                Step::Win {
                    tx,
                    target,
                    kind,
                    amount,
                    round_closed,
                    who,
                    other_currency,
                    spelling,
                }
            },
        );
    let rollback = (
        tx(TX_POOL),
        rollback_target(),
        who(),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(tx, target, who, other_provider, with_round)| Step::Rollback {
                tx,
                target,
                who,
                other_provider,
                with_round,
            },
        );
    let category = prop_oneof![
        2 => Just(None),
        1 => Just(Some(Category::Cash)),
        2 => Just(Some(Category::Bonus)),
    ];
    let deposit = (tx(OP_POOL), any::<u8>(), amount(), category, 0u8..3).prop_map(
        |(tx, player, amount, category, spelling)| Step::Deposit {
            tx,
            player,
            amount,
            category,
            spelling,
        },
    );
    let withdrawal =
        (tx(OP_POOL), any::<u8>(), amount(), 0u8..3).prop_map(|(tx, player, amount, spelling)| {
            Step::Withdrawal {
                tx,
                player,
                amount,
                spelling,
            }
        });
    prop_oneof![
        32 => bet,
        26 => win,
        13 => rollback,
        12 => (any::<u8>(), change()).prop_map(|(back, change)| Step::Resend { back, change }),
        4 => deposit,
        3 => withdrawal,
        2 => (any::<u8>(), prop::bool::weighted(0.5))
            .prop_map(|(player, blocked)| Step::SetStatus { player, blocked }),
        1 => any::<u8>().prop_map(|session| Step::ExpireSession { session }),
        2 => (any::<u8>(), prop_oneof![3 => Just(0u8), 1 => Just(1u8)], prop_oneof![3 => Just(0u8), 1 => Just(1u8)])
            .prop_map(|(player, provider, game)| Step::OpenSession { player, provider, game }),
        2 => (prop::option::weighted(0.6, any::<u8>()), any::<u8>(), who(), any::<u8>())
            .prop_map(|(session, provider, who, player)| Step::Balance { session, provider, who, player }),
    ]
}

pub fn case(max_steps: usize) -> impl Strategy<Value = Case> {
    let session = (
        0u8..3,
        prop_oneof![3 => Just(0u8), 1 => Just(1u8)],
        prop_oneof![3 => Just(0u8), 1 => Just(1u8)],
    );
    (
        prop::collection::vec(player_setup(), 2..=3),
        prop::collection::vec(session, 2..=5),
        prop::collection::vec(step(), 1..=max_steps.max(1)),
    )
        .prop_map(|(players, sessions, steps)| Case {
            players,
            sessions,
            steps,
        })
}

// ------------------------------------------------------------------ concrete calls

/// A concrete call and how its amount is written.
#[derive(Clone, Debug)]
pub struct Sent {
    pub call: Call,
    pub spelling: Spelling,
}

/// What a step becomes.
pub enum Action {
    Call(Sent),
    OpenSession {
        player: String,
        provider: String,
        game: String,
    },
    /// Nothing to do (a resend with no earlier call).
    Skip,
}

/// Names for one case: every id carries the case's prefix.
pub struct Names {
    pub prefix: String,
    pub players: Vec<String>,
    /// Fresh ids handed out so far.
    pub fresh: std::cell::Cell<u32>,
}

impl Names {
    pub fn tx(&self, i: u8) -> String {
        format!("{}t{}", self.prefix, i % TX_POOL)
    }

    fn pick(&self, pick: TxPick, pool: &str, size: u8) -> String {
        match pick {
            TxPick::Fresh => {
                let n = self.fresh.get();
                self.fresh.set(n + 1);
                format!("{}{pool}n{n}", self.prefix)
            }
            TxPick::Pool(i) => format!("{}{pool}{}", self.prefix, i % size),
        }
    }

    pub fn provider_tx(&self, pick: TxPick) -> String {
        self.pick(pick, "t", TX_POOL)
    }

    pub fn op_tx(&self, pick: TxPick) -> String {
        self.pick(pick, "o", OP_POOL)
    }

    pub fn round(&self, game: &str, i: u8) -> String {
        format!("{}{game}-{}", self.prefix, i % ROUND_POOL)
    }

    /// A round id no bet uses.
    pub fn empty_round(&self, game: &str) -> String {
        format!("{}{game}-x", self.prefix)
    }

    pub fn player(&self, i: u8) -> String {
        self.players[usize::from(i) % self.players.len()].clone()
    }

    pub fn ghost(&self) -> String {
        format!("{}ghost", self.prefix)
    }

    fn who(&self, who: Who, same: &str) -> String {
        match who {
            Who::Same => same.to_owned(),
            Who::Other(i) => self.player(i),
            Who::Ghost => self.ghost(),
        }
    }

    /// Another id of the same pool (`t3` -> `t4`, `slots-1` -> `slots-2`).
    fn next_in_pool(&self, id: &str, pool: u8) -> String {
        let (head, last) = id.split_at(id.len() - 1);
        match last.parse::<u8>() {
            Ok(n) => format!("{head}{}", (n + 1) % pool),
            Err(_) => format!("{head}0"),
        }
    }
}

fn other_provider(provider: &str) -> String {
    if provider == PROVIDERS[0].0 {
        PROVIDERS[1].0.to_owned()
    } else {
        PROVIDERS[0].0.to_owned()
    }
}

fn other_game(game: &str) -> String {
    if game == GAMES[0] {
        GAMES[1].to_owned()
    } else {
        GAMES[0].to_owned()
    }
}

/// The currency a call names when it is not the player's own.
fn foreign(currency: Currency) -> Currency {
    if currency.code == USD.code {
        EUR
    } else {
        USD
    }
}

fn currency_of(model: &Model, player: &str) -> Currency {
    model.player(player).map_or(EUR, |p| p.currency)
}

fn balance_of(model: &Model, player: &str) -> Money {
    model.player(player).map_or(Money::ZERO, |p| p.balance)
}

/// The k-th latest accepted entry of a provider matching `pick`.
fn latest(
    model: &Model,
    k: u8,
    pick: impl Fn(&super::reference::Entry) -> bool,
) -> Option<&super::reference::Entry> {
    let found: Vec<_> = model.ledger.iter().rev().filter(|e| pick(e)).collect();
    (!found.is_empty()).then(|| found[usize::from(k) % found.len()])
}

fn is_provider_entry(e: &super::reference::Entry) -> bool {
    e.ns != super::reference::OPERATOR
}

pub fn concretize(step: &Step, names: &Names, model: &Model, history: &[Sent]) -> Action {
    let session_at = |i: u8| &model.sessions[usize::from(i) % model.sessions.len()];
    match *step {
        Step::Bet {
            tx,
            session,
            bogus_session,
            who,
            other_provider: flip_provider,
            other_game: flip_game,
            round,
            amount,
            other_currency,
            spelling,
        } => {
            let s = session_at(session);
            let player = names.who(who, &s.player);
            let game = if flip_game {
                other_game(&s.game)
            } else {
                s.game.clone()
            };
            let own = currency_of(model, &player);
            Action::Call(Sent {
                call: Call::Bet(BetCall {
                    provider: if flip_provider {
                        other_provider(&s.provider)
                    } else {
                        s.provider.clone()
                    },
                    tx: names.provider_tx(tx),
                    session: if bogus_session {
                        BOGUS_SESSION.to_owned()
                    } else {
                        s.id.clone()
                    },
                    round: names.round(&game, round),
                    game,
                    currency: if other_currency { foreign(own) } else { own },
                    minor: amount.minor(balance_of(model, &player)),
                    player,
                }),
                spelling,
            })
        }
        Step::Win {
            tx,
            target,
            kind,
            amount,
            round_closed,
            who,
            other_currency,
            spelling,
        } => {
            let bet = |k: u8| latest(model, k, |e| is_provider_entry(e) && e.kind == Kind::Bet);
            // (provider, player, game, round, bet id, session)
            let free = |provider: u8, player: u8, game: u8, round: u8, bet: Option<u8>| {
                let game = GAMES[usize::from(game) % GAMES.len()];
                (
                    PROVIDERS[usize::from(provider) % PROVIDERS.len()]
                        .0
                        .to_owned(),
                    names.player(player),
                    game.to_owned(),
                    names.round(game, round),
                    bet.map(|b| names.tx(b)),
                    None,
                )
            };
            let (provider, player, game, round, bet_id, session) = match target {
                WinTarget::BetId {
                    k,
                    same_round,
                    session,
                } => match bet(k) {
                    Some(b) => {
                        let game = b.game.clone().unwrap_or_default();
                        let round = if same_round {
                            b.round.clone().unwrap_or_default()
                        } else {
                            names.next_in_pool(b.round.as_deref().unwrap_or_default(), ROUND_POOL)
                        };
                        (
                            b.ns.clone(),
                            b.player.clone(),
                            game,
                            round,
                            Some(b.tx.clone()),
                            session.then(|| b.session.clone()).flatten(),
                        )
                    }
                    None => free(0, k, 0, k, Some(k)),
                },
                WinTarget::Round { k, session } => match bet(k) {
                    Some(b) => (
                        b.ns.clone(),
                        b.player.clone(),
                        b.game.clone().unwrap_or_default(),
                        b.round.clone().unwrap_or_default(),
                        None,
                        session.then(|| b.session.clone()).flatten(),
                    ),
                    None => free(0, k, 0, k, None),
                },
                WinTarget::Session { session, round } => {
                    let s = session_at(session);
                    (
                        s.provider.clone(),
                        s.player.clone(),
                        s.game.clone(),
                        match round {
                            Some(r) => names.round(&s.game, r),
                            None => names.empty_round(&s.game),
                        },
                        None,
                        Some(s.id.clone()),
                    )
                }
                WinTarget::Free {
                    provider,
                    player,
                    game,
                    round,
                    bet,
                } => free(provider, player, game, round, bet),
            };
            let player = names.who(who, &player);
            let own = currency_of(model, &player);
            let kind_is_win = matches!(kind, None | Some(WinKind::Win));
            Action::Call(Sent {
                call: Call::Win(WinCall {
                    provider,
                    tx: names.provider_tx(tx),
                    round,
                    game,
                    currency: if other_currency { foreign(own) } else { own },
                    minor: amount.minor(balance_of(model, &player)),
                    kind,
                    // Promo and jackpot wins name no bet.
                    bet: bet_id.filter(|_| kind_is_win),
                    session,
                    round_closed,
                    player,
                }),
                spelling,
            })
        }
        Step::Rollback {
            tx,
            target,
            who,
            other_provider: flip_provider,
            with_round,
        } => {
            let from_entry = |e: &super::reference::Entry| {
                (
                    e.ns.clone(),
                    e.player.clone(),
                    e.tx.clone(),
                    e.round.clone(),
                )
            };
            let pool = |provider: u8, player: u8, id: u8| {
                (
                    PROVIDERS[usize::from(provider) % PROVIDERS.len()]
                        .0
                        .to_owned(),
                    names.player(player),
                    names.tx(id),
                    Some(names.round(GAMES[0], id)),
                )
            };
            let (provider, player, reference, round) = match target {
                RollbackTarget::Bet(k) => {
                    latest(model, k, |e| is_provider_entry(e) && e.kind == Kind::Bet)
                        .map(from_entry)
                        .unwrap_or_else(|| pool(0, k, k))
                }
                RollbackTarget::Entry(k) => latest(model, k, is_provider_entry)
                    .map(from_entry)
                    .unwrap_or_else(|| pool(0, k, k)),
                RollbackTarget::Pool {
                    provider,
                    player,
                    id,
                } => {
                    let (provider, player, reference, round) = pool(provider, player, id);
                    // The round of the bet with that id, when there is one.
                    let round = model
                        .ledger
                        .iter()
                        .find(|e| e.ns == provider && e.tx == reference)
                        .map_or(round, |e| e.round.clone());
                    (provider, player, reference, round)
                }
            };
            Action::Call(Sent {
                call: Call::Rollback(RollbackCall {
                    provider: if flip_provider {
                        other_provider(&provider)
                    } else {
                        provider
                    },
                    tx: names.provider_tx(tx),
                    player: names.who(who, &player),
                    reference,
                    round: round.filter(|_| with_round),
                }),
                spelling: 0,
            })
        }
        Step::Resend { back, change } => {
            let earlier: Vec<&Sent> = history.iter().filter(|s| s.call.is_money()).collect();
            if earlier.is_empty() {
                return Action::Skip;
            }
            let sent = earlier[earlier.len() - 1 - usize::from(back) % earlier.len()];
            Action::Call(changed(sent, change, names, model))
        }
        Step::Deposit {
            tx,
            player,
            amount,
            category,
            spelling,
        } => {
            let player = names.player(player);
            Action::Call(Sent {
                call: Call::Deposit(DepositCall {
                    tx: names.op_tx(tx),
                    minor: amount.minor(balance_of(model, &player)),
                    player,
                    category,
                }),
                spelling,
            })
        }
        Step::Withdrawal {
            tx,
            player,
            amount,
            spelling,
        } => {
            let player = names.player(player);
            Action::Call(Sent {
                call: Call::Withdrawal(WithdrawalCall {
                    tx: names.op_tx(tx),
                    minor: amount.minor(balance_of(model, &player)),
                    player,
                }),
                spelling,
            })
        }
        Step::SetStatus { player, blocked } => Action::Call(Sent {
            call: Call::SetStatus {
                player: names.player(player),
                blocked,
            },
            spelling: 0,
        }),
        Step::ExpireSession { session } => Action::Call(Sent {
            call: Call::ExpireSession {
                session: session_at(session).id.clone(),
            },
            spelling: 0,
        }),
        Step::OpenSession {
            player,
            provider,
            game,
        } => Action::OpenSession {
            player: names.player(player),
            provider: PROVIDERS[usize::from(provider) % PROVIDERS.len()]
                .0
                .to_owned(),
            game: GAMES[usize::from(game) % GAMES.len()].to_owned(),
        },
        Step::Balance {
            session,
            provider,
            who,
            player,
        } => {
            let (provider, player, session) = match session {
                Some(i) => {
                    let s = session_at(i);
                    (s.provider.clone(), s.player.clone(), Some(s.id.clone()))
                }
                None => (
                    PROVIDERS[usize::from(provider) % PROVIDERS.len()]
                        .0
                        .to_owned(),
                    names.player(player),
                    None,
                ),
            };
            Action::Call(Sent {
                call: Call::Balance {
                    provider,
                    player: names.who(who, &player),
                    session,
                },
                spelling: 0,
            })
        }
    }
}

/// `sent` with one field changed (or none, or only its spelling).
fn changed(sent: &Sent, change: Change, names: &Names, model: &Model) -> Sent {
    let mut out = sent.clone();
    let another_player = |p: &str| {
        let i = names.players.iter().position(|q| q == p).unwrap_or(0);
        names.players[(i + 1) % names.players.len()].clone()
    };
    let bump = |minor: u128| if minor >= BALANCE_MAX { 0 } else { minor + 1 };
    match (&mut out.call, change) {
        (_, Change::Nothing) => {}
        (call, Change::Respell) => {
            out.spelling = (out.spelling + 1) % 3;
            match call {
                Call::Win(w) => {
                    w.kind = match w.kind {
                        None => Some(WinKind::Win),
                        Some(WinKind::Win) => None,
                        other => other,
                    }
                }
                Call::Deposit(d) => {
                    d.category = match d.category {
                        None => Some(Category::Cash),
                        Some(Category::Cash) => None,
                        other => other,
                    }
                }
                _ => {}
            }
        }
        (Call::Bet(b), Change::Amount) => b.minor = bump(b.minor),
        (Call::Win(w), Change::Amount) => w.minor = bump(w.minor),
        (Call::Deposit(d), Change::Amount) => d.minor = bump(d.minor),
        (Call::Withdrawal(w), Change::Amount) => w.minor = bump(w.minor),
        (Call::Bet(b), Change::Player) => b.player = another_player(&b.player),
        (Call::Win(w), Change::Player) => w.player = another_player(&w.player),
        (Call::Rollback(r), Change::Player) => r.player = another_player(&r.player),
        (Call::Deposit(d), Change::Player) => d.player = another_player(&d.player),
        (Call::Withdrawal(w), Change::Player) => w.player = another_player(&w.player),
        (Call::Bet(b), Change::Round) => b.round = names.next_in_pool(&b.round, ROUND_POOL),
        (Call::Win(w), Change::Round) => w.round = names.next_in_pool(&w.round, ROUND_POOL),
        (Call::Rollback(r), Change::Round) => {
            r.round = match &r.round {
                Some(round) => Some(names.next_in_pool(round, ROUND_POOL)),
                None => Some(names.round(GAMES[0], 0)),
            }
        }
        (Call::Bet(b), Change::Game) => b.game = other_game(&b.game),
        (Call::Win(w), Change::Game) => w.game = other_game(&w.game),
        (Call::Win(w), Change::Kind) => {
            w.kind = match w.kind {
                None | Some(WinKind::Win) => Some(WinKind::Promo),
                Some(_) => Some(WinKind::Win),
            };
            if w.kind != Some(WinKind::Win) {
                w.bet = None;
            }
        }
        (Call::Win(w), Change::Reference) => {
            w.bet = Some(match &w.bet {
                Some(bet) => names.next_in_pool(bet, TX_POOL),
                None => names.tx(0),
            });
            if w.kind != Some(WinKind::Win) {
                w.kind = None;
            }
        }
        (Call::Rollback(r), Change::Reference) => {
            r.reference = names.next_in_pool(&r.reference, TX_POOL)
        }
        (Call::Bet(b), Change::Currency) => b.currency = foreign(b.currency),
        (Call::Win(w), Change::Currency) => w.currency = foreign(w.currency),
        (Call::Bet(b), Change::Session) => {
            let i = model
                .sessions
                .iter()
                .position(|s| s.id == b.session)
                .unwrap_or(0);
            b.session = model.sessions[(i + 1) % model.sessions.len()].id.clone();
        }
        (Call::Win(w), Change::Session) => {
            w.session = match w.session {
                Some(_) => None,
                None => model
                    .sessions
                    .iter()
                    .find(|s| s.player == w.player && s.provider == w.provider)
                    .map(|s| s.id.clone()),
            }
        }
        (Call::Win(w), Change::RoundClosed) => {
            w.round_closed = match w.round_closed {
                Some(true) => None,
                _ => Some(true),
            }
        }
        (Call::Deposit(d), Change::Category) => {
            d.category = match d.category {
                Some(Category::Bonus) => Some(Category::Cash),
                _ => Some(Category::Bonus),
            }
        }
        // The change does not apply to this kind of call: resent as it was.
        _ => {}
    }
    out
}

/// The currency of a new player of this setup.
pub fn setup_currency(index: usize, setup: &PlayerSetup) -> Currency {
    if index > 0 && setup.yen {
        JPY
    } else {
        EUR
    }
}
