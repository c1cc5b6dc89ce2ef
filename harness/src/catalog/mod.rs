//! The catalog: sections of declarative cases loaded from TOML, with families expanded, every value
//! checked and errors that name the file, the case and the field.

mod case;
mod deflate;
mod family;
mod handshake;
mod http2;
mod payload;
mod select;

use std::{
    collections::{BTreeMap, HashMap},
    fmt, fs,
    io::Read,
    path::Path,
};

use serde::Deserialize;
use toml::{Table, Value};

pub use case::*;
pub use deflate::{DeflateDef, Negotiation};
pub use handshake::{HandshakeDef, HeadDef, NameCase, StatusSet};
pub use http2::{H2RequestDef, Http2Def, Probe};
pub use payload::{sha1_of, Payload, PayloadStream, MAX_PAYLOAD, STREAM_CHUNK};
pub use select::{case_matches, full_match, names_autobahn_deflate, select, AgentExclusions, Patterns, SelectError};

/// The largest case file read, in bytes (4 MiB: the built-in files are under 32 KiB, a fuzz-written
/// file of 16 frames of 64 KiB in hex about 2 MiB). A bigger one is refused before it is parsed, since
/// parsing costs up to about 100 bytes of memory per byte of a file of many tiny tables.
pub const MAX_FILE_BYTES: u64 = 4 << 20;
/// The most parameter rows a family may have, so the cases it expands to stay countable.
pub const MAX_FAMILY_ROWS: usize = 10_000;
/// The most cases a catalog may hold, all files together.
pub const MAX_CASES: usize = 100_000;
/// The most frames a `message` step may be cut into (`frames`, or the payload over `frame_size`).
pub const MAX_FRAGMENTS: usize = 1 << 20;
/// The most times a step may be repeated.
pub const MAX_REPEAT: u32 = 100_000;
/// The most bytes a case may send, all steps and repetitions together (256 MiB: the biggest
/// built-in case, 9.1.6, sends 16 MiB). Each of `MAX_PAYLOAD`, `MAX_FRAGMENTS` and `MAX_REPEAT`
/// bounds one factor; this bounds their product, so a case cannot make wsspec build gigabytes.
pub const MAX_CASE_BYTES: u64 = 256 << 20;
/// The longest pause of a step or of a split point, in seconds (before `--timeout-scale`).
pub const MAX_PAUSE: f64 = 600.0;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_cases.rs"));
}

/// A section of the catalog, one per file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The section number, written as a string (`"6"`) like case ids.
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub subsections: BTreeMap<String, String>,
}

/// All cases, sorted by id.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub sections: Vec<Section>,
    pub cases: Vec<Case>,
}

