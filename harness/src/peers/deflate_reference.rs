//! The embedded permessage-deflate reference server: an echo server on ratchet_rs with
//! ratchet_deflate (an implementation independent of wsspec's and of tungstenite, which has no
//! permessage-deflate). Limits: 64 MiB messages (ratchet's default), UTF-8 of text checked.
//!
//! Known deviations (measured in phase 1, pinned by the RFC 7692 section's cases, not hidden): it
//! accepts `server_max_window_bits` without echoing it, accepts `server_max_window_bits=08`, and
//! drops the connection on an offer with an unknown parameter instead of declining it.

use std::{io, net::SocketAddr};

use bytes::BytesMut;
use ratchet_rs::{deflate::DeflateExtProvider, Extension, Message, PayloadType, SubprotocolRegistry, WebSocket, WebSocketConfig, WebSocketStream};
use tokio::{
    io::{BufReader, BufWriter},
    net::TcpStream,
    task::JoinHandle,
};

/// A running deflate-capable echo server on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct DeflateReferenceServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl DeflateReferenceServer {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start() -> io::Result<Self> {
        Self::bind("127.0.0.1:0").await
    }

    /// Starts the server on `addr`.
    pub async fn bind(addr: &str) -> io::Result<Self> {
        let (addr, task) = super::accept_each(addr, echo).await?;
        Ok(Self { addr, task })
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for DeflateReferenceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Echoes on one connection until it closes or fails; ratchet answers pings and closes itself.
async fn echo(stream: TcpStream) {
    let upgraded = ratchet_rs::accept_with(
        BufReader::new(BufWriter::new(stream)),
        WebSocketConfig::default(),
        DeflateExtProvider::default(),
        SubprotocolRegistry::default(),
    )
    .await;
    let Ok(upgrader) = upgraded else { return };
    let Ok(upgraded) = upgrader.upgrade().await else { return };
    echo_messages(upgraded.websocket).await;
}

/// Echoes every data message as one message of the same type until the WebSocket closes or fails,
/// as Autobahn's echo servers and client drivers do; a text message that is not UTF-8 ends it
/// (ratchet leaves that check to its user). Shared by this server and the tests' ratchet client.
pub async fn echo_messages<S: WebSocketStream, E: Extension>(mut websocket: WebSocket<S, E>) {
    let mut buf = BytesMut::new();
    loop {
        let kind = match websocket.read(&mut buf).await {
            Ok(Message::Text) if std::str::from_utf8(&buf).is_err() => return,
            Ok(Message::Text) => PayloadType::Text,
            Ok(Message::Binary) => PayloadType::Binary,
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) | Err(_) => return,
        };
        if websocket.write(&mut buf, kind).await.is_err() || websocket.flush().await.is_err() {
            return;
        }
        buf.clear();
    }
}
