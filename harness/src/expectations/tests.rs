use super::*;
use Behavior::{Failed, NonStrict, Ok as Pass, Unimplemented};

fn known(id: &str) -> bool {
    ["6.4.3", "7.5.1", "2.1"].contains(&id)
}

fn parse(text: &str) -> Expectations {
    Expectations::parse(text, known).unwrap()
}

fn verdicts(behavior: Behavior, close: BehaviorClose) -> IndexEntry {
    IndexEntry { behavior, behavior_close: close, duration: 1, remote_close_code: Some(1000), reportfile: String::new() }
}

fn kind(status: &Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed { .. } => "failed",
        Status::Expected { .. } => "expected",
        Status::Stale { .. } => "stale",
    }
}

const FILE: &str = r#"
[[expect]]
cases = ["12.*", "13.*"]
behavior = ["UNIMPLEMENTED"]
why = "no permessage-deflate"

[[expect]]
cases = "6.4.*"
behavior = ["NON-STRICT"]
why = "validates UTF-8 per message"

[[expect]]
cases = "6.4.3"
agent = "old*"
behavior = ["FAILED"]
close = ["WRONG CODE"]
why = "old versions answer with 1002"
"#;

#[test]
fn the_last_matching_entry_decides() {
    let e = parse(FILE);
    assert_eq!(e.entries.len(), 3);
    assert_eq!(e.entries[1].line, 7);
    let ok = BehaviorClose::Ok;
    let cases = [
        ("new", "1.1.1", verdicts(Pass, ok), "passed"),
        ("new", "1.1.1", verdicts(NonStrict, ok), "failed"),
        ("new", "1.1.1", verdicts(Pass, BehaviorClose::FailedByClient), "failed"),
        ("new", "12.1.1", verdicts(Unimplemented, ok), "expected"),
        ("new", "12.1.1", verdicts(Pass, ok), "stale"),
        ("new", "12.1.1", verdicts(Failed, ok), "failed"),
        ("new", "6.4.3", verdicts(NonStrict, ok), "expected"),
        ("new", "6.4.3", verdicts(Behavior::Informational, ok), "stale"),
        ("new", "6.4.3", verdicts(NonStrict, BehaviorClose::WrongCode), "failed"),
        ("old-1.0", "6.4.3", verdicts(Failed, BehaviorClose::WrongCode), "expected"),
        ("old-1.0", "6.4.3", verdicts(NonStrict, ok), "failed"),
        ("old-1.0", "6.4.2", verdicts(NonStrict, ok), "expected"),
    ];
    for (agent, id, entry, want) in cases {
        let status = e.status(agent, id, &entry, None);
        assert_eq!(kind(&status), want, "{agent} {id} {}: {status:?}", entry.verdicts());
    }
    let Status::Stale { why } = e.status("new", "12.1.1", &verdicts(Pass, ok), None) else { unreachable!() };
    assert_eq!(why, "expected behavior UNIMPLEMENTED (line 2: no permessage-deflate), but it passes: OK / OK; remove or narrow the entry");
}

/// A pattern covers a family of which some cases pass: those are stale only once the entry accepts
/// no non-pass of the agent's (then all of them are); a case named by its id is stale when it passes,
/// whatever else its entry still accepts; the update narrows the pattern to the cases needing it.
#[test]
fn a_pattern_is_stale_only_when_none_of_its_cases_needs_it() {
    let text = "[[expect]]\ncases = [\"12.*\", \"6.4.3\"]\nbehavior = [\"UNIMPLEMENTED\"]\nwhy = \"partial\"\n";
    let ok = BehaviorClose::Ok;
    let (pass, missing) = (verdicts(Pass, ok), verdicts(Unimplemented, ok));
    let run = [("a", "12.1.1", &missing), ("a", "12.1.2", &pass), ("a", "6.4.3", &pass), ("b", "12.1.1", &pass), ("b", "12.1.2", &pass)];
    let mut e = parse(text);
    let before: Vec<&str> = run.iter().map(|(agent, id, entry)| kind(&e.status(agent, id, entry, None))).collect();
    assert_eq!(before, ["expected", "stale", "stale", "stale", "stale"], "unsettled, every clean pass an entry decides is stale");
    e.settle(run.iter().copied());
    let after: Vec<&str> = run.iter().map(|(agent, id, entry)| kind(&e.status(agent, id, entry, None))).collect();
    assert_eq!(after, ["expected", "passed", "stale", "stale", "stale"], "agent b needs the entry for none of its cases");
    let narrowed = e.updated(run.iter().copied());
    assert_eq!(narrowed.entries.len(), 1, "{narrowed:?}");
    assert_eq!((narrowed.entries[0].cases.clone(), narrowed.entries[0].agent.clone()), (vec!["12.1.1".to_string()], Some("a".to_string())));
}

