//! Runs a selection of cases concurrently against one target and hands each result to the report
//! sink the moment it is judged, so a crash or an interrupt keeps everything recorded so far.
//!
//! Three things end a case without a verdict about the target: wsspec's own failure (a panic in the
//! case task, wsspec's outer time bound, a local resource error such as too many open files),
//! recorded as an error and never counted as FAILED; an interrupt (see [`Stop`]); and a target that
//! stopped opening WebSockets, or never did. A case that did not open is a verdict only once a case
//! that opened after it vouches for the target ([`liveness`]); when [`OPEN_FAILURES`] cases that
//! should have opened are held so, the run stops and the rest are not run, rather than graded as
//! hundreds of failures. A run that ends with cases held asks the target for one plain WebSocket:
//! refused too, the held cases are not run and the run says what the target answered.
//!
//! A case whose TCP connect failed (refused, timed out: nothing was exchanged) counts toward that
//! stop whatever the case, and is recorded as not run, never as a verdict (a server that died
//! mid-run fails no handshake case).
//!
//! wsspec opens up to `jobs` connections at once, where RFC 6455 §4.1 has a client open one at a
//! time (no more than one in CONNECTING state per address): a server may well serve only so many
//! at once and refuse the rest. So a case the target refused while other cases were in flight
//! (answered 503 or 429, or closed or reset before any answer, which may also be a server's answer
//! to a bad handshake case: only alone can the two be told apart) is no verdict yet: it is
//! deferred, and runs again at the end, alone, as Autobahn runs every case; that attempt is
//! judged. Whether the target was busy or refuses that kind of request (a permessage-deflate
//! offer), one plain opening handshake on the case's slot tells: refused too, the run goes on with
//! at most as many cases in flight as had their WebSocket open then (or were in flight, when none
//! had); opened, the limit stays. A target that does not answer at all, or cannot be reached, is
//! not busy but maybe gone: such a case is never deferred and counts toward the stop. A case
//! refused so with nothing else in flight is deferred too, without the plain handshake (no
//! evidence of a limit), unless it runs alone anyway (a deferred case, or one at a time): then it
//! is tried again alone, a few times ([`refusals`]), as a target refusing every other connection
//! whatever the load asks (a case whose refusal may be its answer, such as a handshake case, at
//! once, without pauses); refused at every attempt by a target seen to refuse intermittently, it
//! is not run, never a verdict. [`case_task`] runs each case.
//!
//! Cases start in [`schedule`] order (with several in flight, the longest first). A run holds the
//! full record of a case only until the sink has written it; what it keeps is a [`CaseSummary`].

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{sync::mpsc, task::JoinSet};
use wsspec_reports::{
    case_order,
    sink::{Recorded, RunState, Sink},
    CaseRecord, CaseSummary,
};

use super::{
    case_task::{worker, Judged, Message, Outcome, Span, Stops},
    faults::fit_descriptors,
    liveness::{Held, Liveness},
    refusals::{self, AloneAttempts, Tally, ALONE_ATTEMPTS},
    schedule, RunOptions, Stop, Target,
};
use crate::catalog::Case;

pub(crate) use super::faults::{inject_panic, panic_message};

/// Cases whose WebSocket never opened, with no case that opened after them, after which a run
/// stops: the target is gone. With more cases in flight, the bound is the number in flight:
/// failures come back in milliseconds while the cases that opened are still running, so a target
/// that drops a few connections is not taken for a dead one. A case the target refused (an answer,
/// a closed connection) while other cases were in flight is deferred and does not count; one it
/// did not answer within the opening wait, or that could not connect, counts.
pub const OPEN_FAILURES: usize = 3;

/// One run: an agent (the name results are filed under), its address, its options.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub agent: String,
    pub target: Target,
    pub options: RunOptions,
}

/// Why a run could not be done at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot reach the target {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{0}")]
    Output(#[from] wsspec_reports::ReportError),
}

