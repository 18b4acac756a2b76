//! The test harness: a fresh database per test, the real application on a free port,
//! and clients that speak as an operator, a viewer or a signed provider.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use wallet::commands::Application;
use wallet::config::Settings;
use wallet::signing::sign;

pub const OPERATOR_TOKEN: &str = "demo-operator-token";
pub const VIEWER_TOKEN: &str = "demo-viewer-token";

/// A running wallet on its own database.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub database_url: String,
    pub wallet: wallet::ledger::Wallet,
    stop: CancellationToken,
}

/// A response: status, headers and JSON body (Null when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    /// The body exactly as received.
    pub bytes: bytes::Bytes,
}

impl Reply {
    /// The contract error code, if this is an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn replayed(&self) -> bool {
        self.headers
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true")
    }
}

fn admin_url() -> String {
    std::env::var("WALLET_TEST_DATABASE_URL").expect(
        "WALLET_TEST_DATABASE_URL is not set: run the suite with ./scripts/test.sh, which starts PostgreSQL",
    )
}

/// Replaces the database name of a connection URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Creates an empty database and returns its URL.
pub async fn fresh_database() -> String {
    let admin = admin_url();
    let name = format!(
        "wallet_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::now_v7().simple()
    );
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("connect to the test cluster");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name} OWNER wallet"))
        .await
        .expect("create a test database");
    with_database(&with_user(&admin, "wallet"), &name)
}

fn with_user(url: &str, user: &str) -> String {
    // postgres://USER@host...
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let rest = rest.split_once('@').map(|(_, host)| host).unwrap_or(rest);
    format!("{scheme}://{user}@{rest}")
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with settings adjusted by `tweak` (development config as the base).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_on(fresh_database().await, tweak).await
    }

    /// Spawns on an existing database (migrating it to the current schema on start),
    /// with settings adjusted by `tweak`.
    pub async fn spawn_on(database_url: String, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/development.toml");
        let mut settings = Settings::load(Some(std::path::Path::new(config))).expect("settings");
        settings.database.url = database_url.clone();
        settings.database.pool_max_size = 200;
        settings.server.listen = "127.0.0.1:0".parse().unwrap();
        tweak(&mut settings);
        let app = Application::build(settings)
            .await
            .expect("application builds");
        let base = format!("http://{}", app.local_addr());
        let stop = app.stop_token();
        let wallet = app.wallet().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            base,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(200)
                .build()
                .unwrap(),
            database_url,
            wallet,
            stop,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the wallet answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
            bytes,
        }
    }

    /// A call with a bearer token (`None` sends no Authorization header).
    pub async fn bearer(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    pub async fn operator(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.bearer(Some(OPERATOR_TOKEN), method, path, body).await
    }

    pub async fn viewer(&self, path: &str) -> Reply {
        self.bearer(Some(VIEWER_TOKEN), Method::GET, path, None)
            .await
    }

    /// A provider call signed with `secret` at `timestamp` over the exact body bytes.
    pub async fn signed_raw(
        &self,
        endpoint: &str,
        provider: &str,
        secret: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Reply {
        let signature = sign(secret, timestamp, &format!("/v1/wallet/{endpoint}"), body);
        let request = self
            .http
            .post(format!("{}/v1/wallet/{endpoint}", self.base))
            .header("content-type", "application/json")
            .header("x-provider-id", provider)
            .header("x-timestamp", timestamp.to_string())
            .header("x-signature", signature)
            .body(body.to_vec());
        self.send(request).await
    }

    /// A provider call as `demo`, signed now.
    pub async fn provider(&self, endpoint: &str, body: Value) -> Reply {
        self.provider_as("demo", "demo-secret", endpoint, body)
            .await
    }

    pub async fn provider_as(
        &self,
        provider: &str,
        secret: &str,
        endpoint: &str,
        body: Value,
    ) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.signed_raw(
            endpoint,
            provider,
            secret,
            chrono::Utc::now().timestamp(),
            &bytes,
        )
        .await
    }

    /// Creates a player in `currency` and returns its id.
    pub async fn player(&self, currency: &str) -> String {
        let id = format!("player-{}", uuid::Uuid::now_v7().simple());
        let reply = self
            .operator(
                Method::POST,
                "/v1/players",
                Some(json!({"player_id": id, "currency": currency})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        id
    }

    /// Deposits `amount` into `category` of the player.
    pub async fn deposit(&self, player_id: &str, amount: &str, category: &str) -> Reply {
        let reply = self
            .operator(
                Method::POST,
                &format!("/v1/players/{player_id}/deposits"),
                Some(json!({
                    "transaction_id": format!("dep-{}", uuid::Uuid::now_v7().simple()),
                    "amount": amount,
                    "category": category,
                })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply
    }

    /// Opens a session of `provider` for the player in `game` and returns its id.
    pub async fn session(&self, player_id: &str, provider: &str, game: &str) -> String {
        let reply = self
            .operator(
                Method::POST,
                "/v1/sessions",
                Some(json!({"player_id": player_id, "provider_id": provider, "game_id": game})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["session_id"].as_str().unwrap().to_owned()
    }

    /// The player's balance object as the operator API shows it.
    pub async fn balance(&self, player_id: &str) -> Value {
        let reply = self.viewer(&format!("/v1/players/{player_id}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["balance"].clone()
    }

    /// A direct connection to this test's database.
    pub async fn db(&self) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(&self.database_url, tokio_postgres::NoTls)
                .await
                .expect("connect to the test database");
        tokio::spawn(connection);
        client
    }

    /// Rows of the reconciliation query: empty when every balance matches its ledger.
    pub async fn discrepancies(&self) -> Vec<wallet::db::health::Discrepancy> {
        let pool = wallet::db::single_connection_pool(&self.database_url, "wallet-test").unwrap();
        let client = wallet::db::acquire(&pool).await.unwrap();
        wallet::db::health::reconcile(&client).await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
