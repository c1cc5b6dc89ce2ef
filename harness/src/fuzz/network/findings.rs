//! What `wsspec fuzz` writes: each sequence as a case, the findings file, the suspects of a crash,
//! and the shape that makes two findings the same.

use std::collections::VecDeque;

use super::{Config, Finding, Kind};
use crate::{
    frame::OpCode,
    fuzz::{case_file, oracle, Sequence},
};

/// The case for a sequence, expecting what the oracle allows (`outcome`).
pub(super) fn finding_case(id: &str, sequence: &Sequence, outcome: &oracle::Outcome, note: &str) -> String {
    let mut title = format!("Fuzz finding: {}", case_file::describe(sequence));
    if title.chars().count() > 100 {
        title = format!("{}…", title.chars().take(99).collect::<String>());
    }
    let note = (!note.is_empty()).then_some(note);
    case_file::case(id, &title, note, sequence, outcome)
}

pub(super) fn file_text(config: &Config, cases: &[String]) -> String {
    let comment = format!(
        "Findings of `wsspec fuzz --seed {seed}` against {url}: sequences the target handled in a way\nRFC 6455 does not allow, minimized. Run them again: wsspec server {url} --catalog {dir}",
        seed = config.seed,
        url = config.target.url,
        dir = config.out_dir.display(),
    );
    case_file::file(&comment, cases)
}

/// The last sequences that ran before the target went down, as cases.
pub(super) fn crash(config: &Config, cases: &mut Vec<String>, recent: &VecDeque<(u64, Sequence)>, reason: &str) -> Finding {
    let note = format!(
        "Found by `wsspec fuzz --seed {}` against {}: the target stopped accepting connections ({reason}); one of the last sequences that ran is the cause.",
        config.seed, config.target.url
    );
    let mut ids = Vec::new();
    for (_, sequence) in recent {
        let id = format!("{}.{}.{}", case_file::SECTION, config.seed, cases.len() + 1);
        cases.push(finding_case(&id, sequence, &oracle::expect_sequence(sequence), &note));
        ids.push(id);
    }
    let (index, frames) = recent.back().map_or((0, 0), |(i, s)| (*i, s.frames.len()));
    Finding { kind: Kind::Crash, ids, index, frames: (frames, frames), reason: reason.to_string(), reproduced: false }
}

/// What makes two minimized findings the same: per frame its opcode and flags and whether it carries
/// a payload.
pub(super) fn shape(sequence: &Sequence) -> Vec<(OpCode, bool, u8, bool, bool, bool)> {
    sequence
        .frames
        .iter()
        .map(|f| (f.opcode, f.fin, f.rsv, f.mask.is_some(), f.declared_length.is_some(), f.payload.is_empty()))
        .collect()
}
