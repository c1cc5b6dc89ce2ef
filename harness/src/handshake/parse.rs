//! Parsing a peer's opening-handshake head and checking it against RFC 6455 §4.1 (a server's
//! answer) and §4.2.1 (a client's request).

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};

use super::{accept_key, MAX_HEAD};

/// What is wrong with a peer's head: a server's answer (§4.1) or a client's request (§4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("the head is not HTTP: {0}")]
    Malformed(String),
    #[error("the head exceeds {MAX_HEAD} bytes")]
    TooLarge,
    #[error("status {0}, expected 101 Switching Protocols")]
    Status(u16),
    #[error("header `{0}` is missing")]
    Missing(&'static str),
    #[error("header `{name}` is `{value}`, expected {expected}")]
    Wrong { name: &'static str, value: String, expected: String },
    #[error("header `{0}` appears more than once")]
    Repeated(&'static str),
    #[error("header `{0}` has an empty value")]
    Empty(&'static str),
    #[error("header `{name}` selects `{value}`, which the client did not offer")]
    NotOffered { name: &'static str, value: String },
    #[error("the key `{0}` was already sent on an earlier connection")]
    KeyReused(String),
    #[error("{0} bytes came before the server's answer")]
    EarlyData(usize),
}

/// A parsed response head.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Bytes of the head, including the blank line.
    pub head_len: usize,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers.iter().map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned())).collect()
}

/// Parses a response head from `data`; `Ok(None)` if it is not complete yet.
pub fn parse_response(data: &[u8]) -> Result<Option<Response>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(data) {
        Ok(httparse::Status::Complete(head_len)) => Ok(Some(Response {
            status: response.code.unwrap_or(0),
            headers: owned_headers(response.headers),
            head_len,
        })),
        Ok(httparse::Status::Partial) if data.len() > MAX_HEAD => Err(HandshakeError::TooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HandshakeError::Malformed(e.to_string())),
    }
}

/// Checks a response against §4.1: 101, `Upgrade: websocket`, `Connection: Upgrade` and the
/// `Sec-WebSocket-Accept` derived from `key`.
pub fn check_response(response: &Response, key: &str) -> Result<(), HandshakeError> {
    if response.status != 101 {
        return Err(HandshakeError::Status(response.status));
    }
    if super::check::count(&response.headers, "Sec-WebSocket-Accept") > 1 {
        return Err(HandshakeError::Repeated("Sec-WebSocket-Accept"));
    }
    let upgrade = response.header("Upgrade").ok_or(HandshakeError::Missing("Upgrade"))?;
    if !upgrade.trim().eq_ignore_ascii_case("websocket") {
        return Err(wrong("Upgrade", upgrade, "`websocket`"));
    }
    let connection = response.header("Connection").ok_or(HandshakeError::Missing("Connection"))?;
    if !connection.split(',').any(|token| token.trim().eq_ignore_ascii_case("upgrade")) {
        return Err(wrong("Connection", connection, "the token `Upgrade`"));
    }
    let accept = response.header("Sec-WebSocket-Accept").ok_or(HandshakeError::Missing("Sec-WebSocket-Accept"))?;
    let expected = accept_key(key);
    if accept.trim() != expected {
        return Err(wrong("Sec-WebSocket-Accept", accept, &format!("`{expected}`")));
    }
    Ok(())
}

/// A parsed request head (the server side of the handshake).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    /// Path and query as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub head_len: usize,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// Parses a request head from `data`; `Ok(None)` if it is not complete yet.
pub fn parse_request(data: &[u8]) -> Result<Option<Request>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(data) {
        Ok(httparse::Status::Complete(head_len)) => Ok(Some(Request {
            method: request.method.unwrap_or_default().to_string(),
            version: request.version.unwrap_or(0),
            target: request.path.unwrap_or_default().to_string(),
            headers: owned_headers(request.headers),
            head_len,
        })),
        Ok(httparse::Status::Partial) if data.len() > MAX_HEAD => Err(HandshakeError::TooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HandshakeError::Malformed(e.to_string())),
    }
}

