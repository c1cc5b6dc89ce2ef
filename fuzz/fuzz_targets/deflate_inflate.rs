//! Arbitrary octets, cut at arbitrary points, into the bounded permessage-deflate inflater: no panic,
//! never more than the limit delivered, pieces of at most `CHUNK` octets, and the same octets and
//! verdict however the input is cut. Then the input compressed by the deflater (with and without
//! context takeover, every window size) inflates back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsspec::{
    extension::permessage_deflate::{
        deflater::MessageDeflater,
        inflater::{MessageInflater, CHUNK},
        params::{DirectionParams, WindowBits},
    },
    fuzz::split::split,
};

const LIMIT: u64 = 1 << 20;

fn inflate(pieces: &[&[u8]], params: DirectionParams) -> (Vec<u8>, Result<(), String>) {
    let mut inflater = MessageInflater::new(params, LIMIT);
    let mut out = Vec::new();
    let mut sink = |piece: &[u8]| {
        assert!(piece.len() <= CHUNK);
        out.extend_from_slice(piece);
    };
    let mut result = pieces.iter().try_for_each(|piece| inflater.push(piece, &mut sink));
    if result.is_ok() {
        result = inflater.finish(&mut sink).map(drop);
    }
    assert!(out.len() as u64 <= LIMIT, "the bound holds");
    (out, result.map_err(|error| error.to_string()))
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, _)) = input.split_first() else { return };
    let params = DirectionParams {
        no_context_takeover: flags & 1 == 1,
        max_window_bits: WindowBits::new(8 + (flags >> 1) % 8).expect("8..=15"),
    };
    let pieces = split(input);
    let whole = pieces.concat();
    let (cut_out, cut_result) = inflate(&pieces, params);
    let (whole_out, whole_result) = inflate(&[&whole], params);
    assert_eq!(cut_result.is_ok(), whole_result.is_ok(), "{cut_result:?} / {whole_result:?}");
    if cut_result.is_ok() {
        assert_eq!(cut_out, whole_out);
    }
    let mut deflater = MessageDeflater::new(params);
    let mut inflater = MessageInflater::new(params, LIMIT);
    for _ in 0..2 {
        let compressed = deflater.compress_message(&whole);
        assert_eq!(inflater.inflate_message(&compressed).as_deref(), Ok(&whole[..]));
    }
});
