//! Targets that refuse connections intermittently, whatever the load: two backends behind a
//! round-robin load balancer, one of them down, answer 503 (or close unanswered) to every other
//! connection. Such a refusal is no verdict about the case (its stimulus never ran), nor evidence
//! of a limit of connections.
//!
//! A case refused (503 or 429, or closed before any answer) while it runs alone is tried again
//! alone, up to [`ALONE_ATTEMPTS`] times in all, [`RETRY_PAUSE`] apart (RFC 9110 §15.6.4: 503 is
//! "a temporary overload or scheduled maintenance"); the first attempt not refused so is judged.
//! A case whose refusal may be its answer (an odd handshake request, a permessage-deflate offer)
//! is tried again at once, without the pauses: a server that drops every malformed request costs
//! a few milliseconds, and a balancer's 503 is not taken for the case's answer. A
//! case refused at every attempt is judged on its refusal while the target has only ever refused
//! such cases consistently (every permessage-deflate offer, a handshake case's odd request); once
//! a case refused alone opened on a later attempt ([`Tally::intermittent`]), a case refused at
//! every attempt is not run, with the reason: an intermittent refusal is no verdict.

use std::{
    future::Future,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::{liveness, RunOptions, Target};

/// Attempts, the first included, of a case refused while it runs alone.
pub const ALONE_ATTEMPTS: usize = 4;
/// The pause before the second attempt; the pause before the k-th is k - 1 times as long.
pub const RETRY_PAUSE: Duration = Duration::from_millis(25);
/// Plain opening handshakes, all of which a target seen to refuse intermittently must refuse to
/// be taken for gone ([`gone_probes`]): [`ALONE_ATTEMPTS`] paced as a case's attempts, the rest
/// [`SPREAD_PAUSE`] apart, about 2 s in all. Each refused with probability 1/2 independently (a
/// balancer refusing half the connections at random), all 16 are refused with probability
/// 2^-16; a run stops on them only after 3 cases in a row were refused at each of their 4
/// attempts (2^-12), so a run of N cases alone stops with probability under N × 2^-28 (3 × 10^-7
/// for 84 cases), where 4 probes gave N × 2^-16 (10^-3). A target that really died is still
/// taken for gone within about 2 s of the third case.
pub const GONE_PROBES: usize = 16;
/// The pause between [`GONE_PROBES`] beyond the first [`ALONE_ATTEMPTS`]: a burst of refusals
/// (a backend restarting) has to last ~2 s.
pub const SPREAD_PAUSE: Duration = Duration::from_millis(150);
/// How long a series of plain opening handshakes goes on beyond [`ALONE_ATTEMPTS`]: a target
/// whose refusals take longer than this does not answer, and is gone.
const SPREAD_BOUND: Duration = Duration::from_secs(10);

/// What the cases run alone met, over a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AloneAttempts {
    /// Opening handshakes cases made alone (every attempt counts).
    pub made: usize,
    /// Those the target refused as a busy target does (503 or 429, or closed before any answer).
    pub refused: usize,
    /// Cases refused alone that opened (or got another answer) on a later attempt.
    pub recovered: usize,
}

impl AloneAttempts {
    /// `N of M opening handshakes made alone were refused`.
    pub fn refused_phrase(&self) -> String {
        let made = if self.made == 1 { "1 opening handshake".to_string() } else { format!("{} opening handshakes", self.made) };
        format!("{} of {made} made alone {} refused", self.refused, if self.refused == 1 { "was" } else { "were" })
    }
}

/// Why `cases` cases were not run: the target refused them at every attempt alone, after it had
/// shown it refuses connections intermittently (`counts`); `answer`, what it answered the last.
pub fn not_run_reason(cases: usize, counts: AloneAttempts, answer: &str) -> String {
    let cases = if cases == 1 { "1 case".to_string() } else { format!("{cases} cases") };
    format!(
        "the target refused connections intermittently ({}) and refused {cases} at each of {ALONE_ATTEMPTS} attempts alone: {answer}",
        counts.refused_phrase()
    )
}

/// How a target refused an opening handshake as a busy one does: the status it answered (503,
/// 429), or `None` for a connection closed before any answer.
pub(super) type Refusal = Option<u16>;

/// The run's [`AloneAttempts`], and the kinds of refusal a later attempt got past (the target's
/// intermittent ones), shared by its workers.
#[derive(Debug, Default)]
pub(super) struct Tally(Mutex<(AloneAttempts, Vec<Refusal>)>);

impl Tally {
    /// What the cases run alone met so far.
    pub fn counts(&self) -> AloneAttempts {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).0
    }

    /// Whether the target refused a case alone that it did not refuse on a later attempt: it
    /// refuses connections intermittently, not one kind of request.
    pub fn intermittent(&self) -> bool {
        self.counts().recovered > 0
    }

    /// Whether `refusal` is how the target refuses intermittently: a later attempt got past it.
    pub fn is_intermittent(&self, refusal: Refusal) -> bool {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).1.contains(&refusal)
    }

    fn add(&self, made: usize, refused: usize, recovered_from: Option<Refusal>) {
        let mut state = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (counts, kinds) = &mut *state;
        counts.made += made;
        counts.refused += refused;
        if let Some(refusal) = recovered_from {
            counts.recovered += 1;
            if !kinds.contains(&refusal) {
                kinds.push(refusal);
            }
        }
    }
}

