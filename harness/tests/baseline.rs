//! The whole catalog against the embedded tungstenite server: every verdict must equal the committed
//! baseline, so any change in a case, the engine or tungstenite shows up as a diff to explain.
//! `WSSPEC_BLESS=1 cargo test baseline` rewrites the baseline after a reviewed change.

use wsspec::{catalog::Role, peers::reference_server::ReferenceServer};

use crate::support;

#[tokio::test(flavor = "multi_thread")]
async fn tungstenite_matches_the_baseline() {
    let server = ReferenceServer::start().await.unwrap();
    let cases: Vec<_> = support::catalog().cases.into_iter().filter(|c| c.applies_to(Role::Server) && c.runs_over_http2(false)).collect();
    let records = support::run(&server.url(), &cases).await;
    let differences = support::differences(&support::baseline("tungstenite.json", &records), &records);
    assert!(differences.is_empty(), "verdicts differ from the baseline:\n{}", differences.join("\n"));
}
