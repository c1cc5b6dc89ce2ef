//! The opening-handshake sections against in-process peers with one handshake flaw each: a server
//! (18.x, and the check every 101 gets) and a client (19.x, and the check every request gets). A
//! conforming peer of each kind passes; each flawed one is caught by exactly the cases meant to catch
//! it. The peers speak WebSocket through tokio-tungstenite once their own handshake is done.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use rstest::rstest;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    time::timeout,
};
use tokio_tungstenite::{tungstenite::protocol::Role as WsRole, WebSocketStream};
use wsspec::{
    catalog::{case_matches, Role},
    client_testing::{ClientTestConfig, ClientTestServer},
    engine::RunOptions,
    frame::{FrameSpec, OpCode},
    handshake::{check_negotiation, check_request, check_response, parse_request, parse_response, random_key, tokens, HandshakeError, Request, RequestSpec, ResponseSpec},
    peers::reference_server::config,
};
use wsspec_reports::CaseRecord;

use crate::support;

/// How a test server gets its handshake wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerFlaw {
    None,
    /// Answers 101 to any request.
    AcceptsAnything,
    /// Compares header names and the Upgrade and Connection values case-sensitively, as a whole.
    CaseSensitive,
    /// Refuses a wrong version with a bare 400, without `Sec-WebSocket-Version`.
    VersionWithoutList,
    /// Selects the subprotocol `chat` whatever the client offered.
    SelectsUnofferedProtocol,
    /// Parses what its first read returns and drops the connection if the head is not complete.
    OneReadOnly,
}

async fn start_server(flaw: ServerFlaw) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve(stream, flaw));
        }
    });
    url
}

async fn serve(mut stream: TcpStream, flaw: ServerFlaw) {
    let mut head = Vec::new();
    if flaw == ServerFlaw::OneReadOnly {
        let mut buf = vec![0u8; 16 * 1024];
        let n = stream.read(&mut buf).await.unwrap_or(0);
        head.extend_from_slice(&buf[..n]);
    } else {
        // Byte by byte, so a frame behind the head stays in the socket for tungstenite.
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 && stream.read(&mut byte).await.unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
    }
    let Ok(Some(request)) = parse_request(&head) else { return };
    let judged = match flaw {
        ServerFlaw::AcceptsAnything => Ok(request.header("Sec-WebSocket-Key").unwrap_or_default().trim().to_string()),
        ServerFlaw::CaseSensitive => case_sensitive(&request).and_then(|()| conforming(&request)),
        _ => conforming(&request),
    };
    match judged {
        Err(wrong_version) => {
            let answer = if wrong_version && flaw != ServerFlaw::VersionWithoutList {
                "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
            } else {
                "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
            };
            let _ = stream.write_all(answer.as_bytes()).await;
        }
        Ok(key) => {
            let mut answer = ResponseSpec::switching_protocols(&key);
            if flaw == ServerFlaw::SelectsUnofferedProtocol {
                answer.headers.add("Sec-WebSocket-Protocol", "chat");
            }
            if stream.write_all(&answer.encode()).await.is_err() {
                return;
            }
            echo(WebSocketStream::from_raw_socket(stream, WsRole::Server, Some(config())).await).await;
        }
    }
}

/// §4.2.1 and §4.4 as wsspec reads them, plus the extension ABNF of §9.1; `Err(true)` for a
/// version the server does not speak.
fn conforming(request: &Request) -> Result<String, bool> {
    let key = check_request(request).map_err(|e| matches!(e, HandshakeError::Wrong { name: "Sec-WebSocket-Version", .. }))?;
    let token = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let param = |p: &str| match p.split_once('=') {
        None => token(p.trim()),
        Some((name, value)) => {
            let value = value.trim();
            token(name.trim()) && (token(value) || (value.len() >= 2 && value.starts_with('"') && value.ends_with('"')))
        }
    };
    let offers = tokens(&request.headers, "Sec-WebSocket-Extensions");
    let valid = offers.iter().all(|offer| {
        let mut parts = offer.split(';');
        token(parts.next().unwrap_or_default().trim()) && parts.all(param)
    });
    if valid { Ok(key) } else { Err(false) }
}

fn case_sensitive(request: &Request) -> Result<(), bool> {
    let exact = |name: &str, value: &str| request.headers.iter().any(|(n, v)| n == name && v == value);
    let named = |name: &str| request.headers.iter().any(|(n, _)| n == name);
    (exact("Upgrade", "websocket") && exact("Connection", "Upgrade") && named("Sec-WebSocket-Key")).then_some(()).ok_or(false)
}

