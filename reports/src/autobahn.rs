//! Autobahn|Testsuite's output layout: `index.json` (agent → case id → verdicts; sorted keys,
//! indent 3, Autobahn's JSON style) and one `<agent>_case_<id>.json` per case (wsspec's own format:
//! sorted keys, no whitespace, since a whole catalog writes hundreds of them) and its file names.
//! The files are written by `sink::Sink`, each through a temporary file and a rename (see `fs`).

use std::{collections::BTreeMap, path::Path};

use serde::Serialize;

use crate::{
    fs::{read_regular, MAX_INDEX_BYTES},
    IndexEntry,
};

/// agent → case id → entry, as in `index.json`.
pub type Index = BTreeMap<String, BTreeMap<String, IndexEntry>>;

/// Autobahn's agent → file-name rule: lowercase, every character outside `[a-z0-9]` becomes a space,
/// trim, spaces become `_`. It also keeps a hostile agent name (`../../x`) inside the folder.
pub fn agent_file_stem(agent: &str) -> String {
    let spaced: String =
        agent.to_lowercase().chars().map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { ' ' }).collect();
    spaced.trim().replace(' ', "_")
}

/// The longest agent stem used as is in file names, in characters; a longer one is cut and hashed.
pub const MAX_AGENT_STEM: usize = 64;

/// The file stem `agent` gets in a folder whose `index.json` holds `index`: the stem its results
/// there already use, else Autobahn's stem when no other agent of the index uses it and it has 1 to
/// `MAX_AGENT_STEM` characters, else that stem cut to 40 characters plus `_` and 8 hex digits of a
/// hash of the whole name (`Foo` and `foo`, or a 10,000-character name, each get files of their
/// own). `index.json`'s `reportfile` records the outcome, and readers follow it.
pub fn unique_agent_stem(agent: &str, index: &Index) -> String {
    if let Some(stem) = index.get(agent).and_then(stem_in_use) {
        return stem;
    }
    let taken: Vec<String> = index.iter().filter(|(other, _)| other.as_str() != agent).filter_map(|(_, cases)| stem_in_use(cases)).collect();
    let plain = agent_file_stem(agent);
    if !plain.is_empty() && plain.len() <= MAX_AGENT_STEM && !taken.contains(&plain) {
        return plain;
    }
    let cut: String = plain.chars().take(40).collect();
    let hash = fnv1a(agent.as_bytes());
    (0u64..)
        .map(|n| format!("{cut}_{:08x}", (hash ^ n.wrapping_mul(0x9e37_79b9)) as u32).trim_start_matches('_').to_string())
        .find(|stem| !taken.contains(stem))
        .expect("finitely many stems are taken")
}

/// The stem of the files an agent's entries name (`reportfile` up to `_case_`).
fn stem_in_use(cases: &BTreeMap<String, IndexEntry>) -> Option<String> {
    let file = &cases.values().next()?.reportfile;
    Some(file[..file.rfind("_case_")?].to_string()).filter(|stem| !stem.is_empty())
}

/// FNV-1a, 64 bits: a hash that never changes between builds, for file names.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// `<agent>_case_<id with _>.json`, by Autobahn's rule alone (see `unique_agent_stem`).
pub fn report_file_name(agent: &str, case_id: &str) -> String {
    case_report_file(&agent_file_stem(agent), case_id)
}

/// `<stem>_case_<id with _>.json`, the record of a case for an agent's stem.
pub fn case_report_file(stem: &str, case_id: &str) -> String {
    format!("{}.json", case_file_stem(stem, case_id))
}

/// The page beside a record: `<stem>_case_<id>.html` with the stem `stored_file_stem` finds.
pub fn report_page_name(agent: &str, case_id: &str, reportfile: &str) -> String {
    format!("{}.html", stored_file_stem(agent, case_id, reportfile).unwrap_or_else(|_| case_file_stem(&agent_file_stem(agent), case_id)))
}

