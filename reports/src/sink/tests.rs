use std::fs;

use super::*;
use crate::{testing::record, Behavior, BehaviorClose, StoredResults};

#[test]
fn index_matches_autobahns_shape_and_keeps_other_agents() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::open(dir.path()).unwrap();
    for agent in ["a", "b"] {
        sink.begin_agent(agent, vec!["1.1.1".into(), "10.1.1".into()]).unwrap();
        let mut first = record(agent, "1.1.1", Behavior::NonStrict, BehaviorClose::WrongCode);
        first.duration = 2;
        sink.record(&mut first).unwrap();
        let mut second = record(agent, "10.1.1", Behavior::NonStrict, BehaviorClose::WrongCode);
        (second.duration, second.remote_close_code) = (2, None);
        sink.record(&mut second).unwrap();
    }
    let text = fs::read_to_string(dir.path().join("index.json")).unwrap();
    let expected = "{\n   \"a\": {\n      \"1.1.1\": {\n         \"behavior\": \"NON-STRICT\",\n         \
                    \"behaviorClose\": \"WRONG CODE\",\n         \"duration\": 2,\n         \
                    \"remoteCloseCode\": 1000,\n         \"reportfile\": \"a_case_1_1_1.json\"\n      },\n      \
                    \"10.1.1\": {\n         \"behavior\": \"NON-STRICT\",\n         \"behaviorClose\": \"WRONG CODE\",\n         \
                    \"duration\": 2,\n         \"remoteCloseCode\": null,\n";
    assert!(text.starts_with(expected), "{text}");
    drop(sink);
    // A later run into the same folder keeps both agents.
    let sink = Sink::open(dir.path()).unwrap();
    sink.begin_agent("c", vec!["1.1.1".into()]).unwrap();
    let stored = StoredResults::load(dir.path()).unwrap();
    assert_eq!(stored.agents(), ["a", "b", "c"]);
}

#[test]
fn a_rerun_removes_the_agents_stale_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::open(dir.path()).unwrap();
    for agent in ["a", "b"] {
        sink.begin_agent(agent, vec!["1.1.1".into(), "2.1".into()]).unwrap();
        sink.record(&mut record(agent, "1.1.1", Behavior::Ok, BehaviorClose::Ok)).unwrap();
        sink.record(&mut record(agent, "2.1", Behavior::Ok, BehaviorClose::Ok)).unwrap();
    }
    fs::write(dir.path().join("a_case_2_1.html"), "old page").unwrap();
    sink.begin_agent("a", vec!["1.1.1".into()]).unwrap();
    sink.record(&mut record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok)).unwrap();
    sink.end_agent("a", RunState::Complete, None).unwrap();
    sink.end_agent("b", RunState::Complete, None).unwrap();
    assert!(!dir.path().join("a_case_2_1.json").exists() && !dir.path().join("a_case_2_1.html").exists());
    assert!(dir.path().join("b_case_2_1.json").exists(), "another agent's files are kept");
    let stored = StoredResults::load(dir.path()).unwrap();
    assert_eq!(stored.index["a"].keys().collect::<Vec<_>>(), ["1.1.1"]);
    assert_eq!(stored.problems(), Vec::<String>::new());
}

#[test]
fn an_incomplete_folder_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::open(dir.path()).unwrap();
    sink.begin_agent("a", vec!["1.1.1".into(), "1.1.2".into(), "2.1".into()]).unwrap();
    sink.record(&mut record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok)).unwrap();
    sink.error("a", "1.1.2", "Case 1.1.2", "wsspec panicked").unwrap();
    sink.end_agent("a", RunState::Interrupted, Some("SIGINT".into())).unwrap();
    // A case file index.json does not list, as a crash between the two writes leaves.
    fs::write(dir.path().join("a_case_2_1.json"), "{}").unwrap();
    let problems = StoredResults::load(dir.path()).unwrap().problems();
    assert!(problems[0].contains("interrupted (SIGINT): 1 of 3 cases ran"), "{problems:?}");
    assert!(problems[1].contains("1 selected case has no result: 2.1"), "{problems:?}");
    assert!(problems[2].contains("1.1.2 was not run through wsspec's own fault: wsspec panicked"), "{problems:?}");
    assert!(problems[3].contains("1 case files are not in index.json: a_case_2_1.json"), "{problems:?}");
    assert_eq!(problems.len(), 4);
    let error: CaseError = serde_json::from_slice(&fs::read(dir.path().join("a_case_1_1_2.json")).unwrap()).unwrap();
    assert_eq!(error.error, "wsspec panicked");
    assert!(!StoredResults::load(dir.path()).unwrap().index["a"].contains_key("1.1.2"), "an error is not a result");
}

