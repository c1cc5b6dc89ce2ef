//! Compressing one direction's messages (RFC 7692 §7.2.1): raw DEFLATE, a sync flush, the trailing
//! `00 00 ff ff` removed; the compressor is reset after each message when context takeover is off.
//!
//! The backend is zlib-rs (its safe `Deflate`), used directly rather than through flate2: flate2
//! picks C zlib whenever any crate in the build enables it (ratchet_deflate, the deflate reference
//! peer, does), and zlib-rs compresses these data sets in about 60 % of C zlib 1.2.13's CPU time
//! (`interop/autobahn-comparison.md`). zlib-rs, like zlib, refuses raw deflate with window bits 8.
//! For a negotiated window of 8 (2^8 octets), the deflater emits stored blocks only: no
//! back-reference at all, so the promise holds at the price of no compression.

use zlib_rs::{Deflate, DeflateFlush, Status};

use crate::catalog::{PayloadStream, STREAM_CHUNK};

use super::params::DirectionParams;

/// The four octets a sync flush ends with and the sender removes (RFC 7692 §7.2.1).
pub const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The compressor of one direction: sender side of RFC 7692 §7.2.1.
pub struct MessageDeflater {
    compress: Deflate,
    params: DirectionParams,
}

/// zlib's default level, the one Autobahn|Testsuite compresses at (`Z_DEFAULT_COMPRESSION`), with
/// zlib's default memory level 8 as Autobahn's `DEFAULT_MEM_LEVEL`.
pub const DEFAULT_LEVEL: u32 = 6;

impl MessageDeflater {
    /// A compressor at the default level bound by `params` (window and context takeover).
    pub fn new(params: DirectionParams) -> Self {
        Self::with_level(params, DEFAULT_LEVEL)
    }

    /// A compressor at `level` (0 = stored blocks only, 9 = best; above 9 is 9).
    pub fn with_level(params: DirectionParams, level: u32) -> Self {
        let bits = params.max_window_bits.get();
        let (bits, level) = if bits == 8 { (9, 0) } else { (bits, level.min(9)) };
        Self { compress: Deflate::new(level as i32, false, bits), params }
    }

    /// The parameters this compressor honours.
    pub fn params(&self) -> DirectionParams {
        self.params
    }

    /// The payload of one compressed message (RSV1 set on its first frame): DEFLATE, sync flush,
    /// the four tail octets removed. An empty message gives the single octet `00` (RFC 7692 §7.2.3.3).
    pub fn compress_message(&mut self, message: &[u8]) -> Vec<u8> {
        let out = self.run(message, DeflateFlush::SyncFlush);
        self.end_message(out)
    }

    /// Strips the sync flush's tail and resets without context takeover. zlib skips a sync flush
    /// that follows another with no input between (an empty message under context takeover) and
    /// writes nothing: that message is then the empty stored block, `00` once stripped.
    fn end_message(&mut self, mut out: Vec<u8>) -> Vec<u8> {
        if out.is_empty() {
            out.push(0x00);
        } else {
            assert!(out.ends_with(&SYNC_TAIL), "a sync flush ends with an empty stored block");
            out.truncate(out.len() - SYNC_TAIL.len());
        }
        if self.params.no_context_takeover {
            self.compress.reset();
        }
        out
    }

    /// The payload of one compressed message whose last block has BFINAL set (RFC 7692 §7.2.3.4):
    /// the stream is finished, then an empty stored block is appended and its four tail octets
    /// removed, leaving one `00` after the final block. The next message starts a new stream, so
    /// no context carries over whatever was negotiated.
    pub fn compress_message_final(&mut self, message: &[u8]) -> Vec<u8> {
        let mut out = self.run(message, DeflateFlush::Finish);
        out.push(0x00);
        self.compress.reset();
        out
    }

    /// The payload of a compressed message whose content is generated a chunk at a time, as
    /// [`Self::compress_message`] makes it from the whole content, without holding that content: a
    /// 64 MiB decompression bomb of zeros costs its ~64 KiB of output and one chunk.
    pub fn compress_stream(&mut self, mut content: PayloadStream<'_>) -> Vec<u8> {
        let mut chunk = vec![0; STREAM_CHUNK.min(content.remaining())];
        let mut out = Vec::new();
        while content.remaining() > 0 {
            let n = chunk.len().min(content.remaining());
            content.read(&mut chunk[..n]);
            out = self.run_into(&chunk[..n], DeflateFlush::NoFlush, out);
        }
        let out = self.run_into(&[], DeflateFlush::SyncFlush, out);
        self.end_message(out)
    }

    fn run(&mut self, input: &[u8], flush: DeflateFlush) -> Vec<u8> {
        self.run_into(input, flush, Vec::with_capacity(input.len() / 2 + 64))
    }

    /// Compresses `input` onto the end of `out`, growing it as needed, until zlib has taken all
    /// of the input and (for a flush) written everything the flush asks for.
    fn run_into(&mut self, input: &[u8], flush: DeflateFlush, mut out: Vec<u8>) -> Vec<u8> {
        let mut consumed = 0;
        loop {
            let start = out.len();
            let room = (out.capacity() - start).max(start).max(1024);
            out.resize(start + room, 0);
            let (before_in, before_out) = (self.compress.total_in(), self.compress.total_out());
            let status = self
                .compress
                .compress(&input[consumed..], &mut out[start..], flush)
                .expect("deflating from memory into memory has no failure mode");
            consumed += (self.compress.total_in() - before_in) as usize;
            let produced = (self.compress.total_out() - before_out) as usize;
            out.truncate(start + produced);
            let done = match status {
                Status::StreamEnd => true,
                Status::Ok | Status::BufError => consumed == input.len() && produced < room,
            };
            if done || (flush == DeflateFlush::NoFlush && consumed == input.len()) {
                return out;
            }
        }
    }
}