/// A catalog file that cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    pub file: String,
    pub case: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(case) = &self.case {
            write!(f, ": case {case}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Catalog {
    /// The catalog compiled into this binary.
    pub fn embedded() -> Result<Self, CatalogError> {
        Self::from_sources(Self::embedded_sources())
    }

    /// The files of the catalog compiled into this binary, by name (`cases/01-framing.toml`, …).
    pub fn embedded_sources() -> Vec<(String, String)> {
        embedded::FILES.iter().map(|(name, text)| (format!("cases/{name}"), text.to_string())).collect()
    }

    /// Every `*.toml` in `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self, CatalogError> {
        let unreadable = |message: String| CatalogError { file: dir.display().to_string(), case: None, field: None, message };
        let mut paths: Vec<_> = fs::read_dir(dir)
            .map_err(|e| unreadable(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(unreadable("no *.toml case files".into()));
        }
        let sources = paths
            .into_iter()
            .map(|p| {
                let text = read_case_file(&p)
                    .map_err(|message| CatalogError { file: p.display().to_string(), case: None, field: None, message })?;
                Ok((p.display().to_string(), text))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_sources(sources)
    }

    /// Loads named sources; names are used in errors.
    pub fn from_sources(sources: impl IntoIterator<Item = (String, String)>) -> Result<Self, CatalogError> {
        Self::from_loaded(sources.into_iter().map(|(file, text)| {
            let root = parse_file(&file, &text)?;
            Ok((load_table(&file, root)?, file))
        }))
    }

    /// Loads named files already parsed as TOML (the stage after parsing, for a caller holding
    /// tables rather than text, such as the structured fuzz target); names are used in errors.
    pub fn from_tables(sources: impl IntoIterator<Item = (String, Table)>) -> Result<Self, CatalogError> {
        Self::from_loaded(sources.into_iter().map(|(file, root)| Ok((load_table(&file, root)?, file))))
    }

    /// The catalog of loaded files: ids unique, in their file's section, at most `MAX_CASES`.
    fn from_loaded(loaded: impl Iterator<Item = Result<((Section, Vec<Case>), String), CatalogError>>) -> Result<Self, CatalogError> {
        let mut sections = Vec::new();
        let mut cases: Vec<Case> = Vec::new();
        // id → file that declared it: a linear duplicate check, whatever the catalog's size.
        let mut declared: HashMap<CaseId, String> = HashMap::new();
        for file_loaded in loaded {
            let ((section, file_cases), file) = file_loaded?;
            for case in file_cases {
                let err = |message: String| CatalogError { file: file.clone(), case: Some(case.id.to_string()), field: None, message };
                if case.id.section().to_string() != section.id {
                    return Err(err(format!("the id is outside this file's section {}", section.id)));
                }
                if let Some(other) = declared.get(&case.id) {
                    return Err(err(format!("duplicate id, also declared in {other}")));
                }
                if cases.len() == MAX_CASES {
                    return Err(err(format!("the catalog has more than {MAX_CASES} cases")));
                }
                declared.insert(case.id.clone(), file.clone());
                cases.push(case);
            }
            sections.push(section);
        }
        sections.sort_by_key(|s| s.id.parse::<u32>().unwrap_or(u32::MAX));
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self { sections, cases })
    }

    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.id.as_str() == id)
    }

    pub fn section(&self, id: u32) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id.to_string())
    }
}

fn parse_file(file: &str, text: &str) -> Result<Table, CatalogError> {
    text.parse()
        .map_err(|e: toml::de::Error| CatalogError { file: file.to_string(), case: None, field: None, message: e.to_string().trim_end().to_string() })
}

fn load_table(file: &str, mut root: Table) -> Result<(Section, Vec<Case>), CatalogError> {
    let err = |case: Option<String>, field: Option<String>, message: String| CatalogError { file: file.to_string(), case, field, message };
    let section_value = root.remove("section").ok_or_else(|| err(None, None, "missing [section] table".into()))?;
    let section: Section = deserialize(section_value).map_err(|(field, message)| err(None, Some(format!("section.{field}")), message))?;
    let mut cases = Vec::new();
    for (index, value) in take_array(&mut root, "case").map_err(|m| err(None, None, m))?.into_iter().enumerate() {
        let id = case_id_hint(&value).unwrap_or_else(|| format!("#{}", index + 1));
        cases.push(deserialize::<Case>(value).map_err(|(field, message)| err(Some(id), Some(field), message))?);
    }
    for (index, value) in take_array(&mut root, "family").map_err(|m| err(None, None, m))?.into_iter().enumerate() {
        let at = |field: &str| Some(format!("family[{index}].{field}"));
        let Value::Table(mut family) = value else { return Err(err(None, at(""), "a family is a table".into())) };
        let template = match family.remove("template") {
            Some(Value::Table(t)) => t,
            _ => return Err(err(None, at("template"), "missing template table".into())),
        };
        let params = take_array(&mut family, "params").map_err(|m| err(None, at("params"), m))?;
        if let Some(key) = family.keys().next() {
            return Err(err(None, at(key), "unknown key (a family has `template` and `params`)".into()));
        }
        if params.is_empty() {
            return Err(err(None, at("params"), "a family needs at least one parameter row".into()));
        }
        if params.len() > MAX_FAMILY_ROWS {
            let message = format!("{} parameter rows; a family expands to at most {MAX_FAMILY_ROWS} cases", params.len());
            return Err(err(None, at("params"), message));
        }
        for (row_index, row) in params.into_iter().enumerate() {
            let Value::Table(row) = row else { return Err(err(None, at(&format!("params[{row_index}]")), "a row is a table".into())) };
            let filled = family::instantiate(&template, &row).map_err(|m| err(None, at(&format!("params[{row_index}]")), m))?;
            let id = case_id_hint(&Value::Table(filled.clone())).unwrap_or_else(|| format!("family[{index}] row {row_index}"));
            cases.push(deserialize::<Case>(Value::Table(filled)).map_err(|(field, message)| err(Some(id), Some(field), message))?);
        }
    }
    if let Some(key) = root.keys().next() {
        return Err(err(None, Some(key.clone()), "unknown key (a file has [section], [[case]] and [[family]])".into()));
    }
    for case in &cases {
        check_case(case).map_err(|(field, message)| err(Some(case.id.to_string()), Some(field), message))?;
    }
    Ok((section, cases))
}

