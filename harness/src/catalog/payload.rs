//! Payloads as the catalog writes them: text, hex, a repeated pattern, or seeded random bytes. Big
//! ones are generated on demand and compared by digest, never kept twice.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, OnceLock},
};

use rand::{rngs::StdRng, RngCore, SeedableRng};
use serde::{de, Deserialize, Deserializer};
use sha1::{Digest, Sha1};

use crate::extension::permessage_deflate::datasets::{Dataset, MessageSlicer};

/// The largest payload a case may declare, in bytes: 64 MiB, the engine's default `max_message`
/// (`engine::RunOptions`), so wsspec could always take back the echo of what it sends. A `len` or
/// `random` over it is refused when the file loads, before anything is allocated.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// A payload, by how it is generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Bytes(Vec<u8>),
    Pattern { unit: Vec<u8>, len: usize },
    Random { len: usize, seed: u64 },
    /// Autobahn's 12.x/13.x messages: each use is the next `len` units (characters of a text set,
    /// octets otherwise) of a generated data set, wrapping round ([`MessageSlicer`]). A step that
    /// repeats sends the next slice each time; an expected event with `times = N` expects slices
    /// 1 to N in order. Where one payload is needed (`bytes`, `sha1`), it is the first slice.
    Slices { set: Dataset, len: usize },
}

impl Payload {
    pub fn empty() -> Self {
        Self::Bytes(Vec::new())
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len(),
            Self::Pattern { len, .. } | Self::Random { len, .. } => *len,
            Self::Slices { .. } => self.slicer().map_or(0, |s| s.next_len()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Bytes(b) => b.clone(),
            Self::Pattern { unit, len } => unit.iter().copied().cycle().take(*len).collect(),
            Self::Random { len, seed } => {
                let mut out = vec![0; *len];
                StdRng::seed_from_u64(*seed).fill_bytes(&mut out);
                out
            }
            Self::Slices { .. } => self.slicer().map(|mut s| s.next_message()).unwrap_or_default(),
        }
    }

    /// The slicer of a [`Payload::Slices`], at its first slice.
    pub fn slicer(&self) -> Option<MessageSlicer> {
        match self {
            Self::Slices { set, len } => Some(MessageSlicer::new(*set, *len)),
            _ => None,
        }
    }

    /// The payload's bytes in order, generated a chunk at a time (a data set payload: its first
    /// slice).
    pub fn stream(&self) -> PayloadStream<'_> {
        let len = self.len();
        let source = match self {
            Self::Bytes(b) => Source::Borrowed(b),
            Self::Pattern { unit, .. } => Source::Pattern(unit),
            Self::Random { seed, .. } => Source::Random { rng: Box::new(StdRng::seed_from_u64(*seed)), block: [0; RANDOM_BLOCK], used: RANDOM_BLOCK },
            Self::Slices { .. } => Source::Owned(self.bytes().into()),
        };
        PayloadStream { source, len, pos: 0 }
    }

    /// The SHA-1 of the payload, computed a chunk at a time; the digests of big generated payloads
    /// are cached for the whole run, so a case expecting the same 16 MiB echo (or 1,000 of them)
    /// generates it once.
    pub fn sha1(&self) -> [u8; 20] {
        let key = match self {
            Self::Pattern { unit, len } if *len > CACHE_FROM => Some(DigestKey::Pattern(unit.clone(), *len)),
            Self::Random { len, seed } if *len > CACHE_FROM => Some(DigestKey::Random(*seed, *len)),
            _ => None,
        };
        let Some(key) = key else { return self.stream().sha1() };
        let cache = DIGESTS.get_or_init(Default::default);
        if let Some(digest) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return *digest;
        }
        let digest = self.stream().sha1();
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED_DIGESTS {
            cache.clear();
        }
        cache.insert(key, digest);
        digest
    }
}

