//! What the target sends, once the receiver has checked it: messages and pings become events
//! matched against the case's alternatives, pings are answered (§5.5.2), pongs paired with wsspec's
//! pings (§5.5.3), a close frame starts the closing handshake, and a violation fails the
//! connection with its close code (§7.1.7). Each of these is bounded: events per case, frames per
//! message, replies queued unwritten.

use std::time::Instant;

use super::{
    super::{event::Event, receiver::Received, FramesBound},
    write::log_tx_frame,
    Session,
};
use crate::{frame::{CloseCode, OpCode}, rules::Violation};

/// Replies (pongs, a close) queued unwritten before a new pong replaces the last one.
const MAX_QUEUED_REPLIES: usize = 16;
/// Events a target may send in one case before it counts as flooding (they are counted, and only a
/// preview is kept: see `EventLog`).
const MAX_EVENTS: usize = 100_000;
/// The most data frames wsspec reads of one message from the target: 1,048,576, as many as a case
/// may cut one of its own messages into (`catalog::MAX_FRAGMENTS`), so a target echoing frame by
/// frame always fits. A message of more (an endless stream of tiny or empty fragments, which no
/// byte bound stops) reaches wsspec's own bound: wsspec fails the connection with 1009 (§7.4.1,
/// as §10.4 lets a receiver protect itself), the record says so, and the case is not the
/// target's failure unless its verdict was already settled (see `judge`).
pub const MAX_MESSAGE_FRAMES: u64 = crate::catalog::MAX_FRAGMENTS as u64;

impl Session<'_> {
    fn violation(&mut self, violation: Violation) {
        self.obs.log.event(format!("protocol violation by the target: {violation}"));
        let code = violation.close_code();
        self.obs.violation.get_or_insert(violation);
        if !self.sent_close {
            self.send_close(code, "");
        }
    }

    pub(super) fn on_bytes(&mut self, data: &[u8]) {
        self.receiver.push(data);
        while !self.tcp_closed {
            let Some(received) = self.receiver.next(&mut self.obs.log) else { break };
            match received {
                Received::Message { binary, len, sha1, preview } => {
                    self.messages_received += 1;
                    if self.awaiting.is_some_and(|n| self.messages_received >= n) {
                        self.awaiting = None;
                    }
                    self.push_event(Event::Message { binary, len, sha1, preview });
                }
                Received::Ping(payload) => {
                    self.push_event(Event::Ping(payload.clone()));
                    if !self.sent_close {
                        let pong = self.own_frame(OpCode::Pong, payload);
                        log_tx_frame(&mut self.obs.log, &pong, pong.payload.len());
                        self.queue_pong(pong.encode());
                    }
                }
                Received::Pong(payload) => {
                    let event = self.pings.pong(payload);
                    self.push_event(event);
                }
                Received::Close { code, reason } => self.on_close(code, reason),
                Received::Violation(violation) => self.violation(violation),
                Received::Unreadable(violation) => {
                    self.violation(violation);
                    self.drop_connection();
                }
            }
        }
        self.check_open_message();
    }

    /// Settles what a message still arriving decides: one longer than any message the case expects
    /// next cannot match however it ends (an echo longer than what was sent), so the case ends
    /// soon, as when no alternative can match; one of more than [`MAX_MESSAGE_FRAMES`] frames
    /// reaches wsspec's bound, and wsspec fails the connection (1009).
    fn check_open_message(&mut self) {
        let Some(open) = self.receiver.open_message() else { return };
        if self.sent_close || self.got_close || self.tcp_closed {
            return;
        }
        // A compressed message is compared once inflated: its length on the wire says nothing yet.
        if !open.transformed && !self.open_message_settled && !self.tracker.may_take_message(open.binary, open.len) {
            self.open_message_settled = true;
            self.end_soon(&format!(
                "a message still arriving ({} bytes so far) is longer than any the case expects next: no expected alternative can match",
                open.len
            ));
        }
        if open.frames > MAX_MESSAGE_FRAMES {
            let settled = self.open_message_settled || self.tracker.is_dead();
            self.obs.frames_bound = Some(FramesBound { frames: open.frames, len: open.len, settled });
            self.obs.log.event(format!(
                "a message of more than {MAX_MESSAGE_FRAMES} frames ({} bytes so far), wsspec's bound: wsspec fails the connection",
                open.len
            ));
            self.send_close(CloseCode::MESSAGE_TOO_BIG, "");
        }
    }

    /// The behavior verdict is settled: gives the target the usual close wait to fail the
    /// connection itself rather than the whole case timeout (1,000 s for 9.5 and 9.6). `why` goes
    /// to the wire log.
    fn end_soon(&mut self, why: &str) {
        let soon = Instant::now() + self.close_wait;
        if soon < self.deadline {
            self.obs.log.event(format!("{why}: the case ends soon"));
            self.deadline = soon;
        }
    }

    /// Queues a pong; with [`MAX_QUEUED_REPLIES`] replies unwritten (a target that pings without
    /// reading), the last queued pong is replaced instead: §5.5.3 lets an endpoint answer only the
    /// most recent ping, and the queue stays bounded.
    fn queue_pong(&mut self, pong: Vec<u8>) {
        let full = self.replies.len() >= MAX_QUEUED_REPLIES;
        match self.replies.back_mut() {
            // Never the front: it may be partly written.
            Some(last) if full && last.first() == Some(&0x8A) => {
                *last = pong;
                self.obs.log.event("an unwritten pong replaced by the answer to the latest ping (§5.5.3)");
            }
            _ => self.replies.push_back(pong),
        }
        if self.mid_frame() {
            // The wire log shows the frame now; its bytes follow once the frame under way is whole.
            self.obs.log.event("the pong waits until the frame wsspec is sending is complete: a control frame cannot go inside a frame (§5.4)");
        }
    }

    fn push_event(&mut self, event: Event) {
        if self.obs.events.len() >= MAX_EVENTS {
            self.violation(Violation::Flood { limit: MAX_EVENTS });
            return self.drop_connection();
        }
        self.record(event);
    }

    pub(super) fn record(&mut self, event: Event) {
        self.tracker.push(&event);
        self.obs.events.push(event);
        if self.tracker.is_dead() && !self.sent_close && !self.got_close {
            self.end_soon("no expected alternative can match any more");
        }
    }

    /// At the end of the case: a stray pong is the target's wrong answer to a ping of wsspec's
    /// when nothing else settled the case (see [`Pings::wrong_answer`]).
    pub(super) fn settle_pongs(&mut self) {
        if self.obs.violation.is_none() {
            if let Some(violation) = self.pings.wrong_answer(self.tracker.completed().contains(&true)) {
                self.obs.log.event(format!("protocol violation by the target: {violation}"));
                self.obs.violation = Some(violation);
            }
        }
    }
}