/// Checks a client's opening request against §4.2.1 and returns its `Sec-WebSocket-Key`.
pub fn check_request(request: &Request) -> Result<String, HandshakeError> {
    if request.method != "GET" {
        return Err(wrong("method", &request.method, "GET"));
    }
    if request.version < 1 {
        return Err(wrong("HTTP version", &format!("1.{}", request.version), "1.1 or later"));
    }
    for name in ["Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version"] {
        if super::check::count(&request.headers, name) > 1 {
            return Err(HandshakeError::Repeated(name));
        }
    }
    request.header("Host").ok_or(HandshakeError::Missing("Host"))?;
    let upgrade = request.header("Upgrade").ok_or(HandshakeError::Missing("Upgrade"))?;
    if !upgrade.split(',').any(|t| t.trim().eq_ignore_ascii_case("websocket")) {
        return Err(wrong("Upgrade", upgrade, "`websocket`"));
    }
    let connection = request.header("Connection").ok_or(HandshakeError::Missing("Connection"))?;
    if !connection.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")) {
        return Err(wrong("Connection", connection, "the token `Upgrade`"));
    }
    let version = request.header("Sec-WebSocket-Version").ok_or(HandshakeError::Missing("Sec-WebSocket-Version"))?;
    if version.trim() != "13" {
        return Err(wrong("Sec-WebSocket-Version", version, "13"));
    }
    let key = request.header("Sec-WebSocket-Key").ok_or(HandshakeError::Missing("Sec-WebSocket-Key"))?.trim();
    if BASE64.decode(key).map(|k| k.len()) != Ok(16) {
        return Err(wrong("Sec-WebSocket-Key", key, "16 bytes in base64"));
    }
    Ok(key.to_string())
}

fn wrong(name: &'static str, value: &str, expected: &str) -> HandshakeError {
    HandshakeError::Wrong { name, value: value.to_string(), expected: expected.to_string() }
}

#[cfg(test)]
mod tests {
    use super::{super::server_response, *};

    #[test]
    fn rfc_accept_example() {
        // RFC 6455 §1.3
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    fn response(text: &str) -> Response {
        parse_response(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn checks_each_required_header() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\
                    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nframes";
        let parsed = response(good);
        assert_eq!(&good.as_bytes()[parsed.head_len..], b"frames");
        assert_eq!(check_response(&parsed, key), Ok(()));
        assert_eq!(check_response(&response("HTTP/1.1 404 Not Found\r\n\r\n"), key), Err(HandshakeError::Status(404)));
        let no_accept = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        assert_eq!(check_response(&response(no_accept), key), Err(HandshakeError::Missing("Sec-WebSocket-Accept")));
        let bad_accept = good.replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "AAAA");
        assert!(matches!(check_response(&response(&bad_accept), key), Err(HandshakeError::Wrong { .. })));
    }

    #[test]
    fn server_side_checks_the_request() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let text = format!("GET /runCase?case=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
                            Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        let request = parse_request(text.as_bytes()).unwrap().unwrap();
        assert_eq!(request.target, "/runCase?case=1");
        assert_eq!(check_request(&request).unwrap(), key);
        assert!(server_response(key).contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        let old = parse_request(text.replace("Version: 13", "Version: 8").as_bytes()).unwrap().unwrap();
        assert!(matches!(check_request(&old), Err(HandshakeError::Wrong { name: "Sec-WebSocket-Version", .. })));
        let plain = parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().unwrap();
        assert_eq!(check_request(&plain), Err(HandshakeError::Missing("Upgrade")));
    }

    #[test]
    fn incomplete_and_oversized_heads() {
        assert!(parse_response(b"HTTP/1.1 101 Switching").unwrap().is_none());
        let huge = format!("HTTP/1.1 101 OK\r\nX: {}", "a".repeat(MAX_HEAD));
        assert_eq!(parse_response(huge.as_bytes()).unwrap_err(), HandshakeError::TooLarge);
        assert!(matches!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n"), Err(HandshakeError::Malformed(_))));
    }
}
