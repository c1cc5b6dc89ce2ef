//! The oracle against hand-written sequences: one test per kind of outcome.

use super::*;
use crate::{
    frame::LengthEncoding,
    rules::{CONTROL_FRAGMENTED, LENGTH_TOP_BIT, OPCODE, ORPHAN_CONTINUATION, RSV, UNMASKED},
};

const KEY: [u8; 4] = [1, 2, 3, 4];

fn frame(opcode: OpCode, payload: &[u8]) -> FrameSpec {
    FrameSpec::new(opcode, payload).masked(KEY)
}

fn fragment(opcode: OpCode, payload: &[u8], fin: bool) -> FrameSpec {
    FrameSpec { fin, ..frame(opcode, payload) }
}

fn echo(text: &str) -> Reply {
    Reply::Echo { binary: false, payload: text.as_bytes().to_vec() }
}

fn summary(outcome: &Outcome) -> Vec<(Grade, End, usize)> {
    outcome.alternatives.iter().map(|a| (a.grade, a.end.clone(), a.replies.len())).collect()
}

#[test]
fn valid_frames_are_echoed_and_pinged_back_and_the_connection_stays_open() {
    let outcome = expect(&[frame(OpCode::Text, b"Hello"), frame(OpCode::Ping, b"p"), frame(OpCode::Binary, &[0xff])]);
    let [owed, overtaken] = outcome.alternatives.as_slice() else { panic!("{outcome:?}") };
    for alternative in [owed, overtaken] {
        assert_eq!((&alternative.end, alternative.grade), (&End::Open(vec![1000]), Grade::Ok));
    }
    let replies = |a: &Alternative| a.replies.iter().map(|e| (e.reply.clone(), e.optional)).collect::<Vec<_>>();
    let binary = Reply::Echo { binary: true, payload: vec![0xff] };
    assert_eq!(replies(owed), [(echo("Hello"), false), (Reply::Pong(b"p".to_vec()), false), (binary.clone(), false)]);
    assert_eq!(replies(overtaken), [(Reply::Pong(b"p".to_vec()), false), (echo("Hello"), false), (binary, false)], "the pong may come first");
}

#[test]
fn every_frame_level_violation_fails_the_connection_with_the_replies_before_it_optional() {
    let cases: [(FrameSpec, &Rule, &[u16]); 6] = [
        (FrameSpec::new(OpCode::Text, "x"), &UNMASKED, &[1002]),
        (FrameSpec { rsv: 4, ..frame(OpCode::Text, b"x") }, &RSV, &[1002]),
        (frame(OpCode::ReservedControl(11), b""), &OPCODE, &[1002]),
        (FrameSpec { declared_length: Some(1 << 63), length_encoding: LengthEncoding::Bits64, ..frame(OpCode::Binary, b"") }, &LENGTH_TOP_BIT, &[1002, 1009]),
        (fragment(OpCode::Ping, b"", false), &CONTROL_FRAGMENTED, &[1002]),
        (frame(OpCode::Continuation, b"x"), &ORPHAN_CONTINUATION, &[1002]),
    ];
    for (bad, rule, codes) in cases {
        let outcome = expect(&[frame(OpCode::Text, b"first"), bad, frame(OpCode::Ping, b"never")]);
        let [only] = outcome.alternatives.as_slice() else { panic!("{outcome:?}") };
        assert_eq!((only.rule, &only.end, only.at), (rule, &End::Fails(codes.to_vec()), 1));
        assert_eq!(only.replies, [Expected { reply: echo("first"), optional: true }]);
    }
    let both = expect(&[FrameSpec { rsv: 1, declared_length: Some(u64::MAX), length_encoding: LengthEncoding::Bits64, ..FrameSpec::new(OpCode::Text, "") }]);
    assert_eq!((both.alternatives[0].rule, &both.alternatives[0].end), (&UNMASKED, &End::Fails(vec![1002, 1009])), "codes of every violation");
}

