//! Runs of a few cases against each attack of the hostile-peer kit, as a user's run would be: the
//! results streamed into a report folder, then rendered by `wsspec report`. Each must end within its
//! bound, write nothing but the report's files, keep every case file within its share of the run's
//! budget and the whole folder within a stated size, and say on each flooded case which bounds it
//! reached. Peak memory is measured by `bench/hostile.sh`, not here.

use std::{
    collections::BTreeSet,
    fs,
    path::Path,
    time::{Duration, Instant},
};

use wsspec::engine::{run_cases, RunConfig, RunOptions, Stop, Target};
use wsspec_reports::{record_budget, sink::Sink, Behavior, CaseRecord};

use crate::{
    hostile_peer::{self, Act, Peer},
    support,
};

/// The cases each attack runs: an echo, a ping, a message of 64 KiB.
const CASES: [&str; 3] = ["1.1.1", "2.1", "9.1.1"];

/// The most a case page may take: its record's share of the budget twice over (the page shows what
/// the record holds, with markup around it) plus the page's fixed parts.
fn max_page_bytes(selected: usize) -> u64 {
    2 * record_budget(selected) as u64 + 16 * 1024
}

/// The report files besides the cases': `index.json`, `index.html`, `wsspec-run.json`, `wsspec.css`.
const MAX_FIXED_BYTES: u64 = 64 * 1024;

/// What a run against an attack left: its records by id and the folder.
struct Attacked {
    records: Vec<CaseRecord>,
    out: tempfile::TempDir,
}

/// Runs [`CASES`] against a peer playing `script`, within `bound`, and renders the folder.
async fn attack(script: Vec<Act>, bound: Duration) -> Attacked {
    let peer = Peer::start(script).await;
    let out = tempfile::tempdir().unwrap();
    let config = RunConfig { agent: "hostile".into(), target: Target::parse(&peer.url).unwrap(), options: RunOptions::default() };
    let sink = Sink::open(out.path()).unwrap();
    let mut records = Vec::new();
    let started = Instant::now();
    let report = run_cases(&support::cases(&CASES), &config, &sink, &Stop::new(), |r| records.push(r.clone())).await.expect("the run completes");
    let took = started.elapsed();
    assert!(took < bound, "the run took {took:?}, over its bound of {bound:?}");
    // A case wsspec declined to judge because its timers ran late (a loaded machine) still has its file.
    let unexpected: Vec<_> = report.errors.iter().filter(|(_, e)| !e.contains("the machine is overloaded")).collect();
    assert!(unexpected.is_empty(), "wsspec's own errors: {unexpected:?}");
    assert_eq!(records.len() + report.errors.len(), CASES.len());
    let dir = out.path().to_str().unwrap().to_string();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || support::wsspec(&["report", &dir])).await.unwrap();
    assert!(code == 1 || code == 2, "the report renders and fails the run: {stderr}");
    assert_bounded(out.path());
    Attacked { records, out }
}

/// The folder holds only the report's files, each within its bound, and is within its bound in all.
fn assert_bounded(out: &Path) {
    let stems: BTreeSet<String> = CASES.iter().map(|id| format!("hostile_case_{}", id.replace('.', "_"))).collect();
    let (mut fixed, mut total) = (0, 0);
    for entry in fs::read_dir(out).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let meta = entry.metadata().unwrap();
        assert!(meta.is_file(), "{name} is a regular file");
        total += meta.len();
        match name.rsplit_once('.') {
            Some((stem, "json")) if stems.contains(stem) => {
                assert!(meta.len() <= record_budget(CASES.len()) as u64, "{name}: {} bytes", meta.len())
            }
            Some((stem, "html")) if stems.contains(stem) => {
                assert!(meta.len() <= max_page_bytes(CASES.len()), "{name}: {} bytes", meta.len())
            }
            _ => {
                assert!(["index.json", "index.html", "wsspec-run.json", "wsspec.css", ".wsspec.lock"].contains(&name.as_str()), "{name} written");
                fixed += meta.len();
            }
        }
    }
    assert!(fixed <= MAX_FIXED_BYTES, "the index files take {fixed} bytes");
    let max = MAX_FIXED_BYTES + CASES.len() as u64 * (record_budget(CASES.len()) as u64 + max_page_bytes(CASES.len()));
    assert!(total <= max, "the folder holds {total} bytes, over {max}");
}

impl Attacked {
    fn record(&self, id: &str) -> Option<&CaseRecord> {
        self.records.iter().find(|r| r.id == id)
    }

    fn page(&self, record: &CaseRecord) -> String {
        fs::read_to_string(self.out.path().join(record.reportfile.replace(".json", ".html"))).unwrap()
    }

    /// Every judged case failed, and its page names a bound containing `bound`.
    fn assert_failed_within(&self, bound: &str) {
        for record in &self.records {
            assert_eq!(record.behavior, Behavior::Failed, "{}: {}", record.id, record.result);
            assert!(record.bounds.iter().any(|b| b.contains(bound)), "{}: {:?}", record.id, record.bounds);
            assert!(self.page(record).contains("Bounds reached"), "{}", record.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ping_flood_is_one_line_per_run_of_pings() {
    let run = attack(hostile_peer::ping_flood(), Duration::from_secs(60)).await;
    run.assert_failed_within("Flood:");
    for record in &run.records {
        assert!(record.received.len() <= 3, "{}: {:?}", record.id, record.received);
        assert!(record.received[0].ends_with("more like this one)"), "{}", record.received[0]);
        assert!(run.page(record).contains("more like this one"), "{}", record.id);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_text_flood_is_counted_not_kept() {
    let run = attack(hostile_peer::text_flood(), Duration::from_secs(60)).await;
    run.assert_failed_within("Events: the target sent");
    for record in &run.records {
        assert!(record.received_counts["text message"] >= 100_000, "{}: {:?}", record.id, record.received_counts);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_answers_are_checked_as_they_stream() {
    let run = attack(hostile_peer::huge_answers(), Duration::from_secs(90)).await;
    for record in &run.records {
        assert_eq!(record.behavior, Behavior::Failed, "{}: {}", record.id, record.result);
        assert!(record.received.iter().any(|e| e.contains("16777216 bytes")), "{}: {:?}", record.id, record.received);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_fragmented_message_keeps_the_ends_of_the_wire_log() {
    let run = attack(hostile_peer::endless_fragments(), Duration::from_secs(90)).await;
    run.assert_failed_within("Wire log:");
    for record in &run.records {
        assert!(record.wirelog_gap.as_ref().is_some_and(|g| g.frames > 1000), "{}: {:?}", record.id, record.wirelog_gap);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_on_big_messages_fails_only_those() {
    let run = attack(hostile_peer::crash_on_big_messages(), Duration::from_secs(60)).await;
    let big = run.record("9.1.1").expect("9.1.1 was judged");
    assert_eq!(big.behavior, Behavior::Failed, "{}", big.result);
    assert!(big.result.contains("after sending part of a message"), "{}", big.result);
    for id in ["1.1.1", "2.1"] {
        if let Some(record) = run.record(id) {
            assert_eq!(record.behavior, Behavior::Ok, "{id}: {}", record.result);
        }
    }
}
