//! wsspec: a WebSocket (RFC 6455) conformance suite. The wire codec ([`frame`]), the opening
//! handshake as data ([`handshake`]), the rules a peer can break ([`rules`]), the declarative
//! catalog ([`catalog`]), the engine that runs a case against a live target and judges it
//! ([`engine`]), client testing, the fuzz harness and the reference peers.
//!
//! # Running wsspec from `cargo test`
//!
//! A Rust project can gate on wsspec from an integration test: start its server, select cases, run
//! them, and fail with the failing cases and their reasons. Here the server under test is wsspec's
//! embedded tungstenite echo server; put your own in its place.
//!
//! ```
//! use wsspec::{
//!     catalog::{case_matches, Catalog, Role},
//!     engine::{run_cases, RunConfig, RunOptions, Stop, Target},
//!     peers::reference_server::ReferenceServer,
//! };
//!
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() {
//! let server = ReferenceServer::start().await.expect("the server under test starts");
//! let cases: Vec<_> = Catalog::embedded()
//!     .expect("the built-in catalog loads")
//!     .cases
//!     .into_iter()
//!     .filter(|case| case.applies_to(Role::Server))
//!     .filter(|case| ["1.*", "2.*", "7.1.*"].iter().any(|pattern| case_matches(pattern, case.id.as_str())))
//!     .collect();
//! let reports = tempfile::tempdir().unwrap();
//! let sink = wsspec_reports::sink::Sink::open(reports.path()).expect("a writable report folder");
//! let config = RunConfig { agent: "my-server".into(), target: Target::parse(&server.url()).unwrap(), options: RunOptions::default() };
//! let report = run_cases(&cases, &config, &sink, &Stop::new(), |_| {}).await.expect("the target is reachable");
//! let results = report.results;
//! assert_eq!(results.len(), cases.len());
//! let failing = wsspec::failures(&results);
//! assert!(failing.is_empty(), "cases failed:\n{}", failing.join("\n"));
//! # }
//! ```

pub mod catalog;
pub mod client_testing;
pub mod engine;
pub mod expectations;
pub mod extension;
pub mod frame;
pub mod fuzz;
pub mod handshake;
pub mod http2;
pub mod peers;
pub mod rules;
pub mod tls;
pub mod utf8;

/// The results that fail a run (Autobahn's rule: `behavior` FAILED, or `behaviorClose` FAILED,
/// WRONG CODE or UNCLEAN), one line each: the case id, both verdicts and the reason that decided.
/// Empty when the run passes.
pub fn failures(results: &[wsspec_reports::CaseSummary]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.is_failure())
        .map(|r| format!("{} ({}): {}: {}", r.id, r.agent, r.entry.verdicts(), r.reason))
        .collect()
}

/// Shows bytes as text when they are UTF-8, else as `0x`+hex; longer than `max` bytes is cut and
/// says so. Used wherever untrusted payloads reach a report.
pub fn preview(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    let more = if bytes.len() > max { format!(" … ({} bytes)", bytes.len()) } else { String::new() };
    match std::str::from_utf8(cut) {
        Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => format!("{text}{more}"),
        _ => format!("0x{}{more}", hex::encode(cut)),
    }
}
