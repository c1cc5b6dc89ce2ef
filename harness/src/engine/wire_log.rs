//! The wire log: every TCP chunk and frame in both directions with its time offset. Bounded in
//! bytes, head and tail: the first [`HEAD_BYTES`] (the opening handshake and the first frames) and
//! the last [`TAIL_BYTES`] (how it ended: the closing handshake, the drop) are kept; what lies
//! between is counted (entries, frames, bytes on the wire), so a 16 MiB message written in 64-byte
//! chops does not make a 16 MiB report, and a report still shows how a case ended.

use std::{collections::VecDeque, time::Instant};

use wsspec_reports::{FrameInfo, WireEntry, WireGap};

use crate::{
    frame::{Header, OpCode},
    preview,
};

/// Bytes of entries kept from the start of a connection, counted as [`entry_bytes`].
pub const HEAD_BYTES: usize = 6 * 1024;
/// Bytes of entries kept from the end of a connection, counted as [`entry_bytes`].
pub const TAIL_BYTES: usize = 4 * 1024;
/// Bytes of data shown per entry.
pub const PREVIEW_BYTES: usize = 64;
/// What an entry costs in a case file besides its data (the other fields, pretty-printed).
const ENTRY_OVERHEAD: usize = 250;

#[derive(Debug)]
pub struct WireLog {
    start: Instant,
    head: Vec<Entry>,
    head_bytes: usize,
    tail: VecDeque<Entry>,
    tail_bytes: usize,
    /// What fell out between the head and the tail.
    elided: WireGap,
    /// The target's last data frame had FIN clear: a message is unfinished.
    rx_message_open: bool,
}

/// Direction of traffic, from wsspec's side.
#[derive(Debug, Clone, Copy)]
pub enum Dir {
    Tx,
    Rx,
}

/// An entry as logged: the raw facts, made into a [`WireEntry`] (text, hex) only when the log is
/// taken ([`WireLog::into_parts`]). Most logs are dropped unread (the network fuzzer's conforming
/// sequences) and most entries of a long log fall out between head and tail: formatting each one
/// as it happened cost a tenth of the fuzzer's CPU.
#[derive(Debug)]
struct Entry {
    t: f64,
    what: What,
}

#[derive(Debug)]
enum What {
    /// A chunk of `len` bytes starting with `preview` (at most [`PREVIEW_BYTES`]).
    Chunk { dir: Dir, len: u64, preview: Preview },
    /// A frame by its header, and its payload's preview as shown.
    Frame { dir: Dir, opcode: OpCode, fin: bool, rsv: u8, mask: Option<[u8; 4]>, payload_len: u64, data: String },
    Event(String),
}

/// Up to [`PREVIEW_BYTES`] bytes, held inline (no allocation per chunk).
#[derive(Debug)]
struct Preview {
    bytes: [u8; PREVIEW_BYTES],
    len: u8,
}

impl Entry {
    /// The length of the entry's `data` as [`WireEntry`] shows it, without formatting it.
    fn data_len(&self) -> usize {
        match &self.what {
            What::Chunk { preview, .. } => 2 + 2 * usize::from(preview.len),
            What::Frame { data, .. } | What::Event(data) => data.len(),
        }
    }

    fn into_wire_entry(self) -> WireEntry {
        let name = |dir| match dir {
            Dir::Tx => "tx",
            Dir::Rx => "rx",
        };
        let (dir, kind, len, data, frame) = match self.what {
            What::Chunk { dir, len, preview } => (name(dir), "chunk", len, format!("0x{}", hex::encode(&preview.bytes[..usize::from(preview.len)])), None),
            What::Frame { dir, opcode, fin, rsv, mask, payload_len, data } => {
                let info = FrameInfo { opcode: opcode.as_u8(), opcode_name: opcode.to_string(), fin, rsv, mask: mask.map(hex::encode) };
                (name(dir), "frame", payload_len, data, Some(info))
            }
            What::Event(text) => ("--", "event", 0, text, None),
        };
        WireEntry { t: self.t, dir: dir.into(), kind: kind.into(), len, data, frame }
    }
}

/// What an entry costs in a case file, about: its data and a fixed overhead.
fn entry_bytes(entry: &Entry) -> usize {
    entry.data_len() + ENTRY_OVERHEAD
}

