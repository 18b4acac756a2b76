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
    /// Threads of the async runtime; 0: one per CPU the process may use.
    pub worker_threads: usize,
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
    /// Months after the current one whose ledger partitions exist before they begin.
    pub partitions_ahead_months: u32,
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

    pub fn load_verification_key(&self) -> Result<keys::VerificationKey, String> {
        keys::public(&self.verification_key)
    }

    pub fn load_signing_key(&self) -> Result<keys::SigningKey, String> {
        keys::private(&self.signing_key)
    }
}

#[derive(Clone, Deserialize)]
pub struct EvolutionSettings {
    /// The `authToken` query parameter Evolution sends on every call.
    pub auth_token: String,
}

/// Reading and checking the RSA keys of the Hub88 protocol (RSA only, 2048 bits or more;
/// SPKI or PKCS#1 public keys, PKCS#8 or PKCS#1 private keys). The PEM and DER
/// structures are read with RustCrypto's format crates; every RSA operation is aws-lc-rs's.
pub mod keys {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeyPair;
    use aws_lc_rs::signature::KeyPair as _;
    use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
    use sha2::{Digest, Sha256};
    use spki::der::asn1::{AnyRef, BitStringRef};
    use spki::der::{Decode, Encode};
    use spki::{AlgorithmIdentifierRef, ObjectIdentifier, SubjectPublicKeyInfoRef};

    pub const BITS_MIN: usize = 2048;
    /// The largest modulus verified (`RSA_PKCS1_2048_8192_SHA256`).
    pub const VERIFY_BITS_MAX: usize = 8192;
    /// The largest modulus signed with (aws-lc-rs's own limit).
    pub const SIGN_BITS_MAX: usize = 8192;

    /// `rsaEncryption`, the algorithm of an RSA key in SPKI and PKCS#8.
    const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

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

    /// The PEM block's label and DER bytes.
    fn decode(text: &str) -> Option<(String, Vec<u8>)> {
        let (label, der) = pem_rfc7468::decode_vec(text.trim().as_bytes()).ok()?;
        Some((label.to_owned(), der))
    }

    /// The size in bits of a big-endian modulus.
    fn modulus_bits(n: &[u8]) -> usize {
        match n.first() {
            None => 0,
            Some(first) => n
                .len()
                .saturating_mul(8)
                .saturating_sub(first.leading_zeros() as usize),
        }
    }

    /// The modulus size of an RSA private key in PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA
    /// PRIVATE KEY`) DER; `None` when it is not one.
    fn private_bits(label: &str, der: &[u8]) -> Option<usize> {
        let pkcs1_der = match label {
            "PRIVATE KEY" => pkcs8::PrivateKeyInfo::try_from(der).ok()?.private_key,
            "RSA PRIVATE KEY" => der,
            _ => return None,
        };
        let key = pkcs1::RsaPrivateKey::from_der(pkcs1_der).ok()?;
        Some(modulus_bits(key.modulus.as_bytes()))
    }

    fn size_ok(bits: usize, max: usize) -> Result<(), String> {
        if bits < BITS_MIN {
            return Err(format!("an RSA key of {bits} bits is below {BITS_MIN}"));
        }
        if bits > max {
            return Err(format!("an RSA key of {bits} bits is above {max}"));
        }
        Ok(())
    }

    /// An RSA public key (its PKCS#1 `RSAPublicKey` DER) that verifies RSASSA-PKCS1-v1_5
    /// SHA-256 signatures.
    #[derive(Clone)]
    pub struct VerificationKey {
        pkcs1: Vec<u8>,
        bits: usize,
    }

