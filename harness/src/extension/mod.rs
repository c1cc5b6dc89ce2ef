//! WebSocket extensions (RFC 6455 §9): the `Sec-WebSocket-Extensions` grammar and permessage-deflate
//! (RFC 7692), kept apart from the engine so the negotiation, the codec and the data sets can be
//! tested on their own.

pub mod header;
pub mod permessage_deflate;
