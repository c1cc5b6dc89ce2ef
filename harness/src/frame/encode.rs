//! The encoder: any frame, valid or not. Tests need frames a conforming library refuses to build:
//! reserved bits and opcodes, unmasked client frames, non-minimal lengths and lengths that lie.

use super::{apply_mask, OpCode};

/// The wire form of the payload length (§5.2). `Minimal` is the only conforming choice; the others
/// force an encoding even where a shorter one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LengthEncoding {
    #[default]
    Minimal,
    /// The 7-bit field alone (values 0–125).
    Bits7,
    /// 126 followed by a 16-bit length.
    Bits16,
    /// 127 followed by a 64-bit length.
    Bits64,
}

/// Everything about one frame on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    pub fin: bool,
    /// RSV1 is 0b100, RSV2 0b010, RSV3 0b001.
    pub rsv: u8,
    pub opcode: OpCode,
    pub mask: Option<[u8; 4]>,
    pub length_encoding: LengthEncoding,
    /// The length written in the header when it should differ from the payload's.
    pub declared_length: Option<u64>,
    pub payload: Vec<u8>,
}

impl FrameSpec {
    pub fn new(opcode: OpCode, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            length_encoding: LengthEncoding::Minimal,
            declared_length: None,
            payload: payload.into(),
        }
    }

    pub fn masked(mut self, key: [u8; 4]) -> Self {
        self.mask = Some(key);
        self
    }

    /// The length this frame declares in its header.
    pub fn header_length(&self) -> u64 {
        self.declared_length.unwrap_or(self.payload.len() as u64)
    }

    /// Why this frame cannot be written, if its length does not fit the forced encoding.
    pub fn check(&self) -> Result<(), String> {
        let len = self.header_length();
        match self.length_encoding {
            LengthEncoding::Bits7 if len > 125 => Err(format!("length {len} does not fit the 7-bit form")),
            LengthEncoding::Bits16 if len > 0xffff => Err(format!("length {len} does not fit the 16-bit form")),
            _ => Ok(()),
        }
    }

    /// Encodes header and (masked) payload. Panics if [`FrameSpec::check`] fails: the catalog loader
    /// checks every frame before a run.
    pub fn encode(&self) -> Vec<u8> {
        self.check().expect("frame checked before encoding");
        let mut out = Vec::with_capacity(14 + self.payload.len());
        self.encode_header_into(&mut out);
        let start = out.len();
        out.extend_from_slice(&self.payload);
        if let Some(key) = self.mask {
            apply_mask(&mut out[start..], key);
        }
        out
    }

    /// Encodes the header alone (its length is [`FrameSpec::header_length`]), mask key included:
    /// a frame whose payload is written as it is generated. Panics as [`FrameSpec::encode`] does.
    pub fn encode_header(&self) -> Vec<u8> {
        self.check().expect("frame checked before encoding");
        let mut out = Vec::with_capacity(14);
        self.encode_header_into(&mut out);
        out
    }

    fn encode_header_into(&self, out: &mut Vec<u8>) {
        out.push(((self.fin as u8) << 7) | ((self.rsv & 0x7) << 4) | self.opcode.as_u8());
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.header_length();
        let encoding = match self.length_encoding {
            LengthEncoding::Minimal if len <= 125 => LengthEncoding::Bits7,
            LengthEncoding::Minimal if len <= 0xffff => LengthEncoding::Bits16,
            LengthEncoding::Minimal => LengthEncoding::Bits64,
            forced => forced,
        };
        match encoding {
            LengthEncoding::Bits7 => out.push(mask_bit | len as u8),
            LengthEncoding::Bits16 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        if let Some(key) = self.mask {
            out.extend_from_slice(&key);
        }
    }
}
