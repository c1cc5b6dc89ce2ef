//! JUnit XML for CI dashboards (GitHub's and GitLab's test report readers): one testsuite per
//! section, one testcase per case and agent (the agent is the class name). A result that fails the
//! run is a `<failure>` with what was expected and what was observed; a result an expectation
//! accepts is `<skipped>` with the expectation's reason. A selected case without a result is never
//! left out, so a dashboard cannot look green over a run that did not happen: wsspec's own error
//! is an `<error>` (saying it is wsspec's fault, not the target's), so is a case not run because the
//! target could not be reached or stopped opening WebSockets (saying so), and so is a case an
//! interrupted or unfinished run never reached (an incomplete run never passes a gate); a case a
//! complete run has no result for (a client that never ran it) is a `<failure>`. The suites'
//! `errors` and `skipped` counts include them.
//!
//! A run writes the testcases of its own agents only ([`Junit::only`]), so agents an earlier run
//! left in the same report folder never fail or pad this run's file; `wsspec report` writes them all.

use std::{
    collections::{BTreeMap, BTreeSet},
    io,
    path::{Path, PathBuf},
    time::Duration,
};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::{
    fs::write_atomically, case_order, section_of, text::clip, Behavior, BehaviorClose, CaseRecord, CaseResult, Output, ReportError,
    SectionTitles, Status, Unrun,
};

/// Events listed per side in a failure before the rest is counted.
const MAX_EVENTS: usize = 20;
/// Characters per listed event.
const MAX_EVENT_TEXT: usize = 200;

/// Collects testcases and writes the file at the end.
pub struct Junit {
    path: PathBuf,
    sections: SectionTitles,
    suites: BTreeMap<Vec<u32>, TestSuite>,
    /// The agents whose testcases are written; `None`: every agent.
    agents: Option<BTreeSet<String>>,
}

impl Junit {
    /// Writes `path` at the end, with every agent's testcases.
    pub fn new(path: &Path, sections: SectionTitles) -> Self {
        Self { path: path.to_path_buf(), sections, suites: BTreeMap::new(), agents: None }
    }

    /// Only the testcases of `agents` (one run's agents, as filed: `AGENT@h2c` over HTTP/2); the
    /// folder's other agents are left out. An agent's stored results are those of its last run, so
    /// this is exactly the run's cases.
    pub fn only(mut self, agents: impl IntoIterator<Item = String>) -> Self {
        self.agents = Some(agents.into_iter().collect());
        self
    }

    fn wants(&self, agent: &str) -> bool {
        self.agents.as_ref().is_none_or(|agents| agents.contains(agent))
    }

    /// The testsuite of `id`'s section.
    fn suite(&mut self, id: &str) -> &mut TestSuite {
        let section = section_of(id);
        self.suites.entry(case_order(section)).or_insert_with(|| {
            let title = self.sections.title(section);
            TestSuite::new(if title.is_empty() { format!("section {section}") } else { format!("{section} {title}") })
        })
    }
}

impl Output for Junit {
    fn add(&mut self, result: &CaseResult<'_>) -> Result<(), ReportError> {
        let CaseResult { agent, id, entry, record, status } = *result;
        if !self.wants(agent) {
            return Ok(());
        }
        let suite = self.suite(id);
        let verdicts = entry.verdicts();
        let status = match status {
            Status::Passed => TestCaseStatus::success(),
            Status::Failed { why } | Status::Stale { why } => {
                let mut failure = TestCaseStatus::non_success(NonSuccessKind::Failure);
                failure.set_message(clip(why, 1_000)).set_type(&verdicts);
                if let Some(record) = record {
                    failure.set_description(expected_and_observed(record));
                }
                failure
            }
            Status::Expected { why } => {
                let mut skipped = TestCaseStatus::skipped();
                skipped.set_message(format!("expected {verdicts}: {}", clip(why, 1_000)));
                skipped
            }
        };
        let name = record.map_or_else(|| id.to_string(), |r| format!("{id} {}", r.title));
        let mut case = TestCase::new(name, status);
        case.set_classname(agent).set_time(Duration::from_millis(entry.duration));
        let clean = matches!(entry.behavior, Behavior::Ok) && matches!(entry.behavior_close, BehaviorClose::Ok);
        if let (false, Some(record)) = (clean, record) {
            case.set_system_out(format!("{verdicts}: {}", clip(record.reason(), 1_000)));
        }
        suite.add_test_case(case);
        Ok(())
    }

