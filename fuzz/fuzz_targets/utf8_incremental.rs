//! wsspec's incremental UTF-8 validator against `std::str::from_utf8`, over arbitrary cut points: the
//! same verdict, and a failure reported in exactly the piece that holds the first byte no
//! continuation can make valid (what fail-fast means for 6.4.x).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsspec::{fuzz::split::split, utf8::Utf8Validator};

/// The index of the first byte after which `bytes` can no longer become UTF-8, if there is one.
fn first_impossible(bytes: &[u8]) -> Option<usize> {
    let broken = |len: usize| std::str::from_utf8(&bytes[..len]).is_err_and(|e| e.error_len().is_some());
    if !broken(bytes.len()) {
        return None;
    }
    // Once a prefix is broken every longer one is: search for the shortest.
    let (mut good, mut bad) = (0, bytes.len());
    while bad - good > 1 {
        let mid = (good + bad) / 2;
        if broken(mid) {
            bad = mid;
        } else {
            good = mid;
        }
    }
    Some(bad - 1)
}

fuzz_target!(|input: &[u8]| {
    let pieces = split(input);
    let whole = pieces.concat();
    let mut validator = Utf8Validator::new();
    let mut start = 0;
    let mut failed_piece = None;
    for piece in &pieces {
        if validator.feed(piece).is_err() {
            failed_piece = Some(start..start + piece.len());
            break;
        }
        start += piece.len();
    }
    let valid = failed_piece.is_none() && validator.finish().is_ok();
    assert_eq!(valid, std::str::from_utf8(&whole).is_ok());
    match (first_impossible(&whole), failed_piece) {
        (None, None) => {}
        (Some(byte), Some(piece)) => assert!(piece.contains(&byte), "byte {byte} is impossible, but the piece {piece:?} failed"),
        (byte, piece) => panic!("first impossible byte {byte:?}, failing piece {piece:?}"),
    }
});