#[test]
fn invalid_utf8_fails_at_once_or_by_the_end_of_the_message() {
    let frames = [
        fragment(OpCode::Text, b"ok \xce", false),
        fragment(OpCode::Continuation, b"\xba!\xff", false),
        frame(OpCode::Ping, b"p"),
        fragment(OpCode::Continuation, b"end", true),
    ];
    let outcome = expect(&frames);
    assert_eq!(summary(&outcome), [(Grade::Ok, End::Fails(vec![1007]), 0), (Grade::Informational, End::Fails(vec![1007]), 1)]);
    assert_eq!((outcome.alternatives[0].at, outcome.alternatives[1].at), (1, 3));
    assert_eq!(outcome.alternatives[1].rule, &UTF8_LATE);
    assert_eq!(expect(&frames[..3]).alternatives[1].end, End::Open(vec![1000, 1002, 1007]), "a lazy server still waits");
    let truncated = expect(&[frame(OpCode::Text, b"\xce")]);
    assert_eq!(summary(&truncated), [(Grade::Ok, End::Fails(vec![1007]), 0)], "ending inside a code point");
}

#[test]
fn a_non_minimal_length_may_be_accepted_or_refused() {
    let long = FrameSpec { length_encoding: LengthEncoding::Bits16, ..frame(OpCode::Text, b"Hi") };
    let outcome = expect(&[long, frame(OpCode::Ping, b"")]);
    let open = (Grade::Informational, End::Open(vec![1000]), 2);
    assert_eq!(summary(&outcome), [(Grade::Informational, End::Fails(vec![1002, 1009]), 0), open.clone(), open], "echo and pong in either order");
}

#[test]
fn close_frames_are_answered_or_refused_by_their_payload() {
    let close = |payload: &[u8]| summary(&expect(&[frame(OpCode::Close, payload), frame(OpCode::Ping, b"ignored")]));
    assert_eq!(close(b""), [(Grade::Ok, End::Answers(vec![1000]), 0)]);
    assert_eq!(close(b"\x0f\xa0bye"), [(Grade::Ok, End::Answers(vec![1000, 4000]), 0)]);
    assert_eq!(close(b"\x03"), [(Grade::Ok, End::Fails(vec![1002]), 0)]);
    assert_eq!(close(b"\x03\xed"), [(Grade::Ok, End::Fails(vec![1002]), 0)], "1005 may not be sent");
    assert_eq!(close(b"\x03\xe8\xff"), [(Grade::Ok, End::Fails(vec![1002, 1007]), 0)]);
    assert_eq!(close(b"\x03\xf6"), [(Grade::Informational, End::Answers(vec![1000, 1014]), 0), (Grade::Informational, End::Fails(vec![1002]), 0)]);
    let mid_message = expect(&[fragment(OpCode::Text, b"a", false), frame(OpCode::Close, b"\x03\xe8")]);
    assert_eq!(mid_message.alternatives[0].end, End::Answers(vec![1000, 1002]));
}

#[test]
fn only_the_last_pong_is_required_and_echoes_before_a_close_are_optional() {
    let outcome = expect(&[frame(OpCode::Ping, b"1"), frame(OpCode::Text, b"t"), frame(OpCode::Ping, b"2"), frame(OpCode::Close, b"")]);
    let optional: Vec<bool> = outcome.alternatives[0].replies.iter().map(|e| e.optional).collect();
    assert_eq!(optional, [true, true, false]);
    let seen = |replies: Vec<Reply>| Observed { replies, end: Ended::Closed(None) };
    assert!(outcome.admits(&seen(vec![Reply::Pong(b"2".to_vec())])));
    assert!(outcome.admits(&seen(vec![Reply::Pong(b"1".to_vec()), echo("t"), Reply::Pong(b"2".to_vec())])));
    assert!(!outcome.admits(&seen(vec![Reply::Pong(b"2".to_vec()), Reply::Pong(b"1".to_vec())])), "order holds");
    assert!(!outcome.admits(&seen(vec![Reply::Pong(b"1".to_vec())])), "the last ping must be answered");
    assert!(!outcome.admits(&Observed { replies: vec![Reply::Pong(b"2".to_vec())], end: Ended::Failed(1002) }), "the close must be answered");
}

/// RFC 7692 §7.2.3.1: "Hello" compressed.
const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

fn deflated(frames: Vec<FrameSpec>) -> Outcome {
    expect_sequence(&Sequence { frames, write: crate::catalog::WriteMode::Together, deflate: true })
}

