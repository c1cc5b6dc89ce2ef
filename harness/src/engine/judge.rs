//! Judging an observation against a case: Autobahn's `behavior` and `behaviorClose` with its
//! precedence rules, graded by the RFC level the case declares, each with a one-line reason.

use wsspec_reports::{Behavior, BehaviorClose};

use super::{event::CompiledAlternative, event_log, opening::{judge_opening, OpeningExpectation}, Observation};
use crate::catalog::{Alternative, Case, CloseExpectation, Closer, Grade, Level, Role};
use crate::frame::CloseCode;

/// Events a reason names before it counts the rest (the record lists more): a reason is one
/// sentence, and the report's index repeats it for every case.
const REASON_EVENTS: usize = 3;
const _: () = assert!(REASON_EVENTS <= event_log::HEAD, "a reason lists kept events only");

/// The verdicts and a one-line reason for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub behavior: Behavior,
    pub behavior_close: BehaviorClose,
    pub result: String,
    pub result_close: String,
}

impl Verdict {
    /// Both reasons as one text, without saying a sentence twice (when the close verdict decided
    /// the behavior verdict, `result` already ends with `result_close`).
    pub fn reasons(&self) -> String {
        if self.result.ends_with(&self.result_close) {
            self.result.clone()
        } else {
            format!("{} {}", self.result, self.result_close)
        }
    }
}

/// Judges what happened on a case's connection against the case's alternatives and closing
/// expectation. A WebSocket that never opened fails both verdicts; a violation fails `behavior`.
pub fn judge(case: &Case, obs: &Observation) -> Verdict {
    if let Some(verdict) = crate::http2::judge(case, obs) {
        return verdict;
    }
    if let Some(expect) = OpeningExpectation::of(case).filter(|_| obs.target_role == Role::Server) {
        if obs.open_error.is_some() || !expect.allows_opening() {
            let mut verdict = judge_opening(&expect, obs);
            if case.informational {
                verdict.behavior = Behavior::Informational;
            }
            return verdict;
        }
    }
    if let Some(verdict) = crate::tls::cases::judge(case, obs) {
        return verdict;
    }
    // A WebSocket kept open for the next case is where wsspec would have closed it.
    let closer = if obs.closed_by_me || obs.kept_open { Closer::Wsspec } else { Closer::Peer };
    // Declined, a case that needs permessage-deflate ends with wsspec's 1000, whatever it expected.
    if let Some(verdict) = super::deflate::judge(case, obs, || judge_close(&CloseExpectation::default(), obs, closer)) {
        return verdict;
    }
    if let Some(error) = &obs.open_error {
        return unopened(case, obs, error);
    }
    let completed = |i: usize, a: &Alternative| match &obs.matched {
        Some(matched) => matched.get(i).copied().unwrap_or(false),
        None => CompiledAlternative::new(a, case.close_for(a).by).matches(obs.events.kept()),
    };
    let matching: Vec<(usize, &Alternative)> = case.expect.iter().enumerate().filter(|(i, a)| completed(*i, a)).collect();
    let chosen = matching.iter().find(|(_, a)| case.close_for(a).by == closer).or(matching.first()).copied();

    let received = received(obs);
    let (mut behavior, mut result) = match chosen {
        Some((i, alternative)) => {
            let why = alternative.why.as_deref().map(|w| format!(": {w}")).unwrap_or_default();
            (grade(alternative.grade), sentence(&format!("Received what alternative {} expects ({}){why}", i + 1, grade(alternative.grade).as_str())))
        }
        None => (missed(case.level), did_not_fail(case, obs, &received).unwrap_or_else(|| format!("Received {received}, which no expected alternative allows."))),
    };
    if let Some(violation) = &obs.violation {
        behavior = Behavior::Failed;
        result = sentence(&format!("The target broke the protocol: {violation}"));
    }

    let expected_close = chosen.map_or(&case.close, |(_, a)| case.close_for(a));
    let (mut behavior_close, mut result_close) = judge_close(expected_close, obs, closer);
    if expected_close.code_required && behavior == Behavior::Ok && matches!(obs.remote_close, Some((None, _))) {
        behavior = Behavior::NonStrict;
        result = "The target answered with a close frame without a status code, which cannot be told from accepting what it \
                  had to refuse: failing the connection, it SHOULD send a Close frame with an appropriate status code (§7.1.7)."
            .into();
    }
    let close_fails_behavior = (behavior_close == BehaviorClose::Failed && expected_close.wrong_closer_fails)
        || (behavior_close == BehaviorClose::WrongCode && expected_close.wrong_code_fails);
    if close_fails_behavior {
        result = match chosen {
            // The matched alternative's grade no longer holds: say what decided instead.
            Some((i, _)) if behavior != Behavior::Failed => {
                format!("Received what alternative {} expects, but the case fails on its closing. {result_close}", i + 1)
            }
            _ => format!("{result} {result_close}"),
        };
        behavior = Behavior::Failed;
    }
    if expected_close.drop_mid_message_fails && obs.remote_close.is_none() && !obs.closed_by_me && left_a_message_open(obs) {
        behavior = Behavior::Failed;
        result = "The target dropped TCP without a close frame after sending part of a message: it failed mid-echo, \
                  which is not a refusal for a size limit (that would close with 1009 before echoing)."
            .into();
    }
    if let Some(fault) = super::deflate::accepted_invalid_answer(case, obs, &received) {
        behavior = missed(case.level);
        result = if close_fails_behavior { format!("{fault} {result_close}") } else { fault };
    }
    if let Some(bound) = obs.frames_bound.filter(|b| !b.settled && obs.violation.is_none()) {
        // wsspec's own bound ended the case before its verdict was settled (the message could
        // still have been the right echo): not the target's fault.
        behavior = Behavior::Informational;
        behavior_close = BehaviorClose::Informational;
        result = format!(
            "wsspec stopped reading a message of the target's at its bound of {} frames per message ({} bytes so far) and \
             failed the connection (1009): whether the target's message was right cannot be told, which only informs.",
            super::MAX_MESSAGE_FRAMES,
            bound.len
        );
        result_close = "wsspec failed the connection at its own bound: the closing handshake is not judged.".to_string();
    }
    if case.informational {
        behavior = Behavior::Informational;
        behavior_close = BehaviorClose::Informational;
        const ONLY_INFORMS: &str = "This case only informs: its verdicts are INFORMATIONAL whatever the target does.";
        result = format!("{result} {ONLY_INFORMS}");
        result_close = format!("{result_close} {ONLY_INFORMS}");
    }
    Verdict { behavior, behavior_close, result, result_close }
}

