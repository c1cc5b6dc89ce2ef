//! The receiving half of a connection, without I/O: bytes in, frames checked against the rules
//! table, messages followed, and out come events and violations. Unit-testable and fuzzable on
//! its own; the session feeds it what it reads.
//!
//! Payloads are taken as they arrive, never a whole frame or message at once: a data message is
//! kept as its length, SHA-1 digest and a preview, its UTF-8 checked incrementally, so a 16 MiB
//! echo costs what one read brings. What is judged of a frame (its rule violations, its place in
//! the wire log) is still settled at its last byte, so the cut points of the input never change
//! what is received. A message an extension transforms is transformed as it arrives too, and
//! digested the same way; only a control frame's payload is kept, up to [`CONTROL_KEPT`] bytes.
//!
//! An [`Extension`] negotiated for the connection (permessage-deflate, RFC 7692) gets a say in which
//! RSV bits are allowed and transforms each message piece by piece, within a bound on the result;
//! what the transformation finds wrong is reported at the message's final frame, as if it came
//! whole, so the cut points change nothing there either.

use std::collections::VecDeque;

use sha1::{Digest, Sha1};

use super::{
    event::quoted_prefix,
    wire_log::{Dir, WireLog},
};
use crate::{
    catalog::Role,
    frame::{parse_close_payload, DecodeError, Decoder, Header, OpCode, Piece},
    rules::{check_frame, FrameContext, Violation},
    utf8::Utf8Validator,
};

/// The most payload bytes taken from the decoder at once (64 KiB).
const PIECE: usize = 64 << 10;
/// Bytes of a control frame's payload kept (a valid one has at most 125; a longer one is a
/// violation, and only its start is looked at: its close code and reason).
pub const CONTROL_KEPT: usize = 4096;
/// Bytes of a message kept for its preview.
const PREVIEW: usize = 64;

/// A negotiated extension, as the receiver sees it (RFC 6455 §9).
pub trait Extension: Send {
    /// The RSV bits (RSV1 is `0b100`) the extension gives a meaning to on a frame with `opcode`;
    /// `first` when the frame starts a message.
    fn rsv_allowed(&self, opcode: OpCode, first: bool) -> u8;

    /// Transforms the next piece of a message as received (its first frame carried `rsv`) into
    /// what the application sees, handed to `out` in pieces as it is made (never held whole), of at
    /// most `limit` bytes in all: more is [`Violation::MessageTooBig`]. After an error the message
    /// gets no more pieces, nor its end.
    fn decode_piece(&mut self, rsv: u8, piece: &[u8], limit: usize, out: &mut dyn FnMut(&[u8])) -> Result<(), Violation>;

    /// Ends the message whose pieces [`Self::decode_piece`] took, handing what is left to `out`.
    fn decode_end(&mut self, rsv: u8, limit: usize, out: &mut dyn FnMut(&[u8])) -> Result<(), Violation>;

    /// Forgets the message whose pieces it took: it will not end (it broke a rule on the way).
    fn abandon(&mut self);
}

/// What the receiver makes of the bytes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A complete data message, transformed by the extension and, for text, valid UTF-8: its length
    /// in bytes, its SHA-1, and its start as `event::quoted` shows it.
    Message { binary: bool, len: usize, sha1: [u8; 20], preview: String },
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

/// The target's data message still being received, as far as it came: what the session checks it
/// against before it ends (an echo already longer than any the case expects, a bound on frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenMessage {
    pub binary: bool,
    /// Payload bytes received so far; for a message an extension transforms, as received
    /// (compressed), not as the application will see it.
    pub len: u64,
    /// Its data frames so far, the one arriving included.
    pub frames: u64,
    /// An extension transforms it as it arrives (permessage-deflate); `len` counts it as received.
    pub transformed: bool,
}