async fn echo(mut ws: WebSocketStream<TcpStream>) {
    while let Some(Ok(message)) = ws.next().await {
        if message.is_text() || message.is_binary() {
            if ws.send(message).await.is_err() {
                break;
            }
        } else if ws.flush().await.is_err() {
            break;
        }
    }
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The cases a server must refuse. 18.5.2 (version 8) is not among them: a server that speaks
/// version 8 may open.
const REFUSALS: &[&str] = &[
    "18.1.1", "18.1.2", "18.1.3", "18.2.1", "18.2.2", "18.3.1", "18.3.2", "18.3.7", "18.4.1", "18.4.2", "18.4.3", "18.4.4",
    "18.4.5", "18.5.1", "18.5.3", "18.5.4", "18.7.3",
];
const MUST_OPEN: &[&str] = &["18.3.3", "18.3.4", "18.3.5", "18.3.6", "18.6.1", "18.6.2", "18.7.1", "18.7.2", "18.7.4", "18.8.1"];

#[rstest]
#[case::conforming(ServerFlaw::None, &[])]
#[case::accepts_anything(ServerFlaw::AcceptsAnything, REFUSALS)]
#[case::case_sensitive(ServerFlaw::CaseSensitive, &["18.3.3", "18.3.4", "18.3.5", "18.3.6", "18.6.1", "18.6.2"])]
#[case::version_without_list(ServerFlaw::VersionWithoutList, &["18.5.2", "18.5.3"])]
// The check every 101 gets: a subprotocol nobody offered fails every case that opens, 1.1.1 too.
#[case::unoffered_protocol(ServerFlaw::SelectsUnofferedProtocol, &[MUST_OPEN, &["1.1.1"]].concat())]
#[case::one_read_only(ServerFlaw::OneReadOnly, &["18.8.1"])]
#[tokio::test(flavor = "multi_thread")]
async fn a_server_handshake_flaw_is_caught(#[case] flaw: ServerFlaw, #[case] expected: &[&str]) {
    let url = start_server(flaw).await;
    let records = support::run(&url, &support::cases(&["18.*", "1.1.1"])).await;
    let mut expected = ids(expected);
    expected.sort();
    let mut failing = support::failing(&records);
    failing.sort();
    assert_eq!(failing, expected, "{flaw:?}");
    if flaw == ServerFlaw::SelectsUnofferedProtocol {
        assert!(records["1.1.1"].result.contains("§4.2.2") && records["1.1.1"].result.contains("chat"), "{}", records["1.1.1"].result);
    }
}

/// How a test client gets its handshake wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientFlaw {
    None,
    /// Opens on any answer, whatever its status and headers.
    NoValidation,
    /// Discards what came in the same read as the end of the 101.
    LosesFirstFrame,
    /// Requires the reason phrase `Switching Protocols`.
    WantsSwitchingProtocols,
    /// Compares header names and the Upgrade and Connection values case-sensitively, as a whole.
    CaseSensitive,
    /// Sends the same key on every connection.
    ReusesKey,
    /// Sends no `Host`.
    NoHost,
    /// Sends a text frame right behind its request.
    EarlyFrame,
}

/// Plays every case of `patterns` (client role) with a client that has `flaw`; records by id.
async fn run_client(patterns: &[&str], flaw: ClientFlaw) -> BTreeMap<String, CaseRecord> {
    let cases = support::catalog()
        .cases
        .into_iter()
        .filter(|c| c.applies_to(Role::Client) && patterns.iter().any(|p| case_matches(p, c.id.as_str())))
        .collect();
    let out = tempfile::tempdir().unwrap();
    let sink = std::sync::Arc::new(wsspec_reports::sink::Sink::open(out.path()).unwrap());
    let config = ClientTestConfig { cases, exclude_agent_cases: Default::default(), sink, options: RunOptions::default(), on_result: None, tls: None, on_refusal: None };
    let server = ClientTestServer::start("127.0.0.1:0", config).await.unwrap();
    for n in 1..=server.case_count() {
        let _ = timeout(Duration::from_secs(10), play(server.addr, n, flaw)).await;
    }
    server.settle(Duration::from_secs(30)).await;
    assert!(server.missing("client").is_empty(), "{:?}", server.missing("client"));
    server.records("client").into_iter().map(|r| (r.id.clone(), r)).collect()
}