fn take_array(table: &mut Table, key: &str) -> Result<Vec<Value>, String> {
    match table.remove(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("`{key}` must be an array of tables")),
    }
}

fn case_id_hint(value: &Value) -> Option<String> {
    value.get("id")?.as_str().map(str::to_string)
}

/// Deserializes with the path of the failing field.
fn deserialize<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, (String, String)> {
    // The first line: toml appends the path again (`in `steps.frame.payload``), which the field names.
    serde_path_to_error::deserialize(value).map_err(|e| {
        let message = e.inner().to_string();
        (e.path().to_string(), message.lines().next().unwrap_or_default().to_string())
    })
}

/// Checks no deserializer can: frames whose length cannot be written as asked.
fn check_case(case: &Case) -> Result<(), (String, String)> {
    let ends_at_handshake = case.handshake.as_ref().is_some_and(|h| !h.may_open()) || case.http2.as_ref().is_some_and(|h| !h.runs_frames());
    if case.expect.is_empty() && !ends_at_handshake {
        return Err(("expect".into(), "at least one alternative is needed".into()));
    }
    if ends_at_handshake && !(case.expect.is_empty() && case.steps.is_empty()) {
        return Err(("handshake.status".into(), "a case that ends at the handshake (no 101 in `status`) has no `steps` or `expect`".into()));
    }
    if let Some(handshake) = &case.handshake {
        let only = |role: Role| case.roles == [role];
        if handshake.request.is_some() && !only(Role::Server) {
            return Err(("handshake.request".into(), "a crafted request tests servers: the case needs `roles = [\"server\"]`".into()));
        }
        if handshake.response.is_some() && !only(Role::Client) {
            return Err(("handshake.response".into(), "a crafted response tests clients: the case needs `roles = [\"client\"]`".into()));
        }
        if (!handshake.status.is_empty() || !handshake.headers.is_empty()) && !only(Role::Server) {
            return Err(("handshake.status".into(), "expected answers are a server's: the case needs `roles = [\"server\"]`".into()));
        }
        let heads = [&handshake.request, &handshake.response];
        if heads.iter().flat_map(|h| h.as_ref()).any(|h| h.chop == Some(0)) {
            return Err(("handshake".into(), "`chop` must be at least 1".into()));
        }
    }
    if case.tls.is_some() && case.roles != [Role::Client] {
        return Err(("roles".into(), "a case with a `tls` stimulus tests clients only: roles = [\"client\"]".into()));
    }
    if let Some(deflate) = &case.deflate {
        if case.roles.contains(&Role::Server) && deflate.offer.trim().is_empty() {
            return Err(("deflate.offer".into(), "a case that tests servers needs the offer wsspec sends".into()));
        }
        deflate.grants().map_err(|e| ("deflate.accept".into(), e))?;
        if deflate.response.is_some() && case.roles != [Role::Client] {
            return Err(("deflate.response".into(), "a crafted answer tests clients: the case needs `roles = [\"client\"]`".into()));
        }
        if deflate.negotiation != Negotiation::Required && case.roles != [Role::Server] {
            return Err(("deflate.negotiation".into(), "`decline` and `optional` judge a server's answer: the case needs `roles = [\"server\"]`".into()));
        }
    }
    let mut total: u64 = 0;
    for (i, step) in case.steps.iter().enumerate() {
        if step.repeat > MAX_REPEAT {
            return Err((format!("steps[{i}].repeat"), format!("{} is over the {MAX_REPEAT} repetitions a step may have", step.repeat)));
        }
        for (j, point) in step.split.iter().enumerate() {
            if !(point.pause.is_finite() && (0.0..=MAX_PAUSE).contains(&point.pause)) {
                return Err((format!("steps[{i}].split[{j}].pause"), format!("{:?} is not between 0 and {MAX_PAUSE} seconds", point.pause)));
            }
        }
        if let Action::Message(message) = &step.action {
            if message.compressed && case.deflate.is_none() {
                return Err((format!("steps[{i}].message.compressed"), "a compressed message needs the case's `deflate` table".into()));
            }
            if message.frames == Some(0) || message.frame_size == Some(0) {
                return Err((format!("steps[{i}].message"), "`frames` and `frame_size` must be at least 1".into()));
            }
            let count = fragment_count(message);
            if count > MAX_FRAGMENTS {
                return Err((format!("steps[{i}].message"), format!("{count} frames; a message is cut into at most {MAX_FRAGMENTS}")));
            }
        }
        if let Action::Frames(frames) = &step.action {
            for frame in frames {
                // Only the length decides; a payload of any declared size is not built to check it.
                let length = frame.declared_length.unwrap_or(frame.payload.len() as u64);
                let bare = FrameDef { payload: Payload::empty(), declared_length: Some(length), ..frame.clone() };
                bare.to_spec(Role::Client).check().map_err(|m| (format!("steps[{i}]"), m))?;
            }
        }
        // After the checks above: `fragment_count` needs a valid `frame_size`.
        total = total.saturating_add(step_bytes(step).saturating_mul(u64::from(step.repeat)));
        if total > MAX_CASE_BYTES {
            return Err((
                format!("steps[{i}]"),
                format!("the case sends over {MAX_CASE_BYTES} bytes by this step (payload × frames × repeat, all steps together)"),
            ));
        }
    }
    Ok(())
}

