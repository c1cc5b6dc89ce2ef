//! `wsspec client`: test WebSocket clients. wsspec listens and speaks Autobahn's fuzzingserver URL
//! protocol; it can spawn the client itself (`--exec`), wait for drivers (`--serve`), or, given
//! neither, run its embedded tungstenite client against itself (the demo).

mod console;
mod exec;
mod finished;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use wsspec::{
    catalog::{AgentExclusions, Patterns, Role},
    client_testing::{ClientTestConfig, ClientTestServer, ServerEvent},
    engine::{default_jobs, RunOptions, Stop, GRACE},
    peers::reference_client,
};

use super::{outputs, progress::terminal_safe, selection, spec, tls, Outcome};
use console::{progress_lines, refusal_lines};
use exec::{exec, quote};
use finished::{CutShort, Finished};

/// The agent name of the embedded reference client.
const EMBEDDED_AGENT: &str = "tungstenite-embedded";

#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Address to listen on (default 127.0.0.1:9001 with --serve, any free port otherwise).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Report folder (default: reports/clients, or the spec file's `outdir`; --out wins over it).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    selection: selection::SelectionArgs,
    /// Spawn the client under test (run by `sh -c`, in its own process group, which a timeout or a
    /// signal kills whole): `{url}` is wsspec's base URL, `{agent}` the agent name, `{ca}` the
    /// CA file the client must trust (--tls: wsspec's throw-away CA; with --cert/--key: --ca, else
    /// the certificate chain; refused without TLS), and with `{case}` the command is run once per
    /// case number instead of once for all. The values are shell-quoted, so each is one word.
    #[arg(long, value_name = "COMMAND")]
    exec: Option<String>,
    /// The agent name the client's results are expected under, for --exec (default: `client`) and
    /// the demo (default: `tungstenite-embedded`). A driver that files its results under its own
    /// name needs --agent with that name.
    #[arg(long)]
    agent: Option<String>,
    /// Seconds the --exec command may run in all (default: the sum of the case timeouts plus a minute).
    #[arg(long, value_name = "SECONDS")]
    exec_timeout: Option<f64>,
    /// Wait for client drivers to connect, until /updateReports (or --until agents, /stopServer). A
    /// run in which no client ran a case exits 2.
    #[arg(long)]
    serve: bool,
    /// Wait for drivers until this many agents have asked for their reports (default with --serve: 1;
    /// with --spec: until /stopServer, shutdownOnComplete=true or a signal; a signal then ends the run
    /// normally, exit 0 or 1 by the verdicts, once every client that began ran all its cases, and
    /// exits 3 when one did not).
    #[arg(long, value_name = "N")]
    until: Option<usize>,
    /// Autobahn's fuzzingserver.json: url, outdir, cases, exclude-cases, exclude-agent-cases. Serves any
    /// number of agents, as Autobahn's fuzzingserver; with --exec, runs that client instead.
    /// --cases/--exclude narrow its selection.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    #[command(flatten)]
    tls: tls::ListenArgs,
    #[command(flatten)]
    outputs: outputs::OutputArgs,
}

