//! The reference model of a conforming server: what RFC 6455 requires of a server (no extension
//! negotiated, an echo application) that receives a given sequence of client frames. A pure
//! function, so the same model judges tungstenite in memory (`fuzz/`, `tungstenite_diff`) and a live
//! server over the network (`wsspec fuzz`).
//!
//! The outcome is a list of alternatives, each a correct behaviour: the replies the server sends
//! (echoes of complete messages, pongs), in order, and how the connection ends — still open, a close
//! frame answering the client's, or the connection failed with one of a set of close codes. Where
//! the RFC leaves the server a choice there is an alternative per choice, and the choices it only
//! permits are graded INFORMATIONAL (as the catalog grades them):
//! - a non-minimal length (§5.2 binds the sender): accepted, or refused with 1002 or 1009 (15.x);
//! - invalid UTF-8 in a fragmented text message (§8.1): failing at once, or by the end of the message
//!   at the latest (6.4.x);
//! - close codes registered with IANA after RFC 6455 (1012–1014) and codes above 4999, where §7.4.2
//!   defines nothing: answered, or refused with 1002 (7.13.x);
//! - a close received inside a fragmented message may be answered with 1002 (7.1.5);
//! - a complete text message of invalid UTF-8 may be failed late (§8.1 sets no deadline; the
//!   catalog grades it so in 6.4.x): a server checking UTF-8 in its application layer answers the
//!   pings, closes and frame-level violations its protocol layer reads meanwhile, so after such a
//!   message every end also allows 1007, and a later violation's code is allowed too (two
//!   violations arriving together may be detected in either order).
//!
//! With permessage-deflate agreed (RFC 7692) RSV1 is allowed on a data message's first frame only
//! (§6: on a continuation or control frame it fails the connection, RFC 6455 §5.2), and a message
//! with it is inflated at its end: its echo is the inflated content, data that is not DEFLATE fails
//! the connection (§6.2), and a text message's UTF-8 is checked on what it inflates to. Where the
//! model cannot know what a conforming server reads — data that stops inside a block (zlib waits
//! for more, a server may echo what it got), or refers to data before the message (a server keeping
//! its context may hold it) — the outcome is [`Outcome::undecidable`] and the sequence is not judged.
//!
//! Replies are loose where timing decides, not the RFC: before a failure every reply owed may be
//! missing (the server may fail before it gets to them, 3.2); echoes owed before a close frame may be
//! missing (the echo application may not get to them before the library answers the close); and of
//! the pongs only the last is required (§5.5.3, "only the most recently processed Ping frame").
//! The order of echoes and pongs is loose where the RFC sets none: a pong (sent by the protocol
//! layer) may overtake the echoes of messages completed before its ping (sent by the application),
//! but never the echo of a message completed after it (5.6–5.20: the pong of a ping inside a
//! fragmented message comes before that message's echo). Sequences with more orders than
//! [`MAX_ORDERS`] are undecidable.

use std::ops::ControlFlow::{self, Break, Continue};

use deflate::{inflate, inflate_prefix, Inflated};
use replies::{orders, replies_match};

use crate::{
    catalog::{Grade, Role},
    extension::permessage_deflate::connection::RSV1,
    frame::{parse_close_payload, parse_header, CloseCodeClass, FrameSpec, Header, OpCode},
    fuzz::Sequence,
    rules::{
        check_frame, FrameContext, Rule, Violation, CLOSE_REPLY, CLOSE_UNDEFINED, DEFLATE_DATA, NON_MINIMAL, RECEIVE, UTF8, UTF8_LATE,
    },
    utf8::Utf8Validator,
};

/// Something the server sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The echo of a complete message.
    Echo { binary: bool, payload: Vec<u8> },
    Pong(Vec<u8>),
}

/// A reply an alternative expects, and whether it may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub reply: Reply,
    pub optional: bool,
}

/// How the connection ends, in an alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Still open after the last frame; a normal close (1000) from the client is then answered with
    /// one of these codes (or none).
    Open(Vec<u16>),
    /// The client's close frame is answered with a close frame with one of these codes (or none).
    Answers(Vec<u16>),
    /// The server fails the connection: it closes TCP, after a close frame with one of these codes
    /// (or none), or without one.
    Fails(Vec<u16>),
}

