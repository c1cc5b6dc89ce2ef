//! The client's side of the negotiation: checking a server's answer against what was offered
//! (RFC 7692 §7.1, every "the client MUST _Fail the WebSocket Connection_" rule), one error per rule.

use super::params::{Agreed, ClientWindowOffer, DeflateOffer, DeflateResponse, ParamError, WindowBits, EXTENSION_NAME};
use crate::extension::header::{self, HeaderError};

/// Why a client must fail the connection on a server's `Sec-WebSocket-Extensions` answer. The
/// server is the one at fault in every case.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The header does not follow RFC 6455 §9.1.
    #[error("the server's Sec-WebSocket-Extensions is malformed: {0}")]
    Header(#[from] HeaderError),
    /// An extension the client did not offer (RFC 6455 §9.1: "the server MUST NOT respond with an
    /// extension the client did not request"), including permessage-deflate when none was offered.
    #[error("the server answered extension '{0}', which was not offered (RFC 6455 §4.1, §9.1)")]
    NotOffered(String),
    /// Two permessage-deflate elements in one answer (RFC 7692 §7.1: at most one is accepted).
    #[error("the server answered permessage-deflate more than once (RFC 7692 §7.1)")]
    Repeated,
    /// An unknown or repeated parameter or an invalid value (RFC 7692 §7.1).
    #[error("the server's permessage-deflate answer: {0}")]
    Parameter(#[from] ParamError),
    /// `client_max_window_bits` in the answer when no accepted offer carried it (RFC 7692 §7.1.2.2).
    #[error("the server answered client_max_window_bits={0}, which the client did not offer (RFC 7692 §7.1.2.2)")]
    ClientWindowNotOffered(WindowBits),
    /// `server_max_window_bits` larger than the offer allowed (RFC 7692 §7.1.2.1).
    #[error("the server answered server_max_window_bits={answered}, above the {offered} offered (RFC 7692 §7.1.2.1)")]
    ServerWindowAboveOffer {
        /// The limit the client offered.
        offered: WindowBits,
        /// What the server answered.
        answered: WindowBits,
    },
}

/// A server's answer that the client accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Index into the offers of the first offer the answer fits.
    pub offer: usize,
    /// The answer as read.
    pub response: DeflateResponse,
    /// What each direction does. The client's own direction also keeps the client's promise: an
    /// offer with `client_no_context_takeover` resets the client's compressor per message even if
    /// the server's answer omits it (RFC 7692 §7.1.1.2: the offer tells the server it may rely on it).
    pub agreed: Agreed,
}

/// Checks the `Sec-WebSocket-Extensions` lines of a 101 response against the offers sent.
/// `Ok(None)`: the server declined (no permessage-deflate element and no other extension).
///
/// # Errors
/// [`ResponseError`], the rule of RFC 6455 §9.1 or RFC 7692 §7.1 the answer breaks. With several
/// offers the answer must fit one of them; otherwise the error is the one against the first offer.
pub fn validate_response<'a>(
    offers: &[DeflateOffer],
    lines: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Accepted>, ResponseError> {
    let lines: Vec<&str> = lines.into_iter().filter(|line| !line.trim().is_empty()).collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let elements = header::parse_lines(lines)?;
    if let Some(other) = elements.iter().find(|element| element.name != EXTENSION_NAME) {
        return Err(ResponseError::NotOffered(other.name.clone()));
    }
    if offers.is_empty() {
        return Err(ResponseError::NotOffered(EXTENSION_NAME.to_owned()));
    }
    if elements.len() > 1 {
        return Err(ResponseError::Repeated);
    }
    let response = DeflateResponse::from_element(&elements[0])?;
    let mut first_error = None;
    for (index, offer) in offers.iter().enumerate() {
        match fits(offer, &response) {
            Ok(()) => {
                let mut agreed = Agreed::from(response);
                agreed.client.no_context_takeover |= offer.client_no_context_takeover;
                return Ok(Some(Accepted { offer: index, response, agreed }));
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.expect("at least one offer was tried"))
}

fn fits(offer: &DeflateOffer, response: &DeflateResponse) -> Result<(), ResponseError> {
    if let Some(answered) = response.client_max_window_bits {
        if offer.client_max_window_bits == ClientWindowOffer::Absent {
            return Err(ResponseError::ClientWindowNotOffered(answered));
        }
    }
    if let (Some(offered), Some(answered)) = (offer.server_max_window_bits, response.server_max_window_bits) {
        if answered > offered {
            return Err(ResponseError::ServerWindowAboveOffer { offered, answered });
        }
    }
    Ok(())
}
