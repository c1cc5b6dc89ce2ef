//! Progress while a run goes: a bar on a terminal, one plain line per case elsewhere (CI logs).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use wsspec_reports::CaseRecord;

pub enum Progress {
    Bar(ProgressBar),
    Lines { done: usize, total: usize },
}

impl Progress {
    pub fn new(total: usize) -> Self {
        if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}").expect("valid template"));
            Self::Bar(bar)
        } else {
            Self::Lines { done: 0, total }
        }
    }

    pub fn case_done(&mut self, record: &CaseRecord) {
        match self {
            Self::Bar(bar) => {
                bar.inc(1);
                bar.set_message(record.id.clone());
            }
            Self::Lines { done, total } => {
                *done += 1;
                let width = total.to_string().len();
                say!(
                    "[{done:>width$}/{total}] {:<9} {} / {} ({} ms)",
                    record.id,
                    record.behavior.as_str(),
                    record.behavior_close.as_str(),
                    record.duration
                );
            }
        }
    }

    pub fn finish(self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// `text` with every control character (escape sequences, carriage returns, newlines, …) written as
/// a Rust escape, so a name or reason a target chose can neither redraw the terminal nor forge a log
/// line.
pub fn terminal_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// The longest agent name printed whole, in characters; a longer one is clipped with `…`.
pub const AGENT_SHOWN: usize = 80;

/// An agent name for the terminal: [`terminal_safe`], clipped to [`AGENT_SHOWN`] characters (a
/// driver chooses the name; the reports keep it whole).
pub fn agent_name(agent: &str) -> String {
    let mut chars = agent.chars();
    let shown: String = chars.by_ref().take(AGENT_SHOWN).collect();
    let clipped = if chars.next().is_some() { "…" } else { "" };
    format!("{}{clipped}", terminal_safe(&shown))
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_agent_names_are_clipped() {
        assert_eq!(super::agent_name("ws"), "ws");
        let long = "a".repeat(500);
        assert_eq!(super::agent_name(&long), format!("{}…", "a".repeat(80)));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(super::terminal_safe("a\x1b[2Jb\r\nFAILED 1.1\u{9b}"), "a\\u{1b}[2Jb\\r\\nFAILED 1.1\\u{9b}");
        assert_eq!(super::terminal_safe("été 1.0"), "été 1.0");
    }
}
