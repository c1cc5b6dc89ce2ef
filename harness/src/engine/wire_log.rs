//! The wire log: every TCP chunk and frame in both directions with its time offset. Bounded, so a
//! 16 MiB message written in 64-byte chops does not make a 16 MiB report; counts stay exact.

use std::time::Instant;

use wsspec_reports::{FrameInfo, WireEntry};

use crate::{frame::Header, preview};

/// Entries kept per case; later ones are counted, not kept.
const MAX_ENTRIES: usize = 2_000;
/// Bytes of data shown per entry.
const PREVIEW_BYTES: usize = 64;

#[derive(Debug)]
pub struct WireLog {
    start: Instant,
    pub entries: Vec<WireEntry>,
    pub elided: u64,
}

/// Direction of traffic, from wsspec's side.
#[derive(Debug, Clone, Copy)]
pub enum Dir {
    Tx,
    Rx,
}

impl WireLog {
    pub fn new(start: Instant) -> Self {
        Self { start, entries: Vec::new(), elided: 0 }
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    fn push(&mut self, entry: WireEntry) {
        if self.entries.len() < MAX_ENTRIES {
            self.entries.push(entry);
        } else {
            self.elided += 1;
        }
    }

    pub fn chunk(&mut self, dir: Dir, data: &[u8]) {
        let entry = WireEntry {
            t: self.elapsed_ms(),
            dir: dir_name(dir),
            kind: "chunk".into(),
            len: data.len() as u64,
            data: format!("0x{}", hex::encode(&data[..data.len().min(PREVIEW_BYTES)])),
            frame: None,
        };
        self.push(entry);
    }

    pub fn frame(&mut self, dir: Dir, header: &Header, payload: &[u8]) {
        let entry = WireEntry {
            t: self.elapsed_ms(),
            dir: dir_name(dir),
            kind: "frame".into(),
            len: header.payload_len,
            data: preview(payload, PREVIEW_BYTES),
            frame: Some(FrameInfo {
                opcode: header.opcode.as_u8(),
                opcode_name: header.opcode.to_string(),
                fin: header.fin,
                rsv: header.rsv,
                mask: header.mask.map(hex::encode),
            }),
        };
        self.push(entry);
    }

    /// Something that is neither a chunk nor a frame: a timer, a drop.
    pub fn event(&mut self, text: impl Into<String>) {
        let entry = WireEntry { t: self.elapsed_ms(), dir: "--".into(), kind: "event".into(), len: 0, data: text.into(), frame: None };
        self.push(entry);
    }
}

fn dir_name(dir: Dir) -> String {
    match dir {
        Dir::Tx => "tx",
        Dir::Rx => "rx",
    }
    .into()
}
