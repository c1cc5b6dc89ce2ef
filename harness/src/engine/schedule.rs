//! The order cases start in. With several in flight, a run lasts at least as long as its slowest
//! case started last: the mandated pauses (6.4.x pause twice for 1 s, 5.19/5.20 for 1 s) and the
//! biggest messages start first, so they overlap with everything else instead of trailing at the
//! end. One at a time (`--jobs 1`), cases run in catalog order, as a fragile target may expect.
//! Reports do not depend on it: they are in catalog order whatever the order of running.
//!
//! The bulk permessage-deflate cases (12.x/13.x with 16 MB or more of compressed messages) are
//! CPU-bound in wsspec and in the target alike: more of them in flight than there are cores adds
//! no throughput, it only stretches each one (a single-threaded server serves eight at an eighth
//! of its speed each, past Autobahn's 480 s timeout, which assumes one case at a time) and keeps
//! the small cases waiting behind their compression in both runtimes (a 60 s case of 1000 tiny
//! messages timed out behind eight 128 KiB cases). So at most one per core runs at a time
//! ([`Queue`]); the other workers take the lighter cases meanwhile.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::catalog::{Action, Case, WriteMode};

/// Compressed-message volume, in octets, from which a case is bulk (12.x.7 and up: 1000 messages
/// of 16 KiB or more).
const BULK_BYTES: usize = 16_000_000;

/// Loopback throughput assumed for the estimate, bytes per second (sent, then echoed).
const BYTES_PER_SECOND: f64 = 200e6;
/// What one write call costs, in seconds (a case chopping 1 MiB into 64-byte writes makes 16,384).
const SECONDS_PER_WRITE: f64 = 5e-6;
/// What waiting for an echo costs on loopback, in seconds (9.7.x waits 1,000 times).
const SECONDS_PER_ROUND_TRIP: f64 = 50e-6;

/// `cases` in the order to start them with `jobs` in flight: catalog order for one job, else the
/// longest expected first (stable: cases expected to take as long keep catalog order).
pub fn order(cases: &[Case], jobs: usize) -> Vec<Case> {
    let mut ordered = cases.to_vec();
    if jobs > 1 {
        let mut keyed: Vec<(f64, Case)> = ordered.into_iter().map(|c| (expected_seconds(&c), c)).collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
        ordered = keyed.into_iter().map(|(_, c)| c).collect();
    }
    ordered
}

/// How long `case` is expected to take against a prompt target, in seconds: its declared pauses
/// (steps and split points, times their repeats), the time its bytes and writes take on the wire,
/// and the echoes it waits for. Case timeouts are bounds for slow targets, not expectations, and do
/// not count.
pub fn expected_seconds(case: &Case) -> f64 {
    case.steps
        .iter()
        .map(|step| {
            let pauses: f64 = step.split.iter().map(|s| s.pause).sum();
            let (bytes, writes) = match &step.action {
                Action::Pause(seconds) => return (seconds + pauses) * f64::from(step.repeat),
                Action::Frames(frames) => (frames.iter().map(|f| f.payload.len()).sum(), frames.len()),
                Action::Message(message) => (message.payload.len(), message.fragment_count(message.payload.len())),
                Action::Raw(payload) => (payload.len(), 1),
                Action::Close(_) => (0, 1),
            };
            let writes = match step.write {
                WriteMode::Chop(k) => writes.max(bytes / k.max(1)),
                _ => writes,
            };
            let round_trip = if step.await_message { SECONDS_PER_ROUND_TRIP } else { 0.0 };
            let wire = 2.0 * bytes as f64 / BYTES_PER_SECOND + writes as f64 * SECONDS_PER_WRITE + round_trip;
            (pauses + wire) * f64::from(step.repeat)
        })
        .sum()
}

/// Whether `case` is a bulk permessage-deflate case: its compressed messages add up to
/// [`BULK_BYTES`] or more.
pub fn is_bulk(case: &Case) -> bool {
    let volume: usize = case
        .steps
        .iter()
        .map(|step| match &step.action {
            Action::Message(message) if message.compressed => message.payload.len() * step.repeat as usize,
            _ => 0,
        })
        .sum();
    volume >= BULK_BYTES
}

