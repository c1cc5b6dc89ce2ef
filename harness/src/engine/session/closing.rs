//! The closing handshake (RFC 6455 §5.5.1, §7.1): wsspec's close frame and the target's, the wait
//! for the rest of the handshake, and how the connection ended: cleanly (both close frames, then
//! TCP closed; over TLS after close_notify, §7.1.1) or not, and why not. wsspec fails the
//! connection (§7.1.7) with a close frame, or by dropping TCP when a frame of its own is half
//! written and no close frame can follow it.

use std::time::{Duration, Instant};

use super::{write::log_tx_frame, Session};
use crate::{
    catalog::Closer,
    frame::{parse_close_payload, CloseCode, OpCode},
};

/// How long wsspec waits for the rest of a closing handshake (Autobahn waits 1 s; 2 s keeps a loaded CI machine from turning a slow answer into UNCLEAN).
pub(super) const CLOSE_WAIT: Duration = Duration::from_secs(2);

impl Session<'_> {
    /// After the script, closes as soon as the events match an alternative in which wsspec closes.
    pub(super) fn close_when_satisfied(&mut self) {
        if self.script_done && !self.sent_close && !self.got_close && self.tracker.complete_for(Closer::Wsspec) {
            self.send_close(CloseCode::NORMAL, "");
        }
    }

    pub(super) fn note_local_close(&mut self, payload: &[u8]) {
        if !self.sent_close {
            self.sent_close = true;
            self.obs.closed_by_me = !self.got_close;
            let parsed = parse_close_payload(payload).ok().flatten();
            self.obs.local_close = Some((parsed.map(|(c, _)| c.0), parsed.map(|(_, r)| crate::preview(r, 123)).unwrap_or_default()));
            self.close_deadline = Some(Instant::now() + self.close_wait);
        }
    }

    /// Queues a close frame of wsspec's own and stops the script.
    pub(super) fn send_close(&mut self, code: CloseCode, reason: &str) {
        let mut payload = code.0.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        let frame = self.own_frame(OpCode::Close, payload.clone());
        log_tx_frame(&mut self.obs.log, &frame, frame.payload.len());
        self.replies.push_back(frame.encode());
        self.note_local_close(&payload);
        self.stop_script();
    }

    pub(super) fn on_timeout(&mut self) {
        self.obs.timed_out = true;
        self.obs.log.event("case timeout: wsspec fails the connection");
        if self.mid_frame() {
            self.obs.closed_by_me = true;
            self.drop_connection();
        } else {
            self.pending = None;
            self.send_close(CloseCode::GOING_AWAY, "Going Away");
        }
    }

    /// The target did not finish the closing handshake within the close wait: wsspec drops TCP.
    pub(super) fn on_close_timeout(&mut self) {
        self.obs.close_timed_out = true;
        self.obs.log.event(format!("closing handshake timed out: wsspec {}", self.obs.end_words.drops));
        if self.obs.not_clean_reason.is_none() {
            self.obs.not_clean_reason = Some(if self.got_close && self.sent_close {
                format!("the server did not {} after the closing handshake", self.obs.end_words.close)
            } else {
                "the target did not answer wsspec's close frame in time".into()
            });
        }
        self.drop_connection();
    }

    /// After the connection ended: whether the close was clean, and if not, why (unless a reason
    /// was already given).
    pub(super) fn settle_clean(&mut self) {
        self.obs.was_clean = self.sent_close && self.got_close && !self.obs.dropped_by_me && self.obs.not_clean_reason.is_none();
        if !self.obs.was_clean && self.obs.not_clean_reason.is_none() {
            self.obs.not_clean_reason = Some(if !self.got_close {
                format!("the target {} without a closing handshake", self.obs.end_words.dropped)
            } else {
                "the closing handshake did not complete".into()
            });
        }
    }

    pub(super) fn drop_connection(&mut self) {
        self.obs.dropped_by_me = true;
        self.obs.log.event(self.obs.end_words.dropped_by_wsspec);
        self.tcp_closed = true;
    }

    pub(super) fn on_tcp_closed(&mut self, how: &str) {
        self.obs.log.event(how);
        if !self.sent_close && !self.got_close {
            self.obs.not_clean_reason = Some(format!("{how} without a closing handshake"));
        }
        self.tcp_closed = true;
    }

    /// TCP closed without TLS close_notify: §7.1.1 asks an endpoint to close the TLS session
    /// cleanly too (a SHOULD), so the close is not clean.
    pub(super) fn on_tls_truncated(&mut self) {
        let how = "the target closed TCP without a TLS close_notify alert";
        if (self.sent_close || self.got_close) && self.obs.not_clean_reason.is_none() {
            self.obs.not_clean_reason = Some(format!("{how} (§7.1.1: it SHOULD close the TLS session cleanly too)"));
        }
        self.on_tcp_closed(how);
    }

    pub(super) fn on_close(&mut self, code: Option<u16>, reason: String) {
        self.got_close = true;
        self.stop_script();
        self.obs.remote_close = Some((code, reason));
        if !self.sent_close {
            // Autobahn answers with 1000 rather than echoing the code.
            self.send_close(CloseCode::NORMAL, "");
        }
        self.close_deadline = Some(Instant::now() + self.close_wait);
    }
}