/// One correct behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    pub replies: Vec<Expected>,
    pub end: End,
    pub grade: Grade,
    /// The frame the connection ends at (answered or failed); the number of frames if it stays open.
    pub at: usize,
    pub rule: &'static Rule,
}

/// The most orders of echoes and pongs one alternative expands to; beyond, the sequence is not judged.
pub const MAX_ORDERS: usize = 24;

/// Every correct behaviour for one sequence, in the order the model reached them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub alternatives: Vec<Alternative>,
    /// Why the model cannot say what a conforming server does with the sequence (compressed data
    /// whose meaning depends on the server's inflater): such a sequence is not judged.
    pub undecidable: Option<&'static str>,
    /// The server keeps the connection open with no message in progress, and no alternative lets
    /// it end the connection (not even one it is only permitted, such as refusing a non-minimal
    /// length): once the replies have come, the server is where a fresh connection starts, and the
    /// next sequence may be sent on it.
    pub idle: bool,
}

/// What a server under test did, in the model's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub replies: Vec<Reply>,
    pub end: Ended,
}

/// How the connection ended, as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Still open when the input ran out.
    Open,
    /// The server sent a close frame (with this code) and closed.
    Closed(Option<u16>),
    /// The server dropped the connection without a close frame, for a reason whose close code is
    /// this (1002 for a protocol error, 1007 for invalid data, 1009 for a size limit).
    Failed(u16),
}

impl Outcome {
    /// Whether `seen` is one of the correct behaviours.
    pub fn admits(&self, seen: &Observed) -> bool {
        self.alternatives.iter().any(|a| a.end.admits(&seen.end) && replies_match(&a.replies, &seen.replies))
    }

    /// The requirement of the strictest alternative: what a case built from this outcome checks.
    pub fn rule(&self) -> &'static Rule {
        self.alternatives.iter().find(|a| a.grade == Grade::Ok).unwrap_or(&self.alternatives[0]).rule
    }
}

impl End {
    pub fn codes(&self) -> &[u16] {
        match self {
            Self::Open(codes) | Self::Answers(codes) | Self::Fails(codes) => codes,
        }
    }

    fn admits(&self, seen: &Ended) -> bool {
        match (self, seen) {
            (Self::Open(_), Ended::Open) => true,
            (Self::Answers(codes) | Self::Fails(codes), Ended::Closed(code)) => code.is_none_or(|c| codes.contains(&c)),
            (Self::Fails(codes), Ended::Failed(code)) => codes.contains(code),
            _ => false,
        }
    }
}

/// What a conforming server without extensions must do with `frames`.
pub fn expect(frames: &[FrameSpec]) -> Outcome {
    model(frames, false)
}

/// What a conforming server must do with `sequence`, with permessage-deflate agreed if the
/// sequence says so.
pub fn expect_sequence(sequence: &Sequence) -> Outcome {
    model(&sequence.frames, sequence.deflate)
}

/// The frames of `frames` that a conforming server reads without closing, failing or being left
/// mid-message, in order: each frame at which it would or may close or fail (or after which it
/// owes a failure for invalid UTF-8) is left out, and what follows the last point at which no
/// message is in progress is cut. After them the server keeps the connection open and idle
/// ([`Outcome::idle`]).
pub fn idle_frames(frames: &[FrameSpec], deflate: bool) -> Vec<FrameSpec> {
    let mut model = Model { deflate, ends_only: true, ..Model::default() };
    let (mut kept, mut idle_len) = (Vec::new(), 0);
    for frame in frames {
        let mut next = model.clone();
        let read = next.receive(kept.len(), frame).is_continue() && next.alternatives.is_empty() && !next.late_utf8;
        if read {
            model = next;
            kept.push(frame.clone());
            if model.message.is_none() {
                idle_len = kept.len();
            }
        }
    }
    kept.truncate(idle_len);
    kept
}

