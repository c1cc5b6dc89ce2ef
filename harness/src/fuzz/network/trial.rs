//! Running one sequence against the target: as a case through the engine, re-run once when it
//! diverges (a divergence that does not happen again is not a finding), and minimized.

use std::{sync::Arc, time::Duration};

use tokio::{task::JoinSet, time::timeout};
use wsspec_reports::Behavior;

use super::{Kind, Shared, Trial, TrialResult, MINIMIZE_BUDGET};
use crate::{
    catalog::{Case, WriteMode},
    engine::{judge, run_case, Observation},
    frame::{FrameSpec, OpCode},
    fuzz::{case_file::runnable, minimize::minimize, oracle, Sequence},
};

impl Shared {
    /// Whether the target agrees to permessage-deflate: one connection with [`DEFLATE_OFFER`]
    /// (`crate::fuzz::sequence::DEFLATE_OFFER`) and a ping; the reason when it does not.
    pub(super) async fn agrees_to_deflate(&self) -> Result<(), String> {
        let ping = FrameSpec::new(OpCode::Ping, "wsspec").masked([1, 2, 3, 4]);
        let sequence = Sequence { frames: vec![ping], write: WriteMode::Together, deflate: true };
        let case = runnable(&sequence, &oracle::expect_sequence(&sequence));
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
    pub(super) async fn checked_trial(&self, sequence: &Sequence, outcome: &oracle::Outcome) -> Trial {
        let case = runnable(sequence, outcome);
        let trial = self.trial(&case).await;
        let Some(signature) = trial.signature() else { return trial };
        let again = self.trial(&case).await;
        if again.signature() == Some(signature) {
            trial
        } else {
            Trial { result: TrialResult::Unconfirmed, ..trial }
        }
    }

    /// Runs a sequence's `case` (from [`runnable`]), within an outer bound over the engine's own
    /// bounds.
    async fn trial(&self, case: &Case) -> Trial {
        let _slot = self.slots.acquire().await.expect("the semaphore is never closed");
        let bound = Duration::from_secs_f64((case.timeout + 10.0) * self.options.timeout_scale + 10.0);
        let obs = timeout(bound, run_case(case, &self.target, &self.options))
            .await
            .unwrap_or_else(|_| Observation::aborted("the sequence overran wsspec's outer time bound (a bug in wsspec)"));
        let verdict = judge(case, &obs);
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
    pub(super) async fn minimize(self: Arc<Self>, sequence: Sequence, trial: &Trial) -> (Sequence, Option<Trial>) {
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
                        let case = runnable(&candidate, &outcome);
                        let mut trial = shared.trial(&case).await;
                        for _ in 0..2 {
                            if !matches!(trial.result, TrialResult::NotOpened(_)) {
                                break;
                            }
                            trial = shared.trial(&case).await;
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
        let again = self.trial(&runnable(&small, &oracle::expect_sequence(&small))).await;
        let confirmed = (again.signature() == signature).then_some(again);
        (small, confirmed)
    }
}
