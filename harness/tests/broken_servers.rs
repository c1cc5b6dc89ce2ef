//! Each deliberately broken server (tungstenite behind one injected defect) must be caught by
//! exactly the cases meant to catch it: a case that cannot fail proves nothing.

use rstest::rstest;
use wsspec::peers::faulty::{Defect, FaultyServer};

use crate::support;

fn ids(prefix: &str, numbers: impl IntoIterator<Item = u32>) -> Vec<String> {
    numbers.into_iter().map(|n| format!("{prefix}{n}")).collect()
}

#[rstest]
// 3.7 sends an empty close frame with RSV bits: a server that ignores the bits answers with an empty
// close, which looks the same as failing the connection without a code, so 3.7 cannot tell them apart.
#[case::rsv_bits(Defect::AcceptRsv, &["3.*"], ids("3.", 1..=6))]
#[case::reserved_opcodes(Defect::IgnoreReservedOpcodes, &["4.*"], [ids("4.1.", 1..=5), ids("4.2.", 1..=5)].concat())]
#[case::no_pong(Defect::NoPong, &["2.*", "5.*"],
    [ids("2.", [1, 2, 3, 4, 6, 9, 10, 11]), ids("5.", [6, 7, 8, 19, 20])].concat())]
// Taking an orphan continuation as a text start only passes where a whole message follows; with FIN=0
// (5.12–5.14, 5.16) the next text frame is still refused, which tungstenite does.
#[case::orphan_continuation(Defect::AcceptOrphanContinuation, &["5.*"], ids("5.", [9, 10, 11, 17]))]
#[case::close_codes(Defect::EchoAnyCloseCode, &["7.*"], ids("7.9.", 1..=9))]
// §5.5.3 binds every case, whatever its level: 15.3.x (MAY) catch it too.
#[case::wrong_pong(Defect::WrongPongPayload, &["2.*", "5.*", "15.3.*"],
    [ids("2.", [1, 2, 3, 4, 6, 9, 10, 11]), ids("5.", [6, 7, 8, 19, 20]), ids("15.3.", [1, 2])].concat())]
// Every echo of 64 KiB or more; 9.7/9.8 round-trip small messages and are not affected.
#[case::long_frames(Defect::CorruptLongFrames, &["1.*", "9.*", "10.*"],
    [ids("1.1.", 6..=8), ids("1.2.", 6..=8), ids("9.1.", 1..=6), ids("9.2.", 1..=6), ids("9.3.", 1..=9),
     ids("9.4.", 1..=9), ids("9.5.", 1..=6), ids("9.6.", 1..=6), vec!["10.1.1".into()]].concat())]
#[tokio::test(flavor = "multi_thread")]
async fn defect_is_caught(#[case] defect: Defect, #[case] sections: &[&str], #[case] expected: Vec<String>) {
    let server = FaultyServer::start(defect).await.unwrap();
    let records = support::run(&server.url(), &support::cases(sections)).await;
    let mut expected = expected;
    expected.sort();
    let mut failing = support::failing(&records);
    failing.sort();
    assert_eq!(failing, expected, "{defect:?}: failing cases differ from those meant to catch it");
}

#[tokio::test(flavor = "multi_thread")]
async fn skipping_utf8_validation_fails_every_invalid_utf8_case() {
    let server = FaultyServer::start(Defect::SkipUtf8).await.unwrap();
    let cases = support::cases(&["6.*"]);
    let records = support::run(&server.url(), &cases).await;
    // Exactly the cases that send invalid UTF-8 are the ones where the target must fail (1007).
    let mut expected: Vec<String> = cases
        .iter()
        .filter(|c| c.expect.iter().all(|a| c.close_for(a).codes.iter().any(|code| code.0 == 1007)))
        .map(|c| c.id.to_string())
        .collect();
    expected.sort();
    let mut failing = support::failing(&records);
    failing.sort();
    assert_eq!(expected.len(), 75, "6.x has 75 invalid UTF-8 cases");
    assert_eq!(failing, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn accepting_unmasked_frames_fails_the_masking_cases() {
    let server = FaultyServer::start(Defect::AcceptUnmasked).await.unwrap();
    let cases = support::cases(&["14.*"]);
    let records = support::run(&server.url(), &cases).await;
    // Every masking case that sends an unmasked frame and is not informational must catch it.
    let mut expected: Vec<String> = cases
        .iter()
        .filter(|c| !c.informational && c.expect.iter().all(|a| c.close_for(a).by == wsspec::catalog::Closer::Peer))
        .map(|c| c.id.to_string())
        .collect();
    expected.sort();
    assert!(expected.len() >= 4, "the masking section has its MUST-fail cases: {expected:?}");
    let mut failing = support::failing(&records);
    failing.sort();
    assert_eq!(failing, expected);
}

/// A server that refuses an invalid close with a close frame without a status code looks exactly
/// like one that accepted it: NON-STRICT (§7.1.7), exactly on the cases that send such a close and
/// are answered with a close frame. tungstenite fails 7.3.2, 7.3.6 and 7.5.1 by dropping TCP without
/// a close frame (no code to remove: still OK); the other 7.x cases accept a codeless answer.
#[tokio::test(flavor = "multi_thread")]
async fn a_codeless_close_answering_an_invalid_close_is_non_strict() {
    let server = FaultyServer::start(Defect::CodelessClose).await.unwrap();
    let records = support::run(&server.url(), &support::cases(&["7.*"])).await;
    assert!(support::failing(&records).is_empty(), "{:?}", support::failing(&records));
    let non_strict: Vec<String> = records.values().filter(|r| r.behavior.as_str() == "NON-STRICT").map(|r| r.id.clone()).collect();
    let expected = ids("7.9.", 1..=9);
    let mut non_strict = non_strict;
    non_strict.sort();
    assert_eq!(non_strict, expected);
    assert!(records["7.9.1"].result.contains("§7.1.7"), "{}", records["7.9.1"].result);
}
