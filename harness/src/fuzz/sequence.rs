//! The fuzz input: client frames and how they are written, decoded from bytes by a small grammar.
//! libFuzzer mutates the bytes and `wsspec fuzz` draws them from a seeded generator, so both explore
//! the same structure: whole messages cut into fragments with control frames between them, closes
//! with good and bad payloads, explicit frames with every field free, and now and then one mutation
//! a conforming server must refuse (or may refuse). Every byte string decodes to a sequence.
//!
//! With permessage-deflate agreed (RFC 7692, [`Sequence::deflate`]) messages may also be compressed:
//! RSV1 on the first frame only, the data cut anywhere, now and then invalid UTF-8 inside or data
//! that is not DEFLATE at all; the mutations then put RSV1 on continuation and control frames too.

use arbitrary::{Arbitrary, Unstructured};
use rand::{rngs::StdRng, RngCore, SeedableRng};

use crate::{
    catalog::WriteMode,
    extension::permessage_deflate::{connection::RSV1, deflater::MessageDeflater, params::DirectionParams},
    frame::{FrameSpec, LengthEncoding, OpCode},
};

/// At most this many frames per sequence: room for a fragmented message with control frames between
/// its fragments and a close, small enough to minimize quickly.
pub const MAX_FRAMES: usize = 16;
/// The largest payload the grammar writes (the 16-bit length form's maximum).
const MAX_PAYLOAD: usize = 0xffff;
/// Random bytes behind one generated sequence: more than sixteen small units consume.
const GENERATED_INPUT: usize = 4096;

/// Unit selectors: a byte below `MESSAGE` starts a message, below `CONTROL` a ping or pong, below
/// `EXPLICIT` a close frame, and from `EXPLICIT` on a frame spelled out field by field.
const MESSAGE: u8 = 96;
const CONTROL: u8 = 176;
const EXPLICIT: u8 = 192;

const ENCODINGS: [LengthEncoding; 4] = [LengthEncoding::Minimal, LengthEncoding::Bits7, LengthEncoding::Bits16, LengthEncoding::Bits64];

/// Multi-byte characters text payloads are made of, besides printable ASCII.
const TEXT_ATOMS: [&str; 8] = ["é", "κόσμε", "€", "𝄞", "\u{10FFFF}", "\u{FEFF}", "\u{7FF}", "\u{FFFD}"];

/// Byte strings that break UTF-8: 0xFF, an overlong '/', a surrogate, beyond U+10FFFF, a truncated
/// two-byte sequence, a lone continuation byte.
const BAD_UTF8: [&[u8]; 6] = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xce", b"\x80"];

/// Close codes the grammar picks from: sendable ones (§7.4.1), the IANA-registered 1012–1014, codes
/// that may not be sent (0–999, 1004–1006, 1015, unassigned 1016–2999), and codes above 4999.
const CLOSE_CODES: [u16; 27] = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999, 0, 999, 1004, 1005, 1006,
    1015, 1016, 2000, 2999, 5000, 65535,
];

/// Compressed data that is not DEFLATE whatever came before it (RFC 1951 §3.2.3, §3.2.4): a block
/// of the reserved type 11, and a stored block whose NLEN is not the complement of its LEN.
const CORRUPT_DEFLATE: [&[u8]; 2] = [b"\x06", b"\x00\x05\x00\x00\x00"];

/// What a fuzzed client sends: its frames, in order, and how their bytes reach the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub frames: Vec<FrameSpec>,
    pub write: WriteMode,
    /// Sent with permessage-deflate agreed (RFC 7692; offered as [`DEFLATE_OFFER`]): data frames
    /// with RSV1 on a message's first frame carry compressed data.
    pub deflate: bool,
}

/// The offer of a deflate sequence: the plain offer (every parameter left to the server), so the
/// client's window is 32 KiB whatever the server answers.
pub const DEFLATE_OFFER: &str = "permessage-deflate";

