//! Loading the catalog and selecting cases, as every command that runs cases does.

use std::path::{Path, PathBuf};

use wsspec::catalog::{case_matches, names_autobahn_deflate, Case, Catalog, Patterns, Role};

use super::Outcome;

/// The options that choose which cases run and how long they may take.
#[derive(Debug, clap::Args)]
pub struct SelectionArgs {
    /// Cases to run (default: all): ids such as `6.4.3`, or patterns in which `*` matches any text,
    /// matched from the start of the id as Autobahn does (`6.4.*`, `9.*.1`, `1*` also selects 10.x).
    /// Each pattern must select a case, or the run exits 2.
    #[arg(long, num_args = 1.., value_name = "PATTERN")]
    pub cases: Vec<String>,
    /// Cases to leave out (same patterns; each must match a case of the catalog, of either mode, so
    /// one exclude list serves `wsspec server` and `wsspec client`; Autobahn's 12.x and 13.x are
    /// accepted even where the catalog lacks them).
    #[arg(long, num_args = 1.., value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Print the selected cases and run nothing.
    #[arg(long)]
    pub list: bool,
    /// Multiply every timeout and pause by this factor (0.01 to 100).
    #[arg(long, default_value_t = 1.0)]
    pub timeout_scale: f64,
    /// Load the catalog from this folder instead of the one built in.
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
}

impl SelectionArgs {
    /// Takes out the values of `--cases` and `--exclude` that are URLs: both take every value that
    /// follows them, so `wsspec server --cases 1.* ws://host:9001` gives them the URL too.
    pub fn take_urls(&mut self) -> Vec<String> {
        let mut urls = Vec::new();
        for list in [&mut self.cases, &mut self.exclude] {
            list.retain(|value| {
                let url = value.contains("://");
                if url {
                    urls.push(value.clone());
                }
                !url
            });
        }
        urls
    }
}

/// What a list of case patterns is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternUse {
    /// `cases`: the cases to run.
    Select,
    /// `exclude-cases`, `exclude-agent-cases`: the cases to leave out.
    Exclude,
}

/// Refuses the first pattern that selects no case for `role`, with a message naming it: a typo in
/// one pattern must not leave a run quietly smaller. An exclude pattern needs only match a case of
/// the catalog for either role (one exclude list serves both modes, as Autobahn's lists do), or
/// Autobahn's permessage-deflate cases (12.x, 13.x), which Autobahn spec files often exclude, even
/// where they select nothing (a `--catalog` without them).
pub fn check_patterns(catalog: &Catalog, role: Role, patterns: &[String], usage: PatternUse) -> Result<(), String> {
    patterns.iter().try_for_each(|pattern| check_pattern(catalog, role, pattern, usage))
}

fn check_pattern(catalog: &Catalog, role: Role, pattern: &str, usage: PatternUse) -> Result<(), String> {
    if pattern.contains("://") {
        return Err(format!("`{pattern}` is a URL, not a case pattern"));
    }
    let selects = |pattern: &str, role: Option<Role>| {
        catalog.cases.iter().any(|c| role.is_none_or(|r| c.applies_to(r)) && case_matches(pattern, c.id.as_str()))
    };
    let role_of_use = if usage == PatternUse::Exclude { None } else { Some(role) };
    if selects(pattern, role_of_use) || (usage == PatternUse::Exclude && names_autobahn_deflate(pattern)) {
        return Ok(());
    }
    let (what, verb) = match usage {
        PatternUse::Select => ("case pattern", "selects"),
        PatternUse::Exclude => ("exclude pattern", "matches"),
    };
    let (other, command) = match role {
        Role::Server => ("clients", "wsspec client"),
        Role::Client => ("servers", "wsspec server"),
    };
    if selects(pattern, None) {
        return Err(format!("the {what} `{pattern}` {verb} only cases for {other} (`{command}`)"));
    }
    if names_autobahn_deflate(pattern) {
        return Err(format!(
            "the {what} `{pattern}` {verb} only Autobahn's permessage-deflate cases (12.x, 13.x), which this catalog does not have"
        ));
    }
    if !pattern.contains('*') {
        let wider = format!("{pattern}.*");
        let hint = if selects(&wider, role_of_use) { format!(" (use `*` for patterns, e.g. `{wider}`)") } else { String::new() };
        return Err(format!("no case has the id `{pattern}`{hint}"));
    }
    let mut sections: Vec<&str> = Vec::new();
    for case in catalog.cases.iter().filter(|c| c.applies_to(role)) {
        let section = case.id.as_str().split('.').next().unwrap_or_default();
        if !sections.contains(&section) {
            sections.push(section);
        }
    }
    Err(format!("the {what} `{pattern}` {verb} no case (sections: {})", sections.join(", ")))
}

