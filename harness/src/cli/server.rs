//! `wsspec server`: select cases, run them against each server, summarize, pick the exit code.

use std::borrow::Cow;

use wsspec::{
    catalog::{AgentExclusions, Case, Patterns, Role},
    engine::{default_jobs, run_cases, RunConfig, RunEnd, RunError, RunOptions, RunReport, Stop, Target, ALONE_ATTEMPTS},
    peers::{h2_server::H2ReferenceServer, reference_server::ReferenceServer},
    tls::{certs, Acceptor, Connector},
};

use wsspec_reports::{
    sink::{RunState, RunTls, Sink},
    transport::{self, Transport},
};

use super::{
    outputs::{self, AgentResults},
    progress::{agent_name, Progress},
    selection, spec, Outcome, ServerArgs,
};

/// The agent name of the embedded reference server (over HTTP/2, `tungstenite-embedded@h2c`).
const EMBEDDED_AGENT: &str = "tungstenite-embedded";
/// The agent name of the embedded server over TLS (`--embedded-tls`): its own, with the `-tls`
/// suffix interop gives TLS agents, so a plain and a TLS demo into one `--out` sit side by side
/// (over HTTP/2 the `@h2` suffix already says TLS).
const EMBEDDED_TLS_AGENT: &str = "tungstenite-embedded-tls";

/// The report folder without --out or a spec file's `outdir`.
const DEFAULT_OUT: &str = "reports/servers";

/// One server to test.
struct Run {
    agent: String,
    url: Option<String>,
    /// The TLS server name, when it is not the URL's host (Autobahn's `hostname`).
    hostname: Option<String>,
}

