//! What the templates show, computed in Rust so the templates stay plain: Autobahn's verdict
//! words and colours, sizes, and every text from the target cut to a size a browser handles.

use std::borrow::Cow;

use serde::Serialize;

use crate::{
    cut::{halve_received, halve_wirelog},
    text::clip,
    Behavior, BehaviorClose, CaseRecord, ExpectedRecord, IndexEntry, Status, WireEntry, WireGap,
};

/// Characters of target-sent text (events, reasons, payload previews) shown in one place.
const MAX_TEXT: usize = 1_000;
/// Rows of a list (events, wire log entries) shown on a page: a longer list (a record wsspec wrote
/// has far fewer) is cut in the middle, its first and last halves shown, as `crate::cut` cuts it.
const MAX_ROWS: usize = 2_000;
/// Characters of a result's status banner shown: its reason (at most `MAX_REASON_CHARS`) and what
/// the expectations say of it.
pub const BANNER_CHARS: usize = crate::MAX_REASON_CHARS + 200;
/// Characters of each raw handshake shown.
const MAX_HANDSHAKE: usize = 16_384;

/// A verdict as a coloured cell: a CSS class and Autobahn's word for it.
#[derive(Debug, Clone, Serialize)]
pub struct Badge {
    pub class: &'static str,
    pub label: String,
}

/// Autobahn's legend, in its order: (CSS class, word).
pub const LEGEND: [(&str, &str); 6] = [
    ("pass", "Pass"),
    ("non-strict", "Non-Strict"),
    ("info", "Info"),
    ("unimplemented", "Unimplemented"),
    ("fail", "Fail"),
    ("missing", "Missing"),
];

/// The `LEGEND` entry of a result that was not run.
pub const MISSING: usize = 5;

/// The `LEGEND` entry of a behavior verdict.
pub fn legend_of(behavior: Behavior) -> usize {
    match behavior {
        Behavior::Ok => 0,
        Behavior::NonStrict => 1,
        Behavior::Informational => 2,
        Behavior::Unimplemented => 3,
        Behavior::Failed => 4,
    }
}

/// The badge of a `LEGEND` entry.
pub fn badge(legend: usize) -> Badge {
    let (class, label) = LEGEND[legend];
    Badge { class, label: label.into() }
}

/// The closing verdict, showing the target's close code where Autobahn does.
pub fn close_badge(close: BehaviorClose, code: Option<u16>) -> Badge {
    let code = || code.map_or("no code".to_string(), |c| c.to_string());
    match close {
        BehaviorClose::Ok => Badge { class: "pass", label: code() },
        BehaviorClose::Informational => Badge { class: "info", label: code() },
        BehaviorClose::FailedByClient => Badge { class: "almost", label: code() },
        BehaviorClose::WrongCode => Badge { class: "fail", label: format!("{} (wrong code)", code()) },
        BehaviorClose::Unclean => Badge { class: "fail", label: "Unclean".into() },
        BehaviorClose::Failed => Badge { class: "fail", label: "Fail".into() },
    }
}

/// What a result means for the run, as a page banner.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    pub class: &'static str,
    pub title: &'static str,
    pub why: String,
}

/// The banner of `status`. A run without expectations fails a result for its own reason: the page
/// shows that reason under Outcome, so the banner points there rather than repeat it (`reason`).
pub fn status_view(status: &Status, reason: Option<&str>) -> Option<StatusView> {
    let (class, title) = match status {
        Status::Passed => return None,
        Status::Failed { .. } => ("fail", "Fails the run"),
        Status::Expected { .. } => ("expected", "As expected"),
        Status::Stale { .. } => ("fail", "Stale expectation, fails the run"),
    };
    let why = status.why().unwrap_or_default();
    let why = if reason == Some(why) { "its verdicts break a MUST: the reason is under Outcome.".to_string() } else { clip(why, BANNER_CHARS) };
    Some(StatusView { class, title, why })
}

