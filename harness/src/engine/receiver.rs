//! The receiving half of a connection, without I/O: bytes in, frames checked against the rules
//! table, messages reassembled, and out come events and violations. Unit-testable and fuzzable on
//! its own; the session feeds it what it reads.
//!
//! An [`Extension`] negotiated for the connection (permessage-deflate, RFC 7692) gets a say in which
//! RSV bits are allowed, transforms each message at its final frame, within a bound on the result.

use std::collections::VecDeque;

use super::wire_log::{Dir, WireLog};
use crate::{
    catalog::Role,
    frame::{parse_close_payload, DecodeError, Decoder, Frame, OpCode},
    rules::{check_frame, FrameContext, Violation},
    utf8::Utf8Validator,
};

/// A negotiated extension, as the receiver sees it (RFC 6455 §9).
pub trait Extension: Send {
    /// The RSV bits (RSV1 is `0b100`) the extension gives a meaning to on a frame with `opcode`;
    /// `first` when the frame starts a message.
    fn rsv_allowed(&self, opcode: OpCode, first: bool) -> u8;

    /// Turns a complete message as received (its first frame carried `rsv`) into the message the
    /// application sees, of at most `limit` bytes: more is [`Violation::MessageTooBig`].
    fn decode(&mut self, rsv: u8, payload: Vec<u8>, limit: usize) -> Result<Vec<u8>, Violation>;
}

/// What the receiver makes of the bytes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A complete data message, transformed by the extension and, for text, valid UTF-8.
    Message { binary: bool, payload: Vec<u8> },
    /// A ping and its payload, to be answered with a pong (§5.5.2).
    Ping(Vec<u8>),
    /// A pong and its payload (§5.5.3).
    Pong(Vec<u8>),
    /// The peer's close frame: its code and a preview of its reason, when it has them.
    Close { code: Option<u16>, reason: String },
    /// The peer broke a rule; the stream can still be read.
    Violation(Violation),
    /// The peer broke a rule that leaves the stream unreadable (a frame too large to take).
    Unreadable(Violation),
}

/// A data message being reassembled.
struct Message {
    binary: bool,
    /// The RSV bits of its first frame.
    rsv: u8,
    /// The extension transforms it at its final frame (UTF-8 is checked after that).
    transformed: bool,
    payload: Vec<u8>,
    utf8: Utf8Validator,
}

/// Decodes and checks what one peer sends.
pub struct Receiver {
    sender: Role,
    decoder: Decoder,
    max_message: usize,
    extension: Option<Box<dyn Extension>>,
    message: Option<Message>,
    previous_mask: Option<[u8; 4]>,
    /// The peer's close frame came.
    closed: bool,
    /// Decoding stopped: the stream cannot be read further.
    unreadable: bool,
    out: VecDeque<Received>,
}

impl Receiver {
    /// A receiver of what a peer in `sender`'s role sends, taking frames and messages of up to
    /// `max_message` bytes.
    pub fn new(sender: Role, max_message: usize, extension: Option<Box<dyn Extension>>) -> Self {
        Self {
            sender,
            decoder: Decoder::new(max_message as u64),
            max_message,
            extension,
            message: None,
            previous_mask: None,
            closed: false,
            unreadable: false,
            out: VecDeque::new(),
        }
    }

    /// Appends bytes read from the wire.
    pub fn push(&mut self, data: &[u8]) {
        self.decoder.push(data);
    }

