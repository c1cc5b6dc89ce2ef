//! Deliberately broken peers, to prove the catalog catches what it claims to: the embedded
//! tungstenite server (or client) behind a proxy that injects one defect into the frames passing
//! through. Every behaviour but the defect is tungstenite's own, so a case that changes verdict was
//! caught by it.

use std::{collections::VecDeque, io, net::SocketAddr, sync::Arc};

use tokio::{
    io::{split, AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf},
    net::{TcpListener, TcpStream},
    sync::Mutex,
    task::JoinHandle,
};

use super::{deflate_reference::DeflateReferenceServer, reference_server::ReferenceServer};
use crate::{
    engine::Transport,
    frame::{parse_close_payload, CloseCode, Decoder, Frame, FrameSpec, OpCode},
};

/// A defect a broken peer can have. The first group breaks a server, the second a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// Treats frames with RSV bits as if the bits were clear (§5.2).
    AcceptRsv,
    /// Silently drops frames with reserved opcodes instead of failing (§5.2).
    IgnoreReservedOpcodes,
    /// Never answers a ping (§5.5.2).
    NoPong,
    /// Takes a continuation frame with nothing to continue as the start of a text message (§5.4).
    AcceptOrphanContinuation,
    /// Does not validate UTF-8 in text messages (§8.1).
    SkipUtf8,
    /// Answers a close with the very code it received, even one that may not be sent (§7.4).
    EchoAnyCloseCode,
    /// Accepts frames from the client that are not masked (§5.1).
    AcceptUnmasked,
    /// Corrupts one byte, in the middle, of every echoed frame of 65,535 bytes or more (8 MiB into a
    /// 16 MiB echo: deep inside a streamed digest).
    CorruptLongFrames,
    /// Sends every close frame without a status code, even when failing the connection (§7.1.7).
    CodelessClose,
    /// Answers a ping with a pong whose payload differs from the ping's (§5.5.3).
    WrongPongPayload,
    /// A client that accepts masked frames from the server (§5.1).
    ClientAcceptsMasked,
    /// A client that sends its frames unmasked (§5.1).
    ClientSendsUnmasked,
    /// A client that masks every frame with the same key (§5.3).
    ClientReusesMaskKey,
    /// A client that does not validate UTF-8 in text messages (§8.1).
    ClientSkipsUtf8,
    /// A permessage-deflate server (the ratchet reference) whose answer adds
    /// `server_max_window_bits=15` whatever the offer allowed (RFC 7692 §7.1.2.1).
    DeflateWindowAboveOffer,
}

/// A running broken server on 127.0.0.1: a reference server behind a [`DefectProxy`].
#[derive(Debug)]
pub struct FaultyServer {
    proxy: DefectProxy,
    /// The server behind the proxy, kept running until this is dropped.
    _inner: Box<dyn std::fmt::Debug + Send + Sync>,
}

impl FaultyServer {
    /// The tungstenite reference server with `defect`; a permessage-deflate defect goes in front
    /// of the deflate reference (ratchet) instead.
    pub async fn start(defect: Defect) -> io::Result<Self> {
        let (addr, inner) = if defect == Defect::DeflateWindowAboveOffer {
            let server = DeflateReferenceServer::start().await?;
            (server.addr, Box::new(server) as Box<dyn std::fmt::Debug + Send + Sync>)
        } else {
            let server = ReferenceServer::start().await?;
            (server.addr, Box::new(server) as Box<dyn std::fmt::Debug + Send + Sync>)
        };
        Ok(Self { proxy: DefectProxy::start(addr, defect).await?, _inner: inner })
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.proxy.addr)
    }
}

/// A proxy on 127.0.0.1 in front of `upstream` that injects a defect: in front of a server it makes
/// a broken server; a client connecting through it becomes a broken client. Stops when dropped.
#[derive(Debug)]
pub struct DefectProxy {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl DefectProxy {
    pub async fn start(upstream: SocketAddr, defect: Defect) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(proxy(client, upstream, defect));
            }
        });
        Ok(Self { addr, task })
    }

    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

impl Drop for DefectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What one direction of the proxy remembers for the other.
#[derive(Default)]
struct Shared {
    /// Message types sent to the broken peer, oldest first (the UTF-8 defects turn text into binary
    /// on the way in and back on the way out).
    text_messages: VecDeque<bool>,
    /// The close code the client sent (`EchoAnyCloseCode`).
    client_close_code: Option<u16>,
}

async fn proxy(client: TcpStream, inner_addr: SocketAddr, defect: Defect) {
    let Ok(server) = TcpStream::connect(inner_addr).await else { return };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (client_read, client_write) = split(Transport::from(client));
    let (server_read, server_write) = split(Transport::from(server));
    let shared = Arc::new(Mutex::new(Shared::default()));
    let inbound = pump(client_read, server_write, Direction::Inbound, defect, shared.clone());
    let outbound = pump(server_read, client_write, Direction::Outbound, defect, shared);
    tokio::join!(inbound, outbound);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Client to server: what a broken server receives, what a broken client sends.
    Inbound,
    /// Server to client: what a broken server sends, what a broken client receives.
    Outbound,
}

