//! Running one sequence against the target: as a case through the engine, on a WebSocket an
//! earlier sequence left open or on a new one, re-run on a new connection when it diverges (a
//! divergence that does not happen again is not a finding), and minimized within a budget.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use tokio::{
    task::JoinSet,
    time::{timeout, timeout_at, Instant},
};
use wsspec_reports::Behavior;

use super::{connection::Connection, Kind, Shared, Trial, TrialResult, MINIMIZE_BUDGET};
use crate::{
    catalog::{Case, WriteMode},
    engine::{judge, opening::refused_with_answer, run_case, run_case_keeping_open, watch_open, Observation, OpenWebSocket},
    frame::{FrameSpec, OpCode},
    fuzz::{case_file::runnable, minimize::minimize, oracle, Sequence},
};

/// A sequence run and judged ([`Shared::checked_trial`]).
pub(super) struct Checked {
    pub(super) trial: Trial,
    /// What a finding sends: the sequence itself or, when its divergence only happens after the
    /// sequences run before it on its connection, all of them and it, concatenated.
    pub(super) failing: Sequence,
    /// The sequences concatenated before it in `failing`, by number.
    pub(super) after: Vec<u64>,
    /// The connection, kept open for the next sequence.
    pub(super) kept: Option<Connection>,
    /// It ran on a WebSocket an earlier sequence left open.
    pub(super) reused: bool,
}

/// A trial's WebSocket counted open in [`Shared::open`] (once `marked`), until the mark drops.
struct OpenMark {
    open: Arc<AtomicUsize>,
    marked: Arc<AtomicBool>,
}

