//! Database faults while a commit is on the wire: the wallet answers the truth about
//! what was recorded. A TCP proxy between the wallet and PostgreSQL cuts the connection
//! that carries a COMMIT, after or before handing it to the server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{fresh_database, TestApp};
use crate::op_support::{id, ledger_rows};

/// What the proxy does to the next connection that sends a COMMIT.
const PASS: u8 = 0;
/// Hand the COMMIT to the server, then cut the connection before its answer returns.
const CUT_AFTER_COMMIT: u8 = 1;
/// Cut the connection instead of handing the COMMIT to the server.
const CUT_BEFORE_COMMIT: u8 = 2;

/// The simple-protocol `Query` message that commits a money call's transaction
/// ([`wallet::db::COMMIT_AND_UNLOCK`]): 'Q', its length, the text, NUL.
fn commit_message() -> Vec<u8> {
    let text = wallet::db::COMMIT_AND_UNLOCK.as_bytes();
    let length = u32::try_from(text.len() + 5).unwrap();
    let mut message = vec![b'Q'];
    message.extend_from_slice(&length.to_be_bytes());
    message.extend_from_slice(text);
    message.push(0);
    message
}

struct Proxy {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    /// While `true`, every connection is cut and new ones are refused (the database is
    /// unreachable).
    down: watch::Sender<bool>,
}

async fn proxy(upstream: SocketAddr) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mode = Arc::new(AtomicU8::new(PASS));
    let (down, _) = watch::channel(false);
    let (m, d) = (mode.clone(), down.clone());
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            if *d.borrow() {
                drop(client);
                continue;
            }
            let mut down = d.subscribe();
            let relay = relay(client, upstream, m.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = relay => {}
                    _ = down.wait_for(|down| *down) => {}
                }
            });
        }
    });
    Proxy { addr, mode, down }
}

async fn relay(client: TcpStream, upstream: SocketAddr, mode: Arc<AtomicU8>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let cut_down = cut.clone();
    let to_client = tokio::spawn(async move {
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if cut_down.load(Ordering::SeqCst) || client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    });
    let commit = commit_message();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match client_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let commits = buf[..n]
            .windows(commit.len())
            .any(|w| w == commit.as_slice());
        let action = if commits {
            mode.swap(PASS, Ordering::SeqCst)
        } else {
            PASS
        };
        if action != PASS {
            cut.store(true, Ordering::SeqCst);
            if action == CUT_AFTER_COMMIT {
                let _ = server_write.write_all(&buf[..n]).await;
                // Let the server apply it before the connection goes.
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            break;
        }
        if server_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    to_client.abort();
}

/// A TestApp whose pool reaches its database through a proxy.
async fn app_behind_proxy() -> (TestApp, Proxy) {
    let direct = fresh_database().await;
    let config: tokio_postgres::Config = direct.parse().unwrap();
    let tokio_postgres::config::Host::Tcp(host) = &config.get_hosts()[0] else {
        panic!("a TCP database host");
    };
    let upstream = format!("{host}:{}", config.get_ports()[0]).parse().unwrap();
    let proxy = proxy(upstream).await;
    let (_, rest) = direct.split_once('@').unwrap();
    let (_, database) = rest.split_once('/').unwrap();
    let through = format!("postgres://wallet@{}/{database}", proxy.addr);
    let app = TestApp::spawn_on(through, |s| {
        s.ledger.retry_backoff_base_ms = 20;
        s.ledger.retry_backoff_max_ms = 200;
    })
    .await;
    (app, proxy)
}

async fn deposit(app: &TestApp, player: &str, tx: &str) -> crate::helpers::Reply {
    app.operator(
        Method::POST,
        &format!("/v1/players/{player}/deposits"),
        Some(json!({"transaction_id": tx, "amount": "5.00"})),
    )
    .await
}

#[tokio::test]
async fn a_commit_lost_after_it_applied_answers_the_applied_outcome() {
    let (app, proxy) = app_behind_proxy().await;
    let player = app.player("EUR").await;
    proxy.mode.store(CUT_AFTER_COMMIT, Ordering::SeqCst);
    let tx = id("dep");
    let reply = deposit(&app, &player, &tx).await;
    assert_eq!(proxy.mode.load(Ordering::SeqCst), PASS, "no COMMIT was cut");
    // The deposit applied: never "retry_later, nothing was recorded".
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["balance"]["cash"], "5.00");
    assert_eq!(ledger_rows(&app, &player).await, 1);
    let balance = app.balance(&player).await;
    assert_eq!(balance["cash"], "5.00");
    assert!(app.discrepancies().await.is_empty());
}

#[tokio::test]
async fn a_commit_lost_before_it_reached_the_server_is_applied_once_by_the_retry() {
    let (app, proxy) = app_behind_proxy().await;
    let player = app.player("EUR").await;
    proxy.mode.store(CUT_BEFORE_COMMIT, Ordering::SeqCst);
    let tx = id("dep");
    let reply = deposit(&app, &player, &tx).await;
    assert_eq!(proxy.mode.load(Ordering::SeqCst), PASS, "no COMMIT was cut");
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(ledger_rows(&app, &player).await, 1);
    assert_eq!(app.balance(&player).await["cash"], "5.00");
}

#[tokio::test]
async fn a_commit_whose_outcome_cannot_be_learned_is_outcome_unknown_not_retry_later() {
    let (app, proxy) = app_behind_proxy().await;
    let player = app.player("EUR").await;
    proxy.mode.store(CUT_AFTER_COMMIT, Ordering::SeqCst);
    let tx = id("dep");
    let down = proxy.down.clone();
    let mode = proxy.mode.clone();
    let cutter = tokio::spawn(async move {
        // The database goes away while the cut COMMIT's connection waits to close.
        while mode.load(Ordering::SeqCst) != PASS {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        down.send_replace(true);
    });
    let reply = deposit(&app, &player, &tx).await;
    cutter.await.unwrap();
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.code(), "outcome_unknown", "{:?}", reply.body);
    // Once the database is back, resending the same call answers what happened.
    proxy.down.send_replace(false);
    let again = deposit(&app, &player, &tx).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert!(again.replayed());
    assert_eq!(app.balance(&player).await["cash"], "5.00");
}
