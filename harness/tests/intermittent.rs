//! Targets that refuse connections intermittently, whatever the load (a round-robin load balancer
//! with one backend down answers 503 to every other connection): the same verdicts as without the
//! refusals, a note saying so instead of --jobs advice, cases never opened not run (never graded),
//! and no crash finding from `wsspec fuzz`.

use std::time::Duration;

use wsspec::{
    engine::{run_cases, RunConfig, RunEnd, RunOptions, RunReport, Stop, Target, ALONE_ATTEMPTS},
    fuzz::network::{self, Config, DeflateUse},
    peers::reference_server::ReferenceServer,
};

use crate::support;

async fn run_report(url: &str, cases: &[wsspec::catalog::Case], jobs: usize) -> RunReport {
    let out = tempfile::tempdir().unwrap();
    let config = RunConfig { agent: "target".into(), target: Target::parse(url).unwrap(), options: RunOptions { jobs, ..RunOptions::default() } };
    let sink = wsspec_reports::sink::Sink::open(out.path()).unwrap();
    run_cases(cases, &config, &sink, &Stop::new(), |_| {}).await.unwrap()
}

/// (id, behavior, behaviorClose) of each result, in case order.
fn verdicts(report: &RunReport) -> Vec<(String, String, String)> {
    report.results.iter().map(|r| (r.id.clone(), r.entry.behavior.as_str().to_string(), r.entry.behavior_close.as_str().to_string())).collect()
}

