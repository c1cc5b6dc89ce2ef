//! The checks beyond §4.1's four on a server's 101 (what it negotiated against what the client
//! offered, §4.2.2 and §11.3), and the RFC sentence behind every [`HandshakeError`].

use super::{HandshakeError, Headers, Response};
use crate::catalog::Role;

/// How many lines named `name` (ASCII case-insensitive) `headers` has.
pub(super) fn count(headers: &[(String, String)], name: &str) -> usize {
    headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
}

/// The comma-separated elements of every line named `name`, trimmed, empty ones included.
pub fn tokens<'a>(headers: impl IntoIterator<Item = &'a (String, String)>, name: &str) -> Vec<String> {
    headers
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(',').map(|t| t.trim().to_string()).collect::<Vec<_>>())
        .collect()
}

/// Checks what a 101 negotiated against the request that asked for it (`offered`, the request's
/// headers): `Sec-WebSocket-Protocol` and `-Extensions` at most once and never empty (§11.3.2,
/// §11.3.4, §4.2.2), the subprotocol one the client offered (§4.1 step 6, §4.2.2) and each
/// extension one it offered (§4.1 step 5).
pub fn check_negotiation(response: &Response, offered: &Headers) -> Result<(), HandshakeError> {
    for name in ["Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"] {
        if count(&response.headers, name) > 1 {
            return Err(HandshakeError::Repeated(name));
        }
        if response.header(name).is_some_and(|v| v.trim().is_empty()) {
            return Err(HandshakeError::Empty(name));
        }
    }
    if let Some(protocol) = response.header("Sec-WebSocket-Protocol") {
        let protocol = protocol.trim();
        if !tokens(&offered.0, "Sec-WebSocket-Protocol").iter().any(|p| p == protocol) {
            return Err(HandshakeError::NotOffered { name: "Sec-WebSocket-Protocol", value: protocol.to_string() });
        }
    }
    let offered_extensions: Vec<String> =
        tokens(&offered.0, "Sec-WebSocket-Extensions").iter().map(|e| extension_name(e).to_ascii_lowercase()).collect();
    for extension in tokens(&response.headers, "Sec-WebSocket-Extensions") {
        let name = extension_name(&extension);
        if name.is_empty() {
            return Err(HandshakeError::Empty("Sec-WebSocket-Extensions"));
        }
        if !offered_extensions.contains(&name.to_ascii_lowercase()) {
            return Err(HandshakeError::NotOffered { name: "Sec-WebSocket-Extensions", value: name.to_string() });
        }
    }
    Ok(())
}

/// The extension-token of one element of a `Sec-WebSocket-Extensions` list (before its `;` params).
fn extension_name(element: &str) -> &str {
    element.split(';').next().unwrap_or_default().trim()
}

const REQUEST_VALID: (&str, &str) = ("4.1", "The handshake MUST be a valid HTTP request as specified by [RFC2616].");
const METHOD: (&str, &str) = ("4.1", "The method of the request MUST be GET, and the HTTP version MUST be at least 1.1.");
const HOST: (&str, &str) = ("4.1", "The request MUST contain a |Host| header field whose value contains /host/ plus optionally \":\" followed by /port/ (when not using the default port).");
const HOST_ONCE: (&str, &str) = ("RFC 9112 3.2", "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line.");
const UPGRADE_REQUEST: (&str, &str) = ("4.1", "The request MUST contain an |Upgrade| header field whose value MUST include the \"websocket\" keyword.");
const CONNECTION_REQUEST: (&str, &str) = ("4.1", "The request MUST contain a |Connection| header field whose value MUST include the \"Upgrade\" token.");
const KEY: (&str, &str) = ("4.1", "The request MUST include a header field with the name |Sec-WebSocket-Key|. The value of this header field MUST be a nonce consisting of a randomly selected 16-byte value that has been base64-encoded.");
const KEY_FRESH: (&str, &str) = ("4.1", "The nonce MUST be selected randomly for each connection.");
const KEY_ONCE: (&str, &str) = ("11.3.1", "The |Sec-WebSocket-Key| header field MUST NOT appear more than once in an HTTP request.");
const VERSION: (&str, &str) = ("4.1", "The request MUST include a header field with the name |Sec-WebSocket-Version|. The value of this header field MUST be 13.");
const VERSION_ONCE: (&str, &str) = ("11.3.5", "The |Sec-WebSocket-Version| header field MUST NOT appear more than once in an HTTP request.");
const WAIT: (&str, &str) = ("4.1", "Once the client's opening handshake has been sent, the client MUST wait for a response from the server before sending any further data.");
const RESPONSE_VALID: (&str, &str) = ("4.1", "If the server's response does not conform to the requirements for the server's handshake as defined in this section and in Section 4.2.2, the client MUST _Fail the WebSocket Connection_.");
const UPGRADE_RESPONSE: (&str, &str) = ("4.2.2", "An |Upgrade| header field with value \"websocket\" as per RFC 2616.");
const CONNECTION_RESPONSE: (&str, &str) = ("4.2.2", "A |Connection| header field with value \"Upgrade\".");
const ACCEPT: (&str, &str) = ("4.2.2", "A |Sec-WebSocket-Accept| header field. The value of this header field is constructed by concatenating /key/, defined above in step 4 in Section 4.2.2, with the string \"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\", taking the SHA-1 hash of this concatenated value to obtain a 20-byte value and base64-encoding this 20-byte hash.");
const ACCEPT_ONCE: (&str, &str) = ("11.3.3", "The |Sec-WebSocket-Accept| header MUST NOT appear more than once in an HTTP response.");
const PROTOCOL_ONCE: (&str, &str) = ("11.3.4", "The |Sec-WebSocket-Protocol| header field MUST NOT appear more than once in an HTTP response.");
const EXTENSIONS_ONCE: (&str, &str) = ("11.3.2", "The |Sec-WebSocket-Extensions| header field MUST NOT appear more than once in an HTTP response.");
const PROTOCOL: (&str, &str) = ("4.2.2", "The value chosen MUST be derived from the client's handshake, specifically by selecting one of the values from the |Sec-WebSocket-Protocol| field that the server is willing to use for this connection (if any). The empty string is not the same as the null value for these purposes and is not a legal value for this field.");
const EXTENSIONS: (&str, &str) = ("4.1", "If the response includes a |Sec-WebSocket-Extensions| header field and this header field indicates the use of an extension that was not present in the client's handshake (the server has indicated an extension not requested by the client), the client MUST _Fail the WebSocket Connection_.");

