//! The protocol-specific part of the simulator, and only that: how one money call is
//! written for each API (path, body, headers, signature), what its answer means, and
//! which ledger ids it leaves behind. The rounds, statistics and money check are shared
//! (`model`, `client`, `mod`); they speak of [`Call`]s and [`Verdict`]s only.
//!
//! - `v1`: the contract's HMAC-signed `/v1/wallet/*`, amounts as decimal strings;
//! - `hub88`: `/hub88/{provider}/transaction/*` (`../protocols.md` 1), the body signed
//!   with the provider's RSA key (`X-Hub88-Signature`), integer amounts × 100 000;
//! - `evolution`: `/evolution/{provider}/debit|credit|cancel?authToken=...` (2), amounts
//!   as JSON numbers, the bet named by its `refId`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::model::format_minor;
use crate::config::keys::SigningKey;
use crate::http::evolution::handlers::escape;

/// Which API the simulated provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    V1,
    Hub88,
    Evolution,
}

impl Protocol {
    /// The development configuration's provider of this protocol.
    pub fn default_provider(self) -> &'static str {
        match self {
            Protocol::V1 => "demo",
            Protocol::Hub88 => "hub88-demo",
            Protocol::Evolution => "evolution-demo",
        }
    }
}

/// The kind of a money call, for per-kind statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Bet,
    Win,
    Rollback,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bet => "bet",
            Kind::Win => "win",
            Kind::Rollback => "rollback",
        }
    }
}

/// One money call as the simulator means it, whatever the protocol: ids as the provider
/// names them, the amount in minor units (2 decimals).
#[derive(Debug, Clone)]
pub struct Call {
    pub kind: Kind,
    /// This movement's id.
    pub tx: String,
    pub player_id: String,
    pub session_id: String,
    pub round: String,
    pub game: String,
    pub currency: String,
    /// Stake (bet, and the bet a rollback cancels) or prize (win).
    pub amount_minor: i64,
    /// The bet this call is about (its own id for a bet).
    pub bet_tx: String,
    /// v1 wins may find their bet by round instead of by id; the adapters always name it.
    pub win_by_reference: bool,
}

/// What an answer means to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The movement is in the ledger (applied now or earlier: replays count).
    Accepted,
    /// A win whose bet the wallet does not know (yet): resent once by the round.
    BetNotFound,
    /// No answer, a 5xx, or the protocol's "unknown / temporary" status: resent as it
    /// was until definitive.
    Undecided,
    /// A final refusal: nothing moved.
    Refused,
}

/// What one attempt ended with.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// HTTP status; 0 when the connection failed.
    pub status: u16,
    /// The error code (v1) or the protocol's status string (adapters); empty for a v1
    /// success.
    pub code: String,
    pub verdict: Verdict,
    /// The wallet asked to come back later (`503 retry_later`, Hub88's `RS_ERROR_UNKNOWN`,
    /// Evolution's `TEMPORARY_ERROR`).
    pub retry_later: bool,
}

impl Outcome {
    pub fn transport() -> Outcome {
        Outcome {
            status: 0,
            code: "transport".to_owned(),
            verdict: Verdict::Undecided,
            retry_later: false,
        }
    }

    pub fn ok(&self) -> bool {
        self.verdict == Verdict::Accepted
    }

    pub fn undecided(&self) -> bool {
        self.verdict == Verdict::Undecided
    }

    pub fn bet_not_found(&self) -> bool {
        self.verdict == Verdict::BetNotFound
    }
}

