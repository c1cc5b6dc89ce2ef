//! The whole catalog against the embedded tungstenite server: every verdict must equal the committed
//! baseline, so any change in a case, the engine or tungstenite shows up as a diff to explain.
//! `WSSPEC_BLESS=1 cargo test baseline` rewrites the baseline after a reviewed change.

use std::collections::{BTreeMap, BTreeSet};

use wsspec::{catalog::Role, peers::reference_server::ReferenceServer};
use wsspec_reports::CaseRecord;

use crate::support;

#[tokio::test(flavor = "multi_thread")]
async fn tungstenite_matches_the_baseline() {
    let server = ReferenceServer::start().await.unwrap();
    let cases: Vec<_> = support::catalog().cases.into_iter().filter(|c| c.applies_to(Role::Server) && c.runs_over_http2(false)).collect();
    let records = support::run(&server.url(), &cases).await;
    let differences = support::differences(&support::baseline("tungstenite.json", &records), &records);
    assert!(differences.is_empty(), "verdicts differ from the baseline:\n{}", differences.join("\n"));
    assert_closing_kept(&records);
}

/// Every record of the whole catalog that the run's report budget or the engine's bound cut (the
/// 9.x cases' 16 MiB messages, 1.1.8's 64 KiB) still shows how its case ended: a clean closing
/// handshake's two close frames (RFC 6455 §5.5.1) are among its last six entries.
fn assert_closing_kept(records: &BTreeMap<String, CaseRecord>) {
    let cut: Vec<&CaseRecord> = records.values().filter(|r| r.wirelog_gap.is_some() && r.was_clean).collect();
    assert!(cut.len() > 40, "{} records cut", cut.len());
    for record in cut {
        let last = &record.wirelog[record.wirelog.len().saturating_sub(6)..];
        let closes: BTreeSet<&str> = last.iter().filter(|e| e.frame.as_ref().is_some_and(|f| f.opcode == 8)).map(|e| e.dir.as_str()).collect();
        assert_eq!(closes, BTreeSet::from(["rx", "tx"]), "{}: its last entries {:?}", record.id, last);
    }
}