pub async fn run(args: ClientArgs) -> Result<Outcome, String> {
    // First, so an interrupt while the catalog loads ends the run as one (exit 3), not the process.
    let stop = Stop::on_signals().map_err(|e| format!("cannot install the signal handlers: {e}"))?;
    let catalog = selection::load_catalog(args.selection.catalog.as_deref())?;
    selection::check_timeout_scale(args.selection.timeout_scale)?;
    let (mut spec_patterns, mut exclusions, mut outdir, mut listen) = (None, AgentExclusions::default(), None, args.listen.clone());
    let (mut use_tls, mut cert_key) = (args.tls.tls || args.tls.cert.is_some(), args.tls.cert.clone().zip(args.tls.key.clone()));
    if let Some(path) = &args.spec {
        let spec = spec::load_server_spec(path)?;
        spec.selection.check_patterns(path, &catalog, Role::Client)?;
        if spec.selection.options.is_some() {
            say!("wsspec: note: Autobahn protocol `options` in {} are ignored", path.display());
        }
        if let (Some(url), None) = (&spec.url, &listen) {
            let target = wsspec::engine::Target::parse(url).map_err(|e| format!("{}: url: {e}", path.display()))?;
            listen = Some(format!("{}:{}", target.host, target.port));
        }
        use_tls |= spec.url.as_deref().is_some_and(|u| u.starts_with("wss:")) || spec.cert.is_some();
        if cert_key.is_none() {
            // Paths as given, like `outdir` (Autobahn reads them from the working folder).
            match (spec.cert, spec.key) {
                (Some(cert), Some(key)) => cert_key = Some((cert, key)),
                (None, None) => {}
                _ => return Err(format!("{}: `cert` and `key` go together", path.display())),
            }
        }
        spec_patterns = Some(Patterns { cases: spec.selection.cases, exclude: spec.selection.exclude_cases });
        exclusions = AgentExclusions(spec.selection.exclude_agent_cases);
        outdir = spec.selection.outdir;
    }
    let out = outputs::report_folder(args.out.as_deref(), outdir.as_deref(), "reports/clients");
    let mut selected = selection::select(&catalog, Role::Client, spec_patterns, &args.selection, |_| true)?;
    outputs::check(&args.outputs, &catalog)?;
    if args.selection.list {
        return selection::list(&selected).or_else(|e| if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(Outcome::Passed) } else { Err(e.to_string()) });
    }
    if args.exec.is_some() && (args.serve || args.until.is_some()) {
        return Err("--exec spawns the client itself; --serve and --until wait for drivers instead (--spec combines with either)".into());
    }
    if args.until == Some(0) {
        return Err("--until must be at least 1".into());
    }
    // Without --exec: --spec serves until a client or a signal stops it, as Autobahn does;
    // --serve until --until agents (default 1) asked for their reports.
    let serve = args.exec.is_none() && (args.serve || args.spec.is_some() || args.until.is_some());
    let until = args.until.or(if args.spec.is_some() { None } else { Some(1) });
    let listen = listen.unwrap_or_else(|| if serve || args.spec.is_some() { "127.0.0.1:9001" } else { "127.0.0.1:0" }.to_string());
    let host = listen.rsplit_once(':').map_or(listen.as_str(), |(host, _)| host);
    // Bad input before the report folder is touched: the operator's certificate and key are read,
    // and `{ca}` in --exec must stand for a file (the throw-away CA is written into the folder).
    let throw_away = use_tls && cert_key.is_none();
    let cert = cert_key.as_ref().map(|(cert, _)| cert.as_path());
    let ca = tls::exec_ca(args.exec.as_deref(), throw_away.then(|| out.join(wsspec::tls::THROW_AWAY_CA)).as_deref(), args.tls.ca.as_deref(), cert)?;
    // The operator's --ca is the client's to trust: read now, so a file that holds no certificate
    // is bad input, not a failure of the client (or of the embedded one) during the run.
    if let Some(path) = &args.tls.ca {
        if wsspec::tls::certs::read_certificates(path)?.is_empty() {
            return Err(format!("{}: no certificate in the file (--ca names the CA that signed --cert)", path.display()));
        }
    }
    let operators = match &cert_key {
        Some((cert, key)) if use_tls => Some(tls::acceptor(host, Some((cert, key)), &out)?),
        _ => None,
    };
    let sink = Arc::new(outputs::open_sink(&out, &catalog)?);
    outputs::mark_unfinished(&out, &args.outputs)?;
    let acceptor = if throw_away { Some(tls::acceptor(host, None, &out)?) } else { operators };
    let (runnable, skipped) = wsspec::tls::cases::runnable(selected, acceptor.as_ref());
    selected = runnable;
    // Said now, and kept with each agent's run: the reports do not list the cases left out.
    let mut left_out = Vec::new();
    for why in [wsspec::tls::cases::NEEDS_TLS, wsspec::tls::cases::NEEDS_OWN_CA] {
        let ids: Vec<String> = skipped.iter().filter(|(_, w)| *w == why).map(|(id, _)| id.clone()).collect();
        if !ids.is_empty() {
            left_out.push(format!("{} selected cases are left out ({why}): {}", ids.len(), outputs::abbreviate(&ids)));
            say!("wsspec: note: {}", left_out.last().expect("just pushed"));
        }
    }
    if selected.is_empty() && !skipped.is_empty() {
        return Err("none of the selected cases can run here (see the note above)".into());
    }
    outputs::warn_unmatched(&args.outputs, &selected.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())?;

    let exec_bound = Duration::from_secs_f64(
        args.exec_timeout.unwrap_or_else(|| selected.iter().map(|c| c.timeout * args.selection.timeout_scale + 5.0).sum::<f64>() + 60.0),
    );
    let config = ClientTestConfig {
        cases: selected.clone(),
        exclude_agent_cases: exclusions.clone(),
        sink: sink.clone(),
        options: RunOptions { timeout_scale: args.selection.timeout_scale, jobs: default_jobs(), ..RunOptions::default() },
        on_result: Some(progress_lines(selected.len())),
        tls: acceptor.clone(),
        on_refusal: Some(refusal_lines()),
    };
    let server = ClientTestServer::start(&listen, config).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    server.halt_on(&stop);
    let url = server.url();

    let mut finished =
        Finished { outcome: Outcome::Passed, agents: Vec::new(), selected: &selected, exclusions: &exclusions, expected: None, stopped_lines: 0, left_out };
    // How the --exec command ended (`exited with 1`), once it has.
    let mut exec_ended = None;
    let interrupted = if serve {
        say!(
            "wsspec: testing clients at {url} with {}. Drivers: {url}/getCaseCount, \
             {url}/runCase?case=N&agent=NAME, {url}/updateReports?agent=NAME",
            selection::plural(server.case_count(), "case")
        );
        let mut reported = BTreeSet::new();
        loop {
            let event = tokio::select! {
                event = server.next_event() => event,
                _ = stop.raised() => break true,
            };
            match event {
                ServerEvent::Reported(agent) => {
                    finished.agent(&server, &agent, None, &args.outputs)?;
                    reported.insert(agent);
                    if until.is_some_and(|n| reported.len() >= n) {
                        break false;
                    }
                }
                ServerEvent::Stop => break false,
            }
        }
    } else {
        let agent = args.agent.clone().unwrap_or_else(|| if args.exec.is_some() { "client" } else { EMBEDDED_AGENT }.into());
        server.expect_agent(&agent).map_err(|e| e.to_string())?;
        finished.expected = Some(agent.clone());
        let driver = async {
            match &args.exec {
                Some(command) => {
                    say!("wsspec: {} against the client `{}` at {url}", selection::plural(selected.len(), "case"), terminal_safe(command));
                    let ca = ca.as_ref().map(|p| quote(&p.display().to_string())).unwrap_or_default();
                    let ended = exec(&command.replace("{ca}", &ca), &url, &agent, &selected, &out, exec_bound, args.selection.timeout_scale).await?;
                    exec_ended = Some(ended);
                    Ok(())
                }
                None => {
                    say!("wsspec: {} against the embedded tungstenite client at {url}", selection::plural(selected.len(), "case"));
                    let connector = embedded_connector(acceptor.as_ref(), ca.as_deref())?;
                    reference_client::run_driver_with(&url, &agent, connector.as_ref()).await.map_err(|e| format!("the embedded client failed: {e}"))
                }
            }
        };
        tokio::select! {
            result = driver => { result?; false }
            _ = stop.raised() => true,
        }
    };

    server.close();
    server.settle(if interrupted { GRACE } else { Duration::from_secs(30) }).await;
    let reason = stop.reason();
    // A driver that never starts, or whose every TLS handshake failed, is a broken setup, not a
    // client failing its cases: they are not run, and the run ends with exit 2.
    let broken = match (&args.exec, &exec_ended, server.requests()) {
        (Some(command), Some(ended), 0) if !interrupted => Some(match (server.connections(), server.tls_failure()) {
            (0, _) => format!("the client under test never connected: `{command}` {ended}"),
            (_, Some(failure)) => format!(
                "the client under test never completed a TLS handshake with wsspec ({failure}): `{command}` {ended}; {}",
                trust_hint(command, ca.as_deref(), cert)
            ),
            (n, None) => format!("the client under test connected {} but sent no request: `{command}` {ended}", selection::plural(n, "time")),
        }),
        _ => None,
    };
    let cut_short = match (&reason, &broken) {
        (Some(why), _) if interrupted => Some(CutShort::Interrupted(why)),
        (_, Some(why)) => Some(CutShort::SetupBroken(why)),
        _ => None,
    };
    for agent in server.agents() {
        if !finished.agents.contains(&agent) {
            finished.agent(&server, &agent, cut_short, &args.outputs)?;
        }
    }
    let mut outcome = finished.outcome;
    let (ran, total) = finished.counts(&server);
    // Serving until stopped (--spec), a signal after every client that began ran all its cases is
    // how the run ends, as Ctrl-C ends Autobahn's fuzzingserver.
    let complete = serve && until.is_none() && ran > 0 && ran == total;
    if interrupted && complete {
        say!("wsspec: stopped ({}); every client that began ran all its cases", reason.unwrap_or_default());
    } else if interrupted && (ran > 0 || !serve) {
        // One agent's summary already ended with this line; several (or none) get the totals.
        if server.agents().len() != 1 || finished.stopped_lines != 1 {
            say!("interrupted: {ran} of {} ran ({})", selection::plural(total, "case"), reason.unwrap_or_default());
        }
        outcome = outcome.max(Outcome::Interrupted);
    }
    if std::fs::symlink_metadata(out.join("index.json")).is_ok() {
        say!("Reports: {}", out.join("index.json").display());
    }
    // Serving until stopped (--spec), a signal is how the run ends and was answered above; any
    // other is told before the reports' end, so a run asked to stop leaves the expectations file unchanged.
    let until_stopped = serve && until.is_none();
    if !interrupted && !until_stopped {
        outcome = super::signal_received(&stop, outcome, "after the client had run its cases");
    }
    let outcome = outputs::finish_run(&out, &finished.agents, outcome, &args.outputs, Some(&stop))?;
    if serve && ran == 0 {
        // Nothing was tested: stopping an idle server must not pass a CI gate.
        return Err(format!("no client ran a case (no report in {})", out.display()));
    }
    if let Some(broken) = broken {
        return Err(broken);
    }
    // A signal while the reports were written.
    if interrupted || until_stopped {
        return Ok(outcome);
    }
    Ok(super::signal_received(&stop, outcome, "while the reports were written"))
}

