//! What a target sent, as the judge sees it, and the matching of that against a case's expected
//! events (exact order; `times` and `optional` expanded).

use std::fmt;

use crate::catalog::{sha1_of, Alternative, Closer, EventKind, Payload};

/// Bytes of a payload shown in a report: printable UTF-8 as a quoted, escaped string (so a comma or
/// a quote in it cannot be read as a separator in a list of events), anything else as `0x` and hex.
/// More than `max` bytes are cut, and `…` follows.
pub fn quoted(bytes: &[u8], max: usize) -> String {
    quoted_prefix(bytes, bytes.len(), max)
}

/// [`quoted`] of a payload of `len` bytes that starts with `prefix` (at least its first `max`
/// bytes, or all of it): a streamed message is shown without being kept whole.
pub fn quoted_prefix(prefix: &[u8], len: usize, max: usize) -> String {
    let cut = &prefix[..prefix.len().min(max)];
    let more = if len > max { "…" } else { "" };
    let text = match std::str::from_utf8(cut) {
        Ok(text) => Some(text),
        // Cut inside a character: the complete characters before it.
        Err(e) if len > max && e.error_len().is_none() => std::str::from_utf8(&cut[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    match text {
        Some(text) if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => format!("{text:?}{more}"),
        _ => format!("0x{}{more}", hex::encode(cut)),
    }
}

/// One received event, or a mark the script recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `preview` is the start of the payload as [`quoted`] shows it.
    Message { binary: bool, len: usize, sha1: [u8; 20], preview: String },
    /// A ping of the target's own, which wsspec answers (RFC 6455 §5.5.2): [incidental](Event::is_incidental).
    Ping(Vec<u8>),
    /// A pong with the application data of a ping of wsspec's still unanswered (§5.5.3).
    Pong(Vec<u8>),
    /// A pong that answers none of wsspec's unanswered pings: a heartbeat, which §5.5.3 allows at
    /// any time ("A Pong frame MAY be sent unsolicited"); [incidental](Event::is_incidental).
    UnsolicitedPong(Vec<u8>),
    Mark(String),
}

impl Event {
    pub fn message(binary: bool, payload: &[u8]) -> Self {
        Self::Message { binary, len: payload.len(), sha1: sha1_of(payload), preview: quoted(payload, 64) }
    }

    /// The kind an event is counted under in a report: `text message`, `binary message`, `ping`,
    /// `pong`, `unsolicited pong` or `mark`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Message { binary: false, .. } => "text message",
            Self::Message { binary: true, .. } => "binary message",
            Self::Ping(_) => "ping",
            Self::Pong(_) => "pong",
            Self::UnsolicitedPong(_) => "unsolicited pong",
            Self::Mark(_) => "mark",
        }
    }

    /// Whether the target may send this event anywhere, whatever the case expects: a ping of its
    /// own ("An endpoint MAY send a Ping frame any time after the connection is established and
    /// before the connection is closed", RFC 6455 §5.5.2; §5.4 lets control frames come between
    /// the fragments of a message) or an unsolicited pong (§5.5.3). Matching lets one pass
    /// wherever it comes: an alternative that names it may take it, the others skip it.
    pub fn is_incidental(&self) -> bool {
        matches!(self, Self::Ping(_) | Self::UnsolicitedPong(_))
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message { binary, len: 0, .. } => write!(f, "{} message (0 bytes)", if *binary { "binary" } else { "text" }),
            Self::Message { binary, len, preview, .. } => {
                write!(f, "{} message ({len} bytes) {preview}", if *binary { "binary" } else { "text" })
            }
            Self::Ping(p) if p.is_empty() => f.write_str("ping (empty)"),
            Self::Pong(p) if p.is_empty() => f.write_str("pong (empty)"),
            Self::Ping(p) => write!(f, "ping {}", quoted(p, 64)),
            Self::Pong(p) => write!(f, "pong {}", quoted(p, 64)),
            Self::UnsolicitedPong(p) if p.is_empty() => f.write_str("unsolicited pong (empty)"),
            Self::UnsolicitedPong(p) => write!(f, "unsolicited pong {}", quoted(p, 64)),
            Self::Mark(m) => write!(f, "mark {m}"),
        }
    }
}

/// An expected event, prepared for fast comparison.
#[derive(Debug, Clone)]
enum Matcher {
    Message { binary: bool, len: usize, sha1: Option<[u8; 20]> },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Mark(String),
}

impl Matcher {
    fn new(kind: &EventKind) -> Self {
        let message = |binary, p: &Payload| Self::Message { binary, len: p.len(), sha1: Some(p.sha1()) };
        match kind {
            EventKind::Text(p) => message(false, p),
            EventKind::Binary(p) => message(true, p),
            EventKind::TextLen(len) => Self::Message { binary: false, len: *len, sha1: None },
            EventKind::BinaryLen(len) => Self::Message { binary: true, len: *len, sha1: None },
            EventKind::Ping(p) => Self::Ping(p.bytes()),
            EventKind::Pong(p) => Self::Pong(p.bytes()),
            EventKind::Mark(m) => Self::Mark(m.clone()),
        }
    }

