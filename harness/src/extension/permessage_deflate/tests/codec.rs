//! Compression and bounded, streaming inflation, against RFC 7692 §7.2.3's worked examples.

use crate::catalog::Payload;
use crate::extension::permessage_deflate::{
    datasets::{Dataset, MessageSlicer},
    deflater::MessageDeflater,
    inflater::{InflateError, MessageInflater, CHUNK},
    params::{DirectionParams, WindowBits},
};

fn params(no_context_takeover: bool, bits: u8) -> DirectionParams {
    DirectionParams { no_context_takeover, max_window_bits: WindowBits::new(bits).unwrap() }
}

const LIMIT: u64 = 64 << 20;

/// `len` zero octets, generated as they are compressed.
fn zeros(len: usize) -> Payload {
    Payload::Pattern { unit: vec![0], len }
}

#[test]
fn rfc7692_examples_compress_and_inflate() {
    let mut deflater = MessageDeflater::new(params(false, 15));
    let mut inflater = MessageInflater::new(params(false, 15), LIMIT);
    // §7.2.3.1 and §7.2.3.2: "Hello" twice with context takeover.
    let first = deflater.compress_message(b"Hello");
    assert_eq!(first, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    let second = deflater.compress_message(b"Hello");
    assert_eq!(second, [0xf2, 0x00, 0x11, 0x00, 0x00]);
    assert_eq!(inflater.inflate_message(&first).unwrap(), b"Hello");
    assert_eq!(inflater.inflate_message(&second).unwrap(), b"Hello");
    // §7.2.3.3: a stored block; §7.2.3.4: a BFINAL block followed by one 00.
    let mut fresh = MessageInflater::new(params(false, 15), LIMIT);
    assert_eq!(fresh.inflate_message(&[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]).unwrap(), b"Hello");
    assert_eq!(fresh.inflate_message(&[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]).unwrap(), b"Hello");
}

#[test]
fn empty_message_is_one_zero_octet() {
    let mut deflater = MessageDeflater::new(params(false, 15));
    assert_eq!(deflater.compress_message(b""), [0x00]);
    let mut inflater = MessageInflater::new(params(false, 15), LIMIT);
    assert_eq!(inflater.inflate_message(&[0x00]).unwrap(), b"");
    // Twice in a row under context takeover: zlib writes nothing for the second sync flush (found by
    // the deflate_inflate fuzz target); the message is still `00`.
    assert_eq!(deflater.compress_message(b""), [0x00]);
    assert_eq!(deflater.compress_stream(zeros(0).stream()), [0x00]);
    assert_eq!(inflater.inflate_message(&[0x00]).unwrap(), b"");
    assert_eq!(inflater.inflate_message(&deflater.compress_message(b"Hello")).unwrap(), b"Hello");
}

#[test]
fn bfinal_message_ends_the_stream_and_the_next_starts_afresh() {
    let mut deflater = MessageDeflater::new(params(false, 15));
    let mut inflater = MessageInflater::new(params(false, 15), LIMIT);
    let payload = deflater.compress_message_final(b"Hello, Hello, Hello");
    let mut out = Vec::new();
    inflater.push(&payload, &mut |piece| out.extend_from_slice(piece)).unwrap();
    let message = inflater.finish(&mut |piece| out.extend_from_slice(piece)).unwrap();
    assert_eq!(out, b"Hello, Hello, Hello");
    assert!(message.final_block);
    assert_eq!(message.after_final_block, 5, "the RFC's trailing 00 and the appended 00 00 ff ff");
    let next = deflater.compress_message(b"Hello again");
    assert_eq!(inflater.inflate_message(&next).unwrap(), b"Hello again");
}

#[test]
fn round_trips_for_every_window_and_takeover_setting() {
    for bits in 8..=15 {
        for no_context_takeover in [false, true] {
            let direction = params(no_context_takeover, bits);
            let mut deflater = MessageDeflater::new(direction);
            let mut inflater = MessageInflater::new(direction, LIMIT);
            let mut slicer = MessageSlicer::new(Dataset::Json, 4096);
            for _ in 0..20 {
                let message = slicer.next_message();
                let compressed = deflater.compress_message(&message);
                if bits == 8 {
                    assert!(compressed.len() > message.len(), "window 8: stored blocks only, never a back-reference");
                } else {
                    assert!(compressed.len() < message.len() * 3 / 4, "JSON compresses, even in 512 octets");
                }
                assert_eq!(inflater.inflate_message(&compressed).unwrap(), message, "bits {bits}, no takeover {no_context_takeover}");
            }
        }
    }
}

/// Autobahn's compressor and inflater are C zlib; so is flate2 in this build (ratchet_deflate selects
/// it). wsspec's zlib-rs messages must inflate there, and C zlib's in wsspec's inflater, for every
/// data set and window, with and without context takeover.
#[test]
fn messages_interoperate_with_c_zlib_both_ways() {
    use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
    for set in Dataset::ALL {
        for (bits, no_context_takeover) in [(15, false), (15, true), (9, false), (12, true)] {
            let direction = params(no_context_takeover, bits);
            let (mut ours, mut theirs) = (MessageDeflater::new(direction), MessageInflater::new(direction, LIMIT));
            let mut c_deflate = Compress::new_with_window_bits(Compression::default(), false, bits);
            let mut c_inflate = Decompress::new_with_window_bits(false, 15);
            let mut slicer = MessageSlicer::new(set, 40_000);
            for _ in 0..4 {
                let message = slicer.next_message();
                let mut data = ours.compress_message(&message);
                data.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
                let mut inflated = Vec::with_capacity(message.len() * 2);
                c_inflate.decompress_vec(&data, &mut inflated, FlushDecompress::Sync).unwrap();
                assert!(inflated == message, "{} bits {bits}: C zlib inflates wsspec's message", set.name());
                let mut compressed = Vec::with_capacity(message.len() * 2);
                c_deflate.compress_vec(&message, &mut compressed, FlushCompress::Sync).unwrap();
                assert!(compressed.ends_with(&[0x00, 0x00, 0xff, 0xff]));
                compressed.truncate(compressed.len() - 4);
                assert!(theirs.inflate_message(&compressed).unwrap() == message, "{} bits {bits}: wsspec inflates C zlib's", set.name());
                if no_context_takeover {
                    c_deflate.reset();
                    c_inflate.reset(false);
                }
            }
        }
    }
}

#[test]
fn zlib_refuses_window_bits_8_for_raw_deflate() {
    assert!(std::panic::catch_unwind(|| zlib_rs::Deflate::new(6, false, 8)).is_err());
    assert!(std::panic::catch_unwind(|| zlib_rs::Deflate::new(6, false, 9)).is_ok());
}

#[test]
fn no_context_takeover_resets_the_compressor_and_shows_a_peer_that_kept_context() {
    let mut resetting = MessageDeflater::new(params(true, 15));
    assert_eq!(resetting.compress_message(b"Hello"), resetting.compress_message(b"Hello"));
    // A peer that promised no context takeover but used it: the fresh window cannot resolve the
    // back-reference of RFC 7692 §7.2.3.2's second message.
    let mut inflater = MessageInflater::new(params(true, 15), LIMIT);
    assert_eq!(inflater.inflate_message(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(), b"Hello");
    let error = inflater.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00]).unwrap_err();
    assert!(matches!(error, InflateError::Corrupt { .. }), "{error:?}");
}