/// The bytes one repetition of `step` writes (at most 14 header bytes per frame), computed without
/// building them.
fn step_bytes(step: &Step) -> u64 {
    let frame = |payload: usize| payload as u64 + 14;
    match &step.action {
        Action::Frames(frames) => frames.iter().map(|f| frame(f.payload.len())).sum(),
        Action::Message(message) => message.payload.len() as u64 + 14 * fragment_count(message) as u64,
        Action::Raw(payload) => payload.len() as u64,
        Action::Close(close) => frame(close.payload.as_ref().or(close.reason.as_ref()).map_or(0, Payload::len) + 2),
        Action::Pause(_) => 0,
    }
}

/// How many frames `message` is cut into, computed without building them.
fn fragment_count(message: &MessageDef) -> usize {
    match (message.frames, message.frame_size) {
        (_, Some(size)) => message.payload.len().div_ceil(size).max(1),
        (Some(n), None) => n,
        (None, None) => 1,
    }
}

/// A case file's text: a regular file (a FIFO or a device would block or never end) of at most
/// `MAX_FILE_BYTES`, read with that cap even if it grows meanwhile.
fn read_case_file(path: &Path) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("{} bytes; a case file has at most {MAX_FILE_BYTES}", meta.len()));
    }
    let mut text = String::new();
    let file = fs::File::open(path).map_err(|e| e.to_string())?;
    file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text).map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("grew past {MAX_FILE_BYTES} bytes while being read"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests;