    impl VerificationKey {
        /// A key from PKCS#1 `RSAPublicKey` DER: 2048 to 8192 bits, with an exponent
        /// the verifier accepts (odd, 3 to 2^33 - 1).
        fn from_pkcs1(der: &[u8]) -> Result<Self, String> {
            let key = pkcs1::RsaPublicKey::from_der(der)
                .map_err(|_| "not an RSA public key".to_owned())?;
            let bits = modulus_bits(key.modulus.as_bytes());
            size_ok(bits, VERIFY_BITS_MAX)?;
            let e = key.public_exponent.as_bytes();
            let exponent = (e.len() <= 8)
                .then(|| e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
                .filter(|e| e % 2 == 1 && (3..(1u64 << 33)).contains(e));
            if exponent.is_none() {
                return Err("the RSA public exponent is not usable".into());
            }
            Ok(VerificationKey {
                pkcs1: der.to_vec(),
                bits,
            })
        }

        /// Whether `signature` signs `message` with this key.
        pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.pkcs1)
                .verify(message, signature)
                .is_ok()
        }

        pub fn bits(&self) -> usize {
            self.bits
        }

        /// The key's SPKI DER form (`BEGIN PUBLIC KEY`), as `openssl pkey -pubout` writes.
        pub fn spki_der(&self) -> Vec<u8> {
            let spki = BitStringRef::from_bytes(&self.pkcs1).and_then(|key| {
                SubjectPublicKeyInfoRef {
                    algorithm: AlgorithmIdentifierRef {
                        oid: RSA_ENCRYPTION,
                        parameters: Some(AnyRef::NULL),
                    },
                    subject_public_key: key,
                }
                .to_der()
            });
            spki.unwrap_or_default()
        }

        /// Lowercase hex SHA-256 of the key's SPKI DER form.
        pub fn fingerprint(&self) -> String {
            hex::encode(Sha256::digest(self.spki_der()))
        }

