//! `wsspec fuzz`: structure-aware fuzzing of a live server. Each generated sequence becomes a case
//! (the oracle's outcome written in the catalog's format and loaded back), runs on its own connection
//! through the engine and is judged like any catalog case: a FAILED behavior or a failing close
//! verdict is a divergence. Divergences are minimized and written to one case file per run; a target
//! that stops accepting connections is a crash, one that goes silent mid-connection a hang. A target
//! on which no sequence opens a WebSocket tested nothing: the run stops with an error.

use std::{
    collections::VecDeque,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{sync::Semaphore, task::JoinSet, time::timeout};
use wsspec_reports::{Behavior, BehaviorClose};

mod findings;

use findings::{crash, file_text, finding_case, shape};

use super::{case_file, minimize::minimize, oracle, Sequence};
use crate::{
    catalog::WriteMode,
    engine::{judge, probe, run_case, Observation, RunOptions, Target, Verdict},
    frame::{FrameSpec, OpCode},
};

/// Candidate runs one minimization may use.
const MINIMIZE_BUDGET: usize = 300;
/// Divergences kept waiting for minimization; beyond that they are only counted.
const QUEUE: usize = 8;
/// Sequences that failed to open a WebSocket, none having opened one, after which the run stops:
/// the target accepts TCP but does not speak WebSocket there, and nothing would be tested.
const NEVER_OPENED: u64 = 8;

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

/// Counts so far.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub sequences: u64,
    /// Sequences whose WebSocket opened: only those tested anything.
    pub opened: u64,
    pub divergent: u64,
    pub findings: usize,
    pub elapsed: Duration,
    /// Sequences sent with permessage-deflate agreed (compressed messages among their frames).
    pub compressed: u64,
    /// Generated sequences left out because the model cannot judge them
    /// ([`oracle::Outcome::undecidable`]).
    pub undecidable: u64,
    /// Divergent sequences that conformed when run again at once: not findings (a starved run on
    /// a loaded machine, or a target that is not deterministic), only counted.
    pub unconfirmed: u64,
}

impl Stats {
    pub fn per_second(&self) -> f64 {
        self.sequences as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }
}

/// What kind of trouble a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The target did something the oracle does not allow.
    Divergence,
    /// The target stopped answering mid-connection: wsspec had to drop it after its close went
    /// unanswered.
    Hang,
    /// The target stopped accepting connections; the sequences that ran last are the suspects.
    Crash,
}

/// A finding, written to the run's case file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    /// Its case ids in the file (several suspects for a crash).
    pub ids: Vec<String>,
    /// The sequence's number in the run: `--seed` and this number generate it again.
    pub index: u64,
    /// Frames before and after minimization.
    pub frames: (usize, usize),
    /// What the target did wrong, as the judge said it.
    pub reason: String,
    /// The minimized case failed again when run once more; if not, the original sequence (which
    /// failed twice) is written instead.
    pub reproduced: bool,
}

/// How a run went.
#[derive(Debug, Clone)]
pub struct Report {
    pub stats: Stats,
    pub findings: Vec<Finding>,
    /// The findings file, when there are findings.
    pub file: Option<PathBuf>,
    /// Divergences never minimized (the queue was full, or time was up after the first finding).
    pub unexamined: u64,
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("cannot reach the target {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("cannot write findings to {path}: {source}")]
    Output { path: String, source: std::io::Error },
    /// The target accepted TCP connections, but not one sequence could open a WebSocket: nothing
    /// was tested.
    #[error("no sequence could open a WebSocket on {url} (0 of {tried} opened): {reason}")]
    NeverOpened { url: String, tried: u64, reason: String },
    /// Compressed messages were required, and the target does not agree to permessage-deflate.
    #[error("{url} declined permessage-deflate (offer `{offer}`): {reason}")]
    DeflateDeclined { url: String, offer: &'static str, reason: String },
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
    /// The WebSocket never opened: the target may be gone.
    NotOpened(String),
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
}

/// Fuzzes `config.target` until the duration or the sequence count is reached; `progress` is called
/// about once a second.
pub async fn run(config: &Config, mut progress: impl FnMut(&Stats)) -> Result<Report, FuzzError> {
    let scale = config.options.timeout_scale;
    probe(&config.target, scale, None).await.map_err(|reason| FuzzError::Unreachable { url: config.target.url.clone(), reason })?;
    let output_error = |source| FuzzError::Output { path: config.out_dir.display().to_string(), source };
    std::fs::create_dir_all(&config.out_dir).map_err(output_error)?;
    let file = config.out_dir.join(format!("fuzz-{}.toml", config.seed));
    let jobs = config.jobs.max(1);
    let shared = Arc::new(Shared { target: config.target.clone(), options: config.options.clone(), slots: Semaphore::new(jobs) });
    let deflate = match config.deflate {
        DeflateUse::Off => false,
        DeflateUse::IfAgreed => shared.agrees_to_deflate().await.is_ok(),
        DeflateUse::Required => {
            let declined = |reason| FuzzError::DeflateDeclined { url: config.target.url.clone(), offer: super::sequence::DEFLATE_OFFER, reason };
            shared.agrees_to_deflate().await.map_err(declined)?;
            true
        }
    };

    let started = Instant::now();
    let mut stats = Stats::default();
    let mut running = JoinSet::new();
    let mut minimizing = JoinSet::new();
    let mut queue: VecDeque<(u64, Sequence, Trial)> = VecDeque::new();
    // The last sequences that ran, the suspects if the target goes down.
    let mut recent: VecDeque<(u64, Sequence)> = VecDeque::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut cases: Vec<String> = Vec::new();
    let mut shapes = Vec::new();
    let (mut next, mut unexamined, mut crashed) = (0u64, 0u64, false);
    // Why the last sequence failed to open a WebSocket while none had opened one yet.
    let mut never_opened: Option<String> = None;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));

