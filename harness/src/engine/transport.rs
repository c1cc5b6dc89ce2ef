//! The byte stream a WebSocket runs over. The session, the client-testing server and the probes
//! speak to a [`Transport`] only, so TLS (`wss://`) and an HTTP/2 stream (RFC 8441) drop in as
//! variants without touching the catalog or the judge (as tungstenite's `MaybeTlsStream`).

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use super::Target;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};

use crate::tls::{Connector, TlsInfo};

/// One connection to or from a target.
#[derive(Debug)]
pub enum Transport {
    /// Plain TCP (`ws://`).
    Plain(TcpStream),
    /// TLS to a server under test (`wss://`, wsspec is the client).
    TlsClient(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// TLS from a client under test (`wsspec client --tls`, wsspec is the server).
    TlsServer(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// An extended CONNECT stream of an HTTP/2 connection (RFC 8441).
    Http2(Box<crate::http2::H2Stream>),
}

/// How the end of a transport is worded in the wire log and in reasons: over HTTP/2 the stream's
/// END_STREAM and RST_STREAM take the place of TCP's FIN and reset (RFC 8441 §6), so a reason never
/// says "TCP" of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndWords {
    /// The target ended it in order: "closed the TCP connection".
    pub closed: &'static str,
    /// What the target should do after the closing handshake: "close the TCP connection".
    pub close: &'static str,
    /// The target ended it without a closing handshake: "dropped the TCP connection".
    pub dropped: &'static str,
    /// wsspec ends it at once: "drops the TCP connection".
    pub drops: &'static str,
    /// The wire log's line when wsspec ended it: "TCP dropped by wsspec".
    pub dropped_by_wsspec: &'static str,
    /// What wsspec does when it must end it first: "drop the TCP connection".
    pub drop: &'static str,
    /// How a target that sent no close frame ended it: "by dropping TCP".
    pub by_dropping: &'static str,
}

impl Default for EndWords {
    /// TCP's, until the transport is known.
    fn default() -> Self {
        TCP_WORDS
    }
}

const TCP_WORDS: EndWords = EndWords {
    closed: "closed the TCP connection",
    close: "close the TCP connection",
    dropped: "dropped the TCP connection",
    drops: "drops the TCP connection",
    dropped_by_wsspec: "TCP dropped by wsspec",
    drop: "drop the TCP connection",
    by_dropping: "by dropping TCP",
};

const HTTP2_WORDS: EndWords = EndWords {
    closed: "ended the HTTP/2 stream (END_STREAM)",
    close: "end the HTTP/2 stream (END_STREAM)",
    dropped: "ended the HTTP/2 stream",
    drops: "ends the HTTP/2 stream",
    dropped_by_wsspec: "HTTP/2 stream ended by wsspec",
    drop: "end the HTTP/2 stream",
    by_dropping: "by ending the HTTP/2 stream",
};

impl Transport {
    /// How this transport's end is worded (TCP, or an HTTP/2 stream).
    pub fn end_words(&self) -> EndWords {
        match self {
            Transport::Http2(_) => HTTP2_WORDS,
            Transport::Plain(_) | Transport::TlsClient(_) | Transport::TlsServer(_) => TCP_WORDS,
        }
    }

    /// What the TLS handshake negotiated (with the client's SNI on the server side); `None` for
    /// plain TCP.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        match self {
            Transport::Plain(_) => None,
            Transport::TlsClient(s) => Some(TlsInfo::of(s.get_ref().1, None)),
            Transport::TlsServer(s) => {
                let conn = s.get_ref().1;
                Some(TlsInfo::of(conn, conn.server_name()))
            }
            Transport::Http2(s) => s.tls_info(),
        }
    }
}

impl From<tokio_rustls::client::TlsStream<TcpStream>> for Transport {
    fn from(stream: tokio_rustls::client::TlsStream<TcpStream>) -> Self {
        Transport::TlsClient(Box::new(stream))
    }
}

impl From<tokio_rustls::server::TlsStream<TcpStream>> for Transport {
    fn from(stream: tokio_rustls::server::TlsStream<TcpStream>) -> Self {
        Transport::TlsServer(Box::new(stream))
    }
}

impl Transport {
    /// Connects to the server at `target`, with Nagle's algorithm off (a case's writes are its
    /// timing), and for `wss://` completes the TLS handshake with `tls` (§4.1 step 5). The error
    /// says what failed, in a phrase: the TCP connect (the local system's or the network's error),
    /// or the TLS handshake (the server's certificate, or the handshake itself).
    pub async fn connect(target: &Target, tls: Option<&Connector>) -> Result<Self, String> {
        let tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| format!("cannot connect to {}:{}: {e}", target.host, target.port))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        match (target.secure, tls) {
            (false, _) => Ok(Transport::Plain(tcp)),
            (true, Some(connector)) => Ok(Transport::from(connector.connect(&target.server_name, tcp).await?)),
            (true, None) => Err("wss:// without a TLS connector (a bug in wsspec)".into()),
        }
    }
}

/// Whether a connection to `target` (for `wss://`, a TLS session with a certificate `tls` accepts)
/// can be made within 5 s (times `timeout_scale`): the probe a run makes before its first case, and
/// the fuzzer's check for a target that went down. The error says why, in a phrase, and what to
/// give when the server's certificate was not trusted.
pub async fn probe(target: &Target, timeout_scale: f64, tls: Option<&Connector>) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs_f64(5.0 * timeout_scale), Transport::connect(target, tls)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if target.secure && e.contains("certificate") && let Some(connector) = tls.filter(|c| c.verifies()) => {
            Err(format!("{e} ({})", connector.untrusted_hint()))
        }
        Ok(Err(e)) => Err(e),
        Err(_) if target.secure => Err("no TCP connect and TLS handshake within 5 s".into()),
        Err(_) => Err("no answer to the TCP connect within 5 s".into()),
    }
}

impl From<TcpStream> for Transport {
    fn from(stream: TcpStream) -> Self {
        Transport::Plain(stream)
    }
}

impl AsyncRead for Transport {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::TlsClient(s) => Pin::new(s).poll_read(cx, buf),
            Transport::TlsServer(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Http2(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::TlsClient(s) => Pin::new(s).poll_write(cx, buf),
            Transport::TlsServer(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Http2(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::TlsClient(s) => Pin::new(s).poll_flush(cx),
            Transport::TlsServer(s) => Pin::new(s).poll_flush(cx),
            Transport::Http2(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::TlsClient(s) => Pin::new(s).poll_shutdown(cx),
            Transport::TlsServer(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Http2(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
