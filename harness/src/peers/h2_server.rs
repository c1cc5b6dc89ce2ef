//! The embedded RFC 8441 reference server: an h2 server (prior-knowledge h2c, or TLS with ALPN `h2`)
//! that advertises
//! SETTINGS_ENABLE_CONNECT_PROTOCOL, answers an extended CONNECT for `websocket` with 200 and runs
//! tungstenite's server side over the stream as an echo — and, for the tests, the same server with
//! one defect of RFC 8441 handling ([`H2Fault`]).

use std::{io, net::SocketAddr, time::Duration};

use bytes::Bytes;
use h2::{ext::Protocol, server::SendResponse, RecvStream};
use http::{Method, Request, Response, StatusCode};
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt},
    net::TcpListener,
    task::JoinHandle,
};
use tokio_tungstenite::{tungstenite::protocol::Role, WebSocketStream};

use super::reference_server::{config, echo_messages};
use crate::{
    http2::H2Stream,
    tls::{Acceptor, Presented},
};

/// One way the server gets RFC 8441 wrong, each for a case of section 22 to catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H2Fault {
    /// Does not send SETTINGS_ENABLE_CONNECT_PROTOCOL (a server without RFC 8441).
    NoSetting,
    /// Answers 200 to an extended CONNECT whatever its `:protocol` (RFC 9220 §3 asks for 501).
    AnyProtocol,
    /// Advertises the setting but never answers an extended CONNECT (Go's #71128 failure).
    NeverAnswers,
    /// Ends a WebSocket with RST_STREAM(CANCEL) after the closing handshake instead of END_STREAM.
    ResetsAfterClose,
    /// Advertises the setting but answers every WebSocket extended CONNECT 404: a server with no
    /// WebSocket path behind the setting (Go's #71128 failure, answered).
    RefusesWebSocket,
    /// Answers 200 and ends the stream at once (END_STREAM) without speaking WebSocket on it.
    EndsAtOnce,
}

/// A running RFC 8441 echo server on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct H2ReferenceServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
    secure: bool,
}

impl H2ReferenceServer {
    /// Starts the conforming server on an ephemeral loopback port.
    pub async fn start() -> io::Result<Self> {
        Self::bind("127.0.0.1:0", None).await
    }

    /// Starts the server with `fault` on an ephemeral loopback port.
    pub async fn with_fault(fault: H2Fault) -> io::Result<Self> {
        Self::bind("127.0.0.1:0", Some(fault)).await
    }

    /// Starts the conforming server over TLS on an ephemeral loopback port, presenting
    /// `acceptor`'s certificate and selecting ALPN `h2` (RFC 9113 §3.2); a client that does not
    /// offer `h2` fails the TLS handshake.
    pub async fn start_tls(acceptor: &Acceptor) -> io::Result<Self> {
        Self::bind_with("127.0.0.1:0", None, Some(acceptor.for_http2())).await
    }

    /// Starts the server on `addr`, with `fault` if any.
    pub async fn bind(addr: &str, fault: Option<H2Fault>) -> io::Result<Self> {
        Self::bind_with(addr, fault, None).await
    }

    async fn bind_with(addr: &str, fault: Option<H2Fault>, tls: Option<Acceptor>) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let secure = tls.is_some();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                match tls.clone() {
                    None => drop(tokio::spawn(serve(tcp, fault))),
                    Some(acceptor) => drop(tokio::spawn(async move {
                        if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp, Presented::Good)).await {
                            serve(tls, fault).await;
                        }
                    })),
                }
            }
        });
        Ok(Self { addr, task, secure })
    }

    /// The URL to test it at, run with `--http2`: `ws://` for h2c, `wss://` over TLS (RFC 8441 §5:
    /// `:scheme` `http` for ws URIs, `https` for wss URIs).
    pub fn url(&self) -> String {
        format!("{}://{}/", if self.secure { "wss" } else { "ws" }, self.addr)
    }
}

impl Drop for H2ReferenceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve<T: AsyncRead + AsyncWrite + Unpin>(io: T, fault: Option<H2Fault>) {
    let mut builder = h2::server::Builder::new();
    builder.initial_window_size(4 << 20).initial_connection_window_size(16 << 20).max_frame_size(crate::http2::client::MAX_FRAME_SIZE);
    if fault != Some(H2Fault::NoSetting) {
        builder.enable_connect_protocol();
    }
    let Ok(mut connection) = builder.handshake::<_, Bytes>(io).await else { return };
    while let Some(Ok((request, respond))) = connection.accept().await {
        tokio::spawn(answer(request, respond, fault));
    }
}

/// Answers one request: 200 and an echo for a WebSocket extended CONNECT; 501 for another
/// `:protocol` (RFC 9220 §3); 400 for anything else. h2 itself resets malformed requests
/// (`:protocol` on GET, a missing `:path` or `:scheme`, connection-specific headers) with
/// RST_STREAM(PROTOCOL_ERROR) before they get here (RFC 9113 §8.1.1).
async fn answer(request: Request<RecvStream>, mut respond: SendResponse<Bytes>, fault: Option<H2Fault>) {
    let status = check(&request, fault);
    if status != StatusCode::OK {
        let _ = respond.send_response(Response::builder().status(status).body(()).expect("a valid response"), true);
        return;
    }
    match fault {
        Some(H2Fault::NeverAnswers) => return tokio::time::sleep(Duration::from_secs(600)).await,
        Some(H2Fault::RefusesWebSocket) => return drop(respond.send_response(Response::builder().status(StatusCode::NOT_FOUND).body(()).expect("a valid response"), true)),
        _ => {}
    }
    let ends_at_once = fault == Some(H2Fault::EndsAtOnce);
    let Ok(send) = respond.send_response(Response::builder().status(StatusCode::OK).body(()).expect("a valid response"), ends_at_once) else { return };
    if ends_at_once {
        // Keep the request half open a while, as a server that forgot the WebSocket would.
        return drop(tokio::time::timeout(Duration::from_secs(10), request.into_body().data()).await);
    }
    let ws = WebSocketStream::from_raw_socket(H2Stream::new(send, request.into_body()), Role::Server, Some(config())).await;
    let mut ws = echo_messages(ws).await;
    let stream = ws.get_mut();
    if fault == Some(H2Fault::ResetsAfterClose) {
        stream.abort();
    } else {
        // The orderly close: END_STREAM (RFC 8441 §5).
        let _ = stream.shutdown().await;
    }
}

/// The status for `request`: 200 for a WebSocket extended CONNECT with version 13.
fn check(request: &Request<RecvStream>, fault: Option<H2Fault>) -> StatusCode {
    let protocol = request.extensions().get::<Protocol>().map(|p| p.as_str().to_string());
    let version = request.headers().get("sec-websocket-version").and_then(|v| v.to_str().ok());
    match protocol.as_deref() {
        _ if request.method() != Method::CONNECT => StatusCode::BAD_REQUEST,
        Some(_) if fault == Some(H2Fault::AnyProtocol) && version == Some("13") => StatusCode::OK,
        Some("websocket") if version == Some("13") => StatusCode::OK,
        Some("websocket") => StatusCode::BAD_REQUEST,
        Some(_) => StatusCode::NOT_IMPLEMENTED,
        None => StatusCode::METHOD_NOT_ALLOWED,
    }
}