    loop {
        let generating = !crashed && started.elapsed() < config.duration && config.max_sequences.is_none_or(|max| next < max);
        // `--sequences` is checked for every sequence started, not once per round: with more jobs
        // than sequences asked for, a round would otherwise start too many.
        while generating && running.len() < jobs && config.max_sequences.is_none_or(|max| next < max) {
            let (sequence, index) = (Sequence::generate(config.seed, next, deflate && next % 2 == 1).until_close(), next);
            next += 1;
            let outcome = oracle::expect_sequence(&sequence);
            if outcome.undecidable.is_some() {
                stats.undecidable += 1;
                continue;
            }
            stats.compressed += u64::from(sequence.deflate);
            let shared = shared.clone();
            running.spawn(async move {
                let trial = shared.checked_trial(&sequence, &outcome).await;
                (index, sequence, trial)
            });
        }
        if minimizing.is_empty() && !crashed {
            // Once time is up only the first divergence is still worth the wait.
            if !generating && !findings.is_empty() {
                unexamined += queue.len() as u64;
                queue.clear();
            }
            if let Some((index, sequence, trial)) = queue.pop_front() {
                let shared = shared.clone();
                minimizing.spawn(async move {
                    let (small, confirmed) = shared.minimize(sequence.clone(), &trial).await;
                    (index, sequence, small, trial, confirmed)
                });
            }
        }
        if running.is_empty() && minimizing.is_empty() && queue.is_empty() {
            break;
        }
        tokio::select! {
            Some(joined) = running.join_next() => {
                let Ok((index, sequence, trial)) = joined else { continue };
                stats.sequences += 1;
                match &trial.result {
                    TrialResult::NotOpened(_) if crashed => {}
                    TrialResult::NotOpened(reason) if stats.opened == 0 => {
                        never_opened = Some(reason.clone());
                        if stats.sequences >= NEVER_OPENED {
                            running.abort_all();
                            break;
                        }
                    }
                    TrialResult::NotOpened(reason) => {
                        if probe(&config.target, scale, None).await.is_err() {
                            crashed = true;
                            running.abort_all();
                            findings.push(crash(config, &mut cases, &recent, reason));
                            wsspec_reports::fs::write_atomically(&file, file_text(config, &cases).as_bytes()).map_err(output_error)?;
                        }
                    }
                    result => {
                        stats.opened += 1;
                        stats.unconfirmed += u64::from(*result == TrialResult::Unconfirmed);
                        if recent.len() == jobs {
                            recent.pop_front();
                        }
                        recent.push_back((index, sequence.clone()));
                        if matches!(result, TrialResult::Diverges(_)) {
                            stats.divergent += 1;
                            if queue.len() < QUEUE {
                                queue.push_back((index, sequence, trial));
                            } else {
                                unexamined += 1;
                            }
                        }
                    }
                }
            }
            Some(joined) = minimizing.join_next() => {
                let Ok((index, original, small, trial, confirmed)) = joined else { continue };
                // A minimized form that did not fail again is not written: the original is, which
                // failed twice (`checked_trial`).
                let (small, confirmed) = match confirmed {
                    Some(again) => (small, Some(again)),
                    None => (original.clone(), None),
                };
                let shape = shape(&small);
                if shapes.contains(&shape) {
                    continue;
                }
                shapes.push(shape);
                let last = confirmed.as_ref().unwrap_or(&trial);
                let kind = match last.result {
                    TrialResult::Diverges(kind) => kind,
                    _ => Kind::Divergence,
                };
                let id = format!("{}.{}.{}", case_file::SECTION, config.seed, cases.len() + 1);
                let note = format!(
                    "Found by `wsspec fuzz --seed {}` (sequence {index}, minimized from {} to {} frames) against {}{}: {}",
                    config.seed,
                    original.frames.len(),
                    small.frames.len(),
                    config.target.url,
                    if confirmed.is_some() { "" } else { "; its minimized form did not fail again, so it is written whole" },
                    last.reason(),
                );
                cases.push(finding_case(&id, &small, &oracle::expect_sequence(&small), &note));
                wsspec_reports::fs::write_atomically(&file, file_text(config, &cases).as_bytes()).map_err(output_error)?;
                let frames = (original.frames.len(), small.frames.len());
                findings.push(Finding { kind, ids: vec![id], index, frames, reason: last.reason(), reproduced: confirmed.is_some() });
            }
            _ = ticker.tick() => {
                stats.elapsed = started.elapsed();
                stats.findings = findings.len();
                progress(&stats);
            }
        }
    }
    stats.elapsed = started.elapsed();
    stats.findings = findings.len();
    if let (0, Some(reason)) = (stats.opened, never_opened) {
        return Err(FuzzError::NeverOpened { url: config.target.url.clone(), tried: stats.sequences, reason });
    }
    let file = (!findings.is_empty()).then_some(file);
    Ok(Report { stats, findings, file, unexamined })
}

