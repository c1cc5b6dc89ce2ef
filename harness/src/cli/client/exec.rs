//! `wsspec client --exec`: the client under test spawned by wsspec, by `sh -c`, once for all its
//! cases or once per case (`{case}`). Every run is bounded, its output kept beside the reports, and
//! its whole process group killed when the bound passes or the run is stopped, so no driver the
//! shell started outlives the run.

use std::{fs::File, path::Path, process::Stdio, time::Duration};

use wsspec::catalog::Case;
use wsspec_reports::autobahn;

/// Spawns the client command once, or once per case when it contains `{case}`; each run is bounded
/// and its output kept beside the reports. Returns how the (last) command ended: `exited with 1`.
pub(super) async fn exec(
    command: &str,
    url: &str,
    agent: &str,
    selected: &[Case],
    out: &Path,
    bound: Duration,
    scale: f64,
) -> Result<String, String> {
    let fill = |case: Option<usize>| {
        let text = command.replace("{url}", &quote(url)).replace("{agent}", &quote(agent));
        match case {
            Some(n) => text.replace("{case}", &n.to_string()),
            None => text,
        }
    };
    if agent.contains('\0') {
        return Err("--agent must not contain a NUL byte".into());
    }
    let stem = autobahn::unique_agent_stem(agent, &autobahn::read_index(out).unwrap_or_default());
    let log_path = out.join(format!("{stem}_client.log"));
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut ended = String::new();
    if command.contains("{case}") {
        for (i, case) in selected.iter().enumerate() {
            ended = run_command(&fill(Some(i + 1)), &log, Duration::from_secs_f64(case.timeout * scale + 30.0)).await?;
        }
    } else {
        ended = run_command(&fill(None), &log, bound).await?;
    }
    say!("wsspec: the client's output is in {}", log_path.display());
    Ok(ended)
}

/// Runs `command` within `bound`; how it ended (`exited with 1`, `was killed by signal 9`, `ran
/// longer than 60 s and was killed`). A command the shell could not run is an error.
async fn run_command(command: &str, log: &File, bound: Duration) -> Result<String, String> {
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
    // Killed as a group when this future ends early (a signal drops it) or the bound passes.
    let mut group = ProcessGroup(child.id());
    let waited = tokio::time::timeout(bound, child.wait()).await;
    if matches!(waited, Ok(Ok(_))) {
        group.0 = None;
    }
    match waited {
        // The shell's codes for a command that could not be found or run: a setup error, not a verdict.
        Ok(Ok(status)) if matches!(status.code(), Some(126 | 127)) => {
            Err(format!("cannot run `{command}` (the shell exited with {status}); its output is in the client log"))
        }
        Ok(Ok(status)) => {
            use std::os::unix::process::ExitStatusExt;
            let ended = match (status.code(), status.signal()) {
                (Some(code), _) => format!("exited with {code}"),
                (None, Some(signal)) => format!("was killed by signal {signal}"),
                (None, None) => format!("ended ({status})"),
            };
            if !status.success() {
                say!("wsspec: `{command}` {ended}");
            }
            Ok(ended)
        }
        Ok(Err(e)) => Err(format!("waiting for `{command}`: {e}")),
        Err(_) => {
            drop(group);
            let _ = child.kill().await;
            let ended = format!("ran longer than {:.0} s and was killed", bound.as_secs_f64());
            say!("wsspec: `{command}` {ended}");
            Ok(ended)
        }
    }
}

/// The process group of a spawned client (its leader's id), killed whole with SIGKILL on drop, so
/// no driver the shell started outlives the run.
struct ProcessGroup(Option<u32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).stderr(Stdio::null()).status();
        }
    }
}

/// `text` quoted for sh as one word (a NUL byte, which no argument can hold, is refused earlier).
pub(super) fn quote(text: &str) -> String {
    shlex::try_quote(text).map(|q| q.into_owned()).unwrap_or_default()
}
