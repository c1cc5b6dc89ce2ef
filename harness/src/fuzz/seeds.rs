//! Seed corpora for the libFuzzer targets in `fuzz/`, generated rather than kept by hand: each
//! catalog case's frames seed the frame targets, each catalog file the loader, and answers built by
//! wsspec's own handshake code the handshake parser.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs, io,
    path::Path,
};

mod wire;

use super::{sequence::frame_input, split, Sequence};
use crate::{
    catalog::{sha1_of, Action, Case, Catalog, MaskDef, Role, WriteMode},
    frame::{FrameSpec, OpCode},
    handshake,
};

/// Every target in `fuzz/fuzz_targets`.
pub const TARGETS: [&str; 7] = ["case_file", "frame_parse", "frame_roundtrip", "handshake", "receiver", "tungstenite_diff", "utf8_incremental"];

/// The key the handshake target checks answers against (RFC 6455 §1.3's example).
pub const HANDSHAKE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The mask key where a case leaves the key to wsspec, so the seeds are the same on every run.
const SEED_MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Payloads above this make a case useless as a seed (the 9.x performance cases).
const MAX_SEED_PAYLOAD: usize = 0xffff;

/// The seeds of every target, generated from `catalog` and its source files.
pub fn generate(catalog: &Catalog, sources: &[(String, String)]) -> BTreeMap<&'static str, BTreeSet<Vec<u8>>> {
    let mut seeds: BTreeMap<&'static str, BTreeSet<Vec<u8>>> = TARGETS.iter().map(|t| (*t, BTreeSet::new())).collect();
    let mut add = |target: &'static str, seed: Vec<u8>| {
        seeds.get_mut(target).expect("a known target").insert(seed);
    };
    for case in catalog.cases.iter().filter(|c| c.applies_to(Role::Server)) {
        let wire = wire::case_wire(case);
        if !wire.is_empty() {
            add_wire(&mut add, wire);
        }
        let Some(sent) = case_frames(case) else { continue };
        // The receiver target reads a first byte for the sender: 1 is a client, as these frames are.
        add("receiver", [vec![1], split::whole(&sent.wire)].concat());
        for frame in &sent.frames {
            add("frame_roundtrip", frame_input(frame));
            let text = match frame.opcode {
                OpCode::Text | OpCode::Continuation => Some(&frame.payload[..]),
                OpCode::Close => frame.payload.get(2..),
                _ => None,
            };
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                add("utf8_incremental", split::whole(text));
            }
        }
        if !sent.frames.is_empty() {
            add("tungstenite_diff", Sequence { frames: sent.frames, write: sent.write, deflate: false }.to_input());
        }
    }
    for wire in wire::edge_wires() {
        add_wire(&mut add, wire);
    }
    for (_, text) in sources {
        for seed in case_file_seeds(text) {
            add("case_file", seed.into_bytes());
        }
    }
    for answer in handshake_answers() {
        add("handshake", answer);
    }
    seeds
}

