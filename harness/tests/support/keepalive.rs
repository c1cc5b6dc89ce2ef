//! A keepalive proxy: put between wsspec and a correct peer (the tungstenite reference server or
//! client), it makes that peer one that pings and sends unsolicited pongs, as RFC 6455 §5.5.2 and
//! §5.5.3 allow, around and inside everything the peer sends: right after a server's 101, before and
//! after each frame, between the two fragments it cuts each whole data message into (§5.4), and
//! before its close, never after it. wsspec's answers to these pings are taken out of the stream
//! (the peer never sees them) and counted, with how many carried the ping's application data.
//! Everything else passes unchanged, so every verdict must be the plain peer's.

use std::{
    io,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{tcp::OwnedReadHalf, TcpListener, TcpStream},
    task::JoinHandle,
};
use wsspec::frame::{Decoder, Frame, FrameSpec, OpCode};

/// The start of every ping's application data the proxy injects.
const PING: &[u8] = b"keepalive ";
/// The application data of every unsolicited pong the proxy injects.
const HEARTBEAT: &[u8] = b"heartbeat";

/// Which side of the proxy wsspec is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wsspec {
    /// wsspec connects through the proxy to a server (`wsspec server`): the server pings.
    Client,
    /// A client connects through the proxy to wsspec (`wsspec client`): the client pings, masked.
    Server,
}

/// What the proxy counted over all its connections.
#[derive(Debug, Default)]
pub struct Counts {
    /// Pings injected toward wsspec.
    pub pings: AtomicUsize,
    /// Unsolicited pongs injected toward wsspec.
    pub heartbeats: AtomicUsize,
    /// wsspec's pongs carrying the application data of an injected ping.
    pub answers: AtomicUsize,
}

/// A running keepalive proxy on 127.0.0.1 in front of `upstream`; stops when dropped.
#[derive(Debug)]
pub struct KeepaliveProxy {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    task: JoinHandle<()>,
}

impl KeepaliveProxy {
    pub async fn start(upstream: SocketAddr, wsspec: Wsspec) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(proxy(client, upstream, wsspec, shared.clone()));
            }
        });
        Ok(Self { addr, counts, task })
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Pings injected, unsolicited pongs injected, and wsspec's pongs echoing an injected ping.
    pub fn counted(&self) -> (usize, usize, usize) {
        let c = &self.counts;
        (c.pings.load(Ordering::SeqCst), c.heartbeats.load(Ordering::SeqCst), c.answers.load(Ordering::SeqCst))
    }
}

impl Drop for KeepaliveProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy(client: TcpStream, upstream: SocketAddr, wsspec: Wsspec, counts: Arc<Counts>) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let (to_server, to_client) = match wsspec {
        Wsspec::Client => (Role::FromWsspec, Role::FromPeer { masked: false }),
        Wsspec::Server => (Role::FromPeer { masked: true }, Role::FromWsspec),
    };
    tokio::join!(pump(client_read, server_write, to_server, counts.clone()), pump(server_read, client_write, to_client, counts));
}

/// What one direction of a connection carries.
#[derive(Clone, Copy)]
enum Role {
    /// The peer's frames toward wsspec, into which pings and pongs are injected (`masked` when the
    /// peer is a client).
    FromPeer { masked: bool },
    /// wsspec's frames toward the peer, out of which its answers to injected pings are taken.
    FromWsspec,
}

