//! The case writer: what it writes loads, means the bytes it was given, and is the case
//! [`runnable`] builds directly.

use super::*;
use crate::{catalog::Closer, fuzz::oracle};

fn sequence(frames: Vec<FrameSpec>) -> Sequence {
    Sequence { frames, write: WriteMode::Together, deflate: false }
}

fn load_case(sequence: &Sequence) -> Case {
    let text = file("test", &[case("90.1.1", "t", Some("n"), sequence, &oracle::expect_sequence(sequence))]);
    load(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn generated_sequences_make_loadable_cases() {
    for index in 0..300 {
        for deflate in [false, true] {
            let sequence = Sequence::generate(3, index, deflate);
            let case = load_case(&sequence);
            assert!(!case.expect.is_empty() && case.expect.len() <= oracle::expect_sequence(&sequence).alternatives.len());
            assert_eq!(case.deflate.is_some(), deflate, "a deflate sequence offers permessage-deflate");
        }
    }
}

#[test]
fn a_payload_is_written_as_the_bytes_it_is() {
    let aperiodic: Vec<u8> = (0..=255u8).chain(0..100).collect();
    for (bytes, short) in [
        (b"".to_vec(), true),
        (b"short".to_vec(), true),
        ("κόσμε!".repeat(300).into_bytes()[..1001].to_vec(), true),
        ([0xffu8, 0, 7].repeat(5000), true),
        (aperiodic, false),
        (b"ab".repeat(40), true),
    ] {
        let text = format!("p = {}", payload_value(&bytes));
        let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}: {text}"));
        let payload: crate::catalog::Payload = table["p"].clone().try_into().unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(payload.bytes(), bytes, "{text}");
        assert!(!short || text.len() < 100, "written short: {text}");
    }
    assert_eq!((period(b"abcab"), period(b"aaaa"), period(b"abc"), period(b"")), (3, 1, 3, 0));
}

/// The shortcut finds the period exactly when [`period`]'s table would find one of at most half
/// the length: on repeats, on aperiodic bytes, and on two-letter bytes where many shifts pass their
/// first 8 bytes and fail later (the table's fallback included).
#[test]
fn the_short_period_is_the_period_when_that_is_at_most_half() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(14);
    let mut inputs = vec![
        (0..=255u8).chain(0..100).collect::<Vec<u8>>(),
        b"ab".repeat(40),
        [b"aaaaaaaaab".repeat(50), b"aaaa".to_vec()].concat(),
        [vec![b'a'; 200], b"b".to_vec()].concat(),
        [0xffu8, 0, 7].repeat(5000),
    ];
    for _ in 0..2000 {
        let len = rng.random_range(16..300);
        let unit: Vec<u8> = (0..rng.random_range(1..40)).map(|_| if rng.random_bool(0.9) { b'a' } else { b'b' }).collect();
        let mut bytes: Vec<u8> = unit.iter().copied().cycle().take(len).collect();
        if rng.random_bool(0.5) {
            let at = rng.random_range(0..len);
            bytes[at] ^= 3;
        }
        inputs.push(bytes);
    }
    for bytes in inputs {
        let n = bytes.len();
        assert_eq!(short_period(&bytes), Some(period(&bytes)).filter(|&p| p <= n / 2), "{bytes:?}");
    }
}

/// The case built directly is the case the written file loads as, field for field (the prose and
/// the id aside), over 1,000 seeds of sequences as the network fuzzer sends them and as generated.
#[test]
fn a_runnable_case_is_the_case_the_written_file_loads_as() {
    for seed in 0..1000 {
        for deflate in [false, true] {
            let generated = Sequence::generate(seed, u64::from(seed) * 7 + 1, deflate);
            for sequence in [generated.clone().until_close(), generated] {
                let outcome = oracle::expect_sequence(&sequence);
                let (written, direct) = (load_case(&sequence), runnable(&sequence, &outcome));
                let runs = |case: &Case| format!("{:?}", (&case.steps, &case.expect, &case.close, &case.deflate, &case.roles, &case.rfc, case.level, case.informational));
                assert_eq!(runs(&written), runs(&direct), "{sequence:?}");
                assert_eq!(written.timeout.to_bits(), direct.timeout.to_bits(), "{sequence:?}");
                assert!(direct.handshake.is_none() && direct.http2.is_none() && direct.tls.is_none() && written.handshake.is_none());
            }
        }
    }
}

#[test]
fn the_timeout_grows_with_the_writes_a_sequence_takes() {
    let big = |write| Sequence { frames: vec![FrameSpec::new(OpCode::Binary, vec![7; 40_000]).masked([1, 2, 3, 4])], write, deflate: false };
    assert_eq!(load_case(&big(WriteMode::Together)).timeout, BASE_TIMEOUT, "one write: the catalog's default");
    // 40,008 bytes on the wire (header 8, payload 40,000), a byte a write: 20 s more.
    assert_eq!(writes(&big(WriteMode::Chop(1))), 40_008);
    assert_eq!(load_case(&big(WriteMode::Chop(1))).timeout, 21.1);
    assert_eq!(load_case(&big(WriteMode::Chop(16))).timeout, 2.3);
}

#[test]
fn a_close_every_alternative_ends_at_is_wsspecs_close_step() {
    let key = [9, 9, 9, 9];
    let answered = load_case(&sequence(vec![FrameSpec::new(OpCode::Text, "a").masked(key), FrameSpec::new(OpCode::Close, *b"\x03\xe8bye").masked(key)]));
    assert_eq!(answered.steps.len(), 2, "frames, then the close step");
    assert_eq!(answered.close_for(&answered.expect[0]).by, Closer::Wsspec);
    let failing_first = load_case(&sequence(vec![FrameSpec::new(OpCode::Text, "a"), FrameSpec::new(OpCode::Close, *b"\x03\xe8").masked(key)]));
    assert_eq!(failing_first.steps.len(), 1, "the close is only bytes when the server must fail before it");
    let close = failing_first.close_for(&failing_first.expect[0]);
    assert_eq!((close.by, close.wrong_closer_fails), (Closer::Peer, true));
    assert_eq!(failing_first.close.by, Closer::Peer, "events no alternative expects are judged against the strictest closing");
}
