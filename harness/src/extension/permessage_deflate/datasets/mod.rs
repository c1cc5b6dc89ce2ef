//! The five payload sets of Autobahn|Testsuite's 12.x/13.x, regenerated: same kinds, same sizes,
//! deterministic, no third-party file. Autobahn ships a JSON file, Lena as a 512×512 8-bit BMP,
//! Goethe's Faust as text sent as binary, an HTML page and a PDF paper; wsspec writes look-alikes of
//! each from a fixed seed so that compression behaves alike (structured text, a smooth image,
//! prose, markup with a few non-ASCII characters, a document mixing text and compressed streams).
//!
//! [`MessageSlicer`] cuts messages the way Autobahn does: each message is the next `LEN` units of
//! the set, wrapping round; for a text set the unit is a character, so a message can be longer
//! than `LEN` octets and never splits a UTF-8 sequence.

mod binary;
mod text;

use std::sync::OnceLock;

/// One of the five data sets, in Autobahn's order (12.1 to 12.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// JSON text, 194,056 octets, ASCII (Autobahn's `data1.json`; sent as text).
    Json,
    /// An 8-bit grey 512×512 BMP, 263,222 octets (Autobahn's `lena512.bmp`; binary).
    Bitmap,
    /// English prose with Gutenberg-style line breaks, 222,218 octets, sent as binary (Autobahn's
    /// `pg2229.txt`, Faust).
    Prose,
    /// An HTML page, 263,647 octets, 263,620 characters: 26 are not ASCII (Autobahn's
    /// `data1.html`; sent as text).
    Html,
    /// A PDF-like document, 1,042,328 octets: text objects and incompressible streams (Autobahn's
    /// paper; binary).
    Pdf,
}

impl Dataset {
    /// The five, in the order of sections 12.1 to 12.5.
    pub const ALL: [Dataset; 5] = [Self::Json, Self::Bitmap, Self::Prose, Self::Html, Self::Pdf];

    /// The names the catalog uses (`{ dataset = "json", len = 16 }`), in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 5] = ["json", "bitmap", "prose", "html", "pdf"];

    /// The catalog's name for the set.
    pub fn name(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// The set the catalog calls `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES.iter().position(|n| *n == name).map(|i| Self::ALL[i])
    }

    /// Size in octets, the same as Autobahn's file.
    pub const fn size(self) -> usize {
        match self {
            Self::Json => 194_056,
            Self::Bitmap => 263_222,
            Self::Prose => 222_218,
            Self::Html => 263_647,
            Self::Pdf => 1_042_328,
        }
    }

    /// Sent as text messages (`LEN` then counts characters).
    pub const fn is_text(self) -> bool {
        matches!(self, Self::Json | Self::Html)
    }

    /// Autobahn's description of the subsection (its `desc`), with wsspec's own kind of data.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Json => "Large JSON data file",
            Self::Bitmap => "Picture, Bitmap 512x512 8-bit grey",
            Self::Prose => "Human readable text (sent as binary)",
            Self::Html => "Large HTML file",
            Self::Pdf => "A larger PDF",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|set| *set == self).expect("every set is in ALL")
    }

    /// The generated octets (made once per process).
    pub fn bytes(self) -> &'static [u8] {
        static SETS: [OnceLock<Box<[u8]>>; 5] = [const { OnceLock::new() }; 5];
        SETS[self.index()].get_or_init(|| {
            let bytes = match self {
                Self::Json => text::json(self.size()),
                Self::Bitmap => binary::bitmap(),
                Self::Prose => text::prose(self.size()),
                Self::Html => text::html(self.size()),
                Self::Pdf => binary::pdf(self.size()),
            };
            assert_eq!(bytes.len(), self.size(), "{self:?} is generated at its exact size");
            // The generators' growth left up to half as much again unused (0.4 MB for the five).
            bytes.into_boxed_slice()
        })
    }

    /// Where the characters of a text set start (made once per process); `None` for a binary set,
    /// whose unit is the octet.
    fn char_index(self) -> Option<&'static CharIndex> {
        static INDEXES: [OnceLock<CharIndex>; 5] = [const { OnceLock::new() }; 5];
        self.is_text().then(|| INDEXES[self.index()].get_or_init(|| CharIndex::new(self.bytes())))
    }
}

/// Characters between two entries of a [`CharIndex`]: a lookup walks at most this many characters
/// less one from the entry before.
const INDEX_STRIDE: usize = 64;

/// The octet offset of every [`INDEX_STRIDE`]th character of a text set, and how many characters
/// it has: 4 octets per 64 characters (a `u32` per character took 1.8 MB for the JSON and HTML
/// sets, live for the whole run).
struct CharIndex {
    text: &'static str,
    /// The octet offset of characters 0, `INDEX_STRIDE`, 2·`INDEX_STRIDE`, …
    entries: Vec<u32>,
    chars: usize,
}

impl CharIndex {
    fn new(data: &'static [u8]) -> Self {
        let text = std::str::from_utf8(data).expect("text sets are UTF-8");
        let mut chars = 0;
        let mut entries = Vec::new();
        for (at, _) in text.char_indices() {
            if chars % INDEX_STRIDE == 0 {
                entries.push(u32::try_from(at).expect("a data set is under 4 GiB"));
            }
            chars += 1;
        }
        entries.shrink_to_fit();
        Self { text, entries, chars }
    }

    /// The octet offset of character `unit`; the text's length for `unit` past its last character.
    fn offset(&self, unit: usize) -> usize {
        let Some(&entry) = self.entries.get(unit / INDEX_STRIDE) else { return self.text.len() };
        let from = entry as usize;
        self.text[from..].char_indices().nth(unit % INDEX_STRIDE).map_or(self.text.len(), |(at, _)| from + at)
    }
}

/// Autobahn's message rule (`sendOne` in `case12_x_x.py`): message *k* is units
/// `[k·LEN, (k+1)·LEN)` of the set, taken modulo its length.
pub struct MessageSlicer {
    data: &'static [u8],
    /// Where the characters start, for text sets; `None` for binary (the unit is an octet).
    chars: Option<&'static CharIndex>,
    len: usize,
    next: usize,
}

impl MessageSlicer {
    /// Messages of `len` units (characters for a text set, octets otherwise) from `set`.
    pub fn new(set: Dataset, len: usize) -> Self {
        Self { data: set.bytes(), chars: set.char_index(), len, next: 0 }
    }

    /// The next message's octets as a range of the set: one range, or one to the end and one from
    /// the start when it wraps round.
    fn next_ranges(&self) -> (usize, usize, usize) {
        let units = self.chars.map_or(self.data.len(), |index| index.chars);
        let from = self.next;
        let to = (from + self.len) % units;
        let offset = |unit: usize| self.chars.map_or(unit, |index| index.offset(unit));
        (offset(from), offset(to), to)
    }

    /// The next message's length in octets, without building it (what [`Self::next_message`]
    /// would return the length of).
    pub fn next_len(&self) -> usize {
        if self.len == 0 {
            return 0;
        }
        let (start, end, _) = self.next_ranges();
        if end > start { end - start } else { self.data.len() - start + end }
    }

    /// The next message's payload.
    pub fn next_message(&mut self) -> Vec<u8> {
        if self.len == 0 {
            return Vec::new();
        }
        let (start, end, to) = self.next_ranges();
        let wraps = to <= self.next;
        self.next = to;
        if !wraps {
            self.data[start..end].to_vec()
        } else {
            [&self.data[start..], &self.data[..end]].concat()
        }
    }
}

/// splitmix64: a tiny, fixed PRNG, so the sets never change with a dependency's version.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// One element of `items`.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
