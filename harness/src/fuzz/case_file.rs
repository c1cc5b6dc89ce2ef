//! Sequences as catalog cases: the frames as steps and the oracle's alternatives as graded
//! expectations, in the TOML format of `cases/` for a finding's file ([`case`]), or built directly
//! as the case that text loads as ([`runnable`], what the network fuzzer runs for every sequence).
//! Both come from one plan of steps and alternatives, and a unit test holds them to the same
//! steps, timeout and expectations.
//!
//! The oracle speaks of the server; the catalog speaks of who closes. A well-formed close frame at
//! which every alternative ends becomes a `close` step (wsspec closes, the server answers or refuses
//! it, as in 7.x). Any other close frame is written as plain bytes, so a server that must fail
//! earlier is never raced by wsspec's own close.

use toml::Value;

use super::{
    oracle::{self, wire_header, End, Expected, Outcome, Reply},
    Sequence,
};
use crate::{
    catalog::{Case, Catalog, CatalogError, Closer, Grade, WriteMode},
    frame::{parse_close_payload, FrameSpec, LengthEncoding, OpCode},
};

mod direct;
#[cfg(test)]
mod tests;

pub use direct::runnable;

/// The catalog section of fuzz findings, clear of Autobahn's 1–13 and wsspec's own sections.
pub const SECTION: u32 = 90;

/// A case file: a comment, the fuzz section, and `cases` (each from [`case`]).
pub fn file(comment: &str, cases: &[String]) -> String {
    let mut out: String = comment.lines().map(|line| if line.is_empty() { "#\n".to_string() } else { format!("# {line}\n") }).collect();
    out.push_str(&format!("\n[section]\nid = \"{SECTION}\"\ntitle = \"Fuzz findings\"\n"));
    for case in cases {
        out.push('\n');
        out.push_str(case);
    }
    out
}

/// One `[[case]]` that sends `sequence` and expects what `outcome` allows.
pub fn case(id: &str, title: &str, note: Option<&str>, sequence: &Sequence, outcome: &Outcome) -> String {
    let rule = outcome.rule();
    let mut out = format!("[[case]]\nid = {}\ntitle = {}\n", string(id), string(title));
    out.push_str(&format!("description = {}\n", string(&format!("Send {}.", describe(sequence)))));
    out.push_str(&format!("rfc = {}\nlevel = \"MUST\"\nrequirement = {}\n", string(rule.rfc), string(rule.requirement)));
    if let Some(note) = note {
        out.push_str(&format!("note = {}\n", string(note)));
    }
    body(&mut out, sequence, outcome);
    out
}

/// What a case does and expects: roles, deflate offer, timeout, steps, close and alternatives.
fn body(out: &mut String, sequence: &Sequence, outcome: &Outcome) {
    out.push_str("roles = [\"server\"]\n");
    if sequence.deflate {
        out.push_str(&format!("deflate = {{ offer = {} }}\n", string(super::sequence::DEFLATE_OFFER)));
    }
    out.push_str(&format!("timeout = {:.1}\nsteps = [\n", timeout(sequence)));
    for step in steps(sequence, outcome) {
        out.push_str(&format!("  {step},\n"));
    }
    out.push_str("]\n");
    let alternatives = expectations(sequence, outcome);
    // What the judge holds the closing to when no alternative matches the events: the strictest
    // alternative's (the catalog's default, wsspec closing, would contradict a server that must fail).
    if let Some((_, close)) = alternatives.first() {
        out.push_str(&format!("close = {close}\n"));
    }
    out.push_str("expect = [\n");
    for (alternative, _) in alternatives {
        out.push_str(&format!("  {alternative},\n"));
    }
    out.push_str("]\n");
}

