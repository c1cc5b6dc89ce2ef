//! What a target sent, as the judge sees it, and the matching of that against a case's expected
//! events (exact order; `times` and `optional` expanded).

use std::fmt;

use crate::{
    catalog::{sha1_of, Alternative, Closer, EventKind, Payload},
    preview,
};

/// One received event, or a mark the script recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Message { binary: bool, len: usize, sha1: [u8; 20], preview: String },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Mark(String),
}

impl Event {
    pub fn message(binary: bool, payload: &[u8]) -> Self {
        Self::Message { binary, len: payload.len(), sha1: sha1_of(payload), preview: preview(payload, 64) }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message { binary, len, preview, .. } => {
                write!(f, "{} message ({len} bytes): {preview}", if *binary { "binary" } else { "text" })
            }
            Self::Ping(p) => write!(f, "ping: {}", preview(p, 64)),
            Self::Pong(p) => write!(f, "pong: {}", preview(p, 64)),
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
    required: usize,
    pub closer: Closer,
}

impl CompiledAlternative {
    pub fn new(alternative: &Alternative, closer: Closer) -> Self {
        let mut items = Vec::new();
        for pattern in &alternative.events {
            let matcher = Matcher::new(&pattern.kind);
            items.extend(std::iter::repeat_n((matcher, pattern.optional), pattern.times as usize));
        }
        let required = items.iter().filter(|(_, optional)| !optional).count();
        Self { items, required, closer }
    }

    /// Whether `events` are exactly this alternative, in order.
    pub fn matches(&self, events: &[Event]) -> bool {
        if events.len() < self.required || events.len() > self.items.len() {
            return false;
        }
        // reach[j]: the items so far can account for exactly events[..j].
        let mut reach = vec![false; events.len() + 1];
        reach[0] = true;
        for (matcher, optional) in &self.items {
            let mut next = vec![false; events.len() + 1];
            for j in 0..=events.len() {
                if !reach[j] {
                    continue;
                }
                if *optional {
                    next[j] = true;
                }
                if j < events.len() && matcher.matches(&events[j]) {
                    next[j + 1] = true;
                }
            }
            reach = next;
        }
        reach[events.len()]
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
    fn repeated_messages_compare_by_digest() {
        let payload = Payload::Pattern { unit: b"ab".to_vec(), len: 5 };
        let alt = alternative(vec![EventPattern { kind: EventKind::Text(payload), times: 3, optional: false }]);
        let echo = Event::message(false, b"ababa");
        assert!(alt.matches(&[echo.clone(), echo.clone(), echo.clone()]));
        assert!(!alt.matches(&[echo.clone(), echo.clone()]));
        assert!(!alt.matches(&[echo.clone(), echo.clone(), Event::message(true, b"ababa")]));
    }
}
