//! One HTTP/2 stream as a byte stream (RFC 8441 §5: once the extended CONNECT is answered 200, the
//! stream's DATA frames carry the WebSocket bytes). Writes wait for flow-control capacity (RFC 9113
//! §5.2); every byte read is released at once, so the peer's window reopens as the session reads.

use std::{
    io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::{Buf, Bytes};
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::tls::TlsInfo;

/// Both halves of an open extended CONNECT stream: an `AsyncRead + AsyncWrite` whose shutdown is
/// END_STREAM (an orderly close, RFC 8441 §5) and whose [`abort`](Self::abort) is
/// RST_STREAM(CANCEL).
#[derive(Debug)]
pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received bytes not yet read.
    pending: Bytes,
    ended: bool,
    /// What TLS negotiated for the connection the stream is on (`wss://`, ALPN `h2`).
    tls: Option<TlsInfo>,
}

impl H2Stream {
    /// The stream whose request (or response) half is `send` and whose other half is `recv`.
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        Self { send, recv, pending: Bytes::new(), ended: false, tls: None }
    }

    /// Records that the stream's connection runs over TLS that negotiated `tls`.
    pub fn over_tls(mut self, tls: Option<TlsInfo>) -> Self {
        self.tls = tls;
        self
    }

    /// What TLS negotiated for the stream's connection; `None` for h2c.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        self.tls.clone()
    }

    /// Aborts the stream with RST_STREAM(CANCEL): the HTTP/2 form of a TCP reset (RFC 8441 §5).
    pub fn abort(&mut self) {
        self.send.send_reset(Reason::CANCEL);
    }
}

/// An HTTP/2 stream error as an I/O error that names who reset the stream and with which code.
pub fn io_error(e: h2::Error) -> io::Error {
    let text = match e.reason() {
        Some(reason) if e.is_remote() => format!("the target reset the HTTP/2 stream: RST_STREAM({reason:?})"),
        Some(reason) if e.is_go_away() => format!("the HTTP/2 connection went away: GOAWAY({reason:?})"),
        _ => format!("HTTP/2: {e}"),
    };
    let kind = if e.is_remote() { io::ErrorKind::ConnectionReset } else { io::ErrorKind::Other };
    io::Error::new(kind, text)
}

impl AsyncRead for H2Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.pending.is_empty() {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    this.pending = data;
                }
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending[..n]);
        this.pending.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        this.send.reserve_capacity(buf.len());
        let capacity = match ready!(this.send.poll_capacity(cx)) {
            Some(Ok(n)) => n,
            Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
            None => return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "the HTTP/2 stream is closed"))),
        };
        let n = capacity.min(buf.len());
        if n == 0 {
            // Capacity was assigned and taken back (a window update raced); wait for more.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.send.send_data(Bytes::copy_from_slice(&buf[..n]), false).map_err(io_error)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // h2 writes queued DATA as the connection task runs; nothing is held here.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.ended {
            this.ended = true;
            this.send.reserve_capacity(0);
            this.send.send_data(Bytes::new(), true).map_err(io_error)?;
        }
        Poll::Ready(Ok(()))
    }
}
