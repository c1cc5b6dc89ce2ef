//! What a case keeps of a target that sends without end: a preview of the events with counts, the
//! head and the tail of the wire log, a case file within `MAX_RECORD_REPORT_BYTES`, and a note of
//! every bound reached, in the case file and on its page.

use std::{fs, path::Path, time::{Duration, Instant}};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use wsspec::{
    engine::{run_cases, RunConfig, RunOptions, Stop, Target},
    frame::{Decoder, FrameSpec, OpCode},
};
use wsspec_reports::{
    elided_events_line, events_in_line, repeated_event_line, sink::Sink, Behavior, CaseRecord, MAX_RECORD_REPORT_BYTES,
};

use crate::{
    hostile_peer::{self, frame, Act, Peer},
    support,
};

/// Runs case `id` against `peer` into `out`; its record, as the sink wrote it.
async fn run_one(id: &str, peer: &Peer, out: &Path, scale: f64) -> CaseRecord {
    let options = RunOptions { timeout_scale: scale, ..RunOptions::default() };
    let config = RunConfig { agent: "hostile".into(), target: Target::parse(&peer.url).unwrap(), options };
    let sink = Sink::open(out).unwrap();
    let mut records = Vec::new();
    let started = Instant::now();
    let report = run_cases(&support::cases(&[id]), &config, &sink, &Stop::new(), |r| records.push(r.clone())).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert_eq!((report.results.len(), records.len()), (1, 1));
    assert_eq!(report.results[0].reason, records[0].reason(), "the run keeps the reason of what it wrote");
    let record = records.pop().unwrap();
    let written = fs::read(out.join(&record.reportfile)).unwrap();
    assert!(written.len() <= MAX_RECORD_REPORT_BYTES, "a case file of {} bytes", written.len());
    let stored: CaseRecord = serde_json::from_slice(&written).unwrap();
    assert_eq!(stored.bounds, record.bounds, "the notes are in the case file");
    record
}

/// The case page `wsspec report` renders for `record`.
fn page(out: &Path, record: &CaseRecord) -> String {
    let (code, _, stderr) = support::wsspec(&["report", out.to_str().unwrap()]);
    assert_eq!(code, 1, "the case failed: {stderr}");
    fs::read_to_string(out.join(record.reportfile.replace(".json", ".html"))).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ping_flood_keeps_a_preview_of_the_events_and_counts_them_all() {
    let flood = Peer::start(hostile_peer::ping_flood()).await;
    let out = tempfile::tempdir().unwrap();
    let record = run_one("1.1.1", &flood, out.path(), 1.0).await;
    assert_eq!(record.behavior, Behavior::Failed, "{}", record.result);
    assert!(record.result.contains("flooding"), "{}", record.result);
    let pings = record.received_counts["ping"];
    assert!(pings >= 100_000, "every ping is counted: {:?}", record.received_counts);
    let (head, tail) = (wsspec::engine::event_log::HEAD, wsspec::engine::event_log::TAIL);
    // The first 20 and the last 10 are kept, and identical ones collapse: one line each.
    assert_eq!(record.received, [
        repeated_event_line("ping \"ping!\"", head as u64 - 1),
        elided_events_line(pings - (head + tail) as u64),
        repeated_event_line("ping \"ping!\"", tail as u64 - 1),
    ]);
    assert_eq!(record.received_elided, pings - (head + tail) as u64);
    assert_eq!(record.received.iter().map(|l| events_in_line(l)).sum::<u64>() + record.received_elided, pings);
    assert!(record.bounds.iter().any(|b| b.starts_with("Events: the target sent")), "{:?}", record.bounds);
    assert!(record.bounds.iter().any(|b| b.starts_with("Flood:")), "{:?}", record.bounds);
    assert!(record.result.len() < 4096, "a reason of {} bytes", record.result.len());
    let html = page(out.path(), &record);
    assert!(html.contains("Bounds reached") && html.contains(&format!("ping ×{pings}")), "the page shows the bound and the count");
    assert!(html.len() < 256 * 1024, "a page of {} bytes", html.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_fragmented_message_keeps_the_head_and_the_end_of_the_wire_log() {
    let endless = Peer::start(vec![Act::Send(vec![frame(OpCode::Text, false, b"start")]), Act::Flood(frame(OpCode::Continuation, false, b"more"))]).await;
    let out = tempfile::tempdir().unwrap();
    let record = run_one("1.1.1", &endless, out.path(), 0.5).await;
    assert_eq!(record.behavior, Behavior::Failed, "{}", record.result);
    let gap = record.wirelog_gap.clone().expect("the wire log left entries out");
    assert!(gap.frames > 10_000 && gap.bytes > 0, "{gap:?}");
    assert_eq!(record.wirelog_elided, gap.entries);
    // The head: the opening handshake; the tail: how it ended.
    assert!(record.wirelog[0].dir == "tx" && record.wirelog[0].kind == "chunk", "{:?}", record.wirelog[0]);
    let tail: Vec<&str> = record.wirelog[gap.at..].iter().filter(|e| e.kind == "event").map(|e| e.data.as_str()).collect();
    assert!(tail.iter().any(|e| e.contains("closing handshake timed out")), "the end is kept: {tail:?}");
    assert!(tail.iter().any(|e| e.contains("TCP dropped by wsspec")), "the end is kept: {tail:?}");
    assert!(record.bounds.iter().any(|b| b.starts_with("Wire log:")), "{:?}", record.bounds);
    let html = page(out.path(), &record);
    assert!(html.contains("entries left out here"), "the page marks the gap");
    assert!(html.contains("TCP dropped by wsspec"), "the page shows how it ended");
}

/// An echo server that answers message number `corrupt` (1-based) with other content of the same
/// length, and closes when asked.
async fn echo_but_corrupt(corrupt: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if !support::accept_websocket(&mut stream).await {
                    return;
                }
                let (mut decoder, mut buf, mut seen) = (Decoder::new(1 << 20), vec![0u8; 65536], 0);
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    decoder.push(&buf[..n]);
                    while let Ok(Some(mut frame)) = decoder.next_frame() {
                        if frame.header.opcode == OpCode::Close {
                            let _ = stream.write_all(&FrameSpec::new(OpCode::Close, frame.payload).encode()).await;
                            return;
                        }
                        seen += 1;
                        if seen == corrupt {
                            frame.payload.iter_mut().for_each(|b| *b = b'!');
                        }
                        let _ = stream.write_all(&FrameSpec::new(frame.header.opcode, frame.payload).encode()).await;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn the_judge_sees_every_event_not_only_the_kept_ones() {
    // 9.7.2 expects 1,000 echoes of 16 bytes; the 500th is wrong, and not among the kept events.
    let url = echo_but_corrupt(500).await;
    let records = support::run(&url, &support::cases(&["9.7.2"])).await;
    let record = &records["9.7.2"];
    assert_eq!(record.behavior, Behavior::Failed, "{}", record.result);
    assert!(record.received_elided > 0 && !record.received.iter().any(|e| e.contains("!!!")), "the wrong echo is not kept");
    assert_eq!(record.received_counts["text message"], 1000, "{:?}", record.received_counts);

    let url = echo_but_corrupt(usize::MAX).await;
    let records = support::run(&url, &support::cases(&["9.7.2"])).await;
    assert_eq!(records["9.7.2"].behavior, Behavior::Ok, "{}", records["9.7.2"].result);
}