/// `wsspec ARGS` in a blocking task: exit code and stderr.
async fn wsspec(args: Vec<String>) -> (i32, String) {
    let (code, _, stderr) = tokio::task::spawn_blocking(move || support::wsspec(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap();
    (code, stderr)
}

/// Sections 1 to 7, 8 at a time, against a target answering 503 to every other connection: every
/// case gets the verdict it gets without the refusals (the cases refused alone were FAILED on the
/// 503 to their valid handshake, though their stimulus never ran), and the run completes.
#[tokio::test(flavor = "multi_thread")]
async fn sections_1_to_7_get_the_verdicts_of_the_target_without_refusals() {
    let cases = support::cases(&["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*"]);
    let (url, _server) = support::every_other().await;
    let report = run_report(&url, &cases, 8).await;
    assert_eq!(report.end, RunEnd::Complete, "not run: {:?}", report.not_run);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.alone.recovered > 0, "cases refused alone opened on a later attempt: {:?}", report.alone);
    let plain = ReferenceServer::start().await.unwrap();
    let expected = run_report(&plain.url(), &cases, 8).await;
    assert_eq!(expected.end, RunEnd::Complete);
    assert_eq!(verdicts(&report), verdicts(&expected));
}

/// Handshake cases (18.x) and a slice of every section with ordinary cases among them, behind the
/// same balancer: a handshake case's refusal may be its answer, so it is tried again at once, and
/// once the target is seen refusing intermittently with 503, a close before any answer is the
/// case's own answer (tungstenite drops the requests it rejects). The verdicts are the plain
/// target's, none left out: before, 18.3.1 passed on the balancer's 503 and 18.3.3 failed on it
/// (stop 13's build), or 14 cases were left out, refused at every attempt (this stop's first).
#[tokio::test(flavor = "multi_thread")]
async fn handshake_cases_get_the_verdicts_of_the_target_without_refusals() {
    // Not 18.8.x: they write the request one octet at a time, and this balancer answers 503 and
    // closes after the first read, so the refusal is a reset while sending with no status read;
    // a close is what tungstenite answers those cases too, so it is taken for the answer.
    let cases = support::cases(&["1.1.*", "18.1.*", "18.2.*", "18.3.*", "18.4.*", "18.5.*", "18.6.*", "18.7.*"]);
    let (url, _server) = support::every_other().await;
    let report = run_report(&url, &cases, 8).await;
    let plain = ReferenceServer::start().await.unwrap();
    let expected = run_report(&plain.url(), &cases, 8).await;
    assert_eq!(report.end, RunEnd::Complete, "not run: {:?}", report.not_run);
    assert_eq!(verdicts(&report), verdicts(&expected));
}

/// One at a time, every case meets a refusal first (the reachability check took connection 0):
/// each is tried again alone and graded on the attempt that opened.
#[tokio::test(flavor = "multi_thread")]
async fn one_at_a_time_every_refused_case_is_tried_again() {
    let cases = support::cases(&["1.1.*", "2.*", "5.1", "7.1.*"]);
    let (url, _server) = support::every_other().await;
    let report = run_report(&url, &cases, 1).await;
    assert_eq!(report.end, RunEnd::Complete, "not run: {:?}", report.not_run);
    assert_eq!(report.alone.recovered, cases.len(), "{:?}", report.alone);
    let failed: Vec<_> = report.results.iter().filter(|r| r.is_failure()).map(|r| (&r.id, &r.reason)).collect();
    assert!(failed.is_empty(), "{failed:?}");
}

/// The summary says the target refused connections intermittently, with how often, instead of
/// advising a --jobs no value of which suits it; the run passes. The note is recorded for the agent
/// in `wsspec-run.json` and shown on the HTML index, also when `wsspec report` renders the folder
/// again, so the artefacts say the verdicts were obtained through retries; `index.json` keeps
/// Autobahn's schema.
#[tokio::test(flavor = "multi_thread")]
async fn the_summary_says_intermittent_not_fewer_connections_at_once() {
    let (url, _server) = support::every_other().await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();
    let args = ["server", &url, "--out", &dir, "--jobs", "8", "--cases", "6.4.1", "6.4.2", "1.1.*", "2.*"];
    let (code, stderr) = wsspec(args.map(String::from).to_vec()).await;
    assert_eq!(code, 0, "{stderr}");
    let said = "the target refused connections intermittently, whatever the load (";
    assert!(stderr.contains(said), "{stderr}");
    assert!(stderr.contains("opening handshakes made alone were refused"), "{stderr}");
    assert!(!stderr.contains("--jobs") && !stderr.contains("fewer connections at once"), "{stderr}");

    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("wsspec-run.json")).unwrap()).unwrap();
    let notes = run["agents"]["UnknownServer"]["notes"].as_array().unwrap_or_else(|| panic!("notes recorded: {run}"));
    let note = notes.iter().filter_map(|n| n.as_str()).find(|n| n.starts_with(said)).unwrap_or_else(|| panic!("{run}"));
    assert!(stderr.contains(&format!("  {note}\n")), "the summary's own line: {stderr}");
    let shown = format!("UnknownServer: {note}");
    let index = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(index.contains(&shown), "{index}");
    let autobahn = std::fs::read_to_string(out.path().join("index.json")).unwrap();
    assert!(!autobahn.contains("intermittently") && !autobahn.contains("notes"), "Autobahn's schema: {autobahn}");

    std::fs::remove_file(out.path().join("index.html")).unwrap();
    let (code, stderr) = wsspec(["report", &dir].map(String::from).to_vec()).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(&format!("  {note}\n")), "`wsspec report` says it too: {stderr}");
    let index = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(index.contains(&shown), "re-rendered: {index}");
}

/// A case the target refused at every attempt alone, once it has shown it refuses intermittently
/// (here: every permessage-deflate offer and every other connection), is not run, with the reason,
/// never graded; the run is incomplete (exit 2).
#[tokio::test(flavor = "multi_thread")]
async fn a_case_refused_at_every_attempt_by_an_intermittent_target_is_not_run() {
    let refusal = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
    let (url, _server) = support::refusing(refusal, |n, head| n % 2 == 1 || head.to_ascii_lowercase().contains("permessage-deflate")).await;
    let cases = support::cases(&["1.1.1", "1.1.2", "12.1.1"]);
    let report = run_report(&url, &cases, 1).await;
    assert_eq!(report.refused_alone, ["12.1.1"]);
    assert_eq!(report.not_run, ["12.1.1"]);
    assert_eq!(verdicts(&report).iter().map(|(id, ..)| id.as_str()).collect::<Vec<_>>(), ["1.1.1", "1.1.2"]);
    let said = format!("refused 1 case at each of {ALONE_ATTEMPTS} attempts alone: it answered `HTTP/1.1 503 Service Unavailable`");
    assert!(matches!(&report.end, RunEnd::RefusedIntermittently(reason) if reason.contains(&said)), "{:?}", report.end);

    let out = tempfile::tempdir().unwrap();
    let args = ["server", &url, "--out", out.path().to_str().unwrap(), "--jobs", "1", "--cases", "1.1.1", "1.1.2", "12.1.1"];
    let (code, stderr) = wsspec(args.map(String::from).to_vec()).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("incomplete: 2 of 3 cases ran; 1 not run: the target refused connections intermittently"), "{stderr}");
    assert!(!stderr.contains("FAILED"), "{stderr}");
}

