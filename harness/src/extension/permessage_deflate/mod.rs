//! permessage-deflate (RFC 7692), both roles, as a library the engine plugs into its extension seam:
//!
//! - [`params`]: the four parameters in offers and responses, window bits, what each direction agreed;
//! - [`server`]: which offer a server accepts and what it answers (Autobahn's accept rules);
//! - [`client`]: a client's check of the answer, one error per RFC 7692 §7.1 rule;
//! - [`crafted`]: answers that break one of those rules, for testing clients;
//! - [`deflater`] / [`inflater`]: per-direction compression and bounded, streaming inflation;
//! - [`datasets`]: the five generated payload sets of 12.x/13.x and Autobahn's message slicing;
//! - [`autobahn_cases`]: the 216 cases 12.1.1–13.7.18 as data.

pub mod autobahn_cases;
pub mod client;
pub mod connection;
pub mod crafted;
pub mod datasets;
pub mod deflater;
pub mod inflater;
pub mod params;
pub mod server;

#[cfg(test)]
mod tests;
