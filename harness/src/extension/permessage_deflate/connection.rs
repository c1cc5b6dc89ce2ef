//! permessage-deflate on an open connection, wsspec as the client: the offer's answer checked
//! ([`negotiate`]), then the receiving side plugged into the engine's receiver as an
//! [`Extension`] ([`InflateOnReceive`]: RSV1 on a data message's first frame, inflated as its
//! frames arrive within the receiver's bound), in either role.

use super::{
    client::{validate_response, ResponseError},
    inflater::{InflateError, MessageInflater},
    params::{Agreed, DeflateOffer, DirectionParams, EXTENSION_NAME},
};
use crate::{engine::receiver::Extension, extension::header, frame::OpCode, rules::Violation};

/// RSV1, the bit permessage-deflate gives a meaning to (RFC 7692 §6).
pub const RSV1: u8 = 0b100;

/// The valid permessage-deflate offers in a `Sec-WebSocket-Extensions` value, in order; an invalid
/// element (unknown or repeated parameter, bad value) or a malformed list offers nothing.
pub fn offers(value: &str) -> Vec<DeflateOffer> {
    header::parse(value)
        .map(|elements| {
            elements
                .iter()
                .filter(|element| element.name == EXTENSION_NAME)
                .filter_map(|element| DeflateOffer::from_element(element).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a server's answer (its `Sec-WebSocket-Extensions` lines) to the offer `offer_value`.
/// `Ok(None)`: declined; `Ok(Some(agreed))`: what each direction uses, wsspec's own
/// `client_no_context_takeover` promise included.
///
/// # Errors
/// What the server's answer breaks, as one sentence naming the server (RFC 6455 §9.1, RFC 7692 §7.1).
pub fn negotiate<'a>(offer_value: &str, answer: impl IntoIterator<Item = &'a str>) -> Result<Option<Agreed>, String> {
    let offers = offers(offer_value);
    match validate_response(&offers, answer) {
        Ok(accepted) => Ok(accepted.map(|a| a.agreed)),
        Err(ResponseError::NotOffered(name)) if name == EXTENSION_NAME => Err(format!(
            "the server accepted permessage-deflate although every offer was invalid and had to be declined (RFC 7692 §7.1): {offer_value:?}"
        )),
        Err(error) => Err(error.to_string()),
    }
}

/// The receiving side of permessage-deflate as the engine's receiver sees it (RFC 7692 §6, §7.2.2).
pub struct InflateOnReceive {
    inflater: MessageInflater,
}

impl InflateOnReceive {
    /// Inflates the peer's messages, compressed under `theirs` (the direction the peer sends in),
    /// to at most `limit` octets each.
    pub fn new(theirs: DirectionParams, limit: usize) -> Self {
        Self { inflater: MessageInflater::new(theirs, limit as u64) }
    }
}

impl Extension for InflateOnReceive {
    fn rsv_allowed(&self, opcode: OpCode, first: bool) -> u8 {
        if first && matches!(opcode, OpCode::Text | OpCode::Binary) {
            RSV1
        } else {
            0
        }
    }

    fn decode_piece(&mut self, _rsv: u8, piece: &[u8], limit: usize, out: &mut dyn FnMut(&[u8])) -> Result<(), Violation> {
        self.inflater.push(piece, out).map_err(|error| violation(error, limit))
    }

    fn decode_end(&mut self, _rsv: u8, limit: usize, out: &mut dyn FnMut(&[u8])) -> Result<(), Violation> {
        self.inflater.finish(out).map(drop).map_err(|error| violation(error, limit))
    }

    fn abandon(&mut self) {
        self.inflater.abandon();
    }
}

/// The violation an inflate error is: a message over `limit` (RFC 6455 §7.4.1, 1009), or not
/// DEFLATE (RFC 7692 §7.2.2).
fn violation(error: InflateError, limit: usize) -> Violation {
    match error {
        InflateError::TooLarge { .. } => Violation::MessageTooBig { limit },
        other => Violation::InvalidDeflate { reason: other.to_string() },
    }
}
