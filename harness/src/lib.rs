//! wsspec: a WebSocket (RFC 6455) conformance suite. The wire codec, the declarative catalog, the
//! engine that runs a case against a live target and judges it, and the reference peers.

pub mod catalog;
pub mod client_testing;
pub mod engine;
pub mod expectations;
pub mod frame;
pub mod fuzz;
pub mod handshake;
pub mod peers;
pub mod tls;
pub mod utf8;

/// Shows bytes as text when they are UTF-8, else as `0x`+hex; longer than `max` bytes is cut and
/// says so. Used wherever untrusted payloads reach a report.
pub fn preview(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    let more = if bytes.len() > max { format!(" … ({} bytes)", bytes.len()) } else { String::new() };
    match std::str::from_utf8(cut) {
        Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => format!("{text}{more}"),
        _ => format!("0x{}{more}", hex::encode(cut)),
    }
}