    /// wsspec's own error, a target that failed or could not be reached, or a case an interrupted
    /// or unfinished run never reached: `<error>`; no result from a complete run: `<failure>`. Each
    /// message says which, and why.
    fn unrun(&mut self, agent: &str, id: &str, why: Unrun<'_>) -> Result<(), ReportError> {
        if !self.wants(agent) {
            return Ok(());
        }
        let status = match why {
            Unrun::Error(error) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(format!("ERROR: wsspec's own fault, not the target's: {}", clip(error, 1_000))).set_type("wsspec error");
                status
            }
            Unrun::TargetFailed(why) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                let why = clip(why, 1_000);
                let message = match why.starts_with("cannot reach the target") {
                    true => format!("not run: {why}"),
                    false => format!("not run: cannot reach the target (it failed or stopped opening WebSockets): {why}"),
                };
                status.set_message(message).set_type("target failed");
                status
            }
            // An incomplete run never passes a gate: most JUnit readers count `<skipped>` as passed.
            Unrun::NotRun(why) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(format!("not run: the run is incomplete: {}", clip(why, 1_000))).set_type("run incomplete");
                status
            }
            Unrun::Missing => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message("no result: the run completed without this case (a client that never ran it)").set_type("MISSING");
                status
            }
        };
        let mut case = TestCase::new(id.to_string(), status);
        case.set_classname(agent);
        self.suite(id).add_test_case(case);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ReportError> {
        let mut report = Report::new("wsspec");
        report.add_test_suites(self.suites.into_values());
        let xml = report.to_string().map_err(|e| ReportError::write(&self.path, io::Error::other(e.to_string())))?;
        write_atomically(&self.path, xml.as_bytes()).map_err(|e| ReportError::write(&self.path, e))
    }
}

/// Writes at `path`, atomically, the JUnit file a run leaves until it writes its own at the end: one
/// `<error>` testcase saying the run did not finish. A run killed (`kill -9`) or crashed then leaves
/// this, never an earlier run's file that a CI gate would read as this run passing.
pub fn write_unfinished(path: &Path) -> Result<(), ReportError> {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_message("the run did not finish: wsspec is still running, or it stopped before it wrote its results (killed, crashed, or no case ran)")
        .set_type("run incomplete");
    let mut case = TestCase::new("the run did not finish", status);
    case.set_classname("wsspec");
    let mut suite = TestSuite::new("wsspec run");
    suite.add_test_case(case);
    let mut report = Report::new("wsspec");
    report.add_test_suite(suite);
    let xml = report.to_string().map_err(|e| ReportError::write(path, io::Error::other(e.to_string())))?;
    write_atomically(path, xml.as_bytes()).map_err(|e| ReportError::write(path, e))
}

/// The failure text: why each verdict is what it is, the expected alternatives, what came.
fn expected_and_observed(r: &CaseRecord) -> String {
    let mut text = format!(
        "{} {}: {}\n\nbehavior {}: {}\nbehaviorClose {}: {}\n\nexpected (any one of):\n",
        r.level,
        spec_anchor(&r.rfc),
        r.requirement,
        r.behavior.as_str(),
        clip(&r.result, 1_000),
        r.behavior_close.as_str(),
        clip(&r.result_close, 1_000)
    );
    for alternative in &r.expected {
        text += &format!("  {}: {}; {}\n", alternative.grade, events(&alternative.events), alternative.close);
    }
    let code = r.remote_close_code.map_or("no close code".to_string(), |c| format!("close code {c}"));
    text += &format!("observed:\n  {}; the target sent {code}", events(&r.received));
    if let Some(reason) = &r.was_not_clean_reason {
        text += &format!("; not clean: {}", clip(reason, 1_000));
    }
    text
}

/// Where the requirement is: a section of RFC 6455 (`5.2`), or of another RFC named in full
/// (`RFC 7692 7.1`, `RFC 9112 3.2`).
fn spec_anchor(rfc: &str) -> String {
    if rfc.starts_with("RFC") { rfc.to_string() } else { format!("RFC 6455 §{rfc}") }
}

fn events(events: &[String]) -> String {
    if events.is_empty() {
        return "no message, ping or pong".into();
    }
    let mut listed: Vec<String> = events.iter().take(MAX_EVENTS).map(|e| clip(e, MAX_EVENT_TEXT)).collect();
    if events.len() > MAX_EVENTS {
        listed.push(format!("… {} more", events.len() - MAX_EVENTS));
    }
    listed.join(", ")
}

#[cfg(test)]
mod tests {
    use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

    use super::*;
    use crate::{
        render,
        testing::{record, store},
    };

