//! Command-line arguments and the commands they run.

/// `eprintln!` that never panics: progress and summaries go to stderr, which a user may pipe into
/// `head` and close; wsspec then goes on quietly (the run and its reports complete) instead of
/// panicking mid-run.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

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
#[command(name = "wsspec", version, about, after_help = "Exit codes: 0 passed (no case failed, no fuzz finding, no verdict changed), 1 failed (a case failed, a\nfinding, a changed verdict), 2 the run could not be done, or not completely (bad input, unreachable target,\nunwritable output, wsspec's own error, a target that stopped answering, an incomplete report folder), with\none line saying why; 3 interrupted (SIGINT, SIGTERM), even when every case still ran. `wsspec help COMMAND` gives\neach command's exit codes.")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

/// The exit codes of the commands that run or gate cases.
const GATE_EXIT_CODES: &str = "Exit codes: 0 no case failed (with --expect: every result as expected); 1 a case failed: behavior FAILED,
or behaviorClose FAILED, WRONG CODE or UNCLEAN (with --expect: an unexpected result or a stale entry); 2 the run
could not be done: bad arguments, a bad URL, spec, case or expectations file, a case pattern that selects
nothing, an unreachable target or one that stopped answering, an unwritable report folder, wsspec's own
error on a case, a client-testing server stopped before any client ran a case; 3 interrupted (SIGINT,
SIGTERM), even when the cases in flight all ended in the grace period (client --spec: only when a client
that began has not run all its cases).";