/// Copies the HTTP head as is, then frame by frame, injecting or taking out as `role` says.
async fn pump(mut from: OwnedReadHalf, mut to: impl AsyncWrite + Unpin, role: Role, counts: Arc<Counts>) {
    let mut buf = vec![0u8; 64 << 10];
    let mut head = Vec::new();
    let leftover = loop {
        let Ok(n @ 1..) = from.read(&mut buf).await else { return };
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = head.split_off(end + 4);
            if to.write_all(&head).await.is_err() {
                return;
            }
            break rest;
        }
    };
    // A server may ping once its 101 is sent; a client only once it has the 101 (§4.1), so with its
    // first frame.
    let switched = head.starts_with(b"HTTP/1.1 101");
    let mut injector = Injector { masked: matches!(role, Role::FromPeer { masked: true }), sent: 0, closed: false, counts: counts.clone() };
    let mut out = Vec::new();
    if switched && matches!(role, Role::FromPeer { .. }) {
        injector.ping(&mut out);
        injector.heartbeat(&mut out);
    }
    let mut decoder = Decoder::new(1 << 27);
    decoder.push(&leftover);
    loop {
        while let Ok(Some(frame)) = decoder.next_frame() {
            match role {
                Role::FromPeer { .. } => injector.around(frame, &mut out),
                Role::FromWsspec => {
                    let answer = frame.header.opcode == OpCode::Pong && frame.payload.starts_with(PING);
                    if answer {
                        counts.answers.fetch_add(1, Ordering::SeqCst);
                    } else {
                        out.extend(spec_of(frame).encode());
                    }
                }
            }
        }
        if !out.is_empty() && to.write_all(&std::mem::take(&mut out)).await.is_err() {
            return;
        }
        match from.read(&mut buf).await {
            Ok(n @ 1..) => decoder.push(&buf[..n]),
            _ => break,
        }
    }
    let _ = to.shutdown().await;
}

/// Injects the peer's pings and unsolicited pongs around its frames.
struct Injector {
    masked: bool,
    /// Pings injected on this connection (their application data is `keepalive N`).
    sent: usize,
    /// The peer sent its close: nothing more is injected (§5.5.1).
    closed: bool,
    counts: Arc<Counts>,
}

impl Injector {
    fn frame(&self, spec: FrameSpec, out: &mut Vec<u8>) {
        let spec = if self.masked { FrameSpec { mask: Some(rand::random()), ..spec } } else { FrameSpec { mask: None, ..spec } };
        out.extend(spec.encode());
    }

    fn ping(&mut self, out: &mut Vec<u8>) {
        if self.closed {
            return;
        }
        self.sent += 1;
        self.counts.pings.fetch_add(1, Ordering::SeqCst);
        self.frame(FrameSpec::new(OpCode::Ping, [PING, self.sent.to_string().as_bytes()].concat()), out);
    }

    fn heartbeat(&mut self, out: &mut Vec<u8>) {
        if self.closed {
            return;
        }
        self.counts.heartbeats.fetch_add(1, Ordering::SeqCst);
        self.frame(FrameSpec::new(OpCode::Pong, HEARTBEAT), out);
    }

    /// The peer's `frame` with a ping and an unsolicited pong before it and a ping after it; a
    /// whole uncompressed data message of two bytes or more is cut in two fragments with a ping and
    /// an unsolicited pong between them.
    fn around(&mut self, frame: Frame, out: &mut Vec<u8>) {
        let spec = spec_of(frame);
        self.ping(out);
        self.heartbeat(out);
        if spec.opcode == OpCode::Close {
            self.closed = true;
        }
        let whole = spec.fin && spec.rsv == 0 && matches!(spec.opcode, OpCode::Text | OpCode::Binary) && spec.payload.len() >= 2;
        if whole {
            let mut first = spec.clone();
            let rest = first.payload.split_off(spec.payload.len() / 2);
            first.fin = false;
            self.frame(first, out);
            self.ping(out);
            self.heartbeat(out);
            self.frame(FrameSpec { opcode: OpCode::Continuation, payload: rest, ..spec }, out);
        } else {
            self.frame(spec, out);
        }
        self.ping(out);
    }
}

fn spec_of(frame: Frame) -> FrameSpec {
    let Frame { header, payload } = frame;
    FrameSpec { fin: header.fin, rsv: header.rsv, opcode: header.opcode, mask: header.mask, length_encoding: header.length_encoding, declared_length: None, payload }
}
