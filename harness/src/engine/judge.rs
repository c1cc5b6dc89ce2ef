//! Judging an observation against a case: Autobahn's `behavior` and `behaviorClose` with its
//! precedence rules, graded by the RFC level the case declares, each with a one-line reason.

use wsspec_reports::{Behavior, BehaviorClose};

use super::{event::CompiledAlternative, session::Observation};
use crate::catalog::{Alternative, Case, CloseExpectation, Closer, Grade, Level, Role};

/// The verdicts and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub behavior: Behavior,
    pub behavior_close: BehaviorClose,
    pub result: String,
    pub result_close: String,
}

pub fn judge(case: &Case, obs: &Observation) -> Verdict {
    if let Some(verdict) = crate::tls::cases::judge(case, obs) {
        return verdict;
    }
    if let Some(error) = &obs.open_error {
        let reason = format!("The WebSocket opening handshake was never completed: {error}");
        return Verdict { behavior: Behavior::Failed, behavior_close: BehaviorClose::Failed, result: reason.clone(), result_close: reason };
    }
    let closer = if obs.closed_by_me { Closer::Wsspec } else { Closer::Peer };
    let matching: Vec<(usize, &Alternative)> = case
        .expect
        .iter()
        .enumerate()
        .filter(|(_, a)| CompiledAlternative::new(a, case.close_for(a).by).matches(&obs.events))
        .collect();
    let chosen = matching.iter().find(|(_, a)| case.close_for(a).by == closer).or(matching.first()).copied();

    let (mut behavior, mut result) = match chosen {
        Some((i, alternative)) => {
            let why = alternative.why.as_deref().map(|w| format!(": {w}")).unwrap_or_default();
            (grade(alternative.grade), format!("Received what alternative {} expects ({}){why}.", i + 1, grade(alternative.grade).as_str()))
        }
        None => {
            let received = if obs.events.is_empty() {
                "nothing".to_string()
            } else {
                obs.events.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")
            };
            let behavior = match case.level {
                Level::Must => Behavior::Failed,
                Level::Should => Behavior::NonStrict,
                Level::May => Behavior::Informational,
            };
            (behavior, format!("Received {received}, which no expected alternative allows."))
        }
    };
    if let Some(violation) = &obs.violation {
        behavior = Behavior::Failed;
        result = format!("The target broke the protocol: {violation}.");
    }

    let expected_close = chosen.map_or(&case.close, |(_, a)| case.close_for(a));
    let (mut behavior_close, result_close) = judge_close(expected_close, obs, closer);
    if behavior_close == BehaviorClose::Failed && expected_close.wrong_closer_fails {
        behavior = Behavior::Failed;
        result = format!("{result} {result_close}");
    }
    if behavior_close == BehaviorClose::WrongCode && expected_close.wrong_code_fails {
        behavior = Behavior::Failed;
        result = format!("{result} {result_close}");
    }
    if case.informational {
        behavior = Behavior::Informational;
        behavior_close = BehaviorClose::Informational;
    }
    Verdict { behavior, behavior_close, result, result_close }
}

fn grade(grade: Grade) -> Behavior {
    match grade {
        Grade::Ok => Behavior::Ok,
        Grade::NonStrict => Behavior::NonStrict,
        Grade::Informational => Behavior::Informational,
    }
}

fn judge_close(expected: &CloseExpectation, obs: &Observation, closer: Closer) -> (BehaviorClose, String) {
    if closer != expected.by {
        let reason = match expected.by {
            Closer::Peer if obs.timed_out => "The target did not fail the connection; wsspec had to close it after the case timeout.",
            Closer::Peer => "wsspec closed the connection, but the target was expected to fail it.",
            Closer::Wsspec => "The target closed the connection, but wsspec was expected to close it.",
        };
        return (BehaviorClose::Failed, reason.into());
    }
    if expected.clean && !obs.was_clean {
        let why = obs.not_clean_reason.as_deref().unwrap_or("the closing handshake did not complete");
        return (BehaviorClose::Unclean, format!("The connection was not closed cleanly: {why}."));
    }
    if let Some((Some(code), _)) = &obs.remote_close {
        if !expected.codes.iter().any(|c| c.0 == *code) {
            let allowed: Vec<String> = expected.codes.iter().map(|c| c.0.to_string()).collect();
            return (BehaviorClose::WrongCode, format!("The close code should have been {} or empty, was {code}.", allowed.join(", ")));
        }
    }
    if obs.dropped_by_me && obs.target_role == Role::Server {
        return (BehaviorClose::FailedByClient, "wsspec had to drop the TCP connection; the server should close it first (§7.1.1).".into());
    }
    let how = match (&obs.remote_close, expected.by) {
        (Some((Some(code), _)), _) => format!("with close code {code}"),
        (Some((None, _)), _) => "with an empty close frame".into(),
        (None, _) => "by dropping TCP".into(),
    };
    (BehaviorClose::Ok, format!("Connection closed as expected ({how})."))
}
