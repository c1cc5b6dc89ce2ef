//! Decompressing one direction's messages (RFC 7692 §7.2.2): the receiver appends `00 00 ff ff`
//! and inflates, with a hard bound on the inflated size of a message so that a decompression bomb
//! ends in an error after at most `limit` octets, never in an allocation.
//!
//! Streaming: compressed octets go in as they arrive ([`MessageInflater::push`]) and inflated octets
//! come out through a callback in pieces of at most [`CHUNK`] octets, so an echo can be checked
//! (hashed, compared, validated as UTF-8) without holding it. The inflater always keeps a 32 KiB
//! window: a peer's stream inflates whatever window it used, and, like every zlib inflater, this
//! one cannot tell whether the peer kept within its negotiated `*_max_window_bits` (only a
//! back-reference before the start of the data it holds fails).
//!
//! A message must end at a block boundary once the tail is appended (RFC 7692 §7.2.1: the sender's
//! data ends with an empty stored block whose last 4 octets it removed). zlib says nothing about a
//! stream that stops inside a block (it waits for more input), so [`MessageInflater::finish`] feeds
//! an empty fixed-Huffman block and an empty stored block ([`BOUNDARY_PROBE`]): at a boundary that
//! inflates to nothing and leaves the window as it was; inside a block its bits are read as the
//! block's data, which yields output or an error (an RSV1 frame with an empty payload, a truncated
//! message). Only a dynamic-Huffman block cut exactly where the probe's bits happen to decode to
//! nothing could pass unnoticed.

use zlib_rs::{Inflate, InflateFlush, Status};

use super::deflater::SYNC_TAIL;
use super::params::DirectionParams;

/// The largest piece handed to the callback, in octets.
pub const CHUNK: usize = 32 * 1024;

/// An empty non-final fixed-Huffman block, then an empty non-final stored block: inflates to
/// nothing, and ends byte-aligned at a block boundary, when read at a block boundary.
const BOUNDARY_PROBE: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0xff, 0xff];

/// Why a compressed message could not be inflated. The sender of the message is at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    /// The message inflates to more than the receiver's limit (a decompression bomb, or a message
    /// above the size the receiver accepts): RFC 6455 §7.4.1 close code 1009.
    #[error("the compressed message inflates to more than {limit} octets")]
    TooLarge {
        /// The limit, in octets.
        limit: u64,
    },
    /// Not a valid DEFLATE stream (RFC 1951), including a back-reference to data the receiver
    /// does not hold (a peer that used context it promised not to keep).
    #[error("invalid DEFLATE data after {inflated} inflated octets: {reason}")]
    Corrupt {
        /// Octets inflated before the error.
        inflated: u64,
        /// zlib's description.
        reason: String,
    },
}

/// What one inflated message was like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InflatedMessage {
    /// Inflated size, in octets.
    pub len: u64,
    /// The stream ended with a BFINAL block (RFC 7692 §7.2.3.4); the next message starts afresh.
    pub final_block: bool,
    /// Octets after the BFINAL block, ignored (the RFC's example leaves one `00` there).
    pub after_final_block: u64,
}

/// The decompressor of one direction: receiver side of RFC 7692 §7.2.2.
pub struct MessageInflater {
    decompress: Inflate,
    params: DirectionParams,
    limit: u64,
    message: InflatedMessage,
    buffer: Box<[u8]>,
}

impl MessageInflater {
    /// An inflater for messages compressed under `params`, failing any message that inflates to
    /// more than `limit` octets.
    pub fn new(params: DirectionParams, limit: u64) -> Self {
        Self {
            decompress: Inflate::new(false, 15),
            params,
            limit,
            message: InflatedMessage::default(),
            buffer: vec![0; CHUNK].into_boxed_slice(),
        }
    }

    /// Inflated octets of the current message so far.
    pub fn inflated(&self) -> u64 {
        self.message.len
    }

    /// Feeds the next compressed octets of the current message (a frame's payload, or any part of
    /// it); inflated octets go to `sink`.
    ///
    /// # Errors
    /// [`InflateError`]; the inflater is then reset, and the connection should be failed.
    pub fn push(&mut self, compressed: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), InflateError> {
        let result = self.inflate(compressed, sink);
        if result.is_err() {
            self.abandon();
        }
        result
    }

    /// Forgets the current message, which will not end (the receiver dropped it): resets, as after
    /// an error.
    pub fn abandon(&mut self) {
        self.decompress.reset(false);
        self.message = InflatedMessage::default();
    }

    /// Ends the current message: appends `00 00 ff ff` (RFC 7692 §7.2.2), then resets for the next
    /// message, keeping the window only with context takeover and no BFINAL block.
    ///
    /// # Errors
    /// [`InflateError`], as for [`Self::push`].
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<InflatedMessage, InflateError> {
        self.push(&SYNC_TAIL, sink)?;
        if !self.message.final_block {
            self.check_block_boundary()?;
        }
        let message = std::mem::take(&mut self.message);
        if self.params.no_context_takeover || message.final_block {
            self.decompress.reset(false);
        }
        Ok(message)
    }

    /// Inflates a whole message into a vector (tests, small messages).
    ///
    /// # Errors
    /// [`InflateError`], as for [`Self::push`].
    pub fn inflate_message(&mut self, compressed: &[u8]) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        self.push(compressed, &mut |piece| out.extend_from_slice(piece))?;
        self.finish(&mut |piece| out.extend_from_slice(piece))?;
        Ok(out)
    }

    /// Fails a message whose data, tail appended, stops inside a block ([`BOUNDARY_PROBE`]).
    fn check_block_boundary(&mut self) -> Result<(), InflateError> {
        let (before_in, before_out) = (self.decompress.total_in(), self.decompress.total_out());
        let status = self.decompress.decompress(&BOUNDARY_PROBE, &mut self.buffer, InflateFlush::SyncFlush);
        let used = self.decompress.total_in() - before_in;
        let produced = self.decompress.total_out() - before_out;
        if matches!(status, Ok(Status::Ok | Status::BufError)) && produced == 0 && used == BOUNDARY_PROBE.len() as u64 {
            return Ok(());
        }
        let inflated = self.message.len;
        self.decompress.reset(false);
        self.message = InflatedMessage::default();
        Err(InflateError::Corrupt {
            inflated,
            reason: "the DEFLATE data stops inside a block: with 00 00 ff ff appended it must end at a block boundary (RFC 7692 §7.2.1)".into(),
        })
    }

    fn inflate(&mut self, mut input: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), InflateError> {
        loop {
            if self.message.final_block {
                self.message.after_final_block += input.len() as u64;
                return Ok(());
            }
            let (before_in, before_out) = (self.decompress.total_in(), self.decompress.total_out());
            let status = self
                .decompress
                .decompress(input, &mut self.buffer, InflateFlush::SyncFlush)
                .map_err(|error| InflateError::Corrupt {
                    inflated: self.message.len,
                    reason: self.decompress.error_message().unwrap_or(error.as_str()).to_string(),
                })?;
            let used = (self.decompress.total_in() - before_in) as usize;
            let produced = (self.decompress.total_out() - before_out) as usize;
            input = &input[used..];
            self.message.len += produced as u64;
            if self.message.len > self.limit {
                return Err(InflateError::TooLarge { limit: self.limit });
            }
            sink(&self.buffer[..produced]);
            if status == Status::StreamEnd {
                self.message.final_block = true;
                continue;
            }
            let output_full = produced == self.buffer.len();
            if (input.is_empty() && !output_full) || (used == 0 && produced == 0) {
                return Ok(());
            }
        }
    }
}
