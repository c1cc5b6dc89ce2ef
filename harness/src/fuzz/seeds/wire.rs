//! `frame_parse` seeds: what each catalog case puts on the wire, cut to the part that reaches the
//! decoder's code. Every frame header is kept as the case writes it (its length form, mask and
//! opcode, a length it lies about), but a payload only up to [`PAYLOAD_KEPT`] octets: a longer
//! frame is cut there and the seed ends with it, so the decoder waits for the rest, or refuses
//! the header if it declares more than the target's limit. Whole frames made seeds of up to
//! 540 KB, and libFuzzer (whose `-max_len` is the largest seed) spent its time copying octets past
//! a header it had already refused, or that no branch depends on.

use crate::{
    catalog::{Action, Case, MaskDef, Payload, PayloadStream, Role},
    frame::{apply_mask, FrameSpec, LengthEncoding, OpCode},
};

use super::SEED_MASK;

/// Octets kept of each frame's payload: enough for masking's whole-word loop and its remainder,
/// and for every count of loop iterations libFuzzer tells apart (up to 128 and more) in one seed.
pub(super) const PAYLOAD_KEPT: usize = 1024;

/// A seed ends after the frame (or `raw` step) that takes it past this many octets.
pub(super) const SEED_BUDGET: usize = 4096;

/// How many times a repeated step is written, at most.
const REPEATS_KEPT: u32 = 16;

/// The octets a case writes, in order, cut as the module says; empty for a case that writes no
/// frame or raw octets.
pub(super) fn case_wire(case: &Case) -> Vec<u8> {
    let mut wire = Wire::default();
    for step in &case.steps {
        for _ in 0..step.repeat.clamp(1, REPEATS_KEPT) {
            match &step.action {
                Action::Frames(defs) => {
                    for def in defs {
                        let mut header = def.header_spec(Role::Server);
                        if matches!(def.mask, MaskDef::RoleDefault | MaskDef::Random) {
                            header.mask = Some(SEED_MASK);
                        }
                        wire.frame(header, def.payload.len(), &mut def.payload.stream());
                    }
                }
                Action::Message(message) => {
                    let len = message.payload.len();
                    let mut stream = message.payload.stream();
                    for i in 0..message.fragment_count(len) {
                        let range = message.fragment(i, len);
                        let opcode = if i == 0 { message.opcode } else { OpCode::Continuation };
                        let mut header = FrameSpec::new(opcode, Vec::new()).masked(SEED_MASK);
                        header.fin = i + 1 == message.fragment_count(len);
                        header.declared_length = Some(range.len() as u64);
                        wire.frame(header, range.len(), &mut stream);
                        if wire.full {
                            break;
                        }
                    }
                }
                Action::Close(close) => {
                    let payload = close.payload();
                    let header = FrameSpec::new(OpCode::Close, Vec::new()).masked(SEED_MASK);
                    wire.frame(header, payload.len(), &mut PayloadStream::from_vec(payload));
                }
                Action::Raw(payload) => wire.raw(payload),
                Action::Pause(_) => {}
            }
            if wire.full {
                return wire.out;
            }
        }
    }
    wire.out
}

/// A seed being written.
#[derive(Default)]
struct Wire {
    out: Vec<u8>,
    /// Nothing more is written: a frame was cut, or the budget is spent.
    full: bool,
}

impl Wire {
    /// `header` (its payload left empty; `declared_length`, if set, is what it declares) of a
    /// payload of `len` octets, the next ones of `payload`, and the first [`PAYLOAD_KEPT`] of them,
    /// masked with the header's key.
    fn frame(&mut self, mut header: FrameSpec, len: usize, payload: &mut PayloadStream) {
        if self.full {
            return;
        }
        header.declared_length.get_or_insert(len as u64);
        self.out.extend(header.encode_header());
        let mut kept = vec![0; len.min(PAYLOAD_KEPT)];
        payload.read(&mut kept);
        if let Some(key) = header.mask {
            apply_mask(&mut kept, key);
        }
        self.out.extend(kept);
        self.full = len > PAYLOAD_KEPT || self.out.len() >= SEED_BUDGET;
    }

    /// Octets written as they are (a case's `raw` step), up to the budget.
    fn raw(&mut self, payload: &Payload) {
        if self.full {
            return;
        }
        let len = payload.len();
        let room = SEED_BUDGET.saturating_sub(self.out.len()).max(PAYLOAD_KEPT);
        let mut kept = vec![0; len.min(room)];
        payload.stream().read(&mut kept);
        self.out.extend(kept);
        self.full = len > room || self.out.len() >= SEED_BUDGET;
    }
}

/// Seeds no single case writes: no data at all; every length form (7-bit, 16-bit, 64-bit), masked
/// and not, declaring lengths at the edges of each form and of the target's 64 KiB limit, with
/// a few payload octets behind it; and a message in 420 fragments of 4 octets: more frames in one
/// seed than libFuzzer's largest hit-count class (128), and, 4,200 octets long, enough for the
/// decoder to compact its buffer when it is cut late.
pub(super) fn edge_wires() -> Vec<Vec<u8>> {
    let mut wires = vec![Vec::new()];
    for declared in [0, 1, 125, 126, 0xffff, 0x1_0000, 0x1_0001, 1 << 63, u64::MAX] {
        for encoding in [LengthEncoding::Minimal, LengthEncoding::Bits16, LengthEncoding::Bits64] {
            for mask in [None, Some(SEED_MASK)] {
                let mut header = FrameSpec::new(OpCode::Binary, Vec::new());
                (header.mask, header.length_encoding, header.declared_length) = (mask, encoding, Some(declared));
                if header.check().is_ok() {
                    let kept = declared.min(8) as usize;
                    wires.push([header.encode_header(), vec![0x5a; kept]].concat());
                }
            }
        }
    }
    const RUN: usize = 420;
    let mut run = Vec::new();
    for i in 0..RUN {
        let opcode = if i == 0 { OpCode::Text } else { OpCode::Continuation };
        let mut frame = FrameSpec::new(opcode, vec![b'a' + (i % 26) as u8; 4]).masked(SEED_MASK);
        frame.fin = i + 1 == RUN;
        run.extend(frame.encode());
    }
    wires.push(run);
    wires
}
