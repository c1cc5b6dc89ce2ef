//! What a script writes, generated as it is written: a frame's header, then its payload produced
//! (and masked) [`STAGE`] bytes at a time straight from the catalog's description, so a 16 MiB
//! message never exists whole in wsspec, neither as payload nor as encoded frame. A message's
//! frames are made one at a time too (65,536 fragments cost one frame's state).

use std::collections::VecDeque;

use super::receiver::CONTROL_KEPT;
use crate::{
    catalog::{FrameDef, MessageDef, Payload, PayloadStream, Role, WriteMode},
    frame::{apply_mask_at, FrameSpec, OpCode},
};

/// The most bytes generated ahead of the socket (64 KiB): what one write call gets at most.
pub const STAGE: usize = 64 << 10;
/// Bytes of a data frame's payload kept for the wire log.
const PREVIEW: usize = 64;

/// A frame as it starts on the wire: `spec.payload` holds the start of the payload (a control
/// frame's whole, up to [`CONTROL_KEPT`] bytes; [`PREVIEW`] bytes of the others) and
/// `spec.declared_length` is set, so `spec.encode_header()` is the header written.
#[derive(Debug)]
pub struct SentFrame {
    pub spec: FrameSpec,
    /// The payload's whole length in bytes.
    pub payload_len: usize,
}

/// One frame being generated: its header and how much of its payload is left.
#[derive(Debug)]
struct OutFrame {
    spec: FrameSpec,
    header: Option<Vec<u8>>,
    remaining: usize,
    /// Payload bytes generated so far (the mask's phase).
    offset: u64,
}

impl OutFrame {
    /// `spec` is a frame without its payload ([`FrameDef::header_spec`]), whose payload is the
    /// next `len` bytes of a stream.
    fn new(spec: FrameSpec, len: usize) -> Self {
        Self { header: Some(spec.encode_header()), spec, remaining: len, offset: 0 }
    }

    /// Appends to `staged` the header (when not yet written, noting the frame in `sent`) and up to
    /// `room` payload bytes from `payload`; true once the frame is complete.
    fn generate(&mut self, payload: &mut PayloadStream, staged: &mut Vec<u8>, room: usize, sent: &mut Vec<SentFrame>) -> bool {
        if let Some(header) = self.header.take() {
            let keep = if self.spec.opcode.is_control() { CONTROL_KEPT } else { PREVIEW };
            let spec = FrameSpec { payload: payload.peek(keep.min(self.remaining)), ..self.spec.clone() };
            sent.push(SentFrame { spec, payload_len: self.remaining });
            staged.extend_from_slice(&header);
        }
        let n = room.min(self.remaining);
        let start = staged.len();
        staged.resize(start + n, 0);
        payload.read(&mut staged[start..]);
        if let Some(key) = self.spec.mask {
            apply_mask_at(&mut staged[start..], key, self.offset);
        }
        self.offset += n as u64;
        self.remaining -= n;
        self.remaining == 0
    }
}

/// A message's frames, made one at a time from one payload stream.
#[derive(Debug)]
struct MessageFrames<'a> {
    message: &'a MessageDef,
    role: Role,
    /// RSV bits of the first frame (RSV1 when compressed).
    rsv: u8,
    payload: PayloadStream<'a>,
    len: usize,
    /// The frames `next..end` are still to come.
    next: usize,
    end: usize,
    current: Option<OutFrame>,
}

impl MessageFrames<'_> {
    fn next_frame(&mut self) -> Option<OutFrame> {
        if self.next == self.end {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let opcode = if i == 0 { self.message.opcode } else { OpCode::Continuation };
        let mut def = FrameDef::new(opcode, Payload::empty());
        def.fin = i + 1 == self.message.fragment_count(self.len);
        def.rsv = if i == 0 { self.rsv } else { 0 };
        let len = self.message.fragment(i, self.len).len();
        let spec = FrameSpec { declared_length: Some(len as u64), ..def.header_spec(self.role) };
        Some(OutFrame::new(spec, len))
    }

    /// Bytes the frames still to come take on the wire.
    fn wire_len(&self) -> u64 {
        let mask = if self.role == Role::Server { 4 } else { 0 };
        (self.next..self.end)
            .map(|i| {
                let len = self.message.fragment(i, self.len).len() as u64;
                let extended = match len {
                    0..=125 => 0,
                    126..=0xffff => 2,
                    _ => 8,
                };
                2 + extended + mask + len
            })
            .sum()
    }
}

