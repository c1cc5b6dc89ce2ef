//! Opening-handshake messages as data, conforming or broken on purpose: any method, HTTP version or
//! request target, each header present, absent, repeated or odd-cased, raw bytes instead of a head,
//! and the head written in chops.

use super::accept_key;

/// Header lines in the order they are written, names spelled as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The value of the first line named `name` (ASCII case-insensitive, as HTTP compares names).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Appends a line, repeating the header if it is already there.
    pub fn add(&mut self, name: &str, value: &str) {
        self.0.push((name.to_string(), value.to_string()));
    }

    /// Sets the header to one line spelled `name`, in place of the first line of that name (the
    /// others are removed), or appended.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(at) => {
                self.0[at] = (name.to_string(), value.to_string());
                let mut index = 0;
                self.0.retain(|(n, _)| {
                    index += 1;
                    index - 1 == at || !n.eq_ignore_ascii_case(name)
                });
            }
            None => self.add(name, value),
        }
    }

    /// Removes every line named `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.0 {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// A client's opening request (§4.1). [`RequestSpec::websocket`] is the conforming one; every field
/// can then be changed to break it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// The protocol of the request line, e.g. `HTTP/1.1`.
    pub version: String,
    pub headers: Headers,
    /// Bytes sent instead of the head the fields make.
    pub raw: Option<Vec<u8>>,
    /// Bytes per write call; `None` writes the head at once.
    pub chop: Option<usize>,
    /// Bytes written right behind the head, in the same write (a frame sent before the 101).
    pub trailer: Vec<u8>,
}

impl RequestSpec {
    /// The conforming request for `target` on `host` (the `Host` value) with `key`.
    pub fn websocket(host: &str, target: &str, key: &str) -> Self {
        let mut headers = Headers::default();
        headers.add("Host", host);
        headers.add("Upgrade", "websocket");
        headers.add("Connection", "Upgrade");
        headers.add("Sec-WebSocket-Key", key);
        headers.add("Sec-WebSocket-Version", "13");
        headers.add("User-Agent", concat!("wsspec/", env!("CARGO_PKG_VERSION")));
        Self { method: "GET".into(), target: target.into(), version: "HTTP/1.1".into(), headers, raw: None, chop: None, trailer: Vec::new() }
    }

    /// The key the answer's `Sec-WebSocket-Accept` is derived from.
    pub fn key(&self) -> Option<&str> {
        self.headers.get("Sec-WebSocket-Key")
    }

    /// The bytes on the wire: the head (or `raw`), then the trailer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = match &self.raw {
            Some(raw) => raw.clone(),
            None => format!("{} {} {}\r\n", self.method, self.target, self.version).into_bytes(),
        };
        if self.raw.is_none() {
            self.headers.encode_into(&mut out);
        }
        out.extend_from_slice(&self.trailer);
        out
    }
}

/// A server's answer (§4.2.2). [`ResponseSpec::switching_protocols`] is the conforming 101.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSpec {
    /// The protocol of the status line, e.g. `HTTP/1.1`.
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    /// Bytes sent instead of the head the fields make.
    pub raw: Option<Vec<u8>>,
    /// Bytes per write call; `None` writes the head at once.
    pub chop: Option<usize>,
    /// Bytes written right behind the head, in the same write (the first frame with the 101).
    pub trailer: Vec<u8>,
}

impl ResponseSpec {
    /// The conforming 101 answering a request with `key`.
    pub fn switching_protocols(key: &str) -> Self {
        let mut headers = Headers::default();
        headers.add("Upgrade", "websocket");
        headers.add("Connection", "Upgrade");
        headers.add("Sec-WebSocket-Accept", &accept_key(key));
        headers.add("Server", concat!("wsspec/", env!("CARGO_PKG_VERSION")));
        Self { version: "HTTP/1.1".into(), status: 101, reason: "Switching Protocols".into(), headers, raw: None, chop: None, trailer: Vec::new() }
    }

    /// The bytes on the wire: the head (or `raw`), then the trailer. An empty `reason` leaves the
    /// status line without a reason phrase, but with the space before it (RFC 9112 §4).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = match &self.raw {
            Some(raw) => raw.clone(),
            None => format!("{} {} {}\r\n", self.version, self.status, self.reason).into_bytes(),
        };
        if self.raw.is_none() {
            self.headers.encode_into(&mut out);
        }
        out.extend_from_slice(&self.trailer);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{check_request, check_response, parse_request, parse_response, HandshakeError};

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn checked(request: &RequestSpec) -> Result<String, HandshakeError> {
        check_request(&parse_request(&request.encode()).unwrap().unwrap())
    }

    #[test]
    fn the_conforming_request_and_response_pass_the_checks() {
        let request = RequestSpec::websocket("example.com:9001", "/chat?x=1", KEY);
        assert!(request.encode().starts_with(b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com:9001\r\n"));
        assert_eq!(checked(&request).unwrap(), KEY);
        let response = ResponseSpec::switching_protocols(KEY).encode();
        assert_eq!(check_response(&parse_response(&response).unwrap().unwrap(), KEY), Ok(()));
    }

    #[test]
    fn each_part_can_be_broken_on_purpose() {
        let good = RequestSpec::websocket("h", "/", KEY);
        let post = RequestSpec { method: "POST".into(), ..good.clone() };
        assert!(matches!(checked(&post), Err(HandshakeError::Wrong { name: "method", .. })));
        let old = RequestSpec { version: "HTTP/1.0".into(), ..good.clone() };
        assert!(matches!(checked(&old), Err(HandshakeError::Wrong { name: "HTTP version", .. })));
        let mut no_key = good.clone();
        no_key.headers.remove("sec-websocket-key");
        assert_eq!((no_key.key(), checked(&no_key)), (None, Err(HandshakeError::Missing("Sec-WebSocket-Key"))));
        let mut twice = good.clone();
        twice.headers.add("Sec-WebSocket-Version", "8");
        let text = String::from_utf8(twice.encode()).unwrap();
        assert_eq!(text.matches("Sec-WebSocket-Version").count(), 2, "{text}");
        let mut odd_case = good.clone();
        odd_case.headers.set("uPgRaDe", "WebSocket");
        assert!(String::from_utf8(odd_case.encode()).unwrap().contains("\r\nuPgRaDe: WebSocket\r\n"));
        assert_eq!(odd_case.headers.0.len(), good.headers.0.len(), "set replaces in place");
        assert_eq!(checked(&odd_case).unwrap(), KEY, "names and values compare case-insensitively");
        let raw = RequestSpec { raw: Some(b"SSH-2.0\r\n\r\n".to_vec()), ..good };
        assert_eq!(raw.encode(), b"SSH-2.0\r\n\r\n");
        let mut refused = ResponseSpec::switching_protocols(KEY);
        (refused.status, refused.reason) = (426, "Upgrade Required".into());
        refused.headers.set("Sec-WebSocket-Version", "13");
        assert!(refused.encode().starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
    }
}
