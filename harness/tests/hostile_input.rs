//! Hostile input outside a case's session: case files that ask for too much, report folders wsspec
//! did not write (links, FIFOs, devices), agent names chosen by an adversary, a target that crashes
//! mid-echo, and descriptor exhaustion in client mode. Built on `hostile_peer::Peer`, a scriptable
//! in-process target, and the `wsspec` command; each test checks the exit code, the one line that
//! explains it, the files written and that it ends within its bound.

use std::{
    fs,
    net::TcpStream as StdTcpStream,
    os::unix::fs::symlink,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use wsspec::{
    engine::{judge, run_case, RunOptions, Target},
    frame::OpCode,
};
use wsspec_reports::Behavior;

use crate::{
    hostile_peer::{frame, Act, Peer},
    support::{self, wsspec},
};

/// Runs one case of the embedded catalog against `url`; its verdict and reason, within `bound`.
async fn verdict(id: &str, url: &str, bound: Duration) -> (Behavior, String) {
    let case = support::catalog().case(id).unwrap().clone();
    let started = Instant::now();
    let obs = run_case(&case, &Target::parse(url).unwrap(), &RunOptions::default()).await;
    assert!(started.elapsed() < bound, "{id} took {:?}", started.elapsed());
    let verdict = judge(&case, &obs);
    (verdict.behavior, format!("{} / {}", verdict.result, verdict.result_close))
}

// 9.1.1 sends one text frame of 65,536 bytes: 4 header bytes (masked: 4 more) and the payload.
const MESSAGE_9_1_1: usize = 65536 + 14;

#[tokio::test]
async fn a_crash_mid_echo_is_not_a_size_refusal() {
    let crash = Peer::start(vec![Act::Read(MESSAGE_9_1_1), Act::Send(vec![frame(OpCode::Text, false, &[b'B'; 100])]), Act::Drop]).await;
    let (behavior, reason) = verdict("9.1.1", &crash.url, Duration::from_secs(15)).await;
    assert_eq!(behavior, Behavior::Failed, "{reason}");
    assert!(reason.contains("after sending part of a message"), "{reason}");
    // The same inside one frame: the echo's header and its first 100 bytes, then the drop.
    let cut = Act::Cut(frame(OpCode::Text, true, &[b'B'; 65_536]), 10 + 100);
    let crash = Peer::start(vec![Act::Read(MESSAGE_9_1_1), cut, Act::Drop]).await;
    let (behavior, reason) = verdict("9.1.1", &crash.url, Duration::from_secs(15)).await;
    assert_eq!(behavior, Behavior::Failed, "{reason}");
    assert!(reason.contains("after sending part of a message"), "{reason}");

    // Dropping without echoing anything, or closing with 1009, is still a refusal.
    let refuse = Peer::start(vec![Act::Read(MESSAGE_9_1_1), Act::Drop]).await;
    assert_eq!(verdict("9.1.1", &refuse.url, Duration::from_secs(15)).await.0, Behavior::Informational);
    let too_big = Peer::start(vec![Act::Read(1), Act::Send(vec![frame(OpCode::Close, true, &1009u16.to_be_bytes())]), Act::Drop]).await;
    assert_eq!(verdict("9.1.1", &too_big.url, Duration::from_secs(15)).await.0, Behavior::Informational);
}

/// A folder with one case file whose `payload` is `payload`.
fn catalog_with(dir: &Path, payload: &str) {
    let text = format!(
        r#"[section]
id = "1"
title = "Framing"

[[case]]
id = "1.1.1"
title = "t"
rfc = "5.6"
level = "MUST"
requirement = "r"
steps = [{{ frame = {{ opcode = "text", payload = {payload} }} }}]
expect = [{{ events = [] }}]
"#
    );
    fs::write(dir.join("01-x.toml"), text).unwrap();
}

/// Exit code 2 with one line on stderr that contains each of `parts`.
fn assert_one_clear_line(code: i32, stderr: &str, parts: &[&str]) {
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    for part in parts {
        assert!(stderr.contains(part), "{part:?} in {stderr}");
    }
}

#[test]
fn huge_payloads_in_a_case_file_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for len in ["1152921504606846976", "1073741824"] {
        catalog_with(dir.path(), &format!(r#"{{ pattern = "*", len = {len} }}"#));
        let started = Instant::now();
        let (code, _, stderr) = wsspec(&["server", "--catalog", dir.path().to_str().unwrap(), "--list"]);
        assert_one_clear_line(code, &stderr, &["01-x.toml", "case 1.1.1", "steps[0].frame.payload", len]);
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    }
    let fifo = dir.path().join("02-fifo.toml");
    catalog_with(dir.path(), "\"x\"");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (code, _, stderr) = wsspec(&["server", "--catalog", dir.path().to_str().unwrap(), "--list"]);
    assert_one_clear_line(code, &stderr, &["02-fifo.toml", "not a regular file"]);
}

/// A report folder written by a real run of one case, for `wsspec report` and `wsspec diff` to read.
fn stored_run(out: &Path) {
    let (code, _, stderr) = wsspec(&["server", "--agent", "a", "--out", out.to_str().unwrap(), "--cases", "1.1.1"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn report_and_diff_refuse_links_fifos_and_devices() {
    let root = tempfile::tempdir().unwrap();
    let outside = root.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let good = root.path().join("good");
    stored_run(&good);
    let good_index = fs::read(good.join("index.json")).unwrap();

    // index.json as a link (to a regular file and to /dev/zero), a FIFO, and /dev/zero itself.
    let cases: [(&str, Box<dyn Fn(&Path)>); 3] = [
        ("link", Box::new(|index: &Path| symlink(outside.join("index.json"), index).unwrap())),
        ("zero", Box::new(|index: &Path| symlink("/dev/zero", index).unwrap())),
        ("fifo", Box::new(|index: &Path| assert!(Command::new("mkfifo").arg(index).status().unwrap().success()))),
    ];
    fs::write(outside.join("index.json"), &good_index).unwrap();
    for (name, make) in cases {
        let dir = root.path().join(name);
        fs::create_dir(&dir).unwrap();
        make(&dir.join("index.json"));
        for args in [vec!["report", dir.to_str().unwrap()], vec!["diff", good.to_str().unwrap(), dir.to_str().unwrap()]] {
            let started = Instant::now();
            let (code, _, stderr) = wsspec(&args);
            assert_one_clear_line(code, &stderr, &["index.json", "refused"]);
            assert!(started.elapsed() < Duration::from_secs(10), "{name}: {:?}", started.elapsed());
        }
        assert!(!dir.join("index.html").exists(), "{name}: nothing rendered");
    }
    let (code, _, stderr) = wsspec(&["report", "/dev/zero"]);
    assert_one_clear_line(code, &stderr, &["/dev/zero", "not a regular file"]);

    // A case record that is a link to a file outside the folder is not read.
    let record = good.join("a_case_1_1_1.json");
    fs::rename(&record, outside.join("record.json")).unwrap();
    symlink(outside.join("record.json"), &record).unwrap();
    let (code, _, stderr) = wsspec(&["report", good.to_str().unwrap()]);
    assert_one_clear_line(code, &stderr, &["a_case_1_1_1.json", "symbolic link"]);
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 2, "nothing written outside the folder");
}

#[test]
fn agent_names_get_files_of_their_own_and_a_clean_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let long = "x".repeat(10_000);
    let hostile = "evil\x1b[2J\r\nFAILED 1.1.1 forged";
    for agent in ["Foo", "foo", long.as_str(), hostile] {
        let (code, _, stderr) = wsspec(&["server", "--agent", agent, "--out", out, "--cases", "1.1.1"]);
        assert_eq!(code, 0, "{agent:.40}: {stderr:.2000}");
        assert!(!stderr.contains('\x1b') && !stderr.contains("\r\n"), "control characters escaped: {stderr:.2000}");
    }
    let index: serde_json::Value = serde_json::from_slice(&fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    let files: Vec<&str> = ["Foo", "foo", long.as_str(), hostile].iter().map(|a| index[*a]["1.1.1"]["reportfile"].as_str().unwrap()).collect();
    assert_eq!(files[0], "foo_case_1_1_1.json");
    for (i, file) in files.iter().enumerate() {
        assert!(file.len() < 80 && dir.path().join(file).is_file(), "{file}");
        assert!(files[..i].iter().all(|other| other != file), "{file} is unique");
        let page = file.replace(".json", ".html");
        assert!(dir.path().join(&page).is_file(), "{page}");
    }
    let (code, _, stderr) = wsspec(&["report", out]);
    assert_eq!(code, 0, "every agent's record is found: {stderr:.2000}");
    assert!(!stderr.contains("could not be read"), "{stderr:.2000}");
}

#[test]
fn client_mode_keeps_accepting_after_running_out_of_descriptors() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let script = format!(
        "ulimit -n 64 && exec '{}' client --serve --listen {listen} --cases 1.1.1 --out '{}'",
        env!("CARGO_BIN_EXE_wsspec"),
        tempfile::tempdir().unwrap().keep().display()
    );
    let mut child = Command::new("sh").args(["-c", &script]).env("CI", "1").stderr(Stdio::piped()).spawn().unwrap();
    let connect = || (0..100).find_map(|_| StdTcpStream::connect(&listen).ok().or_else(|| { std::thread::sleep(Duration::from_millis(50)); None }));
    let first = connect().expect("the server listens");
    // Far more idle connections than descriptors: accept fails with EMFILE meanwhile.
    let idle: Vec<StdTcpStream> = std::iter::once(first).chain((0..150).filter_map(|_| StdTcpStream::connect(&listen).ok())).collect();
    std::thread::sleep(Duration::from_millis(500));
    drop(idle);
    // Still serving: a request answered, then /stopServer ends it.
    let started = Instant::now();
    let stop = loop {
        let answered = connect().and_then(|mut s| {
            use std::io::{Read, Write};
            s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
            let request = format!(
                "GET /stopServer HTTP/1.1\r\nHost: {listen}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            );
            s.write_all(request.as_bytes()).ok()?;
            let mut buf = [0u8; 12];
            s.read_exact(&mut buf).ok()?;
            Some(buf)
        });
        if answered.is_some() || started.elapsed() > Duration::from_secs(20) {
            break answered;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let status = (0..200).find_map(|_| child.try_wait().unwrap().or_else(|| { std::thread::sleep(Duration::from_millis(50)); None }));
    if status.is_none() {
        child.kill().unwrap();
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(stop.as_ref().map(|b| &b[..]), Some(&b"HTTP/1.1 101"[..]), "answered after EMFILE: {stderr}");
    assert!(status.is_some(), "/stopServer ended the process: {stderr}");
    assert!(stderr.contains("cannot accept a connection"), "the accept error was logged: {stderr}");
}

/// The findings file of `wsspec fuzz` is written as report files are: a link planted at its name
/// is replaced, never written through, and no temporary file is left.
#[tokio::test(flavor = "multi_thread")]
async fn fuzz_findings_never_follow_a_planted_link() {
    let broken = wsspec::peers::faulty::FaultyServer::start(wsspec::peers::faulty::Defect::AcceptRsv).await.unwrap();
    let (out, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let victim = outside.path().join("victim");
    fs::write(&victim, "keep").unwrap();
    let findings = out.path().join("fuzz-1.toml");
    symlink(&victim, &findings).unwrap();
    let args = ["fuzz", &broken.url(), "--seed", "1", "--sequences", "40", "--timeout-scale", "0.5", "--out", out.path().to_str().unwrap()];
    let (code, _, stderr) = tokio::task::block_in_place(|| wsspec(&args));
    assert_eq!(code, 1, "the planted defect is found: {stderr}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep", "nothing was written through the link");
    let meta = fs::symlink_metadata(&findings).unwrap();
    assert!(meta.is_file() && fs::read_to_string(&findings).unwrap().contains("[[case]]"), "the findings replaced the link");
    let names: Vec<String> = fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["fuzz-1.toml"], "no temporary file is left");
}