#[test]
fn with_deflate_a_compressed_message_is_echoed_inflated_however_it_is_cut() {
    let whole = deflated(vec![FrameSpec { rsv: RSV1, ..frame(OpCode::Text, &HELLO) }]);
    let cut = deflated(vec![
        FrameSpec { rsv: RSV1, ..fragment(OpCode::Text, &HELLO[..2], false) },
        frame(OpCode::Ping, b"p"),
        fragment(OpCode::Continuation, &HELLO[2..], false),
        fragment(OpCode::Continuation, b"", true),
        frame(OpCode::Text, b"plain"),
    ]);
    for outcome in [&whole, &cut] {
        let [only] = outcome.alternatives.as_slice() else { panic!("{outcome:?}") };
        assert_eq!((only.end.clone(), only.grade, outcome.undecidable), (End::Open(vec![1000]), Grade::Ok, None));
        assert!(only.replies.iter().any(|e| e.reply == echo("Hello")), "{outcome:?}");
    }
    assert_eq!(cut.alternatives[0].replies.last().map(|e| &e.reply), Some(&echo("plain")), "an uncompressed message between");
    assert_eq!(summary(&expect(&[FrameSpec { rsv: RSV1, ..frame(OpCode::Text, &HELLO) }]))[0].1, End::Fails(vec![1002]), "RSV1 without deflate");
}

#[test]
fn with_deflate_rsv1_off_a_first_frame_and_corrupt_data_fail_the_connection() {
    let on_continuation = deflated(vec![
        FrameSpec { rsv: RSV1, ..fragment(OpCode::Text, &HELLO[..3], false) },
        FrameSpec { rsv: RSV1, ..fragment(OpCode::Continuation, &HELLO[3..], true) },
    ]);
    let on_ping = deflated(vec![FrameSpec { rsv: RSV1, ..frame(OpCode::Ping, b"p") }]);
    let rsv2 = deflated(vec![FrameSpec { rsv: 2, ..frame(OpCode::Binary, b"p") }]);
    for outcome in [&on_continuation, &on_ping, &rsv2] {
        assert_eq!(summary(outcome), [(Grade::Ok, End::Fails(vec![1002]), 0)], "{outcome:?}");
        assert_eq!(outcome.alternatives[0].rule, &RSV);
    }
    let corrupt = deflated(vec![FrameSpec { rsv: RSV1, ..frame(OpCode::Binary, b"\x06\x00") }]);
    assert_eq!((summary(&corrupt), corrupt.alternatives[0].rule), (vec![(Grade::Ok, End::Fails(vec![1002, 1007]), 0)], &DEFLATE_DATA));
    // "\xff" compressed at level 0 (a stored block): invalid UTF-8 once inflated.
    let bad_text = deflated(vec![FrameSpec { rsv: RSV1, ..frame(OpCode::Text, b"\x00\x01\x00\xfe\xff\xff\x00") }]);
    assert_eq!((summary(&bad_text), bad_text.alternatives[0].rule), (vec![(Grade::Ok, End::Fails(vec![1007]), 0)], &UTF8));
}

#[test]
fn with_deflate_data_the_model_cannot_read_is_undecidable() {
    let truncated = deflated(vec![FrameSpec { rsv: RSV1, ..frame(OpCode::Text, &HELLO[..4]) }]);
    assert!(truncated.undecidable.is_some_and(|why| why.contains("inside a DEFLATE block")), "{truncated:?}");
    // A back-reference 1 octet long, 1 octet back, as the first thing in a fixed-Huffman block.
    let back_reference = deflated(vec![FrameSpec { rsv: RSV1, ..frame(OpCode::Binary, &[0x02, 0x02, 0x00, 0x00]) }]);
    assert!(back_reference.undecidable.is_some_and(|why| why.contains("before the message")), "{back_reference:?}");
}

#[test]
fn a_pong_may_overtake_the_echo_of_a_message_completed_before_its_ping_but_not_after() {
    let pong = || Reply::Pong(b"p".to_vec());
    let open = |replies: Vec<Reply>| Observed { replies, end: Ended::Open };
    let after = expect(&[fragment(OpCode::Text, b"a", false), fragment(OpCode::Continuation, b"b", true), frame(OpCode::Ping, b"p")]);
    assert!(after.admits(&open(vec![echo("ab"), pong()])));
    assert!(after.admits(&open(vec![pong(), echo("ab")])), "websockets: the protocol layer's pong first");
    assert!(!after.admits(&open(vec![pong()])), "the echo is still owed");
    let inside = expect(&[fragment(OpCode::Text, b"a", false), frame(OpCode::Ping, b"p"), fragment(OpCode::Continuation, b"b", true)]);
    assert!(inside.admits(&open(vec![pong(), echo("ab")])));
    assert!(!inside.admits(&open(vec![echo("ab"), pong()])), "5.6: the pong of a ping inside the message comes first");
    let two = expect(&[frame(OpCode::Text, b"1"), frame(OpCode::Text, b"2"), frame(OpCode::Ping, b"p")]);
    assert!(two.admits(&open(vec![echo("1"), pong(), echo("2")])));
    assert!(!two.admits(&open(vec![echo("2"), echo("1"), pong()])), "echoes keep their order");
    assert_eq!(two.alternatives.len(), 3);
}

