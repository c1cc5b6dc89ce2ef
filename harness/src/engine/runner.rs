//! Runs a selection of cases concurrently against one target and writes each result the moment it
//! is judged, so a crash or an interrupt keeps everything recorded so far.

use std::{
    collections::BTreeMap,
    panic::AssertUnwindSafe,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use tokio::{net::TcpStream, sync::Semaphore, task::JoinSet, time::timeout};
use wsspec_reports::{autobahn, case_order, CaseRecord, IndexEntry};

use super::{session::run_case, RunOptions, Target};
use crate::catalog::Case;

/// One run: an agent (the name results are filed under), its address, where reports go.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub agent: String,
    pub target: Target,
    pub out_dir: PathBuf,
    pub options: RunOptions,
}

/// Why a run could not be done at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot reach the target {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("cannot write reports to {dir}: {source}")]
    Output { dir: String, source: std::io::Error },
}

/// Runs `cases` against `config.target`; `on_result` sees each record as it is written.
pub async fn run_cases(
    cases: &[Case],
    config: &RunConfig,
    mut on_result: impl FnMut(&CaseRecord),
) -> Result<Vec<CaseRecord>, RunError> {
    let output_error = |source| RunError::Output { dir: config.out_dir.display().to_string(), source };
    std::fs::create_dir_all(&config.out_dir).map_err(output_error)?;
    check_reachable(&config.target, &config.options).await?;

    let semaphore = Arc::new(Semaphore::new(config.options.jobs.max(1)));
    let mut tasks = JoinSet::new();
    for case in cases.iter().cloned() {
        let (semaphore, config) = (semaphore.clone(), config.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore lives as long as the run");
            let record = AssertUnwindSafe(run_one(&case, &config)).catch_unwind().await;
            record.unwrap_or_else(|_| internal_failure(&case, &config.agent, "wsspec panicked while running this case (a bug in wsspec)"))
        });
    }
    let mut index: BTreeMap<String, IndexEntry> = BTreeMap::new();
    let mut records = Vec::with_capacity(cases.len());
    let mut last_index_write = Instant::now();
    while let Some(joined) = tasks.join_next().await {
        let record = joined.expect("case tasks catch their own panics and are never cancelled");
        autobahn::write_case(&config.out_dir, &record).map_err(output_error)?;
        index.insert(record.id.clone(), record.index_entry());
        if last_index_write.elapsed() > Duration::from_millis(500) {
            autobahn::write_index(&config.out_dir, &config.agent, &index).map_err(output_error)?;
            last_index_write = Instant::now();
        }
        on_result(&record);
        records.push(record);
    }
    autobahn::write_index(&config.out_dir, &config.agent, &index).map_err(output_error)?;
    records.sort_by_key(|r| case_order(&r.id));
    Ok(records)
}

async fn run_one(case: &Case, config: &RunConfig) -> CaseRecord {
    // A bound over the session's own bounds: if it is ever hit, wsspec has a bug, not the target.
    let scale = config.options.timeout_scale;
    let bound = Duration::from_secs_f64((case.timeout + 10.0) * scale + 10.0);
    match timeout(bound, run_case(case, &config.target, &config.options)).await {
        Ok(obs) => super::report(&config.agent, case, obs),
        Err(_) => internal_failure(case, &config.agent, "the case overran wsspec's outer time bound (a bug in wsspec)"),
    }
}

fn internal_failure(case: &Case, agent: &str, reason: &str) -> CaseRecord {
    super::report(agent, case, super::session::Observation::aborted(reason))
}

/// The target answers TCP and, for `wss://`, completes a TLS handshake with a certificate wsspec
/// accepts: otherwise no case could be run (exit 2), and every case would only say so.
async fn check_reachable(target: &Target, options: &RunOptions) -> Result<(), RunError> {
    let unreachable = |reason: String| RunError::Unreachable { url: target.url.clone(), reason };
    let bound = Duration::from_secs_f64(5.0 * options.timeout_scale);
    match timeout(bound, TcpStream::connect((target.host.as_str(), target.port))).await {
        Ok(Ok(tcp)) => match (target.secure, &options.tls) {
            (true, Some(connector)) => match timeout(bound, connector.connect(&target.server_name, tcp)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) if connector.verifies() && e.contains("certificate") => {
                    Err(unreachable(format!("{e} (give the server's CA with --ca FILE, or --insecure)")))
                }
                Ok(Err(e)) => Err(unreachable(e)),
                Err(_) => Err(unreachable("no TLS handshake within 5 s".into())),
            },
            (true, None) => Err(unreachable("wss:// without a TLS connector".into())),
            (false, _) => Ok(()),
        },
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no answer to the TCP connect within 5 s".into())),
    }
}
