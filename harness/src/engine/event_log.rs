//! The events a case keeps for its report: the first [`HEAD`] and the last [`TAIL`] in full, and a
//! count per kind of every event, as the wire log keeps its head and tail. A target that floods
//! pings then costs a few kilobytes per case, not megabytes. The judge never reads the kept events:
//! the session follows every event against the case as it arrives (`event::Tracker`).

use std::collections::{BTreeMap, VecDeque};

use super::event::Event;

/// Events kept from the start of a case.
pub const HEAD: usize = 20;
/// Events kept from the end of a case.
pub const TAIL: usize = 10;

/// What a target sent, as far as a report shows it; see the module doc.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventLog {
    head: Vec<Event>,
    tail: VecDeque<Event>,
    total: usize,
    /// Events [incidental](Event::is_incidental) to any case: the target's own pings, unsolicited pongs.
    incidental: usize,
    /// Every event counted by [`Event::kind`].
    counts: BTreeMap<&'static str, usize>,
}

impl EventLog {
    /// Counts `event`, and keeps it while the head has room; later events keep the last [`TAIL`].
    pub fn push(&mut self, event: Event) {
        self.total += 1;
        self.incidental += usize::from(event.is_incidental());
        *self.counts.entry(event.kind()).or_default() += 1;
        if self.head.len() < HEAD {
            self.head.push(event);
            return;
        }
        if self.tail.len() == TAIL {
            self.tail.pop_front();
        }
        self.tail.push_back(event);
    }

    /// Every event the target sent (and every mark), kept or not.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The events that matching heeds: all but the [incidental](Event::is_incidental) ones (the
    /// target's own pings and its unsolicited pongs, RFC 6455 §5.5.2–5.5.3), kept or not.
    pub fn heeded(&self) -> usize {
        self.total - self.incidental
    }

    /// The [incidental](Event::is_incidental) events, kept or not.
    pub fn incidental(&self) -> usize {
        self.incidental
    }

    /// The first events, at most [`HEAD`].
    pub fn head(&self) -> &[Event] {
        &self.head
    }

    /// The last events after the head, at most [`TAIL`].
    pub fn tail(&self) -> impl Iterator<Item = &Event> {
        self.tail.iter()
    }

    /// Events between the head and the tail that were counted but not kept.
    pub fn elided(&self) -> usize {
        self.total - self.head.len() - self.tail.len()
    }

    /// Every kept event in order: all of them when [`Self::elided`] is 0.
    pub fn kept(&self) -> impl Iterator<Item = &Event> {
        self.head.iter().chain(&self.tail)
    }

    /// How many events of each kind came (`text message`, `ping`, …), kept or not.
    pub fn counts(&self) -> &BTreeMap<&'static str, usize> {
        &self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_keeps_head_tail_and_counts() {
        let mut log = EventLog::default();
        for i in 0..10_000u32 {
            log.push(Event::Ping(i.to_be_bytes().to_vec()));
        }
        log.push(Event::message(false, b"last"));
        assert_eq!((log.len(), log.head().len(), log.tail().count(), log.elided()), (10_001, HEAD, TAIL, 10_001 - HEAD - TAIL));
        assert_eq!(log.head()[0], Event::Ping(0u32.to_be_bytes().to_vec()));
        assert_eq!(log.tail().last(), Some(&Event::message(false, b"last")));
        assert_eq!(log.counts().get("ping"), Some(&10_000));
        assert_eq!(log.counts().get("text message"), Some(&1));
    }

    #[test]
    fn a_short_case_keeps_everything_in_order() {
        let mut log = EventLog::default();
        let events: Vec<Event> = (0..(HEAD + 5) as u8).map(|i| Event::Pong(vec![i])).collect();
        events.iter().cloned().for_each(|e| log.push(e));
        assert_eq!(log.elided(), 0);
        assert_eq!(log.kept().cloned().collect::<Vec<_>>(), events);
    }
}
