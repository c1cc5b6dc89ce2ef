//! The transport a server agent's results were taken over, carried in the agent name so that one
//! report folder holds the same server over HTTP/1.1 and over HTTP/2 side by side (one column per
//! agent and transport) while `index.json` keeps Autobahn's `{agent: {case: result}}` shape.
//!
//! Results over HTTP/1.1 (`ws://` and `wss://`: the same opening handshake and framing, and TLS is
//! named on every case page) are filed under the agent name as given; results over HTTP/2 (RFC 8441)
//! under the name plus `@h2c` (cleartext, RFC 9113 §3.3) or `@h2` (over TLS, §3.2).

/// Separates the agent name from the transport: `my-server@h2c`.
pub const SEPARATOR: char = '@';

/// A transport other than HTTP/1.1, by its RFC 9113 §3 identifier, in the order reports show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transport {
    /// HTTP/2 over cleartext TCP with prior knowledge (`h2c`).
    H2c,
    /// HTTP/2 over TLS, negotiated with ALPN (`h2`).
    H2,
}

impl Transport {
    /// The identifier: `h2c` or `h2`.
    pub fn id(self) -> &'static str {
        match self {
            Self::H2c => "h2c",
            Self::H2 => "h2",
        }
    }

    /// How a report heads the column.
    pub fn label(self) -> &'static str {
        match self {
            Self::H2c => "HTTP/2 (h2c)",
            Self::H2 => "HTTP/2 over TLS (h2)",
        }
    }

    fn from_id(id: &str) -> Option<Self> {
        [Self::H2c, Self::H2].into_iter().find(|t| t.id() == id)
    }
}

/// How a report heads the column of results taken over HTTP/1.1.
pub const HTTP_1_1_LABEL: &str = "HTTP/1.1";

/// The name `agent`'s results over `transport` are filed under: `agent` itself for HTTP/1.1
/// (`None`), else `agent@h2c` / `agent@h2` (a name that already ends so is kept as it is).
pub fn agent_over(agent: &str, transport: Option<Transport>) -> String {
    match transport {
        Some(t) if split_agent(agent).1 != Some(t) => format!("{agent}{SEPARATOR}{}", t.id()),
        _ => agent.to_string(),
    }
}

/// The agent name and the transport of a filed name: `("my-server", Some(H2c))` for
/// `my-server@h2c`; `(name, None)` for any other name.
pub fn split_agent(name: &str) -> (&str, Option<Transport>) {
    match name.rsplit_once(SEPARATOR) {
        Some((agent, id)) if !agent.is_empty() => Transport::from_id(id).map_or((name, None), |t| (agent, Some(t))),
        _ => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_transport_and_split_back() {
        assert_eq!(agent_over("srv", None), "srv");
        assert_eq!(agent_over("srv", Some(Transport::H2c)), "srv@h2c");
        assert_eq!(agent_over("srv@h2c", Some(Transport::H2c)), "srv@h2c");
        assert_eq!(agent_over("srv", Some(Transport::H2)), "srv@h2");
        assert_eq!(split_agent("srv@h2c"), ("srv", Some(Transport::H2c)));
        assert_eq!(split_agent("a@b@h2"), ("a@b", Some(Transport::H2)));
        for plain in ["srv", "srv@", "@h2c", "srv@h3", "user@example.org"] {
            assert_eq!(split_agent(plain), (plain, None), "{plain}");
        }
    }
}