pub async fn run(args: ServerArgs) -> Result<Outcome, String> {
    // First, so an interrupt while the catalog loads ends the run as one (exit 3), not the process.
    let stop = Stop::on_signals().map_err(|e| format!("cannot install the signal handlers: {e}"))?;
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
                say!("wsspec: note: Autobahn protocol `options` in {} are ignored; wsspec uses its own timeouts", path.display());
            }
            let runs = spec.servers.iter().map(|s| Run { agent: s.agent().to_string(), url: Some(s.url.clone()), hostname: s.hostname.clone() }).collect();
            let selection = spec.selection;
            let patterns = Patterns { cases: selection.cases, exclude: selection.exclude_cases };
            let out = outputs::report_folder(args.out.as_deref(), selection.outdir.as_deref(), DEFAULT_OUT);
            (Some(patterns), AgentExclusions(selection.exclude_agent_cases), out, runs)
        }
        None => {
            let embedded = if args.embedded_tls && !args.http2 { EMBEDDED_TLS_AGENT } else { EMBEDDED_AGENT };
            let agent = args.agent.clone().unwrap_or_else(|| if args.url.is_some() { "UnknownServer" } else { embedded }.into());
            let out = args.out.clone().unwrap_or_else(|| DEFAULT_OUT.into());
            (None, AgentExclusions::default(), out, vec![Run { agent, url: args.url.clone(), hostname: None }])
        }
    };
    // Bad input first, before any note and before the report folder is touched: it never costs a folder its earlier results.
    for url in runs.iter().filter_map(|r| r.url.as_deref()) {
        Target::parse(url)?;
    }
    // A TLS option that does not apply, or a --ca file that cannot be read, is bad input too.
    let any_wss = runs.iter().any(|r| r.url.as_deref().is_some_and(|u| u.starts_with("wss:")));
    // HTTP/2 over TLS offers ALPN h2 alone: a server that does not select it fails the probe before
    // the first case, with the reason (RFC 9113 §3.2).
    let tls = args.tls.connector(any_wss)?.map(|c| if args.http2 { c.for_http2() } else { c });
    let selected = selection::select(&catalog, Role::Server, spec_patterns, &args.selection, |c| c.runs_over_http2(args.http2))?;
    let (selected, left_out) = super::transport_cases(selected, args.http2)?;
    outputs::check(&args.outputs, &catalog)?;

    outputs::warn_unmatched(&args.outputs, &selected.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())?;
    if args.selection.list {
        return selection::list(&selected).or_else(|e| if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(Outcome::Passed) } else { Err(e.to_string()) });
    }
    let sink = outputs::open_sink(&out, &catalog)?;
    // The run needs only the selected cases: the whole catalog (675 cases, both roles) is not kept beside them.
    drop(catalog);

    let options = RunOptions {
        timeout_scale: args.selection.timeout_scale,
        jobs: args.jobs.unwrap_or_else(default_jobs),
        tls,
        http2: args.http2,
        ..RunOptions::default()
    };
    let several = runs.len() > 1;
    // Before the first case, every agent of the run is marked running (its earlier results go) and
    // the reports read at the end say the run did not finish until it writes them: a run killed at
    // any moment never leaves an earlier run's results that read as this one's.
    for run in &runs {
        let ids = exclusions.cases_for(&run.agent, &selected).iter().map(|c| c.id.to_string()).collect();
        sink.begin_agent(&filed_as(&run.agent, args.http2, is_secure(run, args.embedded_tls)), ids).map_err(|e| e.to_string())?;
    }
    outputs::mark_unfinished(&out, &args.outputs)?;
    let mut outcome = Outcome::Passed;
    let mut agents = Vec::new();
    let mut unreachable = Vec::new();
    for run in runs {
        // A copy only when the agent's exclusions leave cases out: a copy of every case is about 1 MB.
        let kept = exclusions.cases_for(&run.agent, &selected);
        let cases: Cow<[Case]> =
            if kept.len() == selected.len() { Cow::Borrowed(&selected) } else { Cow::Owned(kept.into_iter().cloned().collect()) };
        if let Some(reason) = stop.reason() {
            say!("wsspec: {}: not run ({reason})", agent_name(&run.agent));
            outcome = outcome.max(Outcome::Interrupted);
            // An agent the interrupt kept from running is in the report, its cases not run: the
            // report and its JUnit must not look complete without it.
            let agent = filed_as(&run.agent, args.http2, is_secure(&run, args.embedded_tls));
            file_not_run(&sink, &agent, &cases, RunState::Interrupted, reason)?;
            agents.push(agent);
            continue;
        }
        // The embedded server lives exactly as long as its run.
        let mut options = options.clone();
        let (url, _server, _h2_server) = match run.url {
            Some(url) => (url, None, None),
            None if args.http2 && args.embedded_tls => {
                let acceptor = Acceptor::in_memory(&certs::names_for("127.0.0.1"))?;
                options.tls = acceptor.ca().map(|ca| Connector::trusting(std::slice::from_ref(ca)).for_http2());
                let server = H2ReferenceServer::start_tls(&acceptor).await.map_err(|e| format!("cannot start the embedded HTTP/2 server: {e}"))?;
                (server.url(), None, Some(server))
            }
            None if args.http2 => {
                let server = H2ReferenceServer::start().await.map_err(|e| format!("cannot start the embedded HTTP/2 server: {e}"))?;
                (server.url(), None, Some(server))
            }
            None if args.embedded_tls => {
                let acceptor = Acceptor::in_memory(&certs::names_for("127.0.0.1"))?;
                options.tls = acceptor.ca().map(|ca| Connector::trusting(std::slice::from_ref(ca)));
                let server = ReferenceServer::start_tls(acceptor).await.map_err(|e| format!("cannot start the embedded server: {e}"))?;
                (server.url(), Some(server), None)
            }
            None => {
                let server = ReferenceServer::start().await.map_err(|e| format!("cannot start the embedded server: {e}"))?;
                (server.url(), Some(server), None)
            }
        };
        let mut target = Target::parse(&url)?;
        if let Some(name) = run.hostname {
            target.server_name = name;
        }
        let tls_line = options.tls.as_ref().filter(|_| target.secure).map(|c| c.describe());
        // Recorded with the first result, so a report made with certificate checks off says so.
        let run_tls = options.tls.as_ref().filter(|_| target.secure).map(|c| RunTls { certificate_verified: c.verifies(), trust: c.describe() });
        let mut tls_pending = run_tls.is_some();
        let agent = filed_as(&run.agent, args.http2, target.secure);
        let over = match (args.http2, target.secure) {
            (true, true) => ", over HTTP/2 over TLS (ALPN h2)",
            (true, false) => ", over HTTP/2 (h2c)",
            (false, _) => "",
        };
        let config = RunConfig { agent: agent.clone(), target, options: options.clone() };
        say!("wsspec: {} against {} ({url}{over}), {} at a time", selection::plural(cases.len(), "case"), agent_name(&agent), options.jobs);
        if let Some(line) = &tls_line {
            say!("wsspec: {line}");
        }
        let mut progress = Progress::new(cases.len());
        let result = run_cases(&cases, &config, &sink, &stop, |r| {
            if let (true, Some(tls)) = (tls_pending, &run_tls) {
                tls_pending = sink.set_tls(&agent, tls.clone()).is_err();
            }
            progress.case_done(r)
        })
        .await;
        progress.finish();
        if let (true, Ok(_), Some(tls)) = (tls_pending, &result, run_tls) {
            sink.set_tls(&agent, tls).map_err(|e| e.to_string())?;
        }
        let report = match result {
            Ok(report) => report,
            // One server down must not cost the others their run: its cases are recorded as not run.
            Err(RunError::Unreachable { url, reason }) if several => {
                let why = format!("cannot reach the target {url}: {reason}");
                say!("wsspec: {}: {why}; its {} were not run", agent_name(&agent), selection::plural(cases.len(), "case"));
                file_not_run(&sink, &agent, &cases, RunState::TargetFailed, why)?;
                unreachable.push(format!("{} ({url})", agent_name(&agent)));
                agents.push(agent);
                continue;
            }
            Err(e @ RunError::Unreachable { .. }) => {
                // Begun above: recorded as stopped, not as a run still going, and the reports
                // marked unfinished at the start say its cases were not run, and why.
                sink.end_agent(&agent, RunState::TargetFailed, Some(e.to_string())).map_err(|e| e.to_string())?;
                agents.push(agent);
                outputs::finish_run(&out, &agents, Outcome::Incomplete, &args.outputs, Some(&stop))?;
                return Err(e.to_string());
            }
            Err(e) => return Err(e.to_string()),
        };
        // One line says how the run stopped, at the end of the agent's summary.
        let ran = format!("{} of {} ran", report.results.len(), selection::plural(cases.len(), "case"));
        let not_run = report.not_run.len();
        let stopped = match &report.end {
            RunEnd::Complete => None,
            RunEnd::Interrupted(reason) => Some(format!("interrupted: {ran} ({reason}); {not_run} not run")),
            RunEnd::TargetFailed(answer) => {
                // Graded on what they saw: a crash on their stimulus is what a user needs to see.
                let went = match report.failed_as_it_went.as_slice() {
                    [] => String::new(),
                    ids => format!(" ({} failed as it went: a crash on {} stimulus, or stopped from outside)", outputs::abbreviate(ids), if ids.len() == 1 { "its" } else { "their" }),
                };
                Some(format!("stopped: {url} stopped opening WebSockets after {ran}{went}; {not_run} not run: {answer}"))
            }
            RunEnd::NeverOpened(answer) => {
                Some(format!("stopped: {url} never opened a WebSocket; {not_run} not run: {answer}. Is it a WebSocket endpoint?"))
            }
            RunEnd::RefusedIntermittently(reason) => Some(format!("incomplete: {ran}; {not_run} not run: {reason}")),
        };
        let notes = refusal_notes(&report, options.jobs);
        // Recorded, so the reports rendered from the folder say how the verdicts were obtained,
        // and which selected cases this transport left out (said at the start on the terminal).
        sink.set_notes(&agent, left_out.iter().chain(&notes).cloned().collect()).map_err(|e| e.to_string())?;
        let results = AgentResults {
            notes: &notes,
            agent: &agent,
            results: &report.results,
            errors: &report.errors,
            not_run: &report.not_run,
            missing: (&[], String::new()),
            selected: cases.len(),
            seconds: report.elapsed.as_secs_f64(),
            stopped: stopped.as_deref(),
        };
        outcome = outcome.max(outputs::finish_agent(&results, &args.outputs)?);
        agents.push(agent.clone());
        if let Some(line) = tls_line {
            say!("  {line}");
        }
        // An interrupted or stopped run never passes, whatever its verdicts and expectations.
        outcome = outcome.max(match &report.end {
            RunEnd::Complete => Outcome::Passed,
            RunEnd::Interrupted(_) => Outcome::Interrupted,
            RunEnd::TargetFailed(_) | RunEnd::NeverOpened(_) | RunEnd::RefusedIntermittently(_) => Outcome::Incomplete,
        });
    }
    say!("Reports: {}", out.join("index.json").display());
    // Before the reports' end, so a run asked to stop leaves the expectations file unchanged.
    let outcome = super::signal_received(&stop, outcome, "after every case had started, and they all ended within the grace period");
    let mut outcome = outputs::finish_run(&out, &agents, outcome, &args.outputs, Some(&stop))?;
    if !unreachable.is_empty() {
        say!("wsspec: could not reach {}: their cases were not run", unreachable.join(", "));
        outcome = outcome.max(Outcome::Incomplete);
    }
    Ok(super::signal_received(&stop, outcome, "while the reports were written"))
}