/// `16 MiB (16,777,216 bytes)`; small sizes as plain bytes.
pub fn size(bytes: u64) -> String {
    let grouped = group_digits(bytes);
    match bytes {
        0..1024 => format!("{grouped} B"),
        _ => {
            let (value, unit) = if bytes >= 1 << 20 { (bytes as f64 / (1u64 << 20) as f64, "MiB") } else { (bytes as f64 / 1024.0, "KiB") };
            let value = if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") };
            format!("{value} {unit} ({grouped} bytes)")
        }
    }
}

fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line of the closing-behaviour table.
#[derive(Debug, Serialize)]
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// One wire log row. The page writes its cells without end tags (optional in HTML, §13.1.2.4 of
/// the HTML standard) and aligns columns by position in `wsspec.css`: a row costs about half the
/// bytes, and a whole-catalog report is hundreds of pages.
#[derive(Debug, Serialize)]
pub struct WireRow {
    /// The entry's number in the whole log, counting the entries left out before it.
    pub n: u64,
    pub t: String,
    pub dir: String,
    pub kind: String,
    pub opcode: String,
    pub fin: String,
    pub rsv: String,
    pub len: String,
    pub mask: String,
    pub data: String,
}

impl WireRow {
    fn new(n: u64, entry: &WireEntry) -> Self {
        let frame = entry.frame.as_ref();
        Self {
            n,
            t: format!("{:.3}", entry.t),
            dir: clip(&entry.dir, 8),
            kind: clip(&entry.kind, 16),
            opcode: frame.map_or(String::new(), |f| format!("{} ({})", clip(&f.opcode_name, 24), f.opcode)),
            fin: frame.map_or(String::new(), |f| u8::from(f.fin).to_string()),
            rsv: frame.map_or(String::new(), |f| f.rsv.to_string()),
            len: if entry.kind == "event" { String::new() } else { size(entry.len) },
            mask: frame.and_then(|f| f.mask.as_deref()).map_or(String::new(), |m| clip(m, 8)),
            data: data_preview(entry),
        }
    }
}

/// The entry's data, saying so when it is the first bytes of a longer chunk (wsspec logs chunks as
/// `0x` and the hex of their start; previews of frames already say how long they are).
fn data_preview(entry: &WireEntry) -> String {
    let data = clip(&entry.data, MAX_TEXT);
    match entry.data.strip_prefix("0x") {
        Some(hex) if hex.bytes().all(|b| b.is_ascii_hexdigit()) && ((hex.len() / 2) as u64) < entry.len => {
            format!("{data} … (the first {} of {} bytes)", hex.len() / 2, entry.len)
        }
        _ => data,
    }
}

/// Everything a per-case page shows.
#[derive(Debug, Serialize)]
pub struct CasePage {
    pub agent: String,
    pub id: String,
    pub behavior: Badge,
    pub close: Badge,
    /// Autobahn's words: `behavior` and `behaviorClose`.
    pub behavior_verdict: &'static str,
    pub close_verdict: &'static str,
    pub status: Option<StatusView>,
    pub duration: u64,
    /// Absent when the per-case file could not be read; the page then says why.
    pub record: Option<RecordView>,
    pub unreadable: String,
}

#[derive(Debug, Serialize)]
pub struct RecordView {
    pub title: String,
    pub description: String,
    pub rfc: String,
    pub level: String,
    pub requirement: String,
    pub note: Option<String>,
    pub started: String,
    pub result: String,
    pub result_close: String,
    pub expected: Vec<ExpectedRecord>,
    pub received: Vec<String>,
    pub closing: Vec<Fact>,
    pub tls: Option<String>,
    pub http_request: String,
    pub http_response: String,
    pub wire: Vec<WireRow>,
    pub wire_elided: u64,
    /// Where the wire log left entries out (rows before it) and what it says there.
    pub wire_gap: Option<GapView>,
    /// Every event received, counted by kind: `ping ×100000, text message ×3`.
    pub received_counts: String,
    /// The bounds of wsspec the case reached, as the record says.
    pub bounds: Vec<String>,
}