/// Copies the HTTP head as is, then decodes frames, lets the defect rewrite them and re-encodes.
async fn pump(mut from: ReadHalf<Transport>, mut to: WriteHalf<Transport>, dir: Direction, defect: Defect, shared: Arc<Mutex<Shared>>) {
    let mut head = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let leftover = loop {
        let Ok(n @ 1..) = from.read(&mut buf).await else { return };
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = head.split_off(end + 4);
            if defect == Defect::DeflateWindowAboveOffer && dir == Direction::Outbound {
                head = widen_server_window(&head);
            }
            if to.write_all(&head).await.is_err() {
                return;
            }
            break rest;
        }
    };
    let mut decoder = Decoder::new(1 << 27);
    let mut message_open = false;
    decoder.push(&leftover);
    loop {
        while let Ok(Some(frame)) = decoder.next_frame() {
            let rewritten = rewrite(frame, dir, defect, &mut message_open, &mut *shared.lock().await);
            if let Some(spec) = rewritten {
                if to.write_all(&spec.encode()).await.is_err() {
                    return;
                }
            }
        }
        match from.read(&mut buf).await {
            Ok(n @ 1..) => decoder.push(&buf[..n]),
            _ => break,
        }
    }
    let _ = to.shutdown().await;
}

/// The frame as it goes on, or `None` to drop it.
fn rewrite(frame: Frame, dir: Direction, defect: Defect, message_open: &mut bool, shared: &mut Shared) -> Option<FrameSpec> {
    let Frame { header, payload } = frame;
    let mut spec = FrameSpec {
        fin: header.fin,
        rsv: header.rsv,
        opcode: header.opcode,
        mask: header.mask,
        length_encoding: header.length_encoding,
        declared_length: None,
        payload,
    };
    let starts_message = matches!(spec.opcode, OpCode::Text | OpCode::Binary);
    match (defect, dir) {
        (Defect::AcceptRsv, Direction::Inbound) => spec.rsv = 0,
        (Defect::IgnoreReservedOpcodes, Direction::Inbound) if spec.opcode.is_reserved() => return None,
        (Defect::NoPong, Direction::Outbound) if spec.opcode == OpCode::Pong => return None,
        (Defect::AcceptOrphanContinuation, Direction::Inbound) if spec.opcode == OpCode::Continuation && !*message_open => {
            spec.opcode = OpCode::Text;
        }
        (Defect::SkipUtf8 | Defect::ClientSkipsUtf8, _) if starts_message => {
            // Text reaches the broken peer as binary, so it never validates it; its echo is turned
            // back into text on the way out.
            let toward_broken_peer = (defect == Defect::SkipUtf8) == (dir == Direction::Inbound);
            if toward_broken_peer {
                shared.text_messages.push_back(spec.opcode == OpCode::Text);
                spec.opcode = OpCode::Binary;
            } else if shared.text_messages.pop_front() == Some(true) {
                spec.opcode = OpCode::Text;
            }
        }
        (Defect::EchoAnyCloseCode, Direction::Inbound) if spec.opcode == OpCode::Close => {
            if let Ok(Some((code, _))) = parse_close_payload(&spec.payload) {
                shared.client_close_code = Some(code.0);
                spec.payload[..2].copy_from_slice(&CloseCode::NORMAL.0.to_be_bytes());
            }
        }
        (Defect::EchoAnyCloseCode, Direction::Outbound) if spec.opcode == OpCode::Close && spec.payload.len() >= 2 => {
            if let Some(code) = shared.client_close_code {
                spec.payload[..2].copy_from_slice(&code.to_be_bytes());
            }
        }
        (Defect::AcceptUnmasked, Direction::Inbound) if spec.mask.is_none() => spec.mask = Some(rand::random()),
        (Defect::CorruptLongFrames, Direction::Outbound) if spec.payload.len() >= 0xffff => {
            let middle = spec.payload.len() / 2;
            spec.payload[middle] ^= 0x01;
        }
        (Defect::CodelessClose, Direction::Outbound) if spec.opcode == OpCode::Close => spec.payload.clear(),
        (Defect::WrongPongPayload, Direction::Outbound) if spec.opcode == OpCode::Pong => match spec.payload.first_mut() {
            Some(first) => *first ^= 0x20,
            None => spec.payload.push(b'x'),
        },
        (Defect::ClientAcceptsMasked, Direction::Outbound) => spec.mask = None,
        (Defect::ClientSendsUnmasked, Direction::Inbound) => spec.mask = None,
        (Defect::ClientReusesMaskKey, Direction::Inbound) => spec.mask = Some([0x12, 0x34, 0x56, 0x78]),
        _ => {}
    }
    if dir == Direction::Inbound {
        match spec.opcode {
            OpCode::Text | OpCode::Binary => *message_open = !spec.fin,
            OpCode::Continuation if spec.fin => *message_open = false,
            _ => {}
        }
    }
    Some(spec)
}

/// The response head with `server_max_window_bits=15` added to its permessage-deflate answer.
fn widen_server_window(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    text.split_inclusive("\r\n")
        .map(|line| match line.strip_suffix("\r\n") {
            Some(value) if value.to_ascii_lowercase().starts_with("sec-websocket-extensions:") => {
                format!("{value}; server_max_window_bits=15\r\n")
            }
            _ => line.to_string(),
        })
        .collect::<String>()
        .into_bytes()
}
