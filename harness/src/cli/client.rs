//! `wsspec client`: test WebSocket clients. wsspec listens and speaks Autobahn's fuzzingserver URL
//! protocol; it can spawn the client itself (`--exec`), wait for drivers (`--serve`), or, given
//! neither, run its embedded tungstenite client against itself (the demo).

use std::{
    collections::BTreeMap,
    fs::File,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use wsspec::{
    catalog::{Case, Role},
    client_testing::{ClientTestConfig, ClientTestServer, OnResult},
    engine::{default_jobs, RunOptions},
    peers::reference_client,
};
use wsspec_reports::autobahn::agent_file_stem;

use super::{outputs, selection, spec, tls, Outcome};

/// The agent name of the embedded reference client.
const EMBEDDED_AGENT: &str = "tungstenite-embedded";

#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Address to listen on (default 127.0.0.1:9001 with --serve, any free port otherwise).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Report folder.
    #[arg(long, default_value = "reports/clients")]
    out: PathBuf,
    #[command(flatten)]
    selection: selection::SelectionArgs,
    /// Spawn the client under test: `{url}` is wsspec's base URL, `{agent}` the agent name, `{ca}`
    /// the throw-away CA file (--tls), and with `{case}` the command is run once per case number
    /// instead of once for all.
    #[arg(long, value_name = "COMMAND")]
    exec: Option<String>,
    /// The agent name for --exec and the demo.
    #[arg(long)]
    agent: Option<String>,
    /// Seconds the --exec command may run in all (default: the sum of the case timeouts plus a minute).
    #[arg(long, value_name = "SECONDS")]
    exec_timeout: Option<f64>,
    /// Wait for client drivers to connect, until /updateReports (or --until agents, /stopServer).
    #[arg(long)]
    serve: bool,
    /// With --serve: stop after this many agents have asked for their reports.
    #[arg(long, value_name = "N")]
    until: Option<usize>,
    /// Autobahn's fuzzingserver.json: url, outdir, cases, exclude-cases, exclude-agent-cases (implies --serve).
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    #[command(flatten)]
    tls: tls::ListenArgs,
    #[command(flatten)]
    outputs: outputs::OutputArgs,
}

pub async fn run(args: ClientArgs) -> Result<Outcome, String> {
    let catalog = selection::load_catalog(args.selection.catalog.as_deref())?;
    selection::check_timeout_scale(args.selection.timeout_scale)?;
    let (mut patterns, mut exclude, mut exclude_agent_cases, mut out, mut listen) =
        (Vec::new(), Vec::new(), BTreeMap::new(), args.out.clone(), args.listen.clone());
    let serve = args.serve || args.spec.is_some() || args.until.is_some();
    let (mut use_tls, mut cert_key) = (args.tls.tls || args.tls.cert.is_some(), args.tls.cert.clone().zip(args.tls.key.clone()));
    if let Some(path) = &args.spec {
        let spec = spec::load_server_spec(path)?;
        if spec.selection.options.is_some() {
            eprintln!("wsspec: note: Autobahn protocol `options` in {} are ignored", path.display());
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
        patterns = spec.selection.cases;
        exclude = spec.selection.exclude_cases;
        exclude_agent_cases = spec.selection.exclude_agent_cases;
        out = spec.selection.outdir.map(PathBuf::from).unwrap_or(out);
    }
    patterns.extend(args.selection.cases.iter().cloned());
    exclude.extend(args.selection.exclude.iter().cloned());
    let mut selected = selection::select(&catalog, Role::Client, &patterns, &exclude)?;
    outputs::check(&args.outputs, &catalog)?;
    if args.selection.list {
        return selection::list(&selected).or_else(|e| if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(Outcome::Passed) } else { Err(e.to_string()) });
    }
    if serve && args.exec.is_some() {
        return Err("--exec spawns the client itself; --serve, --until and --spec wait for drivers instead".into());
    }
    if args.until == Some(0) {
        return Err("--until must be at least 1".into());
    }

    let listen = listen.unwrap_or_else(|| if serve { "127.0.0.1:9001" } else { "127.0.0.1:0" }.to_string());
    let acceptor = if use_tls {
        let host = listen.rsplit_once(':').map_or(listen.as_str(), |(host, _)| host);
        Some(tls::acceptor(host, cert_key.as_ref().map(|(c, k)| (c.as_path(), k.as_path())), &out)?)
    } else {
        None
    };
    let (runnable, skipped) = wsspec::tls::cases::runnable(selected, acceptor.as_ref());
    selected = runnable;
    if !skipped.is_empty() {
        eprintln!("wsspec: note: {} selected cases cannot run here: {}", skipped.len(), abbreviate(&skipped));
    }

    let exec_bound = Duration::from_secs_f64(
        args.exec_timeout.unwrap_or_else(|| selected.iter().map(|c| c.timeout * args.selection.timeout_scale + 5.0).sum::<f64>() + 60.0),
    );
    let progress = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let total = selected.len();
    let on_result: OnResult = {
        let progress = progress.clone();
        Arc::new(move |record| {
            let mut done = progress.lock().expect("lock");
            let n = done.entry(record.agent.clone()).or_default();
            *n += 1;
            eprintln!(
                "[{}] [{n:>3}/{total}] {:<9} {} / {} ({} ms)",
                record.agent,
                record.id,
                record.behavior.as_str(),
                record.behavior_close.as_str(),
                record.duration
            );
        })
    };
    let config = ClientTestConfig {
        cases: selected.clone(),
        exclude_agent_cases,
        out_dir: out.clone(),
        options: RunOptions { timeout_scale: args.selection.timeout_scale, jobs: default_jobs(), ..RunOptions::default() },
        on_result: Some(on_result),
        tls: acceptor.clone(),
    };
    let server = ClientTestServer::start(&listen, config).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let url = server.url();
    let started = Instant::now();

    let agents = if serve {
        eprintln!(
            "wsspec: testing clients at {url} with {} cases. Drivers: {url}/getCaseCount, \
             {url}/runCase?case=N&agent=NAME, {url}/updateReports?agent=NAME",
            server.case_count()
        );
        server.wait_for_stop(Some(args.until.unwrap_or(1))).await;
        server.agents()
    } else if let Some(command) = &args.exec {
        let agent = args.agent.clone().unwrap_or_else(|| "client".into());
        let ca = acceptor.as_ref().and_then(|a| a.ca_file()).map(|p| p.display().to_string()).unwrap_or_default();
        let command = command.replace("{ca}", &ca);
        exec(&command, &url, &agent, &selected, &out, exec_bound, args.selection.timeout_scale).await?;
        vec![agent]
    } else {
        let agent = args.agent.clone().unwrap_or_else(|| EMBEDDED_AGENT.into());
        eprintln!("wsspec: {} cases against the embedded tungstenite client at {url}", selected.len());
        let connector = match acceptor.as_ref().map(|a| a.ca()) {
            None => None,
            Some(Some(ca)) => Some(wsspec::tls::Connector::trusting(std::slice::from_ref(ca))),
            // The operator's certificate: trusted as given (self-signed), else through the system's roots.
            Some(None) => match &cert_key {
                Some((cert, _)) => Some(wsspec::tls::Connector::new(wsspec::tls::Trust::CaFile(cert.clone()))?),
                None => Some(wsspec::tls::Connector::new(wsspec::tls::Trust::SystemRoots)?),
            },
        };
        reference_client::run_driver_with(&url, &agent, connector.as_ref()).await.map_err(|e| format!("the embedded client failed: {e}"))?;
        vec![agent]
    };

    server.settle().await;
    let mut failed = false;
    for agent in &agents {
        let records = server.records(&agent);
        if records.is_empty() {
            eprintln!("\n{agent}: no results");
        } else {
            failed |= outputs::finish_agent(&agent, &records, started.elapsed().as_secs_f64(), &out, &args.outputs)?;
        }
        let missing = server.missing(&agent);
        if !missing.is_empty() {
            failed = true;
            eprintln!("  MISSING {} cases the client never ran: {}", missing.len(), abbreviate(&missing));
        }
    }
    eprintln!("Reports: {}", out.join("index.json").display());
    outputs::finish_run(&out, &agents, failed, &args.outputs)
}

