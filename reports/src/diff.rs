//! What changed between two result sets (`wsspec diff OLD NEW`): regressions (a result that now
//! fails), fixes, other verdict changes, changed close codes, and results only one side has.
//! Durations are not compared. A close code that changed while both verdicts stayed the same is
//! reported apart: close codes race (a server's 1009 may reach wsspec before its TCP drop or not),
//! so it fails a diff only when asked to ([`Diff::fails`]).

use std::fmt;

use crate::{autobahn::Index, case_order, IndexEntry};

/// One result on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub agent: String,
    pub id: String,
    pub old: IndexEntry,
    pub new: IndexEntry,
}

/// One result on one side only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneSided {
    pub agent: String,
    pub id: String,
    pub entry: IndexEntry,
}

#[derive(Debug, Default)]
pub struct Diff {
    /// When each side has a single agent under a different name (a new version, say), those two
    /// are compared: (old name, new name).
    pub renamed: Option<(String, String)>,
    /// Results on both sides.
    pub compared: usize,
    pub regressions: Vec<Change>,
    pub fixes: Vec<Change>,
    /// Verdicts changed without passing or failing changing (OK → NON-STRICT, say).
    pub changed: Vec<Change>,
    /// Same verdicts, another close code from the target (or none on one side).
    pub close_codes: Vec<Change>,
    pub new: Vec<OneSided>,
    pub missing: Vec<OneSided>,
}

impl Diff {
    /// Whether the diff fails a gate: a verdict changed, or a result is new or missing; with
    /// `strict`, a close-code-only change too.
    pub fn fails(&self, strict: bool) -> bool {
        !(self.regressions.is_empty() && self.fixes.is_empty() && self.changed.is_empty() && self.new.is_empty() && self.missing.is_empty())
            || (strict && !self.close_codes.is_empty())
    }

    /// Whether the two sides hold the same results (durations aside).
    pub fn is_empty(&self) -> bool {
        self.regressions.is_empty()
            && self.fixes.is_empty()
            && self.changed.is_empty()
            && self.close_codes.is_empty()
            && self.new.is_empty()
            && self.missing.is_empty()
    }
}

/// Compares `new` with `old`, agent by agent.
pub fn diff(old: &Index, new: &Index) -> Diff {
    let mut diff = Diff::default();
    let mut pairs: Vec<(&str, &str)> = old.keys().filter(|a| new.contains_key(*a)).map(|a| (a.as_str(), a.as_str())).collect();
    if let ([(old_agent, _)], [(new_agent, _)]) = (&old.iter().collect::<Vec<_>>()[..], &new.iter().collect::<Vec<_>>()[..]) {
        if old_agent != new_agent {
            diff.renamed = Some((old_agent.to_string(), new_agent.to_string()));
            pairs.push((old_agent, new_agent));
        }
    }
    let paired_old = |agent: &str| pairs.iter().any(|(o, _)| *o == agent);
    let paired_new = |agent: &str| pairs.iter().any(|(_, n)| *n == agent);
    for (agent, cases) in old.iter().filter(|(a, _)| !paired_old(a)) {
        diff.missing.extend(cases.iter().map(|(id, entry)| one_sided(agent, id, entry)));
    }
    for (agent, cases) in new.iter().filter(|(a, _)| !paired_new(a)) {
        diff.new.extend(cases.iter().map(|(id, entry)| one_sided(agent, id, entry)));
    }
    for (old_agent, new_agent) in pairs.iter().copied() {
        let (old_cases, new_cases) = (&old[old_agent], &new[new_agent]);
        for (id, entry) in old_cases.iter().filter(|(id, _)| !new_cases.contains_key(*id)) {
            diff.missing.push(one_sided(new_agent, id, entry));
        }
        for (id, new_entry) in new_cases {
            let Some(old_entry) = old_cases.get(id) else {
                diff.new.push(one_sided(new_agent, id, new_entry));
                continue;
            };
            diff.compared += 1;
            let change = Change { agent: new_agent.to_string(), id: id.clone(), old: old_entry.clone(), new: new_entry.clone() };
            let same_verdicts = (old_entry.behavior, old_entry.behavior_close) == (new_entry.behavior, new_entry.behavior_close);
            match (old_entry.is_failure(), new_entry.is_failure()) {
                (false, true) => diff.regressions.push(change),
                (true, false) => diff.fixes.push(change),
                _ if !same_verdicts => diff.changed.push(change),
                _ if old_entry.remote_close_code != new_entry.remote_close_code => diff.close_codes.push(change),
                _ => {}
            }
        }
    }
    for list in [&mut diff.regressions, &mut diff.fixes, &mut diff.changed, &mut diff.close_codes] {
        list.sort_by(|a, b| (&a.agent, case_order(&a.id)).cmp(&(&b.agent, case_order(&b.id))));
    }
    for list in [&mut diff.new, &mut diff.missing] {
        list.sort_by(|a, b| (&a.agent, case_order(&a.id)).cmp(&(&b.agent, case_order(&b.id))));
    }
    diff
}

fn one_sided(agent: &str, id: &str, entry: &IndexEntry) -> OneSided {
    OneSided { agent: agent.to_string(), id: id.to_string(), entry: entry.clone() }
}

