//! `wsspec fuzz`: structure-aware fuzzing of a live server. Each generated sequence becomes a case
//! (the oracle's outcome in the catalog's terms), runs through the engine — on a WebSocket an earlier
//! sequence left open and idle, or on a new connection — and is judged like any catalog case: a
//! FAILED behavior or a failing close verdict is a divergence. Divergences are confirmed on a new
//! connection, minimized within a time budget and written to one case file per run; a target
//! that stops accepting connections (or opening WebSockets) is a crash, one that goes silent
//! mid-connection a hang. A sequence whose WebSocket does not open while others do is undecided, not
//! a stop; a target on which no sequence opens a WebSocket tested nothing: the run stops with an
//! error. The findings file is rewritten at every finding, and an interrupt writes the confirmed
//! divergences not yet minimized whole, so nothing found is lost.

use std::{
    collections::VecDeque,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use tokio::{sync::Semaphore, task::JoinSet};
use wsspec_reports::{Behavior, BehaviorClose};

mod budget;
mod connection;
mod findings;
mod refusals;
mod report;
mod trial;

use budget::Budget;
use connection::Connection;
use findings::{Divergence, Form, Recorder};
use refusals::{Next, Refusals};
use trial::{Checked, Minimized};

pub use connection::MAX_SEQUENCES as MAX_SEQUENCES_PER_CONNECTION;
pub use report::{Finding, FuzzError, Kind, Progress, Report, Stats};

use super::{oracle, Sequence};
use crate::engine::{plain_handshake_opens, probe, RunOptions, Stop, Target, Verdict, GONE_PROBES, GRACE};

/// Candidate runs one minimization may use.
const MINIMIZE_BUDGET: usize = 300;
/// One sequence in this many is sent whole (up to its first close frame), closes, failures and
/// all; the others are cut to leave the connection open and idle ([`Sequence::until_idle`]), so
/// that they can share connections. The same for sequences with and without permessage-deflate.
const WHOLE_EVERY: u64 = 4;
/// Divergences kept waiting for minimization; beyond that they are only counted.
const QUEUE: usize = 8;
/// Sequences that failed to open a WebSocket, none having opened one, after which the run stops:
/// the target accepts TCP but does not speak WebSocket there, and nothing would be tested.
const NEVER_OPENED: u64 = 8;
/// Times a sequence refused with an answer while others held connections is run again; after that
/// it is undecided.
const RETRIES: u8 = 4;
/// Plain opening handshakes a refusal is followed by, until one opens: a balancer refusing every
/// other connection refuses all of them with probability 1/8 (taken for a limit; its next refusal
/// is probed again), where one try was refused half the time.
const PROBE_TRIES: usize = 3;

/// How long a sequence refused once waits before it runs again; twice as long at each refusal.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// Plain opening handshakes that must all be refused, after a sequence refused at each of its
/// tries, for a crash finding: a target refusing every other connection (a load balancer with a
/// backend down) refuses one, and opens the next. [`GONE_PROBES`] once the target was seen
/// refusing intermittently: then a few refusals in a row are what it does at random.
const CRASH_PROBES: usize = 3;

/// One fuzzing run.
#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub seed: u32,
    /// Sequences in flight at once.
    pub jobs: usize,
    /// How long new sequences are generated.
    pub duration: Duration,
    /// Stop generating after this many sequences.
    pub max_sequences: Option<u64>,
    pub options: RunOptions,
    /// Where the findings file goes.
    pub out_dir: PathBuf,
    /// Whether sequences with compressed messages are sent.
    pub deflate: DeflateUse,
}

/// Whether a run sends compressed messages (permessage-deflate, RFC 7692).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeflateUse {
    /// Never offered.
    Off,
    /// Offered once before the run; if the target agrees, every other sequence offers it and
    /// carries compressed messages.
    IfAgreed,
    /// As `IfAgreed`, and a target that declines is an error: the run tests nothing it was asked to.
    Required,
}

