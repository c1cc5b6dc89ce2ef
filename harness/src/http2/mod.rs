//! WebSocket over HTTP/2 (RFC 8441): a WebSocket opened as an extended CONNECT stream of an h2c
//! connection (RFC 9113 §3.3, prior knowledge), carried by [`H2Stream`] as a
//! [`Transport`](crate::engine::Transport) so every frame case runs over it unchanged.

pub mod client;
mod judge;
pub mod probe;
pub mod raw;
mod stream;

pub use stream::{io_error, H2Stream};
pub use judge::{error_name, judge};