/// The case's timeout in seconds: [`BASE_TIMEOUT`], and [`PER_WRITE`] for each write call the
/// sequence takes beyond the first. The timeout is a verdict (a target that has not answered by then
/// fails the case), so it grows with what is sent: 40 KB written a byte at a time is 40,000 writes
/// and as many reads by the target, which a loaded machine does not finish in one second.
pub fn timeout(sequence: &Sequence) -> f64 {
    let writes = writes(sequence);
    let seconds = BASE_TIMEOUT + PER_WRITE * writes.saturating_sub(1) as f64;
    // Tenths, rounded up: what the file says is what runs.
    (seconds * 10.0).ceil() / 10.0
}

/// The timeout of a sequence written in one call, in seconds (the catalog's default).
pub const BASE_TIMEOUT: f64 = 1.0;
/// Seconds allowed per write call beyond the first (0.5 ms: a write and the target's read of it,
/// with room for a machine loaded ten times over).
pub const PER_WRITE: f64 = 0.000_5;

/// The write calls `sequence` takes: one, one per frame, or one per `k` bytes.
pub fn writes(sequence: &Sequence) -> usize {
    match sequence.write {
        WriteMode::Together => 1,
        WriteMode::PerFrame => sequence.frames.len().max(1),
        WriteMode::Chop(k) => sequence.frames.iter().map(|f| f.encode_header().len() + f.payload.len()).sum::<usize>().div_ceil(k.max(1)).max(1),
    }
}

/// Loads a file of one case (as [`file`] writes it) back as that case.
pub fn load(text: &str) -> Result<Case, CatalogError> {
    let catalog = Catalog::from_sources([("fuzz sequence".to_string(), text.to_string())])?;
    Ok(catalog.cases.into_iter().next().expect("a fuzz case file holds a case"))
}

/// The frames in a line: `text Hello fin=0, ping, close 0x03e8`.
pub fn describe(sequence: &Sequence) -> String {
    let frames: Vec<String> = sequence.frames.iter().map(describe_frame).collect();
    let write = match sequence.write {
        WriteMode::Together => String::new(),
        WriteMode::PerFrame => ", one write per frame".into(),
        WriteMode::Chop(k) => format!(", {k} bytes per write"),
    };
    let deflate = if sequence.deflate { " (permessage-deflate agreed)" } else { "" };
    format!("{}{write}{deflate}", if frames.is_empty() { "nothing".to_string() } else { frames.join(", ") })
}

fn describe_frame(frame: &FrameSpec) -> String {
    let mut text = opcode_name(frame.opcode).map_or_else(|| format!("opcode {}", frame.opcode.as_u8()), str::to_string);
    if !frame.payload.is_empty() {
        text = format!("{text} {}", crate::preview(&frame.payload, 16));
    }
    for (odd, what) in [
        (!frame.fin, "fin=0".to_string()),
        (frame.rsv != 0, format!("rsv={}", frame.rsv)),
        (frame.mask.is_none(), "unmasked".into()),
        (wire_header(frame).non_minimal_length(), "non-minimal length".into()),
        (frame.declared_length.is_some(), format!("declared length {:#x}", frame.header_length())),
    ] {
        if odd {
            text.push(' ');
            text.push_str(&what);
        }
    }
    text
}

fn opcode_name(opcode: OpCode) -> Option<&'static str> {
    Some(match opcode {
        OpCode::Continuation => "continuation",
        OpCode::Text => "text",
        OpCode::Binary => "binary",
        OpCode::Close => "close",
        OpCode::Ping => "ping",
        OpCode::Pong => "pong",
        OpCode::ReservedData(_) | OpCode::ReservedControl(_) => return None,
    })
}

/// The index of the frame written as wsspec's `close` step, if one is: a close frame every
/// alternative ends at, well-formed enough that the server reads it as a close.
fn close_step(sequence: &Sequence, outcome: &Outcome) -> Option<usize> {
    let at = outcome.alternatives.first()?.at;
    let frame = sequence.frames.get(at)?;
    let well_formed = frame.opcode == OpCode::Close
        && frame.fin
        && frame.rsv == 0
        && frame.mask.is_some()
        && frame.payload.len() <= 125
        && frame.declared_length.is_none()
        && !wire_header(frame).non_minimal_length();
    (well_formed && outcome.alternatives.iter().all(|a| a.at == at)).then_some(at)
}