impl Drop for OpenMark {
    fn drop(&mut self) {
        if self.marked.load(Ordering::SeqCst) {
            self.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// How a minimization ended.
pub(super) enum Minimized {
    /// The smallest form found, and its trial when it failed again (`None`: it did not).
    Done(Sequence, Option<Trial>),
    /// The time budget ran out first: nothing smaller is known to fail the same way.
    OutOfTime,
}

impl Shared {
    /// Whether the target agrees to permessage-deflate: one connection with [`DEFLATE_OFFER`]
    /// (`crate::fuzz::sequence::DEFLATE_OFFER`) and a ping; the reason when it does not.
    pub(super) async fn agrees_to_deflate(&self) -> Result<(), String> {
        let ping = FrameSpec::new(OpCode::Ping, "wsspec").masked([1, 2, 3, 4]);
        let sequence = Sequence { frames: vec![ping], write: WriteMode::Together, deflate: true };
        let case = runnable(&sequence, &oracle::expect_sequence(&sequence));
        let obs = timeout(self.bound(&case), run_case(&case, &self.target, &self.options)).await.map_err(|_| "no answer in time".to_string())?;
        match (&obs.open_error, &obs.violation, obs.deflate) {
            (Some(error), _, _) => Err(error.clone()),
            (None, Some(violation), _) => Err(violation.to_string()),
            (None, None, Some(_)) => Ok(()),
            (None, None, None) => Err("its 101 has no permessage-deflate".into()),
        }
    }

    /// Runs sequence `index` as [`Shared::trial`] does, on `connection` when given, keeping the
    /// connection for the next sequence when the sequence leaves it idle and `keep_open` allows.
    /// A divergence is run again on a new connection and counts only if it fails the same way
    /// again ([`TrialResult::Unconfirmed`] otherwise; the rerun's result when it did not open). One seen on a reused connection that does not
    /// fail alone is run once more after the sequences before it on that connection, concatenated
    /// into one sequence on a new connection: if that fails (twice, or once the same way as on the
    /// reused connection), the concatenation is what a finding sends.
    pub(super) async fn checked_trial(
        &self,
        index: u64,
        sequence: &Sequence,
        outcome: &oracle::Outcome,
        connection: Option<Connection>,
        keep_open: bool,
    ) -> Checked {
        let case = runnable(sequence, outcome);
        let reused = connection.is_some();
        let (socket, mut history) = connection.map_or((None, Vec::new()), |c| (Some(c.socket), c.history));
        let (trial, kept) = self.trial(&case, socket, keep_open && outcome.idle).await;
        let alone = |trial| Checked { trial, failing: sequence.clone(), after: Vec::new(), kept: None, reused };
        let Some(signature) = trial.signature() else {
            let kept = kept.map(|socket| {
                history.push((index, sequence.clone()));
                Connection { socket, history }
            });
            return Checked { kept, ..alone(trial) };
        };
        let (again, _) = self.trial(&case, None, false).await;
        if again.signature() == Some(signature) {
            return alone(trial);
        }
        // A rerun that could not open says nothing of the divergence, and may say the target is
        // gone (a target gone silent hangs the sequence, then every handshake): the caller decides.
        if matches!(again.result, TrialResult::NotOpened { .. }) {
            return alone(again);
        }
        let unconfirmed = |trial: Trial| alone(Trial { result: TrialResult::Unconfirmed, ..trial });
        if history.is_empty() {
            return unconfirmed(trial);
        }
        let whole = Connection::concatenation(&history, sequence);
        let outcome = oracle::expect_sequence(&whole);
        if outcome.undecidable.is_some() {
            return unconfirmed(trial);
        }
        let case = runnable(&whole, &outcome);
        let (first, _) = self.trial(&case, None, false).await;
        let Some(fails) = first.signature() else { return unconfirmed(trial) };
        if fails != signature && self.trial(&case, None, false).await.0.signature() != Some(fails) {
            return unconfirmed(trial);
        }
        Checked { trial: first, failing: whole, after: history.iter().map(|(i, _)| *i).collect(), kept: None, reused }
    }

    /// The outer bound on one case, over the engine's own bounds.
    fn bound(&self, case: &Case) -> Duration {
        Duration::from_secs_f64((case.timeout + 10.0) * self.options.timeout_scale + 10.0)
    }

    /// Runs a sequence's `case` (from [`runnable`]) on `reused` or a new connection, within an
    /// outer bound over the engine's own bounds; the connection comes back when `keep_open` and the
    /// case left it open and idle.
    async fn trial(&self, case: &Case, reused: Option<OpenWebSocket>, keep_open: bool) -> (Trial, Option<OpenWebSocket>) {
        let _slot = self.slots.acquire().await.expect("the semaphore is never closed");
        // Counted open from its opening handshake (or at once on a reused WebSocket) to its end,
        // even when the trial is dropped unfinished.
        let mark = OpenMark { open: self.open.clone(), marked: Arc::default() };
        let (open, most_open, opened_any, marked) = (self.open.clone(), self.most_open.clone(), self.opened_any.clone(), mark.marked.clone());
        let on_open = move || {
            if !marked.swap(true, Ordering::SeqCst) {
                most_open.fetch_max(open.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                opened_any.store(true, Ordering::SeqCst);
            }
        };
        let run = timeout(self.bound(case), run_case_keeping_open(case, reused, keep_open, &self.target, &self.options));
        let (obs, kept) = watch_open(on_open, run)
            .await
            .unwrap_or_else(|_| (Observation::aborted("the sequence overran wsspec's outer time bound (a bug in wsspec)"), None));
        drop(mark);
        let verdict = judge(case, &obs);
        let result = if let Some(error) = &obs.open_error {
            TrialResult::NotOpened { reason: error.clone(), answered: refused_with_answer(&obs), status: obs.exchange.status }
        } else if verdict.behavior == Behavior::Failed || verdict.behavior_close.is_failure() {
            let silent = obs.dropped_by_me && obs.remote_close.is_none() && obs.events.heeded() == 0;
            TrialResult::Diverges(if silent { Kind::Hang } else { Kind::Divergence })
        } else {
            TrialResult::Conforms
        };
        (Trial { verdict, result }, kept)
    }

    /// Minimizes a divergence, keeping candidates that fail with the same verdicts, then runs the
    /// result once more; all by `deadline` (candidates still running then count as not failing).
    /// [`Minimized::OutOfTime`] when the deadline came first.
    pub(super) async fn minimize(self: Arc<Self>, sequence: Sequence, trial: &Trial, deadline: Instant) -> Minimized {
        let signature = trial.signature();
        let out_of_time = Arc::new(AtomicBool::new(false));
        let fails = |candidates: Vec<Sequence>| {
            let shared = self.clone();
            let out_of_time = out_of_time.clone();
            async move {
                let count = candidates.len();
                if Instant::now() >= deadline {
                    out_of_time.store(true, Ordering::Relaxed);
                    return vec![false; count];
                }
                let mut runs = JoinSet::new();
                for (i, candidate) in candidates.into_iter().enumerate() {
                    let shared = shared.clone();
                    runs.spawn(async move {
                        // A candidate the model cannot judge (compressed data cut) does not count.
                        let outcome = oracle::expect_sequence(&candidate);
                        if outcome.undecidable.is_some() {
                            return (i, false);
                        }
                        // A connection that did not open (a loaded machine) says nothing: try again.
                        let case = runnable(&candidate, &outcome);
                        let mut trial = shared.trial(&case, None, false).await.0;
                        for _ in 0..2 {
                            if !matches!(trial.result, TrialResult::NotOpened { .. }) {
                                break;
                            }
                            trial = shared.trial(&case, None, false).await.0;
                        }
                        (i, trial.signature() == signature)
                    });
                }
                let mut answers = vec![false; count];
                let collect = async {
                    while let Some(Ok((i, fails))) = runs.join_next().await {
                        answers[i] = fails;
                    }
                };
                if timeout_at(deadline, collect).await.is_err() {
                    out_of_time.store(true, Ordering::Relaxed);
                    runs.abort_all();
                    return vec![false; count];
                }
                answers
            }
        };
        let small = minimize(sequence, MINIMIZE_BUDGET, fails).await;
        if out_of_time.load(Ordering::Relaxed) {
            return Minimized::OutOfTime;
        }
        let case = runnable(&small, &oracle::expect_sequence(&small));
        match timeout_at(deadline, self.trial(&case, None, false)).await {
            Ok((again, _)) => {
                let confirmed = (again.signature() == signature).then_some(again);
                Minimized::Done(small, confirmed)
            }
            Err(_) => Minimized::OutOfTime,
        }
    }
}