/// Spawns the client command once, or once per case when it contains `{case}`; each run is bounded
/// and its output kept beside the reports.
async fn exec(
    command: &str,
    url: &str,
    agent: &str,
    selected: &[Case],
    out: &Path,
    bound: Duration,
    scale: f64,
) -> Result<(), String> {
    let fill = |case: Option<usize>| {
        let text = command.replace("{url}", url).replace("{agent}", agent);
        match case {
            Some(n) => text.replace("{case}", &n.to_string()),
            None => text,
        }
    };
    let log_path = out.join(format!("{}_client.log", agent_file_stem(agent)));
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    if command.contains("{case}") {
        for (i, case) in selected.iter().enumerate() {
            run_command(&fill(Some(i + 1)), &log, Duration::from_secs_f64(case.timeout * scale + 30.0)).await?;
        }
    } else {
        run_command(&fill(None), &log, bound).await?;
    }
    eprintln!("wsspec: the client's output is in {}", log_path.display());
    Ok(())
}

async fn run_command(command: &str, log: &File, bound: Duration) -> Result<(), String> {
    let clone = |f: &File| f.try_clone().map(Stdio::from).map_err(|e| e.to_string());
    // Its own process group, so a timeout ends the driver and not only the shell that started it.
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(clone(log)?)
        .stderr(clone(log)?)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    match tokio::time::timeout(bound, child.wait()).await {
        // The shell's codes for a command that could not be found or run: a setup error, not a verdict.
        Ok(Ok(status)) if matches!(status.code(), Some(126 | 127)) => {
            return Err(format!("cannot run `{command}` (the shell exited with {status}); its output is in the client log"));
        }
        Ok(Ok(status)) if !status.success() => eprintln!("wsspec: `{command}` exited with {status}"),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(format!("waiting for `{command}`: {e}")),
        Err(_) => {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
            }
            let _ = child.kill().await;
            eprintln!("wsspec: `{command}` ran longer than {:.0} s and was killed", bound.as_secs_f64());
        }
    }
    Ok(())
}

fn abbreviate(ids: &[String]) -> String {
    let shown: Vec<&str> = ids.iter().take(10).map(String::as_str).collect();
    let more = if ids.len() > 10 { format!(" and {} more", ids.len() - 10) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn abbreviates_long_lists() {
        let ids: Vec<String> = (1..=12).map(|i| format!("1.{i}")).collect();
        assert!(super::abbreviate(&ids).ends_with("1.10 and 2 more"));
    }
}
