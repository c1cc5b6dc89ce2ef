//! Generators of the two binary sets: an 8-bit grey bitmap and a PDF-like document.

use super::SplitMix;

/// A 512×512 8-bit BMP with a grey palette: smooth shapes plus a little noise, like a photograph.
/// 14 (file header) + 40 (info header) + 1,024 (palette) + 262,144 (pixels) = 263,222 octets.
pub(super) fn bitmap() -> Vec<u8> {
    const SIDE: u32 = 512;
    const PIXELS_AT: u32 = 14 + 40 + 1024;
    let size = PIXELS_AT + SIDE * SIDE;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(b"BM");
    for value in [size, 0, PIXELS_AT] {
        out.extend_from_slice(&value.to_le_bytes());
    }
    for value in [40, SIDE, SIDE] {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    for value in [0, SIDE * SIDE, 2835, 2835, 256, 256] {
        out.extend_from_slice(&value.to_le_bytes());
    }
    for grey in 0..=255u8 {
        out.extend_from_slice(&[grey, grey, grey, 0]);
    }
    let mut rng = SplitMix::new(0x0062_6d70);
    let centres = [(150i64, 180i64, 90i64), (340, 300, 140), (260, 420, 60), (420, 120, 80)];
    for y in 0..SIDE as i64 {
        for x in 0..SIDE as i64 {
            let mut value = 40 + (x + y) / 6;
            for &(cx, cy, r) in &centres {
                let d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                if d2 < r * r {
                    value += 90 * (r * r - d2) / (r * r);
                }
            }
            value += (rng.below(9) as i64) - 4;
            out.push(value.clamp(0, 255) as u8);
        }
    }
    out
}

/// A PDF-like document: numbered objects holding page text operators, alternating with streams of
/// incompressible octets (what a PDF's Flate-compressed images and fonts look like), then an xref
/// table and a trailer. Filled to exactly `len` octets.
pub(super) fn pdf(len: usize) -> Vec<u8> {
    let mut rng = SplitMix::new(0x0070_6466);
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = 0;
    let trailer_room = 40_000;
    while out.len() + trailer_room < len {
        object += 1;
        offsets.push(out.len());
        if object % 3 == 0 {
            let size = 2000 + rng.below(14_000);
            out.extend_from_slice(format!("{object} 0 obj\n<< /Length {size} /Filter /FlateDecode >>\nstream\n").as_bytes());
            out.extend((0..size).map(|_| rng.next_u64() as u8));
            out.extend_from_slice(b"\nendstream\nendobj\n");
        } else {
            let mut text = String::from("BT\n/F1 10 Tf\n");
            for line in 0..20 + rng.below(40) {
                let words: Vec<&str> = (0..6 + rng.below(8)).map(|_| rng.pick(super::text::WORDS)).collect();
                text.push_str(&format!("1 0 0 1 72 {} Tm ({}) Tj\n", 720 - line * 12, words.join(" ")));
            }
            text.push_str("ET\n");
            out.extend_from_slice(format!("{object} 0 obj\n<< /Length {} >>\nstream\n{text}endstream\nendobj\n", text.len()).as_bytes());
        }
    }
    let xref_at = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", object + 1).as_bytes());
    for offset in &offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    let tail = format!("trailer\n<< /Size {} >>\nstartxref\n{xref_at}\n%%EOF\n", object + 1);
    let room = len - out.len() - tail.len();
    out.extend_from_slice(b"%");
    out.extend((1..room).map(|i| match i % 64 { 0 => b'\n', 1 => b'%', _ => b'x' }));
    out.extend_from_slice(tail.as_bytes());
    out
}
