//! The catalog loader after the TOML parser: arbitrary bytes build a TOML tree (keys and values
//! drawn mostly from the case schema's own vocabulary, so deserialization, family expansion and the
//! checks are reached), and `Catalog::from_tables` must return a catalog or an error naming the
//! file, never a panic or an abort. `case_file` fuzzes the same loader from text; parsing TOML is
//! most of its time, so this target spends its executions on wsspec's own stage.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use toml::{Table, Value};
use wsspec::catalog::Catalog;

/// Every key the case schema knows, at any depth.
const KEYS: &[&str] = &[
    "accept", "add", "at", "await_message", "binary", "binary_len", "by", "case", "chop", "clean", "close",
    "code", "code_required", "codes", "compressed", "dataset", "declared_length", "deflate", "description",
    "drop_mid_message_fails", "events", "expect", "family", "fin", "frame", "frame_size", "frames", "grade",
    "handshake", "headers", "hex", "http2", "id", "informational", "len", "length_encoding", "level",
    "mark", "mask", "message", "method", "n", "names", "negotiation", "note", "offer", "opcode", "optional",
    "params", "pattern", "pattern_hex", "pause", "payload", "ping", "pong", "probe", "protocol", "random",
    "raw", "reason", "remove", "repeat", "request", "requirement", "reset", "response", "rfc", "roles",
    "rsv", "section", "seed", "set", "split", "status", "steps", "subsections", "target", "template",
    "text", "text_len", "then", "timeout", "times", "title", "tls", "version", "why", "write",
    "wrong_closer_fails", "wrong_code_fails",
];

/// Strings the schema gives a meaning to.
const WORDS: &[&str] = &[
    "1", "1.1", "1.{n}", "1.1.{n}", "{n}", "{len}", "6.4.3", "MUST", "SHOULD", "MAY", "OK", "NON-STRICT",
    "INFORMATIONAL", "server", "client", "wsspec", "peer", "text", "binary", "close", "ping", "pong",
    "continuation", "random", "none", "37fa213d", "minimal", "7", "16", "64", "0xffffffffffffffff",
    "together", "per-frame", "json", "bitmap", "prose", "html", "pdf", "*", "ce bae1", "Hello", "4xx",
    "400-499", "required", "decline", "optional", "fallback", "permessage-deflate",
    "permessage-deflate; client_max_window_bits", "server_no_context_takeover", "wrong-name", "expired",
    "unknown-issuer", "sni", "hold-response", "setting", "multiplex", "end-stream", "cancel", "lower",
    "upper", "Sec-WebSocket-Key", "{key}", "{accept}", "{host}", "GET", "HTTP/1.0", "5.2", "",
];

/// Integers at the schema's edges (lengths, limits, close codes, statuses).
const NUMBERS: &[i64] = &[
    0, 1, 2, 7, 8, 15, 16, 101, 125, 126, 127, 1000, 1002, 1005, 1007, 1011, 1015, 3000, 4999, 5000,
    65535, 65536, 1 << 20, 16 << 20, 64 << 20, (64 << 20) + 1, 100_000, 100_001, i64::MAX, -1,
];

const MAX_DEPTH: usize = 5;

/// The keys a table under `parent` has in the schema, so that most generated tables get past
/// `deny_unknown_fields` and reach the checks behind it.
fn vocabulary(parent: &str) -> &'static [&'static str] {
    match parent {
        "case" | "template" => &[
            "id", "title", "description", "rfc", "level", "requirement", "roles", "note", "timeout", "informational",
            "handshake", "deflate", "http2", "steps", "expect", "close", "tls",
        ],
        "steps" => &["frame", "frames", "message", "raw", "close", "pause", "write", "chop", "mark", "await_message", "repeat", "split"],
        "frame" | "frames" => &["opcode", "fin", "rsv", "mask", "payload", "length_encoding", "declared_length"],
        "message" => &["opcode", "payload", "frames", "frame_size", "compressed"],
        "payload" | "raw" | "reason" | "then" | "text" | "binary" | "ping" | "pong" => {
            &["text", "hex", "pattern", "pattern_hex", "len", "random", "seed", "dataset"]
        }
        "close" => &["code", "reason", "payload", "by", "codes", "clean", "wrong_closer_fails", "wrong_code_fails", "drop_mid_message_fails", "code_required"],
        "expect" => &["events", "grade", "why", "close"],
        "events" => &["text", "binary", "text_len", "binary_len", "ping", "pong", "mark", "times", "optional"],
        "split" => &["at", "pause", "mark"],
        "handshake" => &["request", "response", "status", "headers"],
        "request" | "response" => &["method", "target", "version", "status", "reason", "remove", "set", "add", "names", "chop", "then", "protocol"],
        "deflate" => &["offer", "negotiation", "accept", "response"],
        "http2" => &["probe", "request", "status", "reset"],
        "params" => &["n", "len"],
        "section" => &["id", "title", "subsections"],
        _ => KEYS,
    }
}

