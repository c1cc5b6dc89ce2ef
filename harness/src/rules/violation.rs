//! What a peer did wrong, typed: one variant per rule of the table it breaks.

use std::fmt;

use super::{
    Rule, AFTER_CLOSE, CLOSE_BODY, CLOSE_CODE, CLOSE_REASON, CONTROL_FRAGMENTED, CONTROL_LENGTH, INTERLEAVED, LENGTH_TOP_BIT,
    LIMIT, MASKED, MASK_KEY, OPCODE, ORPHAN_CONTINUATION, PONG, RSV, SNI, UNMASKED, UTF8, DEFLATE_ANSWER, DEFLATE_DATA,
};
use crate::frame::{CloseCode, OpCode};

/// A breach of RFC 6455 by the peer that sent it. Its [`Violation::rule`] gives the section and
/// requirement, its [`Violation::close_code`] the code a conforming receiver fails the connection with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A client frame without a mask (§5.1).
    UnmaskedClientFrame,
    /// A server frame with a mask (§5.1).
    MaskedServerFrame,
    /// A client frame masked with the key of the frame before it (§5.3).
    RepeatedMaskKey { key: [u8; 4] },
    /// RSV bits no negotiated extension gives a meaning to (§5.2).
    ReservedBits { rsv: u8 },
    /// An opcode RFC 6455 reserves (§5.2).
    ReservedOpcode { opcode: u8 },
    /// A 64-bit payload length with its most significant bit set (§5.2), in bytes.
    LengthTopBit { declared: u64 },
    /// A control frame with FIN clear (§5.5).
    FragmentedControl { opcode: OpCode },
    /// A control frame with more than 125 payload bytes (§5.5).
    ControlTooLong { opcode: OpCode, len: u64 },
    /// A continuation frame with no message to continue (§5.4).
    OrphanContinuation,
    /// A text or binary frame while a fragmented message is open (§5.4).
    NewMessageInsideMessage,
    /// A text message that is not UTF-8; `at_end` when it only ends inside a sequence (§8.1).
    InvalidUtf8 { at_end: bool },
    /// A close code that may not be sent (§7.4.1, §7.4.2).
    InvalidCloseCode { code: u16 },
    /// A close frame whose payload is a single byte (§5.5.1).
    OneByteClosePayload,
    /// A close reason that is not UTF-8 (§5.5.1, §8.1).
    InvalidCloseReason,
    /// A pong, while pings are unanswered, whose payload is none of theirs (§5.5.3); a preview.
    PongMismatch { payload: String },
    /// A frame after the peer's own close frame (§5.5.1).
    FrameAfterClose { opcode: OpCode },
    /// A frame declaring more payload bytes than the receiver accepts (§10.4).
    FrameTooBig { declared: u64, limit: u64 },
    /// A message longer than the receiver accepts, in bytes (§10.4).
    MessageTooBig { limit: usize },
    /// More messages and control frames than the receiver keeps (§10.4).
    Flood { limit: usize },
    /// A `wss://` client's TLS server name (SNI, RFC 6066) that is not `host`, the host of the URL
    /// it was given; `indicated` is `None` when it sent none (§4.1).
    ServerName { indicated: Option<String>, host: String },
    /// A compressed message that is not a valid DEFLATE stream (RFC 7692 §6.2).
    InvalidDeflate { reason: String },
    /// A permessage-deflate answer the client must fail the connection on (RFC 7692 §7.1).
    DeflateAnswer { reason: String },
}