    /// The next thing the bytes so far amount to, `None` if more bytes are needed. Every complete
    /// frame goes to `log`.
    pub fn next(&mut self, log: &mut WireLog) -> Option<Received> {
        while self.out.is_empty() && !self.unreadable {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.on_frame(frame, log),
                Ok(None) => break,
                Err(DecodeError::TooLarge { declared, limit }) => {
                    self.unreadable = true;
                    let violation = if declared >> 63 == 1 {
                        Violation::LengthTopBit { declared }
                    } else {
                        Violation::FrameTooBig { declared, limit }
                    };
                    self.out.push_back(Received::Unreadable(violation));
                }
            }
        }
        self.out.pop_front()
    }

    fn violation(&mut self, violation: Violation) {
        self.out.push_back(Received::Violation(violation));
    }

    fn on_frame(&mut self, frame: Frame, log: &mut WireLog) {
        let Frame { header, payload } = frame;
        log.frame(Dir::Rx, &header, &payload);
        if self.closed {
            return self.violation(Violation::FrameAfterClose { opcode: header.opcode });
        }
        let first = matches!(header.opcode, OpCode::Text | OpCode::Binary);
        let context = FrameContext {
            sender: self.sender,
            rsv_allowed: self.extension.as_ref().map_or(0, |e| e.rsv_allowed(header.opcode, first)),
            message_open: self.message.is_some(),
            previous_mask: self.previous_mask,
        };
        if let Some(violation) = check_frame(&header, &context).into_iter().next() {
            self.violation(violation);
            if header.opcode == OpCode::Close {
                // Broken as it is (unmasked, too long, RSV bits), it is still the peer's close.
                self.on_close(&payload);
            }
            return;
        }
        self.previous_mask = header.mask;
        match header.opcode {
            OpCode::Close => self.on_close(&payload),
            OpCode::Ping => self.out.push_back(Received::Ping(payload)),
            OpCode::Pong => self.out.push_back(Received::Pong(payload)),
            OpCode::Text | OpCode::Binary => {
                let transformed = header.rsv != 0 && self.extension.is_some();
                let binary = header.opcode == OpCode::Binary;
                self.message = Some(Message { binary, rsv: header.rsv, transformed, payload: Vec::new(), utf8: Utf8Validator::new() });
                self.on_fragment(payload, header.fin);
            }
            OpCode::Continuation => self.on_fragment(payload, header.fin),
            OpCode::ReservedData(_) | OpCode::ReservedControl(_) => unreachable!("refused by the rules"),
        }
    }

    fn on_fragment(&mut self, payload: Vec<u8>, fin: bool) {
        let message = self.message.as_mut().expect("a message is open");
        if message.payload.len() + payload.len() > self.max_message {
            self.message = None;
            return self.violation(Violation::MessageTooBig { limit: self.max_message });
        }
        if !message.binary && !message.transformed && message.utf8.feed(&payload).is_err() {
            self.message = None;
            return self.violation(Violation::InvalidUtf8 { at_end: false });
        }
        message.payload.extend_from_slice(&payload);
        if !fin {
            return;
        }
        let mut message = self.message.take().expect("a message is open");
        if message.transformed {
            let extension = self.extension.as_mut().expect("a transformed message has an extension");
            match extension.decode(message.rsv, std::mem::take(&mut message.payload), self.max_message) {
                Ok(payload) if payload.len() > self.max_message => return self.violation(Violation::MessageTooBig { limit: self.max_message }),
                Ok(payload) => message.payload = payload,
                Err(violation) => return self.violation(violation),
            }
            if !message.binary && std::str::from_utf8(&message.payload).is_err() {
                return self.violation(Violation::InvalidUtf8 { at_end: false });
            }
        } else if !message.binary && message.utf8.finish().is_err() {
            return self.violation(Violation::InvalidUtf8 { at_end: true });
        }
        self.out.push_back(Received::Message { binary: message.binary, payload: message.payload });
    }

    fn on_close(&mut self, payload: &[u8]) {
        self.closed = true;
        match parse_close_payload(payload) {
            Ok(None) => self.out.push_back(Received::Close { code: None, reason: String::new() }),
            Ok(Some((code, reason))) => {
                self.out.push_back(Received::Close { code: Some(code.0), reason: crate::preview(reason, 123) });
                if !code.is_sendable() {
                    self.violation(Violation::InvalidCloseCode { code: code.0 });
                }
                if std::str::from_utf8(reason).is_err() {
                    self.violation(Violation::InvalidCloseReason);
                }
            }
            Err(()) => {
                self.out.push_back(Received::Close { code: None, reason: String::new() });
                self.violation(Violation::OneByteClosePayload);
            }
        }
    }
}

#[cfg(test)]
mod tests;