/// The line a page shows where entries were left out.
#[derive(Debug, Serialize)]
pub struct GapView {
    pub at: usize,
    pub text: String,
}

impl CasePage {
    pub fn new(agent: &str, id: &str, entry: &IndexEntry, record: Option<&CaseRecord>, status: &Status, unreadable: String) -> Self {
        Self {
            agent: agent.to_string(),
            id: id.to_string(),
            behavior: badge(legend_of(entry.behavior)),
            close: close_badge(entry.behavior_close, entry.remote_close_code),
            behavior_verdict: entry.behavior.as_str(),
            close_verdict: entry.behavior_close.as_str(),
            status: status_view(status, record.map(CaseRecord::reason)),
            duration: entry.duration,
            record: record.map(RecordView::new),
            unreadable,
        }
    }
}

impl RecordView {
    fn new(r: &CaseRecord) -> Self {
        let (wire, gap, on_this_page) = shown_wirelog(r);
        Self {
            title: r.title.clone(),
            description: r.description.clone(),
            rfc: r.rfc.clone(),
            level: r.level.clone(),
            requirement: r.requirement.clone(),
            note: r.note.clone(),
            started: r.started.clone(),
            result: clip(&r.result, MAX_TEXT),
            result_close: clip(&r.result_close, MAX_TEXT),
            expected: r.expected.clone(),
            received: shown_received(r).iter().map(|e| clip(e, MAX_TEXT)).collect(),
            closing: closing_facts(r),
            tls: r.tls.as_ref().map(|t| clip(t, MAX_TEXT)),
            http_request: clip(&r.http_request, MAX_HANDSHAKE),
            http_response: clip(&r.http_response, MAX_HANDSHAKE),
            wire: wire_rows(&wire, gap.as_ref()),
            wire_elided: r.wirelog_elided + on_this_page,
            wire_gap: gap.map(|g| GapView {
                at: g.at,
                text: format!(
                    "… {} entries left out here: {} frames, {} of TCP chunks{} …",
                    g.entries,
                    g.frames,
                    size(g.bytes),
                    if on_this_page > 0 { format!(" ({on_this_page} of them are in the case file, not on this page)") } else { String::new() }
                ),
            }),
            received_counts: r.received_counts.iter().map(|(kind, n)| format!("{} ×{n}", clip(kind, 32))).take(MAX_ROWS).collect::<Vec<_>>().join(", "),
            bounds: r.bounds.iter().take(16).map(|b| clip(b, MAX_TEXT)).collect(),
        }
    }
}

/// The wire log's entries a page shows, at most [`MAX_ROWS`], with its gap (the record's, grown by
/// what the page leaves out) and how many entries only the page leaves out.
fn shown_wirelog(r: &CaseRecord) -> (Cow<'_, [WireEntry]>, Option<WireGap>, u64) {
    let mut gap = r.wirelog_gap.clone();
    if r.wirelog.len() <= MAX_ROWS {
        return (Cow::Borrowed(&r.wirelog), gap, 0);
    }
    let (mut entries, mut on_this_page) = (r.wirelog.clone(), 0);
    while entries.len() > MAX_ROWS && halve_wirelog(&mut entries, &mut gap, &mut on_this_page, MAX_ROWS / 2, MAX_ROWS / 2) {}
    (Cow::Owned(entries), gap, on_this_page)
}

/// The events a page lists, at most [`MAX_ROWS`] and a line counting what it leaves out.
fn shown_received(r: &CaseRecord) -> Cow<'_, [String]> {
    if r.received.len() <= MAX_ROWS {
        return Cow::Borrowed(&r.received);
    }
    let (mut lines, mut elided) = (r.received.clone(), r.received_elided);
    while lines.len() > MAX_ROWS + 1 && halve_received(&mut lines, &mut elided, MAX_ROWS / 2, MAX_ROWS / 2) {}
    Cow::Owned(lines)
}

