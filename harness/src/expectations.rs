//! Expectations a project commits (`--expect FILE`): for case-id patterns, the verdicts it accepts
//! other than a clean pass, and why. A result is as expected when the last entry matching it accepts
//! its verdicts, or, matched by none, when it is a clean pass. An entry that names a case by its id
//! whose result is now a clean pass it does not list is stale, and fails the run like an unexpected
//! result, so fixed bugs get their entries removed (connectrpc's `--known-failing`). A case matched
//! by a pattern only (`12.*`) makes its entry stale only when the entry accepts no non-pass of the
//! agent's any more ([`Expectations::settle`]): a pattern covers a family of which some cases pass.
//!
//! ```toml
//! [[expect]]
//! cases = ["12.*", "13.*"]          # Autobahn's case patterns
//! behavior = ["UNIMPLEMENTED"]      # accepted `behavior` verdicts; without it, OK or INFORMATIONAL
//! why = "no permessage-deflate"
//!
//! [[expect]]
//! cases = "7.5.1"
//! agent = "my-server*"              # optional: agents it applies to (whole-name pattern)
//! close = ["WRONG CODE"]            # accepted `behaviorClose` verdicts; without it, OK or INFORMATIONAL
//! why = "answers invalid UTF-8 in a close reason with 1002"
//! ```

use std::{collections::BTreeSet, fmt::Write as _, path::Path};

use serde::{Deserialize, Serialize};
use wsspec_reports::{case_order, iso_utc, reason, Behavior, BehaviorClose, IndexEntry, Status};

use crate::catalog::{case_matches, full_match};

/// The results a project accepts, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expectations {
    pub entries: Vec<Entry>,
    /// (entry index, agent): the entry accepts a non-pass among the agent's results
    /// ([`Expectations::settle`]), so it is still needed.
    needed: BTreeSet<(usize, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Case patterns, Autobahn's rules: `6.4.*` by prefix, `6.4.3` exactly.
    #[serde(deserialize_with = "one_or_many")]
    pub cases: Vec<String>,
    /// Whole-name pattern of the agents the entry is for; every agent when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Vec<Behavior>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<Vec<BehaviorClose>>,
    pub why: String,
    /// Where the entry starts in its file; 0 for one this program made.
    #[serde(skip)]
    pub line: usize,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsFile<E> {
    #[serde(default = "Vec::new")]
    expect: Vec<E>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a case pattern or a list of them")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(pattern) => vec![pattern],
        OneOrMany::Many(patterns) => patterns,
    })
}

const fn clean_behavior(behavior: Behavior) -> bool {
    matches!(behavior, Behavior::Ok | Behavior::Informational)
}

const fn clean_close(close: BehaviorClose) -> bool {
    matches!(close, BehaviorClose::Ok | BehaviorClose::Informational)
}

/// A clean pass: nothing an expectation needs to mention.
pub fn is_clean(entry: &IndexEntry) -> bool {
    clean_behavior(entry.behavior) && clean_close(entry.behavior_close)
}

impl Entry {
    pub fn matches(&self, agent: &str, id: &str) -> bool {
        self.cases.iter().any(|p| case_matches(p, id)) && self.agent.as_ref().is_none_or(|p| full_match(p, agent))
    }

    fn accepts(&self, entry: &IndexEntry) -> bool {
        self.behavior.as_ref().map_or(clean_behavior(entry.behavior), |list| list.contains(&entry.behavior))
            && self.close.as_ref().map_or(clean_close(entry.behavior_close), |list| list.contains(&entry.behavior_close))
    }

    /// `behavior NON-STRICT (line 4: validates per message)`
    fn describe(&self) -> String {
        let list = |names: Vec<&str>| names.join(" or ");
        let mut text = String::new();
        if let Some(behavior) = &self.behavior {
            text += &format!("behavior {}", list(behavior.iter().map(|b| b.as_str()).collect()));
        }
        if let Some(close) = &self.close {
            let and = if text.is_empty() { "" } else { " and " };
            text += &format!("{and}behaviorClose {}", list(close.iter().map(|c| c.as_str()).collect()));
        }
        let at = if self.line > 0 { format!("line {}: ", self.line) } else { String::new() };
        format!("{text} ({at}{})", self.why)
    }
}

/// The largest expectations file read, in bytes (a whole-catalog file is a few KiB).
pub const MAX_FILE_BYTES: u64 = 16 << 20;

impl Expectations {
    /// Reads and checks a file (a regular file of at most [`MAX_FILE_BYTES`]; never a FIFO, a
    /// device or a link). `known_id` says whether a case id exists, so an exact pattern
    /// with a typo is an error rather than an entry that never matches.
    pub fn load(path: &Path, known_id: impl Fn(&str) -> bool) -> Result<Self, String> {
        let bytes = wsspec_reports::fs::read_regular(path, MAX_FILE_BYTES).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text: {e}", path.display()))?;
        Self::parse(&text, known_id).map_err(|e| format!("{}:{e}", path.display()))
    }

