//! The harness itself: the app answers and the database is reachable.

use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_service_is_live_and_ready_against_its_database() {
    let app = TestApp::spawn().await;
    let live = app
        .bearer(None, reqwest::Method::GET, "/health/live", None)
        .await;
    assert_eq!(live.status, StatusCode::OK);
    let ready = app
        .bearer(None, reqwest::Method::GET, "/health/ready", None)
        .await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(ready.headers.contains_key("x-request-id"));
}