/// What the target sent, for a reason: a preview and a count, so that a flooding target does not
/// make a reason of megabytes; `nothing` when it sent nothing. Incidental events (its own pings,
/// unsolicited pongs: see [`super::Event::is_incidental`]) are only counted, after the rest.
fn received(obs: &Observation) -> String {
    let unfinished = obs.unfinished.map(|m| {
        let kind = if m.binary { "binary" } else { "text" };
        format!("an unfinished {kind} message ({} bytes so far, in {} frames)", m.len, m.frames)
    });
    let besides = incidental(obs);
    if obs.events.heeded() == 0 {
        return format!("{}{besides}", unfinished.unwrap_or_else(|| "nothing".to_string()));
    }
    let shown: Vec<String> = obs.events.kept().filter(|e| !e.is_incidental()).take(REASON_EVENTS).map(|e| e.to_string()).collect();
    let more = obs.events.heeded().saturating_sub(shown.len());
    let more = if more > 0 { format!(" and {more} more events (listed in the record)") } else { String::new() };
    let unfinished = unfinished.map(|u| format!(", then {u}")).unwrap_or_default();
    format!("{}{more}{unfinished}{besides}", shown.join(", "))
}

/// The target's incidental events as a parenthesis for [`received`], empty when there were none.
fn incidental(obs: &Observation) -> String {
    if obs.events.incidental() == 0 {
        return String::new();
    }
    let count = |kind: &str, one: &str, many: &str| match obs.events.counts().get(kind).copied().unwrap_or(0) {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    };
    let parts: Vec<String> = [count("ping", "ping of its own", "pings of its own"), count("unsolicited pong", "unsolicited pong", "unsolicited pongs")]
        .into_iter()
        .flatten()
        .collect();
    format!(" (besides {}, which the RFC allows at any time and the judging passes by: §5.5.2, §5.5.3)", parts.join(" and "))
}