#[test]
fn bad_files_name_the_line() {
    let cases = [
        ("[[expect]]\ncases = \"2.1\"\nbehavior = [\"FAILD\"]\nwhy = \"x\"\n", "3: unknown variant `FAILD`"),
        ("[[expect]]\ncases = \"2.1\"\nbehavior = [\"FAILED\"]\nwhy = \"x\"\nwhen = 1\n", "unknown field `when`"),
        ("[[expect]]\ncases = \"2.1\"\nbehavior = [\"FAILED\"]\n", "missing field `why`"),
        (
            "\n\n[[expect]]\ncases = \"6.4\"\nbehavior = [\"FAILED\"]\nwhy = \"x\"\n",
            "3: no case has the id `6.4` (`wsspec server --list` and `wsspec client --list` list the ids; a pattern needs `*`)",
        ),
        ("[[expect]]\ncases = \"2.1\"\nwhy = \"x\"\n", "1: an entry needs `behavior` or `close`"),
        ("[[expect]]\ncases = []\nclose = [\"UNCLEAN\"]\nwhy = \"x\"\n", "1: `cases` names no case"),
        ("[[expect]]\ncases = \"2.1\"\nclose = [\"UNCLEAN\"]\nwhy = \" \"\n", "1: `why` is empty"),
        ("[[expect]]\ncases = \"2.1\"\nclose = []\nwhy = \"x\"\n", "1: an empty list of verdicts"),
        ("[[expect]\n", "1: "),
        ("[[expectation]]\n", "unknown field `expectation`"),
    ];
    for (text, want) in cases {
        let error = Expectations::parse(text, known).unwrap_err();
        assert!(error.contains(want), "{text:?}: {error}");
    }
}

#[test]
fn an_update_keeps_what_holds_and_pins_the_rest() {
    let before = parse(FILE);
    let ok = BehaviorClose::Ok;
    let results = [
        ("new", "12.1.1", verdicts(Unimplemented, ok)),
        ("new", "12.1.2", verdicts(Unimplemented, ok)),
        ("new", "6.4.1", verdicts(NonStrict, ok)),
        ("new", "6.4.2", verdicts(Pass, ok)),
        ("new", "2.1", verdicts(Failed, ok)),
        ("new", "7.5.1", verdicts(Failed, ok)),
    ];
    let after = before.updated(results.iter().map(|(a, i, e)| (*a, *i, e)));
    let cases: Vec<Vec<String>> = after.entries.iter().map(|e| e.cases.clone()).collect();
    // 12.* holds; 6.4.* has a stale result (6.4.2 passes) so 6.4.1 gets its own entry with the
    // old reason; the old-agent entry matches nothing run and stays; 2.1 and 7.5.1 are new.
    assert_eq!(cases, [vec!["12.*", "13.*"], vec!["6.4.3"], vec!["2.1", "7.5.1"], vec!["6.4.1"]]);
    assert_eq!(after.entries[3].why, "validates UTF-8 per message");
    assert!(after.entries[2].why.starts_with("recorded from the run of"));
    assert_eq!(after.entries[2].behavior, Some(vec![Failed]));
    assert_eq!(after.entries[2].close, None);
    for (agent, id, entry) in &results {
        assert!(!after.status(agent, id, entry, None).fails_run(), "{id} is as expected after the update");
    }
    let reread = Expectations::parse(&after.to_toml(), |_| true).unwrap();
    assert_eq!(
        reread.entries.iter().map(|e| (&e.cases, &e.behavior, &e.why)).collect::<Vec<_>>(),
        after.entries.iter().map(|e| (&e.cases, &e.behavior, &e.why)).collect::<Vec<_>>()
    );
}

#[test]
fn an_update_of_several_agents_names_them() {
    let results = [("a", "2.1", verdicts(Failed, BehaviorClose::Ok)), ("b", "2.1", verdicts(Pass, BehaviorClose::Ok))];
    let after = Expectations::default().updated(results.iter().map(|(a, i, e)| (*a, *i, e)));
    assert_eq!(after.entries.len(), 1);
    assert_eq!(after.entries[0].agent.as_deref(), Some("a"));
    assert!(!after.status("b", "2.1", &results[1].2, None).fails_run());
}

#[test]
fn patterns_that_match_no_selected_case_are_listed_with_their_line() {
    let expectations = parse(FILE);
    let unmatched = expectations.unmatched(&["6.4.1", "6.4.3", "7.5.1"]);
    assert_eq!(unmatched, [(2, "12.*"), (2, "13.*")]);
    assert!(expectations.unmatched(&["12.1.1", "13.1.1", "6.4.3"]).is_empty());
}

#[test]
fn an_update_keeps_patterns_the_run_did_not_reach_even_when_their_entry_is_replaced() {
    let before = parse("[[expect]]\ncases = [\"6.4.*\", \"12.*\"]\nbehavior = [\"NON-STRICT\", \"UNIMPLEMENTED\"]\nwhy = \"per message\"\n");
    let ok = BehaviorClose::Ok;
    // 6.4.2 now passes, so the entry no longer holds as a whole; 12.* was not run.
    let results = [("a", "6.4.1", verdicts(NonStrict, ok)), ("a", "6.4.2", verdicts(Pass, ok))];
    let after = before.updated(results.iter().map(|(a, i, e)| (*a, *i, e)));
    let cases: Vec<Vec<String>> = after.entries.iter().map(|e| e.cases.clone()).collect();
    assert_eq!(cases, [vec!["12.*"], vec!["6.4.1"]], "12.* is kept, as it would be in an entry of its own");
    assert_eq!(after.entries[0].why, "per message");
    assert_eq!(after.entries[0].behavior, Some(vec![NonStrict, Unimplemented]));
    // The same whether or not the unreached pattern shares an entry with a stale one.
    let alone = parse("[[expect]]\ncases = \"12.*\"\nbehavior = [\"UNIMPLEMENTED\"]\nwhy = \"x\"\n");
    assert_eq!(alone.updated(results.iter().map(|(a, i, e)| (*a, *i, e))).entries[0].cases, ["12.*"]);
}