fn model(frames: &[FrameSpec], deflate: bool) -> Outcome {
    let mut model = Model { deflate, ..Model::default() };
    for (at, frame) in frames.iter().enumerate() {
        if model.receive(at, frame).is_break() {
            return Outcome { alternatives: model.alternatives, undecidable: model.undecidable, idle: false };
        }
    }
    // Only when no alternative lets the server end the connection: one it may still take (refusing
    // a non-minimal length, say) would look idle until the server acts on it.
    let idle = model.message.is_none() && !model.late_utf8 && model.alternatives.is_empty();
    let mut codes = vec![1000];
    if let Some(message) = &model.message {
        codes.push(1002);
        if message.invalid {
            codes.push(1007);
        }
    }
    model.end(frames.len(), End::Open(codes), &RECEIVE);
    Outcome { alternatives: model.alternatives, undecidable: model.undecidable, idle }
}

/// The server's state along one path through the sequence.
#[derive(Default, Clone)]
struct Model {
    alternatives: Vec<Alternative>,
    /// Replies owed so far.
    replies: Vec<Reply>,
    /// A permitted choice was taken earlier on this path: what follows is only permitted too.
    permitted_only: bool,
    message: Option<Message>,
    /// permessage-deflate is agreed.
    deflate: bool,
    undecidable: Option<&'static str>,
    /// A complete message of invalid UTF-8 was received and the server, on this path, has not failed
    /// for it yet (permitted): whatever ends the connection, it may still be with 1007.
    late_utf8: bool,
    /// Only where the connection may end matters ([`idle_frames`]): the replies owed and the
    /// content of uncompressed messages are not kept, so the model is cheap to copy.
    ends_only: bool,
}

/// A fragmented message being received.
#[derive(Clone)]
struct Message {
    binary: bool,
    /// RSV1 on its first frame: the payload is compressed (permessage-deflate).
    compressed: bool,
    payload: Vec<u8>,
    utf8: Utf8Validator,
    /// Invalid UTF-8 was seen and the failure is deferred to the end of the message (permitted).
    invalid: bool,
}

/// After a complete message of invalid UTF-8, on the path where the server has not failed yet.
const LATE_UTF8: u16 = 1007;

impl Model {
    fn receive(&mut self, at: usize, frame: &FrameSpec) -> ControlFlow<()> {
        let header = wire_header(frame);
        if let Some((rule, codes)) = self.violation(&header) {
            self.end(at, End::Fails(codes), rule);
            return Break(());
        }
        if header.non_minimal_length() {
            self.permit(at, End::Fails(NON_MINIMAL.codes.to_vec()), &NON_MINIMAL);
            self.permitted_only = true;
        }
        match header.opcode {
            OpCode::Ping if self.ends_only => {}
            OpCode::Ping => self.replies.push(Reply::Pong(frame.payload.clone())),
            OpCode::Close => return self.close(at, &frame.payload),
            OpCode::Text | OpCode::Binary => {
                let binary = header.opcode == OpCode::Binary;
                let compressed = header.rsv & RSV1 != 0;
                self.message = Some(Message { binary, compressed, payload: Vec::new(), utf8: Utf8Validator::new(), invalid: false });
                return self.fragment(at, frame);
            }
            OpCode::Continuation => return self.fragment(at, frame),
            // An unsolicited pong needs no answer (§5.5.3); reserved opcodes were refused above.
            OpCode::Pong | OpCode::ReservedData(_) | OpCode::ReservedControl(_) => {}
        }
        Continue(())
    }

    /// The frame-level reasons the server must fail the connection, from the rules table: the first
    /// decides the rule, and the codes of all are allowed (a server may check them in any order).
    fn violation(&self, header: &Header) -> Option<(&'static Rule, Vec<u16>)> {
        // RFC 7692 §6: RSV1 marks a compressed message on its first frame, and means nothing elsewhere.
        let first = matches!(header.opcode, OpCode::Text | OpCode::Binary);
        let rsv_allowed = if self.deflate && first { RSV1 } else { 0 };
        let context = FrameContext { sender: Role::Client, rsv_allowed, message_open: self.message.is_some(), previous_mask: None };
        let broken = check_frame(header, &context);
        let rule = broken.first()?.rule();
        Some((rule, broken.iter().flat_map(|v| v.rule().codes.iter().copied()).collect()))
    }

