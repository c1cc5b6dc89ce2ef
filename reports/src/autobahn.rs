//! Autobahn|Testsuite's output layout: `index.json` (agent → case id → verdicts; sorted keys,
//! indent 3) and one `<agent>_case_<id>.json` per case, its file names and its JSON style. The
//! files are written by `sink::Sink`, each through a temporary file and a rename.

use std::{
    collections::BTreeMap,
    fs, io,
    path::Path,
};

use serde::Serialize;

use crate::IndexEntry;

/// agent → case id → entry, as in `index.json`.
pub type Index = BTreeMap<String, BTreeMap<String, IndexEntry>>;

/// Autobahn's agent → file-name rule: lowercase, every character outside `[a-z0-9]` becomes a space,
/// trim, spaces become `_`. It also keeps a hostile agent name (`../../x`) inside the folder.
pub fn agent_file_stem(agent: &str) -> String {
    let spaced: String =
        agent.to_lowercase().chars().map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { ' ' }).collect();
    spaced.trim().replace(' ', "_")
}

/// `<agent>_case_<id with _>.json`
pub fn report_file_name(agent: &str, case_id: &str) -> String {
    format!("{}.json", case_file_stem(agent, case_id))
}

/// `<agent>_case_<id with _>.html`, the page beside the record.
pub fn report_page_name(agent: &str, case_id: &str) -> String {
    format!("{}.html", case_file_stem(agent, case_id))
}

/// Ids are dotted numbers, whose dots become `_`; anything else a doctored index may hold does too.
fn case_file_stem(agent: &str, case_id: &str) -> String {
    let id: String = case_id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{}_case_{id}", agent_file_stem(agent))
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

/// Writes `data` to `path` through a temporary file beside it and a rename: readers see the old
/// file or the new one, never a part.
pub fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    // A name of its own per write, so concurrent writers of one file never rename each other's.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}-{n}.tmp", std::process::id()));
    fs::write(&tmp, data)?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_follow_autobahns_rule() {
        assert_eq!(agent_file_stem("Twist Secure"), "twist_secure");
        assert_eq!(agent_file_stem("websockets.asyncio"), "websockets_asyncio");
        assert_eq!(agent_file_stem("bun/1.0.0"), "bun_1_0_0");
        assert_eq!(agent_file_stem("a--b"), "a__b");
        assert_eq!(agent_file_stem("../../x"), "x");
        assert_eq!(report_file_name("Tungstenite", "6.4.3"), "tungstenite_case_6_4_3.json");
        assert_eq!(report_page_name("../../x", "../../1.1"), "x_case_______1_1.html");
    }
}
