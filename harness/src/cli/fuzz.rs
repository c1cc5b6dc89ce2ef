//! `wsspec fuzz`: network fuzzing of a server, with progress and a summary; `wsspec fuzz-seeds`:
//! the libFuzzer seed corpora.

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
    time::{Duration, Instant},
};

use wsspec::{
    catalog::Catalog,
    engine::{RunOptions, Stop, Target},
    fuzz::{
        network::{self, Config, DeflateUse, Finding, Kind, Progress, Report, Stats},
        seeds,
    },
    peers::reference_server::ReferenceServer,
};

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct FuzzArgs {
    /// The server to fuzz, e.g. ws://127.0.0.1:9001 (without it: the embedded reference server)
    url: Option<String>,
    /// Seconds to generate new sequences for.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Stop after this many sequences (as well as after --duration).
    #[arg(long)]
    sequences: Option<u64>,
    /// Seed of the sequence generator: the same seed sends the same frames (default: random, printed).
    #[arg(long)]
    seed: Option<u32>,
    /// Sequences in flight at once (default: 16 per core, from 16 to 64).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Folder for the findings: one case file per run, `fuzz-<seed>.toml`.
    #[arg(long, default_value = "fuzz-findings")]
    out: PathBuf,
    /// Multiply every timeout by this factor.
    #[arg(long, default_value_t = 1.0)]
    timeout_scale: f64,
    /// Require permessage-deflate: exit 2 if the target declines it. Without this flag it is
    /// offered once and, if agreed, every other sequence carries compressed messages.
    #[arg(long, conflicts_with = "no_deflate")]
    deflate: bool,
    /// Never offer permessage-deflate.
    #[arg(long)]
    no_deflate: bool,
}