    #[test]
    fn requirements_of_other_rfcs_are_not_put_under_rfc_6455() {
        assert_eq!(spec_anchor("5.2"), "RFC 6455 §5.2");
        assert_eq!(spec_anchor("RFC 9112 3.2"), "RFC 9112 3.2");
    }

    #[test]
    fn one_suite_per_section_and_failures_that_explain() {
        let dir = tempfile::tempdir().unwrap();
        let mut failing = record("evil\u{1b}[31m<&\"agent\">", "3.1", Behavior::Failed, BehaviorClose::Failed);
        failing.received = vec!["text message: ]]></failure><x>".into()];
        let records = [
            record("good", "1.1.1", Behavior::Ok, BehaviorClose::Ok),
            record("good", "3.1", Behavior::NonStrict, BehaviorClose::Ok),
            record("good", "12.1.1", Behavior::Unimplemented, BehaviorClose::Ok),
            failing,
        ];
        let results = store(dir.path(), &records);
        let path = dir.path().join("junit.xml");
        let titles = SectionTitles([("3".to_string(), "Reserved Bits".to_string())].into());
        let status = |_: &str, id: &str, entry: &crate::IndexEntry, record: Option<&CaseRecord>| match id {
            "12.1.1" => Status::Expected { why: "no permessage-deflate".into() },
            _ => Status::of_verdicts(entry, record.map(CaseRecord::reason)),
        };
        render(&results, status, vec![Box::new(Junit::new(&path, titles))]).unwrap();

        let report = Report::deserialize_from_str(&std::fs::read_to_string(&path).unwrap()).expect("well-formed JUnit");
        let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(suites, ["section 1", "3 Reserved Bits", "section 12"]);
        assert_eq!((report.tests, report.failures), (4, 1));
        let cases = &report.test_suites[1].test_cases;
        assert_eq!(cases.iter().map(|c| c.classname.as_ref().unwrap().as_str()).collect::<Vec<_>>(), ["evil<&\"agent\">", "good"]);
        let TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, message, ty, description, .. } = &cases[0].status else {
            panic!("a failure: {:?}", cases[0].status)
        };
        assert_eq!(ty.as_ref().unwrap().as_str(), "FAILED / FAILED");
        assert_eq!(message.as_ref().unwrap().as_str(), "behavior FAILED");
        let description = description.as_ref().unwrap().as_str();
        assert!(description.contains("expected (any one of):\n  OK: text message: Hello; wsspec closes"), "{description}");
        assert!(description.contains("observed:\n  text message: ]]></failure><x>; the target sent close code 1000"), "{description}");
        assert_eq!(cases[1].system_out.as_ref().unwrap().as_str(), "NON-STRICT / OK: behavior NON-STRICT");
        let skipped = &report.test_suites[2].test_cases[0].status;
        assert!(
            matches!(skipped, TestCaseStatus::Skipped { message: Some(m), .. } if m.as_str() == "expected UNIMPLEMENTED / OK: no permessage-deflate"),
            "{skipped:?}"
        );
    }

    #[test]
    fn the_file_of_an_unfinished_run_never_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junit.xml");
        std::fs::write(&path, "<testsuites tests=\"1\" failures=\"0\" errors=\"0\"/>").unwrap();
        write_unfinished(&path).unwrap();
        let report = Report::deserialize_from_str(&std::fs::read_to_string(&path).unwrap()).expect("well-formed JUnit");
        assert_eq!((report.tests, report.failures, report.errors), (1, 0, 1));
        let case = &report.test_suites[0].test_cases[0];
        assert!(matches!(&case.status, TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, message: Some(m), .. } if m.as_str().contains("did not finish")), "{:?}", case.status);
    }

    #[test]
    fn only_the_runs_agents_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let records = [
            record("old", "1.1.1", Behavior::Failed, BehaviorClose::Failed),
            record("new", "1.1.1", Behavior::Ok, BehaviorClose::Ok),
        ];
        let results = store(dir.path(), &records);
        let path = dir.path().join("junit.xml");
        let junit = Junit::new(&path, SectionTitles::default()).only(["new".to_string()]);
        render(&results, |_, _, entry, record| Status::of_verdicts(entry, record.map(CaseRecord::reason)), vec![Box::new(junit)]).unwrap();
        let report = Report::deserialize_from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!((report.tests, report.failures), (1, 0), "the old agent's failure is not this run's");
        assert_eq!(report.test_suites[0].test_cases[0].classname.as_ref().unwrap().as_str(), "new");
    }
}
