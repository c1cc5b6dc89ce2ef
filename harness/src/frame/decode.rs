//! The decoder for what a target sends: incremental (a frame may arrive over many reads), bounded
//! (a declared length above the limit is reported, never allocated) and faithful (it records what
//! was on the wire, odd encodings included, and leaves judging to the caller).

use std::{fmt, ops::Deref};

use super::{apply_mask, apply_mask_at, LengthEncoding, OpCode};

/// Consumed octets, at least, before [`Decoder::push`] moves the unconsumed rest to the front of its
/// buffer (and only when more than half of the buffer is consumed, so each move copies fewer octets
/// than were consumed since the last). Small enough for a fuzzer's inputs of a few KiB to reach.
const COMPACT_FROM: usize = 4096;

/// The octets of a frame header as they were on the wire, 2 to 14 (§5.2), kept inline: decoding a
/// frame allocates nothing for its header. Reads as a byte slice.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RawHeader {
    bytes: [u8; RawHeader::MAX],
    len: u8,
}

impl RawHeader {
    /// The longest header: 2 octets, 8 of extended length and a 4-octet masking key.
    pub const MAX: usize = 14;

    /// The header octets `bytes`; `None` if there are more than [`Self::MAX`].
    pub fn new(bytes: &[u8]) -> Option<Self> {
        let mut raw = Self { bytes: [0; Self::MAX], len: u8::try_from(bytes.len()).ok()? };
        raw.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(raw)
    }
}

impl Deref for RawHeader {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Debug for RawHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A frame header as it was on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: OpCode,
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
    /// The length form used; `Bits16`/`Bits64` for a length that would have fit a shorter form.
    pub length_encoding: LengthEncoding,
    /// The raw header bytes, for the wire log.
    pub raw: RawHeader,
}

impl Header {
    /// Whether the sender used more length bytes than needed (§5.2: the minimal number MUST be used).
    pub fn non_minimal_length(&self) -> bool {
        match self.length_encoding {
            LengthEncoding::Bits16 => self.payload_len <= 125,
            LengthEncoding::Bits64 => self.payload_len <= 0xffff,
            _ => false,
        }
    }
}

/// A complete frame; `payload` is unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub header: Header,
    pub payload: Vec<u8>,
}

/// What stops decoding: the peer's fault, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame declares a payload of {declared} bytes, above the limit of {limit}")]
    TooLarge { declared: u64, limit: u64 },
}

/// A piece of a frame as [`Decoder::next_piece`] gives it: a frame is its header, then its payload
/// in one or more pieces, the last with `end` set (an empty payload is one empty piece).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Header(Header),
    /// The next bytes of the payload, unmasked.
    Payload { data: Vec<u8>, end: bool },
}

/// Where a frame being streamed is in its payload.
#[derive(Debug)]
struct InPayload {
    remaining: u64,
    mask: Option<[u8; 4]>,
    /// Payload bytes given out so far (the mask's phase).
    offset: u64,
}

/// Incremental frame decoder with a payload size limit. Use either [`Decoder::next_frame`] (whole
/// frames, buffered) or [`Decoder::next_piece`] (streamed, buffering only what one read brought)
/// on one decoder, not both.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    pos: usize,
    max_payload: u64,
    in_payload: Option<InPayload>,
}

impl Decoder {
    pub fn new(max_payload: u64) -> Self {
        Self { buf: Vec::new(), pos: 0, max_payload, in_payload: None }
    }

