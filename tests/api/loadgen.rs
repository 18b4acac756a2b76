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

/// The same rounds (duplicates, wins racing their bets, rollbacks) through each adapter:
/// Hub88 signs every body with the demo provider key (`--hub88-key`'s default) and
/// Evolution sends its `authToken`; the money check and the correlation, read back by
/// each protocol's ledger ids, must be exact, with no undecided answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_loadgen_run_through_each_adapter_keeps_the_money_exact() {
    let app = TestApp::spawn().await;
    for (protocol, provider) in [("hub88", "hub88-demo"), ("evolution", "evolution-demo")] {
        for load in [
            &["--concurrency", "8"][..],
            &["--burst", "20", "--hot-players", "2"],
        ] {
            let mut argv = vec![
                "loadgen",
                "--protocol",
                protocol,
                "--url",
                &app.base,
                "--database-url",
                &app.database_url,
                "--operations",
                "150",
                "--players",
                "10",
                "--duplicate-share",
                "0.1",
                "--win-before-bet-share",
                "0.1",
                "--rollback-share",
                "0.1",
                "--quiet",
            ];
            argv.extend_from_slice(load);
            let report = loadgen::run(LoadgenArgs::parse_from(argv))
                .await
                .expect("loadgen runs");

            assert_eq!(report.provider_id, provider);
            assert!(report.calls >= 150, "{protocol} {load:?}: {report:?}");
            assert!(
                report.money_check.clean,
                "{protocol} {load:?}: money check {:?}",
                report.money_check
            );
            assert_eq!(report.money_check.reconciliation_clean, Some(true));
            assert_eq!(
                report.server_errors_5xx, 0,
                "{protocol} {load:?}: {:?}",
                report.status_counts
            );
            assert_eq!(report.unresolved_calls, 0);
            assert!(report.correlation.checked > 0, "{protocol} {load:?}");
            assert_eq!(
                report.correlation.correct, report.correlation.checked,
                "{protocol} {load:?}: correlation {:?}",
                report.correlation
            );
            assert!(
                report.status_counts.keys().all(|s| s.starts_with("200 ")),
                "{protocol} {load:?}: every answer is HTTP 200 with the protocol's status: {:?}",
                report.status_counts
            );
            assert_eq!(
                report.client_signing_mean_us.is_some(),
                protocol == "hub88",
                "{protocol}: only Hub88 signs bodies"
            );
        }
    }
}