/// What a run did, besides the files the sink wrote.
#[derive(Debug)]
pub struct RunReport {
    /// Judged results, in case order: each one's verdicts and reason. The full records are in the
    /// report folder (and passed to `on_result` as they are written), never all held at once.
    pub results: Vec<CaseSummary>,
    /// Cases wsspec could not run through its own fault: (id, what went wrong).
    pub errors: Vec<(String, String)>,
    /// Cases the run stopped before, in case order.
    pub not_run: Vec<String>,
    /// Cases the target refused while others were in flight, run again alone at the end (or not
    /// run, when the run stopped first), in case order.
    pub deferred: Vec<String>,
    /// Cases not run because the target refused them at each of [`ALONE_ATTEMPTS`] attempts
    /// alone, after it had shown it refuses connections intermittently; in case order.
    pub refused_alone: Vec<String>,
    /// What the cases run alone met: their opening handshakes, those refused, those that opened
    /// after a refusal.
    pub alone: AloneAttempts,
    /// When the target stopped opening WebSockets: the cases that opened and failed because the
    /// target went away (it closed or reset the connection without a closing handshake, and
    /// nothing else failed first: no violation, no timeout), ending after the last opening
    /// handshake it completed, in case order. Graded on what they saw (a crash on their stimulus,
    /// or a kill from outside: wsspec cannot tell).
    pub failed_as_it_went: Vec<String>,
    /// The most cases in flight at once when the run ended: `jobs`, or fewer once the target
    /// refused cases under load.
    pub at_once: usize,
    pub end: RunEnd,
    /// From the first case's start to the last result.
    pub elapsed: Duration,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Complete,
    /// A [`Stop`] was raised; the reason.
    Interrupted(String),
    /// The target stopped opening WebSockets; what it answered.
    TargetFailed(String),
    /// No case opened a WebSocket, nor did a plain opening handshake: the target is not a
    /// WebSocket endpoint (a wrong path, a plain HTTP server); what it answered.
    NeverOpened(String),
    /// Every case was given its chance, but the target, refusing connections intermittently,
    /// refused some at every attempt alone ([`RunReport::refused_alone`]): which, how often the
    /// target refused, and what it answered last, in a sentence.
    RefusedIntermittently(String),
}

