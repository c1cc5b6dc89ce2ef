//! The hostile-peer kit: `Peer`, an in-process target on an ephemeral loopback port that plays a
//! script of `Act`s on every connection after answering the opening handshake, and the scripts of
//! the attacks wsspec's bounds are stated against (`ping_flood`, `text_flood`, `huge_answers`,
//! `endless_fragments`, `crash_on_big_messages`, `chatty`). Tests build other behaviours from the same acts.
//! Peak memory is not asserted here (the tests share one process): `bench/hostile.sh` measures
//! wsspec's peak RSS against the same attacks, out of process.

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use wsspec::frame::{Decoder, FrameSpec, OpCode};

use crate::support;

/// What a scripted peer does after the opening handshake, in order.
#[derive(Clone)]
pub enum Act {
    /// Reads until this many bytes of frames have arrived (or the connection ends).
    Read(usize),
    /// Writes these frames, as they are.
    Send(Vec<FrameSpec>),
    /// Writes this frame again and again until the connection fails.
    Flood(FrameSpec),
    /// Writes only the first this many bytes of this frame (a frame cut short).
    Cut(FrameSpec, usize),
    /// Closes TCP without a close frame (FIN, not RST: everything read was consumed).
    Drop,
    /// Answers every read with these bytes (encoded frames), until the connection ends.
    Answer(std::sync::Arc<Vec<u8>>),
    /// Echoes every frame as it came (opcode, FIN, payload) and answers a close with its close,
    /// until a message reaches this many bytes: then goes on with the next act.
    EchoBelow(usize),
    /// Echoes every frame as it came, and answers a close with this close frame's payload.
    EchoClosingWith(Vec<u8>),
}

/// A target that plays `script` on every connection, on an ephemeral loopback port.
pub struct Peer {
    pub url: String,
}

impl Peer {
    pub async fn start(script: Vec<Act>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(play(stream, script.clone()));
            }
        });
        Self { url }
    }
}

pub fn frame(opcode: OpCode, fin: bool, payload: &[u8]) -> FrameSpec {
    FrameSpec { fin, ..FrameSpec::new(opcode, payload.to_vec()) }
}

/// Pings of 5 bytes, without end.
pub fn ping_flood() -> Vec<Act> {
    vec![Act::Flood(frame(OpCode::Ping, true, b"ping!"))]
}

/// Text messages of 1 byte, without end.
pub fn text_flood() -> Vec<Act> {
    vec![Act::Flood(frame(OpCode::Text, true, b"x"))]
}

/// A 16 MiB text message for every read.
pub fn huge_answers() -> Vec<Act> {
    vec![Act::Answer(std::sync::Arc::new(frame(OpCode::Text, true, &vec![b'a'; 16 << 20]).encode()))]
}

/// One text message of 1-byte fragments, without end.
pub fn endless_fragments() -> Vec<Act> {
    vec![Act::Send(vec![frame(OpCode::Text, false, b"a")]), Act::Flood(frame(OpCode::Continuation, false, b"a"))]
}

/// An echo server that crashes on a message of 64 KiB or more (the 9.x cases): it sends the first
/// 100 bytes of an echo, unfinished, and drops TCP.
pub fn crash_on_big_messages() -> Vec<Act> {
    vec![Act::EchoBelow(65_536), Act::Send(vec![frame(OpCode::Text, false, &[b'B'; 100])]), Act::Drop]
}

/// Markup a chatty target fills its texts with (escaped, each `"` takes 6 bytes on a page).
const MARKUP: &str = "<script>alert(1)</script>&amp;\"'</td></tr><!--";

/// A target with something different to say in every case, all of it markup: 14 rounds of a
/// distinct 125-byte ping, a distinct binary message and a distinct text message, then an echo
/// server that answers a close with a 123-byte markup reason. Every event is one line of a record,
/// and no two collapse into one.
pub fn chatty() -> Vec<Act> {
    let chatter = (0..14u8).flat_map(|i| {
        let ping = format!("P{i}<>\"{MARKUP}").repeat(4).into_bytes();
        let mut binary = vec![i; 200];
        binary.extend(MARKUP.repeat(usize::from(i)).as_bytes());
        let text = format!("{MARKUP}{i}{}", "x".repeat(usize::from(i)));
        [frame(OpCode::Ping, true, &ping[..125]), frame(OpCode::Binary, true, &binary), frame(OpCode::Text, true, text.as_bytes())]
    });
    let mut close = 1000u16.to_be_bytes().to_vec();
    close.extend(&"<b onmouseover=alert(2)>".repeat(6).as_bytes()[..123]);
    vec![Act::Send(chatter.collect()), Act::EchoClosingWith(close)]
}

async fn play(mut stream: TcpStream, script: Vec<Act>) {
    if !support::accept_websocket(&mut stream).await {
        return;
    }
    for act in script {
        match act {
            Act::Read(mut left) => {
                let mut buf = vec![0u8; 65536];
                while left > 0 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            }
            Act::Send(frames) => {
                let bytes: Vec<u8> = frames.iter().flat_map(FrameSpec::encode).collect();
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Act::Cut(frame, len) => {
                let mut bytes = frame.encode();
                bytes.truncate(len);
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Act::Flood(frame) => {
                let burst: Vec<u8> = std::iter::repeat_n(frame.encode(), 1000).flatten().collect();
                while stream.write_all(&burst).await.is_ok() {}
                return;
            }
            Act::Drop => {
                let _ = stream.shutdown().await;
                return;
            }
            Act::Answer(bytes) => {
                let mut buf = vec![0u8; 65536];
                while let Ok(1..) = stream.read(&mut buf).await {
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                return;
            }
            Act::EchoBelow(limit) => {
                if !echo_below(&mut stream, limit, None).await {
                    return;
                }
            }
            Act::EchoClosingWith(close) => {
                echo_below(&mut stream, usize::MAX, Some(close)).await;
                return;
            }
        }
    }
}

/// Echoes frames until a message reaches `limit` bytes (true) or the connection ends (false); a
/// close is answered with `close` as its payload, or with the payload it came with.
async fn echo_below(stream: &mut TcpStream, limit: usize, close: Option<Vec<u8>>) -> bool {
    let (mut decoder, mut buf, mut message) = (Decoder::new(64 << 20), vec![0u8; 65536], 0);
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        decoder.push(&buf[..n]);
        while let Ok(Some(frame)) = decoder.next_frame() {
            let opcode = frame.header.opcode;
            if opcode == OpCode::Close {
                let payload = close.as_ref().map_or(frame.payload, Clone::clone);
                let _ = stream.write_all(&FrameSpec::new(OpCode::Close, payload).encode()).await;
                return false;
            }
            let opcode = match opcode {
                OpCode::Ping => OpCode::Pong,
                OpCode::Pong => continue,
                other => other,
            };
            if matches!(opcode, OpCode::Text | OpCode::Binary | OpCode::Continuation) {
                message += frame.payload.len();
                if message >= limit {
                    return true;
                }
                if frame.header.fin {
                    message = 0;
                }
            }
            let echo = FrameSpec { fin: frame.header.fin, ..FrameSpec::new(opcode, frame.payload) };
            if stream.write_all(&echo.encode()).await.is_err() {
                return false;
            }
        }
    }
}
