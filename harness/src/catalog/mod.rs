//! The catalog: sections of declarative cases loaded from TOML, with families expanded, every value
//! checked and errors that name the file, the case and the field.

mod case;
mod family;
mod payload;
mod select;

use std::{collections::BTreeMap, fmt, fs, path::Path};

use serde::Deserialize;
use toml::{Table, Value};

pub use case::*;
pub use payload::{sha1_of, Payload};
pub use select::{case_matches, full_match};

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
                let text = fs::read_to_string(&p).map_err(|e| CatalogError {
                    file: p.display().to_string(),
                    case: None,
                    field: None,
                    message: e.to_string(),
                })?;
                Ok((p.display().to_string(), text))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_sources(sources)
    }

    /// Loads named sources; names are used in errors.
    pub fn from_sources(sources: impl IntoIterator<Item = (String, String)>) -> Result<Self, CatalogError> {
        let mut sections = Vec::new();
        let mut cases: Vec<(Case, String)> = Vec::new();
        for (file, text) in sources {
            let (section, file_cases) = load_file(&file, &text)?;
            for case in file_cases {
                let err = |message: String| CatalogError { file: file.clone(), case: Some(case.id.to_string()), field: None, message };
                if case.id.section().to_string() != section.id {
                    return Err(err(format!("the id is outside this file's section {}", section.id)));
                }
                if let Some((_, other)) = cases.iter().find(|(c, _)| c.id == case.id) {
                    return Err(err(format!("duplicate id, also declared in {other}")));
                }
                cases.push((case, file.clone()));
            }
            sections.push(section);
        }
        sections.sort_by_key(|s| s.id.parse::<u32>().unwrap_or(u32::MAX));
        let mut cases: Vec<Case> = cases.into_iter().map(|(c, _)| c).collect();
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

fn load_file(file: &str, text: &str) -> Result<(Section, Vec<Case>), CatalogError> {
    let err = |case: Option<String>, field: Option<String>, message: String| CatalogError { file: file.to_string(), case, field, message };
    let mut root: Table = text.parse().map_err(|e: toml::de::Error| err(None, None, e.to_string().trim_end().to_string()))?;
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
    serde_path_to_error::deserialize(value).map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
}

/// Checks no deserializer can: frames whose length cannot be written as asked.
fn check_case(case: &Case) -> Result<(), (String, String)> {
    if case.expect.is_empty() {
        return Err(("expect".into(), "at least one alternative is needed".into()));
    }
    if case.tls.is_some() && case.roles != [Role::Client] {
        return Err(("roles".into(), "a case with a `tls` stimulus tests clients only: roles = [\"client\"]".into()));
    }
    for (i, step) in case.steps.iter().enumerate() {
        if let Action::Frames(frames) = &step.action {
            for frame in frames {
                // Only the length decides; a payload of any declared size is not built to check it.
                let length = frame.declared_length.unwrap_or(frame.payload.len() as u64);
                let bare = FrameDef { payload: Payload::empty(), declared_length: Some(length), ..frame.clone() };
                bare.to_spec(Role::Client).check().map_err(|m| (format!("steps[{i}]"), m))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
