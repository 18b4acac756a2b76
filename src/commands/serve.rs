//! `wallet serve`: builds the application (pool, migrations, router) and runs it until
//! SIGTERM or SIGINT, then drains in-flight requests within the grace period.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::http::{self, extract::Auth, AppState};
use crate::ledger::{spawn_background_jobs, Wallet};
use crate::{db, telemetry};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    wallet: Wallet,
    shutdown_grace: Duration,
    stop: CancellationToken,
}

impl Application {
    /// Connects, migrates (unless disabled) and binds. Port 0 picks a free port.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        if settings.database.migrate_on_start {
            db::migrate(&settings.database.url).await?;
        }
        let pool = db::build_pool(&settings.database)?;
        let wallet = Wallet::new(pool, &settings);
        let state = AppState {
            wallet: wallet.clone(),
            auth: Arc::new(Auth::new(&settings)),
            metrics: telemetry::metrics(),
        };
        let router = http::router(state, &settings);
        let listener = TcpListener::bind(settings.server.listen).await?;
        let stop = CancellationToken::new();
        spawn_background_jobs(&wallet, settings.database.idle_timeout(), stop.clone());
        Ok(Application {
            listener,
            router,
            wallet,
            shutdown_grace: Duration::from_millis(settings.server.shutdown_grace_ms),
            stop,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn wallet(&self) -> &Wallet {
        &self.wallet
    }

    /// A token that, when cancelled, shuts the server down like a signal does.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let addr = self.local_addr();
        tracing::info!(%addr, "wallet listening");
        let stop = self.stop.clone();
        let signalled = stop.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            signalled.cancel();
        });
        let drained = stop.clone();
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { drained.cancelled().await });
        let mut server = std::pin::pin!(std::future::IntoFuture::into_future(server));
        tokio::select! {
            result = &mut server => result?,
            _ = async {
                stop.cancelled().await;
                tokio::time::sleep(self.shutdown_grace).await;
            } => {
                tracing::warn!(grace_ms = u64::try_from(self.shutdown_grace.as_millis()).unwrap_or(u64::MAX), "in-flight requests did not finish within the grace period");
            }
        }
        self.wallet.pool().close();
        tracing::info!("wallet stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, draining"),
        _ = term => tracing::info!("SIGTERM received, draining"),
    }
}
