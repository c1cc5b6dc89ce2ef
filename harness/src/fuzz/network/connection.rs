//! Connections shared by sequences: a sequence that leaves its WebSocket open and idle hands it to
//! the next sequence, up to [`MAX_SEQUENCES`] on one connection, and what ran on it is kept, so a
//! divergence that only happens after its predecessors can be sent again as one sequence.

use crate::{engine::OpenWebSocket, fuzz::Sequence};

/// The most sequences one connection carries before it is closed: a connection's last sequence
/// is the one whose closing handshake is judged, so this many sequences share one closing
/// handshake at most, and a finding that needs its predecessors has at most this many parts.
pub const MAX_SEQUENCES: usize = 16;

/// A WebSocket left open by the sequences that ran on it, in order (number, sequence).
#[derive(Debug)]
pub(super) struct Connection {
    pub(super) socket: OpenWebSocket,
    pub(super) history: Vec<(u64, Sequence)>,
}

impl Connection {
    /// Whether the next sequence on it may still leave it open for another.
    pub(super) fn may_keep(&self) -> bool {
        self.history.len() + 1 < MAX_SEQUENCES
    }

    /// The sequences of `history` and then `last`, as one sequence written as `last` is (a
    /// connection carries sequences of one permessage-deflate agreement only).
    pub(super) fn concatenation(history: &[(u64, Sequence)], last: &Sequence) -> Sequence {
        let frames = history.iter().flat_map(|(_, s)| s.frames.iter().cloned()).chain(last.frames.iter().cloned()).collect();
        Sequence { frames, write: last.write, deflate: last.deflate }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{catalog::WriteMode, frame::{FrameSpec, OpCode}};

    #[test]
    fn a_concatenation_keeps_every_frame_in_order_and_the_last_write() {
        let one = |text: &str, write| Sequence { frames: vec![FrameSpec::new(OpCode::Text, text).masked([1, 2, 3, 4])], write, deflate: false };
        let history = vec![(3, one("a", WriteMode::Chop(2))), (9, one("b", WriteMode::Together))];
        let whole = Connection::concatenation(&history, &one("c", WriteMode::PerFrame));
        let texts: Vec<&[u8]> = whole.frames.iter().map(|f| f.payload.as_slice()).collect();
        assert_eq!((texts, whole.write), (vec![&b"a"[..], b"b", b"c"], WriteMode::PerFrame));
    }
}
