//! The engine: runs cases against a target, one TCP connection per case, many at once, and judges
//! each into Autobahn's verdicts.

use crate::catalog;

mod event;
mod judge;
mod record;
mod runner;
mod script;
mod session;
mod target;
mod transport;
mod wire_log;

pub use event::Event;
pub use judge::{judge, Verdict};
pub use runner::{run_cases, RunConfig, RunError};
pub use session::{drive_case, run_case, Observation};
pub use target::Target;
pub use transport::Transport;
pub use wire_log::Dir;

/// Judges an observation and builds the case's report record.
pub fn report(agent: &str, case: &catalog::Case, obs: Observation) -> wsspec_reports::CaseRecord {
    let verdict = judge(case, &obs);
    record::build(agent, case, obs, verdict)
}

/// Knobs that apply to every case of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Multiplies every timeout and pause (slow targets, debuggers).
    pub timeout_scale: f64,
    /// Cases in flight at once.
    pub jobs: usize,
    /// The largest message or frame wsspec accepts from a target.
    pub max_message: usize,
    /// How wsspec opens TLS to a `wss://` server (none: `wss://` targets cannot be reached).
    pub tls: Option<crate::tls::Connector>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { timeout_scale: 1.0, jobs: default_jobs(), max_message: 64 << 20, tls: None }
    }
}

/// Cases are mostly waiting on the network, so several per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 4).clamp(4, 32)
}
