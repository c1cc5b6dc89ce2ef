//! wsspec's own faults, told from the target's: a panic in a case task, a local resource that ran
//! out (descriptors, ports, buffers), and the open-file limit the cases in flight must fit.

use crate::catalog::Case;

/// Descriptors kept free of cases in flight: the standard streams, the runtime's, the report
/// folder's writes, an embedded server's listener.
const SPARE_DESCRIPTORS: u64 = 24;

/// `jobs`, lowered so cases in flight fit the open-file limit (RLIMIT_NOFILE) with
/// [`SPARE_DESCRIPTORS`] left for the report folder, at two descriptors a case (its connection and,
/// for the embedded server, the other end); says so in one line when it lowers it.
pub(super) fn fit_descriptors(jobs: usize) -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes the struct it is given and nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 && limit.rlim_cur != libc::RLIM_INFINITY {
            let fit = usize::try_from(limit.rlim_cur.saturating_sub(SPARE_DESCRIPTORS) / 2).unwrap_or(usize::MAX).max(1);
            if fit < jobs {
                eprintln!("wsspec: {fit} cases at a time, not {jobs}: the open-file limit (ulimit -n) is {}", limit.rlim_cur);
                return fit;
            }
        }
    }
    jobs
}

/// Errors of the machine wsspec runs on, not of the target: too many open files (EMFILE, ENFILE),
/// no buffer space (ENOBUFS), no local port left (EADDRNOTAVAIL).
pub(crate) fn is_local_error(error: &str) -> bool {
    ["(os error 23)", "(os error 24)", "(os error 99)", "(os error 105)"].iter().any(|code| error.contains(code))
}

/// The text of a panic, for the error it becomes.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
    format!("wsspec panicked while running this case (a bug in wsspec): {}", text.unwrap_or_else(|| "no message".into()))
}

/// Test hook of debug builds: `WSSPEC_TEST_PANIC=<case id>` makes that case's task panic, so the
/// tests can check that wsspec's own failure is reported as such.
pub(crate) fn inject_panic(case: &Case) {
    if cfg!(debug_assertions) && std::env::var("WSSPEC_TEST_PANIC").is_ok_and(|id| id == case.id.as_str()) {
        panic!("injected by WSSPEC_TEST_PANIC");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_errors_are_told_from_the_targets() {
        assert!(is_local_error("cannot connect to 127.0.0.1:9: Too many open files (os error 24)"));
        assert!(!is_local_error("cannot connect to 127.0.0.1:9: Connection refused (os error 111)"));
    }
}
