//! A short run of `wallet loadgen` against a test app: every money call it makes must be
//! accounted for (money check and reconciliation clean) and every win linked to its bet.

use clap::Parser;
use wallet::commands::loadgen::{self, LoadgenArgs};

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_loadgen_run_keeps_the_money_and_the_correlation_exact() {
    let app = TestApp::spawn().await;
    let args = LoadgenArgs::parse_from([
        "loadgen",
        "--url",
        &app.base,
        "--database-url",
        &app.database_url,
        "--duration",
        "3",
        "--concurrency",
        "16",
        "--players",
        "20",
        "--duplicate-share",
        "0.1",
        "--win-before-bet-share",
        "0.1",
        "--rollback-share",
        "0.1",
        "--quiet",
    ]);
    let report = loadgen::run(args).await.expect("loadgen runs");

    assert!(report.calls > 0, "no calls made: {report:?}");
    assert!(
        report.money_check.clean,
        "money check: {:?}",
        report.money_check
    );
    assert_eq!(report.money_check.reconciliation_clean, Some(true));
    assert!(report.correlation.checked > 0);
    assert_eq!(
        report.correlation.correct, report.correlation.checked,
        "correlation: {:?}",
        report.correlation
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_on_one_hot_player_has_no_server_errors() {
    let app = TestApp::spawn().await;
    let args = LoadgenArgs::parse_from([
        "loadgen",
        "--url",
        &app.base,
        "--database-url",
        &app.database_url,
        "--burst",
        "50",
        "--hot-players",
        "1",
        "--operations",
        "200",
        "--quiet",
    ]);
    let report = loadgen::run(args).await.expect("loadgen runs");

    assert!(
        report.money_check.clean,
        "money check: {:?}",
        report.money_check
    );
    assert_eq!(report.server_errors_5xx, 0, "{:?}", report.status_counts);
    assert_eq!(report.correlation.correct, report.correlation.checked);
}
