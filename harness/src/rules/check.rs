//! The frame-level rules: what a receiver checks on every header before it looks at the payload.

use super::Violation;
use crate::{
    catalog::Role,
    frame::{Header, OpCode},
};

/// What the receiver knows when a frame arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameContext {
    /// The role of the peer that sent the frame.
    pub sender: Role,
    /// RSV bits a negotiated extension gives a meaning to on this frame (RSV1 is `0b100`).
    pub rsv_allowed: u8,
    /// A fragmented message is open.
    pub message_open: bool,
    /// The mask key of the sender's previous frame (a client's; §5.3).
    pub previous_mask: Option<[u8; 4]>,
}

/// Every frame-level rule `header` breaks, in the table's order (the first is the one to report; a
/// receiver may check them in any order, so the codes of all are acceptable answers).
pub fn check_frame(header: &Header, context: &FrameContext) -> Vec<Violation> {
    let opcode = header.opcode;
    let checks = [
        (context.sender == Role::Client && header.mask.is_none(), Violation::UnmaskedClientFrame),
        (context.sender == Role::Server && header.mask.is_some(), Violation::MaskedServerFrame),
        (
            context.sender == Role::Client && header.mask.is_some() && header.mask == context.previous_mask,
            Violation::RepeatedMaskKey { key: header.mask.unwrap_or_default() },
        ),
        (header.rsv & !context.rsv_allowed != 0, Violation::ReservedBits { rsv: header.rsv }),
        (opcode.is_reserved(), Violation::ReservedOpcode { opcode: opcode.as_u8() }),
        (header.payload_len >> 63 == 1, Violation::LengthTopBit { declared: header.payload_len }),
        (opcode.is_control() && !header.fin, Violation::FragmentedControl { opcode }),
        (opcode.is_control() && header.payload_len > 125, Violation::ControlTooLong { opcode, len: header.payload_len }),
        (opcode == OpCode::Continuation && !context.message_open, Violation::OrphanContinuation),
        (matches!(opcode, OpCode::Text | OpCode::Binary) && context.message_open, Violation::NewMessageInsideMessage),
    ];
    checks.into_iter().filter_map(|(broken, violation)| broken.then_some(violation)).collect()
}
