//! The `wsspec` command as a user runs it: exit codes 0/1/2, listing, selection, spec files and
//! clear errors for bad input.

use wsspec::peers::faulty::{Defect, FaultyServer};

use crate::support::{self, wsspec};

/// The 301 Autobahn ids of sections 1–7, 9 and 10, from the subsection sizes of its catalogue.
fn autobahn_ids() -> Vec<String> {
    let mut ids = Vec::new();
    let three_level: &[(&str, u32)] = &[
        ("1.1", 8), ("1.2", 8), ("4.1", 5), ("4.2", 5),
        ("6.1", 3), ("6.2", 4), ("6.3", 2), ("6.4", 4), ("6.5", 5), ("6.6", 11), ("6.7", 4), ("6.8", 2),
        ("6.9", 4), ("6.10", 3), ("6.11", 5), ("6.12", 8), ("6.13", 5), ("6.14", 10), ("6.15", 1),
        ("6.16", 3), ("6.17", 5), ("6.18", 5), ("6.19", 5), ("6.20", 7), ("6.21", 8), ("6.22", 34), ("6.23", 7),
        ("7.1", 6), ("7.3", 6), ("7.5", 1), ("7.7", 13), ("7.9", 9), ("7.13", 2),
        ("9.1", 6), ("9.2", 6), ("9.3", 9), ("9.4", 9), ("9.5", 6), ("9.6", 6), ("9.7", 6), ("9.8", 6), ("10.1", 1),
    ];
    for (sub, n) in three_level {
        ids.extend((1..=*n).map(|i| format!("{sub}.{i}")));
    }
    for (section, n) in [("2", 11), ("3", 7), ("5", 20)] {
        ids.extend((1..=n).map(|i| format!("{section}.{i}")));
    }
    ids
}

#[test]
fn list_shows_every_autobahn_id_and_the_new_sections() {
    let (code, stdout, _) = wsspec(&["server", "--list"]);
    assert_eq!(code, 0);
    let listed: Vec<&str> = stdout.lines().filter_map(|l| l.split_whitespace().next()).collect();
    let mut expected = autobahn_ids();
    assert_eq!(expected.len(), 301);
    // 12.1.1 … 12.5.18 and 13.1.1 … 13.7.18: permessage-deflate.
    for (section, subsections) in [(12, 5), (13, 7)] {
        expected.extend((1..=subsections).flat_map(|sub| (1..=18).map(move |n| format!("{section}.{sub}.{n}"))));
    }
    assert_eq!(expected.len(), 517);
    for id in &expected {
        assert!(listed.contains(&id.as_str()), "{id} is missing from --list");
    }
    let autobahn_sections = listed.iter().filter(|id| id.split('.').next().is_some_and(|s| s.parse::<u32>().is_ok_and(|n| n <= 13)));
    assert_eq!(autobahn_sections.count(), 517, "no id beyond Autobahn's in sections 1 to 13");
    for section in ["14.", "15.", "20."] {
        assert!(listed.iter().any(|id| id.starts_with(section)), "section {section}");
    }
}

#[test]
fn selection_follows_autobahn_patterns() {
    let (code, stdout, _) = wsspec(&["server", "--list", "--cases", "6.4.*", "2.1", "--exclude", "6.4.4"]);
    assert_eq!(code, 0);
    let listed: Vec<&str> = stdout.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(listed, ["2.1", "6.4.1", "6.4.2", "6.4.3", "4"], "{stdout}");
}