#[test]
fn an_unwritable_or_unreadable_folder_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    assert!(Sink::open(&file.join("sub")).is_err(), "a folder under a file cannot be made");
    fs::write(dir.path().join("index.json"), "{ not json").unwrap();
    let error = Sink::open(dir.path()).err().unwrap().to_string();
    assert!(error.contains("index.json"), "{error}");
}

#[test]
fn a_records_share_of_the_run_budget_depends_on_the_cases_selected() {
    use crate::budget::{on_disk, BLOCK};
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::open(dir.path()).unwrap();
    let selected: Vec<String> = (1..=600).map(|i| format!("1.1.{i}")).collect();
    sink.begin_agent("a", selected).unwrap();
    // The record and the page a report renders of it, on disk.
    let on_disk_of = |r: &CaseRecord| {
        let written = fs::read(dir.path().join(&r.reportfile)).unwrap();
        on_disk(written.len() as u64) + on_disk(crate::html::case_page_bytes(r) as u64)
    };
    let mut big = record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok);
    let entry = big.wirelog[0].clone();
    big.wirelog = (0..2_000).map(|i| crate::WireEntry { t: i as f64, ..entry.clone() }).collect();
    sink.record(&mut big).unwrap();
    assert!(on_disk_of(&big) <= 4 * BLOCK, "{} bytes on disk", on_disk_of(&big));
    assert!(big.bounds[0].contains("its share"), "{:?}", big.bounds);

    // A record that reached a bound before (a flood) gets a share as any other, and keeps its end.
    let mut flooded = record("a", "1.1.2", Behavior::Failed, BehaviorClose::Unclean);
    flooded.wirelog = (0..4_000).map(|i| crate::WireEntry { t: i as f64, ..entry.clone() }).collect();
    flooded.bounds = vec!["Flood: 100000 events in one case, wsspec's bound; wsspec failed the connection.".into()];
    sink.record(&mut flooded).unwrap();
    assert!(on_disk_of(&flooded) <= 4 * BLOCK, "{} bytes on disk", on_disk_of(&flooded));
    assert!(flooded.bounds[1].contains(&format!("({} bytes)", 4 * BLOCK)), "{:?}", flooded.bounds);
    assert_eq!(flooded.wirelog.last().map(|e| e.t), Some(3_999.0), "the last entry is kept");

    // A run of one case gives it the most a case may take.
    sink.begin_agent("b", vec!["1.1.1".into()]).unwrap();
    let mut alone = record("b", "1.1.1", Behavior::Ok, BehaviorClose::Ok);
    alone.wirelog = (0..200).map(|i| crate::WireEntry { t: i as f64, ..entry.clone() }).collect();
    sink.record(&mut alone).unwrap();
    assert!(alone.bounds.is_empty() && alone.wirelog.len() == 200, "{:?}", alone.bounds);
    assert!(on_disk_of(&alone) > 4 * BLOCK, "{} bytes on disk", on_disk_of(&alone));
}

