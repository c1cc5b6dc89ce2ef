//! The receiver alone: one test per violation, and the extension hook.

use std::time::Instant;

use super::*;
use crate::frame::{FrameSpec, LengthEncoding};

const KEY: [u8; 4] = [1, 2, 3, 4];

/// Everything a receiver of a `sender` makes of `frames`, sent as one chunk.
fn receive(sender: Role, frames: &[FrameSpec]) -> Vec<Received> {
    receive_with(Receiver::new(sender, 1 << 20, None), frames)
}

fn receive_with(mut receiver: Receiver, frames: &[FrameSpec]) -> Vec<Received> {
    let mut log = WireLog::new(Instant::now());
    receiver.push(&frames.iter().flat_map(FrameSpec::encode).collect::<Vec<u8>>());
    std::iter::from_fn(|| receiver.next(&mut log)).collect()
}

/// A frame as a server sends it.
fn server(opcode: OpCode, payload: &[u8]) -> FrameSpec {
    FrameSpec::new(opcode, payload)
}

/// A frame as a client sends it, with a fresh key each time.
fn client(opcode: OpCode, payload: &[u8]) -> FrameSpec {
    FrameSpec::new(opcode, payload).masked(rand::random())
}

fn fragment(opcode: OpCode, payload: &[u8], fin: bool) -> FrameSpec {
    FrameSpec { fin, ..server(opcode, payload) }
}

fn violation(violation: Violation) -> Received {
    Received::Violation(violation)
}

fn message(binary: bool, payload: &[u8]) -> Received {
    let crate::engine::Event::Message { binary, len, sha1, preview } = crate::engine::Event::message(binary, payload) else { unreachable!() };
    Received::Message { binary, len, sha1, preview }
}

fn text(payload: &str) -> Received {
    message(false, payload.as_bytes())
}

#[test]
fn valid_frames_become_messages_pings_pongs_and_a_close() {
    let frames = [
        fragment(OpCode::Text, "Hel".as_bytes(), false),
        server(OpCode::Ping, b"p"),
        fragment(OpCode::Continuation, "lo \u{e9}".as_bytes(), true),
        server(OpCode::Pong, b"q"),
        server(OpCode::Binary, &[0xff]),
        server(OpCode::Close, b"\x03\xe8bye"),
    ];
    assert_eq!(
        receive(Role::Server, &frames),
        [
            Received::Ping(b"p".to_vec()),
            text("Hello \u{e9}"),
            Received::Pong(b"q".to_vec()),
            message(true, &[0xff]),
            Received::Close { code: Some(1000), reason: "bye".into() },
        ]
    );
}

#[test]
fn an_unmasked_client_frame() {
    assert_eq!(receive(Role::Client, &[server(OpCode::Text, b"x")]), [violation(Violation::UnmaskedClientFrame)]);
}

#[test]
fn a_masked_server_frame() {
    assert_eq!(receive(Role::Server, &[client(OpCode::Text, b"x")]), [violation(Violation::MaskedServerFrame)]);
}

#[test]
fn a_mask_key_used_twice_in_a_row() {
    let frames = [server(OpCode::Text, b"a").masked(KEY), server(OpCode::Text, b"b").masked(KEY)];
    assert_eq!(receive(Role::Client, &frames), [text("a"), violation(Violation::RepeatedMaskKey { key: KEY })]);
}

#[test]
fn rsv_bits_without_an_extension() {
    let frame = FrameSpec { rsv: 0b010, ..server(OpCode::Text, b"x") };
    assert_eq!(receive(Role::Server, &[frame]), [violation(Violation::ReservedBits { rsv: 0b010 })]);
}

#[test]
fn a_reserved_opcode() {
    assert_eq!(receive(Role::Server, &[server(OpCode::ReservedData(3), b"")]), [violation(Violation::ReservedOpcode { opcode: 3 })]);
}

#[test]
fn a_64_bit_length_with_its_top_bit_set_ends_the_stream() {
    let lie = FrameSpec { length_encoding: LengthEncoding::Bits64, declared_length: Some(1 << 63), ..server(OpCode::Binary, b"") };
    let received = receive(Role::Server, &[lie, server(OpCode::Ping, b"never read")]);
    assert_eq!(received, [Received::Unreadable(Violation::LengthTopBit { declared: 1 << 63 })]);
}

#[test]
fn a_frame_larger_than_the_limit_ends_the_stream() {
    let big = FrameSpec { declared_length: Some(1 << 30), ..server(OpCode::Binary, b"") };
    assert_eq!(receive(Role::Server, &[big]), [Received::Unreadable(Violation::FrameTooBig { declared: 1 << 30, limit: 1 << 20 })]);
}

#[test]
fn a_fragmented_control_frame() {
    let received = receive(Role::Server, &[fragment(OpCode::Ping, b"", false)]);
    assert_eq!(received, [violation(Violation::FragmentedControl { opcode: OpCode::Ping })]);
}

