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

fn key(u: &mut Unstructured) -> Result<String> {
    Ok(if u.ratio(15, 16)? { u.choose(KEYS)?.to_string() } else { u.arbitrary()? })
}

fn string(u: &mut Unstructured) -> Result<String> {
    Ok(if u.ratio(3, 4)? { u.choose(WORDS)?.to_string() } else { u.arbitrary()? })
}

fn value(u: &mut Unstructured, depth: usize) -> Result<Value> {
    let kinds = if depth >= MAX_DEPTH { 4 } else { 6 };
    Ok(match u.choose_index(kinds)? {
        0 => Value::String(string(u)?),
        1 => Value::Integer(if u.ratio(3, 4)? { *u.choose(NUMBERS)? } else { u.arbitrary()? }),
        2 => Value::Boolean(u.arbitrary()?),
        3 => Value::Float(u.arbitrary()?),
        4 => Value::Array(array(u, depth + 1)?),
        _ => Value::Table(table(u, depth + 1)?),
    })
}

fn array(u: &mut Unstructured, depth: usize) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    u.arbitrary_loop(None, Some(8), |u| {
        items.push(value(u, depth)?);
        Ok(std::ops::ControlFlow::Continue(()))
    })?;
    Ok(items)
}

fn table(u: &mut Unstructured, depth: usize) -> Result<Table> {
    let mut table = Table::new();
    u.arbitrary_loop(None, Some(12), |u| {
        table.insert(key(u)?, value(u, depth)?);
        Ok(std::ops::ControlFlow::Continue(()))
    })?;
    Ok(table)
}

/// A file's root: usually a `[section]`, `[[case]]` tables and `[[family]]` tables (the shape of a
/// catalog file), their contents arbitrary.
fn root(u: &mut Unstructured) -> Result<Table> {
    let mut root = if u.ratio(1, 8)? { table(u, 0)? } else { Table::new() };
    if u.ratio(15, 16)? {
        let section = if u.ratio(7, 8)? { fields(u, &[("id", "1"), ("title", "t")])? } else { table(u, 1)? };
        root.insert("section".into(), Value::Table(section));
    }
    for name in ["case", "family"] {
        if u.arbitrary()? {
            let mut items = Vec::new();
            u.arbitrary_loop(None, Some(4), |u| {
                let required = [("id", "1.1"), ("title", "t"), ("rfc", "5.2"), ("level", "MUST"), ("requirement", "r")];
                let item = match (name, u.ratio(3, 4)?) {
                    ("case", true) => fields(u, &required)?,
                    ("family", true) => {
                        let mut family = Table::new();
                        family.insert("template".into(), Value::Table(fields(u, &required)?));
                        family.insert("params".into(), Value::Array(array(u, 1)?));
                        family
                    }
                    _ => table(u, 1)?,
                };
                items.push(Value::Table(item));
                Ok(std::ops::ControlFlow::Continue(()))
            })?;
            root.insert(name.into(), Value::Array(items));
        }
    }
    Ok(root)
}

/// A table with the given keys (each value a default or, now and then, arbitrary), then arbitrary
/// keys.
fn fields(u: &mut Unstructured, keys: &[(&str, &str)]) -> Result<Table> {
    let mut out = Table::new();
    for (key, default) in keys {
        let value = if u.ratio(7, 8)? { Value::String(default.to_string()) } else { value(u, 2)? };
        out.insert(key.to_string(), value);
    }
    out.extend(table(u, 2)?);
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Ok(root) = root(&mut Unstructured::new(data)) else { return };
    if let Err(e) = Catalog::from_tables([("fuzz.toml".to_string(), root)]) {
        assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
    }
});
