//! An arbitrary frame (any FIN and RSV bits, opcode 0–15, masked or not, every length form its length
//! fits, non-minimal ones included) encodes and decodes back to itself; a 64-bit length with its top
//! bit set is refused by the decoder's limit, never allocated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsspec::frame::{DecodeError, Decoder, FrameSpec, LengthEncoding};

const LIMIT: u64 = 1 << 20;

fuzz_target!(|frame: FrameSpec| {
    let wire = frame.encode();
    let mut decoder = Decoder::new(LIMIT);
    decoder.push(&wire);
    let decoded = decoder.next_frame();
    if frame.declared_length.is_some() {
        assert_eq!(decoded, Err(DecodeError::TooLarge { declared: frame.header_length(), limit: LIMIT }));
        return;
    }
    let decoded = decoded.expect("a frame within the limit").expect("the whole frame was pushed");
    let header = &decoded.header;
    let len = frame.payload.len();
    assert_eq!((header.fin, header.rsv, header.opcode, header.mask, header.payload_len), (frame.fin, frame.rsv, frame.opcode, frame.mask, len as u64));
    let minimal = match len {
        0..=125 => LengthEncoding::Bits7,
        126..=0xffff => LengthEncoding::Bits16,
        _ => LengthEncoding::Bits64,
    };
    let form = if frame.length_encoding == LengthEncoding::Minimal { minimal } else { frame.length_encoding };
    assert_eq!(header.length_encoding, form);
    assert_eq!(header.non_minimal_length(), form != minimal);
    assert_eq!(decoded.payload, frame.payload);
    assert_eq!(header.raw.len() + len, wire.len());
    assert_eq!(decoder.buffered(), 0);
});