/// A step of a sequence's case: frames sent as they are, or wsspec's close with this payload.
enum PlannedStep<'a> {
    Frames(Vec<&'a FrameSpec>),
    Close(&'a [u8]),
}

/// The steps of a sequence's case: its frames in one step, or around the close step if there is one.
fn plan_steps<'a>(sequence: &'a Sequence, outcome: &Outcome) -> Vec<PlannedStep<'a>> {
    let close_at = close_step(sequence, outcome);
    let mut steps = Vec::new();
    let mut frames = Vec::new();
    for (i, frame) in sequence.frames.iter().enumerate() {
        if Some(i) == close_at {
            if !frames.is_empty() {
                steps.push(PlannedStep::Frames(std::mem::take(&mut frames)));
            }
            steps.push(PlannedStep::Close(&frame.payload));
        } else {
            frames.push(frame);
        }
    }
    if !frames.is_empty() {
        steps.push(PlannedStep::Frames(frames));
    }
    steps
}

fn steps(sequence: &Sequence, outcome: &Outcome) -> Vec<String> {
    let write = match sequence.write {
        WriteMode::Together => None,
        WriteMode::PerFrame => Some(("write", string("per-frame"))),
        WriteMode::Chop(k) => Some(("chop", k.to_string())),
    };
    let step = |action: (&'static str, String)| table([Some(action), write.clone()].into_iter().flatten().collect());
    plan_steps(sequence, outcome)
        .into_iter()
        .map(|planned| match planned {
            PlannedStep::Frames(frames) => step(("frames", array(frames.into_iter().map(frame_value).collect()))),
            PlannedStep::Close(payload) => step(("close", close_value(payload))),
        })
        .collect()
}

fn frame_value(frame: &FrameSpec) -> String {
    let opcode = opcode_name(frame.opcode).map_or_else(|| frame.opcode.as_u8().to_string(), string);
    let mut entries = vec![("opcode", opcode)];
    if !frame.fin {
        entries.push(("fin", "false".into()));
    }
    if frame.rsv != 0 {
        entries.push(("rsv", frame.rsv.to_string()));
    }
    entries.push(("mask", string(&frame.mask.map_or_else(|| "none".to_string(), hex::encode))));
    if !frame.payload.is_empty() {
        entries.push(("payload", payload_value(&frame.payload)));
    }
    let encoding = match frame.length_encoding {
        LengthEncoding::Minimal => None,
        LengthEncoding::Bits7 => Some("7"),
        LengthEncoding::Bits16 => Some("16"),
        LengthEncoding::Bits64 => Some("64"),
    };
    if let Some(encoding) = encoding {
        entries.push(("length_encoding", string(encoding)));
    }
    if let Some(length) = frame.declared_length {
        entries.push(("declared_length", string(&format!("{length:#x}"))));
    }
    table(entries)
}

/// `close = { code, reason }` when the payload reads that way, else its bytes.
fn close_value(payload: &[u8]) -> String {
    match close_parts(payload) {
        Some(None) => "{}".into(),
        Some(Some((code, reason))) => {
            let mut entries = vec![("code", code.to_string())];
            if !reason.is_empty() {
                entries.push(("reason", payload_value(reason)));
            }
            table(entries)
        }
        None => table(vec![("payload", payload_value(payload))]),
    }
}

/// A close payload as a code and a printable reason (`Some(None)`: empty), if it reads that way.
fn close_parts(payload: &[u8]) -> Option<Option<(u16, &[u8])>> {
    match parse_close_payload(payload) {
        Ok(None) => Some(None),
        Ok(Some((code, reason))) if printable(reason).is_some() => Some(Some((code.0, reason))),
        _ => None,
    }
}

/// An alternative of a sequence's case: the oracle's, with the closing the catalog expects.
struct PlannedAlternative<'a> {
    alternative: &'a oracle::Alternative,
    closing: Closing,
}

