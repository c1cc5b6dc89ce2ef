//! tungstenite as the server under differential test, in memory: the client's frames go in as bytes,
//! with the limits of the embedded reference server, and what comes back is put in the oracle's
//! terms. The echo application is modelled, not run: every message `read` returns is an echo owed.

use std::io::{self, Read, Write};

use tokio_tungstenite::tungstenite::{
    error::{CapacityError, Error},
    protocol::{Role, WebSocket},
    Message,
};

use super::oracle::{Ended, Observed, Reply};
use crate::{
    frame::{parse_close_payload, Decoder, FrameSpec, OpCode},
    peers::reference_server,
};

/// The bytes the client sent, then "would block": the connection stays open when they run out.
struct Pipe {
    input: io::Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.input.read(buf)? {
            0 if !buf.is_empty() => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Feeds `frames` to a tungstenite server and reports what it did.
pub fn run(frames: &[FrameSpec]) -> Observed {
    // Each frame's octets appended whole: collecting a `flat_map` went through the octets one at a
    // time, half of the `tungstenite_diff` target's time on inputs of large payloads.
    let mut input = Vec::new();
    for frame in frames {
        input.extend_from_slice(&frame.encode());
    }
    let pipe = Pipe { input: io::Cursor::new(input), output: Vec::new() };
    let mut ws = WebSocket::from_raw_socket(pipe, Role::Server, Some(reference_server::config()));
    let mut written = Decoder::new(u64::MAX);
    let mut replies = Vec::new();
    let mut close_sent = None;
    loop {
        let result = ws.read();
        // What tungstenite wrote during this call (pongs, its close) came before what it returned.
        written.push(&std::mem::take(&mut ws.get_mut().output));
        while let Ok(Some(frame)) = written.next_frame() {
            match frame.header.opcode {
                OpCode::Pong => replies.push(Reply::Pong(frame.payload)),
                OpCode::Close => close_sent = Some(parse_close_payload(&frame.payload).ok().flatten().map(|(code, _)| code.0)),
                _ => {}
            }
        }
        let end = match result {
            Ok(Message::Text(text)) => {
                replies.push(Reply::Echo { binary: false, payload: text.as_bytes().to_vec() });
                continue;
            }
            Ok(Message::Binary(data)) => {
                replies.push(Reply::Echo { binary: true, payload: data.to_vec() });
                continue;
            }
            Ok(_) => continue,
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Ended::Open,
            Err(Error::ConnectionClosed) => Ended::Closed(close_sent.flatten()),
            Err(Error::Protocol(_)) => Ended::Failed(1002),
            Err(Error::Utf8(_)) => Ended::Failed(1007),
            Err(Error::Capacity(CapacityError::MessageTooLong { .. })) => Ended::Failed(1009),
            // Nothing the model allows: reported as an internal error (1011) for the diff to show.
            Err(_) => Ended::Failed(1011),
        };
        return Observed { replies, end };
    }
}
