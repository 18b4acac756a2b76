//! Typed settings, layered from built-in defaults, a config file, an environment file and
//! `WALLET__SECTION__KEY` environment variables, and validated at start-up.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::Deserialize;

use crate::domain::{Categories, Currencies};

/// The defaults every deployment starts from (`config/default.toml`, built in).
const DEFAULTS: &str = include_str!("../config/default.toml");

/// Credentials published in the API contract; refused in production.
const DEMO_PROVIDER_SECRETS: [&str; 2] = ["demo-secret", "demo2-secret"];
const DEMO_EVOLUTION_TOKENS: [&str; 2] = ["evolution-demo-token", "evolution-demo2-token"];
const DEMO_OPERATOR_TOKENS: [&str; 2] = ["demo-operator-token", "demo-viewer-token"];

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub env: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub ledger: LedgerSettings,
    pub log: LogSettings,
    pub currencies: BTreeMap<String, u32>,
    pub providers: Vec<ProviderSettings>,
    pub operator_tokens: Vec<OperatorToken>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub body_limit_bytes: usize,
    pub request_timeout_ms: u64,
    pub shutdown_grace_ms: u64,
}

#[derive(Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_max_size: usize,
    pub acquire_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub statement_timeout_ms: u64,
    /// `lock_timeout` of every connection: the longest wait for a row or player lock.
    pub lock_timeout_ms: u64,
    pub connection_uses_max: u64,
    pub connect_timeout_ms: u64,
    pub migrate_on_start: bool,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &"<redacted>")
            .field("pool_max_size", &self.pool_max_size)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct LedgerSettings {
    pub category_order: Vec<String>,
    pub serialization_retries_max: u32,
    pub retry_backoff_base_ms: u64,
    pub retry_backoff_max_ms: u64,
    pub correlation_wait_ms: u64,
    pub correlation_waiters_max: usize,
    pub player_queue_max: usize,
    pub commit_lanes: usize,
    pub commit_group_max: usize,
    pub player_wait_ms_max: u64,
    pub stale_round_age_secs: u64,
    pub stale_round_sweep_interval_secs: u64,
    /// Money calls running at once in this process; more answer `retry_later`.
    pub money_calls_in_flight_max: usize,
    /// The time a money call has from its arrival to its last attempt: the player's
    /// turn, retries and the wait for a win's bet all come out of it.
    pub money_call_deadline_ms: u64,
    /// How often a win that waits for its bet runs its attempt at most.
    pub correlation_attempts_max: u32,
    /// How long a win waiting for its bet sleeps at most between two looks, so that a
    /// bet committed by another process is found without a signal from it.
    pub correlation_poll_ms: u64,
    /// Whether calls of one player from several processes wait for each other on a
    /// PostgreSQL advisory lock (session-level: off behind a transaction-mode pooler).
    pub player_advisory_locks: bool,
    /// Statements of one stale-round sweep at most (each closes up to 1000 rounds).
    pub sweep_batches_max: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: String,
    pub filter: String,
}

#[derive(Clone, Deserialize)]
pub struct ProviderSettings {
    pub id: String,
    /// Which API the provider speaks (`../protocols.md` 0.1).
    #[serde(default)]
    pub protocol: Protocol,
    /// The HMAC secret of a `generic` provider; unused by the other protocols.
    #[serde(default)]
    pub secret: String,
    /// `allowed_ips` is the name the protocols page uses for the same list.
    #[serde(default, alias = "allowed_ips")]
    pub allowed_networks: Vec<IpNet>,
    #[serde(default)]
    pub hub88: Option<Hub88Settings>,
    #[serde(default)]
    pub evolution: Option<EvolutionSettings>,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("id", &self.id)
            .field("protocol", &self.protocol)
            .field("secret", &"<redacted>")
            .field("allowed_networks", &self.allowed_networks)
            .field("hub88", &self.hub88)
            .field("evolution", &self.evolution.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// The wallet's own HMAC API under `/v1/wallet/*`.
    #[default]
    Generic,
    /// Hub88's operator wallet API under `/hub88/{provider_id}/*`.
    Hub88,
    /// Evolution One Wallet under `/evolution/{provider_id}/*`.
    Evolution,
}

/// Credentials and amounts of a `hub88` provider. A key is a PEM file's path, the PEM
/// text itself (starting with `-----BEGIN`), or `env:NAME` for PEM text held in the
/// environment variable NAME (secrets need not live in files).
#[derive(Debug, Clone, Deserialize)]
pub struct Hub88Settings {
    /// Hub88's id for us; informational.
    #[serde(default)]
    pub operator_id: Option<i64>,
    /// The provider's public key: verifies `X-Hub88-Signature` of requests.
    pub verification_key: String,
    /// Our private key: signs every answer.
    pub signing_key: String,
    /// Integer money units per currency unit (Hub88: 100000).
    #[serde(default = "default_hub88_multiplier")]
    pub amount_multiplier: u64,
    /// Per-currency overrides, e.g. `BTC = 100000000`.
    #[serde(default)]
    pub amount_multipliers: BTreeMap<String, u64>,
}

fn default_hub88_multiplier() -> u64 {
    100_000
}

impl Hub88Settings {
    /// The multiplier of one currency.
    pub fn multiplier(&self, currency: &str) -> u64 {
        self.amount_multipliers
            .get(currency)
            .copied()
            .unwrap_or(self.amount_multiplier)
    }

