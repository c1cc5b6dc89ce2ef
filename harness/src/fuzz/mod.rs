//! Fuzzing: a structure-aware grammar of client frame sequences, a reference model of what a
//! conforming server must do with each, and the machinery that turns a divergence into a case file.
//!
//! The same grammar feeds the libFuzzer targets in `fuzz/` (bytes from libFuzzer) and `wsspec fuzz`
//! (bytes from a seeded generator), and the same model judges tungstenite in memory and live servers
//! over the network.

pub mod case_file;
pub mod minimize;
pub mod network;
pub mod oracle;
pub mod seeds;
pub mod sequence;
pub mod split;
pub mod tungstenite_peer;

pub use oracle::Outcome;
pub use sequence::Sequence;