    /// Errors read `LINE: message`.
    pub fn parse(text: &str, known_id: impl Fn(&str) -> bool) -> Result<Self, String> {
        let line_of = |offset: usize| text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1;
        let file: ExpectationsFile<toml::Spanned<Entry>> = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(span.start));
            format!("{line}: {}", e.message().trim_end())
        })?;
        let mut entries = Vec::new();
        for spanned in file.expect {
            let line = line_of(spanned.span().start);
            let mut entry = spanned.into_inner();
            entry.line = line;
            check(&entry, &known_id).map_err(|message| format!("{line}: {message}"))?;
            entries.push(entry);
        }
        Ok(Self { entries, needed: BTreeSet::new() })
    }

    /// Learns which entries still accept a non-pass among `results` (agent, id, verdicts), per
    /// agent: a clean pass matched by such an entry through a pattern only is then no stale result.
    /// Without it (or for a case the entry names by id), every clean pass an entry decides is stale.
    pub fn settle<'a>(&mut self, results: impl IntoIterator<Item = (&'a str, &'a str, &'a IndexEntry)>) {
        for (agent, id, entry) in results {
            let Some(decider) = self.decider_index(agent, id) else { continue };
            if matches!(self.strict_status(agent, id, entry, None), Status::Expected { .. }) {
                self.needed.insert((decider, agent.to_string()));
            }
        }
    }

    /// What one result means for the run; `recorded` is its reason (`CaseRecord::reason`) when
    /// known. A clean pass an entry matches by a pattern only is stale only when the entry accepts
    /// no non-pass of the agent's ([`Self::settle`]).
    pub fn status(&self, agent: &str, id: &str, entry: &IndexEntry, recorded: Option<&str>) -> Status {
        match self.strict_status(agent, id, entry, recorded) {
            Status::Stale { .. } if self.needed_by_pattern(agent, id) => Status::Passed,
            status => status,
        }
    }

    /// Whether the entry deciding `id` matches it by a pattern only and still accepts a non-pass
    /// of `agent`'s.
    fn needed_by_pattern(&self, agent: &str, id: &str) -> bool {
        self.decider_index(agent, id).is_some_and(|decider| {
            !self.entries[decider].cases.iter().any(|pattern| pattern == id) && self.needed.contains(&(decider, agent.to_string()))
        })
    }

    /// [`Self::status`] with every clean pass an entry decides stale.
    fn strict_status(&self, agent: &str, id: &str, entry: &IndexEntry, recorded: Option<&str>) -> Status {
        let clean = is_clean(entry);
        let Some(expectation) = self.decider(agent, id) else {
            return if clean {
                Status::Passed
            } else {
                Status::Failed { why: format!("{} is not in the expectations: {}", entry.verdicts(), reason(entry, recorded)) }
            };
        };
        match (expectation.accepts(entry), clean) {
            (true, true) => Status::Passed,
            (true, false) => Status::Expected { why: expectation.why.clone() },
            (false, true) => Status::Stale {
                why: format!("expected {}, but it passes: {}; remove or narrow the entry", expectation.describe(), entry.verdicts()),
            },
            (false, false) => {
                Status::Failed { why: format!("expected {}, got {}: {}", expectation.describe(), entry.verdicts(), reason(entry, recorded)) }
            }
        }
    }

    /// The entry that decides a result: the last one matching it.
    fn decider(&self, agent: &str, id: &str) -> Option<&Entry> {
        self.decider_index(agent, id).map(|i| &self.entries[i])
    }

    /// Where in [`Self::entries`] the entry deciding a result is.
    fn decider_index(&self, agent: &str, id: &str) -> Option<usize> {
        self.entries.iter().rposition(|e| e.matches(agent, id))
    }

    /// The case patterns of the entries that match none of `ids` (the cases a run selected), with
    /// their entry's line, in file order: they say nothing about this run. Not an error, since a
    /// selection may leave them out on purpose.
    pub fn unmatched<'a>(&'a self, ids: &[&str]) -> Vec<(usize, &'a str)> {
        let entries = self.entries.iter();
        entries.flat_map(|e| e.cases.iter().map(move |p| (e.line, p.as_str()))).filter(|(_, p)| !ids.iter().any(|id| case_matches(p, id))).collect()
    }

    /// The expectations that make every one of `results` (agent, id, verdicts) as expected, however
    /// strictly: an entry is kept when every result it matches is one it decides and as expected,
    /// none of them stale even by a pattern (so a pattern some of whose cases pass is narrowed to
    /// the cases that need it); the others
    /// are replaced by exact entries for the results that are not clean passes, keeping their
    /// reasons. A pattern that matches none of the results (cases not run) is always kept, in
    /// its entry's place: with the whole entry when that is kept, else in a copy of the entry
    /// that lists only such patterns. The run says nothing about them, so the update never drops
    /// them, whatever else their entry lists.
    pub fn updated<'a>(&self, results: impl IntoIterator<Item = (&'a str, &'a str, &'a IndexEntry)>) -> Self {
        let results: Vec<(&str, &str, &IndexEntry)> = results.into_iter().collect();
        let deciders: Vec<Option<usize>> =
            results.iter().map(|(agent, id, _)| self.decider_index(agent, id)).collect();
        let good = |i: usize| {
            let (agent, id, entry) = results[i];
            !self.strict_status(agent, id, entry, None).fails_run()
        };
        let keep: Vec<bool> = (0..self.entries.len())
            .map(|e| {
                results
                    .iter()
                    .enumerate()
                    .all(|(i, (agent, id, _))| !self.entries[e].matches(agent, id) || (deciders[i] == Some(e) && good(i)))
            })
            .collect();

        let one_agent = results.iter().all(|(agent, _, _)| *agent == results[0].0);
        let placeholder = format!("recorded from the run of {}; say why it is accepted", iso_utc(std::time::SystemTime::now()));
        // Exact entries for what the kept entries do not cover, one per set of accepted verdicts.
        let mut added: Vec<Entry> = Vec::new();
        for (i, (agent, id, entry)) in results.iter().enumerate() {
            if deciders[i].is_some_and(|e| keep[e]) || is_clean(entry) {
                continue;
            }
            let pin = Entry {
                cases: vec![id.to_string()],
                agent: (!one_agent).then(|| agent.to_string()),
                behavior: (!clean_behavior(entry.behavior)).then(|| vec![entry.behavior]),
                close: (!clean_close(entry.behavior_close)).then(|| vec![entry.behavior_close]),
                why: deciders[i].map_or_else(|| placeholder.clone(), |e| self.entries[e].why.clone()),
                line: 0,
            };
            match added.iter_mut().find(|e| (&e.agent, &e.behavior, &e.close, &e.why) == (&pin.agent, &pin.behavior, &pin.close, &pin.why))
            {
                Some(same) => same.cases.extend(pin.cases),
                None => added.push(pin),
            }
        }
        for entry in &mut added {
            entry.cases.sort_by_key(|id| case_order(id));
        }
        added.sort_by_key(|e| case_order(&e.cases[0]));
        let kept = self.entries.iter().zip(&keep).filter_map(|(entry, keep)| {
            if *keep {
                return Some(entry.clone());
            }
            let unmatched = |p: &&String| !results.iter().any(|(agent, id, _)| case_matches(p, id) && entry.agent.as_ref().is_none_or(|a| full_match(a, agent)));
            let cases: Vec<String> = entry.cases.iter().filter(unmatched).cloned().collect();
            (!cases.is_empty()).then(|| Entry { cases, ..entry.clone() })
        });
        Self { entries: kept.chain(added).collect(), needed: BTreeSet::new() }
    }

    /// The file text, with a header that explains it.
    pub fn to_toml(&self) -> String {
        let mut text = String::from(
            "# wsspec expectations: the results this project accepts other than a clean pass (behavior OK or\n\
             # INFORMATIONAL and behaviorClose OK or INFORMATIONAL), and why. `wsspec server --expect FILE` exits 1\n\
             # on any other result, and on an entry whose cases now pass (stale). The last matching entry decides.\n",
        );
        for entry in &self.entries {
            let one = ExpectationsFile { expect: vec![entry] };
            let _ = write!(text, "\n{}", toml::to_string(&one).expect("expectations serialize"));
        }
        text
    }
}

fn check(entry: &Entry, known_id: &impl Fn(&str) -> bool) -> Result<(), String> {
    if entry.cases.is_empty() {
        return Err("`cases` names no case".into());
    }
    if let Some(pattern) = entry.cases.iter().find(|p| !p.contains('*') && !known_id(p)) {
        return Err(format!("no case has the id `{pattern}` (`wsspec server --list` and `wsspec client --list` list the ids; a pattern needs `*`)"));
    }
    if entry.behavior.is_none() && entry.close.is_none() {
        return Err("an entry needs `behavior` or `close`: the verdicts it accepts".into());
    }
    if entry.behavior.as_ref().is_some_and(Vec::is_empty) || entry.close.as_ref().is_some_and(Vec::is_empty) {
        return Err("an empty list of verdicts accepts nothing".into());
    }
    if entry.why.trim().is_empty() {
        return Err("`why` is empty: say why these results are accepted".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
