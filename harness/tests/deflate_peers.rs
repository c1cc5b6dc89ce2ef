//! permessage-deflate against real peers: the ratchet_rs reference (sections 12, 13 sampled and 20
//! in full, pinned in a baseline with its known deviations), tungstenite without deflate (every
//! section 12/13 case UNIMPLEMENTED, closed OK), and a broken deflate server caught by exactly the
//! cases meant to catch it. `WSSPEC_BLESS=1 cargo test deflate_peers` rewrites the baseline.

use wsspec::peers::{
    deflate_reference::DeflateReferenceServer,
    faulty::{Defect, FaultyServer},
    reference_server::ReferenceServer,
};

use crate::support;

/// The smallest case of every subsection of 12 and 13 (1000 messages of 16 units each).
const SAMPLED: &[&str] = &["12.1.1", "12.2.1", "12.3.1", "12.4.1", "12.5.1", "13.1.1", "13.2.1", "13.3.1", "13.4.1", "13.5.1", "13.6.1", "13.7.1"];

#[tokio::test(flavor = "multi_thread")]
async fn ratchet_matches_its_deflate_baseline() {
    let server = DeflateReferenceServer::start().await.unwrap();
    let patterns: Vec<&str> = SAMPLED.iter().copied().chain(["20.*"]).collect();
    let records = support::run(&server.url(), &support::cases(&patterns)).await;
    for id in SAMPLED {
        assert_eq!(support::verdict_line(&records[*id]), "OK | OK | 1000", "{id}: {}", records[*id].result);
    }
    let differences = support::differences(&support::baseline("ratchet-deflate.json", &records), &records);
    assert!(differences.is_empty(), "verdicts differ from the baseline:\n{}", differences.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_deflate_every_autobahn_deflate_case_is_unimplemented_and_closes_ok() {
    let server = ReferenceServer::start().await.unwrap();
    let records = support::run(&server.url(), &support::cases(&["12.*", "13.*"])).await;
    assert_eq!(records.len(), 216);
    for (id, record) in &records {
        assert_eq!(support::verdict_line(record), "UNIMPLEMENTED | OK | 1000", "{id}: {}", record.result);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_window_above_the_offer_is_caught_by_the_cases_that_limit_it() {
    let patterns = ["20.2.*", "12.1.1", "13.3.1", "13.4.1", "13.5.1", "13.7.1"];
    let reference = DeflateReferenceServer::start().await.unwrap();
    let broken = FaultyServer::start(Defect::DeflateWindowAboveOffer).await.unwrap();
    let good = support::run(&reference.url(), &support::cases(&patterns)).await;
    let bad = support::run(&broken.url(), &support::cases(&patterns)).await;
    let caught: Vec<&str> = bad.iter().filter(|(id, r)| r.behavior != good[*id].behavior).map(|(id, _)| id.as_str()).collect();
    // The offers that limit server_max_window_bits below 15 (8, 9, 12; 13.3 and 13.5 offer 9).
    assert_eq!(caught, ["13.3.1", "13.5.1", "20.2.3", "20.2.4", "20.2.5"]);
    for id in caught {
        assert!(bad[id].result.contains("above the"), "{id}: {}", bad[id].result);
    }
}
