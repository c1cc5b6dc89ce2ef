//! Payloads as the catalog writes them: text, hex, a repeated pattern, or seeded random bytes. Big
//! ones are generated on demand and compared by digest, never kept twice.

use std::fmt;

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
            Self::Slices { .. } => self.slicer().map_or(0, |mut s| s.next_message().len()),
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

    pub fn sha1(&self) -> [u8; 20] {
        sha1_of(&self.bytes())
    }
}

pub fn sha1_of(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
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