impl Sequence {
    /// The `index`th sequence of a run with `seed`, with compressed messages or not: the same
    /// arguments always give the same frames.
    pub fn generate(seed: u32, index: u64, deflate: bool) -> Self {
        let mut input = vec![0u8; GENERATED_INPUT];
        StdRng::seed_from_u64((u64::from(seed) << 40) ^ index).fill_bytes(&mut input);
        if deflate {
            Self::decode_deflate(&input)
        } else {
            Self::decode(&input)
        }
    }

    /// Decodes fuzz input: a sequence for a connection without extensions.
    pub fn decode(input: &[u8]) -> Self {
        decode_sequence(&mut Unstructured::new(input), false)
    }

    /// Decodes fuzz input: a sequence for a connection with permessage-deflate agreed.
    pub fn decode_deflate(input: &[u8]) -> Self {
        decode_sequence(&mut Unstructured::new(input), true)
    }

    /// The sequence up to its first close frame. A server closes TCP once it has answered a close;
    /// bytes still arriving then make its kernel reset the connection, which can discard the
    /// server's last frames before they leave. A client sends nothing after its close anyway
    /// (§5.5.1), so over the network the frames after it are left out.
    pub fn until_close(mut self) -> Self {
        if let Some(close) = self.frames.iter().position(|f| f.opcode == OpCode::Close) {
            self.frames.truncate(close + 1);
        }
        self
    }

    /// The sequence without the frames at which a conforming server would close or fail, and
    /// without a message left unfinished at its end ([`crate::fuzz::oracle::idle_frames`]): after
    /// it the connection stays open and idle, so another sequence can follow on it. Unchanged when
    /// no frame would be left. Over the network most sequences are sent so (`wsspec fuzz` shares
    /// connections between them); the rest keep their closes and failures.
    pub fn until_idle(self) -> Self {
        let frames = crate::fuzz::oracle::idle_frames(&self.frames, self.deflate);
        if frames.is_empty() {
            self
        } else {
            Self { frames, ..self }
        }
    }

    /// The fuzz input that decodes to this sequence, every frame spelled out, so catalog cases become
    /// seeds. Payloads are cut at 64 KiB and frames beyond [`MAX_FRAMES`] dropped; a declared length
    /// survives only in the form the grammar makes (the 64-bit form with its top bit set).
    pub fn to_input(&self) -> Vec<u8> {
        let frames = &self.frames[..self.frames.len().min(MAX_FRAMES)];
        let mut out = match self.write {
            WriteMode::Together => vec![0],
            WriteMode::PerFrame => vec![5],
            WriteMode::Chop(k) => vec![6, (k.clamp(1, 16) - 1) as u8],
        };
        out.push(frames.len().saturating_sub(1) as u8);
        for frame in frames {
            out.push(EXPLICIT);
            out.extend(frame_input(frame));
        }
        out
    }
}

impl<'a> Arbitrary<'a> for Sequence {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(decode_sequence(u, false))
    }
}

/// Any frame at all, every field chosen by the input (the round-trip target's input).
impl<'a> Arbitrary<'a> for FrameSpec {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(explicit_frame(u))
    }
}

