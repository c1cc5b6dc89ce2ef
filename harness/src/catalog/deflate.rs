//! A case's `deflate` table: the permessage-deflate offer wsspec makes when it tests a server, and
//! what the negotiation must come to (RFC 7692 §7.1). Compressed messages are `message` steps with
//! `compressed = true`.

use serde::Deserialize;

/// The `deflate` table of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeflateDef {
    /// The `Sec-WebSocket-Extensions` value wsspec sends, exactly as written (it may be invalid on
    /// purpose). Several offers are one comma-separated list, as Autobahn's 13.7 sends them.
    pub offer: String,
    /// What the server's answer must be.
    #[serde(default)]
    pub negotiation: Negotiation,
}

/// What the negotiation must come to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Negotiation {
    /// The case needs permessage-deflate. A server that declines it gets UNIMPLEMENTED and wsspec
    /// closes with 1000 at once (Autobahn's rule for 12.x/13.x); its answer must follow RFC 7692
    /// §7.1, or the case FAILS.
    #[default]
    Required,
    /// Every offer is invalid: the server MUST decline it, i.e. open without the extension
    /// (RFC 7692 §7.1). Accepting is FAILED; refusing the whole handshake is NON-STRICT.
    Decline,
    /// A valid offer: accepting it (with an answer that follows §7.1) and declining it are both OK.
    Optional,
    /// A list whose first offer is invalid and whose later one is valid: the server MUST decline
    /// the invalid one (RFC 7692 §7.1) and may accept the valid one or decline it too (both OK).
    /// Refusing the whole handshake is NON-STRICT, the same deviation as under `Decline`.
    Fallback,
}

impl Negotiation {
    /// Whether a refused handshake (a status other than 101) is the NON-STRICT "refused instead of
    /// declined" verdict rather than a failure to open: the offer holds an invalid element.
    pub fn refusal_is_non_strict(self) -> bool {
        matches!(self, Negotiation::Decline | Negotiation::Fallback)
    }
}
