//! Builds the report record of one case from its observation and verdict.

use wsspec_reports::{autobahn::report_file_name, elided_events_line, iso_utc, repeated_event_line, text::clip, CaseRecord, ExpectedRecord, WireGap};

use super::{event::quoted, event_log::{self, EventLog}, judge::Verdict, wire_log::{self, WireLog}, HttpExchange, Observation};
use crate::{
    catalog::{Alternative, Case, CloseExpectation, Closer, EventKind, EventPattern, Grade, Payload},
    rules::Violation,
};

/// The events as a record lists them: the kept head, one line counting what was left out, the
/// kept tail; in each, a run of identical events is one line ("… (and 19 more like this one)").
fn received(events: &EventLog) -> Vec<String> {
    let mut lines = collapsed(events.head().iter().map(|e| e.to_string()));
    if events.elided() > 0 {
        lines.push(elided_events_line(events.elided() as u64));
    }
    lines.extend(collapsed(events.tail().map(|e| e.to_string())));
    lines
}

/// `lines` with each run of equal lines as one [`repeated_event_line`].
fn collapsed(lines: impl Iterator<Item = String>) -> Vec<String> {
    let mut runs: Vec<(String, u64)> = Vec::new();
    for line in lines {
        match runs.last_mut() {
            Some((last, more)) if *last == line => *more += 1,
            _ => runs.push((line, 0)),
        }
    }
    runs.into_iter().map(|(line, more)| if more == 0 { line } else { repeated_event_line(&line, more) }).collect()
}

/// The bounds of wsspec `obs` reached, one sentence each, for the record's `bounds`.
fn bounds_reached(obs: &Observation, gap: Option<&WireGap>) -> Vec<String> {
    let mut bounds = Vec::new();
    if obs.events.elided() > 0 {
        let counts: Vec<String> = obs.events.counts().iter().map(|(kind, n)| format!("{kind} ×{n}")).collect();
        bounds.push(format!(
            "Events: the target sent {} ({}); the first {} and the last {} are listed.",
            obs.events.len(),
            counts.join(", "),
            event_log::HEAD,
            event_log::TAIL
        ));
    }
    if let Some(gap) = gap {
        bounds.push(format!(
            "Wire log: {} entries ({} frames, {} bytes) left out after entry {} while recording (wsspec keeps about {} KiB of the \
             start and {} KiB of the end of a connection; the report may leave out more to fit its size bound: the wire log's gap line \
             gives the final count).",
            gap.entries,
            gap.frames,
            gap.bytes,
            gap.at,
            wire_log::HEAD_BYTES / 1024,
            wire_log::TAIL_BYTES / 1024
        ));
    }
    if let Some(bound) = obs.frames_bound {
        bounds.push(format!(
            "Frames per message: a message of the target's reached {} frames ({} bytes), over wsspec's bound of {}; wsspec \
             failed the connection (1009).",
            bound.frames,
            bound.len,
            super::MAX_MESSAGE_FRAMES
        ));
    }
    match &obs.violation {
        Some(Violation::Flood { limit }) => {
            bounds.push(format!("Flood: {limit} events in one case, wsspec's bound; wsspec failed the connection."))
        }
        Some(too_big @ (Violation::FrameTooBig { .. } | Violation::MessageTooBig { .. })) => {
            bounds.push(format!("Message size: {too_big}; wsspec failed the connection rather than buffer it (`max_message`)."))
        }
        _ => {}
    }
    bounds
}

/// A head as a record keeps it: at most [`MAX_HEAD_TEXT`] characters.
fn head_text(head: &[u8]) -> String {
    clip(&HttpExchange::text(head), MAX_HEAD_TEXT)
}

/// Characters of an opening-handshake head a record keeps.
const MAX_HEAD_TEXT: usize = 16 * 1024;

pub fn build(agent: &str, case: &Case, mut obs: Observation, verdict: Verdict) -> CaseRecord {
    let expected: Vec<ExpectedRecord> = case.expect.iter().map(|a| expected_record(case, a)).collect();
    let (wirelog, gap) = std::mem::replace(&mut obs.log, WireLog::new(std::time::Instant::now())).into_parts();
    let bounds = bounds_reached(&obs, gap.as_ref());
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
        received_elided: obs.events.elided() as u64,
        received_counts: obs.events.counts().iter().map(|(kind, n)| (kind.to_string(), *n as u64)).collect(),
        closed_by_me: obs.closed_by_me,
        dropped_by_me: obs.dropped_by_me,
        was_clean: obs.was_clean,
        was_not_clean_reason: if obs.was_clean { None } else { obs.not_clean_reason },
        local_close_code: obs.local_close.as_ref().and_then(|(c, _)| *c),
        local_close_reason: obs.local_close.map(|(_, r)| r),
        remote_close_code: obs.remote_close.as_ref().and_then(|(c, _)| *c),
        remote_close_reason: obs.remote_close.map(|(_, r)| r),
        tls: obs.tls.as_ref().map(|t| t.to_string()),
        http_request: head_text(&obs.exchange.request),
        http_response: head_text(&obs.exchange.response),
        wirelog_elided: gap.as_ref().map_or(0, |g| g.entries),
        wirelog,
        wirelog_gap: gap,
        bounds,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::Event;

    #[test]
    fn a_flood_of_one_event_is_one_line_per_run() {
        let mut events = EventLog::default();
        (0..1000).for_each(|_| events.push(Event::Ping(b"ping!".to_vec())));
        events.push(Event::Pong(b"x".to_vec()));
        let lines = received(&events);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(lines[0], "ping \"ping!\" (and 19 more like this one)");
        assert_eq!(lines.iter().map(|l| wsspec_reports::events_in_line(l)).sum::<u64>() + events.elided() as u64, 1001);
    }
}
