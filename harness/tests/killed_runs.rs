//! Runs stopped by a signal or killed outright, through the CLI: the exit code and the summary say
//! what a signal did, and no file a CI gate reads (the `--junit` file, `index.html`, `index.json`)
//! reads as passed after a run that did not finish, whenever it was killed.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use crate::support::{self, wsspec};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A SIGINT once every case has started, the last ending within the grace period: nothing is cut
/// short, so the results are complete and gate as such, but the run was asked to stop: one line
/// says so, and it exits 3 as an interrupted run does.
#[test]
fn a_signal_after_every_case_started_is_said_and_ends_the_run_as_interrupted() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    // 6.4.3 writes its frame in three parts 0.5 s apart (pauses scaled by 0.5); it starts as
    // soon as 1.1.1 ends, and the signal comes 0.2 s into it, well within the 2 s grace.
    // An expectations file it is asked to update stays as it was: the run was asked to stop.
    let expect = out.path().join("expected.toml");
    std::fs::write(&expect, "").unwrap();
    let expect_arg = expect.to_str().unwrap();
    let args = ["server", "--out", dir, "--jobs", "1", "--timeout-scale", "0.5", "--cases", "1.1.1", "6.4.3", "--expect", expect_arg, "--update-expectations"];
    let (code, stderr) = support::interrupted_when(&args, |line| line.starts_with("[1/2]"), Duration::from_millis(200));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("[2/2] 6.4.3"), "the case in flight ran to its end: {stderr}");
    assert!(
        stderr.contains("interrupted: SIGINT received after every case had started, and they all ended within the grace period; nothing was cut short"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("SIGINT").count(), 1, "one line: {stderr}");
    assert!(stderr.contains("left unchanged"), "{stderr}");
    assert_eq!(read(&expect), "", "{stderr}");
    let (code, _, stderr) = wsspec(&["report", dir]);
    assert_eq!(code, 0, "the results themselves are complete: {stderr}");
}

/// Runs `args`, kills it with SIGKILL `after` its first line on stderr, and waits for it.
fn killed(args: &[&str], after: Duration) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsspec")).args(args).env("CI", "1").stderr(Stdio::piped()).spawn().expect("wsspec starts");
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut first).unwrap();
    std::thread::sleep(after);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A passing run writes its JUnit file and report; the same command killed (`kill -9`) at any
/// moment of its next run leaves a JUnit file with an error saying it did not finish, an
/// `index.html` saying so, no earlier result in `index.json`, and a folder `wsspec report` fails.
#[test]
fn a_run_killed_at_any_moment_leaves_nothing_that_reads_as_passed() {
    for after in [0, 300, 1_500, 3_000] {
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().to_str().unwrap();
        let junit = out.path().join("junit.xml");
        let junit = junit.to_str().unwrap();
        let (code, _, stderr) = wsspec(&["server", "--out", dir, "--junit", junit, "--cases", "1.1.1"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(read(&out.path().join("junit.xml")).contains("errors=\"0\""));

        killed(&["server", "--out", dir, "--junit", junit, "--jobs", "1", "--cases", "6.4.*"], Duration::from_millis(after));
        let xml = read(&out.path().join("junit.xml"));
        let report = quick_junit::Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("killed after {after} ms: not JUnit: {e}\n{xml}"));
        assert_eq!((report.tests, report.errors), (1, 1), "killed after {after} ms: {xml}");
        assert!(xml.contains("the run did not finish"), "{xml}");
        let index = read(&out.path().join("index.html"));
        assert!(index.contains("the run did not finish") && !index.contains("1.1.1"), "killed after {after} ms: {index}");
        let results: serde_json::Value = serde_json::from_str(&read(&out.path().join("index.json"))).unwrap();
        let kept = results.get("tungstenite-embedded").and_then(|cases| cases.get("1.1.1"));
        assert!(kept.is_none(), "killed after {after} ms: the earlier run's result is gone: {results}");
        let (code, _, stderr) = wsspec(&["report", dir]);
        assert_eq!(code, 2, "killed after {after} ms: {stderr}");
    }
}

/// Interrupted as soon as it speaks (before its first case, or just after it started): the JUnit
/// file and the report list the cases not run as such, never an earlier run's results.
#[test]
fn an_interrupt_before_the_first_case_leaves_reports_that_say_so() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let junit = out.path().join("junit.xml");
    let junit = junit.to_str().unwrap();
    assert_eq!(wsspec(&["server", "--out", dir, "--junit", junit, "--cases", "1.1.1"]).0, 0);
    let args = ["server", "--out", dir, "--junit", junit, "--jobs", "1", "--cases", "6.4.*"];
    let (code, stderr) = support::interrupted(&args, Duration::ZERO);
    assert_eq!(code, Some(3), "{stderr}");
    let xml = read(&out.path().join("junit.xml"));
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert!(report.errors >= 3 && !xml.contains("1.1.1"), "the cases not run are errors, the earlier run is gone: {xml}");
    let index = read(&out.path().join("index.html"));
    assert!(index.contains("INCOMPLETE: the run of tungstenite-embedded did not complete: interrupted: SIGINT received"), "{index}");
}