/// The catalog's `close` of an alternative: who closes, the codes (sorted, once each), whether
/// cleanly, and whether the other closer fails the case.
#[derive(PartialEq)]
struct Closing {
    by: Closer,
    codes: Vec<u16>,
    clean: bool,
    wrong_closer_fails: bool,
}

/// The alternatives as the catalog's. The judge picks an alternative by its events and closer alone,
/// so alternatives with the same closer share their close codes (and a clean close is required only
/// if all of them require it); alternatives that end up the same are kept once. The strictest first.
fn plan_alternatives<'a>(sequence: &Sequence, outcome: &'a Outcome) -> Vec<PlannedAlternative<'a>> {
    let close_at = close_step(sequence, outcome);
    let has_failures = outcome.alternatives.iter().any(|a| matches!(a.end, End::Fails(_)));
    let closings: Vec<(Closer, bool)> = outcome
        .alternatives
        .iter()
        .map(|alternative| {
            let at_close_step = close_at == Some(alternative.at);
            match &alternative.end {
                // wsspec closes once the replies are in; a server taking a permitted failure branch
                // may cross that close with its own.
                End::Open(_) => (Closer::Wsspec, !has_failures),
                End::Answers(_) if at_close_step => (Closer::Wsspec, true),
                End::Fails(_) if at_close_step => (Closer::Wsspec, false),
                End::Answers(_) | End::Fails(_) => (Closer::Peer, false),
            }
        })
        .collect();
    let shared = |by: Closer| {
        let same: Vec<usize> = (0..closings.len()).filter(|i| closings[*i].0 == by).collect();
        let mut codes: Vec<u16> = same.iter().flat_map(|i| outcome.alternatives[*i].end.codes().to_vec()).collect();
        if by == Closer::Wsspec && has_failures {
            codes.extend(outcome.alternatives.iter().filter(|a| matches!(a.end, End::Fails(_))).flat_map(|a| a.end.codes().to_vec()));
        }
        codes.sort_unstable();
        codes.dedup();
        (codes, same.iter().all(|i| closings[*i].1))
    };
    let mut order: Vec<usize> = (0..outcome.alternatives.len()).collect();
    order.sort_by_key(|i| outcome.alternatives[*i].grade != Grade::Ok);
    let mut out: Vec<PlannedAlternative<'a>> = Vec::new();
    for i in order {
        let alternative = &outcome.alternatives[i];
        let by = closings[i].0;
        let (codes, clean) = shared(by);
        let wrong_closer_fails = by == Closer::Peer && matches!(alternative.end, End::Fails(_)) && alternative.grade == Grade::Ok;
        let closing = Closing { by, codes, clean, wrong_closer_fails };
        // The same events (replies and whether each is optional) and closing: written once.
        let same_events = |other: &oracle::Alternative| other.replies == alternative.replies;
        if out.iter().any(|planned| same_events(planned.alternative) && planned.closing == closing) {
            continue;
        }
        out.push(PlannedAlternative { alternative, closing });
    }
    out
}

/// The alternatives as TOML, each with its `close`, the strictest first.
fn expectations(sequence: &Sequence, outcome: &Outcome) -> Vec<(String, String)> {
    plan_alternatives(sequence, outcome)
        .into_iter()
        .map(|PlannedAlternative { alternative, closing }| {
            let events = array(alternative.replies.iter().map(event_value).collect());
            let close = closing_value(&closing);
            let mut entries = vec![("events", events)];
            if alternative.grade == Grade::Informational {
                entries.push(("grade", string("INFORMATIONAL")));
            }
            entries.push(("why", string(alternative.rule.summary)));
            entries.push(("close", close.clone()));
            (table(entries), close)
        })
        .collect()
}

/// The catalog's `close` of an alternative.
fn closing_value(closing: &Closing) -> String {
    let by = match closing.by {
        Closer::Wsspec => "wsspec",
        Closer::Peer => "peer",
    };
    let codes = array(closing.codes.iter().map(u16::to_string).collect());
    let mut entries = vec![("by", string(by)), ("codes", codes), ("clean", closing.clean.to_string())];
    if closing.wrong_closer_fails {
        entries.push(("wrong_closer_fails", "true".into()));
    }
    table(entries)
}

