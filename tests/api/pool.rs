//! The connection pool's limits, against the real database: connections are retired
//! after their use limit and closed after sitting idle.

use std::time::Duration;

use wallet::config::Settings;
use wallet::db;

use crate::helpers::fresh_database;

async fn settings(database_url: String) -> wallet::config::DatabaseSettings {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/development.toml");
    let mut settings = Settings::load(Some(std::path::Path::new(config)))
        .unwrap()
        .database;
    settings.url = database_url;
    settings.pool_max_size = 1;
    settings
}

async fn backend_pid(pool: &deadpool_postgres::Pool) -> i32 {
    let client = db::acquire(pool).await.unwrap();
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_connection_is_retired_after_its_use_limit() {
    let mut settings = settings(fresh_database().await).await;
    settings.connection_uses_max = 3;
    let pool = db::build_pool(&settings).unwrap();
    let mut pids = Vec::new();
    for _ in 0..7 {
        pids.push(backend_pid(&pool).await);
    }
    // Uses 1-3 on the first connection, 4-6 on the second, 7 on a third.
    assert_eq!(pids[0], pids[2], "{pids:?}");
    assert_ne!(pids[2], pids[3], "{pids:?}");
    assert_eq!(pids[3], pids[5], "{pids:?}");
    assert_ne!(pids[5], pids[6], "{pids:?}");
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_the_statement_timeout_is_set() {
    let settings = settings(fresh_database().await).await;
    let pool = db::build_pool(&settings).unwrap();
    {
        let client = db::acquire(&pool).await.unwrap();
        let timeout: String = client
            .query_one("SHOW statement_timeout", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(timeout, "1min");
    }
    assert_eq!(pool.status().size, 1);
    db::close_idle_connections(&pool, Duration::from_secs(3600));
    assert_eq!(pool.status().size, 1, "a fresh connection is kept");
    tokio::time::sleep(Duration::from_millis(50)).await;
    db::close_idle_connections(&pool, Duration::from_millis(10));
    assert_eq!(pool.status().size, 0, "an idle connection is closed");
}
