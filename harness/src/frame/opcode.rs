//! Frame opcodes (RFC 6455 §5.2), reserved values included: a test must be able to send them.

use std::fmt;

/// The 4-bit opcode of a frame. Reserved values are representable, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    Continuation,
    Text,
    Binary,
    /// 0x3–0x7, reserved for further non-control frames.
    ReservedData(u8),
    Close,
    Ping,
    Pong,
    /// 0xB–0xF, reserved for further control frames.
    ReservedControl(u8),
}

impl OpCode {
    /// Maps the low four bits of `value`; every 4-bit value has an opcode.
    pub fn from_u8(value: u8) -> Self {
        match value & 0x0f {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            v @ 0x3..=0x7 => Self::ReservedData(v),
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            v => Self::ReservedControl(v),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::ReservedData(v) | Self::ReservedControl(v) => v,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Control frames have the most significant opcode bit set (§5.5).
    pub fn is_control(self) -> bool {
        self.as_u8() & 0x8 != 0
    }

    pub fn is_reserved(self) -> bool {
        matches!(self, Self::ReservedData(_) | Self::ReservedControl(_))
    }

    /// Parses a name as the catalog writes it (`text`, `ping`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "continuation" => Self::Continuation,
            "text" => Self::Text,
            "binary" => Self::Binary,
            "close" => Self::Close,
            "ping" => Self::Ping,
            "pong" => Self::Pong,
            _ => return None,
        })
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Continuation => f.write_str("CONTINUATION"),
            Self::Text => f.write_str("TEXT"),
            Self::Binary => f.write_str("BINARY"),
            Self::Close => f.write_str("CLOSE"),
            Self::Ping => f.write_str("PING"),
            Self::Pong => f.write_str("PONG"),
            Self::ReservedData(v) => write!(f, "RESERVED_DATA_{v}"),
            Self::ReservedControl(v) => write!(f, "RESERVED_CONTROL_{v}"),
        }
    }
}
