//! The session's writes: one write call at a time, replies (pongs, its close) only between frames,
//! and every frame wsspec sends in the wire log.

use std::collections::VecDeque;

use tokio::io::{AsyncWriteExt, WriteHalf};

use super::{
    outgoing::Write,
    transport::Transport,
    wire_log::{Dir, WireLog, PREVIEW_BYTES},
};
use crate::frame::FrameSpec;

/// What one call of [`write_some`] did.
pub(super) enum Written {
    /// Bytes of a reply, all of them (replies are small).
    Reply(Vec<u8>),
    /// `len` bytes of the pending write, of which the first ones for the wire log.
    Script { prefix: Vec<u8>, len: usize },
    Flushed,
}

/// Logs a frame wsspec sends: `frame.payload` is the start of a payload of `payload_len` bytes.
pub(super) fn log_tx_frame(log: &mut WireLog, frame: &FrameSpec, payload_len: usize) {
    if let Some((header, _)) = crate::frame::parse_header(&frame.encode_header()) {
        log.frame(Dir::Tx, &header, &frame.payload, payload_len as u64);
    }
}

/// One write call: a reply if the stream is between frames, else the next chunk of the pending
/// write (generated now if none is staged); with nothing to write (`can_write` false), a flush
/// instead. Cancel-safe: a cancelled `write` wrote nothing (what was staged stays staged), a
/// cancelled flush lost nothing.
///
/// The flush matters over TLS: a write that fills the socket leaves the last records in rustls'
/// buffer, sent only by the next write or a flush; without one a message's tail could wait there
/// for the case's whole timeout while the target waits for it.
pub(super) async fn write_some(
    writer: &mut WriteHalf<Transport>,
    pending: &mut Option<Write<'_>>,
    replies: &mut VecDeque<Vec<u8>>,
    mid_frame: bool,
    can_write: bool,
) -> std::io::Result<Written> {
    if !can_write {
        return writer.flush().await.map(|()| Written::Flushed);
    }
    if !mid_frame {
        if let Some(reply) = replies.front_mut() {
            let n = writer.write(reply).await?;
            let written: Vec<u8> = reply.drain(..n).collect();
            if reply.is_empty() {
                replies.pop_front();
            }
            return Ok(Written::Reply(written));
        }
    }
    let write = pending.as_mut().expect("a pending write");
    let n = writer.write(write.stage()).await?;
    if n == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "socket accepted no bytes"));
    }
    Ok(Written::Script { prefix: write.consume(n, PREVIEW_BYTES), len: n })
}