/// A call written for the wire: sent as it is on every attempt (v1 adds a fresh
/// timestamp and its signature per attempt, [`Dialect::attempt_headers`]).
pub struct Prepared {
    /// Path and query, from the root of the wallet's URL.
    pub path: String,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// A protocol with the provider's credentials.
pub enum Dialect {
    V1 { secret: String },
    Hub88 { key: Box<SigningKey> },
    Evolution { auth_token: String },
}

/// Hub88's integers per minor unit of a 2-decimal currency: multiplier 100 000 over 10^2.
const HUB88_PER_MINOR: i64 = 1000;

impl Dialect {
    /// `key_path` (a PEM file, PKCS#8 or PKCS#1) is read for Hub88 only.
    pub fn new(
        protocol: Protocol,
        secret: &str,
        key_path: &str,
        auth_token: &str,
    ) -> anyhow::Result<Dialect> {
        Ok(match protocol {
            Protocol::V1 => Dialect::V1 {
                secret: secret.to_owned(),
            },
            Protocol::Hub88 => {
                let key = crate::config::keys::private(key_path)
                    .map_err(|e| anyhow::anyhow!("--hub88-key {key_path}: {e}"))?;
                Dialect::Hub88 { key: Box::new(key) }
            }
            Protocol::Evolution => Dialect::Evolution {
                auth_token: auth_token.to_owned(),
            },
        })
    }

    /// Whether preparing a call signs it (its cost is measured apart: client CPU).
    pub fn signs_bodies(&self) -> bool {
        matches!(self, Dialect::Hub88 { .. })
    }

    /// The request of `call` for provider `provider`.
    pub fn prepare(&self, provider: &str, call: &Call) -> Prepared {
        match self {
            Dialect::V1 { .. } => {
                let path = format!("/v1/wallet/{}", call.kind.name());
                let body = serde_json::to_vec(&v1_body(call)).expect("JSON body");
                Prepared {
                    path,
                    body,
                    headers: vec![("x-provider-id", provider.to_owned())],
                }
            }
            Dialect::Hub88 { key } => {
                let endpoint = match call.kind {
                    Kind::Bet => "bet",
                    Kind::Win => "win",
                    Kind::Rollback => "rollback",
                };
                let body = serde_json::to_vec(&hub88_body(call)).expect("JSON body");
                // The key signed and verified a probe when it was loaded.
                let signature = STANDARD.encode(key.sign(&body).expect("an RSA signature"));
                Prepared {
                    path: format!("/hub88/{provider}/transaction/{endpoint}"),
                    body,
                    headers: vec![("x-hub88-signature", signature)],
                }
            }
            Dialect::Evolution { auth_token } => {
                let endpoint = match call.kind {
                    Kind::Bet => "debit",
                    Kind::Win => "credit",
                    Kind::Rollback => "cancel",
                };
                let body = serde_json::to_vec(&evolution_body(call)).expect("JSON body");
                Prepared {
                    path: format!(
                        "/evolution/{provider}/{endpoint}?authToken={}",
                        query_escape(auth_token)
                    ),
                    body,
                    headers: Vec::new(),
                }
            }
        }
    }

    /// Headers made anew for each attempt: v1's timestamp and HMAC signature.
    pub fn attempt_headers(&self, prepared: &Prepared) -> Vec<(&'static str, String)> {
        match self {
            Dialect::V1 { secret } => {
                let timestamp = chrono::Utc::now().timestamp();
                vec![
                    ("x-timestamp", timestamp.to_string()),
                    (
                        "x-signature",
                        crate::signing::sign(secret, timestamp, &prepared.path, &prepared.body),
                    ),
                ]
            }
            Dialect::Hub88 { .. } | Dialect::Evolution { .. } => Vec::new(),
        }
    }

