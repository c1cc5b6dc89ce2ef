//! Reports and gating through the `wsspec` command: JUnit, expectations files (expected, unexpected,
//! stale, bad, updated), `wsspec report` re-rendering stored results, and `wsspec diff`.

use std::{fs, path::Path};

use wsspec::peers::faulty::{Defect, FaultyServer};

use crate::support::wsspec;

/// Runs 1.1.1 and 7.9.1 against a server that echoes any close code (7.9.1 fails) into `out`: exit code, stderr.
async fn broken_run(out: &Path, extra: &[&str]) -> (i32, String) {
    let server = FaultyServer::start(Defect::EchoAnyCloseCode).await.unwrap();
    let url = server.url();
    let mut args = vec!["server", &url, "--agent", "broken", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--cases", "1.1.1", "7.9.1"]);
    let (code, _, stderr) = tokio::task::block_in_place(|| wsspec(&args));
    (code, stderr)
}

fn report(dir: &Path, extra: &[&str]) -> (i32, String) {
    let (code, _, stderr) = wsspec(&[&["report", dir.to_str().unwrap()][..], extra].concat());
    (code, stderr)
}

const ACCEPT_7_9: &str =
    "[[expect]]\ncases = \"7.9.*\"\nbehavior = [\"FAILED\"]\nclose = [\"WRONG CODE\"]\nwhy = \"echoes any close code\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn expectations_gate_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let junit = path("junit.xml");

    let (code, stderr) = broken_run(&out, &["--junit", &junit]).await;
    assert_eq!(code, 1, "without expectations a failing case fails the run: {stderr}");
    assert!(stderr.contains("FAILED 7.9.1") && stderr.contains("1 failed"), "{stderr}");
    let xml = fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"7 Close Handling\" tests=\"1\"") && xml.contains("failures=\"1\""), "{xml}");
    assert!(xml.contains("classname=\"broken\""), "{xml}");
    assert!(xml.contains("<failure message=") && xml.contains("expected (any one of):") && xml.contains("observed:"), "{xml}");
    assert!(out.join("index.html").is_file() && out.join("broken_case_7_9_1.html").is_file());
    let record: serde_json::Value = serde_json::from_slice(&fs::read(out.join("broken_case_7_9_1.json")).unwrap()).unwrap();
    let result = record["result"].as_str().unwrap();
    assert_eq!(record["behavior"], "FAILED");
    assert!(!result.contains("(OK)") && result.ends_with('.') && !result.ends_with(".."), "the reason agrees with FAILED: {result}");

    fs::write(path("accept.toml"), ACCEPT_7_9).unwrap();
    let (code, stderr) = broken_run(&out, &["--expect", &path("accept.toml")]).await;
    assert_eq!(code, 0, "the failure is expected: {stderr}");
    assert!(stderr.contains("2 results as expected (1 of them accepted non-passes), 0 unexpected, 0 stale"), "{stderr}");
    assert!(stderr.contains("\n  0 unexpected, 0 stale\n") && !stderr.contains(" failed"), "the agent's count in the gate's words: {stderr}");

    // A stale entry fails the gate (exit 1) but is no failure of the target: the agent's count line
    // says what it counts, as the gate's line does, in a run and in `wsspec report`.
    fs::write(path("stale.toml"), format!("{ACCEPT_7_9}\n[[expect]]\ncases = \"1.1.1\"\nbehavior = [\"FAILED\"]\nwhy = \"fixed since\"\n"))
        .unwrap();
    let (code, stderr) = broken_run(&out, &["--expect", &path("stale.toml")]).await;
    assert_eq!(code, 1, "an expected failure that passes is stale: {stderr}");
    assert!(stderr.contains("\n  0 unexpected, 1 stale\n") && !stderr.contains(" failed"), "{stderr}");
    assert!(stderr.contains("1 result as expected (1 of them accepted non-passes), 0 unexpected, 1 stale"), "{stderr}");
    let (code, stderr) = report(&out, &["--expect", &path("stale.toml")]);
    assert_eq!(code, 1, "an expected failure that passes is stale: {stderr}");
    assert!(stderr.contains("STALE 1.1.1") && stderr.contains("remove or narrow the entry") && stderr.contains("1 stale"), "{stderr}");
    assert!(stderr.contains("\n  0 unexpected, 1 stale\n") && !stderr.contains(" failed"), "report counts as the run does: {stderr}");

    fs::write(path("narrow.toml"), "[[expect]]\ncases = \"7.9.1\"\nbehavior = [\"NON-STRICT\"]\nwhy = \"x\"\n").unwrap();
    let (code, stderr) = report(&out, &["--expect", &path("narrow.toml")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("UNEXPECTED 7.9.1") && stderr.contains("expected behavior NON-STRICT (line 1: x), got FAILED / WRONG CODE"),
        "{stderr}"
    );
    assert!(stderr.contains("\n  1 unexpected, 0 stale\n"), "{stderr}");

    // A pattern some of whose cases pass (1.1.1) is still needed by 7.9.1: not stale, in the run
    // and in `wsspec report`; narrowed to 7.9.1 by --update-expectations.
    let family = "[[expect]]\ncases = [\"1.*\", \"7.*\"]\nbehavior = [\"FAILED\"]\nclose = [\"WRONG CODE\"]\nwhy = \"x\"\n";
    fs::write(path("family.toml"), family).unwrap();
    let (code, stderr) = broken_run(&out, &["--expect", &path("family.toml")]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2 results as expected (1 of them accepted non-passes), 0 unexpected, 0 stale"), "{stderr}");
    assert_eq!(report(&out, &["--expect", &path("family.toml")]).0, 0);
    let (code, stderr) = report(&out, &["--expect", &path("family.toml"), "--update-expectations"]);
    assert_eq!(code, 0, "{stderr}");
    let narrowed = fs::read_to_string(path("family.toml")).unwrap();
    assert!(narrowed.contains("cases = [\"7.9.1\"]") && !narrowed.contains("1.*"), "{narrowed}");

    fs::write(path("bad.toml"), "[[expect]]\ncases = \"7.9.1\"\nbehavior = [\"FAIL\"]\nwhy = \"x\"\n").unwrap();
    let (code, stderr) = report(&out, &["--expect", &path("bad.toml")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bad.toml:3: unknown variant `FAIL`"), "{stderr}");
    let (code, stderr) = broken_run(&out, &["--expect", &path("missing.toml")]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("missing.toml") && !stderr.contains("[1/2]"), "a bad file stops the run before any case: {stderr}");

    let (code, stderr) = report(&out, &["--expect", &path("new.toml"), "--update-expectations"]);
    assert_eq!(code, 0, "{stderr}");
    let written = fs::read_to_string(path("new.toml")).unwrap();
    assert!(written.contains("cases = [\"7.9.1\"]\nbehavior = [\"FAILED\"]\nclose = [\"WRONG CODE\"]"), "{written}");
    let (code, stderr) = report(&out, &["--expect", &path("new.toml")]);
    assert_eq!(code, 0, "the updated file expects this run: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn report_rerenders_stored_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, _) = broken_run(&out, &[]).await;
    assert_eq!(code, 1);
    let (code, _, stderr) = wsspec(&["server", "--out", out.to_str().unwrap(), "--cases", "1.1.1", "7.9.1"]);
    assert_eq!(code, 0, "{stderr}");
    for file in ["index.html", "broken_case_7_9_1.html", "tungstenite_embedded_case_7_9_1.html"] {
        fs::remove_file(out.join(file)).unwrap();
    }
    let junit = dir.path().join("all.xml");
    let (code, stderr) = report(&out, &["--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 1, "broken's 7.9.1 fails: {stderr}");
    assert!(stderr.contains("broken: 2 results") && stderr.contains("tungstenite-embedded: 2 results"), "{stderr}");
    let index = fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(index.matches("<tr class=\"case\"").count(), 2);
    assert!(index.contains(">broken</th>") && index.contains(">tungstenite-embedded</th>"), "both agents in one matrix");
    assert!(out.join("broken_case_7_9_1.html").is_file() && out.join("tungstenite_embedded_case_7_9_1.html").is_file());
    assert_eq!(fs::read_to_string(&junit).unwrap().matches("<testcase ").count(), 4, "a testcase per case and agent");

    let (code, stderr) = report(&dir.path().join("nothing"), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nothing: no such report folder or index.json"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_lists_regressions_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = (dir.path().join("good"), dir.path().join("bad"));
    let (code, _, stderr) = wsspec(&["server", "--agent", "x", "--out", good.to_str().unwrap(), "--cases", "1.1.1", "7.9.1"]);
    assert_eq!(code, 0, "{stderr}");
    broken_run(&bad, &[]).await;

    let (code, stdout, _) = wsspec(&["diff", good.to_str().unwrap(), bad.join("index.json").to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("comparing agent \"x\" (old) with \"broken\" (new)"), "{stdout}");
    assert!(stdout.contains("regressions (1):\n  broken 7.9.1     OK / OK, close 1002 → FAILED / WRONG CODE, close 0"), "{stdout}");
    assert!(stdout.contains("2 results compared: 1 regressions, 0 fixes"), "{stdout}");
    let (code, stdout, _) = wsspec(&["diff", bad.to_str().unwrap(), good.to_str().unwrap()]);
    assert!(code == 1 && stdout.contains("fixes (1):"), "{stdout}");
    let (code, stdout, _) = wsspec(&["diff", good.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    let (code, _, stderr) = wsspec(&["diff", good.to_str().unwrap(), dir.path().join("none").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("none"), "{stderr}");
}

/// A close code that races (the same verdicts, the code present in one run only) is reported but
/// fails the diff only with `--strict`.
#[test]
fn diff_passes_close_code_only_changes_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let index = |name: &str, code: serde_json::Value| {
        let entry = serde_json::json!({"behavior": "OK", "behaviorClose": "OK", "duration": 3, "remoteCloseCode": code, "reportfile": "s_case_9_1_6.json"});
        let path = dir.path().join(name);
        fs::write(&path, serde_json::json!({"s": {"9.1.6": entry, "1.1.1": entry}}).to_string()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (old, new) = (index("old.json", serde_json::json!(1009)), index("new.json", serde_json::Value::Null));
    let (code, stdout, _) = wsspec(&["diff", &old, &new]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("close code changes with the same verdicts (2):\n  s 1.1.1     OK / OK, close 1009 → OK / OK, no close code"), "{stdout}");
    assert!(stdout.contains("0 regressions, 0 fixes, 0 other verdict changes, 2 close code changes"), "{stdout}");
    let (code, _, _) = wsspec(&["diff", "--strict", &old, &new]);
    assert_eq!(code, 1);
}

/// A case whose requirement is in another RFC shows that RFC's reference, not `§RFC 9112 3.2` under RFC 6455.
#[test]
fn references_to_other_rfcs_are_not_prefixed() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = wsspec(&["server", "--out", out.path().to_str().unwrap(), "--cases", "18.2.1", "1.1.1"]);
    assert!(code == 0 || code == 1, "{stderr}");
    let mut pages = String::new();
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "html") {
            pages.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    assert!(pages.contains("RFC 9112 3.2") && pages.contains("§6.2"), "both kinds of reference are shown");
    assert!(!pages.contains("§RFC") && !pages.contains("RFC 6455 RFC"), "no doubled prefix");
}