/// Runs `cases` against `config.target`, writing through `sink`; `on_result` sees each judged record
/// as it is written. `stop` ends the run early (an interrupt).
pub async fn run_cases(
    cases: &[Case],
    config: &RunConfig,
    sink: &Sink,
    stop: &Stop,
    mut on_result: impl FnMut(&CaseRecord),
) -> Result<RunReport, RunError> {
    check_reachable(&config.target, &config.options).await?;
    sink.begin_agent(&config.agent, cases.iter().map(|c| c.id.to_string()).collect())?;
    let started = Instant::now();
    // Raised by `stop` (with grace for cases in flight) or by a failing target (at once).
    let (halt, abort) = (Stop::new(), Stop::new());
    let forward = {
        let (stop, halt) = (stop.clone(), halt.clone());
        tokio::spawn(async move {
            stop.raised().await;
            halt.raise(stop.reason().unwrap_or_default());
        })
    };
    // `jobs` workers take cases in schedule order, so the order cases start in is the schedule's.
    let jobs = fit_descriptors(config.options.jobs.max(1));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let queue = Arc::new(schedule::Queue::new(cases, jobs, cores));
    let (done, mut messages) = mpsc::unbounded_channel();
    let tally = Arc::new(Tally::default());
    let mut workers = JoinSet::new();
    for _ in 0..jobs.min(cases.len().max(1)) {
        let (halt, abort) = (halt.clone(), abort.clone());
        workers.spawn(worker(queue.clone(), config.clone(), Stops { halt, abort }, tally.clone(), done.clone()));
    }
    drop(done);

    let mut report = RunReport {
        results: Vec::new(),
        errors: Vec::new(),
        not_run: Vec::new(),
        deferred: Vec::new(),
        refused_alone: Vec::new(),
        alone: AloneAttempts::default(),
        failed_as_it_went: Vec::new(),
        at_once: jobs,
        end: RunEnd::Complete,
        elapsed: Duration::ZERO,
    };
    // Cases that did not open, held until a case that opened after them vouches for the target.
    let mut live = Liveness::default();
    // Whether the stop came from a target that could no longer be reached, not one that answered.
    let mut gone = false;
    // What the first case the target could not be reached for met, when the run went on.
    let mut unreached_answer: Option<String> = None;
    // When an opening handshake last completed, and the cases that opened and failed because the
    // target went away, with when they ended.
    let (mut last_open, mut failed_open) = (None, Vec::new());
    // Cases refused at every attempt alone since a WebSocket last opened, and what the last met.
    let (mut refused_in_a_row, mut last_refusal) = (0, String::new());
    while let Some(message) = messages.recv().await {
        let (case, outcome, span) = match message {
            Message::Opened { started, at } => {
                (last_open, refused_in_a_row) = (last_open.max(Some(at)), 0);
                for entry in live.opened(started) {
                    keep(sink, entry, &mut report, &mut unreached_answer, &mut on_result)?;
                }
                continue;
            }
            Message::Deferred(case) => {
                report.deferred.push(case.id.to_string());
                continue;
            }
            Message::Ended(case, outcome, span) => (case, outcome, span),
        };
        match outcome {
            Outcome::Judged(judged) if judged.opened => {
                let went_away = judged.went_away;
                let vouched = live.opened(span.started);
                for entry in vouched.into_iter().chain([held(judged, span)]) {
                    keep(sink, entry, &mut report, &mut unreached_answer, &mut on_result)?;
                }
                if went_away && report.results.last().is_some_and(|r| r.id == case.id.as_str() && r.is_failure()) {
                    failed_open.push((case.id.to_string(), span.ended));
                }
            }
            Outcome::Judged(judged) if abort.reason().is_some() => report.not_run.push(judged.record.id),
            Outcome::Judged(judged) => {
                if let Some(vouched) = live.not_opened(held(judged, span)) {
                    keep(sink, vouched, &mut report, &mut unreached_answer, &mut on_result)?;
                } else if let Some((answer, unreached)) = live.stops(OPEN_FAILURES.max(queue.limit())) {
                    gone = unreached;
                    abort.raise(answer);
                }
            }
            Outcome::Error(error) => {
                sink.error(&config.agent, case.id.as_str(), &case.title, &error)?;
                report.errors.push((case.id.to_string(), error));
            }
            Outcome::NotRun => report.not_run.push(case.id.to_string()),
            Outcome::Refused(answer) => {
                report.not_run.push(case.id.to_string());
                report.refused_alone.push(case.id.to_string());
                (refused_in_a_row, last_refusal) = (refused_in_a_row + 1, answer);
                // Refused so again and again, with nothing opening between: it refuses everything,
                // unless a plain opening handshake still opens, tried as often as the target
                // refusing at random asks ([`refusals::gone_probes`]: a case is refused so only
                // by a target seen to refuse intermittently).
                if refused_in_a_row >= OPEN_FAILURES {
                    let probes = refusals::gone_probes(tally.intermittent());
                    // An interrupt ends the probes at once (the run then halts).
                    let probed = tokio::select! {
                        probed = refusals::plain_handshake_opens(&config.target, &config.options, probes) => probed,
                        () = halt.raised() => Ok(()),
                    };
                    match probed {
                        Ok(()) => refused_in_a_row = 0,
                        Err(_) => abort.raise(format!(
                            "{last_refusal} ({refused_in_a_row} cases in a row refused at each of {ALONE_ATTEMPTS} attempts alone, and {probes} plain opening handshakes too)"
                        )),
                    }
                }
            }
        }
    }
    workers.shutdown().await;
    // Cases no case that opened vouches for: one plain opening handshake tells whether the target
    // opens WebSockets at all. An interrupted run does not wait for it; its held cases are not run.
    // Over HTTP/2, section 22 itself grades whether and how a server opens extended CONNECT streams
    // (lacking RFC 8441, refusing or never answering them), so its refusals alone need no probe.
    let refusals_graded = config.options.http2 && live.failures() == 0;
    if abort.reason().is_none() && halt.reason().is_none() && !live.is_empty() && !refusals_graded {
        // A Ctrl-C during the probe ends the run at once: the held cases are then not run.
        let probed = tokio::select! {
            // Tried as often as a case refused alone, or as a target refusing at random asks: a
            // balancer's refusal is not the target's.
            probed = refusals::probe_repeatedly(&config.target, &config.options, refusals::gone_probes(tally.intermittent())) => Some(probed),
            () = halt.raised() => None,
        };
        if let Some(Err(refused)) = probed {
            gone = !refused.reached;
            abort.raise(live.stop_reason(&refused.answer, refused.status));
        }
    }
    // Forwarding an interrupt as `halt` lasts until here, through the probe.
    forward.abort();
    if abort.reason().is_some() || halt.reason().is_some() {
        report.not_run.extend(live.drain().into_iter().map(|entry| entry.record.id));
    }
    for entry in live.drain() {
        keep(sink, entry, &mut report, &mut unreached_answer, &mut on_result)?;
    }
    report.end = match (abort.reason(), halt.reason()) {
        (Some(answer), _) if !live.opened_any && !gone => RunEnd::NeverOpened(answer),
        (Some(answer), _) => RunEnd::TargetFailed(answer),
        (None, Some(reason)) if !report.not_run.is_empty() => RunEnd::Interrupted(reason),
        (None, _) if unreached_answer.is_some() => RunEnd::TargetFailed(unreached_answer.unwrap_or_default()),
        (None, None) if !report.refused_alone.is_empty() => {
            RunEnd::RefusedIntermittently(refusals::not_run_reason(report.refused_alone.len(), tally.counts(), &last_refusal))
        }
        _ => RunEnd::Complete,
    };
    if let (RunEnd::TargetFailed(_), Some(last_open)) = (&report.end, last_open) {
        report.failed_as_it_went = failed_open.into_iter().filter(|(_, ended)| *ended >= last_open).map(|(id, _)| id).collect();
        report.failed_as_it_went.sort_by_key(|id| case_order(id));
    }
    let (state, why) = match &report.end {
        RunEnd::Complete => (RunState::Complete, None),
        RunEnd::Interrupted(reason) => (RunState::Interrupted, Some(reason.clone())),
        RunEnd::TargetFailed(answer) | RunEnd::NeverOpened(answer) | RunEnd::RefusedIntermittently(answer) => (RunState::TargetFailed, Some(answer.clone())),
    };
    sink.end_agent(&config.agent, state, why)?;
    report.results.sort_by_key(|r| case_order(&r.id));
    report.not_run.sort_by_key(|id| case_order(id));
    report.deferred.sort_by_key(|id| case_order(id));
    report.refused_alone.sort_by_key(|id| case_order(id));
    report.alone = tally.counts();
    report.at_once = queue.limit();
    report.elapsed = started.elapsed();
    Ok(report)
}