pub async fn run(args: FuzzArgs) -> Result<Outcome, String> {
    // First, so an interrupt while the embedded server starts ends the run as one (exit 3).
    let stop = Stop::on_signals().map_err(|e| format!("cannot install the signal handlers: {e}"))?;
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return Err(format!("--duration {} must be a positive number of seconds", args.duration));
    }
    super::selection::check_timeout_scale(args.timeout_scale)?;
    if args.jobs == Some(0) {
        return Err("--jobs must be at least 1".into());
    }
    wsspec_reports::sink::check_writable(&args.out).map_err(|e| format!("the findings folder: {e}"))?;
    // The embedded server lives exactly as long as the run.
    let (url, _server) = match args.url {
        Some(url) => (url, None),
        None => {
            let server = ReferenceServer::start().await.map_err(|e| format!("cannot start the embedded server: {e}"))?;
            (server.url(), Some(server))
        }
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    let target = Target::parse(&url)?;
    if target.secure {
        return Err(format!("`{url}`: wsspec fuzz speaks ws:// only; fuzz the server over plain TCP"));
    }
    let config = Config {
        target,
        seed,
        jobs: args.jobs.unwrap_or_else(default_fuzz_jobs),
        duration: Duration::from_secs_f64(args.duration),
        max_sequences: args.sequences,
        options: RunOptions { timeout_scale: args.timeout_scale, ..RunOptions::default() },
        out_dir: args.out,
        deflate: match (args.deflate, args.no_deflate) {
            (true, _) => DeflateUse::Required,
            (_, true) => DeflateUse::Off,
            _ => DeflateUse::IfAgreed,
        },
    };
    say!("wsspec: fuzzing {url} for {} s, seed {seed}, {} sequences at a time", args.duration, config.jobs);
    let mut status = Status::new();
    let report = network::run(&config, &stop, |event| match event {
        Progress::Tick(stats) => status.show(stats),
        Progress::Finding(finding, file) => {
            status.finish();
            say!("finding: {} (written to {})", describe(finding), file.display());
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    status.finish();
    summarize(&report, &url, &config);
    let outcome = match (&report.interrupted, &report.file) {
        (Some(_), _) => Outcome::Interrupted,
        (None, Some(_)) => Outcome::Failed,
        // Nothing judged is nothing tested: a run that decided no sequence never passes.
        (None, None) if report.stats.opened == 0 => {
            say!("wsspec: no sequence was decided: {url} opened no WebSocket for any of them");
            Outcome::Incomplete
        }
        (None, None) => Outcome::Passed,
    };
    Ok(super::signal_received(&stop, outcome, "as the run ended"))
}

/// The summary: what was generated, run and decided, what was found and where it is.
fn summarize(report: &Report, url: &str, config: &Config) {
    let stats = &report.stats;
    say!(
        "\n{} in {:.1} s: {} run ({:.0}/s), {} (not sent: the model cannot judge them)",
        count(stats.generated, "sequence generated", "sequences generated"),
        stats.elapsed.as_secs_f64(),
        stats.sequences,
        stats.per_second(),
        count(stats.undecidable, "undecidable", "undecidable"),
    );
    say!(
        "  {} (opened a WebSocket and judged), {} with permessage-deflate, {} divergent, {}",
        count(stats.opened, "decided", "decided"),
        stats.compressed,
        stats.divergent,
        count(report.findings.len() as u64, "finding", "findings"),
    );
    if stats.sequences > 0 {
        say!(
            "  {} sent on a new connection, {} on a WebSocket an earlier sequence left open and idle",
            stats.sequences - stats.reused,
            stats.reused,
        );
    }
    if stats.intermittent > 0 {
        say!(
            "  {}: the target refused connections intermittently, whatever the load ({} of a kind a plain opening handshake got past with more connections open): run again at once",
            count(stats.refused, "refusal", "refusals"),
            stats.intermittent,
        );
    } else if stats.refused > 0 {
        say!(
            "  {} while other connections were open (a target serving only so many at once): run again later, fewer at once",
            count(stats.refused, "refusal", "refusals"),
        );
    }
    if stats.dropped > 0 {
        let others = if stats.opened > 0 { " (the target opened others)" } else { "" };
        say!("  {} undecided: the WebSocket did not open{others}", count(stats.dropped, "sequence", "sequences"));
    }
    if stats.unconfirmed > 0 {
        say!("  {} more diverged once and conformed when run again at once: not findings", stats.unconfirmed);
    }
    for finding in &report.findings {
        say!("  {}", describe(finding));
    }
    if report.unexamined > 0 {
        say!("  {} more divergent sequences were not minimized (run longer, or with another --seed)", report.unexamined);
    }
    if let Some(reason) = &report.interrupted {
        let whole = report.findings.iter().filter(|f| f.unminimized.is_some() && f.kind != Kind::Crash).count() as u64;
        let whole = if whole > 0 { format!(", {} written whole, not minimized", count(whole, "finding", "findings")) } else { String::new() };
        say!("interrupted: {reason}; {} in flight cut short (undecided){whole}", count(stats.abandoned, "sequence", "sequences"));
    }
    if let Some(file) = &report.file {
        say!("Findings: {} (wsspec server {url} --catalog {})", file.display(), config.out_dir.display());
    }
}

/// A finding in a line: its kind, case ids, sequence, frames and how it was written.
fn describe(finding: &Finding) -> String {
    let kind = match finding.kind {
        Kind::Divergence => "divergence",
        Kind::Hang => "hang",
        Kind::Crash => "crash",
    };
    let how = match (&finding.unminimized, finding.kind) {
        (_, Kind::Crash) => String::new(),
        (Some(why), _) => format!(" (not minimized: {why}; written whole)"),
        (None, _) if !finding.reproduced => " (its minimized form did not fail again: written whole)".into(),
        (None, _) => String::new(),
    };
    let after = match finding.after.as_slice() {
        [] => String::new(),
        [one] => format!(" after sequence {one} on its connection"),
        many => format!(" after {} sequences on its connection", many.len()),
    };
    format!(
        "{kind} {} (sequence {}{after}, {} → {} frames){how}: {}",
        finding.ids.join(", "),
        finding.index,
        finding.frames.0,
        finding.frames.1,
        finding.reason
    )
}

/// `n` and the noun, singular for one.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Sequences in flight by default: 16 per core, from 16 to 64. A sequence spends most of its time
/// waiting for the target's answer (a round trip or two on loopback), so a few per core leave the
/// cores idle; since each divergence is run again before it counts and timeouts grow with what a
/// sequence writes, a loaded machine does not turn this concurrency into false findings.
fn default_fuzz_jobs() -> usize {
    std::thread::available_parallelism().map_or(16, |n| n.get() * 16).clamp(16, 64)
}

/// `wsspec fuzz-seeds DIR`: writes the seed corpora of the libFuzzer targets in `fuzz/`.
pub fn write_seeds(dir: PathBuf, catalog: Option<PathBuf>) -> Result<Outcome, String> {
    let (catalog, sources) = match catalog {
        Some(folder) => {
            let catalog = Catalog::from_dir(&folder).map_err(|e| format!("invalid case file: {e}"))?;
            let mut sources = Vec::new();
            let entries = std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "toml")) {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                sources.push((path.display().to_string(), text));
            }
            (catalog, sources)
        }
        None => (Catalog::embedded().map_err(|e| format!("invalid case file: {e}"))?, Catalog::embedded_sources()),
    };
    let counts = seeds::write(&catalog, &sources, &dir).map_err(|e| format!("cannot write seeds to {}: {e}", dir.display()))?;
    for (target, count) in counts {
        say!("{target:<18} {count} seeds");
    }
    say!("Seeds: {}", dir.display());
    Ok(Outcome::Passed)
}

/// A status line: rewritten in place on a terminal, one line every ten seconds elsewhere (CI logs).
struct Status {
    terminal: bool,
    last: Instant,
}

impl Status {
    fn new() -> Self {
        Self { terminal: std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(), last: Instant::now() }
    }

    fn show(&mut self, stats: &Stats) {
        let line = format!(
            "{:>5.0} s  {} sequences ({:.0}/s)  {} divergent  {} findings",
            stats.elapsed.as_secs_f64(),
            stats.sequences,
            stats.per_second(),
            stats.divergent,
            stats.findings
        );
        if self.terminal {
            eprint!("\r{line}");
            let _ = std::io::stderr().flush();
        } else if self.last.elapsed() >= Duration::from_secs(10) {
            say!("{line}");
            self.last = Instant::now();
        }
    }

    fn finish(&self) {
        if self.terminal {
            say!();
        }
    }
}
