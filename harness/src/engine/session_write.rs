//! The session's writes: one write call at a time, replies (pongs, its close) only between frames,
//! and every frame wsspec sends in the wire log.

use std::collections::VecDeque;

use tokio::io::{AsyncWriteExt, WriteHalf};

use super::{
    script::Write,
    transport::Transport,
    wire_log::{Dir, WireLog},
};
use crate::frame::FrameSpec;

/// A write in progress.
pub(super) struct Pending {
    pub write: Write,
    /// Bytes of `write.data` already written.
    pub offset: usize,
}

/// Logs a frame wsspec sends.
pub(super) fn log_tx_frame(log: &mut WireLog, frame: &FrameSpec) {
    let data = frame.encode();
    if let Some((header, _)) = crate::frame::parse_header(&data) {
        log.frame(Dir::Tx, &header, &frame.payload);
    }
}

/// One write call: a reply if the stream is between frames, else the next chunk of the pending
/// write; with nothing to write (`can_write` false), a flush instead. Returns the bytes written, or
/// `None` for a flush. Cancel-safe: a cancelled `write` wrote nothing, a cancelled flush lost
/// nothing.
///
/// The flush matters over TLS: a write that fills the socket leaves the last records in rustls'
/// buffer, sent only by the next write or a flush; without one a message's tail could wait there
/// for the case's whole timeout while the target waits for it.
pub(super) async fn write_some(
    writer: &mut WriteHalf<Transport>,
    pending: &mut Option<Pending>,
    replies: &mut VecDeque<Vec<u8>>,
    mid_frame: bool,
    can_write: bool,
) -> std::io::Result<Option<Vec<u8>>> {
    if !can_write {
        return writer.flush().await.map(|()| None);
    }
    if !mid_frame {
        if let Some(reply) = replies.front_mut() {
            let n = writer.write(reply).await?;
            let written: Vec<u8> = reply.drain(..n).collect();
            if reply.is_empty() {
                replies.pop_front();
            }
            return Ok(Some(written));
        }
    }
    let p = pending.as_mut().expect("a pending write");
    let end = (p.offset + p.write.chunk).min(p.write.data.len());
    let n = writer.write(&p.write.data[p.offset..end]).await?;
    if n == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "socket accepted no bytes"));
    }
    let written = p.write.data[p.offset..p.offset + n].to_vec();
    p.offset += n;
    Ok(Some(written))
}
