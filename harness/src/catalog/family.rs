//! Families: one template and a parameter table make many numbered cases, so the catalog stays
//! short. Substitution works on the TOML tree, so a parameter keeps its type.

use std::collections::BTreeSet;

use toml::{Table, Value};

/// Fills `template` with `row`: a string that is exactly `{name}` becomes the value itself, and
/// `{name}` inside a longer string is interpolated. Every name used must be in the row and every key
/// of the row must be used.
pub fn instantiate(template: &Table, row: &Table) -> Result<Table, String> {
    let mut used = BTreeSet::new();
    let filled = substitute_table(template, row, &mut used)?;
    if let Some(unused) = row.keys().find(|k| !used.contains(k.as_str())) {
        return Err(format!("parameter `{unused}` is not used by the template"));
    }
    Ok(filled)
}

fn substitute_table(table: &Table, row: &Table, used: &mut BTreeSet<String>) -> Result<Table, String> {
    table.iter().map(|(k, v)| Ok((k.clone(), substitute(v, row, used)?))).collect()
}

fn substitute(value: &Value, row: &Table, used: &mut BTreeSet<String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => substitute_string(s, row, used)?,
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, row, used)).collect::<Result<_, _>>()?),
        Value::Table(t) => Value::Table(substitute_table(t, row, used)?),
        other => other.clone(),
    })
}

fn substitute_string(s: &str, row: &Table, used: &mut BTreeSet<String>) -> Result<Value, String> {
    let placeholders = placeholders(s);
    if let [(0, end, name)] = placeholders.as_slice() {
        if *end == s.len() {
            used.insert(name.to_string());
            return row.get(*name).cloned().ok_or_else(|| format!("parameter `{name}` is missing from the row"));
        }
    }
    let mut out = String::new();
    let mut last = 0;
    for (start, end, name) in placeholders {
        let value = row.get(name).ok_or_else(|| format!("parameter `{name}` is missing from the row"))?;
        used.insert(name.to_string());
        out.push_str(&s[last..start]);
        match value {
            Value::String(text) => out.push_str(text),
            Value::Integer(_) | Value::Float(_) | Value::Boolean(_) => out.push_str(&value.to_string()),
            _ => return Err(format!("parameter `{name}` is a table or array and cannot be put inside text")),
        }
        last = end;
    }
    out.push_str(&s[last..]);
    Ok(Value::String(out))
}

/// `{identifier}` spans in `s` as (start, end, name).
fn placeholders(s: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(open) = s[rest..].find('{').map(|i| rest + i) {
        let Some(close) = s[open..].find('}').map(|i| open + i) else { break };
        let name = &s[open + 1..close];
        let is_ident = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_ident {
            found.push((open, close + 1, name));
            rest = close + 1;
        } else {
            rest = open + 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    #[test]
    fn whole_values_keep_their_type_and_text_is_interpolated() {
        let template = table(r#"id = "1.1.{n}"
title = "length {len}"
payload = { pattern = "*", len = "{len}" }
json = '{"a": 1}'"#);
        let filled = instantiate(&template, &table("n = 3\nlen = 125")).unwrap();
        assert_eq!(filled["id"].as_str(), Some("1.1.3"));
        assert_eq!(filled["title"].as_str(), Some("length 125"));
        assert_eq!(filled["payload"]["len"].as_integer(), Some(125));
        assert_eq!(filled["json"].as_str(), Some(r#"{"a": 1}"#));
    }

    #[test]
    fn missing_and_unused_parameters_are_errors() {
        let template = table(r#"id = "1.{n}""#);
        assert!(instantiate(&template, &table("m = 1")).unwrap_err().contains("`n` is missing"));
        assert!(instantiate(&template, &table("n = 1\nm = 2")).unwrap_err().contains("`m` is not used"));
    }
}
