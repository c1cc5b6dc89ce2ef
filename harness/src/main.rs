//! The `wsspec` command: a small CLI over the library. Exit codes: 0 when no case failed, 1 when
//! any did, 2 when the run could not be done (or not completely), 3 when a signal interrupted it.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    one_malloc_arena();
    let args = cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("wsspec: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprintln!("wsspec: {e}");
            ExitCode::from(2)
        }
    }
}

/// glibc's malloc gives each thread that allocates an arena of its own (up to 8 per core): the
/// runtime's workers and blocking threads each kept their own high-water mark, and a run's RSS was
/// near the sum of those rather than the most the process held at once: 1.1 to 1.7 MB more on the
/// whole catalog and 1.3 MB more on `--cases '12.1.*' '13.1.*'` against the permessage-deflate
/// reference (`/usr/bin/time -v`). The threads share one arena instead; the wall times stayed within
/// the noise of the shared machine.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
