//! The fuzz harness: the RFC model against tungstenite in memory, and `wsspec fuzz` against the
//! embedded server (nothing to find) and against deliberately broken servers (the defect is found,
//! minimized, and the case file it writes fails there and passes on tungstenite).

use std::time::Duration;

use rstest::rstest;
use wsspec::{
    catalog::Catalog,
    frame::OpCode,
    engine::{RunOptions, Stop, Target},
    fuzz::{
        network::{self, Config, DeflateUse, Progress, Report},
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
    network::run(&config(url, seed, sequences, out), &Stop::new(), |_| {}).await.expect("the run completes")
}

fn config(url: &str, seed: u32, sequences: u64, out: &std::path::Path) -> Config {
    Config {
        target: Target::parse(url).expect("a ws:// URL"),
        seed,
        jobs: 8,
        duration: Duration::from_secs(60),
        max_sequences: Some(sequences),
        // Short case timeouts keep the divergent trials quick; the written cases keep 1 s.
        options: RunOptions { timeout_scale: 0.5, ..RunOptions::default() },
        out_dir: out.to_path_buf(),
        deflate: DeflateUse::IfAgreed,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fuzzing_the_embedded_server_finds_nothing() {
    let server = ReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = fuzz(&server.url(), 5, 300, out.path()).await;
    let stats = &report.stats;
    assert_eq!((stats.generated, stats.sequences + stats.undecidable, stats.opened), (300, 300, stats.sequences), "{stats:#?}");
    assert_eq!((report.stats.divergent, report.findings.len()), (0, 0), "{report:#?}");
    assert!(report.file.is_none());
}

/// The ratchet_rs reference agrees to permessage-deflate: half the sequences carry compressed
/// messages (RSV1 on first frames and, mutated, on continuation and control frames; invalid UTF-8
/// inside; data that is not DEFLATE). It handles them as the model says except for two bugs, and
/// every finding is one of them, minimized: RSV1 on a control frame is not refused (a ping with
/// RSV1 is answered with a pong), the bug the pinned baseline records (20.3.1, 20.3.4); and an
/// uncompressed fragmented message after a compressed message is not echoed as sent (`text fin=0
/// rsv=4, continuation, text fin=0, continuation "U"` comes back as the first message and an empty
/// text message), found once sequences shared connections (two sequences on one connection, then
/// minimized to one).
#[tokio::test(flavor = "multi_thread")]
async fn fuzzing_the_deflate_reference_with_compressed_messages_finds_only_its_known_bugs() {
    use wsspec::catalog::Action;
    let server = DeflateReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = fuzz(&server.url(), 5, 300, out.path()).await;
    assert_eq!(report.stats.sequences, 300);
    assert_eq!(report.stats.compressed, 150, "{report:#?}");
    let catalog = report.file.as_ref().map(|_| Catalog::from_dir(out.path()).expect("the findings file loads"));
    for case in catalog.iter().flat_map(|c| &c.cases) {
        let frames: Vec<_> = case.steps.iter().flat_map(|s| match &s.action { Action::Frames(f) => f.clone(), _ => Vec::new() }).collect();
        let control = frames.iter().any(|f| f.opcode.is_control() && f.rsv & 4 != 0);
        let compressed_first = frames.iter().position(|f| !f.opcode.is_control() && f.rsv & 4 != 0);
        let plain_fragmented_after = compressed_first.is_some_and(|at| {
            frames[at + 1..].iter().any(|f| matches!(f.opcode, OpCode::Text | OpCode::Binary) && f.rsv == 0 && !f.fin)
        });
        assert!((control || plain_fragmented_after) && case.deflate.is_some(), "a finding other than ratchet's two known bugs: {case:#?}");
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
        let args = ["fuzz", url.as_str(), "--duration", "60", "--jobs", "4", "--out", dir.as_str()].map(String::from);
        let (code, _, stderr) = tokio::task::spawn_blocking(move || support::wsspec(&args.each_ref().map(String::as_str))).await.unwrap();
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(&format!("no sequence could open a WebSocket on {url} (0 of 8 opened)")) && stderr.contains(said), "{stderr}");
    }
    // A 503 to every connection reads as a busy target: refusals, retried until the time is up.
    // Nothing decided is still nothing tested: exit 2, never 0.
    let url = serve(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").await;
    let args = ["fuzz", url.as_str(), "--duration", "3", "--out", dir.as_str()].map(String::from);
    let (code, _, stderr) = tokio::task::spawn_blocking(move || support::wsspec(&args.each_ref().map(String::as_str))).await.unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("the target opened others"), "{stderr}");
    assert!(std::fs::read_dir(out.path()).map_or(true, |mut d| d.next().is_none()), "no findings file");

    let (code, _, stderr) = support::wsspec(&["fuzz", "--sequences", "20", "--out", &dir]);
    assert_eq!(code, 0, "{stderr}");
    let number_before = |word: &str| -> u64 {
        let at = stderr.find(word).unwrap_or_else(|| panic!("no `{word}` in {stderr}"));
        stderr[..at].trim_end().rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no count before `{word}` in {stderr}"))
    };
    let (run, undecidable, decided) = (number_before(" run ("), number_before(" undecidable"), number_before(" decided"));
    assert!(stderr.contains("20 sequences generated in") && run + undecidable == 20 && decided == run, "{stderr}");
    assert!(stderr.contains("0 with permessage-deflate, 0 divergent, 0 findings"), "{stderr}");
}

/// One sequence is "1 sequence", and the summary says how many were run and how many the model
/// could not judge.
#[test]
fn the_summary_counts_in_good_grammar() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = support::wsspec(&["fuzz", "--sequences", "1", "--seed", "1", "--out", out.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 sequence generated in") && stderr.contains("1 run (") && stderr.contains("0 undecidable (not sent"), "{stderr}");
    assert!(stderr.contains("1 decided (opened a WebSocket and judged)") && stderr.contains("0 findings"), "{stderr}");
}

/// A target that drops every fourth connection unanswered is fuzzed, not taken for one on which no
/// sequence opens nor a crash: each dropped connection is a refusal, its sequence run again.
#[tokio::test(flavor = "multi_thread")]
async fn a_target_dropping_some_connections_is_fuzzed_and_its_drops_are_run_again() {
    let backend = ReferenceServer::start().await.unwrap();
    let url = proxy(upstream_of(&backend.url()), |n| if n % 4 == 3 { Fate::Drop } else { Fate::Pass }).await;
    let out = tempfile::tempdir().unwrap();
    let config = Config { jobs: 16, ..config(&url, 3, 200, out.path()) };
    let report = network::run(&config, &Stop::new(), |_| {}).await.expect("not stopped: some sequences open");
    let stats = &report.stats;
    assert!(stats.refused > 10 && stats.opened > 100, "{stats:#?}");
    assert_eq!(stats.opened + stats.dropped, stats.sequences, "{stats:#?}");
    assert!(report.findings.is_empty(), "a dropped connection is no finding: {report:#?}");
}

/// A server that serves 2 connections at once and answers 503 to the others is fuzzed at its pace
/// with the default 32 in flight: its 503s while others were open are refusals, run again later
/// with fewer at once, not a target on which nothing opens nor a crash.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_refusing_beyond_two_connections_is_fuzzed_at_its_pace() {
    let (url, _server) = support::limited(2).await;
    let out = tempfile::tempdir().unwrap();
    let args = ["fuzz", url.as_str(), "--sequences", "300", "--seed", "1", "--out", out.path().to_str().unwrap()].map(String::from);
    let (code, _, stderr) = tokio::task::spawn_blocking(move || support::wsspec(&args.each_ref().map(String::as_str))).await.unwrap();
    assert_eq!(code, 0, "{stderr}");
    let number_before = |word: &str| -> u64 {
        let at = stderr.find(word).unwrap_or_else(|| panic!("no `{word}` in {stderr}"));
        stderr[..at].trim_end().rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no count before `{word}` in {stderr}"))
    };
    let (decided, run, refusals) = (number_before(" decided"), number_before(" run ("), number_before(" refusal"));
    assert!(decided > 0 && refusals > 0 && decided <= run, "{stderr}");
    assert!(stderr.contains(" 0 divergent, 0 findings"), "{stderr}");
    assert!(std::fs::read_dir(out.path()).map_or(true, |mut d| d.next().is_none()), "no findings file: {stderr}");
}

/// A target that goes down mid-run (it stops listening after 40 connections) is still a crash
/// finding, not refusals run again: its connects fail, they are not answered.
#[tokio::test(flavor = "multi_thread")]
async fn a_target_going_down_mid_run_is_a_crash_finding() {
    let backend = ReferenceServer::start().await.unwrap();
    let upstream = upstream_of(&backend.url());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for _ in 0..40 {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    let out = tempfile::tempdir().unwrap();
    let config = Config { deflate: DeflateUse::Off, ..config(&url, 2, 500, out.path()) };
    let report = network::run(&config, &Stop::new(), |_| {}).await.expect("some sequences opened");
    assert!(report.findings.iter().any(|f| f.kind == network::Kind::Crash), "{report:#?}");
    // A connect that fails is no refusal; only a connect still queued when the listener closed is
    // reset, which reads as one: at most one per sequence in flight.
    assert!(report.stats.refused <= 2, "a connect that fails is no refusal: {:#?}", report.stats);
}

/// A target that opens its first 3 WebSockets, then takes every connection but never answers its
/// opening handshake nor closes it (a server hung in its accept loop): the first handshake left
/// unanswered after others opened is a crash finding at once, "stopped answering opening
/// handshakes", not 8 more waits for the target to be taken for one that "stopped opening
/// WebSockets" (nor a run ending with no finding). One sequence at a time, and a connection only
/// opens or hangs by its number, so the outcome does not depend on timing.
/// What a [`proxy`] does with a connection once it has read its request.
#[derive(Clone, Copy)]
enum Fate {
    /// On to the upstream server, request included.
    Pass,
    /// Closed unanswered.
    Drop,
    /// Kept open, read, never answered (a server hung in its accept loop).
    Hang,
}

/// A proxy that reads each connection's request, then does with the `n`th connection what `fate`
/// says, passing to `upstream` (`host:port`); its `ws://` URL.
async fn proxy(upstream: String, fate: fn(usize) -> Fate) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for n in 0usize.. {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut head = vec![0u8; 8192];
                let read = client.read(&mut head).await.unwrap_or(0);
                match fate(n) {
                    Fate::Drop => {}
                    Fate::Hang => {
                        while let Ok(1..) = client.read(&mut head).await {}
                        std::future::pending::<()>().await;
                    }
                    Fate::Pass => {
                        let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else { return };
                        let _ = server.write_all(&head[..read]).await;
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }
            });
        }
    });
    url
}

/// `host:port` of a `ws://host:port/` URL.
fn upstream_of(url: &str) -> String {
    url.trim_start_matches("ws://").trim_end_matches('/').to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_that_stops_answering_opening_handshakes_is_a_crash_finding_at_once() {
    let backend = ReferenceServer::start().await.unwrap();
    let url = proxy(upstream_of(&backend.url()), |n| if n < 3 { Fate::Pass } else { Fate::Hang }).await;
    let out = tempfile::tempdir().unwrap();
    let config = Config { jobs: 1, deflate: DeflateUse::Off, ..config(&url, 2, 200, out.path()) };
    let report = network::run(&config, &Stop::new(), |_| {}).await.expect("some sequences opened");
    let crashes: Vec<_> = report.findings.iter().filter(|f| f.kind == network::Kind::Crash).collect();
    assert_eq!(crashes.len(), 1, "{report:#?}");
    assert!(crashes[0].reason.starts_with("the target stopped answering opening handshakes"), "{report:#?}");
    assert_eq!(report.stats.dropped, 1, "the first unanswered handshake is the finding: {:#?}", report.stats);
    // The run's probe takes one of the answered connections.
    assert!(report.stats.opened >= 1, "it opened others first: {:#?}", report.stats);
    assert_eq!(report.stats.divergent, 0, "{report:#?}");
}

/// A broken target that goes silent while its divergences wait for minimization: the crash is
/// found, and the run ends with the divergences it could no longer minimize written whole, instead
/// of waiting on them forever (it did).
#[tokio::test(flavor = "multi_thread")]
async fn a_target_going_silent_with_divergences_queued_ends_the_run() {
    let broken = FaultyServer::start(Defect::AcceptRsv).await.unwrap();
    let url = proxy(upstream_of(&broken.url()), |n| if n < 40 { Fate::Pass } else { Fate::Hang }).await;
    let out = tempfile::tempdir().unwrap();
    let config = Config { jobs: 4, deflate: DeflateUse::Off, duration: Duration::from_secs(10), ..config(&url, 7, 400, out.path()) };
    let stop = Stop::new();
    let run = network::run(&config, &stop, |_| {});
    let report = tokio::time::timeout(Duration::from_secs(150), run).await.expect("the run ends").expect("some sequences opened");
    assert!(report.findings.iter().any(|f| f.kind == network::Kind::Crash), "{report:#?}");
    assert!(report.stats.divergent >= 2, "divergences were found before the target went silent: {report:#?}");
    // Those it could not minimize against a target gone are written whole, as an interrupt writes them.
    let whole = |f: &&network::Finding| f.kind != network::Kind::Crash && f.unminimized.as_deref().is_some_and(|w| w.starts_with("the target went away first"));
    assert!(report.findings.iter().any(|f| whole(&f)), "{report:#?}");
}

/// Raised while divergences wait for minimization, an interrupt still writes every confirmed one:
/// those not minimized whole, and each fails on the broken server.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupt_writes_the_divergences_not_yet_minimized_whole() {
    let broken = FaultyServer::start(Defect::AcceptRsv).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let stop = Stop::new();
    let config = Config { max_sequences: None, ..config(&broken.url(), 1, 0, out.path()) };
    let report = network::run(&config, &stop, |event| {
        if let Progress::Tick(stats) = event {
            if stats.divergent >= 3 {
                stop.raise("SIGINT received");
            }
        }
    })
    .await
    .expect("the run completes");
    assert_eq!(report.interrupted.as_deref(), Some("SIGINT received"));
    assert!(report.findings.iter().any(|f| f.unminimized.is_some() && f.reproduced), "{report:#?}");
    let catalog = Catalog::from_dir(out.path()).expect("the findings file loads as a catalog");
    let ids: Vec<String> = catalog.cases.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids, report.findings.iter().flat_map(|f| f.ids.clone()).collect::<Vec<_>>());
    let on_broken = support::run(&broken.url(), &catalog.cases).await;
    let mut failing = support::failing(&on_broken);
    let mut ids = ids;
    failing.sort();
    ids.sort();
    assert_eq!(failing, ids, "every finding fails on the broken server");
}

