//! The engine: runs cases against a target, one connection per case, many at once, and judges each
//! into Autobahn's verdicts. A case is connect ([`Transport`]) → open ([`opening`]) → play the script
//! ([`script`], driven by the session loop) → receive ([`receiver`]: frames in, events and typed
//! violations out) → judge ([`judge`]), with what happened kept in an [`Observation`].

use crate::catalog;

mod deflate;
mod event;
mod faults;
pub mod event_log;
mod judge;
mod kept_open;
mod liveness;
mod observation;
mod read_buffer;
pub mod opening;
mod pings;
mod refusals;
pub mod receiver;
mod record;
mod case_task;
pub(crate) mod runner;
mod schedule;
mod script;
mod session;
mod stop;
mod outgoing;
mod target;
mod transport;
mod wire_log;

pub use event::Event;
pub use event_log::EventLog;
pub(crate) use deflate::answer_offer;
pub use judge::{judge, missed, Verdict};
pub(crate) use liveness::watch_open;
pub use kept_open::{run_case_keeping_open, OpenWebSocket};
pub use observation::{FramesBound, HttpExchange, Observation};
pub use opening::{judge_opening, run_opening, OpeningExpectation};
pub use refusals::{plain_handshake_opens, AloneAttempts, ALONE_ATTEMPTS, GONE_PROBES};
pub use runner::{run_cases, RunConfig, RunEnd, RunError, RunReport, OPEN_FAILURES};
pub use session::{drive_case, run_case, MAX_MESSAGE_FRAMES};
pub use stop::{Stop, GRACE};
pub use target::Target;
pub use transport::{probe, EndWords, Transport};
pub use wire_log::{Dir, WireLog};

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
    /// The largest message or frame wsspec accepts from a target, in bytes (default 64 MiB, the
    /// catalog's `MAX_PAYLOAD`).
    pub max_message: usize,
    /// How wsspec opens TLS to a `wss://` server (none: `wss://` targets cannot be reached).
    pub tls: Option<crate::tls::Connector>,
    /// Open each case's WebSocket as an RFC 8441 extended CONNECT stream over h2c instead of an
    /// HTTP/1.1 upgrade.
    pub http2: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { timeout_scale: 1.0, jobs: default_jobs(), max_message: catalog::MAX_PAYLOAD, tls: None, http2: false }
    }
}

/// Cases are mostly waiting on the network, so several per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 4).clamp(4, 32)
}
