//! TLS for `wss://` in both roles (RFC 6455 §4.1 step 5, §4.2.1, §7.1.1), with rustls and the ring
//! provider: the [`Connector`] wsspec uses when it is the client, the [`Acceptor`] it uses when it
//! is the server (with the throw-away certificates of [`certs`]), what a connection negotiated
//! ([`TlsInfo`]), and the TLS section's cases for clients ([`cases`]). Both offer ALPN `http/1.1`, or
//! `h2` alone for WebSockets over HTTP/2 (RFC 8441, RFC 9113 §3.2).

mod acceptor;
pub mod cases;
pub mod certs;
mod connector;

use std::fmt;

pub use acceptor::{Acceptor, Presented};
pub use connector::{Connector, Trust};

/// The file name, in the report folder, of the throw-away CA certificate `wsspec client --tls` makes
/// and the client under test must trust (`{ca}` in `--exec`).
pub const THROW_AWAY_CA: &str = "wsspec-ca.pem";
use rustls::CommonState;

/// ALPN protocol a WebSocket over TLS negotiates (RFC 6455 runs over HTTP/1.1).
pub const ALPN_HTTP_1_1: &[u8] = b"http/1.1";
/// ALPN protocol of HTTP/2 over TLS (RFC 9113 §3.2), which WebSockets over HTTP/2 use for `wss://`
/// (RFC 8441 §5).
pub const ALPN_H2: &[u8] = b"h2";

/// What a TLS connection negotiated, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1_3`, `TLSv1_2`.
    pub version: String,
    /// The IANA name of the cipher suite, e.g. `TLS13_AES_128_GCM_SHA256`.
    pub suite: String,
    /// The negotiated ALPN protocol, if any.
    pub alpn: Option<String>,
    /// The server name the client indicated (RFC 6066 SNI); only known on the server side.
    pub sni: Option<String>,
}

impl TlsInfo {
    /// Reads what `state` negotiated; `sni` is the name a client indicated, where known.
    pub fn of(state: &CommonState, sni: Option<&str>) -> Self {
        Self {
            version: state.protocol_version().map_or_else(|| "unknown".into(), |v| format!("{v:?}")),
            suite: state.negotiated_cipher_suite().map_or_else(|| "unknown".into(), |s| format!("{:?}", s.suite())),
            alpn: state.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
            sni: sni.map(str::to_string),
        }
    }
}

impl fmt::Display for TlsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}, ALPN {}", self.version, self.suite, self.alpn.as_deref().unwrap_or("none"))?;
        match &self.sni {
            Some(name) => write!(f, ", SNI {name}"),
            None => Ok(()),
        }
    }
}

/// The ring provider every config of wsspec uses.
fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