#[test]
fn the_demo_passes_and_writes_autobahn_reports() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let (code, _, stderr) = wsspec(&["server", "--out", dir, "--cases", "1.*", "7.7.*"]);
    assert_eq!(code, 0, "{stderr}");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("index.json")).unwrap()).unwrap();
    let entry = &index["tungstenite-embedded"]["7.7.3"];
    assert_eq!(entry["behavior"], "OK");
    assert_eq!(entry["remoteCloseCode"], 1002);
    assert_eq!(entry["reportfile"], "tungstenite_embedded_case_7_7_3.json");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("tungstenite_embedded_case_7_7_3.json")).unwrap()).unwrap();
    assert!(record["httpRequest"].as_str().unwrap().starts_with("GET / HTTP/1.1"));
    assert!(record["wirelog"].as_array().unwrap().len() > 3);
    assert!(stderr.contains("0 failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_target_exits_1_and_names_the_cases() {
    let server = FaultyServer::start(Defect::AcceptRsv).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let (url, dir) = (server.url(), out.path().to_str().unwrap().to_string());
    let (code, _, stderr) =
        tokio::task::spawn_blocking(move || wsspec(&["server", &url, "--agent", "broken", "--out", &dir, "--cases", "3.1"]))
            .await
            .unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("FAILED 3.1"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spec_file_drives_the_run() {
    let server = FaultyServer::start(Defect::NoPong).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let spec = serde_json::json!({
        "outdir": out.path().join("r"),
        "servers": [{"agent": "NoPong/1.0", "url": server.url()}],
        "cases": ["2.*"],
        "exclude-cases": ["2.11"],
        "exclude-agent-cases": {"NoPong*": ["2.10"]},
        "options": {"failByDrop": false}
    });
    let path = out.path().join("fuzzingclient.json");
    std::fs::write(&path, spec.to_string()).unwrap();
    let path = path.to_str().unwrap().to_string();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || wsspec(&["server", "--spec", &path])).await.unwrap();
    assert_eq!(code, 1, "{stderr}");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("r/index.json")).unwrap()).unwrap();
    let cases = index["NoPong/1.0"].as_object().unwrap();
    assert_eq!(cases.len(), 9, "2.1–2.9: 2.11 excluded for all, 2.10 for this agent");
    assert_eq!(cases["2.1"]["behavior"], "FAILED");
    assert!(out.path().join("r/nopong_1_0_case_2_1.json").exists());
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = wsspec(&["server", "ws://127.0.0.1:1/", "--cases", "1.1.1", "--out", out.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot reach the target ws://127.0.0.1:1/"), "{stderr}");

    // One line, before any note, and no report folder made (the default one, in the working directory).
    let cwd = tempfile::tempdir().unwrap();
    for args in [&["server", "http://example.org/"][..], &["server", "http://example.org/", "--http2"], &["server", "ws://h:1/#f"]] {
        let (code, _, stderr) = support::wsspec_in(cwd.path(), args);
        assert_eq!(code, 2, "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("scheme `http`") || stderr.contains("has a fragment"), "{stderr}");
        assert!(!cwd.path().join("reports").exists(), "{args:?} made the default report folder");
    }

    let (code, _, stderr) = wsspec(&["server", "--list", "--cases", "99.1"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no case has the id `99.1`"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("01-x.toml"), "[section]\nid = \"1\"\ntitle = \"x\"\n[[case]]\nid = \"1.1\"\ntitle = \"t\"\n").unwrap();
    let (code, _, stderr) = wsspec(&["server", "--list", "--catalog", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("01-x.toml: case 1.1") && stderr.contains("missing field `rfc`"), "{stderr}");

    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, "{\"servers\": []}").unwrap();
    let (code, _, stderr) = wsspec(&["server", "--spec", spec.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("spec.json"), "{stderr}");
}

/// `wsspec client --exec`: wsspec spawns the client, and the exit code is the verdict.
#[test]
fn client_exec_is_a_ci_gate() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let driver = format!("{} reference-client {{url}} --agent {{agent}}", env!("CARGO_BIN_EXE_wsspec"));
    let (code, _, stderr) = wsspec(&["client", "--exec", &driver, "--agent", "tung", "--out", dir, "--cases", "1.1.*", "16.*"]);
    assert_eq!(code, 0, "{stderr}");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(index["tung"].as_object().unwrap().len(), 17);
    assert!(out.path().join("tung_client.log").exists(), "the client's output is kept");

    // A client that never connects leaves every case without a result, and is a broken setup
    // rather than a conformance failure: exit 2, naming the command and how it ended; its cases
    // are not run (not missing: no verdict on the client).
    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = wsspec(&["client", "--exec", "false", "--out", empty.path().to_str().unwrap(), "--cases", "1.1.*"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("  stopped: 0 of 8 cases ran; 8 not run: the client under test never connected") && !stderr.contains("MISSING"), "{stderr}");
    assert_eq!(stderr.lines().last(), Some("wsspec: the client under test never connected: `false` exited with 1"), "{stderr}");

    // With `{case}` the command runs once per case number.
    let calls = empty.path().join("calls");
    let per_case = format!("echo {{case}} >> {}", calls.display());
    let (code, _, stderr) = wsspec(&["client", "--exec", &per_case, "--out", dir, "--cases", "1.1.1", "1.1.2"]);
    assert_eq!(code, 2, "no case was run: {stderr}");
    assert!(stderr.contains("never connected: `echo {case} >> "), "{stderr}");
    assert_eq!(std::fs::read_to_string(&calls).unwrap(), "1\n2\n");

    // A command that cannot be run at all is a run that could not be done.
    let (code, _, stderr) = wsspec(&["client", "--exec", "no-such-driver-xyz {url}", "--out", dir, "--cases", "1.1.1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot run `no-such-driver-xyz"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_exec_catches_a_broken_client() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let upstream = format!("127.0.0.1:{port}").parse().unwrap();
    let proxy = wsspec::peers::faulty::DefectProxy::start(upstream, Defect::ClientAcceptsMasked).await.unwrap();
    let driver = format!("{} reference-client {} --agent {{agent}}", env!("CARGO_BIN_EXE_wsspec"), proxy.url());
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();
    let listen = format!("127.0.0.1:{port}");
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        wsspec(&["client", "--listen", &listen, "--exec", &driver, "--agent", "broken", "--out", &dir, "--cases", "16.2.*"])
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("FAILED 16.2.1"), "{stderr}");
}

/// A typo in one pattern must not quietly shrink a run: every pattern of `--cases`, `--exclude` and
/// a spec file must select a case for the role, or the run exits 2 naming it.
#[test]
fn every_pattern_must_select_a_case() {
    let refused = |args: &[&str], needle: &str| {
        let (code, stdout, stderr) = wsspec(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    };
    refused(&["server", "--list", "--cases", "11.*", "1.1.1"], "the case pattern `11.*` selects no case (sections: 1, 2, 3");
    refused(&["server", "--list", "--cases", "1.1.1", "--exclude", "99.*"], "the exclude pattern `99.*` matches no case");
    refused(&["server", "--list", "--cases", "1.1.1", "16.*"], "the case pattern `16.*` selects only cases for clients (`wsspec client`)");
    refused(&["client", "--list", "--cases", "14.*"], "the case pattern `14.*` selects only cases for servers");
    refused(&["client", "--list", "--exclude", "3.*", "99.1"], "no case has the id `99.1`");
    refused(&["client", "--list", "--cases", "20.*"], "the case pattern `20.*` selects only cases for servers");
    refused(&["server", "--list", "--cases", "6.4"], "no case has the id `6.4` (use `*` for patterns, e.g. `6.4.*`)");
    refused(&["server", "--list", "--cases", "1.1.1", "--exclude", "1.1.1"], "the exclude patterns leave no case to run");
    refused(&["server", "--list", "--cases", "2.1", "1.1.1", "--exclude", "1.*"], "the case pattern `1.1.1` selects only cases that the exclude patterns leave out");

    // Autobahn spec files commonly exclude its permessage-deflate sections: fine in both modes.
    let (code, stdout, stderr) = wsspec(&["server", "--list", "--cases", "1.1.*", "--exclude", "1.1.8", "12.*", "13.*"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.ends_with("7 cases\n"), "{stdout}");
    let (code, stdout, stderr) = wsspec(&["client", "--list", "--cases", "1.1.*", "--exclude", "12.*", "13.*"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.ends_with("8 cases\n"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, spec: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, spec.to_string()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let server = |extra: serde_json::Value| {
        let mut spec = serde_json::json!({"servers": [{"agent": "a", "url": "ws://127.0.0.1:1"}], "cases": ["1.1.1"]});
        spec.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        spec
    };
    let path = write("typo.json", server(serde_json::json!({"cases": ["1.1.1", "11.*"]})));
    refused(&["server", "--spec", &path], "typo.json: `cases`: the case pattern `11.*` selects no case");
    let path = write("exclude.json", server(serde_json::json!({"exclude-cases": ["12.*", "7.77"]})));
    refused(&["server", "--spec", &path], "exclude.json: `exclude-cases`: no case has the id `7.77`");
    let path = write("agent.json", server(serde_json::json!({"exclude-agent-cases": {"a": ["9.*.x"]}})));
    refused(&["server", "--spec", &path], "agent.json: `exclude-agent-cases.a`: the exclude pattern `9.*.x` matches no case");
    let path = write("fuzzingserver.json", serde_json::json!({"url": "ws://127.0.0.1:0", "cases": ["*"], "exclude-cases": ["99.*"]}));
    refused(&["client", "--spec", &path], "fuzzingserver.json: `exclude-cases`: the exclude pattern `99.*` matches no case");
}

/// `--cases` takes every value after it; a URL among them is the URL, not a pattern.
#[tokio::test(flavor = "multi_thread")]
async fn a_url_after_cases_is_the_url() {
    let server = wsspec::peers::reference_server::ReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let (url, dir) = (server.url(), out.path().to_str().unwrap().to_string());
    let (code, _, stderr) =
        tokio::task::spawn_blocking(move || wsspec(&["server", "--out", &dir, "--cases", "1.1.1", &url, "--exclude", "1.1.2"]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(index["UnknownServer"].as_object().unwrap().keys().collect::<Vec<_>>(), ["1.1.1"]);

    let (code, _, stderr) = wsspec(&["server", "ws://127.0.0.1:1/", "--cases", "1.1.1", "ws://127.0.0.1:2/"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("more than one URL (`ws://127.0.0.1:1/`, `ws://127.0.0.1:2/`)"), "{stderr}");
    let (code, _, stderr) = wsspec(&["client", "--list", "--cases", "1.1.1", "ws://127.0.0.1:1/"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("`ws://127.0.0.1:1/` is a URL, not a case pattern") && !stderr.contains(".*"), "{stderr}");
}

/// Every command's help gives its exit codes; the options say what they default to.
#[test]
fn help_gives_exit_codes_and_defaults() {
    for command in ["server", "client", "fuzz", "fuzz-seeds", "reference-client", "reference-server", "report", "diff"] {
        let (code, stdout, _) = wsspec(&[command, "--help"]);
        assert_eq!(code, 0);
        assert!(stdout.contains("Exit codes: 0 "), "{command} --help: {stdout}");
    }
    let (_, stdout, _) = wsspec(&["server", "--help"]);
    assert!(stdout.contains("`*` matches any text") && stdout.contains("default: 4 per core"), "{stdout}");
    let (_, stdout, _) = wsspec(&["diff", "--help"]);
    assert!(stdout.contains("<OLD>  The earlier results") && stdout.contains("--strict"), "{stdout}");
}

/// One exclude list serves both modes, as Autobahn's do; a spec's empty `cases` and an agent pattern
/// naming no server are treated as Autobahn treats them (nothing selected: exit 2; ignored: a warning).
#[test]
fn autobahn_spec_files_migrate_unchanged() {
    let (code, stdout, stderr) = wsspec(&["server", "--list", "--cases", "1.1.*", "--exclude", "16.*", "19.*", "1.1.8"]);
    assert_eq!((code, stdout.lines().last()), (0, Some("7 cases")), "{stderr}");
    let (code, stdout, stderr) = wsspec(&["client", "--list", "--cases", "1.1.1", "--exclude", "14.*", "18.*"]);
    assert_eq!((code, stdout.lines().last()), (0, Some("1 case")), "{stderr}");
    let (code, _, stderr) = wsspec(&["client", "--list", "--exclude", "99.*"]);
    assert_eq!(code, 2, "a pattern matching nothing in the whole catalog: {stderr}");

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, spec: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, spec.to_string()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let one_line = |args: &[&str], needle: &str| {
        let (code, stdout, stderr) = wsspec(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(needle) && stderr.lines().count() == 1, "{args:?}: {stderr}");
    };
    let both = serde_json::json!({"servers": [{"agent": "a", "url": "ws://127.0.0.1:1"}], "cases": ["1.1.1"], "exclude-cases": ["16.*"], "exclude-agent-cases": {"b*": ["1.1.1"]}});
    let path = write("both.json", both);
    let (code, stdout, stderr) = wsspec(&["server", "--spec", &path, "--list"]);
    assert_eq!((code, stdout.lines().last()), (0, Some("1 case")), "{stderr}");
    assert!(stderr.contains("warning") && stderr.contains("the agent pattern `b*` matches no server (agents: a;"), "{stderr}");

    let path = write("empty.json", serde_json::json!({"url": "ws://127.0.0.1:0", "cases": []}));
    one_line(&["client", "--spec", &path, "--list"], "empty.json: `cases` is empty, so it selects no case");
    let path = write("twice.json", serde_json::json!({"servers": [{"agent": "x", "url": "ws://127.0.0.1:1"}, {"agent": "x", "url": "ws://127.0.0.1:2"}], "cases": ["*"]}));
    one_line(&["server", "--spec", &path], "twice.json: `servers`: entry 2 has the agent name `x` of an earlier entry");
    let path = write("m.json", serde_json::json!({"servers": [{"url": "ws://127.0.0.1:1"}], "cases": ["1.1.*"]}));
    one_line(&["server", "--spec", &path, "--cases", "2.1", "--list"], "the spec file's `cases` and --cases have no case in common");
}

/// Input that is not a small regular file, or a number out of range, is one line and exit 2.
#[test]
fn odd_input_files_and_numbers_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let one_line = |args: &[&str], needle: &str| {
        let (code, stdout, stderr) = wsspec(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        // One line besides notes (such as the one on section 22 needing --http2).
        let lines = stderr.lines().filter(|l| !l.starts_with("wsspec: note:")).count();
        assert!(stderr.contains(needle) && lines == 1, "{args:?}: {stderr}");
    };
    one_line(&["server", "--spec", "/dev/zero"], "/dev/zero: not a regular file");
    one_line(&["server", "--list", "--expect", "/dev/zero"], "/dev/zero: not a regular file");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    one_line(&["client", "--spec", link.to_str().unwrap()], "a symbolic link");
    one_line(&["server", "--list", "--timeout-scale", "1e20"], "--timeout-scale 100000000000000000000 must be from 0.01 to 100");
    one_line(&["client", "--list", "--timeout-scale", "1e20"], "must be from 0.01 to 100");
    one_line(&["server", "--list", "--junit", dir.path().to_str().unwrap()], "is a folder, not a file");

    let (code, stdout, _) = wsspec(&["server", "--list", "--cases", "18.2.*"]);
    assert_eq!(code, 0);
    assert!(stdout.contains(" RFC 9112 3.2 ") && !stdout.contains("§RFC"), "{stdout}");
}

/// `wsspec diff a b | head`: a reader that went away ends the command quietly, with exit 0.
#[test]
fn a_closed_stdout_is_not_a_crash() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    assert_eq!(wsspec(&["server", "--out", dir, "--cases", "1.1.1"]).0, 0);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["diff", dir, dir])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Progress goes to stderr; a closed stderr (`2>&1 | head -2`) neither stops the run nor crashes it:
/// every case runs, the reports are complete, and the exit code is the verdicts'.
#[test]
fn a_closed_stderr_is_not_a_crash() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["server", "--out", dir, "--cases", "1.*", "2.*"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let (code, _, stderr) = wsspec(&["report", dir]);
    assert_eq!(code, 0, "the run finished and its reports are whole: {stderr}");
}

/// Several servers in a spec: one unreachable is recorded as not run, the others run and are
/// reported, and the run exits 2 naming it. `--out` wins over the spec's `outdir`.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_does_not_stop_the_others() {
    let server = wsspec::peers::reference_server::ReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let spec = serde_json::json!({
        "outdir": out.path().join("outdir"),
        "servers": [{"agent": "down", "url": "ws://127.0.0.1:1"}, {"agent": "up", "url": server.url()}],
        "cases": ["1.1.1", "1.1.2"],
    });
    let path = out.path().join("fuzzingclient.json");
    std::fs::write(&path, spec.to_string()).unwrap();
    let (path, dir) = (path.to_str().unwrap().to_string(), out.path().join("flag").to_str().unwrap().to_string());
    let (code, _, stderr) = tokio::task::spawn_blocking(move || wsspec(&["server", "--spec", &path, "--out", &dir])).await.unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("reports go to") && stderr.contains("(--out), not to the spec file's outdir"), "{stderr}");
    assert!(stderr.contains("could not reach down (ws://127.0.0.1:1)"), "{stderr}");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("flag/index.json")).unwrap()).unwrap();
    assert_eq!(index["up"].as_object().unwrap().len(), 2, "{index}");
    assert!(out.path().join("flag/index.html").exists());
    assert!(!out.path().join("outdir").exists());
}

/// Runs `wsspec` as CI would, killing it after `seconds` (then the code is `None`): a refusal that
/// regresses into serving forever fails the test instead of hanging it.
fn bounded(args: &[&str], seconds: u64) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .env("CI", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wsspec starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().expect("wait").is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("wsspec ends");
    let code = output.status.code();
    (code, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// `wsspec client --spec fuzzingclient.json` (servers to test) is the wrong mode: one line, exit 2,
/// naming the command that takes it, as `server --spec fuzzingserver.json` is refused.
#[test]
fn a_fuzzingclient_spec_given_to_client_mode_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzzingclient.json");
    std::fs::write(&path, serde_json::json!({"servers": [{"agent": "a", "url": "ws://127.0.0.1:1"}], "cases": ["1.1.1"]}).to_string()).unwrap();
    let (code, stderr) = bounded(&["client", "--spec", path.to_str().unwrap(), "--listen", "127.0.0.1:0", "--out", dir.path().to_str().unwrap()], 20);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("fuzzingclient.json: has `servers`, so it is a fuzzingclient spec") && stderr.contains("`wsspec server --spec` takes it"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
