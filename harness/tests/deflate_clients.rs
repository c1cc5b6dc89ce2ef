//! permessage-deflate when testing clients: the ratchet_rs client (an independent deflate
//! implementation) on Autobahn's 12.x/13.x (sampled) and section 21, pinned in a baseline;
//! tungstenite's client without deflate (every 12.x/13.x case UNIMPLEMENTED, closed OK); broken
//! deflate clients, each caught by exactly the cases meant to catch it; and a server whose 101
//! carries a malformed `Sec-WebSocket-Extensions`, judged per case. `WSSPEC_BLESS=1 cargo test
//! deflate_clients` rewrites the baseline.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::Duration};

use ratchet_rs::{deflate::DeflateExtProvider, SubprotocolRegistry, WebSocketConfig};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    time::timeout,
};
use wsspec::{
    catalog::{case_matches, Role},
    client_testing::{ClientTestConfig, ClientTestServer},
    engine::RunOptions,
    extension::permessage_deflate::{
        client::{validate_response, ResponseError},
        connection::offers,
        deflater::MessageDeflater,
        inflater::MessageInflater,
        params::{Agreed, ParamError},
    },
    frame::{CloseCode, Decoder, FrameSpec, OpCode},
    handshake::{check_request, check_response, parse_request, parse_response, random_key, server_response, RequestSpec},
    peers::{deflate_reference, reference_client},
};
use wsspec_reports::CaseRecord;

use crate::support;

/// The smallest case of every subsection of 12 and 13 (1000 messages of 16 units each).
const SAMPLED: &[&str] = &["12.1.1", "12.2.1", "12.3.1", "12.4.1", "12.5.1", "13.1.1", "13.2.1", "13.3.1", "13.4.1", "13.5.1", "13.6.1", "13.7.1"];

/// A client-testing server for the client-role cases of `patterns`, results in a temporary folder.
async fn server(patterns: &[&str], out: &std::path::Path) -> ClientTestServer {
    let cases = support::catalog()
        .cases
        .into_iter()
        .filter(|c| c.applies_to(Role::Client) && patterns.iter().any(|p| case_matches(p, c.id.as_str())))
        .collect();
    let sink = Arc::new(wsspec_reports::sink::Sink::open(out).unwrap());
    let config = ClientTestConfig { cases, exclude_agent_cases: Default::default(), sink, options: RunOptions::default(), on_result: None, tls: None, on_refusal: None };
    ClientTestServer::start("127.0.0.1:0", config).await.unwrap()
}

/// Every case of `server` played by `play` (one connection per case, in order); records by id.
async fn run<F, Fut>(server: &ClientTestServer, play: F) -> BTreeMap<String, CaseRecord>
where
    F: Fn(SocketAddr, usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for n in 1..=server.case_count() {
        let _ = timeout(Duration::from_secs(60), play(server.addr, n)).await;
    }
    server.settle(Duration::from_secs(30)).await;
    assert!(server.missing("client").is_empty(), "{:?}", server.missing("client"));
    server.records("client").into_iter().map(|r| (r.id.clone(), r)).collect()
}