fn fuzz_config(url: &str, jobs: usize, out: &std::path::Path) -> Config {
    Config {
        target: Target::parse(url).expect("a ws:// URL"),
        seed: 3,
        jobs,
        duration: Duration::from_secs(60),
        max_sequences: Some(120),
        options: RunOptions { timeout_scale: 0.5, ..RunOptions::default() },
        out_dir: out.to_path_buf(),
        deflate: DeflateUse::Off,
    }
}

/// `wsspec fuzz` against a target answering 503 to every other connection finds no crash: a
/// sequence refused alone runs again, and a crash needs plain opening handshakes refused too, each
/// of several (its TCP probe took the connection the next sequence was to be refused on, so every
/// sequence was refused and the target taken for crashed).
#[tokio::test(flavor = "multi_thread")]
async fn fuzzing_a_target_refusing_every_other_connection_finds_no_crash() {
    let (url, _server) = support::every_other().await;
    for jobs in [1, 8] {
        let out = tempfile::tempdir().unwrap();
        let report = network::run(&fuzz_config(&url, jobs, out.path()), &Stop::new(), |_| {}).await.expect("the run completes");
        assert!(report.findings.is_empty(), "--jobs {jobs}: {report:#?}");
        assert!(report.stats.opened > 0 && report.stats.refused > 0, "--jobs {jobs}: {:#?}", report.stats);
    }
}

/// A run of refusals in a row, as a balancer refusing half the connections at random gives now and
/// then (20 in a row: probability 2^-20 at each connection), once the target is known to refuse
/// intermittently, does not stop the run: the cases it refused at each of their attempts alone are
/// not run, and 16 plain opening handshakes spread over 2 s, not 4 within 150 ms, must all be refused
/// before the target is taken for gone (before: `stopped opening WebSockets` after the burst, the
/// cases after it not run).
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_refusals_from_an_intermittent_target_does_not_stop_the_run() {
    let cases = support::cases(&["1.1.*", "2.*", "5.1", "7.1.*"]);
    let (url, _server) = support::refusing(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", |n, _| n % 2 == 1 || (20..40).contains(&n)).await;
    let report = run_report(&url, &cases, 1).await;
    assert!(matches!(&report.end, RunEnd::RefusedIntermittently(_)), "{:?}", report.end);
    // 3, or more when the next case ran into the burst beside the probes.
    assert!((3..=5).contains(&report.refused_alone.len()), "the cases the burst refused at every attempt: {:?}", report.refused_alone);
    assert_eq!(report.not_run, report.refused_alone, "every other case ran");
    assert_eq!(report.results.len() + report.refused_alone.len(), cases.len());
    assert!(report.results.iter().all(|r| !r.is_failure()), "{:?}", report.results);
}

/// `wsspec fuzz` against a balancer refusing every other connection runs at about the pace of the
/// target alone, 32 sequences at once: its refusals are seen as intermittent (a plain opening
/// handshake opens right after one, with more connections open), so they neither lower the
/// sequences in flight nor drop the idle connections, and the summary says intermittent, not a
/// target serving only so many at once (before: 22 sequences/s where the target alone gives
/// about 5,000, so these 1,500 took over a minute).
#[tokio::test(flavor = "multi_thread")]
async fn fuzzing_a_target_refusing_every_other_connection_keeps_its_pace() {
    let (url, _server) = support::every_other().await;
    let out = tempfile::tempdir().unwrap();
    let args = ["fuzz", &url, "--sequences", "1500", "--duration", "12", "--seed", "1", "--no-deflate", "--out", out.path().to_str().unwrap()];
    let (code, stderr) = wsspec(args.map(String::from).to_vec()).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1500 sequences generated in"), "all sent within the time: {stderr}");
    assert!(stderr.contains("the target refused connections intermittently, whatever the load ("), "{stderr}");
    assert!(!stderr.contains("only so many at once"), "{stderr}");
}
