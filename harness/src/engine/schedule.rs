//! The order cases start in. With several in flight, a run lasts at least as long as its slowest
//! case started last: the mandated pauses (6.4.x pause twice for 1 s, 5.19/5.20 for 1 s) and the
//! biggest messages start first, so they overlap with everything else instead of trailing at the
//! end. One at a time (`--jobs 1`), cases run in catalog order, as a fragile target may expect.
//! Reports do not depend on it: they are in catalog order whatever the order of running.

use crate::catalog::{Action, Case, WriteMode};

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
}
