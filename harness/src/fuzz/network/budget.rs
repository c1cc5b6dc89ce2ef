//! How long minimization may take. Against a target that answers quickly a minimization takes a
//! second or two; against one that has gone silent every candidate waits out its timeouts, and
//! 300 candidates would take minutes. So each finding's minimization gets [`Budget::per_finding`]
//! (`--duration` within 10–60 s, times `--timeout-scale`), the whole run at most `--duration` (or
//! one finding's share, if more), and a divergence whose budget runs out (or that finds none left)
//! is written whole, its note saying so.

use std::time::Duration;

use tokio::time::Instant;

/// The shortest and longest time one minimization gets, before `--timeout-scale`.
const PER_FINDING: (f64, f64) = (10.0, 60.0);

/// Minimization time left in a run.
#[derive(Debug)]
pub(super) struct Budget {
    per_finding: Duration,
    total: Duration,
    spent: Duration,
}

impl Budget {
    /// The budget of a run generating sequences for `duration`, with timeouts scaled by `scale`.
    pub(super) fn new(duration: Duration, scale: f64) -> Self {
        let per_finding = Duration::from_secs_f64(duration.as_secs_f64().clamp(PER_FINDING.0, PER_FINDING.1) * scale);
        Self { per_finding, total: duration.max(per_finding), spent: Duration::ZERO }
    }

    /// When the next minimization must end, or `None` when the run's budget is spent.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let left = self.total.saturating_sub(self.spent);
        (!left.is_zero()).then(|| Instant::now() + left.min(self.per_finding))
    }

    /// A minimization took `took`.
    pub(super) fn spend(&mut self, took: Duration) {
        self.spent += took;
    }

    /// Why a divergence was written whole when its minimization ran out of time.
    pub(super) fn ran_out_words(&self) -> String {
        format!("minimization ran out of its time budget ({:.0} s per finding)", self.per_finding.as_secs_f64())
    }

    /// Why a divergence was written whole when the run's budget was spent before it.
    pub(super) fn spent_words(&self) -> String {
        format!("the run's minimization budget ({:.0} s) was spent", self.total.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_finding_gets_a_share_and_the_run_its_duration() {
        let mut budget = Budget::new(Duration::from_secs(5), 1.0);
        assert_eq!((budget.per_finding, budget.total), (Duration::from_secs(10), Duration::from_secs(10)));
        let deadline = budget.next_deadline().expect("time left");
        assert!(deadline <= Instant::now() + Duration::from_secs(10));
        budget.spend(Duration::from_secs(7));
        let deadline = budget.next_deadline().expect("time left");
        assert!(deadline <= Instant::now() + Duration::from_secs(3), "the rest of the run's budget");
        budget.spend(Duration::from_secs(3));
        assert!(budget.next_deadline().is_none());
        assert_eq!(Budget::new(Duration::from_secs(3600), 2.0).per_finding, Duration::from_secs(120), "60 s, scaled");
    }
}