/// The fault, when the case expects the target to fail the connection and send nothing (every
/// alternative), and it sent something instead: it went on where it had to fail. Says so, rather
/// than only that no alternative allows what came.
fn did_not_fail(case: &Case, obs: &Observation, received: &str) -> Option<String> {
    let must_fail = case.expect.iter().all(|a| a.events.is_empty() && case.close_for(a).by == Closer::Peer);
    (must_fail && obs.events.heeded() > 0).then(|| {
        format!(
            "The target did not fail the connection as the case requires ({}, {}): it went on and sent {received}.",
            super::opening::cite(&case.rfc),
            case.level.as_str()
        )
    })
}

/// `text` as one sentence: a single full stop at the end, whether or not a quoted reason (a case's
/// `why`, a transport error) already ended with one.
fn sentence(text: &str) -> String {
    format!("{}.", text.trim_end().trim_end_matches('.'))
}

/// Whether the target's last data frame left a message unfinished (a data frame with FIN clear and
/// no final continuation after it), as the wire log followed every frame, kept or not.
fn left_a_message_open(obs: &Observation) -> bool {
    obs.log.rx_message_open()
}

/// A WebSocket that never opened: FAILED, with the requirement the target's head broke when that
/// is why. A server answering a status other than 101 broke no head rule: §4.2.2 lets it refuse a
/// connection with an HTTP error code; it refused the case's valid request, and so failed what
/// the case requires.
fn unopened(case: &Case, obs: &Observation, error: &str) -> Verdict {
    let result = match &obs.exchange.error {
        Some(crate::handshake::HandshakeError::Status(status)) if obs.target_role == Role::Server => format!(
            "The server refused the case's valid opening handshake with status {status} instead of 101 Switching Protocols: §4.2.2 lets a server refuse a connection with an HTTP error code, but then it does not do what this case requires ({}).",
            super::opening::cite(&case.rfc)
        ),
        Some(broken) => {
            let (rfc, sentence) = broken.requirement(obs.target_role);
            let what = match obs.target_role {
                Role::Server => "The server refused or broke the opening handshake",
                Role::Client => "The client's opening request breaks the handshake rules",
            };
            format!("{what} ({}): {}. \"{sentence}\"", super::opening::cite(rfc), broken.to_string().trim_end_matches('.'))
        }
        None => sentence(&format!("The WebSocket opening handshake was never completed: {error}")),
    };
    let result_close = "The WebSocket never opened: there is no closing handshake to judge.".to_string();
    Verdict { behavior: Behavior::Failed, behavior_close: BehaviorClose::Failed, result, result_close }
}

/// The behavior verdict of a requirement missed at `level`: FAILED for a MUST, NON-STRICT for a
/// SHOULD, INFORMATIONAL for a MAY.
pub fn missed(level: Level) -> Behavior {
    match level {
        Level::Must => Behavior::Failed,
        Level::Should => Behavior::NonStrict,
        Level::May => Behavior::Informational,
    }
}

fn grade(grade: Grade) -> Behavior {
    match grade {
        Grade::Ok => Behavior::Ok,
        Grade::NonStrict => Behavior::NonStrict,
        Grade::Informational => Behavior::Informational,
    }
}

