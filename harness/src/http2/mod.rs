//! WebSocket over HTTP/2 (RFC 8441): a WebSocket opened as an extended CONNECT stream of an h2c
//! connection (RFC 9113 §3.3, prior knowledge), carried by [`H2Stream`] as a
//! [`Transport`](crate::engine::Transport) so every frame case runs over it unchanged.

pub mod client;
mod stream;

pub use stream::{io_error, H2Stream};
