//! wsspec's side of RFC 8441 with the h2 crate: a prior-knowledge h2c connection (RFC 9113 §3.3) for
//! `ws://`, or HTTP/2 over TLS with ALPN `h2` (§3.2) for `wss://`, the server's SETTINGS awaited, and WebSockets opened as extended CONNECT streams (RFC 8441 §4,
//! §5), each exchange recorded like an HTTP/1.1 opening handshake.

use std::time::Duration;

use bytes::Bytes;
use h2::{client::SendRequest, ext::Protocol};
use http::{Method, Request};
use tokio::time::timeout;

use super::H2Stream;
use crate::{
    engine::{opening::no_answer, HttpExchange, Observation, RunOptions, Target, Transport},
    tls::{Connector, TlsInfo},
};

/// How long connecting, the server's SETTINGS and the answer to a CONNECT may take together
/// (Autobahn's 5 s for an opening handshake).
pub const OPEN_WAIT: Duration = Duration::from_secs(5);
/// The receive windows wsspec offers: 16 MiB for the connection, 4 MiB per stream (RFC 9113
/// §6.9.2), so a 16 MiB message needs a few WINDOW_UPDATEs, not thousands.
const CONNECTION_WINDOW: u32 = 16 << 20;
const STREAM_WINDOW: u32 = 4 << 20;
/// The largest DATA frame wsspec accepts (RFC 9113 §6.5.2: from 16 KiB up to 16 MiB): big
/// messages cross in fewer frames.
pub const MAX_FRAME_SIZE: u32 = 1 << 20;

/// An HTTP/2 connection to a server, after its SETTINGS arrived.
pub struct Connection {
    send: SendRequest<Bytes>,
    /// Whether the server's SETTINGS carried SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3).
    pub connect_protocol: bool,
    /// What TLS negotiated, for `wss://` (ALPN `h2`).
    tls: Option<TlsInfo>,
}

/// Connects to `target`: TCP for `ws://` (h2c), and for `wss://` TLS with `tls` offering ALPN `h2`
/// alone, which the server must select (RFC 9113 §3.2). Errors are phrases.
pub async fn connect(target: &Target, tls: Option<&Connector>) -> Result<Transport, String> {
    match tls.filter(|_| target.secure) {
        Some(connector) if !connector.offers_http2() => Transport::connect(target, Some(&connector.for_http2())).await,
        tls => Transport::connect(target, tls).await,
    }
}

/// The `:scheme` of a WebSocket's extended CONNECT: `https` for `wss`, `http` for `ws` (RFC 8441 §5).
pub fn scheme(target: &Target) -> &'static str {
    if target.secure { "https" } else { "http" }
}

impl Connection {
    /// Connects to `target` (see [`connect`]), sends the HTTP/2 preface and waits (a PING answered)
    /// until the server's SETTINGS have been read. The connection is driven by a task of its own
    /// that ends when every stream and this handle are gone. Errors are phrases.
    pub async fn open(target: &Target, tls: Option<&Connector>) -> Result<Self, String> {
        let io = connect(target, tls).await?;
        let tls = io.tls_info();
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_frame_size(MAX_FRAME_SIZE)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| format!("HTTP/2 connection preface: {e}"))?;
        let mut ping = connection.ping_pong().ok_or("the h2 crate gave no PING handle")?;
        tokio::spawn(async move {
            let _ = timeout(Duration::from_secs(600), connection).await;
        });
        // The server's SETTINGS frame comes before its answer to any PING (RFC 9113 §3.4).
        ping.ping(h2::Ping::opaque()).await.map_err(|e| format!("the target did not answer as an HTTP/2 server (h2c): {e}"))?;
        let send = send.ready().await.map_err(|e| format!("HTTP/2: {e}"))?;
        let connect_protocol = send.is_extended_connect_protocol_enabled();
        Ok(Self { send, connect_protocol, tls })
    }

    /// Sends the extended CONNECT for `target` with `headers` (lower-case names) and waits for the
    /// answer: the stream when it is 200 (RFC 8441 §5), else `Err` with the reason. `exchange`
    /// records the request and the answer.
    pub async fn connect_websocket(&mut self, target: &Target, headers: &[(String, String)], exchange: &mut HttpExchange) -> Result<H2Stream, String> {
        let uri = format!("{}://{}{}", scheme(target), target.host_header, target.resource);
        let mut request = Request::builder().method(Method::CONNECT).uri(&uri).extension(Protocol::from_static("websocket"));
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(()).map_err(|e| format!("wsspec built a bad request: {e}"))?;
        exchange.request = describe_request(&request).into_bytes();
        self.send = self.send.clone().ready().await.map_err(|e| format!("HTTP/2: {e}"))?;
        let (response, stream) = self.send.send_request(request, false).map_err(|e| format!("sending the extended CONNECT: {e}"))?;
        let response = response.await.map_err(|e| format!("the extended CONNECT got no answer: {}", super::stream::io_error(e)))?;
        let status = response.status().as_u16();
        exchange.status = Some(status);
        exchange.headers = response.headers().iter().map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
        let mut text = format!(":status: {status}\r\n");
        for (name, value) in &exchange.headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        exchange.response = text.into_bytes();
        if status != 200 {
            return Err(format!("the extended CONNECT was answered {status}, not 200 (RFC 8441 §5)"));
        }
        Ok(H2Stream::new(stream, response.into_body()).over_tls(self.tls.clone()))
    }
}

