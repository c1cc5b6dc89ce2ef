//! The wire level of RFC 6455 §5: opcodes, close codes, masking, encoding and decoding frames.

mod close_code;
mod decode;
mod encode;
mod mask;
mod opcode;

pub use close_code::{parse_close_payload, CloseCode, CloseCodeClass};
pub use decode::{parse_header, DecodeError, Decoder, Frame, Header, Piece, RawHeader};
pub use encode::{FrameSpec, LengthEncoding};
pub use mask::{apply_mask, apply_mask_at, apply_mask_bytewise};
pub use opcode::OpCode;

#[cfg(test)]
mod tests;
