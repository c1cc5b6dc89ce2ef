//! The end of each agent's part of a client-testing run: its summary and outcome, and its entry
//! in the report folder's run file closed as complete or interrupted. Several agents may report in
//! one run (`--serve`, `--spec`); what they add up to decides the run's exit code.

use wsspec::{
    catalog::{AgentExclusions, Case},
    client_testing::ClientTestServer,
};
use wsspec_reports::sink::RunState;

use super::{
    super::{
        outputs::{self, AgentResults},
        progress::agent_name,
        selection, Outcome,
    },
    exec::quote,
};

/// The agents summarized so far, and what they make of the run.
pub(super) struct Finished<'a> {
    pub(super) outcome: Outcome,
    pub(super) agents: Vec<String>,
    pub(super) selected: &'a [Case],
    pub(super) exclusions: &'a AgentExclusions,
    /// The agent name --exec or the demo expects results under.
    pub(super) expected: Option<String>,
    /// Summaries that ended saying the agent's run was interrupted.
    pub(super) stopped_lines: usize,
    /// Notes on selected cases this server cannot run (TLS cases without --tls), kept with each
    /// agent's run.
    pub(super) left_out: Vec<String>,
}

/// Why an agent's run ended before the client ran every case, so that the cases it did not run
/// are not run (never graded) rather than missing (failures of the client's).
#[derive(Clone, Copy)]
pub(super) enum CutShort<'a> {
    /// A signal: `SIGINT received`.
    Interrupted(&'a str),
    /// The client under test never got a request through to wsspec (it never connected, or failed
    /// every TLS handshake): a broken setup, what happened.
    SetupBroken(&'a str),
}

impl Finished<'_> {
    /// Summarizes `agent` and records how its run ended; `cut_short` says why it stopped early.
    pub(super) fn agent(&mut self, server: &ClientTestServer, agent: &str, cut_short: Option<CutShort>, args: &outputs::OutputArgs) -> Result<(), String> {
        let (results, errors, missing) = (server.results(agent), server.errors(agent), server.missing(agent));
        let unran = if cut_short.is_none() { &missing[..] } else { &[] };
        let hint = self.renamed(server, agent, results.is_empty());
        let selected = self.exclusions.cases_for(agent, self.selected).len();
        let ran = format!("{} of {} ran", results.len(), selection::plural(selected, "case"));
        let stopped = cut_short.filter(|_| !missing.is_empty()).map(|cut| {
            self.stopped_lines += 1;
            match cut {
                CutShort::Interrupted(why) => format!("interrupted: {ran} ({why}); {} not run", missing.len()),
                CutShort::SetupBroken(why) => format!("stopped: {ran}; {} not run: {why}", missing.len()),
            }
        });
        let results = AgentResults {
            agent,
            results: &results,
            errors: &errors,
            not_run: if cut_short.is_some() { &missing } else { &[] },
            missing: (unran, hint),
            selected,
            seconds: server.elapsed(agent).as_secs_f64(),
            notes: &[],
            stopped: stopped.as_deref(),
        };
        let (state, why) = match cut_short.filter(|_| !missing.is_empty()) {
            None => (RunState::Complete, None),
            Some(CutShort::Interrupted(why)) => (RunState::Interrupted, Some(format!("interrupted: {why}"))),
            Some(CutShort::SetupBroken(why)) => (RunState::TargetFailed, Some(why.to_string())),
        };
        sink_end(server, agent, state, why.as_deref())?;
        if !self.left_out.is_empty() {
            server.sink().set_notes(agent, self.left_out.clone()).map_err(|e| e.to_string())?;
        }
        let outcome = outputs::finish_agent(&results, args)?;
        self.outcome = self.outcome.max(outcome);
        if !self.agents.iter().any(|a| a == agent) {
            self.agents.push(agent.to_string());
        }
        Ok(())
    }

    /// When the expected agent has no result and another agent has: the hint to pass its name.
    fn renamed(&self, server: &ClientTestServer, agent: &str, has_none: bool) -> String {
        if self.expected.as_deref() != Some(agent) || !has_none {
            return String::new();
        }
        let other = server.agents().into_iter().find(|a| a != agent && !server.results(a).is_empty());
        other.map_or(String::new(), |other| {
            let (other, agent) = (agent_name(&other), agent_name(agent));
            format!(" (the client reported as agent '{other}', not '{agent}': pass --agent {})", quote(&other))
        })
    }

    /// Results of every agent, and cases selected for them.
    pub(super) fn counts(&self, server: &ClientTestServer) -> (usize, usize) {
        let agents = server.agents();
        let ran = agents.iter().map(|a| server.results(a).len()).sum();
        let total = agents.iter().map(|a| self.exclusions.cases_for(a, self.selected).len()).sum();
        (ran, total)
    }
}

fn sink_end(server: &ClientTestServer, agent: &str, state: RunState, why: Option<&str>) -> Result<(), String> {
    server.sink().end_agent(agent, state, why.map(str::to_string)).map_err(|e| e.to_string())
}
