//! `wsspec server`: select cases, run them against each server, summarize, pick the exit code.

use std::path::PathBuf;

use wsspec::{
    catalog::{AgentExclusions, Patterns, Role},
    engine::{default_jobs, run_cases, RunConfig, RunEnd, RunOptions, Stop, Target},
    peers::{h2_server::H2ReferenceServer, reference_server::ReferenceServer},
};

use super::{
    outputs::{self, AgentResults},
    progress::{terminal_safe, Progress},
    selection, spec, Outcome, ServerArgs,
};

/// The agent name of the embedded reference server.
const EMBEDDED_AGENT: &str = "tungstenite-embedded";
/// The agent name of the embedded RFC 8441 server (`--http2`).
const EMBEDDED_H2_AGENT: &str = "tungstenite-h2";

/// One server to test.
struct Run {
    agent: String,
    url: Option<String>,
}

pub async fn run(args: ServerArgs) -> Result<Outcome, String> {
    let catalog = selection::load_catalog(args.selection.catalog.as_deref())?;
    selection::check_timeout_scale(args.selection.timeout_scale)?;
    if args.jobs == Some(0) {
        return Err("--jobs must be at least 1".into());
    }
    if args.agent.is_some() && args.spec.is_some() {
        return Err("--agent names the server given as URL; a spec file names its servers itself".into());
    }

    let (spec_patterns, exclusions, out, runs) = match &args.spec {
        Some(path) => {
            if args.url.is_some() {
                return Err("give either a URL or --spec, not both".into());
            }
            let spec = spec::load(path)?;
            spec.selection.check_patterns(path, &catalog, Role::Server)?;
            if spec.selection.options.is_some() || spec.servers.iter().any(|s| s.options.is_some()) {
                eprintln!("wsspec: note: Autobahn protocol `options` in {} are ignored; wsspec uses its own timeouts", path.display());
            }
            let runs = spec
                .servers
                .iter()
                .map(|s| Run { agent: s.agent.clone().unwrap_or_else(|| "UnknownServer".into()), url: Some(s.url.clone()) })
                .collect();
            let selection = spec.selection;
            let patterns = Patterns { cases: selection.cases, exclude: selection.exclude_cases };
            let out = selection.outdir.map(PathBuf::from).unwrap_or(args.out.clone());
            (Some(patterns), AgentExclusions(selection.exclude_agent_cases), out, runs)
        }
        None => {
            let embedded = if args.http2 { EMBEDDED_H2_AGENT } else { EMBEDDED_AGENT };
            let agent = args.agent.clone().unwrap_or_else(|| if args.url.is_some() { "UnknownServer" } else { embedded }.into());
            (None, AgentExclusions::default(), args.out.clone(), vec![Run { agent, url: args.url.clone() }])
        }
    };
    let selected = selection::select(&catalog, Role::Server, spec_patterns, &args.selection)?;
    let selected = super::transport_cases(selected, args.http2)?;
    outputs::check(&args.outputs, &catalog)?;

    if args.selection.list {
        return selection::list(&selected).or_else(|e| if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(Outcome::Passed) } else { Err(e.to_string()) });
    }
    let sink = outputs::open_sink(&out, &catalog)?;
    let stop = Stop::on_signals().map_err(|e| format!("cannot install the signal handlers: {e}"))?;

    let options = RunOptions {
        timeout_scale: args.selection.timeout_scale,
        jobs: args.jobs.unwrap_or_else(default_jobs),
        http2: args.http2,
        ..RunOptions::default()
    };
    let mut outcome = Outcome::Passed;
    let mut agents = Vec::new();
    for run in runs {
        if let Some(reason) = stop.reason() {
            eprintln!("wsspec: {}: not run ({reason})", run.agent);
            continue;
        }
        let cases: Vec<_> = exclusions.cases_for(&run.agent, &selected).into_iter().cloned().collect();
        // The embedded server lives exactly as long as its run.
        let (url, _server, _h2_server) = match run.url {
            Some(url) => (url, None, None),
            None if args.http2 => {
                let server = H2ReferenceServer::start().await.map_err(|e| format!("cannot start the embedded HTTP/2 server: {e}"))?;
                (server.url(), None, Some(server))
            }
            None => {
                let server = ReferenceServer::start().await.map_err(|e| format!("cannot start the embedded server: {e}"))?;
                (server.url(), Some(server), None)
            }
        };
        let config = RunConfig { agent: run.agent.clone(), target: Target::parse(&url)?, options: options.clone() };
        let over = if args.http2 { ", over HTTP/2 (h2c)" } else { "" };
        eprintln!("wsspec: {} cases against {} ({url}{over}), {} at a time", cases.len(), terminal_safe(&run.agent), options.jobs);
        let mut progress = Progress::new(cases.len());
        let report = run_cases(&cases, &config, &sink, &stop, |r| progress.case_done(r)).await.map_err(|e| e.to_string())?;
        progress.finish();
        let stopped = match &report.end {
            RunEnd::Complete => None,
            RunEnd::Interrupted(reason) => Some(format!("interrupted: {reason}")),
            RunEnd::TargetFailed(answer) => Some(format!("the target stopped opening WebSockets: {answer}")),
        };
        let results = AgentResults {
            agent: &run.agent,
            records: &report.records,
            errors: &report.errors,
            not_run: &report.not_run,
            selected: cases.len(),
            seconds: report.elapsed.as_secs_f64(),
            stopped: stopped.as_deref(),
        };
        outcome = outcome.max(outputs::finish_agent(&results, &args.outputs)?);
        agents.push(run.agent.clone());
        match &report.end {
            RunEnd::Complete => {}
            RunEnd::Interrupted(reason) => {
                eprintln!("interrupted: {} of {} cases ran ({reason})", report.records.len(), cases.len());
                outcome = outcome.max(Outcome::Interrupted);
            }
            RunEnd::TargetFailed(answer) => {
                eprintln!(
                    "wsspec: {url} stopped opening WebSockets after {} of {} cases, the rest were not run: {answer}",
                    report.records.len(),
                    cases.len()
                );
                outcome = outcome.max(Outcome::Incomplete);
            }
        }
    }
    eprintln!("Reports: {}", out.join("index.json").display());
    outputs::finish_run(&out, &agents, outcome, &args.outputs)
}