impl Shared {
    /// Whether the target agrees to permessage-deflate: one connection with [`DEFLATE_OFFER`]
    /// (`super::sequence::DEFLATE_OFFER`) and a ping; the reason when it does not.
    async fn agrees_to_deflate(&self) -> Result<(), String> {
        let ping = FrameSpec::new(OpCode::Ping, "wsspec").masked([1, 2, 3, 4]);
        let sequence = Sequence { frames: vec![ping], write: WriteMode::Together, deflate: true };
        let text = case_file::file("", &[finding_case("90.0.0", &sequence, &oracle::expect_sequence(&sequence), "")]);
        let case = case_file::load(&text).unwrap_or_else(|e| panic!("the case writer wrote a case the loader refuses ({e}):\n{text}"));
        let bound = Duration::from_secs_f64((case.timeout + 10.0) * self.options.timeout_scale + 10.0);
        let obs = timeout(bound, run_case(&case, &self.target, &self.options)).await.map_err(|_| "no answer in time".to_string())?;
        match (&obs.open_error, &obs.violation, obs.deflate) {
            (Some(error), _, _) => Err(error.clone()),
            (None, Some(violation), _) => Err(violation.to_string()),
            (None, None, Some(_)) => Ok(()),
            (None, None, None) => Err("its 101 has no permessage-deflate".into()),
        }
    }

    /// Runs `sequence` as [`Shared::trial`] does and, if it diverges, once more at once: a divergence
    /// that does not happen again is [`TrialResult::Unconfirmed`], never a finding.
    async fn checked_trial(&self, sequence: &Sequence, outcome: &oracle::Outcome) -> Trial {
        let trial = self.trial(sequence, outcome).await;
        let Some(signature) = trial.signature() else { return trial };
        let again = self.trial(sequence, outcome).await;
        if again.signature() == Some(signature) {
            trial
        } else {
            Trial { result: TrialResult::Unconfirmed, ..trial }
        }
    }

    /// Runs `sequence` as a case expecting `outcome`, within an outer bound over the engine's own
    /// bounds.
    async fn trial(&self, sequence: &Sequence, outcome: &oracle::Outcome) -> Trial {
        let _slot = self.slots.acquire().await.expect("the semaphore is never closed");
        let text = case_file::file("", &[finding_case("90.0.0", sequence, outcome, "")]);
        let case = case_file::load(&text).unwrap_or_else(|e| panic!("the case writer wrote a case the loader refuses ({e}):\n{text}"));
        let bound = Duration::from_secs_f64((case.timeout + 10.0) * self.options.timeout_scale + 10.0);
        let obs = timeout(bound, run_case(&case, &self.target, &self.options))
            .await
            .unwrap_or_else(|_| Observation::aborted("the sequence overran wsspec's outer time bound (a bug in wsspec)"));
        let verdict = judge(&case, &obs);
        let result = if let Some(error) = &obs.open_error {
            TrialResult::NotOpened(error.clone())
        } else if verdict.behavior == Behavior::Failed || verdict.behavior_close.is_failure() {
            let silent = obs.dropped_by_me && obs.remote_close.is_none() && obs.events.is_empty();
            TrialResult::Diverges(if silent { Kind::Hang } else { Kind::Divergence })
        } else {
            TrialResult::Conforms
        };
        Trial { verdict, result }
    }

    /// Minimizes a divergence, keeping candidates that fail with the same verdicts, then runs the
    /// result once more: the trial is `None` if it did not fail again.
    async fn minimize(self: Arc<Self>, sequence: Sequence, trial: &Trial) -> (Sequence, Option<Trial>) {
        let signature = trial.signature();
        let fails = |candidates: Vec<Sequence>| {
            let shared = self.clone();
            async move {
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
                        let mut trial = shared.trial(&candidate, &outcome).await;
                        for _ in 0..2 {
                            if !matches!(trial.result, TrialResult::NotOpened(_)) {
                                break;
                            }
                            trial = shared.trial(&candidate, &outcome).await;
                        }
                        (i, trial.signature() == signature)
                    });
                }
                let mut answers = vec![false; runs.len()];
                while let Some(Ok((i, fails))) = runs.join_next().await {
                    answers[i] = fails;
                }
                answers
            }
        };
        let small = minimize(sequence, MINIMIZE_BUDGET, fails).await;
        let again = self.trial(&small, &oracle::expect_sequence(&small)).await;
        let confirmed = (again.signature() == signature).then_some(again);
        (small, confirmed)
    }
}
