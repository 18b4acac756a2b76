//! The ledger's input: one typed command per money call, built by a protocol adapter
//! from its wire format, with validated ids and exact amounts. Each command knows its
//! fingerprint: what makes two calls with one transaction id the same call.

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{
    Amount, Currency, DecimalAmount, ExternalTxId, GameId, PlayerId, RoundId, TxKey, WinKind,
};

/// An amount in minor units together with the currency it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: Amount,
    pub currency: Currency,
}

impl Money {
    /// Canonical decimal text (`12.5` for 1250 EUR cents): what a fingerprint hashes,
    /// the same text for every way a client may write the value.
    fn canonical(&self) -> String {
        Decimal::new(self.amount.minor(), self.currency.scale)
            .normalize()
            .to_string()
    }
}

/// A session a provider named: `None` when the text cannot be a session the wallet
/// issued, which answers like an unknown session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRef(pub Option<Uuid>);

impl SessionRef {
    pub fn parse(text: &str) -> Self {
        SessionRef(Uuid::parse_str(text).ok())
    }
}

#[derive(Debug, Clone)]
pub struct BetCommand {
    pub key: TxKey,
    pub player: PlayerId,
    pub session: SessionRef,
    pub round: RoundId,
    pub game: GameId,
    pub stake: Money,
}

#[derive(Debug, Clone)]
pub struct WinCommand {
    pub key: TxKey,
    pub player: PlayerId,
    pub round: RoundId,
    pub game: GameId,
    pub payout: Money,
    pub kind: WinKind,
    /// The bet this win pays, when the provider names it.
    pub bet: Option<ExternalTxId>,
    pub session: Option<SessionRef>,
    pub closes_round: bool,
}

#[derive(Debug, Clone)]
pub struct RollbackCommand {
    pub key: TxKey,
    pub player: PlayerId,
    /// The caller's id of the bet to reverse.
    pub target: ExternalTxId,
    pub round: Option<RoundId>,
}

/// A deposit or a withdrawal by the operator, in the player's currency (which the
/// ledger knows once it has read the player, so the amount stays a decimal until then).
#[derive(Debug, Clone)]
pub struct CashCommand {
    pub key: TxKey,
    pub player: PlayerId,
    pub amount: DecimalAmount,
    pub direction: CashDirection,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CashDirection {
    /// Into a category (cash by default).
    Deposit { category: String },
    /// Out of cash.
    Withdrawal,
}

/// A fingerprint of what a call means.
pub type Fingerprint = Vec<u8>;

/// Hashes the fields that define a call, length-prefixed so that no two field lists
/// hash alike. Two calls with the same transaction id and the same fingerprint are the
/// same call.
fn fingerprint(fields: &[(&str, Option<&str>)]) -> Fingerprint {
    let mut hash = Sha256::new();
    for (name, value) in fields {
        hash.update(name.as_bytes());
        match value {
            Some(v) => {
                hash.update([1]);
                hash.update(u64::try_from(v.len()).unwrap_or(u64::MAX).to_be_bytes());
                hash.update(v.as_bytes());
            }
            None => hash.update([0]),
        }
    }
    hash.finalize().to_vec()
}

/// Protocol fields that make two calls with one transaction id different calls beyond
/// what the command means: e.g. the amount a Hub88 free bet reported, which the ledger
/// records as a zero stake, and its `is_free` flag. The ledger never reads them.
pub type WireFields<'a> = &'a [(&'a str, Option<&'a str>)];

/// A command's fingerprint extended by its wire fields; with none it is the command's
/// own, so the records of protocols without wire fields keep matching.
pub fn with_wire(base: Fingerprint, wire: WireFields<'_>) -> Fingerprint {
    if wire.is_empty() {
        return base;
    }
    let hex = hex::encode(&base);
    let mut fields = vec![("command", Some(hex.as_str()))];
    fields.extend_from_slice(wire);
    fingerprint(&fields)
}

impl BetCommand {
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&[
            ("call", Some("bet")),
            ("player", Some(self.player.as_str())),
            ("amount", Some(&self.stake.canonical())),
            ("currency", Some(&self.stake.currency.code)),
            ("round", Some(self.round.as_str())),
            ("game", Some(self.game.as_str())),
        ])
    }
}

impl WinCommand {
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&[
            ("call", Some("win")),
            ("player", Some(self.player.as_str())),
            ("amount", Some(&self.payout.canonical())),
            ("currency", Some(&self.payout.currency.code)),
            ("round", Some(self.round.as_str())),
            ("game", Some(self.game.as_str())),
            ("kind", Some(self.kind.as_str())),
            ("reference", self.bet.as_ref().map(ExternalTxId::as_str)),
        ])
    }
}

impl RollbackCommand {
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&[
            ("call", Some("rollback")),
            ("player", Some(self.player.as_str())),
            ("reference", Some(self.target.as_str())),
            ("round", self.round.as_ref().map(RoundId::as_str)),
        ])
    }
}

impl CashCommand {
    pub fn fingerprint(&self) -> Fingerprint {
        let amount = self.amount.canonical();
        match &self.direction {
            CashDirection::Deposit { category } => fingerprint(&[
                ("call", Some("deposit")),
                ("player", Some(self.player.as_str())),
                ("amount", Some(&amount)),
                ("category", Some(category)),
            ]),
            CashDirection::Withdrawal => fingerprint(&[
                ("call", Some("withdrawal")),
                ("player", Some(self.player.as_str())),
                ("amount", Some(&amount)),
            ]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderId;

    fn bet(amount: i64, scale: u32) -> BetCommand {
        BetCommand {
            key: TxKey {
                provider: ProviderId::parse("demo").unwrap(),
                transaction: ExternalTxId::parse("t1").unwrap(),
            },
            player: PlayerId::parse("p1").unwrap(),
            session: SessionRef(None),
            round: RoundId::parse("r1").unwrap(),
            game: GameId::parse("g1").unwrap(),
            stake: Money {
                amount: Amount::from_minor(amount).unwrap(),
                currency: Currency {
                    code: "EUR".into(),
                    scale,
                },
            },
        }
    }

    #[test]
    fn a_fingerprint_hashes_the_value_not_its_spelling() {
        assert_eq!(bet(1250, 2).stake.canonical(), "12.5");
        assert_eq!(bet(1000, 2).stake.canonical(), "10");
        assert_eq!(bet(0, 2).stake.canonical(), "0");
        // The decimal a client wrote and the minor units give the same text.
        let written = DecimalAmount::parse_plain("12.50").unwrap().canonical();
        assert_eq!(written, bet(1250, 2).stake.canonical());
        assert_ne!(bet(1250, 2).fingerprint(), bet(1251, 2).fingerprint());
        assert_eq!(bet(1250, 2).fingerprint(), bet(1250, 2).fingerprint());
    }

    #[test]
    fn wire_fields_tell_calls_apart_and_none_change_nothing() {
        let base = bet(0, 2).fingerprint();
        assert_eq!(with_wire(base.clone(), &[]), base);
        let free = with_wire(
            base.clone(),
            &[("is_free", Some("true")), ("amount", Some("5"))],
        );
        let other = with_wire(
            base.clone(),
            &[("is_free", Some("true")), ("amount", Some("6"))],
        );
        assert_ne!(free, base);
        assert_ne!(free, other);
    }
}