/// One sequence run against the target.
#[derive(Debug, Clone)]
struct Trial {
    verdict: Verdict,
    result: TrialResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TrialResult {
    Conforms,
    Diverges(Kind),
    /// The WebSocket never opened: the target may be gone, or at its limit of connections when it
    /// refused with an answer (`answered`: a status, a closed connection; not silence, not an
    /// unreachable address: [`refused_with_answer`](crate::engine::opening::refused_with_answer)).
    NotOpened { reason: String, answered: bool, status: Option<u16> },
    /// It diverged, and conformed when run again: not reported.
    Unconfirmed,
}

/// How a divergence fails: by what the target sent (the behavior verdict is FAILED), or else by how
/// the connection closed. Minimization keeps the candidates that fail the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signature {
    Behavior,
    Close(BehaviorClose),
}

impl Trial {
    fn signature(&self) -> Option<Signature> {
        match self.result {
            TrialResult::Diverges(_) if self.verdict.behavior == Behavior::Failed => Some(Signature::Behavior),
            TrialResult::Diverges(_) => Some(Signature::Close(self.verdict.behavior_close)),
            _ => None,
        }
    }

    fn reason(&self) -> String {
        self.verdict.reasons()
    }
}

/// What every trial needs, shared by the tasks that run them.
struct Shared {
    target: Target,
    options: RunOptions,
    slots: Semaphore,
    /// Trials whose WebSocket is open now (from their opening handshake to their end).
    open: Arc<AtomicUsize>,
    /// The most trials whose WebSocket was open at once: the target served that many.
    most_open: Arc<AtomicUsize>,
    /// Whether any trial's opening handshake completed.
    opened_any: Arc<AtomicBool>,
}

/// `work`, unless `stop` is raised first (`None`).
async fn unless_stopped<T>(stop: &Stop, work: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::select! {
        done = work => Some(done),
        _ = stop.raised() => None,
    }
}