/// A data message being received.
struct Message {
    binary: bool,
    /// The RSV bits of its first frame.
    rsv: u8,
    /// The extension transforms it as it arrives (UTF-8 is checked on what it makes).
    transformed: bool,
    /// Bytes received so far, as received (compressed, when transformed).
    wire: usize,
    /// Bytes of the message so far, as the application sees it.
    len: usize,
    /// What the extension found wrong, reported at the final frame.
    decode_error: Option<Violation>,
    /// The transformed message is not valid UTF-8 where it must be.
    bad_utf8: bool,
    /// Data frames so far.
    frames: u64,
    sha1: Sha1,
    preview: Vec<u8>,
    utf8: Utf8Validator,
}

impl Message {
    fn take(&mut self, data: &[u8]) {
        if self.preview.len() < PREVIEW {
            self.preview.extend_from_slice(&data[..data.len().min(PREVIEW - self.preview.len())]);
        }
        self.sha1.update(data);
        self.len += data.len();
    }

    /// A piece of the transformed message: digested, and checked as UTF-8 for text.
    fn take_decoded(&mut self, piece: &[u8]) {
        self.bad_utf8 |= !self.binary && self.utf8.feed(piece).is_err();
        self.take(piece);
    }

    fn received(self) -> Received {
        Received::Message { binary: self.binary, len: self.len, sha1: self.sha1.finalize().into(), preview: quoted_prefix(&self.preview, self.len, PREVIEW) }
    }
}

/// The frame whose payload is arriving.
struct InFrame {
    header: Header,
    /// The rule it breaks (reported at its last byte, as if it came whole).
    violation: Option<Violation>,
    /// Its payload goes to the open message.
    data: bool,
    /// The payload bytes kept: a control frame's (up to [`CONTROL_KEPT`]), the first [`PREVIEW`]
    /// of the others for the wire log.
    kept: Vec<u8>,
    /// Its payload is not valid UTF-8 where the message must be.
    bad_utf8: bool,
}

/// Decodes and checks what one peer sends.
pub struct Receiver {
    sender: Role,
    decoder: Decoder,
    max_message: usize,
    extension: Option<Box<dyn Extension>>,
    message: Option<Message>,
    frame: Option<InFrame>,
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
            frame: None,
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

    /// The target's message still unfinished (its first frame's header came, its final frame did
    /// not end), `None` when no message is open. A frame cut short counts.
    pub fn open_message(&self) -> Option<OpenMessage> {
        self.message.as_ref().map(|m| OpenMessage { binary: m.binary, len: m.wire as u64, frames: m.frames, transformed: m.transformed })
    }