impl Violation {
    /// The rule this breaks.
    pub fn rule(&self) -> &'static Rule {
        match self {
            Self::UnmaskedClientFrame => &UNMASKED,
            Self::MaskedServerFrame => &MASKED,
            Self::RepeatedMaskKey { .. } => &MASK_KEY,
            Self::ReservedBits { .. } => &RSV,
            Self::ReservedOpcode { .. } => &OPCODE,
            Self::LengthTopBit { .. } => &LENGTH_TOP_BIT,
            Self::FragmentedControl { .. } => &CONTROL_FRAGMENTED,
            Self::ControlTooLong { .. } => &CONTROL_LENGTH,
            Self::OrphanContinuation => &ORPHAN_CONTINUATION,
            Self::NewMessageInsideMessage => &INTERLEAVED,
            Self::InvalidUtf8 { .. } => &UTF8,
            Self::InvalidCloseCode { .. } => &CLOSE_CODE,
            Self::OneByteClosePayload => &CLOSE_BODY,
            Self::InvalidCloseReason => &CLOSE_REASON,
            Self::PongMismatch { .. } => &PONG,
            Self::FrameAfterClose { .. } => &AFTER_CLOSE,
            Self::FrameTooBig { .. } | Self::MessageTooBig { .. } | Self::Flood { .. } => &LIMIT,
            Self::ServerName { .. } => &SNI,
            Self::InvalidDeflate { .. } => &DEFLATE_DATA,
            Self::DeflateAnswer { .. } => &DEFLATE_ANSWER,
        }
    }

    /// The close code a conforming receiver fails the connection with (RFC 6455 §7.4.1).
    pub fn close_code(&self) -> CloseCode {
        CloseCode(self.rule().codes.first().copied().unwrap_or(CloseCode::PROTOCOL_ERROR.0))
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnmaskedClientFrame => f.write_str("an unmasked frame: a client MUST mask all frames it sends"),
            Self::MaskedServerFrame => f.write_str("a masked frame: a server MUST NOT mask any frames"),
            Self::RepeatedMaskKey { key } => {
                write!(f, "two frames in a row masked with the key {}: a client MUST pick a fresh key for each frame", hex::encode(key))
            }
            Self::ReservedBits { rsv } => write!(f, "RSV bits {rsv:03b} that no negotiated extension gives a meaning to on this frame"),
            Self::ReservedOpcode { opcode } => write!(f, "reserved opcode {opcode}"),
            Self::LengthTopBit { declared } => write!(f, "a frame declares {declared} bytes: the most significant bit of a 64-bit length MUST be 0"),
            Self::FragmentedControl { opcode } => write!(f, "a fragmented {opcode} frame"),
            Self::ControlTooLong { opcode, len } => write!(f, "a {opcode} frame of {len} bytes, more than 125"),
            Self::OrphanContinuation => f.write_str("a continuation frame with no message to continue"),
            Self::NewMessageInsideMessage => f.write_str("a new data frame inside a fragmented message"),
            Self::InvalidUtf8 { at_end: false } => f.write_str("a text message that is not UTF-8"),
            Self::InvalidUtf8 { at_end: true } => f.write_str("a text message that ends inside a UTF-8 sequence"),
            Self::InvalidCloseCode { code } => write!(f, "close code {code} may not be sent"),
            Self::OneByteClosePayload => f.write_str("a close frame with a 1-byte payload"),
            Self::InvalidCloseReason => f.write_str("a close reason that is not UTF-8"),
            Self::PongMismatch { payload } => write!(f, "a pong `{payload}` answering a ping with other application data"),
            Self::FrameAfterClose { opcode } => write!(f, "a {opcode} frame after its close frame"),
            Self::FrameTooBig { declared, limit } => write!(f, "a frame declares {declared} bytes, more than the {limit} wsspec accepts"),
            Self::MessageTooBig { limit } => write!(f, "a message longer than the {limit} bytes wsspec accepts"),
            Self::Flood { limit } => write!(f, "more than {limit} messages and control frames (flooding)"),
            Self::ServerName { indicated: Some(name), host } => {
                write!(f, "the TLS server name `{}` indicated, not the URL's host `{host}`", crate::preview(name.as_bytes(), 255))
            }
            Self::ServerName { indicated: None, host } => write!(f, "no TLS server name (SNI) for `{host}`: clients MUST use SNI"),
            Self::InvalidDeflate { reason } => write!(f, "a compressed message that does not inflate: {reason}"),
            Self::DeflateAnswer { reason } => write!(f, "an opening handshake answer the client must fail: {reason}"),
        }?;
        match self.rule().rfc {
            rfc if rfc.starts_with("RFC") => write!(f, " ({rfc})"),
            rfc => write!(f, " (§{rfc})"),
        }
    }
}
