//! Loading the catalog and selecting cases, as every command that runs cases does.

use std::path::{Path, PathBuf};

use wsspec::catalog::{case_matches, Case, Catalog, Role};

use super::Outcome;

/// The options that choose which cases run and how long they may take.
#[derive(Debug, clap::Args)]
pub struct SelectionArgs {
    /// Cases: ids, or patterns with `*` matching the start of an id (Autobahn's rules).
    #[arg(long, num_args = 1.., value_name = "PATTERN")]
    pub cases: Vec<String>,
    /// Cases to leave out (same patterns).
    #[arg(long, num_args = 1.., value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Print the selected cases and run nothing.
    #[arg(long)]
    pub list: bool,
    /// Multiply every timeout and pause by this factor.
    #[arg(long, default_value_t = 1.0)]
    pub timeout_scale: f64,
    /// Load the catalog from this folder instead of the one built in.
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
}

/// The built-in catalog, or the one in `dir`.
pub fn load_catalog(dir: Option<&Path>) -> Result<Catalog, String> {
    match dir {
        Some(dir) => Catalog::from_dir(dir),
        None => Catalog::embedded(),
    }
    .map_err(|e| format!("invalid case file: {e}"))
}

pub fn check_timeout_scale(scale: f64) -> Result<(), String> {
    if scale.is_finite() && scale > 0.0 {
        Ok(())
    } else {
        Err(format!("--timeout-scale {scale} must be a positive number"))
    }
}

/// Prints the selection; a closed pipe (`| head`) is not an error.
pub fn list(selected: &[Case]) -> std::io::Result<Outcome> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for case in selected {
        writeln!(out, "{:<9} {:<6} §{:<8} {}", case.id, case.level.as_str(), case.rfc, case.title)?;
    }
    writeln!(out, "{} cases", selected.len())?;
    Ok(Outcome::Passed)
}

/// The cases for `role` that the patterns select, in id order.
pub fn select(catalog: &Catalog, role: Role, patterns: &[String], exclude: &[String]) -> Result<Vec<Case>, String> {
    for pattern in patterns.iter().chain(exclude) {
        if !pattern.contains('*') && catalog.case(pattern).is_none() {
            return Err(format!("no case has the id `{pattern}` (use `*` for patterns, e.g. `{pattern}.*`)"));
        }
    }
    let selected: Vec<Case> = catalog
        .cases
        .iter()
        .filter(|c| c.applies_to(role))
        .filter(|c| patterns.is_empty() || patterns.iter().any(|p| case_matches(p, c.id.as_str())))
        .filter(|c| !exclude.iter().any(|p| case_matches(p, c.id.as_str())))
        .cloned()
        .collect();
    if selected.is_empty() {
        return Err("the case patterns select no case".into());
    }
    Ok(selected)
}