    /// The next thing the bytes so far amount to, `None` if more bytes are needed. Every complete
    /// frame goes to `log`.
    pub fn next(&mut self, log: &mut WireLog) -> Option<Received> {
        while self.out.is_empty() && !self.unreadable {
            match self.decoder.next_piece(PIECE) {
                Ok(Some(Piece::Header(header))) => self.on_header(header),
                Ok(Some(Piece::Payload { data, end })) => {
                    self.on_payload(&data);
                    if end {
                        self.on_frame_end(log);
                    }
                }
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

    /// Drops the open message, which will not end; the extension forgets what it took of it.
    fn abandon_message(&mut self) {
        if let Some(Message { transformed: true, .. }) = self.message.take() {
            self.extension.as_mut().expect("a transformed message has an extension").abandon();
        }
    }

    fn violation(&mut self, violation: Violation) {
        self.out.push_back(Received::Violation(violation));
    }

    /// Checks a frame by its header, and opens its message; nothing is reported before its end.
    fn on_header(&mut self, header: Header) {
        let first = matches!(header.opcode, OpCode::Text | OpCode::Binary);
        let violation = if self.closed {
            Some(Violation::FrameAfterClose { opcode: header.opcode })
        } else {
            let context = FrameContext {
                sender: self.sender,
                rsv_allowed: self.extension.as_ref().map_or(0, |e| e.rsv_allowed(header.opcode, first)),
                message_open: self.message.is_some(),
                previous_mask: self.previous_mask,
            };
            check_frame(&header, &context).into_iter().next()
        };
        let data = violation.is_none() && !header.opcode.is_control();
        if violation.is_none() {
            self.previous_mask = header.mask;
        }
        if data && first {
            let transformed = header.rsv != 0 && self.extension.is_some();
            let binary = header.opcode == OpCode::Binary;
            self.message = Some(Message {
                binary,
                rsv: header.rsv,
                transformed,
                wire: 0,
                len: 0,
                decode_error: None,
                bad_utf8: false,
                frames: 0,
                sha1: Sha1::new(),
                preview: Vec::new(),
                utf8: Utf8Validator::new(),
            });
        }
        let too_big = data && self.message.as_ref().is_some_and(|m| (m.wire as u64).saturating_add(header.payload_len) > self.max_message as u64);
        let violation = violation.or(too_big.then_some(Violation::MessageTooBig { limit: self.max_message }));
        let data = data && !too_big;
        if let Some(message) = self.message.as_mut().filter(|_| data) {
            message.frames += 1;
        }
        self.frame = Some(InFrame { header, violation, data, kept: Vec::new(), bad_utf8: false });
    }

    fn on_payload(&mut self, data: &[u8]) {
        let frame = self.frame.as_mut().expect("a payload follows its header");
        let keep = if frame.header.opcode.is_control() { CONTROL_KEPT } else { PREVIEW };
        if frame.kept.len() < keep {
            frame.kept.extend_from_slice(&data[..data.len().min(keep - frame.kept.len())]);
        }
        if !frame.data || frame.bad_utf8 {
            return;
        }
        let message = self.message.as_mut().expect("a data frame has a message");
        message.wire += data.len();
        if message.transformed {
            if message.decode_error.is_none() {
                let extension = self.extension.as_mut().expect("a transformed message has an extension");
                let rsv = message.rsv;
                let decoded = extension.decode_piece(rsv, data, self.max_message, &mut |piece| message.take_decoded(piece));
                message.decode_error = decoded.err();
            }
            return;
        }
        if !message.binary && message.utf8.feed(data).is_err() {
            frame.bad_utf8 = true;
            return;
        }
        message.take(data);
    }

    fn on_frame_end(&mut self, log: &mut WireLog) {
        let InFrame { header, violation, data, kept, bad_utf8 } = self.frame.take().expect("a frame is open");
        log.frame(Dir::Rx, &header, &kept, header.payload_len);
        if let Some(violation) = violation {
            if matches!(violation, Violation::MessageTooBig { .. }) {
                self.abandon_message();
            }
            let close = header.opcode == OpCode::Close && !matches!(violation, Violation::FrameAfterClose { .. });
            self.violation(violation);
            if close {
                // Broken as it is (unmasked, too long, RSV bits), it is still the peer's close.
                self.on_close(&kept);
            }
            return;
        }
        match header.opcode {
            OpCode::Close => self.on_close(&kept),
            OpCode::Ping => self.out.push_back(Received::Ping(kept)),
            OpCode::Pong => self.out.push_back(Received::Pong(kept)),
            OpCode::Text | OpCode::Binary | OpCode::Continuation if data => self.on_fragment_end(header.fin, bad_utf8),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => unreachable!("a clean data frame goes to its message"),
            OpCode::ReservedData(_) | OpCode::ReservedControl(_) => unreachable!("refused by the rules"),
        }
    }

    fn on_fragment_end(&mut self, fin: bool, bad_utf8: bool) {
        if bad_utf8 {
            self.message = None;
            return self.violation(Violation::InvalidUtf8 { at_end: false });
        }
        if !fin {
            return;
        }
        let mut message = self.message.take().expect("a message is open");
        if message.transformed {
            let extension = self.extension.as_mut().expect("a transformed message has an extension");
            let decoded = match message.decode_error.take() {
                Some(violation) => Err(violation),
                None => extension.decode_end(message.rsv, self.max_message, &mut |piece| message.take_decoded(piece)),
            };
            if let Err(violation) = decoded {
                return self.violation(violation);
            }
            if message.len > self.max_message {
                return self.violation(Violation::MessageTooBig { limit: self.max_message });
            }
            if !message.binary && (message.bad_utf8 || message.utf8.finish().is_err()) {
                return self.violation(Violation::InvalidUtf8 { at_end: false });
            }
        } else if !message.binary && message.utf8.finish().is_err() {
            return self.violation(Violation::InvalidUtf8 { at_end: true });
        }
        self.out.push_back(message.received());
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
