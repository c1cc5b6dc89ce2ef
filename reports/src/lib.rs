//! Results of a wsspec run and the writers that turn them into reports: the results model,
//! Autobahn|Testsuite's `index.json` plus per-case JSON layout so existing tooling keeps working,
//! and, rendered from those stored results, the HTML report, JUnit XML and the comparison of two runs.

pub mod autobahn;
pub mod budget;
mod cut;
pub mod diff;
pub mod fs;
pub mod html;
pub mod junit;
pub mod model;
mod output;
mod results;
pub mod sink;
mod status;
#[cfg(test)]
mod testing;
pub mod text;
mod time;
pub mod transport;

pub use model::*;
pub use output::{render, section_of, subsection_of, CaseResult, Output, ReportError, SectionTitles, Unrun};
pub use results::{case_order, StoredResults};
pub use status::{reason, Status};
pub use time::iso_utc;
