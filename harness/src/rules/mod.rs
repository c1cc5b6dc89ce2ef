//! The rules of RFC 6455 that decide a verdict: one table, shared by the engine's receiver (what a
//! target sent, judged as it arrives) and the fuzz oracle (what a conforming server must do with what
//! it received). Each rule gives its section, the requirement's sentence and the close codes a
//! conforming peer may answer a breach with, the preferred one first.
//!
//! [`Violation`] names what a peer did wrong, one variant per rule it breaks; [`check_frame`] is the
//! frame-level part of the table, the checks both the receiver and the oracle run on every header.

mod check;
mod violation;

pub use check::{check_frame, FrameContext};
pub use violation::Violation;

/// A requirement of the RFC: where it is, what it says, in short, and the close codes a conforming
/// peer may use when the other side breaks it (empty for rules nothing is failed for).
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// The RFC 6455 section, e.g. `5.2`.
    pub rfc: &'static str,
    pub requirement: &'static str,
    pub summary: &'static str,
    /// Close codes (RFC 6455 §7.4.1) answering a breach; the first is the one wsspec sends.
    pub codes: &'static [u16],
}

const UTF8_REQUIREMENT: &str = "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_.";
const FRAGMENTS_REQUIREMENT: &str = "A fragmented message consists of a single frame with the FIN bit clear and an opcode other than 0, followed by zero or more frames with the FIN bit clear and the opcode set to 0, and terminated by a single frame with the FIN bit set and an opcode of 0.";
const CONTROL_REQUIREMENT: &str = "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented.";
const CLOSE_BODY_REQUIREMENT: &str = "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer (in network byte order) representing a status code with value /code/ defined in Section 7.4.";

