//! The case of a sequence built straight from its plan ([`super::plan_steps`],
//! [`super::plan_alternatives`]), the values the catalog loader would give for the text
//! [`super::case`] writes, without the text: the network fuzzer runs every sequence as this case
//! and writes the text only for a finding. A unit test holds the two to the same steps, timeout and
//! expectations.

use super::{close_parts, payload_parts, timeout, PlannedAlternative, PlannedStep, Sequence, SECTION};
use crate::{
    catalog::{
        Action, Alternative, Case, CloseDef, CloseExpectation, DeflateDef, EventKind, EventPattern, FrameDef, Grade, Level, MaskDef, Payload,
        Role, Step,
    },
    frame::{CloseCode, FrameSpec},
    fuzz::oracle::{Expected, Outcome, Reply},
};

/// The case [`super::case`] writes for `sequence`, as the loader would load it, without its prose
/// (title, description, requirement, note: what only reports read) and under the id `90.0.0`; its
/// section stays, for the verdict's sentence.
pub fn runnable(sequence: &Sequence, outcome: &Outcome) -> Case {
    let steps = super::plan_steps(sequence, outcome).into_iter().map(|planned| step(planned, sequence.write)).collect();
    let expect: Vec<Alternative> = super::plan_alternatives(sequence, outcome).iter().map(alternative).collect();
    // The strictest alternative's closing, as the written `close` (the catalog's default otherwise).
    let close = expect.first().and_then(|a| a.close.clone()).unwrap_or_default();
    Case {
        id: format!("{SECTION}.0.0").parse().expect("a case id"),
        title: String::new(),
        description: None,
        rfc: outcome.rule().rfc.to_string(),
        level: Level::Must,
        requirement: String::new(),
        roles: vec![Role::Server],
        note: None,
        timeout: timeout(sequence),
        informational: false,
        handshake: None,
        deflate: sequence.deflate.then(|| DeflateDef {
            offer: crate::fuzz::sequence::DEFLATE_OFFER.to_string(),
            negotiation: Default::default(),
            accept: vec![String::new()],
            response: None,
        }),
        http2: None,
        steps,
        expect,
        close,
        tls: None,
    }
}

fn step(planned: PlannedStep<'_>, write: crate::catalog::WriteMode) -> Step {
    let action = match planned {
        PlannedStep::Frames(frames) => Action::Frames(frames.into_iter().map(frame).collect()),
        PlannedStep::Close(payload) => Action::Close(close(payload)),
    };
    Step { action, write, mark: None, await_message: false, repeat: 1, split: Vec::new() }
}

fn frame(frame: &FrameSpec) -> FrameDef {
    FrameDef {
        opcode: frame.opcode,
        fin: frame.fin,
        rsv: frame.rsv,
        mask: frame.mask.map_or(MaskDef::None, MaskDef::Key),
        payload: payload(&frame.payload),
        length_encoding: frame.length_encoding,
        declared_length: frame.declared_length,
    }
}

fn close(payload_bytes: &[u8]) -> CloseDef {
    match close_parts(payload_bytes) {
        Some(None) => CloseDef { code: None, reason: None, payload: None },
        Some(Some((code, reason))) => CloseDef { code: Some(code), reason: (!reason.is_empty()).then(|| payload(reason)), payload: None },
        None => CloseDef { code: None, reason: None, payload: Some(payload(payload_bytes)) },
    }
}

fn alternative(planned: &PlannedAlternative<'_>) -> Alternative {
    let closing = &planned.closing;
    Alternative {
        events: planned.alternative.replies.iter().map(event).collect(),
        // The file names only INFORMATIONAL; any other grade loads as OK.
        grade: if planned.alternative.grade == Grade::Informational { Grade::Informational } else { Grade::Ok },
        why: Some(planned.alternative.rule.summary.to_string()),
        close: Some(CloseExpectation {
            by: closing.by,
            codes: closing.codes.iter().copied().map(CloseCode).collect(),
            clean: closing.clean,
            wrong_closer_fails: closing.wrong_closer_fails,
            wrong_code_fails: false,
            drop_mid_message_fails: false,
            code_required: false,
        }),
    }
}

fn event(expected: &Expected) -> EventPattern {
    let kind = match &expected.reply {
        Reply::Echo { binary: false, payload: bytes } => EventKind::Text(payload(bytes)),
        Reply::Echo { binary: true, payload: bytes } => EventKind::Binary(payload(bytes)),
        Reply::Pong(bytes) => EventKind::Pong(payload(bytes)),
    };
    EventPattern { kind, times: 1, optional: expected.optional }
}

/// The payload the written form loads as: a repeated unit as a pattern, anything else as bytes.
fn payload(bytes: &[u8]) -> Payload {
    match payload_parts(bytes) {
        (_, None) => Payload::Bytes(bytes.to_vec()),
        (unit, Some(len)) => Payload::Pattern { unit: unit.to_vec(), len },
    }
}
