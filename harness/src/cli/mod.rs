//! Command-line arguments and the commands they run.

mod outputs;
mod progress;
mod server;
mod spec;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// WebSocket (RFC 6455) conformance suite: runs a declarative catalog of cases against a server and
/// writes Autobahn-compatible reports.
#[derive(Debug, Parser)]
#[command(name = "wsspec", version, about, after_help = "Exit codes: 0 no case failed, 1 a case failed, 2 the run could not be done.")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Test a WebSocket server (wsspec is the client). Without a URL, tests the embedded reference
    /// server (tokio-tungstenite).
    Server(ServerArgs),
    /// Run the embedded reference server (tokio-tungstenite echo) on its own, e.g. to compare wsspec
    /// with another suite on the same server. Runs until interrupted.
    ReferenceServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9001")]
        listen: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The server to test, e.g. ws://127.0.0.1:9001
    url: Option<String>,
    /// Name the results are filed under (default: UnknownServer, or the embedded server's name).
    #[arg(long)]
    agent: Option<String>,
    /// Report folder.
    #[arg(long, default_value = "reports/servers")]
    out: PathBuf,
    /// Cases to run: ids, or patterns with `*` matching the start of an id (Autobahn's rules).
    #[arg(long, num_args = 1.., value_name = "PATTERN")]
    cases: Vec<String>,
    /// Cases to leave out (same patterns).
    #[arg(long, num_args = 1.., value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Print the selected cases and run nothing.
    #[arg(long)]
    list: bool,
    /// Cases in flight at once (1 for fragile targets).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Autobahn's fuzzingclient.json: servers, cases, exclude-cases, exclude-agent-cases, outdir.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// Multiply every timeout and pause by this factor.
    #[arg(long, default_value_t = 1.0)]
    timeout_scale: f64,
    /// Load the catalog from this folder instead of the one built in.
    #[arg(long, value_name = "DIR")]
    catalog: Option<PathBuf>,
    #[command(flatten)]
    outputs: outputs::OutputArgs,
}

/// How a run ended, when it could be done.
pub enum Outcome {
    Passed,
    Failed,
}

pub async fn run(args: Args) -> Result<Outcome, String> {
    match args.command {
        Command::Server(server_args) => server::run(server_args).await,
        Command::ReferenceServer { listen } => {
            let server = wsspec::peers::reference_server::ReferenceServer::bind(&listen)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            println!("{}", server.url());
            eprintln!("wsspec: reference server (tokio-tungstenite echo) listening; Ctrl-C stops it");
            tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
            Ok(Outcome::Passed)
        }
    }
}