    pub fn load_verification_key(&self) -> Result<rsa::RsaPublicKey, String> {
        keys::public(&self.verification_key)
    }

    pub fn load_signing_key(&self) -> Result<rsa::RsaPrivateKey, String> {
        keys::private(&self.signing_key)
    }
}

#[derive(Clone, Deserialize)]
pub struct EvolutionSettings {
    /// The `authToken` query parameter Evolution sends on every call.
    pub auth_token: String,
}

/// Reading and checking the RSA keys of the Hub88 protocol (RSA only, 2048 bits or more;
/// SPKI or PKCS#1 public keys, PKCS#8 or PKCS#1 private keys).
pub mod keys {
    use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
    use rsa::traits::PublicKeyParts;
    use rsa::{RsaPrivateKey, RsaPublicKey};
    use sha2::{Digest, Sha256};

    pub const BITS_MIN: usize = 2048;

    /// SHA-256 of the DER (SPKI) public keys published with the demo key pairs
    /// (`config/protocol-keys/`): production refuses any key whose public half is one.
    pub const DEMO_FINGERPRINTS: [&str; 3] = [
        "d793d34406066a92fd7d3125b5f2520b1fc4170e044e1022fa2e626c6c463e52",
        "61f7ed11e7c15bc448e27cf04c9d40e67f41d3e2eac9ab61a3a91d5bbd9e777e",
        "a78924a9fd82e358558924dbd035fe0510fa5b559a85924c86d41769fe4c745e",
    ];

    /// The PEM text a key setting names.
    fn pem(source: &str) -> Result<String, String> {
        if source.trim_start().starts_with("-----BEGIN") {
            Ok(source.to_owned())
        } else if let Some(var) = source.strip_prefix("env:") {
            std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))
        } else {
            std::fs::read_to_string(source).map_err(|e| format!("cannot read {source}: {e}"))
        }
    }

    fn size_ok(bits: usize) -> Result<(), String> {
        if bits < BITS_MIN {
            return Err(format!("an RSA key of {bits} bits is below {BITS_MIN}"));
        }
        Ok(())
    }

    pub fn public(source: &str) -> Result<RsaPublicKey, String> {
        let text = pem(source)?;
        let key = RsaPublicKey::from_public_key_pem(&text)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(&text))
            .map_err(|_| "not an RSA public key in SPKI or PKCS#1 PEM".to_owned())?;
        size_ok(key.n().bits())?;
        Ok(key)
    }

    pub fn private(source: &str) -> Result<RsaPrivateKey, String> {
        let text = pem(source)?;
        let key = RsaPrivateKey::from_pkcs8_pem(&text)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&text))
            .map_err(|_| "not an RSA private key in PKCS#8 or PKCS#1 PEM".to_owned())?;
        size_ok(key.n().bits())?;
        Ok(key)
    }

    /// Lowercase hex SHA-256 of the key's SPKI DER form.
    pub fn fingerprint(key: &RsaPublicKey) -> String {
        key.to_public_key_der()
            .map(|der| hex::encode(Sha256::digest(der.as_bytes())))
            .unwrap_or_default()
    }

    pub fn is_demo(key: &RsaPublicKey) -> bool {
        DEMO_FINGERPRINTS.contains(&fingerprint(key).as_str())
    }
}

#[derive(Clone, Deserialize)]
pub struct OperatorToken {
    pub token: String,
    pub role: Role,
}

impl std::fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorToken")
            .field("token", &"<redacted>")
            .field("role", &self.role)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Operator,
    Viewer,
}