/// What the summary says of the cases the target refused: those refused under load ran again alone
/// (the target serves fewer connections at once than `jobs`: what --jobs suits it); unless the
/// target refused cases even alone and opened them on a later attempt: then it refuses
/// intermittently, whatever the load, and no --jobs suits it.
fn refusal_notes(report: &RunReport, jobs: usize) -> Vec<String> {
    let reran = report.deferred.iter().filter(|id| !report.not_run.contains(id)).count();
    let intermittent = report.alone.recovered > 0;
    let mut notes = Vec::new();
    if reran > 0 {
        let limit = match (intermittent, report.at_once < jobs) {
            (false, true) => format!(
                ": the target serves fewer connections at once than {jobs}; the run went on with at most {} (--jobs {} suits it)",
                report.at_once, report.at_once
            ),
            _ => String::new(),
        };
        notes.push(format!("{} refused while other cases were in flight ran again alone at the end{limit}", selection::plural(reran, "case")));
    }
    if intermittent {
        notes.push(format!(
            "the target refused connections intermittently, whatever the load ({}): {} refused alone opened on a later attempt (at most {ALONE_ATTEMPTS} each)",
            report.alone.refused_phrase(),
            selection::plural(report.alone.recovered, "case")
        ));
    }
    notes
}

/// Whether `run` is over TLS: a `wss://` URL, or the embedded server with `--embedded-tls`.
fn is_secure(run: &Run, embedded_tls: bool) -> bool {
    run.url.as_deref().map_or(embedded_tls, |u| u.starts_with("wss:"))
}

/// The name `agent`'s results are filed under: over HTTP/2 `AGENT@h2c`, or `AGENT@h2` over TLS,
/// beside HTTP/1.1's.
fn filed_as(agent: &str, http2: bool, secure: bool) -> String {
    transport::agent_over(agent, http2.then_some(if secure { Transport::H2 } else { Transport::H2c }))
}

/// Files `agent` with every one of `cases` not run, and why (a server down, an interrupt before
/// its turn): the report keeps its place rather than looking complete without it.
fn file_not_run(sink: &Sink, agent: &str, cases: &[Case], state: RunState, why: String) -> Result<(), String> {
    let ids = cases.iter().map(|c| c.id.to_string()).collect();
    sink.begin_agent(agent, ids).and_then(|()| sink.end_agent(agent, state, Some(why))).map_err(|e| e.to_string())
}
