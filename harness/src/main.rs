//! The `wsspec` command: a small CLI over the library. Exit codes: 0 when no case failed, 1 when
//! any did, 2 when the run could not be done.

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
        Ok(cli::Outcome::Passed) => ExitCode::SUCCESS,
        Ok(cli::Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            eprintln!("wsspec: {e}");
            ExitCode::from(2)
        }
    }
}