    /// The next piece of the stream, `Ok(None)` if more bytes are needed: a header once it is
    /// complete, then the payload as it arrives, at most `max` bytes a piece, unmasked. A header
    /// declaring more than the limit is an error, and nothing of it is allocated.
    pub fn next_piece(&mut self, max: usize) -> Result<Option<Piece>, DecodeError> {
        if let Some(state) = &mut self.in_payload {
            let available = (self.buf.len() - self.pos) as u64;
            if state.remaining > 0 && available == 0 {
                return Ok(None);
            }
            let n = state.remaining.min(available).min(max.max(1) as u64) as usize;
            let mut data = self.buf[self.pos..self.pos + n].to_vec();
            if let Some(key) = state.mask {
                apply_mask_at(&mut data, key, state.offset);
            }
            self.pos += n;
            state.offset += n as u64;
            state.remaining -= n as u64;
            let end = state.remaining == 0;
            if end {
                self.in_payload = None;
            }
            return Ok(Some(Piece::Payload { data, end }));
        }
        let Some((header, header_len)) = parse_header(&self.buf[self.pos..]) else { return Ok(None) };
        if header.payload_len > self.max_payload {
            return Err(DecodeError::TooLarge { declared: header.payload_len, limit: self.max_payload });
        }
        self.pos += header_len;
        self.in_payload = Some(InPayload { remaining: header.payload_len, mask: header.mask, offset: 0 });
        Ok(Some(Piece::Header(header)))
    }

    /// Appends bytes read from the wire.
    pub fn push(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > COMPACT_FROM && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet part of a complete frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        let Some((header, header_len)) = parse_header(&self.buf[self.pos..]) else { return Ok(None) };
        if header.payload_len > self.max_payload {
            return Err(DecodeError::TooLarge { declared: header.payload_len, limit: self.max_payload });
        }
        let len = header.payload_len as usize;
        let available = self.buf.len() - self.pos - header_len;
        if available < len {
            // Nothing is reserved by the declared length: the buffer grows with what arrives, so
            // a header declaring the limit costs no more memory than the bytes actually sent.
            return Ok(None);
        }
        let start = self.pos + header_len;
        let mut payload = self.buf[start..start + len].to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key);
        }
        self.pos = start + len;
        Ok(Some(Frame { header, payload }))
    }
}

/// Parses a header from the start of `data`; `None` if incomplete.
pub fn parse_header(data: &[u8]) -> Option<(Header, usize)> {
    let (&b0, rest) = data.split_first()?;
    let &b1 = rest.first()?;
    let (payload_len, length_encoding, mut n) = match b1 & 0x7f {
        126 => (u16::from_be_bytes(data.get(2..4)?.try_into().ok()?) as u64, LengthEncoding::Bits16, 4),
        127 => (u64::from_be_bytes(data.get(2..10)?.try_into().ok()?), LengthEncoding::Bits64, 10),
        short => (short as u64, LengthEncoding::Bits7, 2),
    };
    let mask = if b1 & 0x80 != 0 {
        let key: [u8; 4] = data.get(n..n + 4)?.try_into().ok()?;
        n += 4;
        Some(key)
    } else {
        None
    };
    let header = Header {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: OpCode::from_u8(b0),
        mask,
        payload_len,
        length_encoding,
        raw: RawHeader::new(&data[..n]).expect("a header is at most 14 octets"),
    };
    Some((header, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_length_reserves_nothing_before_the_bytes_arrive() {
        let mut decoder = Decoder::new(1 << 20);
        // A binary frame declaring 1 MiB (64-bit length form), then 10 bytes of it.
        decoder.push(&[0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0]);
        decoder.push(&[0; 10]);
        assert_eq!(decoder.next_frame(), Ok(None));
        assert!(decoder.buf.capacity() < 4096, "{} bytes reserved for 20 received", decoder.buf.capacity());
    }

    #[test]
    fn consumed_octets_are_dropped_once_most_of_the_buffer_is_consumed() {
        let frame = [0x82, 100].into_iter().chain([7; 100]).collect::<Vec<u8>>();
        let mut decoder = Decoder::new(1 << 20);
        // 41 frames (4,182 octets, above COMPACT_FROM) and the first 10 octets of the 42nd.
        decoder.push(&[frame.repeat(41), frame[..10].to_vec()].concat());
        while decoder.next_frame().expect("no frame over the limit").is_some() {}
        assert_eq!((decoder.pos, decoder.buffered()), (41 * frame.len(), 10));
        decoder.push(&frame[10..]);
        assert_eq!((decoder.pos, decoder.buf.len()), (0, frame.len()), "the 41 consumed frames are gone");
        assert_eq!(decoder.next_frame().expect("no frame over the limit").map(|f| f.payload), Some(vec![7; 100]));
    }
}
