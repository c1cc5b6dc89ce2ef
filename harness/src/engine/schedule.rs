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
    sync::{Arc, Mutex},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// The cases left to start, in [`order`], shared by the run's workers; at most `bulk_slots` bulk
/// cases ([`is_bulk`]) run at once.
pub struct Queue {
    cases: Mutex<VecDeque<(Case, bool)>>,
    bulk: Arc<Semaphore>,
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
        Self { cases: Mutex::new(cases), bulk: Arc::new(Semaphore::new(bulk_slots.max(1))) }
    }

    /// The next case to start: the first in order that may start now (a bulk case only with a
    /// free slot, returned with it, to hold while it runs); when only bulk cases are left and no
    /// slot is free, waits for one. `None` once every case has started.
    pub async fn next(&self) -> Option<(Case, Option<OwnedSemaphorePermit>)> {
        let mut waited = None;
        loop {
            {
                let mut cases = self.cases.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if cases.is_empty() {
                    return None;
                }
                let slot = waited.take().or_else(|| self.bulk.clone().try_acquire_owned().ok());
                if let Some(at) = cases.iter().position(|(_, bulk)| slot.is_some() || !bulk) {
                    let (case, bulk) = cases.remove(at).expect("the position is in the queue");
                    // A slot taken for a light case goes back as it drops.
                    return Some((case, slot.filter(|_| bulk)));
                }
            }
            waited = Some(self.bulk.clone().acquire_owned().await.expect("the semaphore is never closed"));
        }
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
        let mut started = Vec::new();
        let mut slots = Vec::new();
        for _ in 0..4 {
            let (case, slot) = queue.next().await.unwrap();
            started.push(case.id.to_string());
            slots.extend(slot);
        }
        // Two bulk cases (longest first), then the light ones pass the third bulk case.
        assert_eq!(started, ["12.1.10", "12.2.10", "12.1.1", "13.7.1"]);
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { queue.next().await.map(|(case, slot)| (case.id.to_string(), slot.is_some())) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the third bulk case waits while two run");
        drop(slots.pop());
        assert_eq!(waiting.await.unwrap(), Some(("12.3.10".to_string(), true)));
        assert!(queue.next().await.is_none());
    }

    #[tokio::test]
    async fn one_job_keeps_catalog_order() {
        let cases = deflate_cases(&["12.1.1", "12.1.10", "12.2.10", "13.7.1"]);
        let queue = Queue::new(&cases, 1, 1);
        let mut started = Vec::new();
        while let Some((case, slot)) = queue.next().await {
            started.push(case.id.to_string());
            drop(slot);
        }
        assert_eq!(started, ["12.1.1", "12.1.10", "12.2.10", "13.7.1"]);
    }
}