    fn fragment(&mut self, at: usize, frame: &FrameSpec) -> ControlFlow<()> {
        if self.message.as_ref().is_some_and(|m| m.compressed) {
            return self.compressed_fragment(at, frame);
        }
        let message = self.message.as_mut().expect("a data frame opens a message or continues one");
        let broke_utf8 = !message.binary && !message.invalid && message.utf8.feed(&frame.payload).is_err();
        if !self.ends_only {
            message.payload.extend_from_slice(&frame.payload);
        }
        if broke_utf8 && !frame.fin {
            // Failing here is what §8.1 asks; carrying on to the end of the message is permitted.
            message.invalid = true;
            self.end(at, End::Fails(UTF8.codes.to_vec()), &UTF8);
            self.permitted_only = true;
        }
        if !frame.fin {
            return Continue(());
        }
        let message = self.message.take().expect("a message is open");
        if !message.binary && (broke_utf8 || message.invalid || message.utf8.finish().is_err()) {
            let rule = if message.invalid { &UTF8_LATE } else { &UTF8 };
            self.end(at, End::Fails(rule.codes.to_vec()), rule);
            return self.fail_late();
        }
        self.echo(message.binary, message.payload);
        Continue(())
    }

    /// A fragment of a compressed message: the data is inflated at the end of the message (a server
    /// may inflate and check UTF-8 as the data comes, but failing earlier leaves the same
    /// alternatives: every reply is optional once the server fails).
    fn compressed_fragment(&mut self, at: usize, frame: &FrameSpec) -> ControlFlow<()> {
        let message = self.message.as_mut().expect("a compressed message is open");
        message.payload.extend_from_slice(&frame.payload);
        if !frame.fin {
            // A server inflating (and checking UTF-8) frame by frame may fail already.
            let early = match inflate_prefix(&message.payload) {
                Err(Inflated::Corrupt) => Some(&DEFLATE_DATA),
                Ok((_, content)) if !message.binary && Utf8Validator::new().feed(&content).is_err() => Some(&UTF8),
                _ => None,
            };
            if let Some(rule) = early {
                self.end(at, End::Fails(rule.codes.to_vec()), rule);
            }
            return Continue(());
        }
        let message = self.message.take().expect("a message is open");
        match inflate(&message.payload) {
            Inflated::Content(content) if message.binary || std::str::from_utf8(&content).is_ok() => {
                self.echo(message.binary, content);
                Continue(())
            }
            Inflated::Content(_) => {
                self.end(at, End::Fails(UTF8.codes.to_vec()), &UTF8);
                self.fail_late()
            }
            Inflated::Corrupt => {
                self.end(at, End::Fails(DEFLATE_DATA.codes.to_vec()), &DEFLATE_DATA);
                Break(())
            }
            Inflated::Undecidable(why) => {
                self.undecidable.get_or_insert(why);
                self.end(at, End::Fails(DEFLATE_DATA.codes.to_vec()), &DEFLATE_DATA);
                Break(())
            }
        }
    }

    /// The echo of a complete message, unless a message before it was invalid: the echo application
    /// fails on that one first.
    fn echo(&mut self, binary: bool, payload: Vec<u8>) {
        if !self.late_utf8 && !self.ends_only {
            self.replies.push(Reply::Echo { binary, payload });
        }
    }

    /// The permitted path after a complete message of invalid UTF-8: the server reads on and fails
    /// later (graded INFORMATIONAL, as 6.4.x grades failing late).
    fn fail_late(&mut self) -> ControlFlow<()> {
        self.late_utf8 = true;
        self.permitted_only = true;
        Continue(())
    }