/// A case run alone: `first`, its first attempt's outcome, or while `refusal` finds one and
/// `stopped` does not, the outcome of up to [`ALONE_ATTEMPTS`] - 1 more attempts (`again`), the
/// k-th after k - 1 times `pause`. The last outcome, and how many attempts were refused; counted
/// in `tally`, with the refusal a later attempt got past.
pub(super) async fn retry_alone<T, F: Future<Output = T>>(
    first: T,
    pause: Duration,
    refusal: impl Fn(&T) -> Option<Refusal>,
    mut again: impl FnMut() -> F,
    stopped: impl Fn() -> bool,
    tally: &Tally,
) -> (T, usize) {
    let (mut outcome, mut made, mut refusals, mut last) = (first, 1, 0, None);
    while let Some(refused) = refusal(&outcome) {
        (refusals, last) = (refusals + 1, Some(refused));
        if made == ALONE_ATTEMPTS || stopped() {
            break;
        }
        tokio::time::sleep(pause * made as u32).await;
        outcome = again().await;
        made += 1;
    }
    tally.add(made, refusals, last.filter(|_| refusal(&outcome).is_none()));
    (outcome, refusals)
}

/// How many plain opening handshakes, all refused, show the target refuses connections for good:
/// [`ALONE_ATTEMPTS`], or [`GONE_PROBES`] once it was seen to refuse intermittently (then a few
/// refusals in a row are what it does at random, not evidence it is gone).
pub fn gone_probes(intermittent: bool) -> usize {
    if intermittent { GONE_PROBES } else { ALONE_ATTEMPTS }
}

/// The pause before plain opening handshake number `made` + 1 of a series: as in [`retry_alone`]
/// for the first [`ALONE_ATTEMPTS`], then [`SPREAD_PAUSE`].
fn probe_pause(made: usize) -> Duration {
    if made < ALONE_ATTEMPTS { RETRY_PAUSE * made as u32 } else { SPREAD_PAUSE }
}

/// Whether a plain conforming opening handshake opens a WebSocket (closed at once) within
/// `attempts` tries, paced by [`probe_pause`]: a target that refuses one does not refuse
/// connections for good when the next opens. Bounded by `attempts` times the opening and close
/// waits, plus the pauses, and beyond [`ALONE_ATTEMPTS`] tries by about [`SPREAD_BOUND`]. The
/// error says what the target answered the last try.
pub async fn plain_handshake_opens(target: &Target, options: &RunOptions, attempts: usize) -> Result<(), String> {
    probe_repeatedly(target, options, attempts).await.map(drop).map_err(|refused| refused.answer)
}

/// [`plain_handshake_opens`], saying when the WebSocket opened, or the last refusal in full.
pub(super) async fn probe_repeatedly(target: &Target, options: &RunOptions, attempts: usize) -> Result<Instant, liveness::Refused> {
    let (mut made, started) = (0, Instant::now());
    loop {
        match liveness::probe(target, options).await {
            Ok(opened) => return Ok(opened),
            Err(refused) if made + 1 >= attempts => return Err(refused),
            // Beyond a case's attempts, a probe the target could not be reached for, or a series
            // that has gone on for long (handshakes left unanswered), is not how a target refusing
            // at random answers: it is gone.
            Err(refused) if made + 1 >= ALONE_ATTEMPTS && (!refused.reached || started.elapsed() > SPREAD_BOUND) => return Err(refused),
            Err(_) => made += 1,
        }
        tokio::time::sleep(probe_pause(made)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attempts against a target whose answers are `answers` in turn (true: refused).
    async fn attempts(answers: &[bool], tally: &Tally) -> (bool, usize) {
        let next = std::cell::Cell::new(1);
        let again = || {
            let answer = answers[next.get()];
            next.set(next.get() + 1);
            async move { answer }
        };
        retry_alone(answers[0], RETRY_PAUSE, |refused: &bool| refused.then_some(Some(503)), again, || false, tally).await
    }

    #[tokio::test]
    async fn a_refusal_alone_is_tried_again_and_a_consistent_one_is_not_intermittent() {
        let tally = Tally::default();
        assert_eq!(attempts(&[false], &tally).await, (false, 0), "not refused: one attempt");
        assert_eq!(attempts(&[true; ALONE_ATTEMPTS], &tally).await, (true, ALONE_ATTEMPTS));
        assert_eq!(tally.counts(), AloneAttempts { made: 1 + ALONE_ATTEMPTS, refused: ALONE_ATTEMPTS, recovered: 0 });
        assert!(!tally.intermittent(), "refused at every attempt: one kind of request, consistently");
        assert_eq!(attempts(&[true, false], &tally).await, (false, 1), "every other connection refused");
        assert!(tally.intermittent());
        assert!(tally.is_intermittent(Some(503)) && !tally.is_intermittent(None), "the refusal got past is the intermittent one");
        assert_eq!(tally.counts(), AloneAttempts { made: 3 + ALONE_ATTEMPTS, refused: 1 + ALONE_ATTEMPTS, recovered: 1 });
    }

    #[test]
    fn gone_takes_more_probes_spread_over_time_once_refusals_are_intermittent() {
        assert_eq!(gone_probes(false), ALONE_ATTEMPTS);
        assert_eq!(gone_probes(true), GONE_PROBES);
        let spread: Duration = (1..GONE_PROBES).map(probe_pause).sum();
        assert!(spread >= Duration::from_millis(1900), "{spread:?}");
        assert_eq!((1..ALONE_ATTEMPTS).map(probe_pause).sum::<Duration>(), Duration::from_millis(150), "a case's pacing first");
    }

    #[tokio::test]
    async fn a_stop_ends_the_attempts() {
        let tally = Tally::default();
        let again = || async { panic!("no attempt after a stop") };
        assert_eq!(retry_alone(true, RETRY_PAUSE, |r: &bool| r.then_some(None), again, || true, &tally).await, (true, 1));
    }
}