    /// What an answer (HTTP `status`, JSON `body` or Null) to a `kind` call means.
    pub fn outcome(&self, kind: Kind, status: u16, body: &Value) -> Outcome {
        if status == 0 || status >= 500 {
            // No answer, or a 5xx (`retry_later`, `outcome_unknown`, a balancer's
            // 502/503): resent as it was, as a provider would.
            let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
            return Outcome {
                status,
                retry_later: status == 503 && code == "retry_later",
                code,
                verdict: Verdict::Undecided,
            };
        }
        match self {
            Dialect::V1 { .. } => {
                let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
                let verdict = match (status, code.as_str()) {
                    (200, _) => Verdict::Accepted,
                    (404, "bet_not_found") if kind == Kind::Win => Verdict::BetNotFound,
                    _ => Verdict::Refused,
                };
                Outcome {
                    status,
                    code,
                    verdict,
                    retry_later: false,
                }
            }
            Dialect::Hub88 { .. } => {
                let code = body["status"].as_str().unwrap_or("").to_owned();
                let verdict = match code.as_str() {
                    _ if status != 200 => Verdict::Refused,
                    "RS_OK" => Verdict::Accepted,
                    "RS_ERROR_TRANSACTION_DOES_NOT_EXIST" if kind == Kind::Win => {
                        Verdict::BetNotFound
                    }
                    // Retry later, a commit in doubt, anything without a specific
                    // status (1.8): the same call again settles it.
                    "RS_ERROR_UNKNOWN" | "RS_ERROR_TIMEOUT" | "" => Verdict::Undecided,
                    _ => Verdict::Refused,
                };
                Outcome {
                    status,
                    retry_later: code == "RS_ERROR_UNKNOWN",
                    code,
                    verdict,
                }
            }
            Dialect::Evolution { .. } => {
                let code = body["status"].as_str().unwrap_or("").to_owned();
                let verdict = match code.as_str() {
                    _ if status != 200 => Verdict::Refused,
                    // Evolution's successes (2.8): the movement is recorded, now or by
                    // an earlier copy of this call.
                    "OK" | "BET_ALREADY_EXIST" | "BET_ALREADY_SETTLED" => Verdict::Accepted,
                    "BET_DOES_NOT_EXIST" if kind == Kind::Win => Verdict::BetNotFound,
                    "TEMPORARY_ERROR" | "UNKNOWN_ERROR" | "" => Verdict::Undecided,
                    _ => Verdict::Refused,
                };
                Outcome {
                    status,
                    retry_later: code == "TEMPORARY_ERROR",
                    code,
                    verdict,
                }
            }
        }
    }

    /// The ledger's transaction id of `call`'s movement, as the operator API lists it
    /// (`GET /v1/providers/{provider}/transactions/{id}`).
    pub fn ledger_id(&self, call: &Call) -> String {
        match self {
            Dialect::V1 { .. } | Dialect::Hub88 { .. } => call.tx.clone(),
            // Derived ids (2.5): keyed by player and the bet's refId.
            Dialect::Evolution { .. } => {
                let prefix = match call.kind {
                    Kind::Bet => "debit",
                    Kind::Win => "credit",
                    Kind::Rollback => "cancel",
                };
                format!(
                    "{prefix}:{}:{}",
                    escape(&call.player_id),
                    escape(&call.bet_tx)
                )
            }
        }
    }

    /// The ledger id of the bet `call` settles.
    pub fn ledger_bet_id(&self, call: &Call) -> String {
        let bet = Call {
            kind: Kind::Bet,
            tx: call.bet_tx.clone(),
            ..call.clone()
        };
        self.ledger_id(&bet)
    }
}

fn v1_body(call: &Call) -> Value {
    match call.kind {
        Kind::Bet => json!({
            "transaction_id": call.tx,
            "player_id": call.player_id,
            "session_id": call.session_id,
            "round_id": call.round,
            "game_id": call.game,
            "amount": format_minor(call.amount_minor),
            "currency": call.currency,
        }),
        Kind::Win => {
            let mut win = json!({
                "transaction_id": call.tx,
                "player_id": call.player_id,
                "round_id": call.round,
                "game_id": call.game,
                "amount": format_minor(call.amount_minor),
                "currency": call.currency,
                "round_closed": true,
            });
            if call.win_by_reference {
                win["bet_transaction_id"] = json!(call.bet_tx);
            }
            win
        }
        Kind::Rollback => json!({
            "transaction_id": call.tx,
            "player_id": call.player_id,
            "reference_transaction_id": call.bet_tx,
            "round_id": call.round,
        }),
    }
}

fn hub88_body(call: &Call) -> Value {
    let request_uuid = uuid::Uuid::now_v7().to_string();
    match call.kind {
        Kind::Bet | Kind::Win => {
            let mut body = json!({
                "user": call.player_id,
                "transaction_uuid": call.tx,
                "token": call.session_id,
                "round": call.round,
                "request_uuid": request_uuid,
                "game_code": call.game,
                "currency": call.currency,
                "amount": call.amount_minor.saturating_mul(HUB88_PER_MINOR),
                "is_free": false,
                "round_closed": call.kind == Kind::Win,
            });
            if call.kind == Kind::Win {
                body["reference_transaction_uuid"] = json!(call.bet_tx);
            }
            body
        }
        Kind::Rollback => json!({
            "user": call.player_id,
            "transaction_uuid": call.tx,
            "token": call.session_id,
            "round": call.round,
            "request_uuid": request_uuid,
            "reference_transaction_uuid": call.bet_tx,
            "game_code": call.game,
        }),
    }
}

/// Evolution's debit / credit / cancel body (2.3); the amount a JSON number written with
/// the currency's two decimals, never through a float.
#[derive(Serialize)]
struct EvolutionBody<'a> {
    sid: &'a str,
    #[serde(rename = "userId")]
    user_id: &'a str,
    currency: &'a str,
    game: Value,
    transaction: EvolutionTransaction<'a>,
    uuid: String,
}

