//! Loading the catalog and selecting cases, as every command that runs cases does.

use std::path::{Path, PathBuf};

use wsspec::catalog::{Case, Catalog, Patterns, Role};

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

/// The cases for `role` that every layer of patterns selects, in catalog order (see
/// `wsspec::catalog::select`). With a spec file, the command line is a second layer that narrows the
/// spec's selection; the narrowing is reported.
pub fn select(catalog: &Catalog, role: Role, spec: Option<Patterns>, args: &SelectionArgs) -> Result<Vec<Case>, String> {
    let command_line = Patterns { cases: args.cases.clone(), exclude: args.exclude.clone() };
    let narrows = !command_line.cases.is_empty() || !command_line.exclude.is_empty();
    match spec {
        Some(spec) if narrows => {
            let of_spec = wsspec::catalog::select(catalog, role, std::slice::from_ref(&spec)).map_err(|e| format!("the spec file: {e}"))?;
            let selected = wsspec::catalog::select(catalog, role, &[spec, command_line])
                .map_err(|e| format!("--cases/--exclude within the spec file's selection: {e}"))?;
            eprintln!("wsspec: --cases/--exclude narrow the spec file's selection: {} of its {} cases", selected.len(), of_spec.len());
            Ok(selected)
        }
        Some(spec) => wsspec::catalog::select(catalog, role, &[spec]).map_err(|e| format!("the spec file: {e}")),
        None => wsspec::catalog::select(catalog, role, &[command_line]).map_err(|e| e.to_string()),
    }
}
