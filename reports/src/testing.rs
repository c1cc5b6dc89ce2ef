//! Test fixtures: records and stored results made in memory.

use std::path::Path;

use crate::{autobahn, Behavior, BehaviorClose, CaseRecord, ExpectedRecord, FrameInfo, StoredResults, WireEntry};

/// A plausible record: the target echoed and closed with 1000.
pub fn record(agent: &str, id: &str, behavior: Behavior, close: BehaviorClose) -> CaseRecord {
    CaseRecord {
        agent: agent.into(),
        id: id.into(),
        title: format!("Case {id}"),
        description: "Send a text message.".into(),
        rfc: "5.6".into(),
        level: "MUST".into(),
        requirement: "An endpoint MUST …".into(),
        note: None,
        expectation: "OK: the target sends text message: Hello".into(),
        behavior,
        behavior_close: close,
        result: format!("behavior {}", behavior.as_str()),
        result_close: format!("close {}", close.as_str()),
        started: "2026-01-01T00:00:00.000Z".into(),
        duration: 3,
        expected: vec![ExpectedRecord {
            grade: "OK".into(),
            events: vec!["text message: Hello".into()],
            close: "wsspec closes".into(),
            why: None,
        }],
        received: vec!["text message (5 bytes): Hello".into()],
        received_elided: 0,
        received_counts: [("text message".to_string(), 1)].into(),
        closed_by_me: true,
        dropped_by_me: false,
        was_clean: true,
        was_not_clean_reason: None,
        local_close_code: Some(1000),
        local_close_reason: Some(String::new()),
        remote_close_code: Some(1000),
        remote_close_reason: Some(String::new()),
        tls: None,
        http_request: "GET / HTTP/1.1\r\nHost: x\r\n\r\n".into(),
        http_response: "HTTP/1.1 101 Switching Protocols\r\n\r\n".into(),
        wirelog: vec![WireEntry {
            t: 0.5,
            dir: "rx".into(),
            kind: "frame".into(),
            len: 5,
            data: "Hello".into(),
            frame: Some(FrameInfo { opcode: 1, opcode_name: "text".into(), fin: true, rsv: 0, mask: None }),
        }],
        wirelog_elided: 0,
        wirelog_gap: None,
        bounds: Vec::new(),
        reportfile: autobahn::report_file_name(agent, id),
    }
}

/// Writes `records` as a run would (case files and `index.json`) and loads them back.
pub fn store(dir: &Path, records: &[CaseRecord]) -> StoredResults {
    let sink = crate::sink::Sink::open(dir).unwrap();
    for r in records {
        sink.record(&mut r.clone()).unwrap();
    }
    StoredResults::load(dir).unwrap()
}