pub fn sha1_of(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

/// Payloads over this many bytes have their digest cached (64 KiB).
const CACHE_FROM: usize = 64 << 10;
/// Digests cached at most; the cache starts over past it (a catalog has a few dozen big payloads).
const MAX_CACHED_DIGESTS: usize = 1024;
/// Bytes of a seeded random payload generated at a time when a read stops inside a block.
const RANDOM_BLOCK: usize = 64;
/// The chunk a payload is generated in when it is digested whole (64 KiB).
pub const STREAM_CHUNK: usize = 64 << 10;

#[derive(Debug, PartialEq, Eq, Hash)]
enum DigestKey {
    Pattern(Vec<u8>, usize),
    Random(u64, usize),
}

static DIGESTS: OnceLock<Mutex<HashMap<DigestKey, [u8; 20]>>> = OnceLock::new();

/// A payload generated in order, a read at a time, never held whole: what a streamed frame's
/// payload comes from. Reads of any sizes give the same bytes as [`Payload::bytes`].
#[derive(Clone)]
pub struct PayloadStream<'a> {
    source: Source<'a>,
    /// The payload's length in bytes.
    len: usize,
    /// Bytes generated so far.
    pos: usize,
}

impl fmt::Debug for PayloadStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PayloadStream({} of {} bytes generated)", self.pos, self.len)
    }
}

#[derive(Clone)]
enum Source<'a> {
    Borrowed(&'a [u8]),
    /// Shared, so a preview (a clone of the stream) costs no copy.
    Owned(Arc<[u8]>),
    Pattern(&'a [u8]),
    /// `StdRng` fills whole 32-bit words, so a read stopping inside a word would lose the rest of
    /// it: reads that are not whole blocks go through `block`, of which `used` bytes are taken.
    Random { rng: Box<StdRng>, block: [u8; RANDOM_BLOCK], used: usize },
}

impl PayloadStream<'static> {
    /// A stream over bytes already built (a compressed message, a data set slice).
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        Self { len: bytes.len(), source: Source::Owned(bytes.into()), pos: 0 }
    }
}

impl PayloadStream<'_> {
    /// Bytes not generated yet.
    pub fn remaining(&self) -> usize {
        self.len - self.pos
    }

    /// Generates the next `out.len()` bytes into `out`. Panics if fewer remain: callers take a
    /// payload's bytes by its length.
    pub fn read(&mut self, out: &mut [u8]) {
        assert!(out.len() <= self.remaining(), "read past the end of a payload");
        match &mut self.source {
            Source::Borrowed(bytes) => out.copy_from_slice(&bytes[self.pos..self.pos + out.len()]),
            Source::Owned(bytes) => out.copy_from_slice(&bytes[self.pos..self.pos + out.len()]),
            Source::Pattern(unit) => {
                // One period from the current phase, then the filled part doubled: every copy
                // starts at a multiple of the period, so it stays in phase.
                let first = unit.len().min(out.len());
                for (i, b) in out[..first].iter_mut().enumerate() {
                    *b = unit[(self.pos + i) % unit.len()];
                }
                let mut filled = first;
                while filled < out.len() {
                    let n = filled.min(out.len() - filled);
                    out.copy_within(..n, filled);
                    filled += n;
                }
            }
            Source::Random { rng, block, used } => {
                let mut filled = 0;
                while filled < out.len() {
                    if *used < RANDOM_BLOCK {
                        let n = (RANDOM_BLOCK - *used).min(out.len() - filled);
                        out[filled..filled + n].copy_from_slice(&block[*used..*used + n]);
                        *used += n;
                        filled += n;
                    } else if out.len() - filled >= RANDOM_BLOCK {
                        let whole = (out.len() - filled) / 4 * 4;
                        rng.fill_bytes(&mut out[filled..filled + whole]);
                        filled += whole;
                    } else {
                        rng.fill_bytes(block);
                        *used = 0;
                    }
                }
            }
        }
        self.pos += out.len();
    }

    /// Moves past the next `n` bytes (at most what remains); a seeded random payload generates them.
    pub fn skip(&mut self, n: usize) {
        let n = n.min(self.remaining());
        match self.source {
            Source::Random { .. } => {
                let mut scratch = vec![0; STREAM_CHUNK.min(n)];
                let mut left = n;
                while left > 0 {
                    let k = left.min(scratch.len());
                    self.read(&mut scratch[..k]);
                    left -= k;
                }
            }
            _ => self.pos += n,
        }
    }

    /// The next `n` bytes (at most what remains), the stream left where it is: a preview.
    pub fn peek(&self, n: usize) -> Vec<u8> {
        let mut out = vec![0; n.min(self.remaining())];
        self.clone().read(&mut out);
        out
    }

    /// The SHA-1 of the rest of the payload, generated [`STREAM_CHUNK`] bytes at a time.
    pub fn sha1(mut self) -> [u8; 20] {
        let mut hasher = Sha1::new();
        let mut chunk = vec![0; STREAM_CHUNK.min(self.remaining())];
        while self.remaining() > 0 {
            let n = chunk.len().min(self.remaining());
            self.read(&mut chunk[..n]);
            hasher.update(&chunk[..n]);
        }
        hasher.finalize().into()
    }
}