/// `OK / OK, close 1000`
fn outcome(entry: &IndexEntry) -> String {
    let code = entry.remote_close_code.map_or("no close code".to_string(), |c| format!("close {c}"));
    format!("{}, {code}", entry.verdicts())
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((old, new)) = &self.renamed {
            writeln!(f, "comparing agent {old:?} (old) with {new:?} (new)")?;
        }
        let changes = [
            ("regressions", &self.regressions),
            ("fixes", &self.fixes),
            ("other verdict changes", &self.changed),
            ("close code changes with the same verdicts", &self.close_codes),
        ];
        for (title, list) in changes {
            if !list.is_empty() {
                writeln!(f, "{title} ({}):", list.len())?;
                for c in list {
                    writeln!(f, "  {} {:<9} {} → {}", c.agent, c.id, outcome(&c.old), outcome(&c.new))?;
                }
            }
        }
        for (title, list) in [("new results", &self.new), ("missing results", &self.missing)] {
            if !list.is_empty() {
                writeln!(f, "{title} ({}):", list.len())?;
                for r in list {
                    writeln!(f, "  {} {:<9} {}", r.agent, r.id, outcome(&r.entry))?;
                }
            }
        }
        write!(
            f,
            "{} results compared: {} regressions, {} fixes, {} other verdict changes, {} close code changes, {} new, {} missing",
            self.compared,
            self.regressions.len(),
            self.fixes.len(),
            self.changed.len(),
            self.close_codes.len(),
            self.new.len(),
            self.missing.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Behavior, BehaviorClose};

    fn entry(behavior: Behavior, close: BehaviorClose, code: Option<u16>) -> IndexEntry {
        IndexEntry { behavior, behavior_close: close, duration: 1, remote_close_code: code, reportfile: String::new() }
    }

    fn index(agent: &str, entries: &[(&str, IndexEntry)]) -> Index {
        let cases = entries.iter().map(|(id, e)| (id.to_string(), e.clone())).collect();
        BTreeMap::from([(agent.to_string(), cases)])
    }

    #[test]
    fn sorts_every_kind_of_change() {
        use Behavior::*;
        let ok = entry(Ok, BehaviorClose::Ok, Some(1000));
        let old = index(
            "s",
            &[
                ("1.1", ok.clone()),
                ("1.2", entry(Failed, BehaviorClose::Ok, Some(1000))),
                ("1.3", ok.clone()),
                ("1.4", ok.clone()),
                ("1.5", ok.clone()),
                ("1.6", ok.clone()),
            ],
        );
        let mut slower = ok.clone();
        slower.duration = 99;
        let new = index(
            "s",
            &[
                ("1.1", entry(Ok, BehaviorClose::WrongCode, Some(1002))),
                ("1.2", ok.clone()),
                ("1.3", entry(NonStrict, BehaviorClose::Ok, Some(1000))),
                ("1.4", entry(Ok, BehaviorClose::Ok, None)),
                ("1.5", slower),
                ("1.7", ok.clone()),
            ],
        );
        let d = diff(&old, &new);
        let ids = |list: &[Change]| list.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.regressions), ["1.1"]);
        assert_eq!(ids(&d.fixes), ["1.2"]);
        assert_eq!(ids(&d.changed), ["1.3"]);
        assert_eq!(ids(&d.close_codes), ["1.4"]);
        assert_eq!(d.new.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["1.7"]);
        assert_eq!(d.missing.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["1.6"]);
        assert_eq!(d.compared, 5);
        let text = d.to_string();
        assert!(text.contains("regressions (1):\n  s 1.1       OK / OK, close 1000 → OK / WRONG CODE, close 1002"), "{text}");
        assert!(diff(&old, &old).is_empty(), "a result set equals itself");
        assert!(d.fails(false));
        assert!(!diff(&old, &old).fails(true));
    }

    #[test]
    fn a_close_code_alone_fails_only_when_strict() {
        let old = index("s", &[("9.1.6", entry(Behavior::Ok, BehaviorClose::Ok, Some(1009)))]);
        let new = index("s", &[("9.1.6", entry(Behavior::Ok, BehaviorClose::Ok, None))]);
        let d = diff(&old, &new);
        assert_eq!(d.close_codes.len(), 1);
        assert!(!d.is_empty());
        assert!(!d.fails(false), "the same verdicts: reported, not failing");
        assert!(d.fails(true));
        assert!(d.to_string().contains("close code changes with the same verdicts (1):\n  s 9.1.6     OK / OK, close 1009 → OK / OK, no close code"), "{d}");
    }

    #[test]
    fn single_agents_under_new_names_are_compared() {
        let ok = entry(Behavior::Ok, BehaviorClose::Ok, Some(1000));
        let d = diff(
            &index("server-1.0", &[("2.1", ok.clone())]),
            &index("server-1.1", &[("2.1", entry(Behavior::Failed, BehaviorClose::Ok, None))]),
        );
        assert_eq!(d.renamed, Some(("server-1.0".into(), "server-1.1".into())));
        assert_eq!(d.regressions.len(), 1);
        assert!(d.new.is_empty() && d.missing.is_empty());

        let mut two = index("a", &[("2.1", ok.clone())]);
        two.extend(index("b", &[("2.1", ok.clone())]));
        let d = diff(&two, &index("c", &[("2.1", ok)]));
        assert_eq!((d.renamed, d.new.len(), d.missing.len()), (None, 1, 2), "several agents pair by name only");
    }
}
