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
//! whatever the load asks; refused at every attempt by a target seen to refuse intermittently, it
//! is not run, never a verdict.
//!
//! Cases start in [`schedule`] order (with several in flight, the longest first). A run holds the
//! full record of a case only until the sink has written it; what it keeps is a [`CaseSummary`].

use std::{
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use tokio::{sync::mpsc, task::JoinSet, time::timeout};
use wsspec_reports::{
    case_order,
    sink::{Recorded, RunState, Sink},
    CaseRecord, CaseSummary,
};

use super::{
    liveness::{self, Held, Liveness},
    faults::{fit_descriptors, is_local_error},
    refusals::{self, AloneAttempts, Tally, ALONE_ATTEMPTS},
    schedule,
    session::run_case,
    stop::GRACE,
    RunOptions, Stop, Target,
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

/// What a case task tells the run.
enum Message {
    /// A WebSocket opened (a case's, or a plain opening handshake's): when the case or probe
    /// started, and when its opening handshake completed.
    Opened { started: Instant, at: Instant },
    /// A case refused while others were in flight, to run again alone at the end.
    Deferred(Case),
    /// A case ended.
    Ended(Case, Outcome, Span),
}

/// What one case task ended with.
enum Outcome {
    Judged(Judged),
    Error(String),
    NotRun,
    /// Refused at every attempt alone by a target refusing intermittently: what it answered.
    Refused(String),
}

impl Outcome {
    /// Refused as a busy target refuses (see [`Judged::busy`]).
    fn is_busy(&self) -> bool {
        matches!(self, Outcome::Judged(Judged { busy: Some(_), .. }))
    }
}

/// A judged case. `opened`: the target speaks WebSocket (the WebSocket opened, or a handshake case
/// got the upgrade, if a wrong one). `open_failure`: it did not open, in a case where that says the
/// target is gone or speaks no WebSocket (what it answered); a handshake case refused as it may be
/// has neither, and says nothing either way. `unreached`: the TCP connect failed (refused, timed
/// out), so nothing was exchanged and the record is no verdict on the target. `status`: the status
/// of the target's answer to the opening handshake, when one parsed.
/// `busy`: it did not open in a way a target serving fewer connections at once may answer (503 or
/// 429, or a connection closed before any answer), and what it answered: deferred when other
/// cases are in flight. `went_away`: its WebSocket opened and the target then closed or reset the
/// connection without a closing handshake, with nothing else failed first (no protocol
/// violation, no timeout, no close of wsspec's own).
struct Judged {
    record: CaseRecord,
    opened: bool,
    went_away: bool,
    busy: Option<String>,
    open_failure: Option<String>,
    unreached: bool,
    status: Option<u16>,
}

/// When a case task started and ended.
#[derive(Clone, Copy)]
struct Span {
    started: Instant,
    ended: Instant,
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
                // Refused so again and again, with nothing opening between: it refuses everything.
                if refused_in_a_row >= OPEN_FAILURES {
                    abort.raise(format!("{last_refusal} ({refused_in_a_row} cases in a row refused at each of {ALONE_ATTEMPTS} attempts alone)"));
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
            probed = liveness::probe(&config.target, &config.options) => Some(probed),
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

/// What ends a worker's cases early: an interrupt (`halt`, with grace) and a failing target
/// (`abort`, at once).
struct Stops {
    halt: Stop,
    abort: Stop,
}

impl Stops {
    fn raised(&self) -> bool {
        self.halt.reason().is_some() || self.abort.reason().is_some()
    }
}

/// Takes cases from `queue` one after another until it is empty, and sends what each did to `done`:
/// that its WebSocket opened, as it opens, then its outcome with when it started and ended, or
/// that it was deferred. Once the run halts or aborts, the cases left are not run.
async fn worker(queue: Arc<schedule::Queue>, config: RunConfig, stops: Stops, tally: Arc<Tally>, done: mpsc::UnboundedSender<Message>) {
    // A ticket counts its case in flight (and holds a bulk case's slot) until it drops.
    while let Some(ticket) = queue.next().await {
        let started = Instant::now();
        let mut outcome = if stops.raised() { Outcome::NotRun } else { attempt(&ticket, &config, &stops, &done).await };
        let alone = ticket.alone();
        if alone && matches!(outcome, Outcome::Judged(_)) {
            // Refused alone: tried again alone; refused every time by a target that refuses
            // intermittently, it is not run.
            let again = || attempt(&ticket, &config, &stops, &done);
            let (last, refused) = refusals::retry_alone(outcome, Outcome::is_busy, again, || stops.raised(), &tally).await;
            outcome = match last {
                Outcome::Judged(Judged { busy: Some(answer), .. }) if refused == ALONE_ATTEMPTS && tally.intermittent() => Outcome::Refused(answer),
                last => last,
            };
        }
        let message = match outcome {
            Outcome::Judged(Judged { busy: Some(_), .. }) if !alone && !stops.raised() => {
                // Busy, or refusing this request? A plain opening handshake tells, on this case's
                // slot: refused too, the target is at its limit. Either way the case runs again
                // alone (a slot may have freed between the two refusals: only alone is sound).
                // Refused with nothing else in flight, it says nothing of a limit.
                let at_limit = ticket.others_in_flight() > 0 && {
                    let probed = Instant::now();
                    let opened = tokio::select! {
                        probe = liveness::probe(&config.target, &config.options) => probe.ok(),
                        () = stops.halt.raised() => None,
                        () = stops.abort.raised() => None,
                    };
                    if let Some(at) = opened {
                        let _ = done.send(Message::Opened { started: probed, at });
                    }
                    opened.is_none()
                };
                let case = ticket.case.clone();
                ticket.defer(at_limit);
                Message::Deferred(case)
            }
            outcome => Message::Ended(ticket.case.clone(), outcome, Span { started, ended: Instant::now() }),
        };
        if done.send(message).is_err() {
            return;
        }
    }
}

/// One attempt at `ticket`'s case: its outcome, unless the run halts (after the grace period) or
/// aborts first. Sends `Opened` to `done` as its WebSocket opens.
async fn attempt(ticket: &schedule::Ticket, config: &RunConfig, stops: &Stops, done: &mpsc::UnboundedSender<Message>) -> Outcome {
    let started = Instant::now();
    let (mark, opened) = (ticket.open_mark(), done.clone());
    let announce = move || {
        if mark() {
            let _ = opened.send(Message::Opened { started, at: Instant::now() });
        }
    };
    let play = AssertUnwindSafe(liveness::watch_open(announce, run_one(&ticket.case, config))).catch_unwind();
    tokio::select! {
        outcome = play => outcome.unwrap_or_else(|panic| Outcome::Error(panic_message(&*panic))),
        _ = async { stops.halt.raised().await; tokio::time::sleep(GRACE).await } => Outcome::NotRun,
        _ = stops.abort.raised() => Outcome::NotRun,
    }
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

async fn run_one(case: &Case, config: &RunConfig) -> Outcome {
    inject_panic(case);
    // A bound over the session's own bounds: if it is ever hit, wsspec has a bug, not the target.
    let scale = config.options.timeout_scale;
    let bound = Duration::from_secs_f64((case.timeout + 10.0) * scale + 10.0);
    let Ok(obs) = timeout(bound, run_case(case, &config.target, &config.options)).await else {
        return Outcome::Error(format!("the case overran wsspec's outer time bound of {:.0} s (a bug in wsspec)", bound.as_secs_f64()));
    };
    if let Some(error) = obs.open_error.as_deref().filter(|e| is_local_error(e)) {
        return Outcome::Error(format!("a local resource ran out: {error}"));
    }
    if let Some(error) = obs.overload() {
        return Outcome::Error(error);
    }
    // Only a case that opens the ordinary way tells whether the target speaks WebSocket at all: a
    // handshake case (sections 18, 19) sends a request made to be refused, and a server may refuse
    // a permessage-deflate offer it does not support outright (its verdict says how). But a TCP
    // connect that failed (nothing was sent) says the target is gone, whatever the case.
    let unreached = obs.open_error.is_some() && obs.exchange.request.is_empty() && obs.http2.is_none();
    let refusable = case.handshake.is_some() || case.http2.is_some() || case.deflate.is_some() || super::deflate::extensions_answer_broken(&obs);
    let open_failure = obs.open_error.as_ref().filter(|_| !refusable || unreached).map(|error| liveness::describe_open_failure(error, &obs.exchange.response));
    // A handshake case answered with the upgrade (101; 200 over HTTP/2), however wrongly, vouches
    // that the target speaks WebSocket; refused any other way, it says nothing either way.
    let upgraded = obs.exchange.status == Some(if obs.http2.is_some() { 200 } else { 101 });
    let opened = obs.open_error.is_none() || (refusable && upgraded);
    let status = obs.exchange.status;
    // (A handshake case ends at its opening handshake: no session, no unclean end to tell.)
    let went_away = obs.open_error.is_none()
        && obs.not_clean_reason.is_some()
        && obs.remote_close.is_none()
        && obs.violation.is_none()
        && !(obs.dropped_by_me || obs.timed_out || obs.close_timed_out || obs.kept_open);
    // A server at its limit of connections answers 503 (RFC 9110 §15.6.4: "temporary overload") or
    // 429, or closes (resets) the connection before answering; a case that may be refused (a
    // handshake case) is busy on the last only when nothing at all came back (a server may close
    // on a request it rejects, and is judged on it once the case runs alone). Any other answer (a
    // 101 wsspec must fail, a 404) says nothing of load, and a target that does not answer at
    // all, or cannot be reached, is not busy: it may be gone.
    let closed_unanswered = status.is_none() && (!refusable || obs.exchange.response.is_empty());
    let busy = match &obs.open_error {
        Some(error) if super::opening::refused_with_answer(&obs) && !opened && (matches!(status, Some(429 | 503)) || closed_unanswered) => {
            Some(liveness::describe_open_failure(error, &obs.exchange.response))
        }
        _ => None,
    };
    Outcome::Judged(Judged { record: super::report(&config.agent, case, obs), opened, went_away, busy, open_failure, unreached, status })
}

/// The target answers TCP and, for `wss://`, completes a TLS handshake with a certificate wsspec
/// accepts: otherwise no case could be run (exit 2), and every case would only say so.
async fn check_reachable(target: &Target, options: &RunOptions) -> Result<(), RunError> {
    super::transport::probe(target, options.timeout_scale, options.tls.as_ref()).await.map_err(|reason| RunError::Unreachable { url: target.url.clone(), reason })
}