impl HandshakeError {
    /// The RFC section (RFC 6455 unless it says otherwise) and the sentence the head breaks;
    /// `sender` is who sent it: a client's request or a server's answer.
    pub fn requirement(&self, sender: Role) -> (&'static str, &'static str) {
        let client = sender == Role::Client;
        let by_name = |name: &str| match (name, client) {
            ("method" | "HTTP version", _) => METHOD,
            ("Host", _) => HOST,
            ("Upgrade", true) => UPGRADE_REQUEST,
            ("Upgrade", false) => UPGRADE_RESPONSE,
            ("Connection", true) => CONNECTION_REQUEST,
            ("Connection", false) => CONNECTION_RESPONSE,
            ("Sec-WebSocket-Key", _) => KEY,
            ("Sec-WebSocket-Version", _) => VERSION,
            ("Sec-WebSocket-Accept", _) => ACCEPT,
            ("Sec-WebSocket-Protocol", _) => PROTOCOL,
            ("Sec-WebSocket-Extensions", _) => EXTENSIONS,
            _ if client => REQUEST_VALID,
            _ => RESPONSE_VALID,
        };
        match self {
            Self::Malformed(_) | Self::TooLarge | Self::Status(_) if client => REQUEST_VALID,
            Self::Malformed(_) | Self::TooLarge | Self::Status(_) => RESPONSE_VALID,
            Self::Missing(name) | Self::Empty(name) | Self::Wrong { name, .. } | Self::NotOffered { name, .. } => by_name(name),
            Self::Repeated(name) => match *name {
                "Host" => HOST_ONCE,
                "Sec-WebSocket-Key" => KEY_ONCE,
                "Sec-WebSocket-Version" => VERSION_ONCE,
                "Sec-WebSocket-Accept" => ACCEPT_ONCE,
                "Sec-WebSocket-Protocol" => PROTOCOL_ONCE,
                "Sec-WebSocket-Extensions" => EXTENSIONS_ONCE,
                other => by_name(other),
            },
            Self::KeyReused(_) => KEY_FRESH,
            Self::EarlyData(_) => WAIT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{parse_response, RequestSpec};

    fn answer(extra: &str) -> Response {
        let text = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{extra}\r\n");
        parse_response(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn negotiation_is_checked_against_the_offer() {
        let mut request = RequestSpec::websocket("h", "/", "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(check_negotiation(&answer(""), &request.headers), Ok(()));
        let chat = answer("Sec-WebSocket-Protocol: chat\r\n");
        assert!(matches!(check_negotiation(&chat, &request.headers), Err(HandshakeError::NotOffered { .. })));
        request.headers.add("Sec-WebSocket-Protocol", "superchat, chat");
        request.headers.add("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
        assert_eq!(check_negotiation(&chat, &request.headers), Ok(()));
        let twice = answer("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n");
        assert_eq!(check_negotiation(&twice, &request.headers), Err(HandshakeError::Repeated("Sec-WebSocket-Protocol")));
        let empty = answer("Sec-WebSocket-Protocol: \r\n");
        assert_eq!(check_negotiation(&empty, &request.headers), Err(HandshakeError::Empty("Sec-WebSocket-Protocol")));
        let deflate = answer("Sec-WebSocket-Extensions: Permessage-Deflate; server_no_context_takeover\r\n");
        assert_eq!(check_negotiation(&deflate, &request.headers), Ok(()));
        let other = answer("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n");
        assert!(matches!(check_negotiation(&other, &request.headers), Err(HandshakeError::NotOffered { .. })));
        let (rfc, sentence) = HandshakeError::Repeated("Sec-WebSocket-Protocol").requirement(Role::Server);
        assert_eq!(rfc, "11.3.4");
        assert!(sentence.contains("MUST NOT appear more than once"));
    }
}