/// A `frame_parse` seed, whole, cut in two halves, and cut into four pieces, the last a few octets
/// from the end: the decoder's paths between reads, its buffer growing, and compacted once most
/// of it is consumed.
fn add_wire(add: &mut impl FnMut(&'static str, Vec<u8>), wire: Vec<u8>) {
    add("frame_parse", [&[1, 128][..], &wire].concat());
    add("frame_parse", [&[3, 64, 128, 255][..], &wire].concat());
    add("frame_parse", split::whole(&wire));
}

/// Writes the seeds as `dir/<target>/<sha1 of the seed>`; returns how many each target got.
pub fn write(catalog: &Catalog, sources: &[(String, String)], dir: &Path) -> io::Result<Vec<(&'static str, usize)>> {
    let mut counts = Vec::new();
    for (target, seeds) in generate(catalog, sources) {
        let target_dir = dir.join(target);
        fs::create_dir_all(&target_dir)?;
        for seed in &seeds {
            fs::write(target_dir.join(hex::encode(sha1_of(seed))), seed)?;
        }
        counts.push((target, seeds.len()));
    }
    Ok(counts)
}

/// What a case sends: its frames, all its bytes (raw steps included) and how the first step writes.
struct Sent {
    frames: Vec<FrameSpec>,
    wire: Vec<u8>,
    write: WriteMode,
}

/// `None` for a case with a payload too big to be a useful seed.
fn case_frames(case: &Case) -> Option<Sent> {
    let mut sent = Sent { frames: Vec::new(), wire: Vec::new(), write: case.steps.first().map_or(WriteMode::Together, |s| s.write) };
    for step in &case.steps {
        let mut frames = Vec::new();
        match &step.action {
            Action::Frames(defs) => {
                for def in defs {
                    if def.payload.len() > MAX_SEED_PAYLOAD {
                        return None;
                    }
                    let mut frame = def.to_spec(Role::Server);
                    if matches!(def.mask, MaskDef::RoleDefault | MaskDef::Random) {
                        frame.mask = Some(SEED_MASK);
                    }
                    frames.push(frame);
                }
            }
            Action::Message(message) => {
                if message.payload.len() > MAX_SEED_PAYLOAD {
                    return None;
                }
                let payload = message.payload.bytes();
                let ranges = message.fragments();
                for (i, range) in ranges.iter().enumerate() {
                    let opcode = if i == 0 { message.opcode } else { OpCode::Continuation };
                    let mut frame = FrameSpec::new(opcode, &payload[range.clone()]).masked(SEED_MASK);
                    frame.fin = i + 1 == ranges.len();
                    frames.push(frame);
                }
            }
            Action::Close(close) => frames.push(FrameSpec::new(OpCode::Close, close.payload()).masked(SEED_MASK)),
            Action::Raw(payload) if payload.len() <= MAX_SEED_PAYLOAD => sent.wire.extend(payload.bytes()),
            Action::Raw(_) => return None,
            Action::Pause(_) => {}
        }
        for _ in 0..step.repeat.min(16) {
            sent.wire.extend(frames.iter().flat_map(FrameSpec::encode));
            sent.frames.extend(frames.iter().cloned());
        }
    }
    Some(sent)
}

/// A catalog file cut into one file per `[[case]]` or `[[family]]`, each with the file's `[section]`:
/// small seeds the loader parses fast. The first keeps the file's text as it is; the others leave
/// out what the first already gives the parser (comment lines, blank lines, the section's
/// `subsections`), so each is little more than its case: TOML parsing is most of what a seed
/// costs the `case_file` target, in proportion to its length.
fn case_file_seeds(text: &str) -> Vec<String> {
    let mut blocks = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.starts_with("[[case]]") || line.starts_with("[[family]]") {
            blocks.push(String::new());
        }
        blocks.last_mut().expect("one block at least").push_str(line);
    }
    let head = blocks.remove(0);
    if blocks.is_empty() {
        return vec![head];
    }
    let short_head = without_subsections(&without_comments(&head));
    blocks
        .into_iter()
        .enumerate()
        .map(|(i, block)| match i {
            0 => format!("{head}{}", first_row_only(&block)),
            _ => format!("{short_head}{}", without_comments(&first_row_only(&block))),
        })
        .collect()
}

/// `text` without its comment lines and blank lines (the catalog has no multi-line strings, so a
/// line starting with `#` is a comment).
fn without_comments(text: &str) -> String {
    text.split_inclusive('\n').filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#')).collect()
}

/// A section head without its `subsections` (an inline table, or a `[section.subsections]` table
/// running to the next header): the loader keeps them for reports only.
fn without_subsections(head: &str) -> String {
    let mut in_table = false;
    let mut out = String::new();
    for line in head.split_inclusive('\n') {
        if line.starts_with('[') {
            in_table = line.starts_with("[section.subsections]");
        }
        if !in_table && !line.starts_with("subsections = ") {
            out.push_str(line);
        }
    }
    out
}

/// A family block with only the first row of a multi-line `params` array: sections 12 and 13 have
/// a hundred rows of thousand-message cases, and one such seed took seconds to load, which held
/// `case_file` to a few executions a second. One row covers the template as well.
fn first_row_only(block: &str) -> String {
    let (mut out, mut in_params, mut rows) = (String::new(), false, 0);
    for line in block.split_inclusive('\n') {
        if in_params && line.trim() == "]" {
            in_params = false;
        } else if in_params {
            rows += 1;
            if rows > 1 {
                continue;
            }
        } else if line.starts_with("params = [") && line.trim() == "params = [" {
            (in_params, rows) = (true, 0);
        }
        out.push_str(line);
    }
    out
}