#[test]
fn a_control_frame_over_125_bytes() {
    let received = receive(Role::Server, &[server(OpCode::Pong, &[b'x'; 126])]);
    assert_eq!(received, [violation(Violation::ControlTooLong { opcode: OpCode::Pong, len: 126 })]);
}

#[test]
fn a_continuation_with_no_message() {
    assert_eq!(receive(Role::Server, &[server(OpCode::Continuation, b"x")]), [violation(Violation::OrphanContinuation)]);
}

#[test]
fn a_new_message_inside_a_message() {
    let frames = [fragment(OpCode::Text, b"a", false), server(OpCode::Binary, b"b")];
    assert_eq!(receive(Role::Server, &frames), [violation(Violation::NewMessageInsideMessage)]);
}

#[test]
fn invalid_utf8_at_once_and_at_the_end_of_a_message() {
    let frames = [fragment(OpCode::Text, b"ok \xff", false)];
    assert_eq!(receive(Role::Server, &frames), [violation(Violation::InvalidUtf8 { at_end: false })]);
    assert_eq!(receive(Role::Server, &[server(OpCode::Text, b"\xce")]), [violation(Violation::InvalidUtf8 { at_end: true })]);
}

#[test]
fn a_close_code_that_may_not_be_sent() {
    let received = receive(Role::Server, &[server(OpCode::Close, b"\x03\xed")]);
    assert_eq!(received, [Received::Close { code: Some(1005), reason: String::new() }, violation(Violation::InvalidCloseCode { code: 1005 })]);
}

#[test]
fn a_one_byte_close_payload() {
    let received = receive(Role::Server, &[server(OpCode::Close, b"\x03")]);
    assert_eq!(received, [Received::Close { code: None, reason: String::new() }, violation(Violation::OneByteClosePayload)]);
}

#[test]
fn a_close_reason_that_is_not_utf8() {
    let received = receive(Role::Server, &[server(OpCode::Close, b"\x03\xe8\xff")]);
    assert_eq!(received[1], violation(Violation::InvalidCloseReason));
}

#[test]
fn a_frame_after_the_close_frame() {
    let received = receive(Role::Server, &[server(OpCode::Close, b""), server(OpCode::Text, b"late")]);
    assert_eq!(received[1], violation(Violation::FrameAfterClose { opcode: OpCode::Text }));
}

#[test]
fn a_message_over_the_limit() {
    let receiver = Receiver::new(Role::Server, 4, None);
    let frames = [fragment(OpCode::Binary, b"abc", false), fragment(OpCode::Continuation, b"de", true)];
    assert_eq!(receive_with(receiver, &frames), [violation(Violation::MessageTooBig { limit: 4 })]);
}

#[test]
fn every_violation_names_its_section_and_close_code() {
    assert_eq!(Violation::InvalidUtf8 { at_end: false }.close_code().0, 1007);
    assert_eq!(Violation::ReservedOpcode { opcode: 3 }.close_code().0, 1002);
    assert_eq!(Violation::MessageTooBig { limit: 1 }.close_code().0, 1009);
    assert_eq!(Violation::MaskedServerFrame.to_string(), "a masked frame: a server MUST NOT mask any frames (§5.1)");
}

/// A stand-in for permessage-deflate: RSV1 on a message's first frame means "doubled bytes".
#[derive(Default)]
struct Doubled(usize);

impl Extension for Doubled {
    fn rsv_allowed(&self, _: OpCode, first: bool) -> u8 {
        if first { 0b100 } else { 0 }
    }

    fn decode_piece(&mut self, _: u8, piece: &[u8], limit: usize, out: &mut dyn FnMut(&[u8])) -> Result<(), Violation> {
        self.0 += piece.len() * 2;
        if self.0 > limit {
            return Err(Violation::MessageTooBig { limit });
        }
        piece.iter().for_each(|b| out(&[*b, *b]));
        Ok(())
    }

    fn decode_end(&mut self, _: u8, _: usize, _: &mut dyn FnMut(&[u8])) -> Result<(), Violation> {
        self.0 = 0;
        Ok(())
    }

    fn abandon(&mut self) {
        self.0 = 0;
    }
}