#[test]
fn corrupt_data_is_an_error() {
    let mut inflater = MessageInflater::new(params(false, 15), LIMIT);
    assert!(matches!(inflater.inflate_message(&[0xff, 0xff, 0xff, 0xff]), Err(InflateError::Corrupt { .. })));
    // After the error the inflater starts clean.
    assert_eq!(inflater.inflate_message(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(), b"Hello");
}

#[test]
fn decompression_bomb_stops_at_the_limit_without_allocating() {
    let bomb = MessageDeflater::with_level(params(false, 15), 9).compress_stream(zeros(256 << 20).stream());
    assert!(bomb.len() < 300 << 10, "256 MiB of zeros compress to {} octets", bomb.len());
    let limit = 1 << 20;
    let mut inflater = MessageInflater::new(params(false, 15), limit);
    let (mut delivered, mut largest) = (0u64, 0usize);
    let error = inflater
        .push(&bomb, &mut |piece| {
            delivered += piece.len() as u64;
            largest = largest.max(piece.len());
        })
        .unwrap_err();
    assert_eq!(error, InflateError::TooLarge { limit });
    assert!(delivered <= limit, "never more than the limit reaches the caller: {delivered}");
    assert!(largest <= CHUNK);
    let small = MessageDeflater::new(params(false, 15)).compress_stream(zeros(3 << 20).stream());
    assert_eq!(MessageInflater::new(params(false, 15), LIMIT).inflate_message(&small).unwrap(), vec![0; 3 << 20]);
    // The limit is per message: a message at the limit passes.
    let at_limit = MessageDeflater::new(params(false, 15)).compress_stream(zeros(limit as usize).stream());
    assert_eq!(inflater.inflate_message(&at_limit).unwrap().len() as u64, limit);
}

#[test]
fn streaming_gives_the_same_bytes_at_every_split_point() {
    let message = MessageSlicer::new(Dataset::Html, 3000).next_message();
    let compressed = MessageDeflater::new(params(false, 15)).compress_message(&message);
    for split in 0..=compressed.len() {
        let mut inflater = MessageInflater::new(params(false, 15), LIMIT);
        let mut out = Vec::new();
        inflater.push(&compressed[..split], &mut |piece| out.extend_from_slice(piece)).unwrap();
        inflater.push(&compressed[split..], &mut |piece| out.extend_from_slice(piece)).unwrap();
        inflater.finish(&mut |piece| out.extend_from_slice(piece)).unwrap();
        assert_eq!(out, message, "split at {split}");
    }
    // One octet at a time, as 1-byte fragments arrive.
    let mut inflater = MessageInflater::new(params(false, 15), LIMIT);
    let mut out = Vec::new();
    for octet in compressed.chunks(1) {
        inflater.push(octet, &mut |piece| out.extend_from_slice(piece)).unwrap();
    }
    inflater.finish(&mut |piece| out.extend_from_slice(piece)).unwrap();
    assert_eq!(out, message);
}

#[test]
fn large_messages_come_out_in_bounded_pieces() {
    let message = MessageSlicer::new(Dataset::Pdf, 1 << 20).next_message();
    let compressed = MessageDeflater::new(params(false, 15)).compress_message(&message);
    let mut inflater = MessageInflater::new(params(false, 15), LIMIT);
    let (mut out, mut largest) = (Vec::new(), 0);
    inflater
        .push(&compressed, &mut |piece| {
            largest = largest.max(piece.len());
            out.extend_from_slice(piece);
        })
        .unwrap();
    inflater.finish(&mut |piece| out.extend_from_slice(piece)).unwrap();
    assert!(largest <= CHUNK);
    assert_eq!(out, message);
}

#[test]
fn a_message_that_stops_inside_a_block_is_an_error_at_its_end() {
    let mut inflater = MessageInflater::new(params(false, 15), LIMIT);
    // An RSV1 frame with no payload: the tail is read as a stored block's header and lengths.
    assert!(matches!(inflater.inflate_message(&[]), Err(InflateError::Corrupt { .. })));
    // 'Hello' cut inside its fixed-Huffman block, and cut inside a stored block's data.
    assert!(matches!(inflater.inflate_message(&[0xf2, 0x48, 0xcd]), Err(InflateError::Corrupt { .. })));
    assert!(matches!(inflater.inflate_message(&[0x00, 0x05, 0x00, 0xfa, 0xff, b'H', b'e']), Err(InflateError::Corrupt { .. })));
    // Each error leaves the inflater clean; whole messages, with context taken over, still inflate.
    assert_eq!(inflater.inflate_message(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(), b"Hello");
    assert_eq!(inflater.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00]).unwrap(), b"Hello");
    // Every message of a real stream with context takeover passes the boundary check.
    let mut deflater = MessageDeflater::new(params(false, 15));
    let mut slicer = MessageSlicer::new(Dataset::Json, 4096);
    for _ in 0..50 {
        let message = slicer.next_message();
        assert_eq!(inflater.inflate_message(&deflater.compress_message(&message)).unwrap(), message);
    }
}

#[test]
fn a_streamed_message_is_the_message_compressed_whole() {
    let content = Payload::Random { len: 200_000, seed: 7 };
    let streamed = MessageDeflater::new(params(false, 15)).compress_stream(content.stream());
    assert_eq!(streamed, MessageDeflater::new(params(false, 15)).compress_message(&content.bytes()));
    assert_eq!(MessageInflater::new(params(false, 15), LIMIT).inflate_message(&streamed).unwrap(), content.bytes());
}