    fn matches(&self, event: &Event) -> bool {
        match (self, event) {
            (Self::Message { binary, len, sha1 }, Event::Message { binary: b, len: l, sha1: s, .. }) => {
                binary == b && len == l && sha1.is_none_or(|h| h == *s)
            }
            (Self::Ping(a), Event::Ping(b)) | (Self::Pong(a), Event::Pong(b)) => a == b,
            (Self::Mark(a), Event::Mark(b)) => a == b,
            _ => false,
        }
    }
}

/// One alternative, expanded into a flat list of (matcher, optional).
#[derive(Debug, Clone)]
pub struct CompiledAlternative {
    items: Vec<(Matcher, bool)>,
    pub closer: Closer,
}

impl CompiledAlternative {
    pub fn new(alternative: &Alternative, closer: Closer) -> Self {
        let mut items = Vec::new();
        for pattern in &alternative.events {
            let slices = match &pattern.kind {
                EventKind::Text(p) => p.slicer().map(|s| (false, s)),
                EventKind::Binary(p) => p.slicer().map(|s| (true, s)),
                _ => None,
            };
            match slices {
                // Each repetition expects the next slice of the data set (Autobahn's 12.x/13.x echoes).
                Some((binary, mut slicer)) => items.extend((0..pattern.times).map(|_| {
                    let slice = slicer.next_message();
                    (Matcher::Message { binary, len: slice.len(), sha1: Some(sha1_of(&slice)) }, pattern.optional)
                })),
                None => items.extend(std::iter::repeat_n((Matcher::new(&pattern.kind), pattern.optional), pattern.times as usize)),
            }
        }
        Self { items, closer }
    }

    /// Whether `events` are exactly this alternative, in order.
    pub fn matches<'e>(&self, events: impl IntoIterator<Item = &'e Event>) -> bool {
        let mut progress = self.start();
        events.into_iter().all(|e| self.advance(&mut progress, e)) && self.is_complete(&progress)
    }

    /// Item positions reachable before any event: the NFA's start state.
    pub fn start(&self) -> Vec<bool> {
        let mut positions = vec![false; self.items.len() + 1];
        positions[0] = true;
        self.skip_optional(&mut positions);
        positions
    }

    /// Consumes one event; false once no continuation can match any more. An
    /// [incidental](Event::is_incidental) event may also be skipped: every position stays live.
    pub fn advance(&self, positions: &mut Vec<bool>, event: &Event) -> bool {
        let mut next = if event.is_incidental() { positions.clone() } else { vec![false; positions.len()] };
        for (i, (matcher, _)) in self.items.iter().enumerate() {
            if positions[i] && matcher.matches(event) {
                next[i + 1] = true;
            }
        }
        self.skip_optional(&mut next);
        *positions = next;
        positions.iter().any(|p| *p)
    }

    /// Whether the events consumed so far are a complete match.
    pub fn is_complete(&self, positions: &[bool]) -> bool {
        positions[self.items.len()]
    }

    fn skip_optional(&self, positions: &mut [bool]) {
        for (i, (_, optional)) in self.items.iter().enumerate() {
            if positions[i] && *optional {
                positions[i + 1] = true;
            }
        }
    }
}

/// Follows the events as they arrive against every alternative at once, a step per event.
#[derive(Debug)]
pub struct Tracker {
    alternatives: Vec<(CompiledAlternative, Vec<bool>)>,
}

impl Tracker {
    pub fn new(alternatives: Vec<CompiledAlternative>) -> Self {
        Self { alternatives: alternatives.into_iter().map(|a| { let start = a.start(); (a, start) }).collect() }
    }

    pub fn push(&mut self, event: &Event) {
        for (alternative, positions) in &mut self.alternatives {
            alternative.advance(positions, event);
        }
    }

    /// Whether the events so far are a complete match of an alternative in which `closer` closes.
    pub fn complete_for(&self, closer: Closer) -> bool {
        self.alternatives.iter().any(|(a, p)| a.closer == closer && a.is_complete(p))
    }

    /// Per alternative, in the order given to [`Tracker::new`]: whether the events so far are a
    /// complete match of it.
    pub fn completed(&self) -> Vec<bool> {
        self.alternatives.iter().map(|(a, p)| a.is_complete(p)).collect()
    }

    /// Whether a message of this type with at least `len` bytes, arriving next, could still advance
    /// some alternative: false once a message in progress is longer than any the alternatives
    /// expect next (an echo longer than what was sent), so that it cannot match, whenever it ends.
    pub fn may_take_message(&self, binary: bool, len: u64) -> bool {
        self.alternatives.iter().any(|(alternative, positions)| {
            alternative.items.iter().zip(positions).any(|((matcher, _), live)| {
                *live && matches!(matcher, Matcher::Message { binary: b, len: l, .. } if *b == binary && *l as u64 >= len)
            })
        })
    }

