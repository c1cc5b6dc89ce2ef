//! What a report folder must be for `wsspec report`, `wsspec diff` and `--update-expectations` to
//! trust it: runs into one folder at once keep each other's agents, and orphan case files, case
//! files that disagree with `index.json`, a malformed `wsspec-run.json` and an unfinished run are
//! exit 2. Also the case-file bounds on what a case may send, and runs against a target that dies or
//! a machine short of file descriptors.

use std::{fs, path::Path, process::Command};

use tokio::net::TcpListener;
use wsspec::peers::reference_server::ReferenceServer;

use crate::support::{self, wsspec};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// A complete folder of one agent `a` and two cases, run against the embedded server.
fn stored_run(out: &Path) {
    let (code, _, stderr) = wsspec(&["server", "--agent", "a", "--out", out.to_str().unwrap(), "--cases", "1.1.1", "1.1.2"]);
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_runs_into_one_folder_keep_each_others_agents() {
    let server = ReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();
    let agents = ["A", "B", "C"];
    let runs: Vec<_> = agents
        .iter()
        .map(|agent| {
            let args = ["server", &server.url(), "--agent", agent, "--out", &dir, "--cases", "1.*", "2.*", "3.*"].map(String::from);
            tokio::task::spawn_blocking(move || wsspec(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        })
        .collect();
    for run in runs {
        let (code, _, stderr) = run.await.unwrap();
        assert_eq!(code, 0, "{stderr}");
    }
    let index = json(&out.path().join("index.json"));
    let run = json(&out.path().join("wsspec-run.json"));
    for agent in agents {
        let selected = run["agents"][agent]["selected"].as_array().unwrap_or_else(|| panic!("{agent} kept in wsspec-run.json")).len();
        assert_eq!(index[agent].as_object().unwrap_or_else(|| panic!("{agent} kept in index.json")).len(), selected, "{agent}");
        assert_eq!(run["agents"][agent]["state"], "complete");
    }
    let (code, _, stderr) = wsspec(&["report", &dir]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn orphan_case_files_and_disagreeing_verdicts_fail_report() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    stored_run(out.path());
    // A case file of an agent neither index.json nor wsspec-run.json knows (a lost run's).
    let record = fs::read(out.path().join("a_case_1_1_1.json")).unwrap();
    fs::write(out.path().join("lost_case_1_1_1.json"), &record).unwrap();
    let (code, _, stderr) = wsspec(&["report", dir]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("1 case files are not in index.json: lost_case_1_1_1.json"), "{stderr}");
    fs::remove_file(out.path().join("lost_case_1_1_1.json")).unwrap();
    assert_eq!(wsspec(&["report", dir]).0, 0);

    // index.json says FAILED where the case file says OK.
    let index_path = out.path().join("index.json");
    let mut index = json(&index_path);
    index["a"]["1.1.2"]["behavior"] = "FAILED".into();
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    let (code, _, stderr) = wsspec(&["report", dir]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("a: 1.1.2: its case file a_case_1_1_2.json says OK / OK but index.json says FAILED / OK"), "{stderr}");
}

#[test]
fn a_malformed_run_file_fails_report_and_a_missing_one_is_noted() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    stored_run(out.path());
    let run_file = out.path().join("wsspec-run.json");
    for bad in ["garbage", "{}", r#"{"agents": []}"#, r#"{"agents": {"a": {"selected": 3}}}"#] {
        fs::write(&run_file, bad).unwrap();
        let (code, _, stderr) = wsspec(&["report", dir]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains("wsspec-run.json: malformed"), "{bad}: {stderr}");
    }
    fs::remove_file(&run_file).unwrap();
    let (code, _, stderr) = wsspec(&["report", dir]);
    assert_eq!(code, 0, "an Autobahn folder has none: {stderr}");
    assert!(stderr.contains("has no wsspec-run.json: cannot tell whether its runs finished"), "{stderr}");
}

#[test]
fn diff_refuses_an_unfinished_run() {
    let root = tempfile::tempdir().unwrap();
    let (old, new) = (root.path().join("old"), root.path().join("new"));
    stored_run(&old);
    stored_run(&new);
    let (old_dir, new_dir) = (old.to_str().unwrap(), new.to_str().unwrap());
    assert_eq!(wsspec(&["diff", old_dir, new_dir]).0, 0);
    let run_path = new.join("wsspec-run.json");
    let mut run = json(&run_path);
    run["agents"]["a"]["state"] = "interrupted".into();
    fs::write(&run_path, serde_json::to_vec(&run).unwrap()).unwrap();
    for (a, b) in [(old_dir, new_dir), (new_dir, old_dir)] {
        let (code, _, stderr) = wsspec(&["diff", a, b]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("INCOMPLETE") && stderr.contains("the run is interrupted"), "{stderr}");
    }
}

#[test]
fn update_expectations_leaves_the_file_after_an_interrupted_run() {
    let out = tempfile::tempdir().unwrap();
    let expect = out.path().join("expect.toml");
    let original = "[[expect]]\ncases = \"9.*\"\nbehavior = [\"FAILED\"]\nwhy = \"kept\"\n";
    fs::write(&expect, original).unwrap();
    let report = out.path().join("r");
    let args = ["server", "--out", report.to_str().unwrap(), "--jobs", "1", "--expect", expect.to_str().unwrap(), "--update-expectations"];
    let (code, stderr) = support::interrupted(&args, std::time::Duration::from_millis(1500));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("left unchanged: the run is interrupted or incomplete"), "{stderr}");
    assert_eq!(fs::read_to_string(&expect).unwrap(), original);
}

/// A one-case catalog whose only step is `step`.
fn catalog_with_step(dir: &Path, step: &str) {
    let text = format!(
        "[section]\nid = \"1\"\ntitle = \"F\"\n\n[[case]]\nid = \"1.1.1\"\ntitle = \"t\"\nrfc = \"5.6\"\nlevel = \"MUST\"\n\
         requirement = \"r\"\nsteps = [{step}]\nexpect = [{{ events = [] }}]\n"
    );
    fs::write(dir.join("01-x.toml"), text).unwrap();
}

#[test]
fn what_a_case_sends_and_its_split_pauses_are_bounded_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (r#"{ frame = { opcode = "text", payload = { random = 67108864, seed = 1 } }, repeat = 100000 }"#, "steps[0]", "268435456 bytes"),
        (r#"{ frame = { opcode = "text", payload = { len = 1048576, pattern = "x" } }, repeat = 300 }"#, "steps[0]", "268435456 bytes"),
        (r#"{ frame = { opcode = "text", payload = "a" }, split = [{ at = 0, pause = 1e300 }] }"#, "steps[0].split[0].pause", "1e300"),
        (r#"{ frame = { opcode = "text", payload = "ab" }, split = [{ at = 1, pause = -1.0 }] }"#, "steps[0].split[0].pause", "-1"),
    ];
    for (step, field, what) in cases {
        catalog_with_step(dir.path(), step);
        let (code, _, stderr) = wsspec(&["server", "--catalog", dir.path().to_str().unwrap(), "--list"]);
        assert_eq!(code, 2, "{step}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        for part in ["01-x.toml", "case 1.1.1", field, what] {
            assert!(stderr.contains(part), "{part:?} in {stderr}");
        }
    }
    catalog_with_step(dir.path(), r#"{ frame = { opcode = "text", payload = { len = 1048576, pattern = "x" } }, repeat = 200 }"#);
    assert_eq!(wsspec(&["server", "--catalog", dir.path().to_str().unwrap(), "--list"]).0, 0, "200 MiB is within the bound");
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_cases_against_a_dead_server_are_not_run_not_failed() {
    // A target that answers the reachability probe, then is gone: every case's connect is refused.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let gone = tokio::spawn(async move {
        let _ = listener.accept().await;
    });
    let out = tempfile::tempdir().unwrap();
    let args = ["server", &url, "--out", out.path().to_str().unwrap(), "--cases", "18.*"].map(String::from);
    let (code, _, stderr) = tokio::task::spawn_blocking(move || wsspec(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap();
    gone.await.unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("stopped opening WebSockets") && stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("FAILED 18."), "no handshake verdict without a connection: {stderr}");
    let index = json(&out.path().join("index.json"));
    assert!(index["UnknownServer"].as_object().is_none_or(|cases| cases.is_empty()), "{index}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_short_of_file_descriptors_keeps_its_results() {
    let server = ReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let script = format!(
        "ulimit -n 40 && exec {} server {} --out {} --jobs 32 --cases '1.*' '2.*' '3.*' '5.*' '7.*'",
        env!("CARGO_BIN_EXE_wsspec"),
        server.url(),
        out.path().display()
    );
    let output = tokio::task::spawn_blocking(move || Command::new("sh").args(["-c", &script]).env("CI", "1").output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("cases at a time, not 32: the open-file limit (ulimit -n) is 40"), "{stderr}");
    let index = json(&out.path().join("index.json"));
    let run = json(&out.path().join("wsspec-run.json"));
    let selected = run["agents"]["UnknownServer"]["selected"].as_array().unwrap().len();
    assert_eq!(index["UnknownServer"].as_object().unwrap().len(), selected, "every result is kept");
}