/// The request as text, pseudo-header fields first (as HPACK carries them).
fn describe_request(request: &Request<()>) -> String {
    let uri = request.uri();
    let mut text = format!(
        ":method: CONNECT\r\n:protocol: websocket\r\n:scheme: {}\r\n:authority: {}\r\n:path: {}\r\n",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().map_or("", |a| a.as_str()),
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    for (name, value) in request.headers() {
        text.push_str(&format!("{name}: {}\r\n", String::from_utf8_lossy(value.as_bytes())));
    }
    text
}

/// The headers of a conforming RFC 8441 WebSocket request: the version, and the subprotocols and
/// extensions of `http1` (an HTTP/1.1 request's headers) as they are (RFC 8441 §5); `Host`,
/// `Connection`, `Upgrade` and the key are left out.
pub fn websocket_headers(http1: &[(String, String)]) -> Vec<(String, String)> {
    let carried = ["sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions", "origin", "user-agent"];
    http1.iter().filter(|(n, _)| carried.contains(&n.to_ascii_lowercase().as_str())).map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect()
}

/// Opens one WebSocket over a new h2c connection to `target` within the opening bound: the stream,
/// or `None` with `obs.open_error` saying why (a server without SETTINGS_ENABLE_CONNECT_PROTOCOL
/// included).
pub async fn open(target: &Target, headers: &[(String, String)], options: &RunOptions, obs: &mut Observation) -> Option<H2Stream> {
    let wait = OPEN_WAIT.mul_f64(options.timeout_scale);
    let mut no_setting = false;
    let opened = timeout(wait, async {
        let mut connection = Connection::open(target, options.tls.as_ref()).await?;
        if !connection.connect_protocol {
            no_setting = true;
            return Err("the server's SETTINGS do not enable the extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, RFC 8441 §3)".to_string());
        }
        connection.connect_websocket(target, headers, &mut obs.exchange).await
    })
    .await;
    if no_setting {
        obs.http2 = Some(super::probe::Finding::NoSetting(None));
    }
    match opened {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(reason)) => {
            obs.open_error = Some(reason);
            None
        }
        Err(_) => {
            // No request recorded: the connection itself never got ready (no SETTINGS, or wsspec's
            // PING unanswered), so no CONNECT was sent.
            obs.open_error = Some(if obs.exchange.request.is_empty() {
                format!("{} within {:.1} s: the server's SETTINGS and its answer to wsspec's PING did not come", no_answer::HTTP2_CONNECTION, wait.as_secs_f64())
            } else {
                format!("{} within {:.1} s", no_answer::EXTENDED_CONNECT, wait.as_secs_f64())
            });
            None
        }
    }
}
