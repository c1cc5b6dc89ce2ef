//! The server's side of the negotiation: choosing which offer to accept and what to answer
//! (RFC 7692 §7.1), with the accept rules of Autobahn|Testsuite's 12.x/13.x fuzzing server.
//!
//! Offers with an unknown or repeated parameter or an invalid value are **declined** (skipped),
//! as RFC 7692 §7.1 requires; Autobahn's own server answers 400 instead.

use super::params::{ClientWindowOffer, DeflateOffer, DeflateResponse, WindowBits, EXTENSION_NAME};
use crate::extension::header::ExtensionElement;

/// One way a server may accept an offer: what it asks of the client on top of echoing what the
/// client asked of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    /// Answer `client_no_context_takeover` (RFC 7692 §7.1.1.2 allows it even when not offered).
    pub client_no_context_takeover: bool,
    /// Answer `client_max_window_bits=N`; only offers that carry `client_max_window_bits` can be
    /// accepted this way (RFC 7692 §7.1.2.2).
    pub client_max_window_bits: Option<WindowBits>,
}

impl Grant {
    /// Reads a grant as a case file writes it: what the answer adds to the offer, `""` (nothing,
    /// Autobahn's `accept1`), `client_no_context_takeover`, `client_max_window_bits=N`, or both
    /// separated by `;`.
    ///
    /// # Errors
    /// The part that is neither of the two parameters (or a repeated one, or bad window bits).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut grant = Grant::default();
        for part in text.split(';').map(str::trim).filter(|part| !part.is_empty()) {
            match part.split_once('=').map(|(name, value)| (name.trim(), value.trim())) {
                None if part == "client_no_context_takeover" && !grant.client_no_context_takeover => grant.client_no_context_takeover = true,
                Some(("client_max_window_bits", bits)) if grant.client_max_window_bits.is_none() => {
                    grant.client_max_window_bits =
                        Some(WindowBits::parse(bits).ok_or_else(|| format!("'{bits}' is not a window size of 8 to 15"))?);
                }
                _ => return Err(format!("'{part}' is not client_no_context_takeover or client_max_window_bits=N (once each)")),
            }
        }
        Ok(grant)
    }
}

const fn grant(client_no_context_takeover: bool, bits: u8) -> Grant {
    Grant {
        client_no_context_takeover,
        client_max_window_bits: if bits == 0 { None } else { Some(WindowBits::from_const(bits)) },
    }
}

/// Autobahn's `accept1` (and 12.x's `accept_deflate`): the first offer as it is.
pub const ACCEPT_AS_OFFERED: &[Grant] = &[grant(false, 0)];
/// Autobahn's `accept2`: adds `client_no_context_takeover`.
pub const ACCEPT_NO_CONTEXT_TAKEOVER: &[Grant] = &[grant(true, 0)];
/// Autobahn's `accept3`: `client_max_window_bits=9`.
pub const ACCEPT_WINDOW_9: &[Grant] = &[grant(false, 9)];
/// Autobahn's `accept4`: `client_max_window_bits=15`.
pub const ACCEPT_WINDOW_15: &[Grant] = &[grant(false, 15)];
/// Autobahn's `accept5`: `client_no_context_takeover; client_max_window_bits=9`.
pub const ACCEPT_NO_CONTEXT_TAKEOVER_WINDOW_9: &[Grant] = &[grant(true, 9)];
/// Autobahn's `accept6`: `client_no_context_takeover; client_max_window_bits=15`.
pub const ACCEPT_NO_CONTEXT_TAKEOVER_WINDOW_15: &[Grant] = &[grant(true, 15)];
/// Autobahn's `accept7`: `accept5`, else `accept2`, else `accept1`.
pub const ACCEPT_FALLBACK: &[Grant] = &[grant(true, 9), grant(true, 0), grant(false, 0)];

/// The offer a server accepted and its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acceptance {
    /// Index of the accepted element in the request's extension list.
    pub element: usize,
    /// The offer as read.
    pub offer: DeflateOffer,
    /// The answer to put in `Sec-WebSocket-Extensions` (its `Display` is the header value).
    pub response: DeflateResponse,
}

/// Chooses an answer to a request's extension list: for each grant in order, the first
/// `permessage-deflate` element that is valid and can take that grant. `None` declines the
/// extension (a 101 without it), which is also the answer when every offer is invalid.
pub fn accept(elements: &[ExtensionElement], grants: &[Grant]) -> Option<Acceptance> {
    let offers: Vec<(usize, DeflateOffer)> = elements
        .iter()
        .enumerate()
        .filter(|(_, element)| element.name == EXTENSION_NAME)
        .filter_map(|(index, element)| DeflateOffer::from_element(element).ok().map(|offer| (index, offer)))
        .collect();
    grants.iter().find_map(|grant| {
        offers.iter().find_map(|&(element, offer)| {
            if grant.client_max_window_bits.is_some() && offer.client_max_window_bits == ClientWindowOffer::Absent {
                return None;
            }
            let response = DeflateResponse {
                server_no_context_takeover: offer.server_no_context_takeover,
                server_max_window_bits: offer.server_max_window_bits,
                client_no_context_takeover: grant.client_no_context_takeover,
                client_max_window_bits: grant.client_max_window_bits,
            };
            Some(Acceptance { element, offer, response })
        })
    })
}