fn judge_close(expected: &CloseExpectation, obs: &Observation, closer: Closer) -> (BehaviorClose, String) {
    if obs.kept_open && expected.by == Closer::Wsspec {
        return (BehaviorClose::Ok, "The WebSocket was kept open for the next case: its closing handshake is judged with the last case on it.".into());
    }
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
        return (BehaviorClose::Unclean, sentence(&format!("The connection was not closed cleanly: {why}")));
    }
    if let Some((Some(code), _)) = &obs.remote_close {
        // When wsspec closed first, the target may echo wsspec's own code (RFC 6455 §5.5.1: an
        // endpoint "typically echos the status code it received"); that is never its fault.
        // Only a code that may be sent: echoing an invalid one (7.9.x sends them) is still wrong.
        let echoes_ours = obs.closed_by_me
            && CloseCode(*code).is_sendable()
            && obs.local_close.as_ref().is_some_and(|(ours, _)| *ours == Some(*code));
        if !echoes_ours && !expected.codes.iter().any(|c| c.0 == *code) {
            let allowed: Vec<String> = expected.codes.iter().map(|c| c.0.to_string()).collect();
            return (BehaviorClose::WrongCode, format!("The close code should have been {} or empty, was {code}.", allowed.join(", ")));
        }
    }
    if obs.dropped_by_me && obs.target_role == Role::Server {
        return (BehaviorClose::FailedByClient, format!("wsspec had to {}; the server should close it first (§7.1.1).", obs.end_words.drop));
    }
    let how = match (&obs.remote_close, expected.by) {
        (Some((Some(code), _)), _) => format!("with close code {code}"),
        (Some((None, _)), _) => "with an empty close frame".into(),
        (None, _) => obs.end_words.by_dropping.into(),
    };
    (BehaviorClose::Ok, format!("Connection closed as expected ({how})."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{catalog::Catalog, handshake::HandshakeError};

    fn case(id: &str) -> Case {
        Catalog::embedded().unwrap().case(id).unwrap().clone()
    }

    /// What wsspec saw when the target answered its close (or failed the connection) with `code`.
    fn closed_with(code: u16, by_me: bool) -> Observation {
        let mut obs = Observation::starting_now();
        obs.closed_by_me = by_me;
        obs.remote_close = Some((Some(code), String::new()));
        obs.was_clean = true;
        obs
    }

    #[test]
    fn a_close_that_fails_the_behavior_is_not_called_ok() {
        let verdict = judge(&case("7.9.1"), &closed_with(1000, true));
        assert_eq!((verdict.behavior, verdict.behavior_close), (Behavior::Failed, BehaviorClose::WrongCode));
        assert_eq!(
            verdict.result,
            "Received what alternative 1 expects, but the case fails on its closing. The close code should have been 1002 or empty, was 1000."
        );
        assert_eq!(verdict.reasons(), verdict.result, "the close reason is not said twice");
    }

    #[test]
    fn a_reason_ends_in_one_full_stop() {
        // Alternative 2 of 3.2 has a `why` that ends with a full stop itself.
        let verdict = judge(&case("3.2"), &closed_with(1002, false));
        assert_eq!(verdict.behavior, Behavior::Ok);
        assert!(verdict.result.starts_with("Received what alternative 2 expects (OK): Failing before echoing"), "{}", verdict.result);
        assert!(verdict.result.ends_with("NON-STRICT).") && !verdict.result.ends_with(".."), "{}", verdict.result);

        let mut obs = Observation::starting_now();
        obs.open_error = Some("the target closed the connection during the opening handshake".into());
        let verdict = judge(&case("1.1.1"), &obs);
        assert!(verdict.result.ends_with("opening handshake.") && verdict.result != verdict.result_close, "{verdict:?}");
    }

    #[test]
    fn an_informational_case_says_why_its_verdict_is_informational() {
        let verdict = judge(&case("7.13.1"), &closed_with(1002, true));
        assert_eq!((verdict.behavior, verdict.behavior_close), (Behavior::Informational, BehaviorClose::Informational));
        assert!(verdict.result.ends_with("INFORMATIONAL whatever the target does."), "{}", verdict.result);
        assert!(verdict.result_close.ends_with("INFORMATIONAL whatever the target does."), "{}", verdict.result_close);
    }

    #[test]
    fn a_case_that_ends_at_the_handshake_says_who_refused_what() {
        let catalog = Catalog::embedded().unwrap();
        let case = catalog.case("1.1.1").unwrap();
        let mut refused = Observation::aborted("opening handshake: status 404, expected 101 Switching Protocols");
        refused.exchange.status = Some(404);
        refused.exchange.error = Some(HandshakeError::Status(404));
        let verdict = judge(case, &refused);
        assert_eq!((verdict.behavior, verdict.behavior_close), (Behavior::Failed, BehaviorClose::Failed));
        // §4.2.2 lets a server refuse with a status: the client's MUST to fail is not the server's.
        assert!(verdict.result.starts_with("The server refused the case's valid opening handshake with status 404"), "{}", verdict.result);
        assert!(!verdict.result.contains("client MUST"), "{}", verdict.result);
        let silent = judge(case, &Observation::aborted("no complete opening handshake within 5.0 s"));
        assert!(silent.result.contains("never completed: no complete opening handshake"), "{}", silent.result);
    }

    /// What wsspec saw when it stopped reading an endless message at its bound on frames.
    fn stopped_at_frames_bound(settled: bool) -> Observation {
        let mut obs = Observation::starting_now();
        obs.closed_by_me = true;
        obs.dropped_by_me = true;
        let frames = super::super::MAX_MESSAGE_FRAMES + 1;
        obs.frames_bound = Some(super::super::FramesBound { frames, len: frames, settled });
        obs.unfinished = Some(super::super::receiver::OpenMessage { binary: false, len: frames, frames, transformed: false });
        obs
    }

    #[test]
    fn wsspecs_bound_on_frames_is_not_the_targets_failure_unless_the_case_had_failed() {
        // 9.1.6 expects a 16 MiB echo: 1,048,577 one-byte frames may still have been its start.
        let undecided = judge(&case("9.1.6"), &stopped_at_frames_bound(false));
        assert_eq!((undecided.behavior, undecided.behavior_close), (Behavior::Informational, BehaviorClose::Informational));
        assert!(undecided.result.contains("at its bound of 1048576 frames per message"), "{}", undecided.result);
        // 1.1.1 expects an empty echo: the message was wrong long before the bound.
        let settled = judge(&case("1.1.1"), &stopped_at_frames_bound(true));
        assert_eq!(settled.behavior, Behavior::Failed, "{}", settled.result);
        assert!(settled.result.contains("an unfinished text message (1048577 bytes so far, in 1048577 frames)"), "{}", settled.result);
    }

    #[test]
    fn a_reason_names_a_few_events_and_counts_the_rest() {
        let mut obs = closed_with(1000, true);
        for i in 0..50u8 {
            obs.events.push(super::super::Event::Pong(vec![b'<'; 100 + usize::from(i)]));
        }
        let verdict = judge(&case("1.1.1"), &obs);
        assert!(verdict.result.contains("and 47 more events (listed in the record)"), "{}", verdict.result);
        assert!(verdict.result.len() < 600, "{} bytes: {}", verdict.result.len(), verdict.result);
    }

    #[test]
    fn the_targets_own_pings_and_unsolicited_pongs_change_no_verdict() {
        use super::super::Event;
        // 2.2: wsspec pings "Hello, world!" and expects that pong; 1.1.2: a 125-byte text echo.
        for (id, answer) in [("2.2", Event::Pong(b"Hello, world!".to_vec())), ("1.1.2", Event::message(false, &[b'*'; 125]))] {
            let mut obs = closed_with(1000, true);
            obs.was_clean = true;
            obs.events.push(Event::Ping(b"keepalive".to_vec()));
            obs.events.push(Event::UnsolicitedPong(b"heartbeat".to_vec()));
            obs.events.push(answer.clone());
            obs.events.push(Event::Ping(Vec::new()));
            let verdict = judge(&case(id), &obs);
            assert_eq!((verdict.behavior, verdict.behavior_close), (Behavior::Ok, BehaviorClose::Ok), "{id}: {}", verdict.result);

            // Without the answer, the reason names what counts and only counts the rest.
            let mut obs = closed_with(1000, true);
            obs.events.push(Event::Ping(b"keepalive".to_vec()));
            obs.events.push(Event::UnsolicitedPong(b"heartbeat".to_vec()));
            obs.events.push(Event::Ping(b"again".to_vec()));
            let verdict = judge(&case(id), &obs);
            assert_eq!(verdict.behavior, Behavior::Failed, "{id}: {}", verdict.result);
            assert!(
                verdict.result.starts_with("Received nothing (besides 2 pings of its own and 1 unsolicited pong, which the RFC allows"),
                "{id}: {}",
                verdict.result
            );
        }
    }
}