async fn play(addr: SocketAddr, case: usize, flaw: ClientFlaw) -> Option<()> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    tcp.set_nodelay(true).ok()?;
    let key = if flaw == ClientFlaw::ReusesKey { "dGhlIHNhbXBsZSBub25jZQ==".to_string() } else { random_key() };
    let mut request = RequestSpec::websocket(&addr.to_string(), &format!("/runCase?case={case}&agent=client"), &key);
    match flaw {
        ClientFlaw::NoHost => request.headers.remove("Host"),
        ClientFlaw::EarlyFrame => request.trailer = FrameSpec::new(OpCode::Text, b"early".to_vec()).masked(rand::random()).encode(),
        _ => {}
    }
    tcp.write_all(&request.encode()).await.ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (response, mut leftover) = loop {
        let n = tcp.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(response) = parse_response(&buf).ok()? {
            let leftover = buf.split_off(response.head_len);
            break (response, leftover);
        }
    };
    let status_line = String::from_utf8_lossy(&buf[..buf.iter().position(|b| *b == b'\r').unwrap_or(0)]).into_owned();
    let conforming = check_response(&response, &key).and_then(|()| check_negotiation(&response, &request.headers)).is_ok();
    let exact = |name: &str, value: &str| response.headers.iter().any(|(n, v)| n == name && v == value);
    let accepted = match flaw {
        ClientFlaw::NoValidation => true,
        ClientFlaw::WantsSwitchingProtocols => conforming && status_line.ends_with(" Switching Protocols"),
        ClientFlaw::CaseSensitive => conforming && exact("Upgrade", "websocket") && exact("Connection", "Upgrade"),
        _ => conforming,
    };
    if !accepted {
        return None;
    }
    if flaw == ClientFlaw::LosesFirstFrame {
        leftover.clear();
    }
    echo(WebSocketStream::from_partially_read(tcp, leftover, WsRole::Client, Some(config())).await).await;
    Some(())
}

const MUST_FAIL: &[&str] =
    &["19.2.1", "19.2.10", "19.2.11", "19.2.2", "19.2.3", "19.2.4", "19.2.5", "19.2.6", "19.2.7", "19.2.8", "19.2.9"];

#[rstest]
#[case::conforming(ClientFlaw::None, &[])]
#[case::no_validation(ClientFlaw::NoValidation, MUST_FAIL)]
#[case::wants_switching_protocols(ClientFlaw::WantsSwitchingProtocols, &["19.1.4", "19.1.5"])]
#[case::case_sensitive(ClientFlaw::CaseSensitive, &["19.1.1", "19.1.2", "19.1.3"])]
#[tokio::test(flavor = "multi_thread")]
async fn a_client_handshake_flaw_is_caught(#[case] flaw: ClientFlaw, #[case] expected: &[&str]) {
    let records = run_client(&["19.*"], flaw).await;
    let mut expected = ids(expected);
    expected.sort();
    let mut failing = support::failing(&records);
    failing.sort();
    assert_eq!(failing, expected, "{flaw:?}");
}

/// Losing what shares a read with the 101: 19.1.7 writes them together, so it always catches it.
/// In the other 19.1 cases wsspec's first frame follows the 101 at once and may share the read too
/// (a real client with this bug loses it there as well), so they may or may not.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_loses_the_first_frame_is_caught_by_19_1_7() {
    let records = run_client(&["19.*"], ClientFlaw::LosesFirstFrame).await;
    let failing = support::failing(&records);
    assert!(failing.contains(&"19.1.7".to_string()), "{failing:?}");
    assert!(failing.iter().all(|id| id.starts_with("19.1.")), "{failing:?}");
}

/// A request that breaks a MUST of §4.1 is refused with a 400, and every case it was sent for is
/// FAILED with the sentence it breaks: never a silent MISSING.
#[rstest]
#[case::reuses_key(ClientFlaw::ReusesKey, "The nonce MUST be selected randomly for each connection")]
#[case::no_host(ClientFlaw::NoHost, "The request MUST contain a |Host| header field")]
#[case::early_frame(ClientFlaw::EarlyFrame, "the client MUST wait for a response from the server")]
#[tokio::test(flavor = "multi_thread")]
async fn a_client_request_flaw_fails_every_case(#[case] flaw: ClientFlaw, #[case] sentence: &str) {
    let records = run_client(&["1.1.*", "19.1.1"], flaw).await;
    assert_eq!(records.len(), 9);
    for record in records.values() {
        if flaw == ClientFlaw::ReusesKey && record.id == "1.1.1" {
            assert_eq!(record.behavior.as_str(), "OK", "the first use of a key is fine: {}", record.result);
            continue;
        }
        assert_eq!(record.behavior.as_str(), "FAILED", "{}: {}", record.id, record.result);
        assert!(record.result.contains(sentence), "{}: {}", record.id, record.result);
        assert!(record.http_response.starts_with("HTTP/1.1 400"), "{}", record.http_response);
    }
}
