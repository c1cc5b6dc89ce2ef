use super::*;
use rstest::rstest;

fn decode_all(bytes: &[u8], split: usize) -> Vec<Frame> {
    let mut decoder = Decoder::new(1 << 24);
    let mut frames = Vec::new();
    for chunk in bytes.chunks(split.max(1)) {
        decoder.push(chunk);
        while let Some(frame) = decoder.next_frame().unwrap() {
            frames.push(frame);
        }
    }
    assert_eq!(decoder.buffered(), 0);
    frames
}

#[rstest]
#[case::empty_text(FrameSpec::new(OpCode::Text, b"".to_vec()))]
#[case::masked_text(FrameSpec::new(OpCode::Text, b"Hello".to_vec()).masked([0x37, 0xfa, 0x21, 0x3d]))]
#[case::len_125(FrameSpec::new(OpCode::Binary, vec![7u8; 125]))]
#[case::len_126(FrameSpec::new(OpCode::Binary, vec![7u8; 126]).masked([1, 2, 3, 4]))]
#[case::len_65535(FrameSpec::new(OpCode::Binary, vec![7u8; 65535]))]
#[case::len_65536(FrameSpec::new(OpCode::Binary, vec![7u8; 65536]).masked([9, 9, 9, 9]))]
#[case::reserved_opcode(FrameSpec { rsv: 0b101, fin: false, ..FrameSpec::new(OpCode::ReservedControl(0xB), b"x".to_vec()) })]
#[case::non_minimal_16(FrameSpec { length_encoding: LengthEncoding::Bits16, ..FrameSpec::new(OpCode::Text, b"abc".to_vec()) })]
#[case::non_minimal_64(FrameSpec { length_encoding: LengthEncoding::Bits64, ..FrameSpec::new(OpCode::Ping, b"abc".to_vec()).masked([0; 4]) })]
fn round_trips_at_every_split(#[case] spec: FrameSpec) {
    let bytes = spec.encode();
    for split in [1, 2, 3, 5, 13, bytes.len()] {
        let frames = decode_all(&bytes, split);
        assert_eq!(frames.len(), 1);
        let frame = &frames[0];
        assert_eq!(frame.payload, spec.payload);
        assert_eq!(frame.header.opcode, spec.opcode);
        assert_eq!((frame.header.fin, frame.header.rsv, frame.header.mask), (spec.fin, spec.rsv, spec.mask));
        let expect_encoding = match spec.length_encoding {
            LengthEncoding::Minimal => frame.header.length_encoding,
            forced => forced,
        };
        assert_eq!(frame.header.length_encoding, expect_encoding);
        assert_eq!(frame.header.raw.len() + frame.payload.len(), bytes.len());
    }
}

