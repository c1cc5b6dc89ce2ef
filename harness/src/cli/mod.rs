//! Command-line arguments and the commands they run.

mod client;
mod fuzz;
mod outputs;
mod progress;
mod selection;
mod server;
mod spec;
mod tls;

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
    /// Test a WebSocket client (wsspec is the server, speaking Autobahn's fuzzingserver URL
    /// protocol). Without --exec or --serve, tests the embedded reference client (tokio-tungstenite).
    Client(client::ClientArgs),
    /// Fuzz a WebSocket server with random frame sequences judged by a model of the RFC; writes
    /// each divergence, minimized, as a case file. Without a URL, fuzzes the embedded server.
    Fuzz(fuzz::FuzzArgs),
    /// Write the seed corpora of the libFuzzer targets in fuzz/ (one folder per target).
    FuzzSeeds {
        /// Folder to write to, e.g. fuzz/corpus
        dir: PathBuf,
        /// Generate them from the case files in this folder instead of the built-in catalog.
        #[arg(long, value_name = "DIR")]
        catalog: Option<PathBuf>,
    },
    /// Run the embedded reference client (tokio-tungstenite) as an Autobahn-style driver against a
    /// client-testing server: getCaseCount, runCase for each case (echoing), updateReports.
    ReferenceClient {
        /// The server's base URL, e.g. ws://127.0.0.1:9001
        url: String,
        /// The name results are filed under.
        #[arg(long, default_value = "tungstenite-embedded")]
        agent: String,
    },
    /// Run the embedded reference server (tokio-tungstenite echo) on its own, e.g. to compare wsspec
    /// with another suite on the same server. Runs until interrupted.
    ReferenceServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9001")]
        listen: String,
    },
    /// Re-render the HTML report (and JUnit with --junit) from stored results: index.json and the
    /// per-case files in DIR, every agent of index.json in one matrix. Gates like a run.
    Report {
        /// A report folder, or its index.json.
        dir: PathBuf,
        #[command(flatten)]
        outputs: outputs::OutputArgs,
    },
    /// Write a throw-away CA (DIR/ca.pem) and a certificate it signed (DIR/cert.pem, key in
    /// DIR/key.pem) for the given names, e.g. for a TLS server to test with `--ca DIR/ca.pem`, or
    /// for Autobahn-style `cert`/`key` spec keys.
    TlsCert {
        dir: PathBuf,
        /// DNS names or IP addresses the certificate is for.
        #[arg(long = "name", value_name = "NAME", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        names: Vec<String>,
    },
    /// Compare two result sets (report folders or index.json files): regressions, fixes, other
    /// verdict changes, changed close codes, new and missing results. Exit 0 when they are the
    /// same, 1 when they differ, 2 on bad input.
    Diff { old: PathBuf, new: PathBuf },
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
    #[command(flatten)]
    selection: selection::SelectionArgs,
    /// Cases in flight at once (1 for fragile targets).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Autobahn's fuzzingclient.json: servers, cases, exclude-cases, exclude-agent-cases, outdir.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    #[command(flatten)]
    tls: tls::ConnectArgs,
    /// Without a URL: run the embedded server over TLS (wss://) with a throw-away certificate.
    #[arg(long, conflicts_with_all = ["url", "spec"])]
    embedded_tls: bool,
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
        Command::Client(client_args) => client::run(client_args).await,
        Command::Fuzz(fuzz_args) => fuzz::run(fuzz_args).await,
        Command::FuzzSeeds { dir, catalog } => fuzz::write_seeds(dir, catalog),
        Command::ReferenceClient { url, agent } => {
            wsspec::peers::reference_client::run_driver(url.trim_end_matches('/'), &agent).await?;
            Ok(Outcome::Passed)
        }
        Command::TlsCert { dir, names } => {
            tls::write_certificate(&dir, &names)?;
            Ok(Outcome::Passed)
        }
        Command::Report { dir, outputs } => {
            outputs::check(&outputs, &selection::load_catalog(None)?)?;
            outputs::report_stored(&dir, &outputs)
        }
        Command::Diff { old, new } => {
            let load = |path: &PathBuf| wsspec_reports::StoredResults::load(path).map(|r| r.index).map_err(|e| e.to_string());
            let diff = wsspec_reports::diff::diff(&load(&old)?, &load(&new)?);
            println!("{diff}");
            Ok(if diff.is_empty() { Outcome::Passed } else { Outcome::Failed })
        }
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
