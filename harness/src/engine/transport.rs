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

/// One connection to or from a target.
#[derive(Debug)]
pub enum Transport {
    /// Plain TCP (`ws://`).
    Plain(TcpStream),
    /// An extended CONNECT stream of an HTTP/2 connection (RFC 8441).
    Http2(Box<crate::http2::H2Stream>),
}

impl Transport {
    /// Connects to the server at `target`, with Nagle's algorithm off (a case's writes are its
    /// timing). Errors are the local system's or the network's, never the target's answer.
    pub async fn connect(target: &Target) -> io::Result<Self> {
        let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
        tcp.set_nodelay(true)?;
        Ok(Transport::Plain(tcp))
    }
}

/// Whether a connection to `target` can be made within 5 s (times `timeout_scale`): the probe a run
/// makes before its first case, and the fuzzer's check for a target that went down. The error says
/// why, in a phrase.
pub async fn probe(target: &Target, timeout_scale: f64) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs_f64(5.0 * timeout_scale), Transport::connect(target)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
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
            Transport::Http2(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Http2(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Http2(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Http2(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