impl Settings {
    /// Loads the layers in order: built-in defaults, the file `config_file` (or
    /// `WALLET_CONFIG`), the environment file (`WALLET_ENV_FILE`, default `.env`, if
    /// present), then `WALLET__*` variables. Validates the result.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Settings> {
        let env_file = std::env::var_os("WALLET_ENV_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".env"));
        if env_file.exists() {
            dotenvy::from_path(&env_file).map_err(|e| {
                anyhow::anyhow!("cannot read environment file {}: {e}", env_file.display())
            })?;
        }
        let file = config_file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("WALLET_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(file) = &file {
            if !file.exists() {
                anyhow::bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("WALLET__").split("__"));
        let settings: Settings = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.validate().map_err(|problems| {
            anyhow::anyhow!("invalid configuration:\n  - {}", problems.join("\n  - "))
        })?;
        Ok(settings)
    }

    /// Every problem with the settings, one sentence each.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, problem: &str| {
            if !ok {
                problems.push(problem.to_owned());
            }
        };
        let s = &self.server;
        check(
            s.body_limit_bytes >= 1024,
            "server.body_limit_bytes must be at least 1024",
        );
        check(
            s.request_timeout_ms >= 100,
            "server.request_timeout_ms must be at least 100",
        );
        let d = &self.database;
        check(
            (1..=10_000).contains(&d.pool_max_size),
            "database.pool_max_size must be between 1 and 10000",
        );
        check(
            d.acquire_timeout_ms >= 1,
            "database.acquire_timeout_ms must be positive",
        );
        check(
            d.idle_timeout_ms >= 1000,
            "database.idle_timeout_ms must be at least 1000",
        );
        check(
            d.statement_timeout_ms >= 100,
            "database.statement_timeout_ms must be at least 100",
        );
        check(
            (10..=d.statement_timeout_ms).contains(&d.lock_timeout_ms),
            "database.lock_timeout_ms must be at least 10 and at most database.statement_timeout_ms",
        );
        check(
            d.connection_uses_max >= 1,
            "database.connection_uses_max must be at least 1",
        );
        check(
            d.connect_timeout_ms >= 100,
            "database.connect_timeout_ms must be at least 100",
        );
        check(
            d.url.parse::<tokio_postgres::Config>().is_ok(),
            "database.url is not a valid PostgreSQL connection string",
        );
        let l = &self.ledger;
        let unique: HashSet<&String> = l.category_order.iter().collect();
        check(
            unique.len() == l.category_order.len(),
            "ledger.category_order has a duplicate category",
        );
        check(
            l.category_order
                .iter()
                .any(|c| c == crate::domain::category::CASH),
            "ledger.category_order must include \"cash\"",
        );
        check(
            l.category_order.iter().all(|c| is_name(c) && c != "total"),
            "ledger.category_order entries must be short names of [a-z0-9_] other than \"total\"",
        );
        check(
            l.serialization_retries_max <= 100,
            "ledger.serialization_retries_max must be at most 100",
        );
        check(
            l.retry_backoff_base_ms >= 1 && l.retry_backoff_base_ms <= l.retry_backoff_max_ms,
            "ledger.retry_backoff_base_ms must be at least 1 and at most ledger.retry_backoff_max_ms",
        );
        check(
            l.correlation_wait_ms <= 60_000,
            "ledger.correlation_wait_ms must be at most 60000",
        );
        check(
            l.correlation_waiters_max >= 1,
            "ledger.correlation_waiters_max must be at least 1",
        );
        check(
            (1..=256).contains(&l.commit_lanes),
            "ledger.commit_lanes must be between 1 and 256",
        );
        check(
            (1..=1000).contains(&l.commit_group_max),
            "ledger.commit_group_max must be between 1 and 1000",
        );
        check(
            l.player_queue_max >= 1,
            "ledger.player_queue_max must be at least 1",
        );
        check(
            l.player_wait_ms_max >= 1,
            "ledger.player_wait_ms_max must be at least 1",
        );
        check(
            l.stale_round_age_secs >= 60,
            "ledger.stale_round_age_secs must be at least 60",
        );
        check(
            l.stale_round_sweep_interval_secs >= 1,
            "ledger.stale_round_sweep_interval_secs must be at least 1",
        );
        check(
            (1..=1_000_000).contains(&l.money_calls_in_flight_max),
            "ledger.money_calls_in_flight_max must be between 1 and 1000000",
        );
        check(
            l.money_call_deadline_ms >= l.player_wait_ms_max
                && l.money_call_deadline_ms >= l.correlation_wait_ms
                && l.money_call_deadline_ms <= 600_000,
            "ledger.money_call_deadline_ms must be at least ledger.player_wait_ms_max and \
             ledger.correlation_wait_ms, and at most 600000",
        );
        check(
            (1..=1000).contains(&l.correlation_attempts_max),
            "ledger.correlation_attempts_max must be between 1 and 1000",
        );
        check(
            (1..=10_000).contains(&l.correlation_poll_ms),
            "ledger.correlation_poll_ms must be between 1 and 10000",
        );
        check(
            (1..=100_000).contains(&l.sweep_batches_max),
            "ledger.sweep_batches_max must be between 1 and 100000",
        );
        check(
            ["", "json", "pretty"].contains(&self.log.format.as_str()),
            "log.format must be \"json\", \"pretty\" or empty",
        );
        check(
            !self.currencies.is_empty(),
            "currencies must list at least one currency",
        );
        for (code, scale) in &self.currencies {
            check(
                code.len() >= 3 && code.len() <= 8 && code.bytes().all(|b| b.is_ascii_uppercase()),
                &format!("currency code {code:?} must be 3 to 8 upper-case letters"),
            );
            check(
                *scale <= 12,
                &format!("currency {code} has a scale above 12"),
            );
        }
        let mut provider_ids = HashSet::new();
        let mut protocol_problems = Vec::new();
        for p in &self.providers {
            check(
                is_provider_id(&p.id),
                &format!(
                    "provider id {:?} must be 1-64 characters of [A-Za-z0-9_.-]",
                    p.id
                ),
            );
            check(
                provider_ids.insert(p.id.clone()),
                &format!("provider {} is listed twice", p.id),
            );
            protocol_problems.extend(provider_problems(p, self.env));
        }
        let mut tokens = HashSet::new();
        for t in &self.operator_tokens {
            check(
                t.token.len() >= 16,
                "every operator token must be at least 16 characters",
            );
            check(
                tokens.insert(t.token.clone()),
                "an operator token is listed twice",
            );
        }
        if self.env == Environment::Production {
            check(
                !self
                    .providers
                    .iter()
                    .any(|p| DEMO_PROVIDER_SECRETS.contains(&p.secret.as_str())),
                "production mode refuses the demo provider secrets from the API contract",
            );
            check(
                !self
                    .operator_tokens
                    .iter()
                    .any(|t| DEMO_OPERATOR_TOKENS.contains(&t.token.as_str())),
                "production mode refuses the demo operator tokens from the API contract",
            );
        }
        problems.extend(protocol_problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    pub fn categories(&self) -> Categories {
        Categories::new(self.ledger.category_order.clone())
    }

    pub fn currencies(&self) -> Currencies {
        Currencies::new(self.currencies.clone())
    }

    pub fn json_logs(&self) -> bool {
        match self.log.format.as_str() {
            "json" => true,
            "pretty" => false,
            _ => self.env == Environment::Production,
        }
    }
}

impl DatabaseSettings {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }
}