/// The wire log's rows, numbered as in the whole log (`gap` says where entries were left out).
fn wire_rows(entries: &[WireEntry], gap: Option<&WireGap>) -> Vec<WireRow> {
    let (at, left_out) = gap.map_or((usize::MAX, 0), |g| (g.at, g.entries));
    let number = |i: usize| i as u64 + 1 + if i >= at { left_out } else { 0 };
    entries.iter().enumerate().map(|(i, e)| WireRow::new(number(i), e)).collect()
}

fn closing_facts(r: &CaseRecord) -> Vec<Fact> {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let code = |c: Option<u16>| c.map_or("none".to_string(), |c| c.to_string());
    let reason = |r: &Option<String>| r.as_deref().map_or("none".to_string(), |r| clip(r, MAX_TEXT));
    let mut facts = vec![
        Fact { label: "Started the closing", value: if r.closed_by_me { "wsspec" } else { "the target" }.into() },
        Fact { label: "TCP dropped by wsspec", value: yes_no(r.dropped_by_me) },
        Fact { label: "Clean closing handshake", value: yes_no(r.was_clean) },
    ];
    if let Some(why) = &r.was_not_clean_reason {
        facts.push(Fact { label: "Why not clean", value: clip(why, MAX_TEXT) });
    }
    facts.extend([
        Fact { label: "wsspec's close code", value: code(r.local_close_code) },
        Fact { label: "wsspec's close reason", value: reason(&r.local_close_reason) },
        Fact { label: "Target's close code", value: code(r.remote_close_code) },
        Fact { label: "Target's close reason", value: reason(&r.remote_close_reason) },
    ]);
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(125), "125 B");
        assert_eq!(size(65_536), "64 KiB (65,536 bytes)");
        assert_eq!(size(16 << 20), "16 MiB (16,777,216 bytes)");
        assert_eq!(size(1_500), "1.5 KiB (1,500 bytes)");
    }

    #[test]
    fn a_page_of_a_long_record_shows_how_it_ended() {
        // A record from elsewhere (wsspec's own keep a few dozen entries): more rows than a page shows.
        let mut r = crate::testing::record("a", "1.1.1", crate::Behavior::Ok, crate::BehaviorClose::Ok);
        let entry = r.wirelog[0].clone();
        r.wirelog = (0..5_000).map(|i| WireEntry { t: i as f64, ..entry.clone() }).collect();
        r.received = (0..5_000).map(|i| format!("event {i}")).collect();
        for gap in [None, Some(crate::WireGap { at: 4_000, entries: 10, frames: 10, bytes: 0 })] {
            r.wirelog_gap = gap.clone();
            let view = RecordView::new(&r);
            let context = format!("{gap:?}");
            assert!(view.wire.len() <= MAX_ROWS && view.received.len() <= MAX_ROWS + 1, "{context}");
            assert_eq!(view.wire.last().map(|row| row.t.as_str()), Some("4999.000"), "the last entry is shown; {context}");
            assert_eq!(view.wire.last().map(|row| row.n), Some(5_000 + gap.as_ref().map_or(0, |g| g.entries)), "{context}");
            assert_eq!(view.received.last().map(String::as_str), Some("event 4999"), "{context}");
            let shown = view.wire_gap.as_ref().expect("the page marks what it leaves out");
            let left_out = 5_000 - view.wire.len() as u64 + gap.as_ref().map_or(0, |g| g.entries);
            assert!(shown.text.contains(&format!("{left_out} entries left out")), "{}; {context}", shown.text);
        }
    }

    #[test]
    fn a_cut_chunk_says_so() {
        let chunk = |data: &str, len| WireEntry { t: 0.0, dir: "rx".into(), kind: "chunk".into(), len, data: data.into(), frame: None };
        assert_eq!(data_preview(&chunk("0x0102", 180)), "0x0102 … (the first 2 of 180 bytes)");
        assert_eq!(data_preview(&chunk("0x0102", 2)), "0x0102");
        assert_eq!(data_preview(&chunk("0x01 … (9 bytes)", 9)), "0x01 … (9 bytes)");
        assert_eq!(data_preview(&chunk("Hello", 5)), "Hello");
    }
}
