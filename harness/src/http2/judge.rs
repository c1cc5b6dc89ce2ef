//! Verdicts of section 22 (RFC 8441): a server without SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 makes
//! every case UNIMPLEMENTED (as Autobahn's 12.x for a server without permessage-deflate); a probe's
//! finding or the answer to a crafted request is graded by the case's level.

use wsspec_reports::{Behavior, BehaviorClose};

use super::{probe::Finding, raw::Answer};
use crate::{
    catalog::{Case, Http2Def},
    engine::{Observation, Verdict},
};

/// The verdict of a section-22 case, or `None` for a case the ordinary judge grades (a frame case
/// whose WebSocket opened, or another case).
pub fn judge(case: &Case, obs: &Observation) -> Option<Verdict> {
    let def = case.http2.as_ref()?;
    let ends = |behavior, result: String| {
        Some(Verdict { behavior, behavior_close: BehaviorClose::Informational, result, result_close: "The case ends at the HTTP/2 exchange: no closing handshake is judged.".into() })
    };
    let missed = |why: String| ends(crate::engine::missed(case.level), format!("{why} ({}, {}).", case.rfc, case.level.as_str()));
    match &obs.http2 {
        Some(Finding::NoSetting(value)) => ends(
            Behavior::Unimplemented,
            format!(
                "The server does not offer WebSockets over HTTP/2: its SETTINGS {} SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).",
                if value.is_some() { "set 0 for" } else { "do not carry" }
            ),
        ),
        // RFC 8441 §3: "The value of the parameter MUST be 0 or 1.", a MUST whatever the case's level.
        Some(Finding::BadSetting(value)) => ends(
            Behavior::Failed,
            format!("The server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = {value}; RFC 8441 §3: \"The value of the parameter MUST be 0 or 1.\" (MUST)."),
        ),
        Some(Finding::Passed(what)) => ends(Behavior::Ok, what.clone()),
        Some(Finding::Broken(what)) => missed(what.clone()),
        Some(Finding::Answer(answer)) => {
            let mut verdict = grade_answer(case, def, answer);
            if case.informational {
                verdict.behavior = Behavior::Informational;
            }
            Some(verdict)
        }
        None if def.runs_frames() && obs.open_error.is_none() => None,
        None => missed(format!("The probe did not complete: {}.", obs.open_error.as_deref().unwrap_or("no reason recorded").trim_end_matches('.'))),
    }
}

/// A correct answer to a crafted request is one of `def.status`, or a stream error when
/// `def.reset` allows it; anything else misses the case's requirement.
fn grade_answer(case: &Case, def: &Http2Def, answer: &Answer) -> Verdict {
    let correct = match answer {
        Answer::Status(status, _) => def.status.iter().any(|s| s.0.contains(status)),
        Answer::Reset(_) | Answer::GoAway(_) => def.reset,
        Answer::Closed => false,
    };
    let seen = match answer {
        Answer::Status(status, _) => format!("The server answered status {status}"),
        Answer::Reset(code) => format!("The server reset the stream: RST_STREAM({})", error_name(*code)),
        Answer::GoAway(code) => format!("The server ended the connection: GOAWAY({})", error_name(*code)),
        Answer::Closed => "The server closed the connection without answering".into(),
    };
    let (behavior, result) = if correct {
        (Behavior::Ok, format!("{seen}, as expected."))
    } else {
        let allowed: Vec<String> = def.status.iter().map(|s| if s.0.start() == s.0.end() { s.0.start().to_string() } else { format!("{}-{}", s.0.start(), s.0.end()) }).collect();
        let want = match (allowed.is_empty(), def.reset) {
            (false, true) => format!("status {} or a stream error", allowed.join(" or ")),
            (false, false) => format!("status {}", allowed.join(" or ")),
            (true, _) => "a stream error".into(),
        };
        (crate::engine::missed(case.level), format!("{seen}; {} asks for {want} ({}).", case.rfc, case.level.as_str()))
    };
    Verdict { behavior, behavior_close: BehaviorClose::Informational, result, result_close: "The case ends at the HTTP/2 exchange: no closing handshake is judged.".into() }
}

/// An HTTP/2 error code's name (RFC 9113 §7).
pub fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
        "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    ];
    NAMES.get(code as usize).map_or_else(|| format!("0x{code:x}"), |n| n.to_string())
}