/// What is wrong with one provider's protocol and credentials, each problem naming the
/// provider and the key. Keys are read and checked here, so a bad key stops the start.
fn provider_problems(p: &ProviderSettings, env: Environment) -> Vec<String> {
    let mut problems = Vec::new();
    let id = &p.id;
    let production = env == Environment::Production;
    match p.protocol {
        Protocol::Generic => {
            if p.secret.len() < 8 {
                problems.push(format!(
                    "provider {id} needs a secret of at least 8 characters"
                ));
            }
        }
        Protocol::Hub88 => match &p.hub88 {
            None => problems.push(format!(
                "provider {id} has protocol \"hub88\" and needs hub88.verification_key and hub88.signing_key"
            )),
            Some(h) => {
                match h.load_verification_key() {
                    Err(e) => problems.push(format!("provider {id}: hub88.verification_key: {e}")),
                    Ok(key) if production && keys::is_demo(&key) => problems.push(format!(
                        "provider {id}: production mode refuses the demo RSA key in hub88.verification_key"
                    )),
                    Ok(_) => {}
                }
                match h.load_signing_key() {
                    Err(e) => problems.push(format!("provider {id}: hub88.signing_key: {e}")),
                    Ok(key) if production && keys::is_demo(&key.to_public_key()) => {
                        problems.push(format!(
                            "provider {id}: production mode refuses the demo RSA key in hub88.signing_key"
                        ))
                    }
                    Ok(_) => {}
                }
                let multipliers = std::iter::once(("hub88.amount_multiplier".to_owned(), h.amount_multiplier))
                    .chain(h.amount_multipliers.iter().map(|(c, m)| (format!("hub88.amount_multipliers.{c}"), *m)));
                for (key, m) in multipliers {
                    if !(1..=1_000_000_000_000).contains(&m) {
                        problems.push(format!("provider {id}: {key} must be between 1 and 10^12"));
                    }
                }
            }
        },
        Protocol::Evolution => match &p.evolution {
            None => problems.push(format!(
                "provider {id} has protocol \"evolution\" and needs evolution.auth_token"
            )),
            Some(e) => {
                if e.auth_token.len() < 16 {
                    problems.push(format!(
                        "provider {id}: evolution.auth_token must be at least 16 characters"
                    ));
                }
                if production && DEMO_EVOLUTION_TOKENS.contains(&e.auth_token.as_str()) {
                    problems.push(format!(
                        "provider {id}: production mode refuses the demo evolution.auth_token"
                    ));
                }
            }
        },
    }
    problems
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_provider_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    /// The built-in defaults, the development file, then `overrides` (dotted keys).
    fn settings(overrides: &[(&str, figment::value::Value)]) -> Settings {
        let mut figment = Figment::from(Toml::string(DEFAULTS)).merge(Toml::file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/development.toml"
        )));
        for (key, value) in overrides {
            figment = figment.merge(Serialized::global(key, value));
        }
        figment.extract().expect("settings parse")
    }

    #[test]
    fn the_development_configuration_is_valid() {
        assert_eq!(settings(&[]).validate(), Ok(()));
    }

    #[test]
    fn production_mode_refuses_the_demo_credentials() {
        let problems = settings(&[("env", "production".into())])
            .validate()
            .unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("demo provider secrets")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("demo operator tokens")),
            "{problems:?}"
        );
        // Each demo key and token of the protocol providers is named on its own.
        for needle in [
            "hub88-demo: production mode refuses the demo RSA key in hub88.verification_key",
            "hub88-demo: production mode refuses the demo RSA key in hub88.signing_key",
            "hub88-demo2: production mode refuses the demo RSA key in hub88.verification_key",
            "evolution-demo: production mode refuses the demo evolution.auth_token",
            "evolution-demo2: production mode refuses the demo evolution.auth_token",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "{needle}: {problems:?}"
            );
        }
    }

    #[test]
    fn a_bad_protocol_key_stops_the_start_naming_the_key() {
        let mut bad = settings(&[]);
        let hub88 = bad
            .providers
            .iter_mut()
            .find(|p| p.id == "hub88-demo")
            .and_then(|p| p.hub88.as_mut())
            .unwrap();
        hub88.verification_key = "config/protocol-keys/missing.pem".into();
        // A private key where a public one belongs, and the other way round.
        hub88.signing_key = "config/protocol-keys/hub88-demo-provider-public.pem".into();
        hub88.amount_multipliers.insert("EUR".into(), 0);
        let problems = bad.validate().unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("provider hub88-demo: hub88.verification_key: cannot read"));
        assert!(problems[1]
            .starts_with("provider hub88-demo: hub88.signing_key: not an RSA private key"));
        assert!(problems[2].contains("hub88.amount_multipliers.EUR"));
    }

    #[test]
    fn the_demo_keys_have_the_published_fingerprints() {
        let dev = settings(&[]);
        let hub88 = dev.providers.iter().find(|p| p.id == "hub88-demo").unwrap();
        let h = hub88.hub88.as_ref().unwrap();
        assert_eq!(
            keys::fingerprint(&h.load_verification_key().unwrap()),
            keys::DEMO_FINGERPRINTS[0]
        );
        assert_eq!(
            keys::fingerprint(&h.load_signing_key().unwrap().to_public_key()),
            keys::DEMO_FINGERPRINTS[2]
        );
        assert_eq!(h.multiplier("EUR"), 100_000);
        assert_eq!(h.multiplier("BTC"), 100_000_000);
    }

    #[test]
    fn each_bad_value_is_named_in_its_own_message() {
        let mut bad = settings(&[]);
        bad.database.pool_max_size = 0;
        bad.ledger.category_order = vec!["bonus".into()];
        bad.log.format = "xml".into();
        let problems = bad.validate().unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("database.pool_max_size"));
        assert!(problems[1].contains("must include \"cash\""));
        assert!(problems[2].starts_with("log.format"));
    }

    #[test]
    fn the_pool_defaults_mirror_the_seed() {
        let d = settings(&[]).database;
        assert_eq!(d.pool_max_size, 500);
        assert_eq!(d.acquire_timeout_ms, 30_000);
        assert_eq!(d.idle_timeout_ms, 60_000);
        assert_eq!(d.statement_timeout_ms, 60_000);
        assert_eq!(d.connection_uses_max, 10_000);
    }
}