/// Fuzzes `config.target` until the duration or the sequence count is reached, or `stop` is raised
/// (an interrupt: no new sequence starts, those in flight and a minimization under way get
/// [`GRACE`], and the confirmed divergences not yet minimized are written whole; an interrupt
/// during the first probes ends the run at once); `progress` hears about once a second and at
/// each finding. Minimization is bounded in time ([`Budget`]).
pub async fn run(config: &Config, stop: &Stop, mut progress: impl FnMut(Progress)) -> Result<Report, FuzzError> {
    let scale = config.options.timeout_scale;
    let before_start = || Report { stats: Stats::default(), findings: Vec::new(), file: None, unexamined: 0, interrupted: stop.reason() };
    let Some(reached) = unless_stopped(stop, probe(&config.target, scale, None)).await else { return Ok(before_start()) };
    reached.map_err(|reason| FuzzError::Unreachable { url: config.target.url.clone(), reason })?;
    let output_error = |source| FuzzError::Output { path: config.out_dir.display().to_string(), source };
    std::fs::create_dir_all(&config.out_dir).map_err(output_error)?;
    let jobs = config.jobs.max(1);
    let shared = Arc::new(Shared { target: config.target.clone(), options: config.options.clone(), slots: Semaphore::new(jobs), open: Arc::default(), most_open: Arc::default(), opened_any: Arc::default() });
    let deflate = match config.deflate {
        DeflateUse::Off => false,
        DeflateUse::IfAgreed | DeflateUse::Required => {
            let Some(agreed) = unless_stopped(stop, shared.agrees_to_deflate()).await else { return Ok(before_start()) };
            if config.deflate == DeflateUse::Required {
                let url = config.target.url.clone();
                agreed.clone().map_err(|reason| FuzzError::DeflateDeclined { url, offer: super::sequence::DEFLATE_OFFER, reason })?;
            }
            agreed.is_ok()
        }
    };
    let mut budget = Budget::new(config.duration, scale);

    let started = Instant::now();
    let mut stats = Stats::default();
    let mut running = JoinSet::new();
    let mut minimizing = JoinSet::new();
    let mut queue: VecDeque<Divergence> = VecDeque::new();
    // The divergence being minimized, written whole if an interrupt cuts its minimization short.
    let mut examining: Option<Divergence> = None;
    // WebSockets left open and idle by the sequences that ran on them, without and with
    // permessage-deflate agreed (a sequence runs on a connection of its own agreement).
    let mut idle: [Vec<Connection>; 2] = [Vec::new(), Vec::new()];
    // The last sequences that ran, the suspects if the target goes down.
    let mut recent: VecDeque<(u64, Sequence)> = VecDeque::new();
    let mut found = Recorder::new(config.out_dir.join(format!("fuzz-{}.toml", config.seed)));
    let (mut unexamined, mut crashed) = (0u64, false);
    // Sequences in a row whose WebSocket did not open, and why the last did not. As the engine's
    // runner does, the bound is at least the sequences in flight: refusals come back at once while
    // the sequences that opened are still running, so a target dropping a few is not taken for dead.
    let (mut in_a_row, mut last_refusal) = (0u64, String::new());
    let not_opened_bound = NEVER_OPENED.max(jobs as u64);
    // When an interrupt's grace period ends.
    let mut grace: Option<Instant> = None;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    // Sequences refused with an answer, to run again, with the times they were refused and
    // whether at once (an intermittent refusal); the sequences in flight at once, lowered when the
    // target refuses a plain opening handshake after such a refusal too; and those handshakes.
    let (mut deferred, mut refusals): (VecDeque<(u64, u8, bool)>, _) = (VecDeque::new(), Refusals::new(jobs));
    let mut probing = JoinSet::new();
    let sequence_for = |index: u64| {
        let sequence = Sequence::generate(config.seed, index, deflate && index % 2 == 1).until_close();
        if (index / 2) % WHOLE_EVERY == 0 { sequence } else { sequence.until_idle() }
    };

    loop {
        let interrupted = stop.reason().is_some();
        if interrupted && grace.is_none() {
            grace = Some(Instant::now() + GRACE);
        }
        let more = |stats: &Stats| config.max_sequences.is_none_or(|max| stats.generated < max);
        let generating = !crashed && !interrupted && started.elapsed() < config.duration && more(&stats);
        // `--sequences` is checked for every sequence started, not once per round: with more jobs
        // than sequences asked for, a round would otherwise start too many.
        // Refused sequences go first, as long as time is left.
        let retrying = !crashed && !interrupted && started.elapsed() < config.duration;
        while retrying && running.len() + probing.len() < refusals.limit {
            let (index, refused, at_once) = match deferred.pop_front() {
                Some(retry) => retry,
                None if generating && more(&stats) => {
                    stats.generated += 1;
                    (stats.generated - 1, 0, true)
                }
                None => break,
            };
            let sequence = sequence_for(index);
            let outcome = oracle::expect_sequence(&sequence);
            if outcome.undecidable.is_some() {
                stats.undecidable += 1;
                continue;
            }
            stats.compressed += u64::from(sequence.deflate && refused == 0);
            let shared = shared.clone();
            let connection = idle[usize::from(sequence.deflate)].pop();
            let keep_open = connection.as_ref().is_none_or(Connection::may_keep);
            running.spawn(async move {
                // A sequence refused as a limit refuses waits first: a server counts a connection
                // until it has closed it, which may be after wsspec saw it end.
                if !at_once {
                    tokio::time::sleep(RETRY_PAUSE * ((1u32 << refused) - 1)).await;
                }
                let checked = shared.checked_trial(index, &sequence, &outcome, connection, keep_open).await;
                (index, refused, sequence, checked)
            });
        }
        if minimizing.is_empty() && !crashed && !interrupted {
            // Once time is up only the first divergence is still worth the wait.
            if !generating && !found.findings.is_empty() {
                unexamined += queue.len() as u64;
                queue.clear();
            }
            if let Some(divergence) = queue.pop_front() {
                match budget.next_deadline() {
                    Some(deadline) => {
                        examining = Some(divergence.clone());
                        let shared = shared.clone();
                        minimizing.spawn(async move {
                            let started = Instant::now();
                            let minimized = shared.minimize(divergence.failing.clone(), &divergence.trial, deadline).await;
                            (divergence, minimized, started.elapsed())
                        });
                    }
                    None => {
                        let before = found.findings.len();
                        found.divergence(config, &divergence, Form::Whole(budget.spent_words())).map_err(output_error)?;
                        if found.findings.len() > before {
                            progress(Progress::Finding(found.findings.last().expect("just recorded"), &found.file));
                        }
                    }
                }
            }
        }
        // Interrupted or crashed, the divergences still queued are written whole after the loop.
        if running.is_empty() && probing.is_empty() && minimizing.is_empty() && (queue.is_empty() || interrupted || crashed) {
            break;
        }
        let grace_over = async move {
            match grace {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(joined) = running.join_next() => {
                let Ok((index, refused, sequence, checked)) = joined else { continue };
                let Checked { trial, failing, after, kept, reused } = checked;
                let idle_open = idle.iter().map(Vec::len).sum::<usize>();
                let refused_alone = running.len() + idle_open == 0;
                if let TrialResult::NotOpened { answered: true, status: kind, .. } = trial.result {
                    if !crashed && (!refused_alone || refused < RETRIES) {
                        // Refused with an answer while other connections were open or opening:
                        // the target's limit, or a refusal at any load (intermittent). One plain
                        // opening handshake tells ([`refusals`]): refused too, at most as many run
                        // at once as it served then (the open ones, else the others in flight;
                        // never fewer than it was seen to serve at once). Refused alone, it says
                        // nothing of a limit: it runs again too, and counts toward a crash only
                        // once refused at every try.
                        let intermittent = refusals.is_intermittent(kind);
                        // Refused alone below --jobs: no limit of connections refuses the only
                        // one, so a plain handshake that opens then shows the limit was wrongly
                        // lowered (an intermittent refusal met the first probe with another).
                        if !refused_alone || refusals.limit < jobs {
                            let served = shared.open.load(Ordering::SeqCst) + idle_open;
                            let most = shared.most_open.load(Ordering::SeqCst);
                            let lower_to = if served > 0 { served } else { running.len() }.max(most);
                            if refusals.refused(kind) == Next::Probe {
                                let shared = shared.clone();
                                probing.spawn(async move {
                                    let opened = plain_handshake_opens(&shared.target, &shared.options, PROBE_TRIES).await.is_ok();
                                    (kind, served, lower_to, opened, refused_alone)
                                });
                            }
                        }
                        stats.refused += 1;
                        stats.intermittent += u64::from(intermittent);
                        if refused < RETRIES {
                            deferred.push_back((index, refused + 1, intermittent));
                        } else {
                            (stats.sequences, stats.dropped) = (stats.sequences + 1, stats.dropped + 1);
                        }
                        continue;
                    }
                }
                stats.sequences += 1;
                stats.reused += u64::from(reused);
                if let Some(connection) = kept {
                    idle[usize::from(sequence.deflate)].push(connection);
                }
                match &trial.result {
                    TrialResult::NotOpened { .. } if crashed => stats.dropped += 1,
                    TrialResult::NotOpened { reason, answered, .. } => {
                        (stats.dropped, in_a_row) = (stats.dropped + 1, in_a_row + 1);
                        last_refusal.clone_from(reason);
                        if !shared.opened_any.load(Ordering::SeqCst) {
                            if in_a_row >= not_opened_bound {
                                break;
                            }
                            continue;
                        }
                        let gone = if in_a_row >= not_opened_bound {
                            Some(format!("the target stopped opening WebSockets ({in_a_row} sequences in a row did not open; the last: {reason})"))
                        } else {
                            // An interrupt while probing: the target is not known to be gone.
                            let probed = unless_stopped(stop, probe(&config.target, scale, None)).await;
                            match probed {
                                Some(Err(e)) => Some(format!("the target stopped accepting connections ({reason}; then: {e})")),
                                // It takes connections but left an opening handshake unanswered
                                // after opening others: it hangs.
                                Some(Ok(())) if !answered => Some(format!("the target stopped answering opening handshakes ({reason})")),
                                // Refused with an answer at every try: gone only if plain opening
                                // handshakes are refused too, each of them.
                                Some(Ok(())) => {
                                    let probes = if refusals.seen_intermittent() { GONE_PROBES } else { CRASH_PROBES };
                                    match unless_stopped(stop, plain_handshake_opens(&config.target, &config.options, probes)).await {
                                        Some(Err(e)) => Some(format!("the target stopped opening WebSockets ({reason}; then {probes} plain opening handshakes were refused, the last: {e})")),
                                        _ => None,
                                    }
                                }
                                None => None,
                            }
                        };
                        if let Some(what) = gone {
                            crashed = true;
                            running.abort_all();
                            found.crash(config, &recent, &what).map_err(output_error)?;
                            progress(Progress::Finding(found.findings.last().expect("just recorded"), &found.file));
                        }
                    }
                    result => {
                        (stats.opened, in_a_row) = (stats.opened + 1, 0);
                        stats.unconfirmed += u64::from(*result == TrialResult::Unconfirmed);
                        if recent.len() == jobs {
                            recent.pop_front();
                        }
                        recent.push_back((index, sequence.clone()));
                        if matches!(result, TrialResult::Diverges(_)) {
                            stats.divergent += 1;
                            if queue.len() < QUEUE {
                                queue.push_back(Divergence { index, failing, trial, after });
                            } else {
                                unexamined += 1;
                            }
                        }
                    }
                }
            }
            Some(joined) = probing.join_next() => {
                let Ok((kind, served, lower_to, opened, refused_alone)) = joined else { continue };
                // Opened with more WebSockets held than when the target refused, or after a
                // refusal of the only connection: not a limit.
                let held = shared.open.load(Ordering::SeqCst) + idle.iter().map(Vec::len).sum::<usize>();
                refusals.probed(kind, opened, held > served || refused_alone, lower_to);
                if !opened {
                    // At its limit: the idle connections hold its places.
                    idle = [Vec::new(), Vec::new()];
                }
            }
            Some(joined) = minimizing.join_next() => {
                examining = None;
                let Ok((divergence, minimized, took)) = joined else { continue };
                budget.spend(took);
                let form = match minimized {
                    Minimized::Done(small, confirmed) => Form::Minimized(small, confirmed),
                    Minimized::OutOfTime => Form::Whole(budget.ran_out_words()),
                };
                let before = found.findings.len();
                found.divergence(config, &divergence, form).map_err(output_error)?;
                if found.findings.len() > before {
                    progress(Progress::Finding(found.findings.last().expect("just recorded"), &found.file));
                }
            }
            _ = stop.raised(), if !interrupted => {}
            _ = grace_over => {
                stats.abandoned = running.len() as u64;
                break;
            }
            _ = ticker.tick() => {
                stats.elapsed = started.elapsed();
                stats.findings = found.findings.len();
                progress(Progress::Tick(&stats));
            }
        }
    }
    running.abort_all();
    probing.abort_all();
    minimizing.abort_all();
    let interrupted = stop.reason();
    let unminimized = match (&interrupted, crashed) {
        (Some(_), _) => Some("the run was interrupted"),
        (None, true) => Some("the target went away first (the crash finding)"),
        (None, false) => None,
    };
    if let Some(why) = unminimized {
        // Every confirmed divergence (it failed twice) is written, minimized or not.
        for divergence in examining.take().into_iter().chain(queue.drain(..)) {
            let before = found.findings.len();
            found.divergence(config, &divergence, Form::Whole(why.into())).map_err(output_error)?;
            if found.findings.len() > before {
                progress(Progress::Finding(found.findings.last().expect("just recorded"), &found.file));
            }
        }
    }
    // Refused sequences left when the run ended were sent and not decided.
    (stats.sequences, stats.dropped) = (stats.sequences + deferred.len() as u64, stats.dropped + deferred.len() as u64);
    stats.elapsed = started.elapsed();
    stats.findings = found.findings.len();
    if !shared.opened_any.load(Ordering::SeqCst) && in_a_row > 0 && !crashed && interrupted.is_none() {
        return Err(FuzzError::NeverOpened { url: config.target.url.clone(), tried: stats.sequences, reason: last_refusal });
    }
    let file = (!found.findings.is_empty()).then_some(found.file);
    Ok(Report { stats, findings: found.findings, file, unexamined, interrupted })
}