    /// No alternative can match, whatever comes next: the behavior verdict is settled.
    pub fn is_dead(&self) -> bool {
        self.alternatives.iter().all(|(_, p)| !p.iter().any(|x| *x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{EventPattern, Grade};

    fn pong(i: u8, optional: bool) -> EventPattern {
        EventPattern { kind: EventKind::Pong(Payload::Bytes(vec![i])), times: 1, optional }
    }

    fn alternative(events: Vec<EventPattern>) -> CompiledAlternative {
        CompiledAlternative::new(&Alternative { events, grade: Grade::Ok, why: None, close: None }, Closer::Wsspec)
    }

    #[test]
    fn optional_events_may_be_skipped_but_order_holds() {
        let alt = alternative(vec![pong(0, true), pong(1, true), pong(2, false)]);
        assert!(alt.matches(&[Event::Pong(vec![2])]));
        assert!(alt.matches(&[Event::Pong(vec![0]), Event::Pong(vec![2])]));
        assert!(!alt.matches(&[Event::Pong(vec![1]), Event::Pong(vec![0]), Event::Pong(vec![2])]));
        assert!(!alt.matches(&[Event::Pong(vec![0])]));
    }

    #[test]
    fn payloads_are_quoted_so_a_list_of_events_reads_one_way() {
        let events = [Event::message(false, b"a, b"), Event::Pong(b"say \"hi\"".to_vec()), Event::message(true, &[0, 1])];
        let list = events.iter().map(Event::to_string).collect::<Vec<_>>().join(", ");
        assert_eq!(list, r#"text message (4 bytes) "a, b", pong "say \"hi\"", binary message (2 bytes) 0x0001"#);
        assert_eq!(Event::message(false, b"").to_string(), "text message (0 bytes)");
        assert_eq!(Event::Ping(Vec::new()).to_string(), "ping (empty)");
        assert_eq!(quoted("é".repeat(40).as_bytes(), 65), format!("\"{}\"…", "é".repeat(32)), "cut between characters");
        assert_eq!(quoted(b"0x41", 64), "\"0x41\"", "text that looks like hex stays text");
    }

    #[test]
    fn a_message_longer_than_any_expected_next_cannot_match() {
        let echo = EventPattern { kind: EventKind::Text(Payload::Bytes(b"hello".to_vec())), times: 1, optional: false };
        let tracker = Tracker::new(vec![alternative(vec![pong(0, true), echo])]);
        assert!(tracker.may_take_message(false, 5), "the echo may still come");
        assert!(!tracker.may_take_message(false, 6), "longer than the echo");
        assert!(!tracker.may_take_message(true, 1), "a binary message where text is expected");
        assert!(!Tracker::new(vec![alternative(vec![pong(0, false)])]).may_take_message(false, 0), "no message expected");
    }

    #[test]
    fn pings_and_unsolicited_pongs_pass_wherever_they_come() {
        let ping = |p: &[u8]| Event::Ping(p.to_vec());
        let heartbeat = Event::UnsolicitedPong(b"beat".to_vec());
        let alt = alternative(vec![pong(0, false), pong(1, false)]);
        assert!(alt.matches(&[ping(b"a"), Event::Pong(vec![0]), heartbeat.clone(), ping(b""), Event::Pong(vec![1]), ping(b"z")]));
        assert!(!alt.matches(&[Event::Pong(vec![0]), heartbeat.clone()]), "an incidental event is no expected one");
        assert!(!alt.matches(&[Event::Pong(vec![0]), Event::Pong(b"beat".to_vec())]), "an answer is no heartbeat");
        // An alternative that names a ping may take it, or let it pass and take a later one.
        let expects_ping = alternative(vec![EventPattern { kind: EventKind::Ping(Payload::Bytes(b"p".to_vec())), times: 1, optional: false }]);
        assert!(expects_ping.matches(&[ping(b"p")]) && expects_ping.matches(&[ping(b"p"), ping(b"p")]) && !expects_ping.matches(&[ping(b"q")]));
        let mut tracker = Tracker::new(vec![alt]);
        (0..1000).for_each(|_| tracker.push(&ping(b"flood")));
        assert!(!tracker.is_dead(), "pings never settle a case");
    }

    #[test]
    fn repeated_messages_compare_by_digest() {
        let payload = Payload::Pattern { unit: b"ab".to_vec(), len: 5 };
        let alt = alternative(vec![EventPattern { kind: EventKind::Text(payload), times: 3, optional: false }]);
        let echo = Event::message(false, b"ababa");
        assert!(alt.matches(&[echo.clone(), echo.clone(), echo.clone()]));
        assert!(!alt.matches(&[echo.clone(), echo.clone()]));
        assert!(!alt.matches(&[echo.clone(), echo.clone(), Event::message(true, b"ababa")]));
    }
}