#[test]
fn after_a_complete_invalid_message_the_server_may_fail_late_with_1007_or_on_a_later_violation() {
    let pong = || Reply::Pong(b"p".to_vec());
    let failed = |replies: Vec<Reply>, code| Observed { replies, end: Ended::Closed(Some(code)) };
    let ping_after = expect(&[frame(OpCode::Text, b"\xff"), frame(OpCode::Ping, b"p")]);
    assert_eq!(ping_after.alternatives[0].grade, Grade::Ok);
    assert!(ping_after.admits(&failed(vec![], 1007)));
    assert!(ping_after.admits(&failed(vec![pong()], 1007)), "the pong, then 1007");
    assert!(!ping_after.admits(&Observed { replies: vec![pong()], end: Ended::Open }), "it must fail at last");
    let late = ping_after.alternatives.iter().find(|a| a.replies.len() == 1).expect("a late alternative");
    assert_eq!((late.grade, &late.end), (Grade::Informational, &End::Fails(vec![1007])));
    assert!(!ping_after.admits(&failed(vec![pong()], 1002)), "no other code without another violation");

    let unmasked_after = expect(&[frame(OpCode::Text, b"\xff"), FrameSpec::new(OpCode::Ping, "p")]);
    assert!(unmasked_after.admits(&failed(vec![], 1002)), "the later unmasked frame detected first");
    assert!(unmasked_after.admits(&failed(vec![], 1007)));
    let fragmented_ping_after = expect(&[frame(OpCode::Text, b"\xff"), fragment(OpCode::Ping, b"p", false)]);
    assert!(fragmented_ping_after.admits(&Observed { replies: vec![], end: Ended::Failed(1002) }));

    let close_after = expect(&[frame(OpCode::Text, b"\xff"), frame(OpCode::Close, b"\x03\xe8")]);
    assert!(close_after.admits(&failed(vec![], 1000)), "the close answered before the message was read");
    assert!(close_after.admits(&failed(vec![], 1007)));
    let text_after = expect(&[frame(OpCode::Text, b"\xff"), frame(OpCode::Text, b"ok")]);
    assert!(!text_after.admits(&failed(vec![echo("ok")], 1007)), "no echo of a message after the invalid one");
}

#[test]
fn with_deflate_a_server_inflating_frame_by_frame_may_fail_before_the_message_ends() {
    // 0x5f: a final block of the reserved type 3, not DEFLATE whatever follows.
    let corrupt = deflated(vec![FrameSpec { rsv: RSV1, ..fragment(OpCode::Text, b"_", false) }, frame(OpCode::Ping, b"p")]);
    assert_eq!(
        summary(&corrupt),
        [(Grade::Ok, End::Fails(vec![1002, 1007]), 0), (Grade::Ok, End::Open(vec![1000, 1002]), 1)],
        "failing at once, or waiting for the end of the message"
    );
    assert_eq!(corrupt.alternatives[0].rule, &DEFLATE_DATA);
    // "\xff" in a stored block not yet final: invalid UTF-8 before the message ends.
    let bad_text = deflated(vec![FrameSpec { rsv: RSV1, ..fragment(OpCode::Text, b"\x00\x01\x00\xfe\xff\xff", false) }]);
    assert_eq!((bad_text.alternatives[0].rule, &bad_text.alternatives[0].end), (&UTF8, &End::Fails(vec![1007])));
    let good = deflated(vec![FrameSpec { rsv: RSV1, ..fragment(OpCode::Text, &HELLO[..3], false) }]);
    assert_eq!(summary(&good), [(Grade::Ok, End::Open(vec![1000, 1002]), 0)], "a good start is no reason to fail");
}
