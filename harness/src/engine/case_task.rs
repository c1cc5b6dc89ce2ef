//! One case task: a worker takes cases from the [`schedule`] queue and runs each ([`run_one`]:
//! its session, then what its outcome says of the target: opened, went away, busy, unreached),
//! tries a case refused alone again ([`refusals`]), and defers one refused while other cases were
//! in flight, with a plain opening handshake telling a target at its limit of connections from
//! one refusing this request. What each case did goes to the run ([`super::runner`]) as a
//! [`Message`].

use std::{
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use tokio::{sync::mpsc, time::timeout};
use wsspec_reports::CaseRecord;

use super::{
    faults::{inject_panic, is_local_error, panic_message},
    liveness,
    refusals::{self, Tally, ALONE_ATTEMPTS},
    runner::RunConfig,
    schedule,
    session::run_case,
    stop::GRACE,
    Stop,
};
use crate::catalog::Case;

/// What a case task tells the run.
pub(super) enum Message {
    /// A WebSocket opened (a case's, or a plain opening handshake's): when the case or probe
    /// started, and when its opening handshake completed.
    Opened { started: Instant, at: Instant },
    /// A case refused while others were in flight, to run again alone at the end.
    Deferred(Case),
    /// A case ended.
    Ended(Case, Outcome, Span),
}

/// What one case task ended with.
pub(super) enum Outcome {
    Judged(Judged),
    Error(String),
    NotRun,
    /// Refused at every attempt alone by a target refusing intermittently: what it answered.
    Refused(String),
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
pub(super) struct Judged {
    pub record: CaseRecord,
    pub opened: bool,
    pub went_away: bool,
    pub busy: Option<String>,
    /// The case may be refused as its verdict (a handshake, HTTP/2 or permessage-deflate case):
    /// its refusal alone is retried only once the target has shown it refuses intermittently.
    pub refusable: bool,
    pub open_failure: Option<String>,
    pub unreached: bool,
    pub status: Option<u16>,
}

/// When a case task started and ended.
#[derive(Clone, Copy)]
pub(super) struct Span {
    pub started: Instant,
    pub ended: Instant,
}

/// What ends a worker's cases early: an interrupt (`halt`, with grace) and a failing target
/// (`abort`, at once).
pub(super) struct Stops {
    pub halt: Stop,
    pub abort: Stop,
}

impl Stops {
    fn raised(&self) -> bool {
        self.halt.reason().is_some() || self.abort.reason().is_some()
    }
}

/// Takes cases from `queue` one after another until it is empty, and sends what each did to `done`:
/// that its WebSocket opened, as it opens, then its outcome with when it started and ended, or
/// that it was deferred. Once the run halts or aborts, the cases left are not run.
pub(super) async fn worker(queue: Arc<schedule::Queue>, config: RunConfig, stops: Stops, tally: Arc<Tally>, done: mpsc::UnboundedSender<Message>) {
    // A ticket counts its case in flight (and holds a bulk case's slot) until it drops.
    while let Some(ticket) = queue.next().await {
        let started = Instant::now();
        let mut outcome = if stops.raised() { Outcome::NotRun } else { attempt(&ticket, &config, &stops, &done).await };
        let alone = ticket.alone();
        if let (true, &Outcome::Judged(Judged { refusable, .. })) = (alone, &outcome) {
            // Refused alone: tried again alone; refused every time by a target that refuses
            // intermittently, it is not run. A case that may be refused as its answer (an odd
            // handshake request, a permessage-deflate offer) is tried again at once: a target
            // refusing it consistently costs milliseconds.
            let pause = if refusable { Duration::ZERO } else { refusals::RETRY_PAUSE };
            let again = || attempt(&ticket, &config, &stops, &done);
            // Once the target refuses intermittently, a refusable case refused otherwise than
            // that (a close where the balancer answers 503) got its answer.
            let refusal = |outcome: &Outcome| match outcome {
                Outcome::Judged(Judged { busy: Some(_), status, .. }) => {
                    (!refusable || !tally.intermittent() || tally.is_intermittent(*status)).then_some(*status)
                }
                _ => None,
            };
            let (last, refused) = refusals::retry_alone(outcome, pause, refusal, again, || stops.raised(), &tally).await;
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
    Outcome::Judged(Judged { record: super::report(&config.agent, case, obs), opened, went_away, busy, refusable, open_failure, unreached, status })
}

