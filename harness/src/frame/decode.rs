//! The decoder for what a target sends: incremental (a frame may arrive over many reads), bounded
//! (a declared length above the limit is reported, never allocated) and faithful (it records what
//! was on the wire, odd encodings included, and leaves judging to the caller).

use super::{apply_mask, LengthEncoding, OpCode};

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
    pub raw: Vec<u8>,
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

/// Incremental frame decoder with a payload size limit.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    pos: usize,
    max_payload: u64,
}

impl Decoder {
    pub fn new(max_payload: u64) -> Self {
        Self { buf: Vec::new(), pos: 0, max_payload }
    }

    /// Appends bytes read from the wire.
    pub fn push(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 && self.pos * 2 > self.buf.len() {
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
            self.buf.reserve(len - available);
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
        raw: data[..n].to_vec(),
    };
    Some((header, n))
}