/// `wsspec fuzz` interrupted by SIGINT after its first finding: the finding is in its file, the
/// summary is printed, and it exits 3.
#[tokio::test(flavor = "multi_thread")]
async fn sigint_after_a_finding_keeps_it_and_exits_3() {
    let broken = FaultyServer::start(Defect::AcceptRsv).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();
    let args = ["fuzz", &broken.url(), "--seed", "1", "--duration", "120", "--jobs", "8", "--out", &dir].map(String::from);
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        support::interrupted_when(&args, |line| line.starts_with("finding:"), Duration::ZERO)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("interrupted: SIGINT received") && stderr.contains("Findings: "), "{stderr}");
    let catalog = Catalog::from_dir(out.path()).expect("the findings file loads");
    assert!(!catalog.cases.is_empty(), "{stderr}");
}

/// A target that answers for a second, then goes silent on every WebSocket (old and new ones: the
/// handshake is still answered, frames are not): every sequence after that hangs, and minimizing a
/// hang, each candidate waiting out its timeouts, could take minutes (154 s with `--duration 5`
/// before minimization had a time budget). The run ends soon after `--duration`, with the hang
/// written.
#[tokio::test(flavor = "multi_thread")]
async fn a_target_going_silent_ends_the_run_soon_after_its_duration_with_the_finding_written() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let backend = ReferenceServer::start().await.unwrap();
    let upstream = upstream_of(&backend.url());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let silent_at = tokio::time::Instant::now() + Duration::from_secs(1);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else { return };
                let (mut client_in, mut client_out) = client.into_split();
                let (mut server_in, mut server_out) = server.into_split();
                tokio::spawn(async move { tokio::io::copy(&mut client_in, &mut server_out).await });
                // The server's answers: the 101 always, anything after it only until `silent_at`.
                let mut buf = vec![0u8; 16 << 10];
                let mut answered = false;
                while let Ok(n @ 1..) = server_in.read(&mut buf).await {
                    if !answered || tokio::time::Instant::now() < silent_at {
                        answered = true;
                        if client_out.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
                // Never closes its side: a hang, not a drop.
                std::future::pending::<()>().await;
            });
        }
    });
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();
    let args = ["fuzz", url.as_str(), "--seed", "1", "--duration", "5", "--jobs", "8", "--out", dir.as_str()].map(String::from);
    let started = std::time::Instant::now();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || support::wsspec(&args.each_ref().map(String::as_str))).await.unwrap();
    let took = started.elapsed();
    assert_eq!(code, 1, "{stderr}");
    assert!(took < Duration::from_secs(60), "the run took {took:?} with --duration 5: {stderr}");
    // Whether the hang was minimized in time or written whole ("ran out of its time budget")
    // depends on how long its candidates take; either way it is written.
    assert!(stderr.contains("finding: hang"), "{stderr}");
    let catalog = Catalog::from_dir(out.path()).expect("the findings file loads");
    assert!(!catalog.cases.is_empty(), "{stderr}");
}

/// Interrupted while it checks whether the target agrees to permessage-deflate (a target that
/// opens the WebSocket and then says nothing, with timeouts scaled up 50 times, so the check alone
/// could wait minutes), `wsspec fuzz` stops within its grace period and exits 3.
#[tokio::test(flavor = "multi_thread")]
async fn sigint_during_the_deflate_check_ends_the_run_at_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if support::accept_websocket(&mut stream).await {
                    std::future::pending::<()>().await;
                }
            });
        }
    });
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();
    let args = ["fuzz", url.as_str(), "--timeout-scale", "50", "--out", dir.as_str()].map(String::from);
    let (code, stderr, took) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = std::time::Instant::now();
        let (code, stderr) = support::interrupted_when(&args, |line| line.starts_with("wsspec: fuzzing"), Duration::from_millis(500));
        (code, stderr, started.elapsed())
    })
    .await
    .unwrap();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("interrupted: SIGINT received"), "{stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?} to stop: {stderr}");
}