#[derive(Serialize)]
struct EvolutionTransaction<'a> {
    id: &'a str,
    #[serde(rename = "refId")]
    ref_id: &'a str,
    amount: Box<RawValue>,
}

fn evolution_body(call: &Call) -> EvolutionBody<'_> {
    let amount =
        RawValue::from_string(format_minor(call.amount_minor)).expect("a decimal is a JSON number");
    EvolutionBody {
        sid: &call.session_id,
        user_id: &call.player_id,
        currency: &call.currency,
        game: json!({
            "id": call.round,
            "type": "slots",
            "details": {"table": {"id": call.game}},
        }),
        transaction: EvolutionTransaction {
            // A cancel repeats the debit's transaction (2.3).
            id: if call.kind == Kind::Rollback {
                &call.bet_tx
            } else {
                &call.tx
            },
            ref_id: &call.bet_tx,
            amount,
        },
        uuid: uuid::Uuid::now_v7().to_string(),
    }
}

/// `text` for a URL query value: unreserved characters kept, the rest %-encoded.
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(kind: Kind) -> Call {
        Call {
            kind,
            tx: "t:1".into(),
            player_id: "p%1".into(),
            session_id: "s".into(),
            round: "r".into(),
            game: "g".into(),
            currency: "EUR".into(),
            amount_minor: 1234,
            bet_tx: "b:1".into(),
            win_by_reference: true,
        }
    }

    #[test]
    fn evolution_amounts_are_exact_numbers_and_ids_are_derived() {
        let dialect = Dialect::Evolution {
            auth_token: "a b".into(),
        };
        let prepared = dialect.prepare("evo", &call(Kind::Win));
        assert_eq!(prepared.path, "/evolution/evo/credit?authToken=a%20b");
        let text = String::from_utf8(prepared.body).unwrap();
        assert!(text.contains(r#""amount":12.34"#), "{text}");
        assert_eq!(dialect.ledger_id(&call(Kind::Win)), "credit:p%251:b%3A1");
        assert_eq!(dialect.ledger_bet_id(&call(Kind::Win)), "debit:p%251:b%3A1");
    }

    #[test]
    fn answers_are_read_by_each_protocol_s_status_table() {
        let evo = Dialect::Evolution {
            auth_token: String::new(),
        };
        let status =
            |d: &Dialect, kind, s: &str| d.outcome(kind, 200, &json!({"status": s})).verdict;
        assert_eq!(
            status(&evo, Kind::Bet, "BET_ALREADY_EXIST"),
            Verdict::Accepted
        );
        assert_eq!(
            status(&evo, Kind::Win, "BET_DOES_NOT_EXIST"),
            Verdict::BetNotFound
        );
        assert_eq!(
            status(&evo, Kind::Bet, "TEMPORARY_ERROR"),
            Verdict::Undecided
        );
        assert_eq!(
            status(&evo, Kind::Bet, "INSUFFICIENT_FUNDS"),
            Verdict::Refused
        );
        let v1 = Dialect::V1 {
            secret: String::new(),
        };
        let win = v1.outcome(Kind::Win, 404, &json!({"error": {"code": "bet_not_found"}}));
        assert_eq!(win.verdict, Verdict::BetNotFound);
        assert!(v1.outcome(Kind::Bet, 503, &Value::Null).undecided());
    }
}
