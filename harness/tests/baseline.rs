//! The whole catalog against the embedded tungstenite server: every verdict must equal the committed
//! baseline, so any change in a case, the engine or tungstenite shows up as a diff to explain.
//! `WSSPEC_BLESS=1 cargo test baseline` rewrites the baseline after a reviewed change.

use std::{collections::BTreeMap, path::Path};

use wsspec::{catalog::Role, peers::reference_server::ReferenceServer};

use crate::support;

#[tokio::test(flavor = "multi_thread")]
async fn tungstenite_matches_the_baseline() {
    let server = ReferenceServer::start().await.unwrap();
    let cases: Vec<_> = support::catalog().cases.into_iter().filter(|c| c.applies_to(Role::Server) && c.runs_over_http2(false)).collect();
    let records = support::run(&server.url(), &cases).await;
    let observed: BTreeMap<String, String> = records.iter().map(|(id, r)| (id.clone(), support::verdict_line(r))).collect();

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/baselines/tungstenite.json");
    if std::env::var_os("WSSPEC_BLESS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&observed).unwrap() + "\n").unwrap();
    }
    let expected: BTreeMap<String, String> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut differences = Vec::new();
    for id in expected.keys().chain(observed.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (want, got) = (expected.get(id), observed.get(id));
        if want != got {
            let reason = records.get(id).map(|r| format!(" ({}; {})", r.result, r.result_close)).unwrap_or_default();
            differences.push(format!("{id}: expected {want:?}, got {got:?}{reason}"));
        }
    }
    assert!(differences.is_empty(), "verdicts differ from the baseline:\n{}", differences.join("\n"));
}