/// ratchet_rs's client with permessage-deflate at its defaults, echoing as Autobahn's client
/// drivers do. Its offer: `permessage-deflate; server_no_context_takeover; client_no_context_takeover;
/// server_max_window_bits=15; client_max_window_bits=15` (ratchet_deflate's default configuration).
async fn ratchet(addr: SocketAddr, case: usize) {
    let Ok(stream) = TcpStream::connect(addr).await else { return };
    // ratchet writes a frame's header and payload separately: with Nagle's algorithm on, each echo
    // would wait out wsspec's delayed ACK (~40 ms a message, ~45 s for a 1,000-message case).
    let _ = stream.set_nodelay(true);
    let url = format!("ws://{addr}/runCase?case={case}&agent=client");
    let config = WebSocketConfig { max_message_size: 1 << 20 };
    let Ok(upgraded) = ratchet_rs::subscribe_with(config, stream, url, DeflateExtProvider::default(), SubprotocolRegistry::default()).await else { return };
    deflate_reference::echo_messages(upgraded.websocket).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ratchet_client_matches_its_deflate_baseline() {
    let out = tempfile::tempdir().unwrap();
    let patterns: Vec<&str> = SAMPLED.iter().copied().chain(["21.*"]).collect();
    let server = server(&patterns, out.path()).await;
    let records = run(&server, ratchet).await;
    let differences = support::differences(&support::baseline("ratchet-deflate-client.json", &records), &records);
    assert!(differences.is_empty(), "verdicts differ from the baseline:\n{}", differences.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_deflate_every_autobahn_deflate_case_is_unimplemented_for_a_client() {
    let out = tempfile::tempdir().unwrap();
    let server = server(&["12.*", "13.*", "21.*"], out.path()).await;
    reference_client::run_driver(&format!("ws://{}", server.addr), "client").await.unwrap();
    server.settle(Duration::from_secs(30)).await;
    let records: BTreeMap<String, CaseRecord> = server.records("client").into_iter().map(|r| (r.id.clone(), r)).collect();
    assert_eq!(records.len(), 216 + 24);
    for (id, record) in records.iter().filter(|(id, _)| !id.starts_with("21.")) {
        assert_eq!(support::verdict_line(record), "UNIMPLEMENTED | OK | 1000", "{id}: {}", record.result);
        assert!(record.result.contains("The client offered no permessage-deflate"), "{id}: {}", record.result);
    }
    // Section 21 needs an offer, except the answer to a client that offered none.
    for (id, record) in records.iter().filter(|(id, _)| id.starts_with("21.") && *id != "21.1.12") {
        assert_eq!(record.behavior.as_str(), "UNIMPLEMENTED", "{id}: {}", record.result);
        assert!(record.result.contains("offered no"), "{id}: {}", record.result);
    }
    assert!(records["21.1.12"].behavior.as_str() != "UNIMPLEMENTED", "{}", records["21.1.12"].result);
}

/// One permessage-deflate duty a hand-made client neglects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flaw {
    None,
    /// Accepts an answer with a parameter RFC 7692 does not define.
    AcceptsUnknownParameter,
    /// Accepts `server_max_window_bits` above the limit it offered.
    AcceptsServerWindowAboveOffer,
    /// Inflates a message whose continuation frame carries RSV1.
    InflatesRsv1Continuation,
    /// Takes a control frame with RSV1 as if the bit were clear.
    AcceptsRsv1OnControl,
    /// Reads `server_max_window_bits=08` as 8 (Node ws 8.23's `+value`) and compresses its echoes.
    AcceptsLeadingZero,
    /// Takes the first of two permessage-deflate elements (Node ws 8.23's `response[0]`) and
    /// compresses its echoes.
    AcceptsTwoElements,
}

impl Flaw {
    /// Whether the client compresses its echoes once permessage-deflate is agreed (as ws does);
    /// the others echo uncompressed, as RFC 7692 §6 allows.
    fn compresses(self) -> bool {
        matches!(self, Self::AcceptsLeadingZero | Self::AcceptsTwoElements)
    }
}

/// The hand-made client's offer: a limit on the server's window below 15 (so 21.1.10 applies),
/// no `client_max_window_bits` (so 21.1.9 applies).
const OFFER: &str = "permessage-deflate; server_max_window_bits=10";
/// The hand-made client's limit on a message, inflated.
const LIMIT: u64 = 1 << 20;

/// Plays case `case` with a small client made of wsspec's own parts (request, answer check,
/// inflater, deflater) that has `flaw`; it echoes every message (compressed only when the flaw
/// says so) and fails the connection as RFC 7692 asks, but for its flaw.
async fn flawed(addr: SocketAddr, case: usize, flaw: Flaw) -> Option<()> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    let key = random_key();
    let mut request = RequestSpec::websocket(&addr.to_string(), &format!("/runCase?case={case}&agent=client"), &key);
    request.headers.set("Sec-WebSocket-Extensions", OFFER);
    tcp.write_all(&request.encode()).await.ok()?;
    let (mut buf, mut chunk) = (Vec::new(), vec![0u8; 64 * 1024]);
    let response = loop {
        let n = tcp.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(response) = parse_response(&buf).ok()? {
            break response;
        }
    };
    check_response(&response, &key).ok()?;
    let lines = response.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Extensions")).map(|(_, v)| v.as_str());
    let agreed = match validate_response(&offers(OFFER), lines) {
        Ok(accepted) => accepted.map(|a| a.agreed),
        Err(ResponseError::Parameter(ParamError::Unknown(_))) if flaw == Flaw::AcceptsUnknownParameter => Some(Agreed::default()),
        Err(ResponseError::ServerWindowAboveOffer { .. }) if flaw == Flaw::AcceptsServerWindowAboveOffer => Some(Agreed::default()),
        Err(ResponseError::Parameter(ParamError::InvalidWindowBits { value, .. })) if flaw == Flaw::AcceptsLeadingZero && value == "08" => {
            Some(Agreed::default())
        }
        Err(ResponseError::Repeated) if flaw == Flaw::AcceptsTwoElements => Some(Agreed::default()),
        Err(_) => return None,
    };
    let mut decoder = Decoder::new(1 << 24);
    decoder.push(&buf[response.head_len..]);
    let mut inflater = agreed.map(|a| MessageInflater::new(a.server, LIMIT));
    let mut deflater = agreed.filter(|_| flaw.compresses()).map(|a| MessageDeflater::new(a.client));
    let mut message: Option<(OpCode, bool, Vec<u8>)> = None;
    loop {
        while let Some(frame) = decoder.next_frame().ok()? {
            let (header, rsv1) = (&frame.header, frame.header.rsv & 4 != 0);
            let control = matches!(header.opcode, OpCode::Ping | OpCode::Pong | OpCode::Close);
            let rsv1_allowed = inflater.is_some()
                && match header.opcode {
                    OpCode::Text | OpCode::Binary => true,
                    OpCode::Continuation => flaw == Flaw::InflatesRsv1Continuation,
                    _ => control && flaw == Flaw::AcceptsRsv1OnControl,
                };
            if header.rsv & 3 != 0 || (rsv1 && !rsv1_allowed) {
                return fail(&mut tcp, CloseCode::PROTOCOL_ERROR).await;
            }
            match header.opcode {
                OpCode::Ping => send(&mut tcp, OpCode::Pong, frame.payload.clone()).await?,
                OpCode::Pong => {}
                OpCode::Close => return send(&mut tcp, OpCode::Close, CloseCode::NORMAL.0.to_be_bytes().to_vec()).await,
                OpCode::Text | OpCode::Binary if message.is_none() => message = Some((header.opcode, rsv1, frame.payload.clone())),
                OpCode::Continuation if message.is_some() => message.as_mut()?.2.extend_from_slice(&frame.payload),
                _ => return fail(&mut tcp, CloseCode::PROTOCOL_ERROR).await,
            }
            if header.fin && !control {
                let (opcode, compressed, payload) = message.take()?;
                let payload = match (compressed, inflater.as_mut()) {
                    (true, Some(inflater)) => match inflater.inflate_message(&payload) {
                        Ok(inflated) => inflated,
                        Err(wsspec::extension::permessage_deflate::inflater::InflateError::TooLarge { .. }) => {
                            return fail(&mut tcp, CloseCode(1009)).await
                        }
                        Err(_) => return fail(&mut tcp, CloseCode(1007)).await,
                    },
                    _ => payload,
                };
                match deflater.as_mut() {
                    Some(deflater) => {
                        let mut frame = FrameSpec::new(opcode, deflater.compress_message(&payload)).masked(rand::random());
                        frame.rsv = 4;
                        tcp.write_all(&frame.encode()).await.ok()?;
                    }
                    None => send(&mut tcp, opcode, payload).await?,
                }
            }
        }
        let n = tcp.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        decoder.push(&chunk[..n]);
    }
}

/// Sends one masked frame.
async fn send(tcp: &mut TcpStream, opcode: OpCode, payload: Vec<u8>) -> Option<()> {
    tcp.write_all(&FrameSpec::new(opcode, payload).masked(rand::random()).encode()).await.ok()
}

/// Fails the connection: a close frame with `code`, then TCP closed.
async fn fail(tcp: &mut TcpStream, code: CloseCode) -> Option<()> {
    send(tcp, OpCode::Close, code.0.to_be_bytes().to_vec()).await?;
    tcp.shutdown().await.ok()
}

#[rstest::rstest]
#[case::conforming(Flaw::None, &[])]
#[case::accepts_unknown_parameter(Flaw::AcceptsUnknownParameter, &["21.1.1"])]
#[case::accepts_server_window_above_offer(Flaw::AcceptsServerWindowAboveOffer, &["21.1.10"])]
#[case::inflates_rsv1_continuation(Flaw::InflatesRsv1Continuation, &["21.3.4"])]
#[case::accepts_rsv1_on_control(Flaw::AcceptsRsv1OnControl, &["21.3.1", "21.3.2", "21.3.3"])]
#[case::accepts_leading_zero(Flaw::AcceptsLeadingZero, &["21.1.5"])]
#[case::accepts_two_elements(Flaw::AcceptsTwoElements, &["21.1.11"])]
#[tokio::test(flavor = "multi_thread")]
async fn a_deflate_client_flaw_is_caught_by_exactly_its_cases(#[case] flaw: Flaw, #[case] expected: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    let server = server(&["21.*", "12.1.1", "13.2.1"], out.path()).await;
    let records = run(&server, |addr, case| async move { let _ = flawed(addr, case, flaw).await; }).await;
    let mut failing = support::failing(&records);
    failing.sort();
    let mut expected: Vec<String> = expected.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(failing, expected, "{flaw:?}: {:#?}", failing.iter().map(|id| (id, &records[id].result)).collect::<Vec<_>>());
    if flaw == Flaw::None {
        for id in ["12.1.1", "13.2.1", "21.1.9", "21.1.10", "21.2.1", "21.3.11"] {
            assert_eq!(records[id].behavior.as_str(), "OK", "{id}: {}", records[id].result);
        }
        assert_eq!(records["21.1.12"].behavior.as_str(), "UNIMPLEMENTED", "{}", records["21.1.12"].result);
    }
    // Each reason names the fault, not only its symptom.
    for id in &expected {
        let result = &records[id].result;
        let fault = match flaw {
            Flaw::AcceptsUnknownParameter => "The client accepted the answer `permessage-deflate; server_max_window_bits=10; x_wsspec_unknown`, which holds x_wsspec_unknown, a parameter RFC 7692 does not define for a response: a client MUST fail the connection on such an answer (RFC 7692 §7.1), but it went on with the connection: it sent text message (5 bytes) \"Hello\".",
            Flaw::AcceptsServerWindowAboveOffer => "The client accepted the answer `permessage-deflate; server_max_window_bits=11`, which gives server_max_window_bits a value above the client's offer (RFC 7692 §7.1.2.1: the same or a smaller value): a client MUST fail the connection on such an answer (RFC 7692 §7.1), but it went on with the connection: it sent text message (5 bytes) \"Hello\".",
            Flaw::AcceptsLeadingZero => "The client accepted the answer `permessage-deflate; server_max_window_bits=08`, which gives server_max_window_bits the invalid value 08 (RFC 7692 §7.1.2.1: a decimal integer from 8 to 15 without leading zeroes): a client MUST fail the connection on such an answer (RFC 7692 §7.1), but it went on to use permessage-deflate: it sent a frame with RSV1 set, a compressed message.",
            Flaw::AcceptsTwoElements => "The client accepted the answer `permessage-deflate; server_max_window_bits=10, permessage-deflate; server_max_window_bits=10`, which accepts permessage-deflate twice, two extensions that both use RSV1 (a server MUST NOT accept a PMCE together with such an extension): a client MUST fail the connection on such an answer (RFC 7692 §5), but it went on to use permessage-deflate: it sent a frame with RSV1 set, a compressed message.",
            Flaw::InflatesRsv1Continuation => "The target did not fail the connection as the case requires (RFC 7692 6.1, MUST): it went on and sent text message (5 bytes) \"Hello\".",
            Flaw::AcceptsRsv1OnControl | Flaw::None => continue,
        };
        assert!(result.starts_with(fault), "{id}: {result}");
        assert!(!result.contains("no negotiated extension gives a meaning"), "{id}: the symptom, not the fault: {result}");
    }
}

/// A server whose 101 carries `Sec-WebSocket-Extensions: ;` (an element without a name) on every
/// connection: each case is FAILED with the rule named, and the run goes on rather than ending as
/// a target that does not open WebSockets.
#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_extensions_answer_fails_each_case_and_the_run_goes_on() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut head, mut chunk) = (Vec::new(), [0u8; 4096]);
                let request = loop {
                    let Ok(n @ 1..) = tcp.read(&mut chunk).await else { return };
                    head.extend_from_slice(&chunk[..n]);
                    if let Ok(Some(request)) = parse_request(&head) {
                        break request;
                    }
                };
                let Ok(key) = check_request(&request) else { return };
                let response = server_response(&key).replacen("\r\n\r\n", "\r\nSec-WebSocket-Extensions: ;\r\n\r\n", 1);
                let _ = tcp.write_all(response.as_bytes()).await;
                let _ = tcp.read(&mut chunk).await;
            });
        }
    });
    let cases = support::cases(&["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "12.1.1"]);
    let records = support::run(&format!("ws://{addr}/"), &cases).await;
    server.abort();
    assert_eq!(records.len(), cases.len(), "every case judged: the run did not stop");
    for (id, record) in &records {
        assert_eq!(record.behavior.as_str(), "FAILED", "{id}: {}", record.result);
        assert!(record.result.contains("Sec-WebSocket-Extensions"), "{id}: {}", record.result);
    }
}
