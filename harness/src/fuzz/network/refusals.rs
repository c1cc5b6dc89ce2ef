//! Sequences the target refused with an answer (503 or 429, a connection closed before any
//! answer) while other connections were open: a target serving only so many at once, or one
//! refusing connections intermittently, whatever the load (a round-robin balancer with a backend
//! down answers 503 to every other connection). Only the first is a limit: lowering the sequences
//! in flight and dropping the idle connections at each refusal of the second made a run against a
//! balancer refusing every other connection 200 times slower (22 sequences/s where the target
//! alone gives 4,900) and said it serves "only so many at once".
//!
//! So a refusal of a kind not yet told apart is followed by plain opening handshakes, up to a few
//! until one opens ([`Refusals::refused`] says when), holding the refused sequence's place. All
//! refused, the target is at its limit: the sequences in flight are lowered as before. Opened while
//! wsspec held more WebSockets on the target than when it refused (a limit does not serve more at
//! once than it just refused at), or after a refusal of wsspec's only connection, the refusal was
//! intermittent: from then on that kind of refusal (its status, or a
//! close) neither lowers the limit nor waits before the sequence runs again, and a limit it lowered
//! is lifted. One plain handshake at a time.

/// How the target refused: the status it answered (503, 429), or `None` for a connection closed
/// before any answer.
pub(super) type Refusal = Option<u16>;

/// What a refusal while other connections were open asks of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// A kind the target refuses intermittently: run the sequence again at once, limit kept.
    Intermittent,
    /// Not told apart yet: run one plain opening handshake (and the sequence again later).
    Probe,
    /// A plain opening handshake is under way: run the sequence again later.
    Wait,
}

/// The sequences in flight at once, and what the target's refusals showed.
#[derive(Debug)]
pub(super) struct Refusals {
    /// `--jobs`: the limit before any refusal.
    jobs: usize,
    /// Sequences in flight at once (plain opening handshakes under way included).
    pub limit: usize,
    /// Kinds of refusal a plain opening handshake got past at a higher load.
    intermittent: Vec<Refusal>,
    /// Kinds of refusal that lowered the limit.
    lowered_by: Vec<Refusal>,
    /// Whether a plain opening handshake is under way.
    probing: bool,
}

impl Refusals {
    pub fn new(jobs: usize) -> Self {
        Self { jobs, limit: jobs, intermittent: Vec::new(), lowered_by: Vec::new(), probing: false }
    }

    /// Whether the target was seen refusing connections intermittently.
    pub fn seen_intermittent(&self) -> bool {
        !self.intermittent.is_empty()
    }

    /// Whether `kind` is how the target refuses intermittently.
    pub fn is_intermittent(&self, kind: Refusal) -> bool {
        self.intermittent.contains(&kind)
    }

    /// A sequence refused so (`kind`) while other connections were open: what to do.
    pub fn refused(&mut self, kind: Refusal) -> Next {
        if self.is_intermittent(kind) {
            Next::Intermittent
        } else if self.probing {
            Next::Wait
        } else {
            self.probing = true;
            Next::Probe
        }
    }

    /// The plain opening handshakes after a refusal of `kind` ended: `opened`, when one opened, and
    /// `past`, when it did with more WebSockets held than at the refusal (or after a refusal of the
    /// only connection): intermittent. Opened at no more than the refusal's load, it says nothing
    /// either way (a limit may have freed a place; a balancer may have let it through), and the
    /// next refusal is probed again. All refused, the target is at its limit: the limit goes down
    /// to `lower_to` (never below 1; the caller drops the idle connections, which hold the
    /// target's places). Taking an opening at the same load for a limit kept a run against a
    /// balancer refusing every other connection at a limit of 1 for good (3 runs in 10).
    pub fn probed(&mut self, kind: Refusal, opened: bool, past: bool, lower_to: usize) {
        self.probing = false;
        if opened && !past {
            return;
        }
        if opened {
            if !self.intermittent.contains(&kind) {
                self.intermittent.push(kind);
            }
            // Lowered only by refusals now known to be intermittent: there was no limit.
            if self.lowered_by.iter().all(|k| self.intermittent.contains(k)) {
                self.limit = self.jobs;
            }
            return;
        }
        if !self.lowered_by.contains(&kind) {
            self.lowered_by.push(kind);
        }
        self.limit = self.limit.min(lower_to.max(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_lowered_once_a_plain_handshake_is_refused_too() {
        let mut refusals = Refusals::new(32);
        assert_eq!(refusals.refused(Some(503)), Next::Probe);
        assert_eq!(refusals.refused(Some(503)), Next::Wait, "one plain handshake at a time");
        refusals.probed(Some(503), true, false, 1);
        assert_eq!((refusals.limit, refusals.seen_intermittent()), (32, false), "opened at the same load: says nothing");
        assert_eq!(refusals.refused(Some(503)), Next::Probe);
        refusals.probed(Some(503), false, false, 2);
        assert_eq!((refusals.limit, refusals.seen_intermittent()), (2, false));
        assert_eq!(refusals.refused(Some(503)), Next::Probe, "a limit may go lower still");
    }

    #[test]
    fn an_intermittent_refusal_keeps_the_limit_and_lifts_one_it_lowered() {
        let mut refusals = Refusals::new(32);
        assert_eq!(refusals.refused(Some(503)), Next::Probe);
        refusals.probed(Some(503), false, false, 3);
        assert_eq!(refusals.refused(Some(503)), Next::Probe);
        refusals.probed(Some(503), true, true, 1);
        assert_eq!(refusals.limit, 32, "lowered by 503s only, now known intermittent");
        assert_eq!(refusals.refused(Some(503)), Next::Intermittent);
        assert_eq!(refusals.refused(None), Next::Probe, "a close is another kind");
        refusals.probed(None, false, false, 4);
        assert_eq!(refusals.limit, 4);
    }
}