impl WireLog {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            head: Vec::new(),
            head_bytes: 0,
            tail: VecDeque::new(),
            tail_bytes: 0,
            elided: WireGap { at: 0, entries: 0, frames: 0, bytes: 0 },
            rx_message_open: false,
        }
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    /// Entries left out between the head and the tail so far.
    pub fn elided(&self) -> u64 {
        self.elided.entries
    }

    /// Whether the target's last data frame (kept or not) left a message unfinished: a text,
    /// binary or continuation frame with FIN clear and no final frame after it.
    pub fn rx_message_open(&self) -> bool {
        self.rx_message_open
    }

    /// The kept entries in order, and where and how much was left out when anything was.
    pub fn into_parts(self) -> (Vec<WireEntry>, Option<WireGap>) {
        let gap = (self.elided.entries > 0).then(|| WireGap { at: self.head.len(), ..self.elided });
        let entries = self.head.into_iter().chain(self.tail).map(Entry::into_wire_entry).collect();
        (entries, gap)
    }

    fn push(&mut self, what: What) {
        let entry = Entry { t: self.elapsed_ms(), what };
        let bytes = entry_bytes(&entry);
        if self.tail.is_empty() && self.head_bytes + bytes <= HEAD_BYTES {
            self.head_bytes += bytes;
            self.head.push(entry);
            return;
        }
        self.tail_bytes += bytes;
        self.tail.push_back(entry);
        while self.tail_bytes > TAIL_BYTES && self.tail.len() > 1 {
            let out = self.tail.pop_front().expect("the tail has entries");
            self.tail_bytes -= entry_bytes(&out);
            self.elided.entries += 1;
            match out.what {
                What::Chunk { len, .. } => self.elided.bytes += len,
                What::Frame { .. } => self.elided.frames += 1,
                What::Event(_) => {}
            }
        }
    }

    pub fn chunk(&mut self, dir: Dir, data: &[u8]) {
        self.chunk_of(dir, data, data.len());
    }

    /// Logs a chunk of `len` bytes on the wire by its first bytes (`prefix`, [`PREVIEW_BYTES`] are
    /// shown).
    pub fn chunk_of(&mut self, dir: Dir, prefix: &[u8], len: usize) {
        let shown = &prefix[..prefix.len().min(PREVIEW_BYTES)];
        let mut preview = Preview { bytes: [0; PREVIEW_BYTES], len: shown.len() as u8 };
        preview.bytes[..shown.len()].copy_from_slice(shown);
        self.push(What::Chunk { dir, len: len as u64, preview });
    }

    /// Notes that the connection ended inside a message of the target's, `len` payload bytes into
    /// it (a frame cut short included): the message was begun, so a drop is no size refusal.
    pub fn rx_message_cut(&mut self, len: u64) {
        self.rx_message_open = true;
        self.event(format!("the connection ended inside the target's message, {len} payload bytes into it"));
    }

    /// Logs a frame by its header and the start of its payload (`prefix`, of a payload of
    /// `payload_len` bytes): a streamed frame is logged before its payload exists whole.
    pub fn frame(&mut self, dir: Dir, header: &Header, prefix: &[u8], payload_len: u64) {
        if matches!(dir, Dir::Rx) && header.opcode.as_u8() <= 2 {
            self.rx_message_open = !header.fin;
        }
        let what = What::Frame {
            dir,
            opcode: header.opcode,
            fin: header.fin,
            rsv: header.rsv,
            mask: header.mask,
            payload_len: header.payload_len,
            data: payload_preview(prefix, payload_len),
        };
        self.push(what);
    }

    /// Something that is neither a chunk nor a frame: a timer, a drop.
    pub fn event(&mut self, text: impl Into<String>) {
        let text = preview(text.into().as_bytes(), 1024);
        self.push(What::Event(text));
    }
}

/// A payload as [`preview`] shows it, from its first bytes and its length.
fn payload_preview(prefix: &[u8], payload_len: u64) -> String {
    let shown = preview(&prefix[..prefix.len().min(PREVIEW_BYTES)], PREVIEW_BYTES);
    if payload_len > PREVIEW_BYTES as u64 {
        format!("{shown} … ({payload_len} bytes)")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_log_keeps_its_head_and_tail_within_the_bound() {
        let mut log = WireLog::new(Instant::now());
        log.event("opened");
        for _ in 0..100_000 {
            log.chunk(Dir::Rx, &[0x89, 0x05, b'f', b'l', b'o', b'o', b'd']);
        }
        log.event("closing handshake complete");
        let (entries, gap) = log.into_parts();
        let gap = gap.expect("entries were left out");
        let kept: usize = entries.iter().map(|e| e.data.len() + ENTRY_OVERHEAD).sum();
        assert!(kept <= HEAD_BYTES + TAIL_BYTES, "{kept} bytes kept");
        assert_eq!(entries[0].data, "opened");
        assert_eq!(entries.last().unwrap().data, "closing handshake complete", "the end is kept");
        assert_eq!(gap.entries as usize + entries.len(), 100_002);
        assert_eq!(gap.bytes, 7 * gap.entries, "every left-out chunk's bytes are counted");
        assert!(gap.at > 0 && gap.at < entries.len());
    }

    #[test]
    fn a_short_log_is_kept_whole() {
        let mut log = WireLog::new(Instant::now());
        (0..10).for_each(|i| log.event(format!("e{i}")));
        let (entries, gap) = log.into_parts();
        assert_eq!((entries.len(), gap), (10, None));
    }
}