/// A judged case as [`Liveness`] holds it.
fn held(Judged { record, open_failure, unreached, status, .. }: Judged, span: Span) -> Held {
    Held { record, open_failure, unreached, status, ended: span.ended }
}

/// Writes a judged result through `sink`: a result, or wsspec's own error when its case file could
/// not be written (the run goes on; only a failure to write `index.json` ends it). A case whose TCP
/// connect failed is not run (`unreached` keeps the first such answer), never a verdict.
fn keep(
    sink: &Sink,
    Held { mut record, open_failure: answer, unreached, .. }: Held,
    report: &mut RunReport,
    unreached_answer: &mut Option<String>,
    on_result: &mut impl FnMut(&CaseRecord),
) -> Result<(), RunError> {
    if unreached {
        unreached_answer.get_or_insert(answer.unwrap_or_default());
        report.not_run.push(record.id);
        return Ok(());
    }
    match sink.record(&mut record)? {
        Recorded::Result => {
            on_result(&record);
            report.results.push(record.summary());
        }
        Recorded::Error(error) => report.errors.push((record.id, error)),
    }
    Ok(())
}

/// The target answers TCP and, for `wss://`, completes a TLS handshake with a certificate wsspec
/// accepts: otherwise no case could be run (exit 2), and every case would only say so.
async fn check_reachable(target: &Target, options: &RunOptions) -> Result<(), RunError> {
    super::transport::probe(target, options.timeout_scale, options.tls.as_ref()).await.map_err(|reason| RunError::Unreachable { url: target.url.clone(), reason })
}
