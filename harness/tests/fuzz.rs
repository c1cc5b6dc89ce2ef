//! The fuzz harness: the RFC model against tungstenite in memory, and `wsspec fuzz` against the
//! embedded server (nothing to find) and against deliberately broken servers (the defect is found,
//! minimized, and the case file it writes fails there and passes on tungstenite).

use std::time::Duration;

use rstest::rstest;
use wsspec::{
    catalog::Catalog,
    engine::{RunOptions, Target},
    fuzz::{
        network::{self, Config, DeflateUse, Report},
        oracle, tungstenite_peer, Sequence,
    },
    peers::{
        deflate_reference::DeflateReferenceServer,
        faulty::{Defect, FaultyServer},
        reference_server::ReferenceServer,
    },
};

use crate::support;

#[test]
fn the_model_allows_what_tungstenite_does_with_generated_sequences() {
    for index in 0..3000 {
        let sequence = Sequence::generate(11, index, false);
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
        deflate: DeflateUse::IfAgreed,
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

/// The ratchet_rs reference agrees to permessage-deflate: half the sequences carry compressed
/// messages (RSV1 on first frames and, mutated, on continuation and control frames; invalid UTF-8
/// inside; data that is not DEFLATE). It handles them as the model says except for its one known
/// bug, the one the pinned baseline records (20.3.1, 20.3.4): RSV1 on a control frame is not
/// refused (a ping with RSV1 is answered with a pong). Every finding is that, minimized.
#[tokio::test(flavor = "multi_thread")]
async fn fuzzing_the_deflate_reference_with_compressed_messages_finds_only_its_known_rsv1_bug() {
    let server = DeflateReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = fuzz(&server.url(), 5, 300, out.path()).await;
    assert_eq!(report.stats.sequences, 300);
    assert_eq!(report.stats.compressed, 150, "{report:#?}");
    let catalog = report.file.as_ref().map(|_| Catalog::from_dir(out.path()).expect("the findings file loads"));
    for case in catalog.iter().flat_map(|c| &c.cases) {
        let control = ["ping", "pong", "close"].iter().any(|opcode| case.title.contains(&format!("{opcode} rsv=4")));
        assert!(control && case.deflate.is_some(), "a finding other than RSV1 on a control frame: {case:#?}");
    }
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

/// A target that accepts TCP but never opens a WebSocket tests nothing: `wsspec fuzz` exits 2 and
/// says what the target answered, instead of reporting "0 findings". A real server's summary says
/// how many sequences opened.
#[tokio::test(flavor = "multi_thread")]
async fn fuzzing_a_target_that_never_opens_a_websocket_exits_2() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn serve(answer: &'static [u8]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let _ = stream.read(&mut [0u8; 4096]).await;
                    let _ = stream.write_all(answer).await;
                });
            }
        });
        url
    }
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();
    for (answer, said) in [
        (&b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"[..], "status 404"),
        (&b""[..], "closed the connection during the opening handshake"),
    ] {
        let url = serve(answer).await;
        let args = ["fuzz", url.as_str(), "--duration", "60", "--out", dir.as_str()].map(String::from);
        let (code, _, stderr) = tokio::task::spawn_blocking(move || support::wsspec(&args.each_ref().map(String::as_str))).await.unwrap();
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(&format!("no sequence could open a WebSocket on {url} (0 of 8 opened)")) && stderr.contains(said), "{stderr}");
    }
    assert!(std::fs::read_dir(out.path()).map_or(true, |mut d| d.next().is_none()), "no findings file");

    let (code, _, stderr) = support::wsspec(&["fuzz", "--sequences", "20", "--out", &dir]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("20 sequences in") && stderr.contains("20 opened a WebSocket, 0 with permessage-deflate, 0 divergent, 0 findings"), "{stderr}");
}