        pub fn is_demo(&self) -> bool {
            DEMO_FINGERPRINTS.contains(&self.fingerprint().as_str())
        }
    }

    /// An RSA private key that makes RSASSA-PKCS1-v1_5 SHA-256 signatures (AWS-LC blinds
    /// every private-key operation).
    pub struct SigningKey {
        pair: KeyPair,
        rng: SystemRandom,
    }

    impl std::fmt::Debug for SigningKey {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("SigningKey")
                .field("public", &self.public().fingerprint())
                .finish_non_exhaustive()
        }
    }

    impl SigningKey {
        /// The signature of `message`; `None` only if AWS-LC refuses to sign, which the
        /// check at loading rules out for a sound key.
        pub fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
            let mut signature = vec![0; self.pair.public_modulus_len()];
            self.pair
                .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                .ok()?;
            Some(signature)
        }

        /// The public half.
        pub fn public(&self) -> VerificationKey {
            let pkcs1 = self.pair.public_key().as_ref().to_vec();
            let bits = self.pair.public_modulus_len().saturating_mul(8);
            VerificationKey { pkcs1, bits }
        }
    }

    /// A public key from SPKI PEM (`BEGIN PUBLIC KEY`) or PKCS#1 PEM (`BEGIN RSA PUBLIC
    /// KEY`).
    pub fn public(source: &str) -> Result<VerificationKey, String> {
        let text = pem(source)?;
        let not_one = || "not an RSA public key in SPKI or PKCS#1 PEM".to_owned();
        let (label, der) = decode(&text).ok_or_else(not_one)?;
        match label.as_str() {
            "PUBLIC KEY" => {
                let spki = SubjectPublicKeyInfoRef::from_der(&der).map_err(|_| not_one())?;
                if spki.algorithm.oid != RSA_ENCRYPTION {
                    return Err(not_one());
                }
                let pkcs1 = spki.subject_public_key.as_bytes().ok_or_else(not_one)?;
                VerificationKey::from_pkcs1(pkcs1)
            }
            "RSA PUBLIC KEY" => VerificationKey::from_pkcs1(&der),
            _ => Err(not_one()),
        }
    }

    /// A private key from PKCS#8 PEM (`BEGIN PRIVATE KEY`) or PKCS#1 PEM (`BEGIN RSA
    /// PRIVATE KEY`), 2048 to 8192 bits, checked by signing once
    /// and verifying the result with its public half.
    pub fn private(source: &str) -> Result<SigningKey, String> {
        let text = pem(source)?;
        let not_one = || "not an RSA private key in PKCS#8 or PKCS#1 PEM".to_owned();
        let (label, der) = decode(&text).ok_or_else(not_one)?;
        if let Some(bits) = private_bits(&label, &der) {
            size_ok(bits, SIGN_BITS_MAX)?;
        }
        let pair = match label.as_str() {
            "PRIVATE KEY" => KeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => KeyPair::from_der(&der),
            _ => return Err(not_one()),
        }
        .map_err(|e| format!("{} ({e})", not_one()))?;
        let key = SigningKey {
            pair,
            rng: SystemRandom::new(),
        };
        let probe = b"wallet key check";
        let sound = key
            .sign(probe)
            .is_some_and(|signature| key.public().verify(probe, &signature));
        if !sound {
            return Err(
                "the RSA private key does not make signatures its public half verifies".into(),
            );
        }
        Ok(key)
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
        check(
            s.worker_threads <= 1024,
            "server.worker_threads must be between 0 and 1024",
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
            (1..=36).contains(&l.partitions_ahead_months),
            "ledger.partitions_ahead_months must be between 1 and 36",
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
                    Ok(key) if production && key.is_demo() => problems.push(format!(
                        "provider {id}: production mode refuses the demo RSA key in hub88.verification_key"
                    )),
                    Ok(_) => {}
                }
                match h.load_signing_key() {
                    Err(e) => problems.push(format!("provider {id}: hub88.signing_key: {e}")),
                    Ok(key) if production && key.public().is_demo() => {
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
            h.load_verification_key().unwrap().fingerprint(),
            keys::DEMO_FINGERPRINTS[0]
        );
        assert_eq!(
            h.load_signing_key().unwrap().public().fingerprint(),
            keys::DEMO_FINGERPRINTS[2]
        );
        assert_eq!(h.multiplier("EUR"), 100_000);
        assert_eq!(h.multiplier("BTC"), 100_000_000);
    }

    const TEST_KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/protocol-keys");
    const DEV_KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/protocol-keys");

    #[test]
    fn public_keys_load_from_spki_and_pkcs1_pem_and_private_keys_from_pkcs8_and_pkcs1_pem() {
        // The wallet's demo pair in each form: one key, whatever its wrapping.
        let spki = keys::public(&format!("{TEST_KEYS}/wallet-demo-operator-public.pem")).unwrap();
        let pkcs1_public = keys::public(&format!(
            "{TEST_KEYS}/wallet-demo-operator-public.pkcs1.pem"
        ))
        .unwrap();
        let pkcs8 = keys::private(&format!("{DEV_KEYS}/wallet-demo-operator-private.pem")).unwrap();
        let pkcs1_private = keys::private(&format!(
            "{TEST_KEYS}/wallet-demo-operator-private.pkcs1.pem"
        ))
        .unwrap();
        for key in [
            &spki,
            &pkcs1_public,
            &pkcs8.public(),
            &pkcs1_private.public(),
        ] {
            assert_eq!(key.fingerprint(), keys::DEMO_FINGERPRINTS[2]);
            assert_eq!(key.bits(), 2048);
            assert!(key.is_demo());
        }
        // What either private form signs, both public forms verify, and nothing else.
        let body = br#"{"user":"p1","request_uuid":"r1"}"#;
        for private in [&pkcs8, &pkcs1_private] {
            let signature = private.sign(body).unwrap();
            for public in [&spki, &pkcs1_public] {
                assert!(public.verify(body, &signature));
                assert!(!public.verify(br#"{"user":"p2","request_uuid":"r1"}"#, &signature));
            }
        }
        // PKCS#1 v1.5 is deterministic: both forms make the same signature.
        assert_eq!(pkcs8.sign(body), pkcs1_private.sign(body));
        let other =
            keys::public(&format!("{TEST_KEYS}/hub88-demo-provider-public.pkcs1.pem")).unwrap();
        assert_eq!(other.fingerprint(), keys::DEMO_FINGERPRINTS[0]);
        assert!(!other.verify(body, &pkcs8.sign(body).unwrap()));
        // The PEM text itself and an environment variable are key settings too.
        let text = std::fs::read_to_string(format!(
            "{TEST_KEYS}/wallet-demo-operator-private.pkcs1.pem"
        ))
        .unwrap();
        assert_eq!(
            keys::private(&text).unwrap().public().fingerprint(),
            keys::DEMO_FINGERPRINTS[2]
        );
        std::env::set_var(
            "WALLET_TEST_PKCS1_PUBLIC_KEY",
            std::fs::read_to_string(format!("{TEST_KEYS}/wallet-demo-operator-public.pkcs1.pem"))
                .unwrap(),
        );
        assert_eq!(
            keys::public("env:WALLET_TEST_PKCS1_PUBLIC_KEY")
                .unwrap()
                .fingerprint(),
            keys::DEMO_FINGERPRINTS[2]
        );
    }

    #[test]
    fn an_8192_bit_pair_signs_and_verifies() {
        let signing = keys::private(&format!("{TEST_KEYS}/rsa-8192-private.pem")).unwrap();
        let verifying = keys::public(&format!("{TEST_KEYS}/rsa-8192-public.pem")).unwrap();
        assert_eq!(verifying.bits(), 8192);
        assert_eq!(signing.public().bits(), 8192);
        assert_eq!(signing.public().fingerprint(), verifying.fingerprint());
        let signature = signing.sign(b"a body").unwrap();
        assert_eq!(signature.len(), 1024);
        assert!(verifying.verify(b"a body", &signature));
        assert!(!verifying.verify(b"another body", &signature));
    }

    #[test]
    fn small_non_rsa_and_misplaced_keys_are_refused() {
        let public = |name: &str| keys::public(&format!("{TEST_KEYS}/{name}")).map(|_| ());
        let private = |name: &str| keys::private(&format!("{TEST_KEYS}/{name}")).map(|_| ());
        assert_eq!(
            public("rsa-1024-public.pem"),
            Err("an RSA key of 1024 bits is below 2048".into())
        );
        assert_eq!(
            private("rsa-1024-private.pem"),
            Err("an RSA key of 1024 bits is below 2048".into())
        );
        assert_eq!(
            public("ec-p256-public.pem"),
            Err("not an RSA public key in SPKI or PKCS#1 PEM".into())
        );
        // A private key where a public one belongs, and the other way round.
        assert!(public("hub88-demo-provider-private.pem").is_err());
        assert!(private("wallet-demo-operator-public.pkcs1.pem").is_err());
        assert!(
            keys::public("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----")
                .is_err()
        );
    }

    #[test]
    fn production_refuses_the_demo_keys_in_their_pkcs1_form_too() {
        let mut prod = settings(&[("env", "production".into())]);
        let hub88 = prod
            .providers
            .iter_mut()
            .find(|p| p.id == "hub88-demo")
            .and_then(|p| p.hub88.as_mut())
            .unwrap();
        hub88.verification_key = format!("{TEST_KEYS}/hub88-demo-provider-public.pkcs1.pem");
        hub88.signing_key = format!("{TEST_KEYS}/wallet-demo-operator-private.pkcs1.pem");
        let problems = prod.validate().unwrap_err();
        for needle in [
            "hub88-demo: production mode refuses the demo RSA key in hub88.verification_key",
            "hub88-demo: production mode refuses the demo RSA key in hub88.signing_key",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "{needle}: {problems:?}"
            );
        }
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
