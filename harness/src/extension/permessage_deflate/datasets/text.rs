//! Generators of the three text-like sets: JSON records, a play in verse, an HTML page.

use super::SplitMix;

pub(super) const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "that", "it", "with", "as", "for", "his", "he", "was", "on", "is", "by",
    "at", "this", "from", "but", "not", "all", "be", "had", "which", "have", "or", "one", "you", "were",
    "her", "they", "their", "an", "my", "so", "what", "there", "when", "no", "if", "we", "more", "would",
    "out", "up", "into", "who", "time", "man", "old", "night", "world", "spirit", "heaven", "earth",
    "light", "dark", "soul", "heart", "book", "learned", "doctor", "student", "devil", "bargain", "youth",
    "love", "maiden", "garden", "church", "city", "gate", "tower", "study", "lamp", "moon", "star",
    "wisdom", "folly", "knowledge", "power", "nature", "life", "death", "dream", "song", "wine", "cellar",
    "witch", "kitchen", "mountain", "forest", "cavern", "stream", "wind", "fire", "water", "shadow",
    "voice", "choir", "angel", "word", "deed", "sense", "force", "labour", "pleasure", "sorrow", "joy",
    "hope", "fear", "faith", "doubt", "truth", "beauty", "shall", "must", "may", "never", "ever", "still",
    "again", "yet", "here", "now", "then", "above", "below", "within", "without", "upon", "through",
    "seek", "find", "know", "feel", "see", "hear", "speak", "sing", "dance", "wander", "rest", "strive",
    "bright", "silent", "ancient", "eternal", "restless", "gentle", "bitter", "sweet", "golden", "empty",
];

/// `least` to `least + spread - 1` words.
fn sentence(rng: &mut SplitMix, least: usize, spread: usize) -> String {
    let words = least + rng.below(spread);
    let mut out = String::new();
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.pick(WORDS));
    }
    out
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Fills `out` up to exactly `len` octets: `head`, then ASCII words cut to fit, then `tail`.
fn finish(mut out: String, head: &str, tail: &str, len: usize, rng: &mut SplitMix) -> Vec<u8> {
    out.push_str(head);
    let room = len.checked_sub(out.len() + tail.len()).expect("the generator leaves room for its last piece");
    let mut filler = String::new();
    while filler.len() < room {
        filler.push_str(rng.pick(WORDS));
        filler.push(' ');
    }
    filler.truncate(room);
    out.push_str(&filler);
    out.push_str(tail);
    out.into_bytes()
}

/// JSON: an array of records like a REST API's dump, indented by two spaces, ASCII only.
pub(super) fn json(len: usize) -> Vec<u8> {
    let mut rng = SplitMix::new(0x6a73_6f6e);
    let mut out = String::from("[\n");
    let mut id = 0u32;
    while out.len() + 1200 < len {
        id += 1;
        let first = capitalized(rng.pick(WORDS));
        let last = capitalized(rng.pick(WORDS));
        let tags: Vec<String> = (0..1 + rng.below(6)).map(|_| format!("\"{}\"", rng.pick(WORDS))).collect();
        out.push_str(&format!(
            "  {{\n    \"id\": {id},\n    \"guid\": \"{:016x}-{:04x}\",\n    \"isActive\": {},\n    \"balance\": \"${},{:03}.{:02}\",\n    \
             \"age\": {},\n    \"name\": \"{first} {last}\",\n    \"email\": \"{}.{}@{}.com\",\n    \"about\": \"{}.\",\n    \
             \"registered\": \"20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}\",\n    \"latitude\": {}.{:06},\n    \"longitude\": -{}.{:06},\n    \
             \"tags\": [{}],\n    \"friends\": [{{\"id\": {}, \"name\": \"{} {}\"}}]\n  }},\n",
            rng.next_u64(),
            rng.below(0x10000),
            rng.below(2) == 1,
            1 + rng.below(9),
            rng.below(1000),
            rng.below(100),
            18 + rng.below(60),
            first.to_lowercase(),
            last.to_lowercase(),
            rng.pick(WORDS),
            capitalized(&sentence(&mut rng, 8, 20)),
            rng.below(25),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(90),
            rng.below(1_000_000),
            rng.below(180),
            rng.below(1_000_000),
            tags.join(", "),
            rng.below(100),
            capitalized(rng.pick(WORDS)),
            capitalized(rng.pick(WORDS)),
        ));
    }
    finish(out, &format!("  {{\n    \"id\": {},\n    \"about\": \"", id + 1), "\"\n  }\n]\n", len, &mut rng)
}