fn key(u: &mut Unstructured, parent: &str) -> Result<String> {
    Ok(match u.choose_index(16)? {
        0 => u.arbitrary()?,
        1 => u.choose(KEYS)?.to_string(),
        _ => u.choose(vocabulary(parent))?.to_string(),
    })
}

fn string(u: &mut Unstructured) -> Result<String> {
    Ok(if u.ratio(3, 4)? { u.choose(WORDS)?.to_string() } else { u.arbitrary()? })
}

/// A value under `key` (which decides the keys of a table inside it).
fn value(u: &mut Unstructured, depth: usize, key: &str) -> Result<Value> {
    let kinds = if depth >= MAX_DEPTH { 4 } else { 6 };
    Ok(match u.choose_index(kinds)? {
        0 => Value::String(string(u)?),
        1 => Value::Integer(if u.ratio(3, 4)? { *u.choose(NUMBERS)? } else { u.arbitrary()? }),
        2 => Value::Boolean(u.arbitrary()?),
        3 => Value::Float(u.arbitrary()?),
        4 => Value::Array(array(u, depth + 1, key)?),
        _ => Value::Table(table(u, depth + 1, key)?),
    })
}

fn array(u: &mut Unstructured, depth: usize, key: &str) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    u.arbitrary_loop(None, Some(8), |u| {
        items.push(value(u, depth, key)?);
        Ok(std::ops::ControlFlow::Continue(()))
    })?;
    Ok(items)
}

/// A table under `parent`.
fn table(u: &mut Unstructured, depth: usize, parent: &str) -> Result<Table> {
    let mut table = Table::new();
    u.arbitrary_loop(None, Some(12), |u| {
        let key = key(u, parent)?;
        let value = value(u, depth, &key)?;
        table.insert(key, value);
        Ok(std::ops::ControlFlow::Continue(()))
    })?;
    Ok(table)
}

/// A file's root: usually a `[section]`, `[[case]]` tables and `[[family]]` tables (the shape of a
/// catalog file), their contents arbitrary.
fn root(u: &mut Unstructured) -> Result<Table> {
    let mut root = if u.ratio(1, 8)? { table(u, 0, "")? } else { Table::new() };
    if u.ratio(15, 16)? {
        let section = if u.ratio(7, 8)? { fields(u, "section", &[("id", "1"), ("title", "t")])? } else { table(u, 1, "section")? };
        root.insert("section".into(), Value::Table(section));
    }
    for name in ["case", "family"] {
        if u.arbitrary()? {
            let mut items = Vec::new();
            u.arbitrary_loop(None, Some(4), |u| {
                let required = [("id", "1.1"), ("title", "t"), ("rfc", "5.2"), ("level", "MUST"), ("requirement", "r")];
                let item = match (name, u.ratio(3, 4)?) {
                    ("case", true) => fields(u, "case", &required)?,
                    ("family", true) => {
                        let mut family = Table::new();
                        family.insert("template".into(), Value::Table(fields(u, "template", &required)?));
                        family.insert("params".into(), Value::Array(array(u, 1, "params")?));
                        family
                    }
                    _ => table(u, 1, name)?,
                };
                items.push(Value::Table(item));
                Ok(std::ops::ControlFlow::Continue(()))
            })?;
            root.insert(name.into(), Value::Array(items));
        }
    }
    Ok(root)
}

/// A `parent` table with the given keys (each value a default or, now and then, arbitrary), then
/// arbitrary keys.
fn fields(u: &mut Unstructured, parent: &str, keys: &[(&str, &str)]) -> Result<Table> {
    let mut out = Table::new();
    for (key, default) in keys {
        let value = if u.ratio(7, 8)? { Value::String(default.to_string()) } else { value(u, 2, key)? };
        out.insert(key.to_string(), value);
    }
    out.extend(table(u, 2, parent)?);
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Ok(root) = root(&mut Unstructured::new(data)) else { return };
    if let Err(e) = Catalog::from_tables([("fuzz.toml".to_string(), root)]) {
        assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
    }
});
