//! The lines the client-testing server prints while clients run: one per result, tagged with its
//! agent, and one per distinct request it refused, so a driver that speaks Autobahn's URL protocol
//! wrong is visible. Both are callbacks the server calls from its connections.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
};

use wsspec::client_testing::OnResult;

use super::super::progress::{agent_name, terminal_safe};

/// One plain line per result, tagged with its agent (several may run at once).
pub(super) fn progress_lines(total: usize) -> OnResult {
    let progress = Mutex::new(BTreeMap::<String, usize>::new());
    Arc::new(move |record| {
        let mut done = progress.lock().expect("lock");
        let n = done.entry(record.agent.clone()).or_default();
        *n += 1;
        say!(
            "[{}] [{n:>3}/{total}] {:<9} {} / {} ({} ms)",
            agent_name(&record.agent),
            record.id,
            record.behavior.as_str(),
            record.behavior_close.as_str(),
            record.duration
        );
    })
}

/// One line per distinct request wsspec refused (at most [`REFUSALS_SHOWN`]), so a driver speaking
/// the URL protocol wrong is visible.
pub(super) fn refusal_lines() -> wsspec::client_testing::OnRefusal {
    let seen = Mutex::new(BTreeSet::<String>::new());
    Arc::new(move |status, target, message| {
        let mut seen = seen.lock().expect("lock");
        let key = format!("{status} {message}");
        if seen.contains(&key) || seen.len() > REFUSALS_SHOWN {
            return;
        }
        seen.insert(key);
        if seen.len() > REFUSALS_SHOWN {
            say!("wsspec: more refused requests are not shown");
        } else {
            say!("wsspec: refused a request for {} with {status}: {}", terminal_safe(&wsspec::preview(target.as_bytes(), 100)), terminal_safe(message));
        }
    })
}

/// How many distinct refusals are printed.
const REFUSALS_SHOWN: usize = 10;