#[derive(Debug, Subcommand)]
enum Command {
    /// Test a WebSocket server (wsspec is the client). Without a URL, tests the embedded reference
    /// server (tokio-tungstenite).
    #[command(after_help = GATE_EXIT_CODES)]
    Server(ServerArgs),
    /// Test a WebSocket client (wsspec is the server, speaking Autobahn's fuzzingserver URL
    /// protocol). Without --exec or --serve, tests the embedded reference client (tokio-tungstenite).
    #[command(after_help = GATE_EXIT_CODES)]
    Client(client::ClientArgs),
    /// Fuzz a WebSocket server with random frame sequences judged by a model of the RFC; writes
    /// each divergence, minimized, as a case file. Without a URL, fuzzes the embedded server.
    #[command(after_help = "Exit codes: 0 no finding; 1 findings were written (the summary names the file); 2 the run could\nnot be done: bad arguments, an unreachable target, a target on which no sequence could open a\nWebSocket, an unwritable --out; 3 interrupted (SIGINT, SIGTERM): the findings so far are written.")]
    Fuzz(fuzz::FuzzArgs),
    /// Write the seed corpora of the libFuzzer targets in fuzz/ (one folder per target).
    #[command(after_help = "Exit codes: 0 the seeds were written; 2 they could not be (a bad case file, an unwritable DIR).")]
    FuzzSeeds {
        /// Folder to write to, e.g. fuzz/corpus
        dir: PathBuf,
        /// Generate them from the case files in this folder instead of the built-in catalog.
        #[arg(long, value_name = "DIR")]
        catalog: Option<PathBuf>,
    },
    /// Run the embedded reference client (tokio-tungstenite) as an Autobahn-style driver against a
    /// client-testing server: getCaseCount, runCase for each case (echoing), updateReports.
    #[command(after_help = "Exit codes: 0 every case was run and the reports requested; 2 the server could not be asked\n(getCaseCount or updateReports failed). Verdicts are the server's to give.")]
    ReferenceClient {
        /// The server's base URL, e.g. ws://127.0.0.1:9001
        url: String,
        /// The name results are filed under.
        #[arg(long, default_value = "tungstenite-embedded")]
        agent: String,
    },
    /// Run the embedded reference server (tokio-tungstenite echo) on its own, e.g. to compare wsspec
    /// with another suite on the same server. Runs until interrupted.
    #[command(after_help = "Exit codes: 0 stopped by Ctrl-C; 2 cannot listen on the address.")]
    ReferenceServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9001")]
        listen: String,
        /// Run the permessage-deflate reference instead: a ratchet_rs echo server with
        /// ratchet_deflate (for sections 12, 13 and 20).
        #[arg(long)]
        deflate: bool,
    },
    /// Re-render the HTML report (and JUnit with --junit) from stored results: index.json and the
    /// per-case files in DIR, every agent of index.json in one matrix. Gates like a run.
    #[command(after_help = GATE_EXIT_CODES)]
    Report {
        /// A report folder, or its index.json.
        dir: PathBuf,
        #[command(flatten)]
        outputs: outputs::OutputArgs,
    },
    /// Write a throw-away CA (DIR/ca.pem) and a certificate it signed (DIR/cert.pem, key in
    /// DIR/key.pem) for the given names, e.g. for a TLS server to test with `--ca DIR/ca.pem`, or
    /// for Autobahn-style `cert`/`key` spec keys. The key is readable by its owner only (0600);
    /// existing files are not replaced without --force.
    #[command(after_help = "Exit codes: 0 the files were written; 2 they could not be (one of them exists without --force, an\nunwritable DIR, a name rcgen refuses).")]
    TlsCert {
        dir: PathBuf,
        /// DNS names or IP addresses the certificate is for.
        #[arg(long = "name", value_name = "NAME", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        names: Vec<String>,
        /// Replace an existing ca.pem, cert.pem or key.pem.
        #[arg(long)]
        force: bool,
    },
    /// Compare two result sets (report folders or index.json files): regressions, fixes, other
    /// verdict changes, new and missing results, and close codes that changed while both verdicts
    /// stayed the same (a close code can race: a 1009 may arrive before the drop or not).
    #[command(after_help = "Exit codes: 0 no verdict changed and no result is new or missing (close-code-only changes are\nlisted but pass, unless --strict); 1 a verdict changed, or a result is new or missing; 2 bad input, or a folder from an interrupted or\nunfinished run, or lacking results its runs selected.")]
    Diff {
        /// The earlier results: a report folder or its index.json.
        old: PathBuf,
        /// The later results, compared with OLD agent by agent (when each side has one agent under
        /// different names, those two are compared).
        new: PathBuf,
        /// Also exit 1 when only a close code changed.
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The server to test, e.g. ws://127.0.0.1:9001 (without it: the embedded reference server).
    /// May also follow --cases or --exclude.
    url: Option<String>,
    /// Name the results are filed under (default: UnknownServer, or the embedded server's name).
    #[arg(long)]
    agent: Option<String>,
    /// Report folder (default: reports/servers, or the spec file's `outdir`; --out wins over it).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    selection: selection::SelectionArgs,
    /// Cases in flight at once (default: 4 per core, from 4 to 32; 1 for fragile targets).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Autobahn's fuzzingclient.json: servers, cases, exclude-cases, exclude-agent-cases, outdir.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// Open each WebSocket over HTTP/2 (RFC 8441): an extended CONNECT stream of a prior-knowledge
    /// h2c connection. The HTTP/1.1 opening-handshake cases (18.x) are not run; section 22 is run
    /// only with it.
    #[arg(long)]
    http2: bool,
    #[command(flatten)]
    tls: tls::ConnectArgs,
    /// Without a URL: run the embedded server over TLS (wss://) with a throw-away certificate.
    #[arg(long, conflicts_with_all = ["url", "spec"])]
    embedded_tls: bool,
    #[command(flatten)]
    outputs: outputs::OutputArgs,
}

impl ServerArgs {
    /// `--cases` and `--exclude` take every value after them, so a URL given after them lands there:
    /// it is taken back as the URL.
    fn take_url_from_patterns(&mut self) -> Result<(), String> {
        let urls = self.selection.take_urls();
        match (&urls[..], &self.url) {
            ([], _) => Ok(()),
            ([url], None) => {
                self.url = Some(url.clone());
                Ok(())
            }
            _ => Err(format!(
                "more than one URL ({}): a run tests one server; a spec file (--spec) lists several",
                self.url.iter().chain(&urls).map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// How a command ended, when it did not fail at once; worse outcomes come later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Exit 0.
    Passed,
    /// Exit 1: a case failed.
    Failed,
    /// Exit 2, after the reports were written: wsspec could not run some cases through its own
    /// fault, the target stopped answering, or a stored report folder is incomplete.
    Incomplete,
    /// Exit 3: a signal stopped the run before every case ran.
    Interrupted,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Passed => 0,
            Self::Failed => 1,
            Self::Incomplete => 2,
            Self::Interrupted => 3,
        }
    }
}

/// A signal that cut nothing short: it came after every case had started, and the cases in flight
/// ended within the grace period (or it came while the reports were written). The results are
/// complete (`wsspec-run.json` says so, and `wsspec report` gates on them), but the user or CI asked
/// the run to stop, so it ends as an interrupted run does (exit 3), as any Unix tool stopped by
/// Ctrl-C fails, with one line saying what the signal did. `when` says at what point it came (`after
/// every case had started`). Unchanged when no signal came or the run already ends as interrupted
/// (a line already said so).
pub fn signal_received(stop: &wsspec::engine::Stop, outcome: Outcome, when: &str) -> Outcome {
    match stop.reason() {
        Some(reason) if outcome < Outcome::Interrupted => {
            say!("interrupted: {reason} {when}; nothing was cut short, the results are complete (`wsspec report` gates on them), but the run was asked to stop: exit 3");
            Outcome::Interrupted
        }
        _ => outcome,
    }
}

/// Writes `text` to stdout; false when the reader closed the pipe (`| head`), which ends the
/// command quietly with exit 0, as ripgrep does.
pub fn print_stdout(text: &str) -> Result<bool, String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(format!("cannot write to stdout: {e}")),
    }
}