pub static UNMASKED: Rule = Rule {
    rfc: "5.1",
    requirement: "The server MUST close the connection upon receiving a frame that is not masked.",
    summary: "an unmasked client frame must fail the connection",
    codes: &[1002],
};
pub static MASKED: Rule = Rule {
    rfc: "5.1",
    requirement: "A server MUST NOT mask any frames that it sends to the client. A client MUST close a connection if it detects a masked frame.",
    summary: "a masked server frame must fail the connection",
    codes: &[1002],
};
pub static MASK_KEY: Rule = Rule {
    rfc: "5.3",
    requirement: "When preparing a masked frame, the client MUST pick a fresh masking key from the set of allowed 32-bit values.",
    summary: "a client must mask each frame with a fresh key",
    codes: &[1002],
};
pub static RSV: Rule = Rule {
    rfc: "5.2",
    requirement: "If a nonzero value is received and none of the negotiated extensions defines the meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_.",
    summary: "RSV bits without an extension must fail the connection",
    codes: &[1002],
};
pub static DEFLATE_DATA: Rule = Rule {
    rfc: "RFC 7692 6.2",
    requirement: "An endpoint uses the following algorithm to decompress a message: Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message. Decompress the resulting data using DEFLATE.",
    summary: "a compressed message must be a valid DEFLATE stream",
    codes: &[1007, 1002],
};
pub static DEFLATE_ANSWER: Rule = Rule {
    rfc: "RFC 7692 7.1",
    requirement: "If a server gives an invalid response, such as accepting a PMCE that the client did not offer, the client MUST _Fail the WebSocket Connection_.",
    summary: "a permessage-deflate answer that breaks RFC 7692 7.1 fails the connection",
    codes: &[1002],
};
pub static OPCODE: Rule = Rule {
    rfc: "5.2",
    requirement: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_.",
    summary: "a reserved opcode must fail the connection",
    codes: &[1002],
};
pub static LENGTH_TOP_BIT: Rule = Rule {
    rfc: "5.2",
    requirement: "If 127, the following 8 bytes interpreted as a 64-bit unsigned integer (the most significant bit MUST be 0) are the payload length.",
    summary: "a 64-bit length with its top bit set must fail the connection",
    codes: &[1002, 1009],
};
pub static NON_MINIMAL: Rule = Rule {
    rfc: "5.2",
    requirement: "Note that in all cases, the minimal number of bytes MUST be used to encode the length.",
    summary: "a non-minimal length binds the sender: the server may accept or refuse it",
    codes: &[1002, 1009],
};
pub static CONTROL_FRAGMENTED: Rule = Rule {
    rfc: "5.5",
    requirement: CONTROL_REQUIREMENT,
    summary: "a fragmented control frame must fail the connection",
    codes: &[1002],
};
pub static CONTROL_LENGTH: Rule = Rule {
    rfc: "5.5",
    requirement: CONTROL_REQUIREMENT,
    summary: "a control frame over 125 bytes must fail the connection",
    codes: &[1002],
};
pub static ORPHAN_CONTINUATION: Rule = Rule {
    rfc: "5.4",
    requirement: FRAGMENTS_REQUIREMENT,
    summary: "a continuation frame with no message to continue must fail the connection",
    codes: &[1002],
};
pub static INTERLEAVED: Rule = Rule {
    rfc: "5.4",
    requirement: FRAGMENTS_REQUIREMENT,
    summary: "a new data frame inside a fragmented message must fail the connection",
    codes: &[1002],
};
pub static UTF8: Rule = Rule {
    rfc: "8.1",
    requirement: UTF8_REQUIREMENT,
    summary: "a text message that is not UTF-8 must fail the connection (1007)",
    codes: &[1007],
};
pub static UTF8_LATE: Rule = Rule {
    rfc: "8.1",
    requirement: UTF8_REQUIREMENT,
    summary: "failing on invalid UTF-8 only at the end of the message is permitted",
    codes: &[1007],
};
pub static CLOSE_BODY: Rule = Rule {
    rfc: "5.5.1",
    requirement: CLOSE_BODY_REQUIREMENT,
    summary: "a close frame with a one-byte body must fail the connection",
    codes: &[1002],
};
pub static CLOSE_CODE: Rule = Rule {
    rfc: "7.4",
    requirement: CLOSE_BODY_REQUIREMENT,
    summary: "a close frame with a code that may not be sent must fail the connection",
    codes: &[1002],
};
pub static CLOSE_REASON: Rule = Rule {
    rfc: "8.1",
    requirement: UTF8_REQUIREMENT,
    summary: "a close reason that is not UTF-8 must fail the connection",
    codes: &[1007, 1002],
};
pub static CLOSE_UNDEFINED: Rule = Rule {
    rfc: "7.4.2",
    requirement: "Status codes in the range 1000-2999 are reserved for definition by this protocol, its future revisions, and extensions specified in a permanent and readily available public specification.",
    summary: "a code RFC 6455 does not define (1012-1014, 5000 and up) may be answered or refused",
    codes: &[1002],
};
pub static CLOSE_REPLY: Rule = Rule {
    rfc: "5.5.1",
    requirement: "If an endpoint receives a Close frame and did not previously send a Close frame, the endpoint MUST send a Close frame in response.",
    summary: "a close frame must be answered with a close frame",
    codes: &[],
};
pub static AFTER_CLOSE: Rule = Rule {
    rfc: "5.5.1",
    requirement: "The application MUST NOT send any more data frames after sending a Close frame.",
    summary: "nothing may follow a close frame",
    codes: &[1002],
};
pub static PONG: Rule = Rule {
    rfc: "5.5.3",
    requirement: "A Pong frame sent in response to a Ping frame must have identical \"Application data\" as found in the message body of the Ping frame being replied to.",
    summary: "a pong answering a ping carries the ping's payload",
    codes: &[1002],
};
pub static RECEIVE: Rule = Rule {
    rfc: "6.2",
    requirement: "Incoming data MUST be parsed as WebSocket frames as defined in Section 5.2. If a control frame (Section 5.5) is received, the frame MUST be handled as defined by Section 5.5.",
    summary: "valid frames: every complete message is echoed, pings are answered, the connection stays open",
    codes: &[],
};
pub static LIMIT: Rule = Rule {
    rfc: "10.4",
    requirement: "Implementations that have implementation- and/or platform-specific limitations regarding the frame size or total message size after reassembly from multiple frames MUST protect themselves against exceeding those limits.",
    summary: "a frame, message or event count beyond what the receiver accepts fails the connection (1009)",
    codes: &[1009],
};
pub static SNI: Rule = Rule {
    rfc: "4.1",
    requirement: "Clients MUST use the Server Name Indication extension in the TLS handshake [RFC6066].",
    summary: "a wss:// client indicates the host of its URL (SNI) in its ClientHello",
    codes: &[],
};
