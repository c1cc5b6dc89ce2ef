//! The last bound on a case file: whatever wrote the record, its JSON is at most its share of the
//! run's budget (`crate::record_budget`, never over `MAX_RECORD_REPORT_BYTES`). The engine bounds
//! each part (events, wire log, heads) on its own; a record still over its share has its wire log
//! and events cut further in the middle, keeping how each began and how each ended, and says so in
//! `bounds`.

use crate::{autobahn::to_compact_json, elided_events_line, events_in_line, text::clip, CaseRecord, WireGap, ELIDED_EVENTS};

/// Characters of any one text kept when cutting lists is not enough.
const LAST_RESORT_TEXT: usize = 2_048;

/// `record` as the JSON of its case file, cut to fit `max` bytes.
pub fn fitted_json(record: &mut CaseRecord, max: usize) -> Vec<u8> {
    let mut json = to_compact_json(&*record);
    if json.len() <= max {
        return json;
    }
    let before = json.len();
    while json.len() > max {
        if !(cut_wirelog(record) || cut_received(record) || clip_texts(record)) {
            break; // Nothing left to cut: the fixed parts alone are over (never with wsspec's catalog).
        }
        json = to_compact_json(&*record);
    }
    record.bounds.push(format!(
        "Record: {before} bytes, over its share of wsspec's bound on a run's records ({max} bytes): its wire log and \
         events were cut further in the middle."
    ));
    to_compact_json(&*record)
}

/// Entries kept at each end of a list however often it is cut: how the case began (the opening
/// handshake, the first frames) and how it ended (the closing handshake).
const KEEP_AT_EACH_END: usize = 6;

/// The range to remove: half of what lies between the kept ends, in a window that touches
/// `center` (an earlier gap, so the two become one) as far as the kept ends allow; `None` when
/// nothing is left between them.
fn middle(len: usize, center: usize) -> Option<std::ops::Range<usize>> {
    let (lo, hi) = (KEEP_AT_EACH_END, len.checked_sub(KEEP_AT_EACH_END)?);
    let width = hi.checked_sub(lo).filter(|between| *between > 0)?.div_ceil(2);
    let start = center.clamp(lo, hi).saturating_sub(width / 2).clamp(lo, hi - width);
    Some(start..start + width)
}

/// Halves the wire log around its gap (or its middle), keeping how it began and how it ended;
/// false when it is already short.
fn cut_wirelog(record: &mut CaseRecord) -> bool {
    let len = record.wirelog.len();
    let Some(cut) = middle(len, record.wirelog_gap.as_ref().map_or(len / 2, |g| g.at)) else {
        return false;
    };
    let at = cut.start;
    let removed: Vec<_> = record.wirelog.drain(cut).collect();
    let frames = removed.iter().filter(|e| e.frame.is_some()).count() as u64;
    let bytes = removed.iter().filter(|e| e.kind == "chunk").map(|e| e.len).sum::<u64>();
    let gap = record.wirelog_gap.get_or_insert(WireGap { at, entries: 0, frames: 0, bytes: 0 });
    gap.at = at;
    gap.entries += removed.len() as u64;
    gap.frames += frames;
    gap.bytes += bytes;
    record.wirelog_elided += removed.len() as u64;
    true
}

/// Halves the kept events around the line that counts left-out ones (or the middle); false when
/// they are already short.
fn cut_received(record: &mut CaseRecord) -> bool {
    let len = record.received.len();
    let center = record.received.iter().position(|line| line.starts_with(ELIDED_EVENTS)).unwrap_or(len / 2);
    // The cut leaves a line counting what it removed: fewer than two lines removed is no progress.
    let Some(cut) = middle(len, center).filter(|cut| cut.len() >= 2) else {
        return false;
    };
    let at = cut.start;
    let removed: u64 = record.received.drain(cut).map(|line| events_in_line(&line)).sum();
    record.received_elided += removed;
    record.received.insert(at, elided_events_line(record.received_elided));
    true
}

/// Clips every long text of the record; false when none was long.
fn clip_texts(record: &mut CaseRecord) -> bool {
    let mut clipped = false;
    let texts = [&mut record.http_request, &mut record.http_response, &mut record.result, &mut record.result_close]
        .into_iter()
        .chain(record.received.iter_mut())
        .chain(record.wirelog.iter_mut().map(|e| &mut e.data));
    for text in texts {
        if text.chars().count() > LAST_RESORT_TEXT + 64 {
            *text = clip(text, LAST_RESORT_TEXT);
            clipped = true;
        }
    }
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;
    use crate::{Behavior, BehaviorClose, MAX_RECORD_REPORT_BYTES};

    #[test]
    fn a_huge_record_is_cut_to_the_bound_and_says_so() {
        let mut r = record("a", "9.1.6", Behavior::Ok, BehaviorClose::Ok);
        let entry = r.wirelog[0].clone();
        r.wirelog = (0..20_000).map(|i| crate::WireEntry { t: i as f64, ..entry.clone() }).collect();
        r.received = (0..5_000).map(|i| format!("ping {i}")).collect();
        r.http_response = "x".repeat(1 << 20);
        let json = fitted_json(&mut r, MAX_RECORD_REPORT_BYTES);
        assert!(json.len() <= MAX_RECORD_REPORT_BYTES, "{} bytes", json.len());
        assert_eq!(r.wirelog.first().unwrap().t, 0.0, "the head is kept");
        assert_eq!(r.wirelog.last().unwrap().t, 19_999.0, "the tail is kept");
        let gap = r.wirelog_gap.clone().unwrap();
        assert_eq!(gap.entries as usize + r.wirelog.len(), 20_000);
        assert_eq!(r.wirelog_elided, gap.entries);
        assert_eq!(r.received.last().unwrap(), "ping 4999");
        assert!(r.bounds[0].contains("over its share of wsspec's bound"), "{:?}", r.bounds);
        let back: CaseRecord = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.bounds, r.bounds, "the note is in the file");
    }

    #[test]
    fn cutting_again_and_again_keeps_how_the_case_ended() {
        let mut r = record("a", "9.7.1", Behavior::Ok, BehaviorClose::Ok);
        let entry = r.wirelog[0].clone();
        r.wirelog = (0..40).map(|i| crate::WireEntry { t: i as f64, data: "x".repeat(400), ..entry.clone() }).collect();
        // The engine's own gap near the end, between a long head and a short tail.
        r.wirelog_gap = Some(WireGap { at: 34, entries: 3_000, frames: 1_500, bytes: 6_000 });
        r.received = (0..40).map(|i| format!("event {i}")).collect();
        fitted_json(&mut r, 4_096);
        let kept: Vec<f64> = r.wirelog.iter().map(|e| e.t).collect();
        assert_eq!(kept[..KEEP_AT_EACH_END], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "{kept:?}");
        assert_eq!(kept[kept.len() - KEEP_AT_EACH_END..], [34.0, 35.0, 36.0, 37.0, 38.0, 39.0], "{kept:?}");
        let gap = r.wirelog_gap.clone().unwrap();
        assert_eq!(gap.at, KEEP_AT_EACH_END, "one gap, between the kept ends");
        assert_eq!(gap.entries, 3_000 + 40 - 2 * KEEP_AT_EACH_END as u64);
        assert_eq!(r.received.last().unwrap(), "event 39");
    }

    #[test]
    fn a_small_record_is_left_alone() {
        let mut r = record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok);
        let json = fitted_json(&mut r, MAX_RECORD_REPORT_BYTES);
        assert_eq!(json, to_compact_json(&r));
        assert!(r.bounds.is_empty());
    }
}