pub async fn run(args: Args) -> Result<Outcome, String> {
    match args.command {
        Command::Server(mut server_args) => {
            server_args.take_url_from_patterns()?;
            server::run(server_args).await
        }
        Command::Client(client_args) => client::run(client_args).await,
        Command::Fuzz(fuzz_args) => fuzz::run(fuzz_args).await,
        Command::FuzzSeeds { dir, catalog } => fuzz::write_seeds(dir, catalog),
        Command::ReferenceClient { url, agent } => {
            wsspec::peers::reference_client::run_driver(url.trim_end_matches('/'), &agent).await?;
            Ok(Outcome::Passed)
        }
        Command::TlsCert { dir, names, force } => {
            tls::write_certificate(&dir, &names, force)?;
            Ok(Outcome::Passed)
        }
        Command::Report { dir, outputs } => {
            outputs::check(&outputs, &selection::load_catalog(None)?)?;
            outputs::report_stored(&dir, &outputs)
        }
        Command::Diff { old, new, strict } => outputs::diff_stored(&old, &new, strict),
        Command::ReferenceServer { listen, deflate } => {
            let cannot = |e: std::io::Error| format!("cannot listen on {listen}: {e}");
            let (_tungstenite, _ratchet, url, what);
            if deflate {
                let server = wsspec::peers::deflate_reference::DeflateReferenceServer::bind(&listen).await.map_err(cannot)?;
                (url, what) = (server.url(), "ratchet_rs echo with permessage-deflate");
                _ratchet = Some(server);
            } else {
                let server = wsspec::peers::reference_server::ReferenceServer::bind(&listen).await.map_err(cannot)?;
                (url, what) = (server.url(), "tokio-tungstenite echo");
                _tungstenite = Some(server);
            }
            println!("{url}");
            say!("wsspec: reference server ({what}) listening; Ctrl-C stops it");
            tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
            Ok(Outcome::Passed)
        }
    }
}

/// The selected cases that run over the run's transport, and a note on those left out (never
/// counted as passed), printed and kept with each agent's run; none left is an error naming the flag.
fn transport_cases(selected: Vec<wsspec::catalog::Case>, http2: bool) -> Result<(Vec<wsspec::catalog::Case>, Option<String>), String> {
    let total = selected.len();
    let kept: Vec<_> = selected.into_iter().filter(|c| c.runs_over_http2(http2)).collect();
    let left = total - kept.len();
    let note = match (left, http2) {
        (0, _) => None,
        (_, _) if kept.is_empty() && http2 => return Err("every selected case tests the HTTP/1.1 opening handshake or permessage-deflate, which --http2 does not run yet".into()),
        (_, _) if kept.is_empty() => return Err("every selected case tests WebSocket over HTTP/2 (section 22): add --http2".into()),
        (n, true) => Some(format!("{n} HTTP/1.1 opening-handshake (18.x) and permessage-deflate (12.x, 13.x, 20.x) cases are not run over HTTP/2 (not counted as passed)")),
        (n, false) => Some(format!("{n} WebSocket-over-HTTP/2 cases (22.x) run only with --http2 (not counted as passed)")),
    };
    if let Some(note) = &note {
        say!("wsspec: note: {note}");
    }
    Ok((kept, note))
}
