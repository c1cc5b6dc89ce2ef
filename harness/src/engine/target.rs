//! The target's address, from a `ws://` or `wss://` URL.

use url::Url;

/// Where a server under test listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// Path and query for the request line.
    pub resource: String,
    /// The `Host` header value.
    pub host_header: String,
    pub url: String,
    /// `wss://`: the connection runs over TLS (§4.1 step 5).
    pub secure: bool,
    /// The TLS server name indicated (SNI) and checked against the certificate: the URL's host
    /// unless set otherwise (Autobahn's `hostname`).
    pub server_name: String,
}

impl Target {
    /// Parses a `ws://host[:port]/path` or `wss://host[:port]/path` URL (ports 80 and 443 by
    /// default, §3).
    pub fn parse(url: &str) -> Result<Self, String> {
        let parsed = Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        let secure = match parsed.scheme() {
            "ws" => false,
            "wss" => true,
            other => return Err(format!("`{url}`: scheme `{other}`, expected ws:// or wss://")),
        };
        if parsed.fragment().is_some() {
            return Err(format!("`{url}` has a fragment (`#…`): RFC 6455 §3 forbids fragment identifiers in WebSocket URIs (a literal `#` is written %23)"));
        }
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("`{url}` has no host"))?;
        let port = parsed.port().unwrap_or(if secure { 443 } else { 80 });
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let mut resource = parsed.path().to_string();
        if let Some(query) = parsed.query() {
            resource.push('?');
            resource.push_str(query);
        }
        let host_header = match (parsed.port(), host.contains(':')) {
            (Some(p), true) => format!("[{host}]:{p}"),
            (Some(p), false) => format!("{host}:{p}"),
            (None, true) => format!("[{host}]"),
            (None, false) => host.clone(),
        };
        Ok(Self { server_name: host.clone(), host, port, resource, host_header, url: url.to_string(), secure })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ws_urls() {
        let t = Target::parse("ws://127.0.0.1:9001/echo?x=1").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.resource.as_str(), t.host_header.as_str()), ("127.0.0.1", 9001, "/echo?x=1", "127.0.0.1:9001"));
        assert_eq!(Target::parse("ws://localhost").unwrap().resource, "/");
        assert!(Target::parse("http://x").unwrap_err().contains("scheme `http`"));
        let secure = Target::parse("wss://example.com/chat").unwrap();
        assert_eq!((secure.secure, secure.port, secure.host_header.as_str()), (true, 443, "example.com"));
        assert!(!t.secure);
        assert!(Target::parse("not a url").is_err());
        assert!(Target::parse("ws://h:1/chat#f").unwrap_err().contains("has a fragment"), "RFC 6455 §3");
        assert_eq!(Target::parse("ws://h:1/chat%23f").unwrap().resource, "/chat%23f");
    }
}
