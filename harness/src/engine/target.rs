//! The target's address, from a `ws://` URL.

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
}

impl Target {
    /// Parses a `ws://host[:port]/path` URL. `wss://` is refused for now, with a reason.
    pub fn parse(url: &str) -> Result<Self, String> {
        let parsed = Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        match parsed.scheme() {
            "ws" => {}
            "wss" => return Err(format!("`{url}`: wss:// (TLS) is not supported yet; test the server over ws://")),
            other => return Err(format!("`{url}`: scheme `{other}`, expected ws://")),
        }
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("`{url}` has no host"))?;
        let port = parsed.port().unwrap_or(80);
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
        Ok(Self { host, port, resource, host_header, url: url.to_string() })
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
        assert!(Target::parse("wss://x").unwrap_err().contains("not supported"));
        assert!(Target::parse("not a url").is_err());
    }
}