#[test]
fn two_writers_of_one_folder_keep_each_others_agents() {
    // Two sinks on one folder, as two processes with the same --out: each read-modify-write starts
    // from the files on disk, under the folder lock.
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (Sink::open(dir.path()).unwrap(), Sink::open(dir.path()).unwrap());
    one.begin_agent("a", vec!["1.1.1".into(), "2.1".into()]).unwrap();
    two.begin_agent("b", vec!["1.1.1".into(), "2.1".into()]).unwrap();
    for id in ["1.1.1", "2.1"] {
        assert_eq!(one.record(&mut record("a", id, Behavior::Ok, BehaviorClose::Ok)).unwrap(), Recorded::Result);
        assert_eq!(two.record(&mut record("b", id, Behavior::Ok, BehaviorClose::Ok)).unwrap(), Recorded::Result);
    }
    one.end_agent("a", RunState::Complete, None).unwrap();
    two.end_agent("b", RunState::Complete, None).unwrap();
    let stored = StoredResults::load(dir.path()).unwrap();
    assert_eq!(stored.index.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert!(stored.index.values().all(|cases| cases.len() == 2));
    assert_eq!(stored.run.agents.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(stored.problems(), Vec::<String>::new());
}

#[test]
fn a_case_file_that_cannot_be_written_is_that_cases_error() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::open(dir.path()).unwrap();
    sink.begin_agent("a", vec!["1.1.1".into(), "2.1".into()]).unwrap();
    // A folder where the case file should be: its write fails, the index's does not.
    fs::create_dir(dir.path().join("a_case_1_1_1.json")).unwrap();
    let outcome = sink.record(&mut record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok)).unwrap();
    let Recorded::Error(error) = outcome else { panic!("{outcome:?}") };
    assert!(error.contains("cannot write its case file") && error.contains("a_case_1_1_1.json"), "{error}");
    assert_eq!(sink.record(&mut record("a", "2.1", Behavior::Ok, BehaviorClose::Ok)).unwrap(), Recorded::Result, "the run goes on");
    let stored = StoredResults::load(dir.path()).unwrap();
    assert_eq!(stored.index["a"].keys().collect::<Vec<_>>(), ["2.1"]);
    assert_eq!(stored.run.agents["a"].errors["1.1.1"], error);
}

#[test]
fn orphans_of_any_agent_and_a_malformed_run_file_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::open(dir.path()).unwrap();
    sink.begin_agent("a", vec!["1.1.1".into()]).unwrap();
    sink.record(&mut record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok)).unwrap();
    sink.end_agent("a", RunState::Complete, None).unwrap();
    drop(sink);
    fs::write(dir.path().join("gone_case_1_1_1.json"), "{}").unwrap();
    let problems = StoredResults::load(dir.path()).unwrap().problems();
    assert_eq!(problems, ["1 case files are not in index.json: gone_case_1_1_1.json"]);
    for bad in ["{}", "[]", "nonsense"] {
        fs::write(dir.path().join(RUN_FILE), bad).unwrap();
        let error = StoredResults::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("wsspec-run.json: malformed"), "{bad}: {error}");
        assert!(Sink::open(dir.path()).is_err(), "a run does not overwrite it either");
    }
}

#[test]
fn a_runs_notes_are_kept_per_agent_and_a_file_without_them_loads() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::open(dir.path()).unwrap();
    for agent in ["a", "b"] {
        sink.begin_agent(agent, vec!["1.1.1".into()]).unwrap();
        sink.record(&mut record(agent, "1.1.1", Behavior::Ok, BehaviorClose::Ok)).unwrap();
        sink.end_agent(agent, RunState::Complete, None).unwrap();
    }
    sink.set_notes("b", vec!["the target refused connections intermittently".into()]).unwrap();
    let text = fs::read_to_string(dir.path().join(RUN_FILE)).unwrap();
    assert_eq!(text.matches("\"notes\"").count(), 1, "only an agent with notes has the field: {text}");
    let stored = StoredResults::load(dir.path()).unwrap();
    assert_eq!(stored.run.notes(), ["b: the target refused connections intermittently"]);
    assert!(!fs::read_to_string(dir.path().join("index.json")).unwrap().contains("notes"), "index.json keeps Autobahn's schema");
    sink.begin_agent("b", vec!["1.1.1".into()]).unwrap();
    assert!(StoredResults::load(dir.path()).unwrap().run.notes().is_empty(), "a re-run starts without the earlier run's notes");
    drop(sink);

    // A file written before wsspec recorded notes.
    let older = r#"{"agents": {"a": {"selected": ["1.1.1"], "state": "complete", "errors": {}}}, "sections": {}}"#;
    fs::write(dir.path().join(RUN_FILE), older).unwrap();
    let stored = StoredResults::load(dir.path()).unwrap();
    assert!(stored.run.agents["a"].notes.is_empty() && stored.run.notes().is_empty());
}
