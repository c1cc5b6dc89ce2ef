//! The `wsspec` command: a small CLI over the library. Exit codes: 0 when no case failed, 1 when
//! any did, 2 when the run could not be done (or not completely), 3 when a signal interrupted it.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
