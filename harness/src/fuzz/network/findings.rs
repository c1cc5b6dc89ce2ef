//! What `wsspec fuzz` writes: each sequence as a case, the findings file (rewritten whole at every
//! new finding, so what was found survives a crash or an interrupt), the suspects of a crash, and
//! the shape that makes two findings the same.

use std::{collections::VecDeque, path::PathBuf};

use super::{Config, Finding, Kind, Trial, TrialResult};
use crate::{
    frame::OpCode,
    fuzz::{case_file, oracle, Sequence},
};

/// The findings of a run so far and the file they go to.
pub(super) struct Recorder {
    pub(super) file: PathBuf,
    /// The `[[case]]` text of every finding, in the order found.
    cases: Vec<String>,
    /// The shapes written so far: a second finding of the same shape is not written.
    shapes: Vec<Vec<Shape>>,
    pub(super) findings: Vec<Finding>,
}

/// How a divergence reaches the file.
pub(super) enum Form {
    /// Minimized: the trial of the minimized form, `None` when it did not fail again (the original,
    /// which failed twice, is then written whole).
    Minimized(Sequence, Option<Trial>),
    /// Written whole, not minimized, for this reason (the run was interrupted first, or
    /// minimization's time budget ran out).
    Whole(String),
}

/// A confirmed divergence: sequence `index` diverged, and `failing` fails the same way on a new
/// connection: the sequence itself, or the sequences numbered `after` (run before it on its
/// connection) and it, concatenated.
#[derive(Debug, Clone)]
pub(super) struct Divergence {
    pub(super) index: u64,
    pub(super) failing: Sequence,
    pub(super) trial: Trial,
    pub(super) after: Vec<u64>,
}

impl Recorder {
    pub(super) fn new(file: PathBuf) -> Self {
        Self { file, cases: Vec::new(), shapes: Vec::new(), findings: Vec::new() }
    }

    /// Records a confirmed divergence in the form given, unless one of the same shape was
    /// recorded, and rewrites the file.
    pub(super) fn divergence(&mut self, config: &Config, divergence: &Divergence, form: Form) -> std::io::Result<()> {
        let Divergence { index, failing: original, trial, after } = divergence;
        let (small, confirmed, unminimized) = match form {
            Form::Minimized(small, Some(again)) => (small, Some(again), None),
            Form::Minimized(_, None) => (original.clone(), None, None),
            Form::Whole(why) => (original.clone(), Some(trial.clone()), Some(why)),
        };
        let shape = shape(&small);
        if self.shapes.contains(&shape) {
            return Ok(());
        }
        self.shapes.push(shape);
        let last = confirmed.as_ref().unwrap_or(trial);
        let kind = match last.result {
            TrialResult::Diverges(kind) => kind,
            _ => Kind::Divergence,
        };
        let id = self.next_id(config);
        let how = match &unminimized {
            None => format!("minimized from {} to {} frames", original.frames.len(), small.frames.len()),
            Some(why) => format!("not minimized: {why}; {} frames", small.frames.len()),
        };
        let needs = if after.is_empty() {
            String::new()
        } else {
            let numbers: Vec<String> = after.iter().map(u64::to_string).collect();
            format!(" after sequences {} on its connection, which it needs", numbers.join(", "))
        };
        let whole = if unminimized.is_none() && confirmed.is_none() { "; its minimized form did not fail again, so it is written whole" } else { "" };
        let note = format!("Found by `wsspec fuzz --seed {}` (sequence {index}{needs}, {how}) against {}{whole}: {}", config.seed, config.target.url, last.reason());
        self.cases.push(finding_case(&id, &small, &oracle::expect_sequence(&small), &note));
        self.write(config)?;
        let frames = (original.frames.len(), small.frames.len());
        self.findings.push(Finding {
            kind,
            ids: vec![id],
            index: *index,
            after: after.clone(),
            frames,
            reason: last.reason(),
            reproduced: confirmed.is_some(),
            unminimized,
        });
        Ok(())
    }

    /// Records the last sequences that ran before the target went down (`what` says how) as the
    /// suspects of a crash, and rewrites the file.
    pub(super) fn crash(&mut self, config: &Config, recent: &VecDeque<(u64, Sequence)>, what: &str) -> std::io::Result<()> {
        let note = format!(
            "Found by `wsspec fuzz --seed {}` against {}: {what}; one of the last sequences that ran is the cause.",
            config.seed, config.target.url
        );
        let mut ids = Vec::new();
        for (_, sequence) in recent {
            let id = self.next_id(config);
            self.cases.push(finding_case(&id, sequence, &oracle::expect_sequence(sequence), &note));
            ids.push(id);
        }
        self.write(config)?;
        let (index, frames) = recent.back().map_or((0, 0), |(i, s)| (*i, s.frames.len()));
        let unminimized = Some("a crash's suspect".to_string());
        self.findings.push(Finding { kind: Kind::Crash, ids, index, after: Vec::new(), frames: (frames, frames), reason: what.to_string(), reproduced: false, unminimized });
        Ok(())
    }

    fn next_id(&self, config: &Config) -> String {
        format!("{}.{}.{}", case_file::SECTION, config.seed, self.cases.len() + 1)
    }

    fn write(&self, config: &Config) -> std::io::Result<()> {
        wsspec_reports::fs::write_atomically(&self.file, file_text(config, &self.cases).as_bytes())
    }
}

/// The case for a sequence, expecting what the oracle allows (`outcome`).
pub(super) fn finding_case(id: &str, sequence: &Sequence, outcome: &oracle::Outcome, note: &str) -> String {
    let mut title = format!("Fuzz finding: {}", case_file::describe(sequence));
    if title.chars().count() > 100 {
        title = format!("{}…", title.chars().take(99).collect::<String>());
    }
    let note = (!note.is_empty()).then_some(note);
    case_file::case(id, &title, note, sequence, outcome)
}

fn file_text(config: &Config, cases: &[String]) -> String {
    let comment = format!(
        "Findings of `wsspec fuzz --seed {seed}` against {url}: sequences the target handled in a way\nRFC 6455 does not allow, minimized. Run them again: wsspec server {url} --catalog {dir}",
        seed = config.seed,
        url = config.target.url,
        dir = config.out_dir.display(),
    );
    case_file::file(&comment, cases)
}

/// Per frame: its opcode and flags and whether it carries a payload.
type Shape = (OpCode, bool, u8, bool, bool, bool);

/// What makes two minimized findings the same: the [`Shape`] of each frame.
fn shape(sequence: &Sequence) -> Vec<Shape> {
    sequence
        .frames
        .iter()
        .map(|f| (f.opcode, f.fin, f.rsv, f.mask.is_some(), f.declared_length.is_some(), f.payload.is_empty()))
        .collect()
}
