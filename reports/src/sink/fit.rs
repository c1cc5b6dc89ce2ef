//! The last bound on a case's files: whatever wrote the record, its JSON and the page a report
//! renders of it take at most its share of the run's report budget on disk, in whole blocks
//! (`crate::budget`), and the JSON at most `MAX_RECORD_REPORT_BYTES`. The engine bounds each part
//! (events, wire log, heads) on its own; here a reason is cut to `MAX_REASON_CHARS`, and a record
//! still over its share has its wire log and events cut further in the middle (`crate::cut`: how
//! each began as far as the share allows, how each ended always), then its long texts clipped, and
//! says so in `bounds`.

use crate::{
    autobahn::to_compact_json,
    budget::on_disk,
    cut::{halve_received, halve_wirelog, TAIL_KEEP},
    html::case_page_bytes,
    text::clip,
    CaseRecord, MAX_REASON_CHARS, MAX_RECORD_REPORT_BYTES,
};

/// Characters of a reason kept however far the other texts are clipped.
const REASON_FLOOR: usize = 240;

/// One way of cutting a record, tried in [`CUTS`] order, each as long as it cuts something.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// Halve the wire log, then the events, in the middle, keeping this many entries at the start
    /// and [`TAIL_KEEP`] at the end.
    Lists(usize),
    /// Clip every text the target had a say in to this many characters.
    Texts(usize),
}

/// The cuts, gentlest first: the first [`HEAD_KEEP`] entries stay unless the texts, clipped to 512
/// characters, are still over; then two (the opening handshake, which the page also shows whole),
/// then one. The last [`TAIL_KEEP`] (the closing handshake, the TCP close) stay whatever is cut.
const CUTS: [Cut; 8] =
    [Cut::Lists(HEAD_KEEP), Cut::Texts(2_048), Cut::Texts(512), Cut::Lists(2), Cut::Texts(128), Cut::Lists(1), Cut::Texts(48), Cut::Texts(16)];

/// Entries kept at the start of a list by the gentlest cut: how the case began (the opening
/// handshake, the first frames).
const HEAD_KEEP: usize = 6;

/// What `record`'s two files take on disk: its JSON and the page a report renders of it.
fn files_on_disk(record: &CaseRecord, json: &[u8]) -> u64 {
    on_disk(json.len() as u64) + on_disk(case_page_bytes(record) as u64)
}

/// `record` as the JSON of its case file, cut so that it and its page take at most `share` bytes on
/// disk (see the module doc); returns the JSON and what the two files take on disk.
pub fn fitted_json(record: &mut CaseRecord, share: u64) -> (Vec<u8>, u64) {
    clip_reasons(record);
    let mut json = to_compact_json(&*record);
    let mut used = files_on_disk(record, &json);
    if used <= share && json.len() <= MAX_RECORD_REPORT_BYTES {
        return (json, used);
    }
    record.bounds.push(format!(
        "Record: its case file and page took {used} bytes on disk, over its share of wsspec's bound on a run's report \
         ({share} bytes): its wire log and events were cut further in the middle, keeping their last entries (the gap in \
         the wire log counts everything left out of it), and its long texts clipped where that was not enough."
    ));
    let mut cuts = CUTS.iter();
    let mut cut = cuts.next();
    while let Some(how) = cut.filter(|_| used > share || json.len() > MAX_RECORD_REPORT_BYTES) {
        let (changed, again) = match *how {
            Cut::Lists(head) => (cut_lists(record, head), true),
            Cut::Texts(max) => (clip_texts(record, max), false),
        };
        if changed {
            json = to_compact_json(&*record);
            used = files_on_disk(record, &json);
        }
        if !(changed && again) {
            // Past the last cut, the case's own texts alone are over: the excess comes off the
            // shares of the cases after it (`CaseFilesBudget::settle`).
            cut = cuts.next();
        }
    }
    (json, used)
}

