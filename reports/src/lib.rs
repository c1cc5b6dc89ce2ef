//! Results of a wsspec run and the writers that turn them into reports: the results model, and
//! Autobahn|Testsuite's `index.json` plus per-case JSON layout so existing tooling keeps working.

pub mod autobahn;
pub mod model;
mod time;

pub use model::*;
pub use time::iso_utc;