/// What the client under test must trust, said when it refused every TLS handshake: `ca` is the
/// file `{ca}` stands for in `command`; `cert` the operator's certificate chain, if any.
fn trust_hint(command: &str, ca: Option<&Path>, cert: Option<&Path>) -> String {
    let Some(ca) = ca else { return "it must trust the CA that signed wsspec's certificate".into() };
    if !command.contains("{ca}") {
        return format!("it must trust the CA in {}: give it to the client with {{ca}} in --exec, which stands for that file", ca.display());
    }
    if cert == Some(ca) {
        return format!(
            "without --ca, {{ca}} stands for the certificate {} itself, right only for a self-signed one: give the CA that signed it with --ca FILE (wsspec tls-cert writes it as ca.pem)",
            ca.display()
        );
    }
    format!("{{ca}} stood for {}: does the client trust the CA given to it?", ca.display())
}

/// How the embedded client trusts the server's certificate: wsspec's throw-away CA, or the
/// operator's `--ca` or certificate (`--cert`) as given (self-signed), else the system's roots.
fn embedded_connector(acceptor: Option<&wsspec::tls::Acceptor>, ca: Option<&Path>) -> Result<Option<wsspec::tls::Connector>, String> {
    use wsspec::tls::{Connector, Trust};
    Ok(match acceptor.map(|a| a.ca()) {
        None => None,
        Some(Some(ca)) => Some(Connector::trusting(std::slice::from_ref(ca))),
        Some(None) => Some(Connector::new(ca.map_or(Trust::SystemRoots, |c| Trust::CaFile(c.to_path_buf())))?),
    })
}