/// Cuts `result` and `result_close` to [`MAX_REASON_CHARS`], noting it in `bounds`.
fn clip_reasons(record: &mut CaseRecord) {
    let mut clipped = false;
    for reason in [&mut record.result, &mut record.result_close] {
        if reason.chars().count() > MAX_REASON_CHARS + 64 {
            *reason = clip(reason, MAX_REASON_CHARS);
            clipped = true;
        }
    }
    if clipped {
        record.bounds.push(format!("Reason: cut to its first {MAX_REASON_CHARS} characters (the events are listed below)."));
    }
}

/// Halves the wire log, or when it is short its events, keeping `head` entries at the start and
/// [`TAIL_KEEP`] at the end; false when both are short.
fn cut_lists(record: &mut CaseRecord, head: usize) -> bool {
    halve_wirelog(&mut record.wirelog, &mut record.wirelog_gap, &mut record.wirelog_elided, head, TAIL_KEEP)
        || halve_received(&mut record.received, &mut record.received_elided, head, TAIL_KEEP)
}

/// Clips every text of the record the target had a say in to `max` characters; false when that
/// made none shorter.
fn clip_texts(record: &mut CaseRecord, max: usize) -> bool {
    let mut clipped = false;
    // A reason is what a reader looks for first: it keeps at least REASON_FLOOR characters.
    for reason in [&mut record.result, &mut record.result_close] {
        if reason.chars().count() > max.max(REASON_FLOOR) + 64 {
            *reason = clip(reason, max.max(REASON_FLOOR));
            clipped = true;
        }
    }
    let texts = [&mut record.http_request, &mut record.http_response]
        .into_iter()
        .chain([&mut record.remote_close_reason, &mut record.was_not_clean_reason, &mut record.tls].into_iter().flatten())
        .chain(record.received.iter_mut())
        .chain(record.wirelog.iter_mut().map(|e| &mut e.data));
    for text in texts {
        // Clipped where that makes it shorter: the note of what was left out takes 35 characters.
        let shorter = clip(text, max);
        if shorter.len() < text.len() {
            *text = shorter;
            clipped = true;
        }
    }
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;
    use crate::{budget::MAX_CASE_SHARE, Behavior, BehaviorClose, WireGap};

    #[test]
    fn a_huge_record_is_cut_to_the_bound_and_says_so() {
        let mut r = record("a", "9.1.6", Behavior::Ok, BehaviorClose::Ok);
        let entry = r.wirelog[0].clone();
        r.wirelog = (0..20_000).map(|i| crate::WireEntry { t: i as f64, ..entry.clone() }).collect();
        r.received = (0..5_000).map(|i| format!("ping {i}")).collect();
        r.http_response = "x".repeat(1 << 20);
        let (json, used) = fitted_json(&mut r, MAX_CASE_SHARE);
        assert!(json.len() <= MAX_RECORD_REPORT_BYTES, "{} bytes", json.len());
        assert!(used <= MAX_CASE_SHARE && used == files_on_disk(&r, &json), "{used} bytes on disk");
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
        fitted_json(&mut r, 6 * crate::budget::BLOCK);
        let kept: Vec<f64> = r.wirelog.iter().map(|e| e.t).collect();
        assert_eq!(kept[..HEAD_KEEP], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "{kept:?}");
        assert_eq!(kept[kept.len() - TAIL_KEEP..], [34.0, 35.0, 36.0, 37.0, 38.0, 39.0], "{kept:?}");
        let gap = r.wirelog_gap.clone().unwrap();
        assert!(gap.at >= HEAD_KEEP && kept.len() < 40, "{gap:?}");
        assert_eq!(gap.entries as usize + kept.len(), 3_000 + 40, "one gap, between the kept ends");
        assert_eq!(r.received.last().unwrap(), "event 39");
    }

    #[test]
    fn however_far_a_record_is_cut_its_last_entries_stay_and_one_gap_counts_the_rest() {
        // The whole log of a case, numbered by `t`: 200 entries, every other one a chunk of 100 bytes.
        let entry = record("a", "9.1.6", Behavior::Ok, BehaviorClose::Ok).wirelog[0].clone();
        let whole: Vec<crate::WireEntry> = (0..200)
            .map(|i| {
                let chunk = i % 2 == 0;
                let (kind, frame) = if chunk { ("chunk", None) } else { ("frame", entry.frame.clone()) };
                crate::WireEntry { t: i as f64, kind: kind.into(), len: 100, data: "x".repeat(300), frame, ..entry.clone() }
            })
            .collect();
        // The engine kept 40 of them: `head` from the start, the rest from the end (a short tail
        // when the head is long, as after a big last frame).
        for head in [4, 20, 37] {
            for share in [crate::budget::MIN_CASE_SHARE, 3 * crate::budget::BLOCK, 6 * crate::budget::BLOCK] {
                let mut r = record("a", "9.1.6", Behavior::Ok, BehaviorClose::Ok);
                r.wirelog = whole[..head].iter().chain(&whole[200 - (40 - head)..]).cloned().collect();
                r.wirelog_gap = Some(WireGap { at: head, entries: 160, frames: 80, bytes: 80 * 100 });
                r.wirelog_elided = 160;
                fitted_json(&mut r, share);
                let kept: Vec<usize> = r.wirelog.iter().map(|e| e.t as usize).collect();
                let gap = r.wirelog_gap.clone().unwrap();
                let context = format!("head {head}, share {share}: gap {gap:?}, kept {kept:?}");
                let tail = kept.len() - gap.at;
                assert!(kept[..gap.at].iter().copied().eq(0..gap.at), "a prefix before the gap; {context}");
                assert!(kept[gap.at..].iter().copied().eq(200 - tail..200), "a suffix after it; {context}");
                assert!(tail >= TAIL_KEEP.min(40 - head), "the last entries stay; {context}");
                let left_out = |odd| (0..200).filter(|i| i % 2 == odd && !kept.contains(i)).count() as u64;
                assert_eq!((gap.entries, r.wirelog_elided), (200 - kept.len() as u64, gap.entries), "{context}");
                assert_eq!((gap.bytes, gap.frames), (100 * left_out(0), left_out(1)), "{context}");
            }
        }
    }

    #[test]
    fn a_long_reason_is_cut_whatever_the_share() {
        let mut r = record("a", "1.1.1", Behavior::Failed, BehaviorClose::Unclean);
        r.result = "x".repeat(10_000);
        fitted_json(&mut r, MAX_CASE_SHARE);
        assert!(r.result.chars().count() < MAX_REASON_CHARS + 64, "{}", r.result.len());
        assert!(r.bounds.iter().any(|b| b.starts_with("Reason: cut")), "{:?}", r.bounds);
    }

    #[test]
    fn a_small_record_is_left_alone() {
        let mut r = record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok);
        let (json, used) = fitted_json(&mut r, MAX_CASE_SHARE);
        assert_eq!(json, to_compact_json(&r));
        assert_eq!(used, 2 * crate::budget::BLOCK, "a block each");
        assert!(r.bounds.is_empty());
    }

    #[test]
    fn markup_in_every_text_is_bounded_on_the_page_too() {
        // Escaped, a `"` takes 6 bytes on the page: the page, not the JSON, is the bigger file.
        // As the engine writes them: events with a preview of 64 bytes, a reason naming three of
        // them, a head of 16 KiB, a close reason of 123 bytes; every byte the target chose is markup.
        let mut r = record("a", "1.1.1", Behavior::Failed, BehaviorClose::Unclean);
        let markup = |n: usize| "\"<b>\"".repeat(n);
        let events: Vec<String> = (0..40).map(|i| format!("text message ({} bytes) \"{}\"…", 200 + i, markup(12))).collect();
        r.result = format!("Received {} and 37 more events (listed in the record), which no expected alternative allows.", events[..3].join(", "));
        r.http_response = markup(16 * 1024 / 5);
        r.remote_close_reason = Some(markup(123 / 5));
        r.received = events;
        let share = 3 * crate::budget::BLOCK;
        let (json, used) = fitted_json(&mut r, share);
        assert!(used <= share, "{used} bytes on disk");
        assert!(case_page_bytes(&r) as u64 <= share - on_disk(json.len() as u64));
        assert!(r.bounds.iter().any(|b| b.starts_with("Record: ")), "{:?}", r.bounds);
        assert_eq!((r.requirement.as_str(), r.level.as_str(), r.rfc.as_str()), ("An endpoint MUST …", "MUST", "5.6"), "kept whole");
    }
}