/// The input [`FrameSpec`]'s `Arbitrary` decodes back to this frame (within the limits of
/// [`Sequence::to_input`]).
pub fn frame_input(frame: &FrameSpec) -> Vec<u8> {
    let payload = &frame.payload[..frame.payload.len().min(MAX_PAYLOAD)];
    let top_bit = frame.declared_length.is_some_and(|n| n >> 63 == 1);
    let encoding = ENCODINGS.iter().position(|e| *e == frame.length_encoding).unwrap_or(0) as u8;
    let flags = u8::from(frame.fin) << 7 | (frame.rsv & 7) << 4 | u8::from(frame.mask.is_some()) << 3 | u8::from(top_bit) << 2 | encoding;
    let mut out = vec![flags, frame.opcode.as_u8()];
    if let Some(key) = frame.mask {
        out.extend(key);
    }
    out.extend((payload.len() as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn decode_sequence(u: &mut Unstructured, deflate: bool) -> Sequence {
    let write = match byte(u) % 8 {
        0..=4 => WriteMode::Together,
        5 => WriteMode::PerFrame,
        _ => WriteMode::Chop(1 + usize::from(byte(u) % 16)),
    };
    let units = 1 + usize::from(byte(u)) % MAX_FRAMES;
    let mut frames = Vec::new();
    for _ in 0..units {
        if frames.len() >= MAX_FRAMES || u.is_empty() {
            break;
        }
        match byte(u) {
            0..MESSAGE if deflate && byte(u) & 1 == 1 => compressed_message(u, &mut frames),
            0..MESSAGE => message(u, &mut frames),
            MESSAGE..CONTROL => {
                let frame = control(u);
                frames.push(mutate(u, frame, false));
            }
            CONTROL..EXPLICIT => {
                let frame = close(u);
                frames.push(mutate(u, frame, false));
            }
            _ => frames.push(explicit_frame(u)),
        }
    }
    frames.truncate(MAX_FRAMES);
    Sequence { frames, write, deflate }
}

/// The next input byte; 0 once the input is used up.
fn byte(u: &mut Unstructured) -> u8 {
    u8::arbitrary(u).unwrap_or_default()
}

fn key(u: &mut Unstructured) -> [u8; 4] {
    [byte(u), byte(u), byte(u), byte(u)]
}

/// Mostly short, sometimes around the 125-byte control limit, now and then up to 64 KiB.
fn payload_len(u: &mut Unstructured) -> usize {
    match byte(u) {
        b @ 0..128 => usize::from(b % 24),
        b @ 128..240 => usize::from(b - 104),
        _ => usize::from(u16::from_be_bytes([byte(u), byte(u)])),
    }
}

/// Valid UTF-8 of exactly `len` bytes; once the input runs out, what was made so far repeats.
fn text(u: &mut Unstructured, len: usize) -> Vec<u8> {
    let mut out = String::with_capacity(len);
    while out.len() < len && !u.is_empty() {
        let b = byte(u);
        let atom = TEXT_ATOMS[usize::from(b % 8)];
        if b >= 192 && out.len() + atom.len() <= len {
            out.push_str(atom);
        } else {
            out.push(char::from(0x20 + b % 95));
        }
    }
    let unit = if out.is_empty() { "*".to_string() } else { out.clone() };
    while out.len() < len {
        let room = len - out.len();
        let cut = (0..=room.min(unit.len())).rev().find(|i| unit.is_char_boundary(*i)).unwrap_or(0);
        out.push_str(if cut == 0 { "*" } else { &unit[..cut] });
    }
    out.into_bytes()
}

/// `len` input bytes; once the input runs out, what was taken repeats.
fn binary(u: &mut Unstructured, len: usize) -> Vec<u8> {
    let taken = u.bytes(len.min(u.len())).unwrap_or_default();
    let unit = if taken.is_empty() { &[0u8][..] } else { taken };
    unit.iter().copied().cycle().take(len).collect()
}

/// A text or binary message, cut into up to four fragments (possibly empty ones, possibly inside a
/// UTF-8 sequence), with a ping or pong between fragments now and then.
fn message(u: &mut Unstructured, frames: &mut Vec<FrameSpec>) {
    let opcode = if byte(u) & 1 == 0 { OpCode::Text } else { OpCode::Binary };
    let len = payload_len(u);
    let payload = if opcode == OpCode::Text { text(u, len) } else { binary(u, len) };
    fragments(u, frames, opcode, &payload, false);
}

/// A text or binary message compressed as RFC 7692 §7.2.1 says, by a fresh compressor (no reference
/// to earlier messages, so the data means the same with or without context takeover) at one of four
/// levels, then cut like any message with RSV1 on the first frame. About one in eight has invalid
/// UTF-8 inside (text) or data that is not DEFLATE ([`CORRUPT_DEFLATE`] in front).
fn compressed_message(u: &mut Unstructured, frames: &mut Vec<FrameSpec>) {
    let opcode = if byte(u) & 1 == 0 { OpCode::Text } else { OpCode::Binary };
    let len = payload_len(u);
    let mut content = if opcode == OpCode::Text { text(u, len) } else { binary(u, len) };
    let variant = byte(u);
    if (224..240).contains(&variant) && opcode == OpCode::Text {
        let at = usize::from(byte(u)) * content.len() / 256;
        content.splice(at..at, BAD_UTF8[usize::from(variant) % BAD_UTF8.len()].iter().copied());
    }
    let level = [0, 1, 6, 9][usize::from(variant % 4)];
    let params = DirectionParams { no_context_takeover: true, ..DirectionParams::default() };
    let mut data = MessageDeflater::with_level(params, level).compress_message(&content);
    if variant >= 240 {
        data.splice(0..0, CORRUPT_DEFLATE[usize::from(variant) % CORRUPT_DEFLATE.len()].iter().copied());
    }
    fragments(u, frames, opcode, &data, true);
}

/// `payload` cut into up to four fragments, each mutated now and then, with a ping or pong between
/// fragments now and then; `compressed`: RSV1 on the first fragment, and no mutation that changes
/// the data or ends the message early (the model could not tell what such data inflates to).
fn fragments(u: &mut Unstructured, frames: &mut Vec<FrameSpec>, opcode: OpCode, payload: &[u8], compressed: bool) {
    let pieces = 1 + usize::from(byte(u) % 4);
    let mut bounds: Vec<usize> = (1..pieces).map(|_| usize::from(byte(u)) * payload.len() / 256).collect();
    bounds.sort_unstable();
    bounds.insert(0, 0);
    bounds.push(payload.len());
    for (i, range) in bounds.windows(2).enumerate() {
        let mut frame = FrameSpec::new(if i == 0 { opcode } else { OpCode::Continuation }, &payload[range[0]..range[1]]).masked(key(u));
        frame.fin = i + 1 == pieces;
        if compressed && i == 0 {
            frame.rsv = RSV1;
        }
        frames.push(mutate(u, frame, compressed));
        if i + 1 < pieces && byte(u) >= 160 {
            let between = control(u);
            frames.push(mutate(u, between, false));
        }
    }
}

fn control(u: &mut Unstructured) -> FrameSpec {
    let opcode = if byte(u) & 1 == 0 { OpCode::Ping } else { OpCode::Pong };
    let len = usize::from(byte(u) % 126);
    FrameSpec::new(opcode, text(u, len)).masked(key(u))
}

/// A close frame: empty, one byte, or a code from [`CLOSE_CODES`] with no reason, a short one, one
/// that is not UTF-8, or one that brings the payload to around the 125-byte limit.
fn close(u: &mut Unstructured) -> FrameSpec {
    let payload = match byte(u) {
        0..32 => Vec::new(),
        32..48 => vec![byte(u)],
        _ => {
            let code = CLOSE_CODES[usize::from(byte(u)) % CLOSE_CODES.len()];
            let mut payload = code.to_be_bytes().to_vec();
            let reason = byte(u);
            let len = byte(u);
            match reason {
                0..160 => {}
                160..224 => payload.extend(text(u, usize::from(len % 24))),
                224..240 => {
                    payload.extend(text(u, usize::from(len % 8)));
                    payload.extend_from_slice(BAD_UTF8[usize::from(reason) % BAD_UTF8.len()]);
                }
                _ => payload.extend(text(u, 121 + usize::from(len % 5))),
            }
            payload
        }
    };
    FrameSpec::new(OpCode::Close, payload).masked(key(u))
}

/// One mutation, about one frame in five: RSV bits, no mask, a non-minimal length, a reserved
/// opcode of the same class, a flipped FIN, a 64-bit length with its top bit set, invalid UTF-8
/// spliced into the payload, or a payload over the 125-byte control-frame limit. A fragment of
/// compressed data (`compressed`) keeps its data and its place in the message: only its header
/// changes, and FIN only on the last fragment.
fn mutate(u: &mut Unstructured, mut frame: FrameSpec, compressed: bool) -> FrameSpec {
    let m = byte(u);
    match m {
        0..208 => {}
        232..236 if compressed && !frame.fin => {}
        240.. if compressed => {}
        208..216 => frame.rsv = 1 + m % 7,
        216..220 => frame.mask = None,
        220..228 => {
            let long = frame.payload.len() > 125 || m & 1 == 1;
            frame.length_encoding = if long { LengthEncoding::Bits64 } else { LengthEncoding::Bits16 };
        }
        228..232 => frame.opcode = OpCode::from_u8(if frame.opcode.is_control() { 11 } else { 3 } + m % 5),
        232..236 => frame.fin = !frame.fin,
        236..240 => {
            frame.declared_length = Some(1 << 63 | frame.payload.len() as u64);
            frame.length_encoding = LengthEncoding::Bits64;
        }
        240..248 => {
            let at = if frame.opcode == OpCode::Close { frame.payload.len() } else { usize::from(byte(u)) % (frame.payload.len() + 1) };
            let bad = BAD_UTF8[usize::from(m) % BAD_UTF8.len()];
            frame.payload.splice(at..at, bad.iter().copied());
        }
        _ if frame.payload.len() < 126 => frame.payload.resize(126 + usize::from(m % 4), b'*'),
        _ => {}
    }
    frame
}

/// A frame spelled out: flags (FIN, RSV, MASK, top-bit length, length form), opcode, mask key,
/// a 16-bit payload length and the payload.
fn explicit_frame(u: &mut Unstructured) -> FrameSpec {
    let flags = byte(u);
    let opcode = OpCode::from_u8(byte(u));
    let mask = (flags & 0x08 != 0).then(|| key(u));
    let len = usize::from(u16::from_be_bytes([byte(u), byte(u)]));
    let payload = u.bytes(len.min(u.len())).unwrap_or_default().to_vec();
    let mut frame = FrameSpec {
        fin: flags & 0x80 != 0,
        rsv: (flags >> 4) & 7,
        opcode,
        mask,
        length_encoding: ENCODINGS[usize::from(flags & 3)],
        declared_length: None,
        payload,
    };
    if flags & 0x04 != 0 {
        frame.declared_length = Some(1 << 63 | frame.payload.len() as u64);
        frame.length_encoding = LengthEncoding::Bits64;
    }
    if frame.check().is_err() {
        frame.length_encoding = LengthEncoding::Minimal;
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_frames() {
        assert_eq!(Sequence::generate(7, 3, false), Sequence::generate(7, 3, false));
        assert_ne!(Sequence::generate(7, 3, false), Sequence::generate(7, 4, false));
        assert_ne!(Sequence::generate(7, 3, false), Sequence::generate(8, 3, false));
    }

    #[test]
    fn generated_sequences_survive_their_input_encoding() {
        for index in 0..500 {
            let sequence = Sequence::generate(1, index, false);
            assert!(!sequence.frames.is_empty() && sequence.frames.len() <= MAX_FRAMES);
            assert!(sequence.frames.iter().all(|f| f.check().is_ok()));
            assert_eq!(Sequence::decode(&sequence.to_input()), sequence, "sequence {index}");
        }
    }

    #[test]
    fn the_grammar_reaches_every_kind_of_frame() {
        let frames: Vec<FrameSpec> = (0..300).flat_map(|i| Sequence::generate(2, i, false).frames).collect();
        let reached = |what: &str, test: &dyn Fn(&FrameSpec) -> bool| assert!(frames.iter().any(test), "no {what}");
        reached("fragment", &|f| f.opcode == OpCode::Continuation);
        reached("ping", &|f| f.opcode == OpCode::Ping);
        reached("close", &|f| f.opcode == OpCode::Close);
        reached("RSV bits", &|f| f.rsv != 0);
        reached("unmasked frame", &|f| f.mask.is_none());
        reached("reserved opcode", &|f| f.opcode.is_reserved());
        reached("top-bit length", &|f| f.declared_length.is_some());
        reached("16-bit length", &|f| f.payload.len() > 125);
        reached("invalid UTF-8", &|f| f.opcode == OpCode::Text && std::str::from_utf8(&f.payload).is_err());
    }

    #[test]
    fn a_sequence_kept_idle_leaves_out_what_ends_the_connection_and_an_unfinished_message() {
        use crate::fuzz::oracle::expect_sequence;
        let key = [1, 2, 3, 4];
        let echo = FrameSpec::new(OpCode::Text, "a").masked(key);
        let open = FrameSpec { fin: false, ..FrameSpec::new(OpCode::Text, "b").masked(key) };
        let reserved = FrameSpec { rsv: 2, ..echo.clone() };
        let close = FrameSpec::new(OpCode::Close, vec![3, 232]).masked(key);
        let ping = FrameSpec::new(OpCode::Ping, "p").masked(key);
        let sequence = Sequence { frames: vec![echo.clone(), reserved.clone(), ping.clone(), open, echo.clone(), close], write: WriteMode::Together, deflate: false };
        assert_eq!(sequence.clone().until_idle().frames, vec![echo.clone(), ping], "RSV2 and the close left out, cut before the unfinished message");
        let failing = Sequence { frames: vec![reserved], ..sequence.clone() };
        assert_eq!(failing.clone().until_idle(), failing, "nothing left: unchanged");
        let mut idle = 0;
        for index in 0..400 {
            let generated = Sequence::generate(6, index, false).until_close();
            let kept = generated.clone().until_idle();
            assert!(!kept.frames.is_empty() && kept.frames.iter().all(|f| generated.frames.contains(f)), "sequence {index}");
            idle += usize::from(expect_sequence(&kept).idle);
        }
        // The rest are single frames the server must refuse (an explicit frame that took the
        // whole input), which no cut can keep.
        assert!(idle >= 240, "only {idle} of 400 sequences kept idle leave the connection idle");
    }

    #[test]
    fn deflate_sequences_carry_compressed_messages_and_their_faults() {
        use crate::fuzz::oracle::{expect_sequence, End};
        let sequences: Vec<Sequence> = (0..400).map(|i| Sequence::generate(4, i, true)).collect();
        assert!(sequences.iter().all(|s| s.deflate));
        let frames: Vec<&FrameSpec> = sequences.iter().flat_map(|s| &s.frames).collect();
        let reached = |what: &str, test: &dyn Fn(&FrameSpec) -> bool| assert!(frames.iter().any(|f| test(f)), "no {what}");
        reached("compressed single-frame message", &|f| f.rsv == RSV1 && f.fin && !f.opcode.is_control());
        reached("compressed fragmented message", &|f| f.rsv == RSV1 && !f.fin && !f.opcode.is_control());
        reached("RSV1 on a continuation frame", &|f| f.rsv & RSV1 != 0 && f.opcode == OpCode::Continuation);
        reached("RSV1 on a control frame", &|f| f.rsv & RSV1 != 0 && f.opcode.is_control());
        reached("corrupt data", &|f| f.rsv == RSV1 && CORRUPT_DEFLATE.iter().any(|c| f.payload.starts_with(c)));
        reached("uncompressed message", &|f| f.rsv == 0 && matches!(f.opcode, OpCode::Text | OpCode::Binary));
        let outcomes: Vec<_> = sequences.iter().map(expect_sequence).collect();
        // Only explicit frames (random data under RSV1) leave the model undecided.
        let undecidable = outcomes.iter().filter(|o| o.undecidable.is_some()).count();
        assert!(undecidable * 20 <= outcomes.len(), "{undecidable} of {} sequences the model cannot judge", outcomes.len());
        let codes = |o: &crate::fuzz::Outcome| o.alternatives.iter().any(|a| a.end == End::Fails(vec![1002, 1007]));
        assert!(outcomes.iter().any(codes), "no sequence must fail for its compressed data");
    }
}
