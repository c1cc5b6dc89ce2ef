//! Crafted permessage-deflate answers for testing a client (RFC 7692 §7.1, section 21): wsspec,
//! the server, answers the client's offer with a response that breaks one rule the client MUST
//! fail the connection on, or with a valid but unusual one it must accept. Each answer is built
//! from the client's own offer, so that only the one rule is broken; an offer that leaves nothing to
//! break (no `server_max_window_bits` below 15 to exceed, say) makes the case inapplicable.

use serde::Deserialize;

use super::params::{Agreed, ClientWindowOffer, DeflateOffer, DeflateResponse, WindowBits, EXTENSION_NAME};
use crate::extension::header::ExtensionElement;

/// The parameter name wsspec adds where a response needs one RFC 7692 does not define.
pub const UNKNOWN_PARAMETER: &str = "x_wsspec_unknown";

/// One crafted answer to a client's offer (a case's `deflate.response`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum CraftedResponse {
    /// The accepted offer plus a parameter RFC 7692 does not define.
    UnknownParameter,
    /// The accepted offer with `client_no_context_takeover` twice.
    RepeatedParameter,
    /// The accepted offer with `server_max_window_bits` followed by exactly this text (`=7`,
    /// `=08`, `=""`, or nothing for a parameter without its value).
    ServerMaxWindowBits(String),
    /// `client_max_window_bits=10` answered to an offer without `client_max_window_bits`.
    ClientWindowNotOffered,
    /// `server_max_window_bits` one above the limit the client offered.
    ServerWindowAboveOffer,
    /// The accepted offer answered twice, as two permessage-deflate elements.
    TwoElements,
    /// `permessage-deflate` answered to a request that offered no permessage-deflate.
    NotOffered,
    /// `server_no_context_takeover` answered although the client did not ask for it: a valid
    /// answer (RFC 7692 §7.1.1.1), the client must accept it.
    UnsolicitedServerNoContextTakeover,
}

/// What wsspec answers: the `Sec-WebSocket-Extensions` value and, for an answer a client must
/// accept, what each direction then uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CraftedAnswer {
    /// The header value, exactly as sent.
    pub value: String,
    /// `Some` when the answer is valid: the connection then runs with permessage-deflate.
    pub agreed: Option<Agreed>,
}

impl CraftedResponse {
    /// Whether a conforming client accepts this answer.
    pub fn acceptable(&self) -> bool {
        matches!(self, Self::UnsolicitedServerNoContextTakeover)
    }

    /// The answer to a request's extension list (`elements`, the client's
    /// `Sec-WebSocket-Extensions` parsed).
    ///
    /// # Errors
    /// Why this client's offer cannot be answered this way (it offered no permessage-deflate, or
    /// its offer lacks what the broken rule needs): the case does not apply to it.
    pub fn answer(&self, elements: &[ExtensionElement]) -> Result<CraftedAnswer, String> {
        let broken = |value: String| Ok(CraftedAnswer { value, agreed: None });
        if *self == Self::NotOffered {
            return match elements.iter().any(|e| e.name == EXTENSION_NAME) {
                true => Err("the client offered permessage-deflate, so an answer it did not ask for cannot be tested".into()),
                false => broken(EXTENSION_NAME.into()),
            };
        }
        let offers: Vec<DeflateOffer> =
            elements.iter().filter(|e| e.name == EXTENSION_NAME).filter_map(|e| DeflateOffer::from_element(e).ok()).collect();
        let first = |pick: &dyn Fn(&DeflateOffer) -> bool, lacking: &str| -> Result<(DeflateOffer, DeflateResponse), String> {
            let Some(head) = offers.first() else { return Err("the client offered no valid permessage-deflate".into()) };
            let offer = offers.iter().copied().find(|offer| pick(offer));
            offer.map(|offer| (offer, answer_as_offered(&offer))).ok_or_else(|| format!("no permessage-deflate offer of the client {lacking} (its first: '{head}')"))
        };
        let any = |_: &DeflateOffer| true;
        match self {
            Self::UnknownParameter => broken(format!("{}; {UNKNOWN_PARAMETER}", first(&any, "")?.1)),
            Self::RepeatedParameter => {
                let response = DeflateResponse { client_no_context_takeover: false, ..first(&any, "")?.1 };
                broken(format!("{response}; client_no_context_takeover; client_no_context_takeover"))
            }
            Self::ServerMaxWindowBits(text) => {
                let response = DeflateResponse { server_max_window_bits: None, ..first(&any, "")?.1 };
                broken(format!("{response}; server_max_window_bits{text}"))
            }
            Self::ClientWindowNotOffered => {
                let (_, accepted) = first(&|o| o.client_max_window_bits == ClientWindowOffer::Absent, "lacks client_max_window_bits")?;
                let response = DeflateResponse { client_max_window_bits: WindowBits::new(10), ..accepted };
                broken(response.to_string())
            }
            Self::ServerWindowAboveOffer => {
                let (offer, accepted) = first(&|o| o.server_max_window_bits.is_some_and(|b| b < WindowBits::MAX), "limits server_max_window_bits below 15")?;
                let above = offer.server_max_window_bits.and_then(|b| WindowBits::new(b.get() + 1));
                broken(DeflateResponse { server_max_window_bits: above, ..accepted }.to_string())
            }
            Self::TwoElements => {
                let response = first(&any, "")?.1;
                broken(format!("{response}, {response}"))
            }
            Self::UnsolicitedServerNoContextTakeover => {
                let (_, accepted) = first(&|o| !o.server_no_context_takeover, "leaves out server_no_context_takeover")?;
                let response = DeflateResponse { server_no_context_takeover: true, ..accepted };
                Ok(CraftedAnswer { value: response.to_string(), agreed: Some(Agreed::from(response)) })
            }
            Self::NotOffered => unreachable!("answered above"),
        }
    }
}

/// The answer that takes `offer` as it is (Autobahn's `accept1`).
fn answer_as_offered(offer: &DeflateOffer) -> DeflateResponse {
    DeflateResponse {
        server_no_context_takeover: offer.server_no_context_takeover,
        server_max_window_bits: offer.server_max_window_bits,
        client_no_context_takeover: false,
        client_max_window_bits: None,
    }
}