    /// A close frame ends the model either way: the server answers it or fails, and ignores what follows.
    fn close(&mut self, at: usize, payload: &[u8]) -> ControlFlow<()> {
        // 7.1.5: a close inside a fragmented message may be answered with 1002.
        let answer = |mut codes: Vec<u16>, model: &Self| {
            if let Some(message) = &model.message {
                codes.push(1002);
                if message.invalid {
                    codes.push(1007);
                }
            }
            End::Answers(codes)
        };
        let refuse = |model: &mut Self, violation: Violation| {
            let rule = violation.rule();
            model.end(at, End::Fails(rule.codes.to_vec()), rule);
        };
        match parse_close_payload(payload) {
            Err(()) => refuse(self, Violation::OneByteClosePayload),
            Ok(None) => self.end(at, answer(vec![1000], self), &CLOSE_REPLY),
            Ok(Some((_, reason))) if std::str::from_utf8(reason).is_err() => refuse(self, Violation::InvalidCloseReason),
            Ok(Some((code, _))) => match code.class() {
                CloseCodeClass::Defined | CloseCodeClass::Application => self.end(at, answer(vec![code.0, 1000], self), &CLOSE_REPLY),
                CloseCodeClass::Registered | CloseCodeClass::Undefined => {
                    self.permit(at, answer(vec![code.0, 1000], self), &CLOSE_UNDEFINED);
                    self.permit(at, End::Fails(CLOSE_UNDEFINED.codes.to_vec()), &CLOSE_UNDEFINED);
                }
                CloseCodeClass::Reserved | CloseCodeClass::Unassigned => refuse(self, Violation::InvalidCloseCode { code: code.0 }),
            },
        }
        Break(())
    }

    /// An alternative on this path, graded as the path is.
    fn end(&mut self, at: usize, end: End, rule: &'static Rule) {
        let grade = if self.permitted_only { Grade::Informational } else { Grade::Ok };
        self.push(at, end, grade, rule);
    }

    /// An alternative the RFC permits without asking for it.
    fn permit(&mut self, at: usize, end: End, rule: &'static Rule) {
        self.push(at, end, Grade::Informational, rule);
    }

    fn push(&mut self, at: usize, end: End, grade: Grade, rule: &'static Rule) {
        if !self.late_utf8 {
            return self.push_end(at, end, grade, rule);
        }
        // Still owing the failure for an invalid message: the server may fail for it now.
        match end {
            End::Open(_) => self.push_end(at, End::Fails(vec![LATE_UTF8]), grade, &UTF8_LATE),
            End::Answers(mut codes) => {
                codes.push(LATE_UTF8);
                self.push_end(at, End::Answers(codes), grade, rule);
                self.push_end(at, End::Fails(vec![LATE_UTF8]), grade, &UTF8_LATE);
            }
            End::Fails(mut codes) => {
                codes.push(LATE_UTF8);
                self.push_end(at, End::Fails(codes), grade, rule);
            }
        }
    }

    fn push_end(&mut self, at: usize, mut end: End, grade: Grade, rule: &'static Rule) {
        let (End::Open(codes) | End::Answers(codes) | End::Fails(codes)) = &mut end;
        codes.sort_unstable();
        codes.dedup();
        let last_pong = self.replies.iter().rposition(|r| matches!(r, Reply::Pong(_)));
        let replies = self
            .replies
            .iter()
            .enumerate()
            .map(|(i, reply)| {
                let optional = match (&end, reply) {
                    (End::Fails(_), _) | (End::Answers(_), Reply::Echo { .. }) => true,
                    (_, Reply::Pong(_)) => Some(i) != last_pong,
                    (End::Open(_), Reply::Echo { .. }) => false,
                };
                Expected { reply: reply.clone(), optional }
            })
            .collect::<Vec<_>>();
        // Beyond the bound the order the model owes them is kept, and the sequence is not judged.
        let orders = orders(&replies).unwrap_or_else(|| {
            self.undecidable.get_or_insert("more orders of echoes and pongs than the model expands");
            vec![replies]
        });
        for replies in orders {
            // An earlier alternative that admits the same already covers this one.
            if !self.alternatives.iter().any(|a| a.replies == replies && a.end == end) {
                self.alternatives.push(Alternative { replies, end: end.clone(), grade, at, rule });
            }
        }
    }
}

/// The header the server reads for `frame`: decoded from the frame's own encoding, so odd lengths
/// and flags are seen exactly as on the wire.
pub fn wire_header(frame: &FrameSpec) -> Header {
    let bare = FrameSpec {
        fin: frame.fin,
        rsv: frame.rsv,
        opcode: frame.opcode,
        mask: frame.mask,
        length_encoding: frame.length_encoding,
        declared_length: Some(frame.header_length()),
        payload: Vec::new(),
    };
    parse_header(&bare.encode()).expect("an encoded header parses").0
}

mod deflate;
mod replies;
#[cfg(test)]
mod tests;