/// How a payload prints in reports: text if it is short UTF-8, otherwise a description.
impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(b) => f.write_str(&crate::preview(b, 64)),
            Self::Pattern { unit, len } => write!(f, "{} repeated to {len} bytes", crate::preview(unit, 16)),
            Self::Random { len, seed } => write!(f, "{len} random bytes (seed {seed})"),
            Self::Slices { set, len } => write!(f, "slices of {len} units of the {} data set", set.name()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadTable {
    text: Option<String>,
    hex: Option<String>,
    pattern: Option<String>,
    pattern_hex: Option<String>,
    len: Option<usize>,
    random: Option<usize>,
    seed: Option<u64>,
    dataset: Option<String>,
}

impl TryFrom<PayloadTable> for Payload {
    type Error = String;

    fn try_from(t: PayloadTable) -> Result<Self, String> {
        let forms = [t.text.is_some(), t.hex.is_some(), t.pattern.is_some(), t.pattern_hex.is_some(), t.random.is_some(), t.dataset.is_some()];
        if forms.iter().filter(|f| **f).count() != 1 {
            return Err("a payload has exactly one of `text`, `hex`, `pattern`, `pattern_hex`, `random`, `dataset`".into());
        }
        if let Some(name) = &t.dataset {
            let set = Dataset::from_name(name).ok_or_else(|| format!("dataset `{name}`: expected {}", Dataset::NAMES.join(", ")))?;
            return match t.len {
                Some(len) if (1..=MAX_PAYLOAD / 4).contains(&len) && t.seed.is_none() => Ok(Self::Slices { set, len }),
                _ => Err(format!("`dataset` takes `len`, 1 to {} units, and nothing else", MAX_PAYLOAD / 4)),
            };
        }
        let needs_len = t.pattern.is_some() || t.pattern_hex.is_some();
        if needs_len != t.len.is_some() {
            return Err("`len` goes with `pattern` or `pattern_hex`, and only with them".into());
        }
        if t.seed.is_some() && t.random.is_none() {
            return Err("`seed` goes with `random`".into());
        }
        let unit = match (t.pattern, t.pattern_hex) {
            (Some(p), _) => Some(p.into_bytes()),
            (_, Some(h)) => Some(parse_hex(&h)?),
            _ => None,
        };
        if let Some(len) = t.len.or(t.random).filter(|len| *len > MAX_PAYLOAD) {
            let field = if t.random.is_some() { "random" } else { "len" };
            return Err(format!("`{field}` = {len} is over the {MAX_PAYLOAD} bytes a payload may have (wsspec's max_message)"));
        }
        Ok(match (t.text, t.hex, unit, t.random) {
            (Some(text), ..) => Self::Bytes(text.into_bytes()),
            (_, Some(hex), ..) => Self::Bytes(parse_hex(&hex)?),
            (_, _, Some(unit), _) if unit.is_empty() => return Err("a pattern must not be empty".into()),
            (_, _, Some(unit), _) => Self::Pattern { unit, len: t.len.unwrap_or_default() },
            (_, _, _, Some(len)) => Self::Random { len, seed: t.seed.unwrap_or(0) },
            _ => unreachable!("exactly one form is set"),
        })
    }
}

/// Hex digits, optionally separated by spaces.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(&digits).map_err(|e| format!("bad hex `{text}`: {e}"))
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = Payload;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a payload table ({ text | hex | pattern | pattern_hex | random | dataset })")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Payload, E> {
                Ok(Payload::Bytes(v.as_bytes().to_vec()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Payload, A::Error> {
                let table = PayloadTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Payload::try_from(table).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
