//! `wsspec server`: select cases, run them against each server, summarize, pick the exit code.

use std::{path::PathBuf, time::Instant};

use wsspec::{
    catalog::{case_matches, full_match, Case, Role},
    engine::{default_jobs, run_cases, RunConfig, RunOptions, Target},
    peers::reference_server::ReferenceServer,
    tls::{certs, Acceptor, Connector},
};

use super::{outputs, progress::Progress, selection, spec, Outcome, ServerArgs};

/// The agent name of the embedded reference server.
const EMBEDDED_AGENT: &str = "tungstenite-embedded";

/// One server to test, with its own case selection.
struct Run {
    agent: String,
    url: Option<String>,
    /// The TLS server name, when it is not the URL's host (Autobahn's `hostname`).
    hostname: Option<String>,
    exclude: Vec<String>,
}

pub async fn run(args: ServerArgs) -> Result<Outcome, String> {
    let catalog = selection::load_catalog(args.selection.catalog.as_deref())?;
    selection::check_timeout_scale(args.selection.timeout_scale)?;
    if args.jobs == Some(0) {
        return Err("--jobs must be at least 1".into());
    }

    let (mut patterns, mut exclude, mut out, runs) = match &args.spec {
        Some(path) => {
            if args.url.is_some() {
                return Err("give either a URL or --spec, not both".into());
            }
            let spec = spec::load(path)?;
            if spec.selection.options.is_some() || spec.servers.iter().any(|s| s.options.is_some()) {
                eprintln!("wsspec: note: Autobahn protocol `options` in {} are ignored; wsspec uses its own timeouts", path.display());
            }
            let runs = spec
                .servers
                .iter()
                .map(|s| {
                    let agent = s.agent.clone().unwrap_or_else(|| "UnknownServer".into());
                    let exclude = spec
                        .selection
                        .exclude_agent_cases
                        .iter()
                        .filter(|(pattern, _)| full_match(pattern, &agent))
                        .flat_map(|(_, cases)| cases.clone())
                        .collect();
                    Run { agent, url: Some(s.url.clone()), hostname: s.hostname.clone(), exclude }
                })
                .collect();
            let selection = spec.selection;
            (selection.cases, selection.exclude_cases, selection.outdir.map(PathBuf::from), runs)
        }
        None => {
            let agent = args.agent.clone().unwrap_or_else(|| if args.url.is_some() { "UnknownServer" } else { EMBEDDED_AGENT }.into());
            (Vec::new(), Vec::new(), None, vec![Run { agent, url: args.url.clone(), hostname: None, exclude: Vec::new() }])
        }
    };
    patterns.extend(args.selection.cases.iter().cloned());
    exclude.extend(args.selection.exclude.iter().cloned());
    if args.agent.is_some() && args.spec.is_some() {
        return Err("--agent names the server given as URL; a spec file names its servers itself".into());
    }
    let out = out.take().unwrap_or(args.out.clone());
    let selected = selection::select(&catalog, Role::Server, &patterns, &exclude)?;
    outputs::check(&args.outputs, &catalog)?;

    if args.selection.list {
        return selection::list(&selected).or_else(|e| if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(Outcome::Passed) } else { Err(e.to_string()) });
    }

    let any_wss = runs.iter().any(|r| r.url.as_deref().is_some_and(|u| u.starts_with("wss:")));
    let tls = args.tls.connector(any_wss)?;
    let options = RunOptions { timeout_scale: args.selection.timeout_scale, jobs: args.jobs.unwrap_or_else(default_jobs), tls, ..RunOptions::default() };
    let mut failed = false;
    let agents: Vec<String> = runs.iter().map(|r| r.agent.clone()).collect();
    for run in runs {
        let cases: Vec<Case> = selected.iter().filter(|c| !run.exclude.iter().any(|p| case_matches(p, c.id.as_str()))).cloned().collect();
        // The embedded server lives exactly as long as its run.
        let mut options = options.clone();
        let (url, _server) = match run.url {
            Some(url) => (url, None),
            None if args.embedded_tls => {
                let acceptor = Acceptor::in_memory(&certs::names_for("127.0.0.1"))?;
                options.tls = acceptor.ca().map(|ca| Connector::trusting(std::slice::from_ref(ca)));
                let server = ReferenceServer::start_tls(acceptor).await.map_err(|e| format!("cannot start the embedded server: {e}"))?;
                (server.url(), Some(server))
            }
            None => {
                let server = ReferenceServer::start().await.map_err(|e| format!("cannot start the embedded server: {e}"))?;
                (server.url(), Some(server))
            }
        };
        let mut target = Target::parse(&url)?;
        if let Some(name) = run.hostname {
            target.server_name = name;
        }
        let tls_line = options.tls.as_ref().filter(|_| target.secure).map(|c| c.describe());
        let config = RunConfig { agent: run.agent.clone(), target, out_dir: out.clone(), options: options.clone() };
        eprintln!("wsspec: {} cases against {} ({url}), {} at a time", cases.len(), run.agent, options.jobs);
        if let Some(line) = &tls_line {
            eprintln!("wsspec: {line}");
        }
        let started = Instant::now();
        let mut progress = Progress::new(cases.len());
        let records = run_cases(&cases, &config, |r| progress.case_done(r)).await.map_err(|e| e.to_string())?;
        progress.finish();
        failed |= outputs::finish_agent(&run.agent, &records, started.elapsed().as_secs_f64(), &out, &args.outputs)?;
        if let Some(line) = tls_line {
            eprintln!("  {line}");
        }
    }
    eprintln!("Reports: {}", out.join("index.json").display());
    outputs::finish_run(&out, &agents, failed, &args.outputs)
}


