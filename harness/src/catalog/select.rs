//! Case selection with Autobahn's pattern rules, so existing spec files select the same cases: a
//! pattern with `*` matches a prefix of the id (`*` is any text, `.` is literal), one without `*` is
//! an exact id. Agent patterns in `exclude-agent-cases` match whole strings.
//!
//! A selection is one or more layers, each a list of patterns to run (none: every case) and a list
//! to leave out; a case runs when every layer selects it. A spec file is one layer, the command
//! line another, so the command line narrows a spec and never widens it.

use std::collections::BTreeMap;

use super::{Case, Catalog, Role};

/// One layer of a selection: Autobahn's `cases` and `exclude-cases`.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    /// Patterns of the cases to run; empty selects every case.
    pub cases: Vec<String>,
    /// Patterns of the cases to leave out.
    pub exclude: Vec<String>,
}

impl Patterns {
    fn selects(&self, id: &str) -> bool {
        (self.cases.is_empty() || self.cases.iter().any(|p| case_matches(p, id))) && !self.exclude.iter().any(|p| case_matches(p, id))
    }
}

/// Why a selection cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("no case has the id `{0}` (use `*` for patterns, e.g. `{0}.*`)")]
    UnknownId(String),
    #[error("the exclude patterns leave no case to run")]
    Empty,
}

/// The cases for `role` that every layer selects, in catalog order.
pub fn select(catalog: &Catalog, role: Role, layers: &[Patterns]) -> Result<Vec<Case>, SelectError> {
    // An exact id to leave out may name a case this catalog lacks (Autobahn's 12.x/13.x in a spec).
    for pattern in layers.iter().flat_map(|l| &l.cases) {
        if !pattern.contains('*') && catalog.case(pattern).is_none() {
            return Err(SelectError::UnknownId(pattern.clone()));
        }
    }
    let selected: Vec<Case> = catalog
        .cases
        .iter()
        .filter(|c| c.applies_to(role) && layers.iter().all(|l| l.selects(c.id.as_str())))
        .cloned()
        .collect();
    if selected.is_empty() {
        return Err(SelectError::Empty);
    }
    Ok(selected)
}

/// Autobahn's `exclude-agent-cases`: agent pattern (whole name) → case patterns not run for it.
#[derive(Debug, Clone, Default)]
pub struct AgentExclusions(pub BTreeMap<String, Vec<String>>);

impl AgentExclusions {
    /// Whether `id` is left out for `agent`.
    pub fn excludes(&self, agent: &str, id: &str) -> bool {
        self.0.iter().any(|(pattern, cases)| full_match(pattern, agent) && cases.iter().any(|p| case_matches(p, id)))
    }

    /// The cases of `selected` that run for `agent`.
    pub fn cases_for<'a>(&self, agent: &str, selected: &'a [Case]) -> Vec<&'a Case> {
        selected.iter().filter(|c| !self.excludes(agent, c.id.as_str())).collect()
    }
}

/// Whether `pattern` selects `id` (Autobahn's `cases` / `exclude-cases` rule).
pub fn case_matches(pattern: &str, id: &str) -> bool {
    if pattern.contains('*') {
        glob(pattern.as_bytes(), id.as_bytes(), false)
    } else {
        pattern == id
    }
}

/// Whole-string match with `*` (Autobahn's `exclude-agent-cases` rule).
pub fn full_match(pattern: &str, text: &str) -> bool {
    glob(pattern.as_bytes(), text.as_bytes(), true)
}

/// Autobahn's permessage-deflate sections (RFC 7692), which wsspec has no cases for yet: section
/// 12 has 5 subsections and section 13 has 7, each of 18 cases.
const AUTOBAHN_DEFLATE: [(u32, u32); 2] = [(12, 5), (13, 7)];

/// Whether `pattern` selects an Autobahn case that wsspec lacks (12.x and 13.x, permessage-deflate).
/// Spec files written for Autobahn commonly exclude these, so such an exclude pattern is no typo.
pub fn names_autobahn_deflate(pattern: &str) -> bool {
    AUTOBAHN_DEFLATE.iter().any(|&(section, subsections)| {
        (1..=subsections).any(|sub| (1..=18).any(|n| case_matches(pattern, &format!("{section}.{sub}.{n}"))))
    })
}

fn glob(pattern: &[u8], text: &[u8], anchored_end: bool) -> bool {
    match pattern.split_first() {
        None => !anchored_end || text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..], anchored_end)),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..], anchored_end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("*", "6.4.3", true)]
    #[case("1*", "10.1.1", true)] // Autobahn's start-anchored regex: "1*" also selects 10.x
    #[case("1.*", "10.1.1", false)]
    #[case("6.4.*", "6.4.3", true)]
    #[case("6.4", "6.4.3", false)] // no `*`: an exact id
    #[case("6.4.3", "6.4.3", true)]
    #[case("9.*.1", "9.3.1", true)]
    #[case("9.*.1", "9.3.10", true)] // a prefix match, as Autobahn's re.match
    fn autobahn_case_patterns(#[case] pattern: &str, #[case] id: &str, #[case] selected: bool) {
        assert_eq!(case_matches(pattern, id), selected);
    }

    #[rstest]
    #[case("12.*", true)]
    #[case("13.7.18", true)]
    #[case("1*", true)] // Autobahn's "1*" selects 12.x and 13.x too
    #[case("13.8.1", false)]
    #[case("11.*", false)]
    #[case("9.*", false)]
    fn autobahn_deflate_sections(#[case] pattern: &str, #[case] named: bool) {
        assert_eq!(names_autobahn_deflate(pattern), named);
    }

    #[test]
    fn agent_patterns_match_whole_names() {
        assert!(full_match("tungstenite*", "tungstenite-0.30"));
        assert!(!full_match("tung", "tungstenite"));
        let exclusions = AgentExclusions([("tung*".to_string(), vec!["1.*".to_string()])].into());
        assert!(exclusions.excludes("tungstenite", "1.1.1") && !exclusions.excludes("ws", "1.1.1"));
    }

    #[test]
    fn a_second_layer_narrows_the_first() {
        let catalog = Catalog::embedded().unwrap();
        let layer = |cases: &[&str], exclude: &[&str]| Patterns {
            cases: cases.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        };
        let ids = |layers: &[Patterns]| -> Vec<String> {
            select(&catalog, Role::Server, layers).unwrap().iter().map(|c| c.id.to_string()).collect()
        };
        let spec = layer(&["1.1.*", "2.1"], &["1.1.8"]);
        assert_eq!(ids(std::slice::from_ref(&spec)).len(), 8);
        assert_eq!(ids(&[spec.clone(), layer(&["1.1.1", "3.1"], &[])]), ["1.1.1"], "3.1 is outside the spec");
        assert_eq!(ids(&[spec.clone(), layer(&[], &["1.1.*"])]), ["2.1"]);
        assert_eq!(select(&catalog, Role::Server, &[spec, layer(&["3.1"], &[])]).unwrap_err(), SelectError::Empty);
    }
}
