//! wsspec's side of the session: the script's operations taken in turn (a write, a pause, a wait
//! for a message), one write call at a time, replies (pongs, its close) only between frames (§5.4),
//! and every frame wsspec sends in the wire log.

use std::{collections::VecDeque, time::Instant};

use tokio::io::{AsyncWriteExt, WriteHalf};

use super::{
    super::{
        outgoing::{SentFrame, Write},
        script::Op,
        transport::Transport,
        wire_log::{Dir, WireLog, PREVIEW_BYTES},
    },
    Session,
};
use crate::frame::{FrameSpec, OpCode};

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

impl Session<'_> {
    /// Takes script operations until one has to wait.
    pub(super) fn advance_script(&mut self) {
        while self.pending.is_none() && self.pause.is_none() && self.awaiting.is_none() && !self.script_done && !self.script_stopped {
            match self.script.next_op() {
                Some(Op::Write(write)) => {
                    if let Some(payload) = &write.close {
                        self.note_local_close(payload);
                    }
                    self.pending = Some(write);
                }
                Some(Op::Pause { duration, mark }) => {
                    self.deadline += duration;
                    self.pause = Some((Instant::now() + duration, mark));
                }
                Some(Op::AwaitMessage) => self.awaiting = Some(self.messages_received + 1),
                None => self.script_done = true,
            }
        }
    }

    pub(super) fn stop_script(&mut self) {
        self.script_stopped = true;
        self.pause = None;
        self.awaiting = None;
        // A whole pending write may be abandoned; one already started must finish its frame.
        if self.pending.as_ref().is_some_and(|p| !p.started()) && !self.partial_frame {
            self.pending = None;
        }
    }

    /// Logs the frames a script write started (their bytes are on their way now), and notes the
    /// pings among them as awaiting a pong.
    fn on_frames_sent(&mut self, frames: Vec<SentFrame>) {
        for SentFrame { spec, payload_len } in frames {
            log_tx_frame(&mut self.obs.log, &spec, payload_len);
            if spec.opcode == OpCode::Ping {
                self.pings.sent(spec.payload);
            }
        }
    }

    /// `len` bytes were written (a reply, or the pending write's), starting with `prefix`.
    pub(super) fn on_written(&mut self, prefix: &[u8], len: usize) {
        if let Some(sent) = self.pending.as_mut().map(Write::take_sent) {
            self.on_frames_sent(sent);
        }
        self.obs.log.chunk_of(Dir::Tx, prefix, len);
        self.unflushed = true;
        if let Some(pending) = &self.pending {
            if pending.is_done() {
                self.partial_frame = !pending.ends_frame;
                self.pending = None;
                if self.script_stopped && self.partial_frame {
                    // The rest of a split frame will never come; the stream cannot carry a close.
                    self.drop_connection();
                }
            }
        }
    }

    /// Whether a frame of wsspec's is partly written: nothing else (a reply, a close) may go on the
    /// wire until it is whole (§5.4).
    pub(super) fn mid_frame(&self) -> bool {
        self.partial_frame || self.pending.as_ref().is_some_and(Write::started)
    }
}
