//! The embedded reference server: a tokio-tungstenite echo server, with its limits raised the way a
//! user running the 9.x cases would raise them.

use std::{io, net::SocketAddr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt},
    net::TcpListener,
    task::JoinHandle,
};
use tokio_tungstenite::{
    tungstenite::{protocol::WebSocketConfig, Message},
    WebSocketStream,
};

use crate::{
    engine::Transport,
    tls::{Acceptor, Presented},
};

/// A running echo server on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct ReferenceServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
    secure: bool,
}

impl ReferenceServer {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start() -> io::Result<Self> {
        Self::bind("127.0.0.1:0").await
    }

    /// Starts the server on `addr`.
    pub async fn bind(addr: &str) -> io::Result<Self> {
        let (addr, task) = super::accept_each(addr, |stream| echo(Transport::from(stream))).await?;
        Ok(Self { addr, task, secure: false })
    }

    /// Starts the server over TLS (`wss://`) on an ephemeral loopback port, presenting
    /// `acceptor`'s certificate; it ends each connection with TLS close_notify.
    pub async fn start_tls(acceptor: Acceptor) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream, Presented::Good)).await {
                        echo(Transport::from(tls)).await;
                    }
                });
            }
        });
        Ok(Self { addr, task, secure: true })
    }

    pub fn url(&self) -> String {
        format!("{}://{}/", if self.secure { "wss" } else { "ws" }, self.addr)
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The limits the 9.x cases need: 16 MiB messages and frames, with room to spare. Reads of 16 KiB
/// rather than tungstenite's default 128 KiB: tungstenite zeroes its read size before every read,
/// which for short connections (the network fuzzer's thousands a second) was a fifth of all the
/// instructions spent, wsspec's included; a 16 MiB message costs the same zeroing either way.
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default().max_message_size(Some(64 << 20)).max_frame_size(Some(64 << 20)).read_buffer_size(16 << 10)
}

/// Echoes on one connection, over any transport wsspec speaks.
async fn echo(stream: Transport) {
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config())).await else { return };
    let mut ws = echo_messages(ws).await;
    // The server closes the connection first (§7.1.1): over TLS with close_notify, then TCP FIN.
    let _ = ws.get_mut().shutdown().await;
}

/// Echoes every text and binary message of an open WebSocket until it closes; pongs and the
/// close reply are tungstenite's own. Returns the WebSocket, to end its transport.
pub(crate) async fn echo_messages<S: AsyncRead + AsyncWrite + Unpin>(mut ws: WebSocketStream<S>) -> WebSocketStream<S> {
    while let Some(Ok(message)) = ws.next().await {
        let reply = match message {
            Message::Text(_) | Message::Binary(_) => message,
            // Pongs to pings and the close reply are tungstenite's own; flushing sends them.
            _ => {
                if ws.flush().await.is_err() {
                    break;
                }
                continue;
            }
        };
        if ws.send(reply).await.is_err() {
            break;
        }
    }
    ws
}