/// The cases left to start, in [`order`], shared by the run's workers: at most `limit` in flight
/// (`jobs`, lowered when the target refuses cases under load), at most `bulk_slots` bulk cases
/// ([`is_bulk`]) at once, and the deferred cases last, each alone.
pub struct Queue {
    state: Mutex<State>,
    bulk: Arc<Semaphore>,
    /// Woken when a case ends.
    changed: Notify,
}

struct State {
    /// The cases not started yet, in order, each with whether it is bulk.
    cases: VecDeque<(Case, bool)>,
    /// Cases the target refused while others were in flight, to run again alone at the end.
    deferred: VecDeque<Case>,
    in_flight: usize,
    /// Cases in flight whose WebSocket is open.
    open: usize,
    /// The most cases whose WebSocket was open at once: the target served that many.
    most_open: usize,
    /// The most cases started at once.
    limit: usize,
}

/// A case handed to a worker, held while it runs: it counts as in flight until dropped.
pub struct Ticket {
    pub case: Case,
    /// Whether it runs again after it was deferred: alone, and not deferred again.
    pub retry: bool,
    queue: Arc<Queue>,
    opened: Arc<AtomicBool>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl Queue {
    /// The queue of `cases` for `jobs` workers, `bulk_slots` (at least 1) bulk cases at a time.
    pub fn new(cases: &[Case], jobs: usize, bulk_slots: usize) -> Self {
        let cases = order(cases, jobs)
            .into_iter()
            .map(|case| {
                let bulk = is_bulk(&case);
                (case, bulk)
            })
            .collect();
        let state = State { cases, deferred: VecDeque::new(), in_flight: 0, open: 0, most_open: 0, limit: jobs.max(1) };
        Self { state: Mutex::new(state), bulk: Arc::new(Semaphore::new(bulk_slots.max(1))), changed: Notify::new() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next case to start, once fewer than the limit are in flight: the first in order that
    /// may start now (a bulk case only with a free slot, kept in its ticket); when only bulk cases
    /// are left and no slot is free, waits for one. Once every case has started, the deferred ones,
    /// each when nothing else is in flight. `None` once every case, deferred or not, has started.
    pub async fn next(self: &Arc<Self>) -> Option<Ticket> {
        let mut waited = None;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let mut wants_bulk = false;
            {
                let mut state = self.state();
                if state.cases.is_empty() && state.deferred.is_empty() {
                    return None;
                }
                if state.in_flight < state.limit && !state.cases.is_empty() {
                    let slot = waited.take().or_else(|| self.bulk.clone().try_acquire_owned().ok());
                    if let Some(at) = state.cases.iter().position(|(_, bulk)| slot.is_some() || !bulk) {
                        let (case, bulk) = state.cases.remove(at).expect("the position is in the queue");
                        // A slot taken for a light case goes back as it drops.
                        return Some(self.ticket(&mut state, case, false, slot.filter(|_| bulk)));
                    }
                    wants_bulk = true;
                } else if state.cases.is_empty() && state.in_flight == 0 {
                    let case = state.deferred.pop_front().expect("a deferred case is left");
                    return Some(self.ticket(&mut state, case, true, None));
                }
            }
            if wants_bulk {
                tokio::select! {
                    slot = self.bulk.clone().acquire_owned() => waited = Some(slot.expect("the semaphore is never closed")),
                    () = changed => {}
                }
            } else {
                changed.await;
            }
        }
    }

    fn ticket(self: &Arc<Self>, state: &mut State, case: Case, retry: bool, slot: Option<OwnedSemaphorePermit>) -> Ticket {
        state.in_flight += 1;
        Ticket { case, retry, queue: self.clone(), opened: Arc::default(), _slot: slot }
    }

    /// The most cases started at once now: `jobs`, or fewer once cases were deferred.
    pub fn limit(&self) -> usize {
        self.state().limit
    }
}

impl Ticket {
    /// Marks the case's WebSocket open, for as long as the case runs; callable from the case's own
    /// task (`'static`). The mark returns true the first time.
    pub fn open_mark(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let (queue, opened) = (self.queue.clone(), self.opened.clone());
        move || {
            let first = !opened.swap(true, Ordering::SeqCst);
            if first {
                let mut state = queue.state();
                state.open += 1;
                state.most_open = state.most_open.max(state.open);
            }
            first
        }
    }

    /// How many other cases are in flight now.
    pub fn others_in_flight(&self) -> usize {
        self.queue.state().in_flight - 1
    }

    /// Whether the case runs alone, and no other case starts until it ends: a deferred case run
    /// again, or any case once the limit is 1.
    pub fn alone(&self) -> bool {
        let state = self.queue.state();
        self.retry || (state.limit == 1 && state.in_flight == 1)
    }

    /// Puts the case back, to run again alone once every other case has started and ended; with
    /// `at_limit` (the target refused a plain opening handshake too), lowers the limit to the
    /// other cases whose WebSocket is open now: as many as the target served when it refused this
    /// one (when none is open yet, to the others in flight, at least 1), but never below the most
    /// it was seen to serve at once: a target refusing intermittently, whatever the load, refuses
    /// the plain opening handshake at times too, and that is no evidence of a lower limit.
    pub fn defer(self, at_limit: bool) {
        let mut state = self.queue.state();
        let served = if state.open > 0 { state.open } else { state.in_flight - 1 };
        if at_limit {
            state.limit = state.limit.min(served.max(state.most_open).max(1));
        }
        state.deferred.push_back(self.case.clone());
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        {
            let mut state = self.queue.state();
            state.in_flight -= 1;
            if self.opened.load(Ordering::SeqCst) {
                state.open -= 1;
            }
        }
        self.queue.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Role};

    fn ids(cases: &[Case]) -> Vec<&str> {
        cases.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn pauses_and_big_messages_start_first_and_one_job_keeps_catalog_order() {
        // Autobahn's sections and wsspec's own frame sections (12.x/13.x, whose thousand-message
        // runs are the longest of all, would otherwise fill the first places).
        let cases: Vec<Case> = Catalog::embedded().unwrap().cases.into_iter().filter(|c| c.applies_to(Role::Server) && c.deflate.is_none()).collect();
        assert_eq!(ids(&order(&cases, 1)), ids(&cases), "--jobs 1 runs in catalog order");
        let ordered = order(&cases, 8);
        assert_eq!(ordered.len(), cases.len());
        let first: Vec<&str> = ids(&ordered[..6]).into_iter().collect();
        for id in ["6.4.1", "6.4.2", "6.4.3", "6.4.4"] {
            assert!(first.contains(&id), "{id} pauses 2 s and starts among the first: {first:?}");
        }
        let position = |id: &str| ordered.iter().position(|c| c.id.as_str() == id).unwrap();
        assert!(position("5.19") < position("1.1.1") && position("9.1.6") < position("1.1.1"), "a pause and 16 MiB go before an empty message");
        let catalog_position = |c: &Case| cases.iter().position(|x| x.id == c.id).unwrap();
        for pair in ordered.windows(2) {
            if expected_seconds(&pair[0]) == expected_seconds(&pair[1]) {
                assert!(catalog_position(&pair[0]) < catalog_position(&pair[1]), "equal estimates keep catalog order: {} {}", pair[0].id, pair[1].id);
            }
        }
        assert!(expected_seconds(&ordered[0]) >= 2.0, "{}", ordered[0].id);
    }

    fn deflate_cases(ids: &[&str]) -> Vec<Case> {
        let catalog = Catalog::embedded().unwrap();
        ids.iter().map(|id| catalog.cases.iter().find(|c| c.id.as_str() == *id).expect("a catalog id").clone()).collect()
    }

    #[test]
    fn bulk_means_16_mb_of_compressed_messages() {
        for (id, bulk) in [("12.1.6", false), ("12.1.11", false), ("12.1.7", true), ("12.2.10", true), ("13.7.18", true), ("1.1.1", false), ("9.1.6", false)] {
            assert_eq!(is_bulk(&deflate_cases(&[id])[0]), bulk, "{id}");
        }
    }

    #[tokio::test]
    async fn bulk_cases_wait_for_a_slot_while_the_light_ones_start() {
        let cases = deflate_cases(&["12.1.1", "12.1.10", "12.2.10", "12.3.10", "13.7.1"]);
        let queue = Arc::new(Queue::new(&cases, 8, 2));
        let mut tickets = Vec::new();
        for _ in 0..4 {
            tickets.push(queue.next().await.unwrap());
        }
        // Two bulk cases (longest first), then the light ones pass the third bulk case.
        let started: Vec<&str> = tickets.iter().map(|t| t.case.id.as_str()).collect();
        assert_eq!(started, ["12.1.10", "12.2.10", "12.1.1", "13.7.1"]);
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { queue.next().await.map(|t| (t.case.id.to_string(), t._slot.is_some())) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the third bulk case waits while two run");
        drop(tickets.remove(1));
        assert_eq!(waiting.await.unwrap(), Some(("12.3.10".to_string(), true)));
        assert!(queue.next().await.is_none());
    }

    #[tokio::test]
    async fn one_job_keeps_catalog_order() {
        let cases = deflate_cases(&["12.1.1", "12.1.10", "12.2.10", "13.7.1"]);
        let queue = Arc::new(Queue::new(&cases, 1, 1));
        let mut started = Vec::new();
        while let Some(ticket) = queue.next().await {
            started.push(ticket.case.id.to_string());
        }
        assert_eq!(started, ["12.1.1", "12.1.10", "12.2.10", "13.7.1"]);
    }

    /// A case refused while others ran lowers the limit to the cases open then, and runs again
    /// last, alone: after every other case has started and ended.
    #[tokio::test]
    async fn a_deferred_case_lowers_the_limit_and_runs_last_alone() {
        let cases = deflate_cases(&["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5"]);
        let queue = Arc::new(Queue::new(&cases, 4, 1));
        let mut tickets = Vec::new();
        for _ in 0..4 {
            tickets.push(queue.next().await.unwrap());
        }
        for ticket in &tickets[..2] {
            assert!(ticket.open_mark()() && !ticket.open_mark()(), "marked once");
        }
        assert_eq!(tickets[3].others_in_flight(), 3);
        let ids: Vec<String> = tickets.iter().map(|t| t.case.id.to_string()).collect();
        let last = cases.iter().map(|c| c.id.to_string()).find(|id| !ids.contains(id)).unwrap();
        tickets.pop().unwrap().defer(true);
        assert_eq!(queue.limit(), 2, "two were open when it was refused");
        tickets.pop();
        let next = tokio::spawn({
            let queue = queue.clone();
            async move { queue.next().await.map(|t| (t.case.id.to_string(), t.retry)) }
        });
        tokio::task::yield_now().await;
        assert!(!next.is_finished(), "two in flight: at the limit");
        tickets.pop();
        assert_eq!(next.await.unwrap(), Some((last, false)));
        let deferred = tokio::spawn({
            let queue = queue.clone();
            async move { queue.next().await.map(|t| (t.case.id.to_string(), t.retry)) }
        });
        tokio::task::yield_now().await;
        assert!(!deferred.is_finished(), "the deferred case waits until nothing else is in flight");
        tickets.clear();
        assert_eq!(deferred.await.unwrap(), Some((ids[3].clone(), true)));
        assert!(queue.next().await.is_none());
    }

    /// The limit never goes below the most WebSockets the target was seen to serve at once: a
    /// refusal with fewer open (a target refusing intermittently) lowers it no further.
    #[tokio::test]
    async fn the_limit_stays_at_the_most_the_target_served_at_once() {
        let cases = deflate_cases(&["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5"]);
        let queue = Arc::new(Queue::new(&cases, 4, 1));
        let mut tickets = Vec::new();
        for _ in 0..4 {
            tickets.push(queue.next().await.unwrap());
        }
        assert!(!tickets[0].alone(), "4 at a time");
        for ticket in &tickets[..3] {
            ticket.open_mark()();
        }
        tickets.drain(..2);
        tickets.pop().unwrap().defer(true);
        assert_eq!(queue.limit(), 3, "refused with 1 open, after 3 were open at once");
    }

    #[tokio::test]
    async fn one_at_a_time_a_case_runs_alone() {
        let cases = deflate_cases(&["1.1.1", "1.1.2"]);
        let queue = Arc::new(Queue::new(&cases, 1, 1));
        assert!(queue.next().await.unwrap().alone());
    }
}