#[test]
fn rfc_examples() {
    // RFC 6455 §5.7
    assert_eq!(FrameSpec::new(OpCode::Text, b"Hello".to_vec()).encode(), b"\x81\x05Hello");
    let masked = FrameSpec::new(OpCode::Text, b"Hello".to_vec()).masked([0x37, 0xfa, 0x21, 0x3d]).encode();
    assert_eq!(masked, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    assert_eq!(&FrameSpec::new(OpCode::Binary, vec![0; 256]).encode()[..4], [0x82, 0x7e, 0x01, 0x00]);
    assert_eq!(
        &FrameSpec::new(OpCode::Binary, vec![0; 65536]).encode()[..10],
        [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]
    );
}

#[test]
fn non_minimal_lengths_are_reported() {
    let spec = FrameSpec { length_encoding: LengthEncoding::Bits16, ..FrameSpec::new(OpCode::Text, b"x".to_vec()) };
    assert_eq!(&spec.encode()[..4], [0x81, 126, 0, 1]);
    let frame = decode_all(&spec.encode(), 100).remove(0);
    assert!(frame.header.non_minimal_length());
    let minimal = decode_all(&FrameSpec::new(OpCode::Text, vec![b'a'; 126]).encode(), 7).remove(0);
    assert!(!minimal.header.non_minimal_length());
}

#[test]
fn a_length_with_the_top_bit_set_is_refused_without_allocating() {
    let spec = FrameSpec {
        length_encoding: LengthEncoding::Bits64,
        declared_length: Some(0x8000_0000_0000_0005),
        ..FrameSpec::new(OpCode::Binary, b"hello".to_vec())
    };
    let bytes = spec.encode();
    assert_eq!(&bytes[1..10], [127, 0x80, 0, 0, 0, 0, 0, 0, 5]);
    let mut decoder = Decoder::new(1 << 20);
    decoder.push(&bytes);
    assert_eq!(
        decoder.next_frame(),
        Err(DecodeError::TooLarge { declared: 0x8000_0000_0000_0005, limit: 1 << 20 })
    );
}

#[test]
fn a_length_that_lies_leaves_the_decoder_waiting() {
    let spec = FrameSpec { declared_length: Some(10), ..FrameSpec::new(OpCode::Text, b"abc".to_vec()) };
    let mut decoder = Decoder::new(1024);
    decoder.push(&spec.encode());
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(decoder.buffered(), 5);
}

#[test]
fn forced_encodings_that_cannot_hold_the_length_are_refused() {
    let spec = FrameSpec { length_encoding: LengthEncoding::Bits7, ..FrameSpec::new(OpCode::Text, vec![0; 126]) };
    assert!(spec.check().is_err());
}

#[test]
fn back_to_back_frames_split_anywhere() {
    let mut bytes = FrameSpec::new(OpCode::Text, b"one".to_vec()).masked([1, 2, 3, 4]).encode();
    bytes.extend(FrameSpec::new(OpCode::Ping, b"".to_vec()).encode());
    bytes.extend(FrameSpec::new(OpCode::Binary, vec![3; 300]).encode());
    for split in 1..bytes.len() {
        let frames = decode_all(&bytes, split);
        let ops: Vec<_> = frames.iter().map(|f| f.header.opcode).collect();
        assert_eq!(ops, [OpCode::Text, OpCode::Ping, OpCode::Binary], "split {split}");
    }
}

#[rstest]
#[case(0x0, "CONTINUATION")]
#[case(0x3, "RESERVED_DATA_3")]
#[case(0xA, "PONG")]
#[case(0xF, "RESERVED_CONTROL_15")]
fn opcodes_round_trip(#[case] value: u8, #[case] name: &str) {
    let op = OpCode::from_u8(value);
    assert_eq!(op.as_u8(), value);
    assert_eq!(op.to_string(), name);
    assert_eq!(op.is_control(), value >= 8);
}

#[test]
fn close_payloads() {
    assert_eq!(parse_close_payload(b""), Ok(None));
    assert_eq!(parse_close_payload(b"a"), Err(()));
    assert_eq!(parse_close_payload(b"\x03\xe8bye"), Ok(Some((CloseCode(1000), &b"bye"[..]))));
    assert!(CloseCode(3000).is_sendable() && !CloseCode(1005).is_sendable() && !CloseCode(5000).is_sendable());
}

/// Every frame streamed piece by piece, at every split of the input and piece size: the same
/// headers and payloads as whole frames, and never a piece over its bound.
#[test]
fn streamed_pieces_reassemble_to_the_whole_frames() {
    let mut bytes = FrameSpec::new(OpCode::Text, b"one".to_vec()).masked([1, 2, 3, 4]).encode();
    bytes.extend(FrameSpec::new(OpCode::Ping, b"".to_vec()).encode());
    bytes.extend(FrameSpec::new(OpCode::Binary, (0..300u32).map(|i| i as u8).collect::<Vec<u8>>()).masked([9, 8, 7, 6]).encode());
    let whole = decode_all(&bytes, bytes.len());
    for (split, max) in [(1, 1), (2, 7), (5, 64), (13, 3), (bytes.len(), 1000)] {
        let mut decoder = Decoder::new(1 << 20);
        let mut frames: Vec<Frame> = Vec::new();
        for chunk in bytes.chunks(split) {
            decoder.push(chunk);
            while let Some(piece) = decoder.next_piece(max).unwrap() {
                match piece {
                    Piece::Header(header) => frames.push(Frame { header, payload: Vec::new() }),
                    Piece::Payload { data, end } => {
                        assert!(data.len() <= max);
                        let frame = frames.last_mut().unwrap();
                        frame.payload.extend(data);
                        assert_eq!(end, frame.payload.len() as u64 == frame.header.payload_len);
                    }
                }
            }
        }
        assert_eq!(frames, whole, "split {split}, pieces of at most {max}");
    }
}

#[test]
fn a_streamed_frame_over_the_limit_is_refused_at_its_header() {
    let mut decoder = Decoder::new(100);
    decoder.push(&FrameSpec::new(OpCode::Binary, vec![0; 101]).encode()[..4]);
    assert_eq!(decoder.next_piece(64), Err(DecodeError::TooLarge { declared: 101, limit: 100 }));
}
