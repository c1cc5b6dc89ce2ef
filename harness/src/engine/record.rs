//! Builds the report record of one case from its observation and verdict.

use wsspec_reports::{autobahn::report_file_name, iso_utc, CaseRecord, ExpectedRecord};

use super::{event::quoted, judge::Verdict, HttpExchange, Observation};
use crate::catalog::{Alternative, Case, CloseExpectation, Closer, EventKind, EventPattern, Grade, Payload};

/// Events a record lists; later ones are counted in one last line (a flood of 100,000 pings made
/// 2 MB of JSON and 2 MB of HTML per case).
const MAX_RECEIVED: usize = 1_000;

fn received(events: &[super::Event]) -> Vec<String> {
    let mut lines: Vec<String> = events.iter().take(MAX_RECEIVED).map(|e| e.to_string()).collect();
    if events.len() > MAX_RECEIVED {
        lines.push(format!("… and {} more events, not kept", events.len() - MAX_RECEIVED));
    }
    lines
}

pub fn build(agent: &str, case: &Case, obs: Observation, verdict: Verdict) -> CaseRecord {
    let expected: Vec<ExpectedRecord> = case.expect.iter().map(|a| expected_record(case, a)).collect();
    CaseRecord {
        agent: agent.to_string(),
        id: case.id.to_string(),
        title: case.title.clone(),
        description: case.description().to_string(),
        rfc: case.rfc.clone(),
        level: case.level.as_str().to_string(),
        requirement: case.requirement.clone(),
        note: case.note.clone(),
        expectation: opening_text(case).into_iter().chain((!expected.is_empty()).then(|| expectation_text(&expected))).collect::<Vec<_>>().join(" Then: "),
        behavior: verdict.behavior,
        behavior_close: verdict.behavior_close,
        result: verdict.result,
        result_close: verdict.result_close,
        started: iso_utc(obs.started),
        duration: obs.duration.as_millis() as u64,
        expected,
        received: received(&obs.events),
        closed_by_me: obs.closed_by_me,
        dropped_by_me: obs.dropped_by_me,
        was_clean: obs.was_clean,
        was_not_clean_reason: if obs.was_clean { None } else { obs.not_clean_reason },
        local_close_code: obs.local_close.as_ref().and_then(|(c, _)| *c),
        local_close_reason: obs.local_close.map(|(_, r)| r),
        remote_close_code: obs.remote_close.as_ref().and_then(|(c, _)| *c),
        remote_close_reason: obs.remote_close.map(|(_, r)| r),
        http_request: HttpExchange::text(&obs.exchange.request),
        http_response: HttpExchange::text(&obs.exchange.response),
        wirelog: obs.log.entries,
        wirelog_elided: obs.log.elided,
        reportfile: report_file_name(agent, case.id.as_str()),
    }
}

fn expected_record(case: &Case, alternative: &Alternative) -> ExpectedRecord {
    ExpectedRecord {
        grade: match alternative.grade {
            Grade::Ok => "OK",
            Grade::NonStrict => "NON-STRICT",
            Grade::Informational => "INFORMATIONAL",
        }
        .into(),
        events: alternative.events.iter().map(pattern_text).collect(),
        close: close_text(case.close_for(alternative)),
        why: alternative.why.clone(),
    }
}

fn pattern_text(pattern: &EventPattern) -> String {
    let kind = match &pattern.kind {
        EventKind::Text(p) => format!("text message {}", payload_text(p)),
        EventKind::Binary(p) => format!("binary message {}", payload_text(p)),
        EventKind::TextLen(n) => format!("text message of {n} bytes"),
        EventKind::BinaryLen(n) => format!("binary message of {n} bytes"),
        EventKind::Ping(p) => format!("ping {}", payload_text(p)),
        EventKind::Pong(p) => format!("pong {}", payload_text(p)),
        EventKind::Mark(m) => format!("mark {m}"),
    };
    let times = if pattern.times > 1 { format!(" ×{}", pattern.times) } else { String::new() };
    let optional = if pattern.optional { " (optional)" } else { "" };
    format!("{kind}{times}{optional}")
}

/// An expected payload, quoted as received ones are (see [`quoted`]).
fn payload_text(payload: &Payload) -> String {
    match payload {
        Payload::Bytes(bytes) if bytes.is_empty() => "(empty)".into(),
        Payload::Bytes(bytes) => quoted(bytes, 64),
        Payload::Pattern { unit, len } => format!("{} repeated to {len} bytes", quoted(unit, 16)),
        other @ (Payload::Random { .. } | Payload::Slices { .. }) => format!("of {other}"),
    }
}

fn close_text(close: &CloseExpectation) -> String {
    let codes: Vec<String> = close.codes.iter().map(|c| c.0.to_string()).collect();
    match close.by {
        Closer::Wsspec => format!("wsspec closes; the target answers with {} or no code", codes.join("/")),
        Closer::Peer => format!("the target fails the connection: close {} (or no code), or a TCP drop", codes.join("/")),
    }
}

fn expectation_text(expected: &[ExpectedRecord]) -> String {
    expected
        .iter()
        .map(|e| {
            let events = if e.events.is_empty() { "nothing".to_string() } else { e.events.join(", ") };
            format!("{}: the target sends {events}; {}", e.grade, e.close)
        })
        .collect::<Vec<_>>()
        .join(". Or ")
}

/// What a handshake case expects of the server's answer, when it says.
fn opening_text(case: &Case) -> Option<String> {
    let expect = super::OpeningExpectation::of(case)?;
    let statuses: Vec<String> =
        expect.statuses.iter().map(|r| if r.start() == r.end() { r.start().to_string() } else { format!("{}-{}", r.start(), r.end()) }).collect();
    let headers: Vec<String> = expect
        .headers
        .iter()
        .map(|(name, token)| if token.is_empty() { format!("a `{name}` header") } else { format!("`{name}` listing {token}") })
        .collect();
    let with = if headers.is_empty() { String::new() } else { format!(" with {}", headers.join(" and ")) };
    Some(format!("The server answers status {}{with}.", statuses.join(" or ")))
}