/// The name, without `.json`, of a stored result's record: its `reportfile` when that is a plain file
/// name of the folder ending in `_case_<id>.json`, Autobahn's rule on the agent otherwise (an
/// empty or mismatched `reportfile`). A `reportfile` with any other character or a path is an error.
pub fn stored_file_stem(agent: &str, case_id: &str, reportfile: &str) -> Result<String, String> {
    let expected_end = format!("{}.json", case_file_stem("", case_id));
    match reportfile.strip_suffix(".json") {
        Some(stem) if crate::fs::is_plain_file_name(reportfile) && reportfile.ends_with(&expected_end) => Ok(stem.to_string()),
        _ if reportfile.is_empty() || crate::fs::is_plain_file_name(reportfile) => Ok(case_file_stem(&agent_file_stem(agent), case_id)),
        _ => Err(format!("reportfile {reportfile:?} of {agent:?} {case_id} is not a file name inside the folder")),
    }
}

/// Ids are dotted numbers, whose dots become `_`; anything else a doctored index may hold does too.
fn case_file_stem(stem: &str, case_id: &str) -> String {
    let id: String = case_id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{stem}_case_{id}")
}

/// Serializes as Autobahn does (`json.dumps(sort_keys=True, indent=3)`).
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Through a Value so every object's keys come out sorted.
    let value = serde_json::to_value(value).expect("results serialize");
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"   "));
    value.serialize(&mut ser).expect("writing to memory");
    out
}

/// Serializes a case record: keys sorted as in [`to_json`], without whitespace (a case file is
/// read by tools, not by people, who read its HTML page; indenting took a third of its bytes).
pub fn to_compact_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(&serde_json::to_value(value).expect("results serialize")).expect("writing to memory")
}

/// Reads `OUT/index.json` if there is one that parses (a regular file of at most
/// `fs::MAX_INDEX_BYTES`; anything else is treated as absent).
pub fn read_index(out: &Path) -> Option<Index> {
    serde_json::from_slice(&read_regular(&out.join("index.json"), MAX_INDEX_BYTES).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Behavior, BehaviorClose};

    #[test]
    fn agent_names_follow_autobahns_rule() {
        assert_eq!(agent_file_stem("Twist Secure"), "twist_secure");
        assert_eq!(agent_file_stem("websockets.asyncio"), "websockets_asyncio");
        assert_eq!(agent_file_stem("bun/1.0.0"), "bun_1_0_0");
        assert_eq!(agent_file_stem("a--b"), "a__b");
        assert_eq!(agent_file_stem("../../x"), "x");
        assert_eq!(report_file_name("Tungstenite", "6.4.3"), "tungstenite_case_6_4_3.json");
        assert_eq!(report_page_name("../../x", "../../1.1", ""), "x_case_______1_1.html");
        assert_eq!(report_page_name("x", "1.1", "../y.json"), "x_case_1_1.html");
        assert_eq!(report_page_name("x", "1.1", "x_0123abcd_case_1_1.json"), "x_0123abcd_case_1_1.html");
    }

    #[test]
    fn colliding_and_long_agent_names_get_stems_of_their_own() {
        let entry = |file: &str| IndexEntry {
            behavior: Behavior::Ok,
            behavior_close: BehaviorClose::Ok,
            duration: 1,
            remote_close_code: None,
            reportfile: file.into(),
        };
        let mut index = Index::new();
        assert_eq!(unique_agent_stem("Foo", &index), "foo");
        index.insert("Foo".into(), BTreeMap::from([("1.1".to_string(), entry("foo_case_1_1.json"))]));
        assert_eq!(unique_agent_stem("Foo", &index), "foo", "an agent keeps its stem");
        let other = unique_agent_stem("foo", &index);
        assert!(other.starts_with("foo_") && other.len() == 12, "{other}");
        assert_eq!(unique_agent_stem("foo", &index), other, "the same name hashes the same");
        let long = unique_agent_stem(&"a".repeat(10_000), &index);
        assert_eq!(long.len(), 49, "{long}");
        let empty = unique_agent_stem("ÄÖ", &index);
        assert_eq!(empty.len(), 8, "a name with no [a-z0-9] is its hash alone: {empty}");
    }
}
