//! The HTTP/1.1 opening handshake (RFC 6455 §4) as data: requests and responses that can be built
//! wrong on purpose ([`RequestSpec`], [`ResponseSpec`], as [`crate::frame::FrameSpec`] for frames),
//! parsers for what a peer sends ([`parse_request`], [`parse_response`]), and the checks §4.1 and
//! §4.2.1 require of it ([`check_request`], [`check_response`]), whose [`HandshakeError`] names what
//! the peer got wrong.

mod check;
mod parse;
mod spec;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use sha1::{Digest, Sha1};

pub use check::{check_negotiation, tokens};
pub use parse::{check_request, check_response, parse_request, parse_response, HandshakeError, Request, Response};
pub use spec::{Headers, RequestSpec, ResponseSpec};

/// The GUID of RFC 6455 §1.3.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The largest HTTP head (request or response) wsspec reads before calling it invalid, in bytes.
pub const MAX_HEAD: usize = 16 * 1024;

/// `Sec-WebSocket-Accept` for a key (§4.2.2).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(WS_GUID.as_bytes());
    BASE64.encode(sha.finalize())
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (§4.1).
pub fn random_key() -> String {
    BASE64.encode(rand::random::<[u8; 16]>())
}

/// The server's 101 answer to a checked request, as text.
pub fn server_response(key: &str) -> String {
    String::from_utf8(ResponseSpec::switching_protocols(key).encode()).expect("the 101 is ASCII")
}