/// The built-in catalog, or the one in `dir`.
pub fn load_catalog(dir: Option<&Path>) -> Result<Catalog, String> {
    match dir {
        Some(dir) => Catalog::from_dir(dir),
        None => Catalog::embedded(),
    }
    .map_err(|e| format!("invalid case file: {e}"))
}

/// The range of `--timeout-scale`: wider would make every wait instant or overflow a `Duration`.
pub const TIMEOUT_SCALES: std::ops::RangeInclusive<f64> = 0.01..=100.0;

/// Refuses a `--timeout-scale` outside [`TIMEOUT_SCALES`] (or not a number).
pub fn check_timeout_scale(scale: f64) -> Result<(), String> {
    if TIMEOUT_SCALES.contains(&scale) {
        Ok(())
    } else {
        Err(format!("--timeout-scale {scale} must be from {} to {}", TIMEOUT_SCALES.start(), TIMEOUT_SCALES.end()))
    }
}

/// Prints the selection; a closed pipe (`| head`) is not an error.
pub fn list(selected: &[Case]) -> std::io::Result<Outcome> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for case in selected {
        writeln!(out, "{:<9} {:<6} {:<13} {}", case.id, case.level.as_str(), section_ref(&case.rfc), case.title)?;
    }
    writeln!(out, "{}", plural(selected.len(), "case"))?;
    Ok(Outcome::Passed)
}

/// `n thing` or `n things`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 { format!("1 {thing}") } else { format!("{n} {thing}s") }
}

/// A case's `rfc` field as a reference: `§5.2` for RFC 6455's sections, as given for another RFC
/// (`RFC 9112 3.2`).
pub fn section_ref(rfc: &str) -> String {
    if rfc.starts_with("RFC") { rfc.to_string() } else { format!("§{rfc}") }
}

/// The cases for `role` that every layer of patterns selects, in catalog order (see
/// `wsspec::catalog::select`). With a spec file, the command line is a second layer that narrows the
/// spec's selection; the narrowing is reported. Every pattern must select a case (see
/// [`check_patterns`]; the spec file's are checked when it is loaded), and a case pattern whose every
/// case the exclusions leave out is refused too. The narrowing counts only the cases that `runs`
/// (e.g. not the 22.x cases of a run without --http2, left out with a note of their own).
pub fn select(catalog: &Catalog, role: Role, spec: Option<Patterns>, args: &SelectionArgs, runs: impl Fn(&Case) -> bool) -> Result<Vec<Case>, String> {
    let command_line = Patterns { cases: args.cases.clone(), exclude: args.exclude.clone() };
    check_patterns(catalog, role, &command_line.cases, PatternUse::Select)?;
    check_patterns(catalog, role, &command_line.exclude, PatternUse::Exclude)?;
    let narrows = !command_line.cases.is_empty() || !command_line.exclude.is_empty();
    let layers: Vec<Patterns> = spec.iter().cloned().chain(narrows.then_some(command_line)).collect();
    let layers = if layers.is_empty() { vec![Patterns::default()] } else { layers };
    let disjoint = || {
        let without_excludes: Vec<Patterns> = layers.iter().map(|l| Patterns { cases: l.cases.clone(), exclude: Vec::new() }).collect();
        wsspec::catalog::select(catalog, role, &without_excludes).is_err()
    };
    let selected = wsspec::catalog::select(catalog, role, &layers).map_err(|e| match (&spec, narrows) {
        (Some(_), true) if e == wsspec::catalog::SelectError::Empty && disjoint() => {
            "the spec file's `cases` and --cases have no case in common".to_string()
        }
        (Some(_), true) => format!("--cases/--exclude within the spec file's selection: {e}"),
        (Some(_), false) => format!("the spec file: {e}"),
        (None, _) => e.to_string(),
    })?;
    for layer in layers.iter().filter(|l| !l.cases.is_empty()) {
        let of_layer = wsspec::catalog::select(catalog, role, std::slice::from_ref(layer)).unwrap_or_default();
        if let Some(pattern) = layer.cases.iter().find(|p| !of_layer.iter().any(|c| case_matches(p, c.id.as_str()))) {
            return Err(format!("the case pattern `{pattern}` selects only cases that the exclude patterns leave out"));
        }
    }
    if let (Some(spec), true) = (&spec, narrows) {
        let of_spec = wsspec::catalog::select(catalog, role, std::slice::from_ref(spec)).map_err(|e| format!("the spec file: {e}"))?;
        let count = |cases: &[Case]| cases.iter().filter(|c| runs(c)).count();
        say!("wsspec: --cases/--exclude narrow the spec file's selection: {} of its {} cases", count(&selected), count(&of_spec));
    }
    Ok(selected)
}