/// Opening-handshake answers and a request, as wsspec's handshake code writes them, plus the common
/// ways a server gets its answer wrong.
fn handshake_answers() -> Vec<Vec<u8>> {
    let accept = handshake::accept_key(HANDSHAKE_KEY);
    let good = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
    let mut with_frame = good.clone().into_bytes();
    with_frame.extend(FrameSpec::new(OpCode::Text, "Hello").encode());
    let answers = [
        good.replace("Upgrade: websocket", "Upgrade: WebSocket").replace("Connection: Upgrade", "Connection: keep-alive, Upgrade"),
        good.replace(&accept, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        good.replace("Upgrade: websocket\r\n", ""),
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
        "HTTP/1.0 101 Switching Protocols\r\n\r\n".into(),
        String::from_utf8(handshake::RequestSpec::websocket("127.0.0.1:9001", "/", HANDSHAKE_KEY).encode()).expect("the request is ASCII"),
        good,
    ];
    answers.into_iter().map(String::into_bytes).chain([with_frame]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::LengthEncoding;

    #[test]
    fn every_target_gets_seeds_from_the_embedded_catalog() {
        let catalog = Catalog::embedded().expect("the embedded catalog loads");
        let seeds = generate(&catalog, &Catalog::embedded_sources());
        for (target, seeds) in &seeds {
            assert!(seeds.len() >= 5, "{target}: {} seeds", seeds.len());
        }
        assert!(seeds["tungstenite_diff"].len() > 100, "one per case with frames");
    }

    #[test]
    fn each_case_file_seed_is_a_loadable_file_of_one_case_or_family() {
        for (name, text) in Catalog::embedded_sources() {
            let seeds = case_file_seeds(&text);
            assert_eq!(seeds.len(), text.matches("\n[[case]]").count() + text.matches("\n[[family]]").count(), "{name}");
            for seed in seeds {
                let catalog = Catalog::from_sources([(name.clone(), seed)]).unwrap_or_else(|e| panic!("{e}"));
                assert!(!catalog.cases.is_empty());
            }
        }
    }

    #[test]
    fn case_seeds_decode_to_the_cases_frames() {
        let catalog = Catalog::embedded().expect("the embedded catalog loads");
        let case = catalog.case("5.6").expect("case 5.6: text fragments with a ping between them");
        let sent = case_frames(case).expect("small payloads");
        let decoded = Sequence::decode(&Sequence { frames: sent.frames.clone(), write: sent.write, deflate: false }.to_input());
        assert_eq!(decoded.frames, sent.frames);
        assert_eq!(decoded.frames.iter().map(|f| f.opcode).collect::<Vec<_>>(), [OpCode::Text, OpCode::Ping, OpCode::Continuation]);
    }

    #[test]
    fn frame_parse_seeds_keep_every_header_and_few_payload_octets() {
        let catalog = Catalog::embedded().expect("the embedded catalog loads");
        let seeds = &generate(&catalog, &Catalog::embedded_sources())["frame_parse"];
        // The cut points and the frame that crosses the budget, at most a header and PAYLOAD_KEPT.
        let bound = 4 + wire::SEED_BUDGET + crate::frame::RawHeader::MAX + wire::PAYLOAD_KEPT;
        assert!(seeds.iter().all(|s| s.len() <= bound), "a seed over {bound} octets");
        // 9.1.6: a 16 MiB text message, cut after its header (64-bit length form) and the kept octets.
        let wire = wire::case_wire(catalog.case("9.1.6").expect("case 9.1.6"));
        let (header, header_len) = crate::frame::parse_header(&wire).expect("a whole header");
        assert_eq!((header.payload_len, header.length_encoding, header.mask), (16 << 20, LengthEncoding::Bits64, Some(SEED_MASK)));
        assert_eq!(wire.len(), header_len + wire::PAYLOAD_KEPT);
        assert!(seeds.contains(&split::whole(&wire)));
        // Every length form, masked and not, among the seeds' first headers.
        let forms: BTreeSet<_> = seeds.iter().filter_map(|s| crate::frame::parse_header(&s[1..]).map(|(h, _)| (format!("{:?}", h.length_encoding), h.mask.is_some()))).collect();
        assert_eq!(forms.len(), 6, "{forms:?}");
    }

    #[test]
    fn case_file_seeds_after_the_first_leave_out_comments_and_subsections() {
        let text = "# a file\n[section]\nid = \"1\"\ntitle = \"T\"\nsubsections = { \"1.1\" = \"S\" }\n\n[[case]]\n# one\nid = \"1.1.1\"\n\n[[case]]\n# two\nid = \"1.1.2\"\n";
        let seeds = case_file_seeds(text);
        assert_eq!(seeds[0], "# a file\n[section]\nid = \"1\"\ntitle = \"T\"\nsubsections = { \"1.1\" = \"S\" }\n\n[[case]]\n# one\nid = \"1.1.1\"\n\n");
        assert_eq!(seeds[1], "[section]\nid = \"1\"\ntitle = \"T\"\n[[case]]\nid = \"1.1.2\"\n");
        let table = "[section]\nid = \"6\"\n\n[section.subsections]\n\"6.1\" = \"S\"\n\n[[case]]\n";
        assert_eq!(without_subsections(table), "[section]\nid = \"6\"\n\n[[case]]\n");
    }

    #[test]
    fn a_family_seed_keeps_its_first_row() {
        let block = "[[family]]\nparams = [\n  { n = 1 },\n  { n = 2 },\n]\nid = \"1.{n}\"\n";
        assert_eq!(first_row_only(block), "[[family]]\nparams = [\n  { n = 1 },\n]\nid = \"1.{n}\"\n");
    }
}