/// A play in verse, Gutenberg style: speakers in capitals, lines under 70 columns, CRLF.
pub(super) fn prose(len: usize) -> Vec<u8> {
    const SPEAKERS: &[&str] = &["FAUST", "MEPHISTOPHELES", "WAGNER", "MARGARET", "MARTHA", "CHORUS", "STUDENT"];
    let mut rng = SplitMix::new(0x7072_6f73);
    let mut out = String::from("The Project of a Tragedy in Verse\r\n\r\nA Generated Text for Compression Tests\r\n\r\n");
    let mut scene = 0;
    while out.len() + 1000 < len {
        if rng.below(40) == 0 {
            scene += 1;
            out.push_str(&format!("\r\n\r\nSCENE {scene}. {}.\r\n\r\n", capitalized(&sentence(&mut rng, 3, 1))));
        }
        out.push_str(rng.pick(SPEAKERS));
        out.push_str(".\r\n");
        for _ in 0..2 + rng.below(7) {
            let line = capitalized(&sentence(&mut rng, 4, 6));
            out.push_str(&line);
            out.push_str(rng.pick(&[",", ";", ".", "!", "?", ""]));
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
    }
    finish(out, "CHORUS.\r\n", ".\r\n\r\nEND\r\n", len, &mut rng)
}

/// The 26 characters outside ASCII that the page holds: 25 of two octets and one of three, as in
/// Autobahn's `data1.html` (263,647 octets, 263,620 characters).
const NON_ASCII: [char; 26] = [
    'é', 'ü', 'ö', 'ä', 'ß', 'ñ', 'ç', 'à', 'è', 'ì', 'ò', 'ù', 'â', 'ê', 'î', 'ô', 'û', 'ë', 'ï', 'å', 'ø', 'æ',
    'õ', 'ã', 'á', '€',
];

/// An HTML page: a head with styles, then articles of headings, paragraphs, links and lists.
pub(super) fn html(len: usize) -> Vec<u8> {
    let mut rng = SplitMix::new(0x6874_6d6c);
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Generated page</title>\n\
         <style>\nbody { font-family: sans-serif; margin: 0 auto; max-width: 60em; }\n.item { border-bottom: 1px solid #ccc; }\n\
         </style>\n</head>\n<body>\n<div id=\"content\">\n",
    );
    let mut non_ascii = NON_ASCII.iter();
    let mut item = 0;
    while out.len() + 1500 < len {
        item += 1;
        let special = if item % 7 == 0 { non_ascii.next().map(|c| c.to_string()).unwrap_or_default() } else { String::new() };
        out.push_str(&format!(
            "<div class=\"item\" id=\"item-{item}\">\n  <h2><a href=\"/{}/{}/{item}.html\">{}</a></h2>\n  <p class=\"meta\">Posted by \
             <span class=\"author\">{}{special}</span> in <a href=\"/tag/{}\">{}</a></p>\n  <p>{}.</p>\n  <ul>\n",
            rng.pick(WORDS),
            rng.pick(WORDS),
            capitalized(&sentence(&mut rng, 3, 5)),
            capitalized(rng.pick(WORDS)),
            rng.pick(WORDS),
            rng.pick(WORDS),
            capitalized(&sentence(&mut rng, 20, 40)),
        ));
        for _ in 0..1 + rng.below(4) {
            out.push_str(&format!("    <li>{}</li>\n", sentence(&mut rng, 2, 6)));
        }
        out.push_str("  </ul>\n</div>\n");
    }
    assert!(non_ascii.next().is_none(), "the page holds all 26 non-ASCII characters");
    finish(out, "<p class=\"footer\">", "</p>\n</div>\n</body>\n</html>\n", len, &mut rng)
}
