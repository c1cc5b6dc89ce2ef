//! Cutting a record's lists (its wire log, its events) in the middle. How a case began is kept
//! as far as a cut allows, how it ended always: the last [`TAIL_KEEP`] entries (the closing
//! handshake, the TCP close, the last events) survive every cut. What is left out stays one gap,
//! between a start and an end of the whole list, and says how much it held (entries, frames,
//! bytes; events). Used to fit a record to its share of the run's report budget (`sink::fit`)
//! and a page to the rows it shows (`html`).

use std::ops::Range;

use crate::{elided_events_line, events_in_line, WireEntry, WireGap, ELIDED_EVENTS};

/// Entries kept at the end of a list however far it is cut: in the wire log, wsspec's close
/// frame and the chunk it went in, the target's chunk and close frame, the TCP close (RFC 6455
/// §5.5.1, §7.1.1) and one more; in the events, the last ones the target sent.
pub const TAIL_KEEP: usize = 6;

/// Half of what lies between the first `head` and the last `tail` of `len` entries (at least
/// `least` of them, when there are as many), in a window over `anchor` (an earlier gap or the line that stands for it: at most one entry wide), so the
/// two become one. Entries on the far side of an earlier gap from their end of the list may go
/// too: those after a gap among the first `head`, those before it among the last `tail`. `None`
/// when nothing is left between.
fn window(len: usize, head: usize, tail: usize, anchor: Option<Range<usize>>, least: usize) -> Option<Range<usize>> {
    let (lo, hi) = (head, len.saturating_sub(tail));
    let anchor = anchor.unwrap_or_else(|| {
        let middle = (lo + hi.max(lo)) / 2;
        middle..middle
    });
    let (lo, hi) = (lo.min(anchor.start), hi.max(anchor.end));
    let between = hi.checked_sub(lo).filter(|between| *between > 0)?;
    let width = between.div_ceil(2).max(least).min(between);
    let center = (anchor.start + anchor.end) / 2;
    let start = center.saturating_sub(width / 2).clamp(lo, hi - width);
    Some(start..start + width)
}

/// Removes half of what lies between the first `head` and the last `tail` entries of a wire log,
/// next to its gap, and counts it there (`gap`, created when there was none; `elided`, the
/// record's `wirelogElided`); false when nothing is left between.
pub fn halve_wirelog(log: &mut Vec<WireEntry>, gap: &mut Option<WireGap>, elided: &mut u64, head: usize, tail: usize) -> bool {
    let anchor = gap.as_ref().map(|g| g.at.min(log.len())..g.at.min(log.len()));
    let Some(cut) = window(log.len(), head, tail, anchor, 1) else {
        return false;
    };
    let at = cut.start;
    let gap = gap.get_or_insert(WireGap { at, entries: 0, frames: 0, bytes: 0 });
    for removed in log.drain(cut) {
        gap.entries += 1;
        gap.frames += u64::from(removed.frame.is_some());
        gap.bytes += if removed.kind == "chunk" { removed.len } else { 0 };
        *elided += 1;
    }
    gap.at = at;
    true
}

/// Removes half of what lies between the first `head` and the last `tail` lines of a record's
/// events, around the line that counts left-out ones, and puts one such line, counting every
/// left-out event (`elided`, the record's `receivedElided`), in their place; false when that
/// would remove fewer than two lines.
pub fn halve_received(lines: &mut Vec<String>, elided: &mut u64, head: usize, tail: usize) -> bool {
    let anchor = lines.iter().position(|line| line.starts_with(ELIDED_EVENTS)).map(|at| at..at + 1);
    let Some(cut) = window(lines.len(), head, tail, anchor, 2).filter(|cut| cut.len() >= 2) else {
        return false;
    };
    let at = cut.start;
    *elided += lines.drain(cut).map(|line| events_in_line(&line)).sum::<u64>();
    lines.insert(at, elided_events_line(*elided));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(len: usize) -> Vec<WireEntry> {
        let entry = |i: usize| WireEntry { t: i as f64, dir: "rx".into(), kind: "chunk".into(), len: 10, data: String::new(), frame: None };
        (0..len).map(entry).collect()
    }

    fn numbers(log: &[WireEntry]) -> Vec<usize> {
        log.iter().map(|e| e.t as usize).collect()
    }

    #[test]
    fn a_cut_keeps_the_ends_and_joins_the_gap_it_meets() {
        let (mut entries, mut gap, mut elided) = (log(20), None, 0);
        assert!(halve_wirelog(&mut entries, &mut gap, &mut elided, 1, TAIL_KEEP));
        assert_eq!(numbers(&entries), [0, 1, 2, 3, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
        assert_eq!((gap.clone(), elided), (Some(WireGap { at: 4, entries: 7, frames: 0, bytes: 70 }), 7));
        while halve_wirelog(&mut entries, &mut gap, &mut elided, 1, TAIL_KEEP) {}
        assert_eq!(numbers(&entries), [0, 14, 15, 16, 17, 18, 19], "the first and the last six");
        assert_eq!((gap, elided), (Some(WireGap { at: 1, entries: 13, frames: 0, bytes: 130 }), 13));
    }

    #[test]
    fn a_gap_near_an_end_stays_one_gap() {
        // The engine kept 9 entries of the start and 2 of the end (a big last entry).
        let mut entries: Vec<WireEntry> = log(9).into_iter().chain(log(100).into_iter().skip(98)).collect();
        let mut gap = Some(WireGap { at: 9, entries: 89, frames: 0, bytes: 890 });
        let mut elided = 89;
        while halve_wirelog(&mut entries, &mut gap, &mut elided, 2, TAIL_KEEP) {}
        assert_eq!(numbers(&entries), [0, 1, 98, 99], "the start, then the end: never a start entry after the gap");
        assert_eq!((gap, elided), (Some(WireGap { at: 2, entries: 96, frames: 0, bytes: 960 }), 96));
        let (mut short, mut gap, mut elided) = (log(7), None, 0);
        assert!(!halve_wirelog(&mut short, &mut gap, &mut elided, 1, TAIL_KEEP), "nothing between the ends");
        assert_eq!((short.len(), gap), (7, None));
    }

    #[test]
    fn events_keep_their_last_lines_and_one_line_counts_the_rest() {
        let mut lines: Vec<String> = (0..30).map(|i| format!("ping {i}")).collect();
        let mut elided = 0;
        while halve_received(&mut lines, &mut elided, 1, TAIL_KEEP) {}
        let last: Vec<String> = (24..30).map(|i| format!("ping {i}")).collect();
        assert_eq!(lines[0], "ping 0");
        assert_eq!(lines[2..], last[..]);
        assert_eq!((lines[1].clone(), elided), (elided_events_line(23), 23));
    }
}
