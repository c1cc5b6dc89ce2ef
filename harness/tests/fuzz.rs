//! The fuzz harness: the RFC model against tungstenite in memory, and `wsspec fuzz` against the
//! embedded server (nothing to find) and against deliberately broken servers (the defect is found,
//! minimized, and the case file it writes fails there and passes on tungstenite).

use std::time::Duration;

use rstest::rstest;
use wsspec::{
    catalog::Catalog,
    engine::{RunOptions, Target},
    fuzz::{
        network::{self, Config, Report},
        oracle, tungstenite_peer, Sequence,
    },
    peers::{
        faulty::{Defect, FaultyServer},
        reference_server::ReferenceServer,
    },
};

use crate::support;

#[test]
fn the_model_allows_what_tungstenite_does_with_generated_sequences() {
    for index in 0..3000 {
        let sequence = Sequence::generate(11, index);
        let outcome = oracle::expect(&sequence.frames);
        let seen = tungstenite_peer::run(&sequence.frames);
        assert!(outcome.admits(&seen), "sequence {index}: {sequence:?}\ntungstenite: {seen:?}\nmodel: {outcome:#?}");
    }
}

async fn fuzz(url: &str, seed: u32, sequences: u64, out: &std::path::Path) -> Report {
    let config = Config {
        target: Target::parse(url).expect("a ws:// URL"),
        seed,
        jobs: 8,
        duration: Duration::from_secs(60),
        max_sequences: Some(sequences),
        // Short case timeouts keep the divergent trials quick; the written cases keep 1 s.
        options: RunOptions { timeout_scale: 0.5, ..RunOptions::default() },
        out_dir: out.to_path_buf(),
    };
    network::run(&config, |_| {}).await.expect("the run completes")
}

#[tokio::test(flavor = "multi_thread")]
async fn fuzzing_the_embedded_server_finds_nothing() {
    let server = ReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = fuzz(&server.url(), 5, 300, out.path()).await;
    assert_eq!(report.stats.sequences, 300);
    assert_eq!((report.stats.divergent, report.findings.len()), (0, 0), "{report:#?}");
    assert!(report.file.is_none());
}

#[rstest]
#[case::rsv_bits(Defect::AcceptRsv)]
#[case::no_pong(Defect::NoPong)]
#[case::reserved_opcodes(Defect::IgnoreReservedOpcodes)]
#[case::utf8(Defect::SkipUtf8)]
#[tokio::test(flavor = "multi_thread")]
async fn fuzzing_finds_a_planted_defect_and_writes_a_case_that_reproduces_it(#[case] defect: Defect) {
    let broken = FaultyServer::start(defect).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = fuzz(&broken.url(), 1, 40, out.path()).await;
    assert!(!report.findings.is_empty(), "{defect:?}: no finding in 40 sequences: {report:#?}");
    let first = &report.findings[0];
    let written = std::fs::read_to_string(report.file.as_ref().expect("a findings file")).unwrap();
    assert!(first.reproduced, "{first:#?}\n{written}");
    assert!(first.frames.1 <= 3, "minimized to {} frames: {first:#?}\n{written}", first.frames.1);

    let catalog = Catalog::from_dir(out.path()).expect("the findings file loads as a catalog");
    let ids: Vec<String> = catalog.cases.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids, report.findings.iter().flat_map(|f| f.ids.clone()).collect::<Vec<_>>());
    let on_broken = support::run(&broken.url(), &catalog.cases).await;
    assert_eq!(support::failing(&on_broken), ids, "every finding fails on the broken server");
    let reference = ReferenceServer::start().await.unwrap();
    let on_reference = support::run(&reference.url(), &catalog.cases).await;
    assert!(support::failing(&on_reference).is_empty(), "and passes on tungstenite: {on_reference:#?}");
}