fn event_value(expected: &Expected) -> String {
    let (key, payload) = match &expected.reply {
        Reply::Echo { binary: false, payload } => ("text", payload),
        Reply::Echo { binary: true, payload } => ("binary", payload),
        Reply::Pong(payload) => ("pong", payload),
    };
    let mut entries = vec![(key, payload_value(payload))];
    if expected.optional {
        entries.push(("optional", "true".into()));
    }
    table(entries)
}

/// A payload as text when it is printable UTF-8, else as hex; one that repeats a unit at most half
/// its length (a long generated payload repeats the input it was made of) as that unit and its
/// length, `{ pattern = …, len = … }`, so a 64 KiB payload is not 128 KiB of hex to write and parse.
fn payload_value(bytes: &[u8]) -> String {
    let (unit, len) = payload_parts(bytes);
    let value = match printable(unit) {
        // A prefix of printable UTF-8 that the rest repeats ends on a character boundary: the byte
        // after it is the first byte again.
        Some(text) => string(text),
        None => table(vec![("hex", string(&hex::encode(unit)))]),
    };
    match (len, printable(unit).is_some()) {
        (None, _) => value,
        (Some(len), true) => table(vec![("pattern", value), ("len", len.to_string())]),
        (Some(len), false) => table(vec![("pattern_hex", string(&hex::encode(unit))), ("len", len.to_string())]),
    }
}

/// A payload as the unit it repeats and its length, or as itself (`None`): see [`payload_value`].
fn payload_parts(bytes: &[u8]) -> (&[u8], Option<usize>) {
    if bytes.len() < 64 {
        return (bytes, None);
    }
    match short_period(bytes) {
        Some(period) => (&bytes[..period], Some(bytes.len())),
        None => (bytes, None),
    }
}

/// [`period`] when it is at most half of `bytes` (at least 16 bytes long), else `None`, mostly
/// without [`period`]'s table: the period is the smallest shift `p` with `bytes[p..]` equal to
/// `bytes[..n - p]`, so shifts are tried in order, each first on its 8 leading bytes; after
/// [`SHIFTS_TRIED`] shifts that pass those and fail later (a payload built to be slow), the table.
fn short_period(bytes: &[u8]) -> Option<usize> {
    const SHIFTS_TRIED: usize = 32;
    let n = bytes.len();
    let mut failed = 0;
    for p in 1..=n / 2 {
        if bytes[p..p + 8] != bytes[..8] {
            continue;
        }
        if bytes[p..] == bytes[..n - p] {
            return Some(p);
        }
        failed += 1;
        if failed == SHIFTS_TRIED {
            return Some(period(bytes)).filter(|&p| p <= n / 2);
        }
    }
    None
}

/// The smallest `p` such that every byte equals the one `p` before it (`bytes.len()` when none
/// shorter does): the length of `bytes` less its longest border (Knuth–Morris–Pratt).
fn period(bytes: &[u8]) -> usize {
    let mut border = vec![0usize; bytes.len()];
    for i in 1..bytes.len() {
        let mut k = border[i - 1];
        while k > 0 && bytes[i] != bytes[k] {
            k = border[k - 1];
        }
        border[i] = k + usize::from(bytes[i] == bytes[k]);
    }
    bytes.len() - border.last().copied().unwrap_or(0)
}

fn printable(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok().filter(|text| !text.chars().any(char::is_control))
}

fn string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

fn array(items: Vec<String>) -> String {
    format!("[{}]", items.join(", "))
}

/// An inline table with its keys in the order given (the catalog's own order).
fn table(entries: Vec<(&str, String)>) -> String {
    if entries.is_empty() {
        return "{}".into();
    }
    let body: Vec<String> = entries.into_iter().map(|(key, value)| format!("{key} = {value}")).collect();
    format!("{{ {} }}", body.join(", "))
}