#[test]
fn an_extension_allows_its_rsv_bits_and_transforms_at_the_final_frame() {
    let receiver = || Receiver::new(Role::Server, 8, Some(Box::new(Doubled::default())));
    let first = FrameSpec { rsv: 0b100, fin: false, ..server(OpCode::Text, b"a") };
    let frames = [first.clone(), fragment(OpCode::Continuation, b"b", true), server(OpCode::Text, b"plain")];
    assert_eq!(receive_with(receiver(), &frames), [text("aabb"), text("plain")]);
    let rsv_on_continuation = [first.clone(), FrameSpec { rsv: 0b100, ..fragment(OpCode::Continuation, b"b", true) }];
    assert_eq!(receive_with(receiver(), &rsv_on_continuation), [violation(Violation::ReservedBits { rsv: 0b100 })]);
    let too_big = [FrameSpec { rsv: 0b100, ..server(OpCode::Binary, b"12345") }];
    assert_eq!(receive_with(receiver(), &too_big), [violation(Violation::MessageTooBig { limit: 8 })]);
    // UTF-8 is checked on the transformed message, not on the raw fragments.
    let split_sequence = [FrameSpec { rsv: 0b100, ..server(OpCode::Text, b"\xce") }];
    assert_eq!(receive_with(receiver(), &split_sequence), [violation(Violation::InvalidUtf8 { at_end: false })]);
}

/// A big message (fragmented, masked) cut at any read size: the same digest and preview as the
/// whole payload, and a bad byte in the middle of a text message caught at any cut.
#[test]
fn a_big_message_is_digested_as_it_arrives_whatever_the_cuts() {
    let payload: Vec<u8> = "κόσμε, hello ".bytes().cycle().take(300_000).collect();
    let cut = 150_001; // inside a two-byte character
    let frames = [
        FrameSpec { fin: false, ..client(OpCode::Text, &payload[..cut]) },
        client(OpCode::Continuation, &payload[cut..]),
    ];
    let bytes: Vec<u8> = frames.iter().flat_map(FrameSpec::encode).collect();
    let mut corrupt = payload.clone();
    corrupt[200_000] = 0xff;
    let bad = [FrameSpec { fin: false, ..client(OpCode::Text, &corrupt[..cut]) }, client(OpCode::Continuation, &corrupt[cut..])];
    let bad_bytes: Vec<u8> = bad.iter().flat_map(FrameSpec::encode).collect();
    for read in [1000, 4096, 65_536, 100_003, bytes.len()] {
        let receive_in_reads = |bytes: &[u8]| {
            let mut receiver = Receiver::new(Role::Client, 1 << 20, None);
            let mut log = WireLog::new(Instant::now());
            let mut out = Vec::new();
            for chunk in bytes.chunks(read) {
                receiver.push(chunk);
                out.extend(std::iter::from_fn(|| receiver.next(&mut log)));
            }
            out
        };
        assert_eq!(receive_in_reads(&bytes), [message(false, &payload)], "reads of {read}");
        assert_eq!(receive_in_reads(&bad_bytes), [violation(Violation::InvalidUtf8 { at_end: false })], "reads of {read}");
    }
}

/// permessage-deflate inflates a message as its frames arrive, whatever the reads: the same message
/// as the whole payload uncompressed; and a stream that is not DEFLATE is reported at the final
/// frame's end, after a ping sent between the fragments, as if the message came whole.
#[test]
fn a_compressed_message_is_inflated_as_it_arrives_whatever_the_cuts() {
    use crate::extension::permessage_deflate::{connection::InflateOnReceive, deflater::MessageDeflater, params::DirectionParams};
    let payload: Vec<u8> = "κόσμε, hello ".bytes().cycle().take(200_000).collect();
    let compressed = MessageDeflater::new(DirectionParams::default()).compress_message(&payload);
    let cut = compressed.len() / 2;
    let frames = [
        FrameSpec { rsv: 0b100, fin: false, ..server(OpCode::Text, &compressed[..cut]) },
        server(OpCode::Ping, b"p"),
        fragment(OpCode::Continuation, &compressed[cut..], true),
    ];
    let not_deflate = [
        FrameSpec { rsv: 0b100, fin: false, ..server(OpCode::Binary, &[0xff; 64]) },
        server(OpCode::Ping, b"p"),
        fragment(OpCode::Continuation, b"more", true),
    ];
    let receive_in_reads = |frames: &[FrameSpec], read: usize| {
        let extension = InflateOnReceive::new(DirectionParams::default(), 1 << 20);
        let mut receiver = Receiver::new(Role::Server, 1 << 20, Some(Box::new(extension)));
        let mut log = WireLog::new(Instant::now());
        let bytes: Vec<u8> = frames.iter().flat_map(FrameSpec::encode).collect();
        let mut out = Vec::new();
        for chunk in bytes.chunks(read) {
            receiver.push(chunk);
            out.extend(std::iter::from_fn(|| receiver.next(&mut log)));
        }
        out
    };
    for read in [1, 7, 4096, usize::MAX] {
        assert_eq!(receive_in_reads(&frames, read), [Received::Ping(b"p".to_vec()), message(false, &payload)], "reads of {read}");
        let got = receive_in_reads(&not_deflate, read);
        assert_eq!(got[0], Received::Ping(b"p".to_vec()), "reads of {read}: {got:?}");
        assert!(matches!(got[1..], [Received::Violation(Violation::InvalidDeflate { .. })]), "reads of {read}: {got:?}");
    }
}