/// A part of a write, generated in order.
#[derive(Debug)]
enum Segment<'a> {
    /// Bytes without frames (a `raw` step).
    Raw(PayloadStream<'a>),
    /// Bytes built already (a part of a split frame, a close) and the frames they start.
    Encoded { data: Vec<u8>, frames: Vec<FrameSpec> },
    Frame(OutFrame, PayloadStream<'a>),
    Message(MessageFrames<'a>),
}

/// Bytes to write, generated as they are written, at most `chop` bytes per write call.
#[derive(Debug)]
pub struct Write<'a> {
    segments: VecDeque<Segment<'a>>,
    /// Bytes on the wire in all.
    len: u64,
    /// Bytes written so far.
    written: u64,
    /// Generated, not yet written: `staged[staged_pos..]`.
    staged: Vec<u8>,
    staged_pos: usize,
    /// Frames generated whose bytes are not all written yet, for the session's wire log.
    sent: Vec<SentFrame>,
    /// Bytes per write call (a chop); `None`: as many as are staged.
    chop: Option<usize>,
    /// False when the bytes stop inside a frame (a split frame's first parts).
    pub ends_frame: bool,
    /// The close frame's payload, when these bytes carry one.
    pub close: Option<Vec<u8>>,
    /// Written back-to-back with the next such write (the default mode): consecutive steps then
    /// reach the target together, as Autobahn's default writes do.
    pub together: bool,
}

impl<'a> Write<'a> {
    fn new(segment: Segment<'a>, len: u64, write: WriteMode, ends_frame: bool, close: Option<Vec<u8>>) -> Self {
        let chop = match write {
            WriteMode::Chop(k) => Some(k.max(1)),
            _ => None,
        };
        Self {
            segments: VecDeque::from([segment]),
            len,
            written: 0,
            staged: Vec::new(),
            staged_pos: 0,
            sent: Vec::new(),
            chop,
            ends_frame,
            close,
            together: write == WriteMode::Together,
        }
    }

    /// Bytes `data` as they are, starting `frames` (a split frame's part; a close).
    pub fn encoded(data: Vec<u8>, frames: Vec<FrameSpec>, write: WriteMode, ends_frame: bool, close: Option<Vec<u8>>) -> Self {
        let len = data.len() as u64;
        Self::new(Segment::Encoded { data, frames }, len, write, ends_frame, close)
    }

    /// The bytes of `payload`, no framing (a `raw` step).
    pub fn raw(payload: &'a Payload, write: WriteMode) -> Self {
        let stream = payload.stream();
        let len = stream.remaining() as u64;
        Self::new(Segment::Raw(stream), len, write, true, None)
    }

    /// One catalog frame, its payload generated as it is written.
    pub fn frame(def: &'a FrameDef, role: Role, write: WriteMode) -> Self {
        let stream = def.payload.stream();
        let frame = OutFrame::new(def.header_spec(role), stream.remaining());
        let len = frame.header.as_ref().map_or(0, Vec::len) as u64 + stream.remaining() as u64;
        Self::new(Segment::Frame(frame, stream), len, write, true, None)
    }

    /// Frames `range` of `message` (all of them, or one per write), whose whole payload is
    /// `payload` from its start; `rsv` goes on the first frame.
    pub fn message(message: &'a MessageDef, role: Role, rsv: u8, mut payload: PayloadStream<'a>, frames: std::ops::Range<usize>, write: WriteMode) -> Self {
        let len = payload.remaining();
        payload.skip(message.fragment(frames.start, len).start);
        let frames = MessageFrames { message, role, rsv, payload, len, next: frames.start, end: frames.end, current: None };
        let wire = frames.wire_len();
        Self::new(Segment::Message(frames), wire, write, true, None)
    }

    /// Bytes on the wire in all.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Some bytes were written: the rest must follow before anything else.
    pub fn started(&self) -> bool {
        self.written > 0
    }

    pub fn is_done(&self) -> bool {
        self.written >= self.len
    }

    /// Appends `next` (of the same step), written in the same calls, chopped as this one.
    pub fn append(&mut self, next: Write<'a>) {
        self.segments.extend(next.segments);
        self.len += next.len;
        self.ends_frame = next.ends_frame;
        self.close = self.close.take().or(next.close);
    }

    /// Appends `next` (the next step's write, both `together`), written in the same calls.
    pub fn absorb(&mut self, next: Write<'a>) {
        self.append(next);
        self.chop = None;
    }

    /// The bytes for the next write call, generating them if none are staged. Frames generated
    /// are kept for [`Write::take_sent`].
    pub fn stage(&mut self) -> &[u8] {
        let want = self.chop.unwrap_or(STAGE).min(STAGE);
        if self.staged.len() - self.staged_pos < want && !self.segments.is_empty() {
            self.staged.drain(..self.staged_pos);
            self.staged_pos = 0;
            while self.staged.len() < want && !self.segments.is_empty() {
                self.generate(want - self.staged.len());
            }
        }
        let end = self.staged.len().min(self.staged_pos + want);
        &self.staged[self.staged_pos..end]
    }

    /// `n` staged bytes were written; returns their first `max` bytes (for the wire log).
    pub fn consume(&mut self, n: usize, max: usize) -> Vec<u8> {
        let prefix = self.staged[self.staged_pos..self.staged_pos + n.min(max)].to_vec();
        self.staged_pos += n;
        self.written += n as u64;
        if self.staged_pos == self.staged.len() && self.staged.capacity() > 2 * STAGE {
            self.staged = Vec::new();
            self.staged_pos = 0;
        }
        prefix
    }

    /// The frames generated since the last call, in order.
    pub fn take_sent(&mut self) -> Vec<SentFrame> {
        std::mem::take(&mut self.sent)
    }

    /// Generates up to about `room` more bytes from the first segment.
    fn generate(&mut self, room: usize) {
        let Some(segment) = self.segments.front_mut() else { return };
        let done = match segment {
            Segment::Raw(stream) => {
                let start = self.staged.len();
                self.staged.resize(start + room.min(stream.remaining()), 0);
                stream.read(&mut self.staged[start..]);
                stream.remaining() == 0
            }
            Segment::Encoded { data, frames } => {
                self.staged.append(data);
                self.sent.extend(frames.drain(..).map(|spec| SentFrame { payload_len: spec.payload.len(), spec }));
                true
            }
            Segment::Frame(frame, stream) => frame.generate(stream, &mut self.staged, room, &mut self.sent),
            Segment::Message(message) => match message.current.take().or_else(|| message.next_frame()) {
                None => true,
                Some(mut frame) => {
                    if !frame.generate(&mut message.payload, &mut self.staged, room, &mut self.sent) {
                        message.current = Some(frame);
                    }
                    false
                }
            },
        };
        if done {
            self.segments.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::MaskDef;

    /// Everything `write` puts on the wire, a write call of at most `accept` bytes at a time (a
    /// socket taking less than offered), checking no call exceeds the chop or the stage.
    fn drain(mut write: Write, accept: usize, chop: Option<usize>) -> (Vec<u8>, Vec<SentFrame>) {
        let (mut wire, mut sent) = (Vec::new(), Vec::new());
        while !write.is_done() {
            let offered = write.stage().len();
            assert!(offered > 0 && offered <= chop.unwrap_or(STAGE).min(STAGE));
            let n = offered.min(accept);
            wire.extend_from_slice(&write.stage()[..n]);
            write.consume(n, 64);
            sent.extend(write.take_sent());
            assert!(write.staged.capacity() <= 2 * STAGE + 14, "staged {} bytes", write.staged.capacity());
        }
        (wire, sent)
    }

    #[test]
    fn a_big_frame_is_generated_as_the_whole_frame_would_encode() {
        let payload = Payload::Pattern { unit: b"BAsd7&jh23".to_vec(), len: 1_000_003 };
        let def = FrameDef { mask: MaskDef::Key([1, 2, 3, 4]), ..FrameDef::new(OpCode::Text, payload) };
        let whole = def.to_spec(Role::Server).encode();
        for (accept, write) in [(usize::MAX, WriteMode::Together), (1000, WriteMode::Together), (64, WriteMode::Chop(64)), (7, WriteMode::Chop(1024))] {
            let chop = if let WriteMode::Chop(k) = write { Some(k) } else { None };
            let (wire, sent) = drain(Write::frame(&def, Role::Server, write), accept, chop);
            assert!(wire == whole, "accepting {accept} per call, {write:?}");
            assert_eq!((sent.len(), sent[0].payload_len, &sent[0].spec.payload[..]), (1, 1_000_003, &b"BAsd7&jh23".repeat(7)[..64]));
        }
    }

    #[test]
    fn a_message_is_cut_into_frames_one_at_a_time() {
        let message = MessageDef {
            opcode: OpCode::Binary,
            payload: Payload::Pattern { unit: vec![0xfe, 0x01, 0xfd], len: 300_000 },
            frames: None,
            frame_size: Some(65_536),
            compressed: false,
        };
        let payload = message.payload.bytes();
        let count = message.fragment_count(payload.len());
        let write = Write::message(&message, Role::Client, 0, message.payload.stream(), 0..count, WriteMode::Together);
        let len = write.len();
        let (wire, sent) = drain(write, usize::MAX, None);
        let mut expected = Vec::new();
        for (i, range) in message.fragments().into_iter().enumerate() {
            let opcode = if i == 0 { OpCode::Binary } else { OpCode::Continuation };
            expected.extend(FrameSpec { fin: i + 1 == count, ..FrameSpec::new(opcode, payload[range].to_vec()) }.encode());
        }
        assert!(wire == expected);
        assert_eq!((len, sent.len()), (expected.len() as u64, 5));
        // One frame of it, as a per-frame write makes it.
        let (third, _) = drain(Write::message(&message, Role::Client, 0, message.payload.stream(), 2..3, WriteMode::PerFrame), 999, None);
        let at = 2 * (65_536 + 10);
        assert!(third == expected[at..at + 65_536 + 10]);
    }
}
