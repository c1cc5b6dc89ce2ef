//! The index page of runs that did not complete (interrupted, stopped, killed, no case run): it
//! says so at the top, lists the cases not run as such, and stays well-formed and escaped.

use std::fs;

use super::*;
use crate::{render, sink::{RunState, Sink}, testing::record, Behavior, BehaviorClose, CaseRecord, Status, StoredResults};

const HOSTILE: &str = "evil<script>alert('agent')</script>\u{1b}[31m";

/// Stores `agent`'s run over `selected`, with results for `ran` only, ended as `end` (`why`).
fn stored(dir: &Path, agent: &str, selected: &[&str], ran: &[&str], end: RunState, why: Option<&str>) -> StoredResults {
    let sink = Sink::open(dir).unwrap();
    sink.begin_agent(agent, selected.iter().map(|s| s.to_string()).collect()).unwrap();
    for id in ran {
        sink.record(&mut record(agent, id, Behavior::Ok, BehaviorClose::Ok)).unwrap();
    }
    if end != RunState::Running {
        sink.end_agent(agent, end, why.map(str::to_string)).unwrap();
    }
    drop(sink);
    StoredResults::load(dir).unwrap()
}

/// Renders the index page as `wsspec report` does, saying which runs are incomplete.
fn index_of(results: &StoredResults, dir: &Path) -> String {
    let html = Html::new(dir, results.agents(), SectionTitles::default()).with_incomplete(IncompleteRun::of(results));
    render(results, |_, _, entry, record| Status::of_verdicts(entry, record.map(CaseRecord::reason)), vec![Box::new(html)]).unwrap();
    fs::read_to_string(dir.join("index.html")).unwrap()
}

/// Checks that every element that needs an end tag is closed in order (HTML's void elements and
/// those whose end tag may be left out, as the table cells are, aside), outside the script.
fn assert_well_formed(html: &str) {
    const NO_END: [&str; 14] = ["meta", "link", "br", "input", "img", "hr", "td", "th", "tr", "p", "li", "option", "thead", "tbody"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').unwrap_or_else(|| panic!("an unclosed tag at …{}", &rest[..rest.len().min(40)]));
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        let closing = tag.starts_with('/');
        let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace()).next().unwrap().to_ascii_lowercase();
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()), "a bad tag <{tag}>");
        if NO_END.contains(&name.as_str()) {
            continue;
        }
        if closing {
            assert_eq!(open.pop().as_deref(), Some(name.as_str()), "</{name}> closes the wrong element");
        } else if name == "script" {
            let close = rest.find("</script>").expect("the script ends");
            rest = &rest[close + "</script>".len()..];
        } else {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "never closed: {open:?}");
}

#[test]
fn an_interrupted_run_says_so_at_the_top_and_lists_the_cases_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let why = "SIGINT received </p><script>alert('why')</script>";
    let results = stored(dir.path(), HOSTILE, &["1.1.1", "1.1.2", "1.1.3"], &["1.1.1"], RunState::Interrupted, Some(why));
    let index = index_of(&results, dir.path());
    assert_well_formed(&index);
    assert!(index.contains("<title>INCOMPLETE"), "the title says it");
    let top = &index[..index.find("<h2>").unwrap()];
    assert!(top.contains("did not complete: interrupted: SIGINT received &lt;/p&gt;&lt;script&gt;alert(&#39;why&#39;)"), "{top}");
    assert!(top.contains("2 of 3 selected cases were not run"), "{top}");
    assert!(top.contains("evil&lt;script&gt;alert(&#39;agent&#39;)&lt;/script&gt;\\u{1b}[31m"), "the agent escaped: {top}");
    assert_eq!(index.matches("<script").count(), 1, "only the filter script");
    assert_eq!(index.matches(">Not run<").count(), 4, "two cells (behavior, close) for each case not run");
}

#[test]
fn a_killed_or_stopped_run_says_why_and_a_complete_one_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let killed = stored(dir.path(), "killed", &["1.1.1", "1.1.2"], &["1.1.1"], RunState::Running, None);
    let index = index_of(&killed, dir.path());
    assert!(index.contains("the run of killed did not complete: never finished (wsspec was killed or crashed); 1 of 2"), "{index}");
    let dir = tempfile::tempdir().unwrap();
    let gone = stored(dir.path(), "gone", &["1.1.1", "1.1.2"], &["1.1.1"], RunState::TargetFailed, Some("connection refused"));
    let index = index_of(&gone, dir.path());
    assert!(index.contains("did not complete: stopped: the target was unreachable or stopped answering: connection refused; 1 of 2"), "{index}");
    let dir = tempfile::tempdir().unwrap();
    let complete = stored(dir.path(), "fine", &["1.1.1"], &["1.1.1"], RunState::Complete, None);
    let index = index_of(&complete, dir.path());
    assert!(!index.contains("INCOMPLETE") && !index.contains("class=\"incomplete\""), "a complete run has no banner");
    assert_well_formed(&index);
}

/// A run with no case, one stopped before its first case and one whose every case is not run:
/// every page is well-formed, and nothing reads as passed.
#[test]
fn runs_without_results_render_well_formed_pages() {
    for (selected, end) in [(&[][..], RunState::Complete), (&["1.1.1", "2.1"][..], RunState::Interrupted), (&["1.1.1"][..], RunState::TargetFailed)] {
        let dir = tempfile::tempdir().unwrap();
        let results = stored(dir.path(), HOSTILE, selected, &[], end, Some("SIGTERM received"));
        let index = index_of(&results, dir.path());
        assert_well_formed(&index);
        assert!(!index.contains("<script>alert"), "{index}");
        let matrix = &index[index.find("<table id=\"results\">").unwrap()..];
        assert!(!matrix.contains("v pass") && !matrix.contains(">OK<"), "nothing passed: {matrix}");
        if !selected.is_empty() {
            assert!(index.contains(&format!("{} of {} selected cases were not run", selected.len(), selected.len())), "{index}");
        }
    }
}

#[test]
fn the_page_of_an_unfinished_run_says_nothing_passed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("index.html"), "<p>an earlier run: all passed</p>").unwrap();
    write_unfinished(dir.path()).unwrap();
    let page = fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert_well_formed(&page);
    assert!(page.contains("the run did not finish") && page.contains("nothing here passed") && !page.contains("all passed"), "{page}");
}

#[test]
#[should_panic(expected = "closes the wrong element")]
fn the_check_catches_misnested_elements() {
    assert_well_formed("<header><h1>x</header></h1>");
}
