//! Reference peers: independent WebSocket implementations wsspec runs against itself, for the demo
//! and for the tests.

pub mod deflate_reference;
pub mod faulty;
pub mod h2_server;
pub mod reference_client;
pub mod reference_server;
