//! A case's `deflate` table: the permessage-deflate offer wsspec makes when it tests a server, how
//! it answers a client's offer when it tests a client, and what the negotiation must come to
//! (RFC 7692 §7.1). Compressed messages are `message` steps with `compressed = true`.

use serde::Deserialize;

use crate::extension::permessage_deflate::{crafted::CraftedResponse, server::Grant};

/// The `deflate` table of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeflateDef {
    /// Testing a server: the `Sec-WebSocket-Extensions` value wsspec sends, exactly as written (it
    /// may be invalid on purpose). Several offers are one comma-separated list, as Autobahn's 13.7
    /// sends them. Required when the case tests servers.
    #[serde(default)]
    pub offer: String,
    /// What the server's answer must be.
    #[serde(default)]
    pub negotiation: Negotiation,
    /// Testing a client: Autobahn's accept rule, grants tried in order (see [`Grant::parse`]); the
    /// first that one of the client's valid offers can take is answered. Default: the first valid
    /// offer as it is (`[""]`, Autobahn's `accept1`).
    #[serde(default = "as_offered")]
    pub accept: Vec<String>,
    /// Testing a client: a crafted answer instead of an accepting one (section 21).
    #[serde(default)]
    pub response: Option<CraftedResponse>,
}

fn as_offered() -> Vec<String> {
    vec![String::new()]
}

impl DeflateDef {
    /// The accept rule's grants; checked when the catalog is loaded.
    ///
    /// # Errors
    /// The first grant that does not parse.
    pub fn grants(&self) -> Result<Vec<Grant>, String> {
        self.accept.iter().map(|text| Grant::parse(text).map_err(|e| format!("accept {text:?}: {e}"))).collect()
    }
}

/// What the negotiation must come to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Negotiation {
    /// The case needs permessage-deflate. A peer that declines it (a server that answers without
    /// it, a client that offers nothing wsspec's accept rule takes) gets UNIMPLEMENTED and wsspec
    /// closes with 1000 at once (Autobahn's rule for 12.x/13.x); a server's answer must follow
    /// RFC 7692 §7.1, or the case FAILS.
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
