//! A case's opening handshake: how the request wsspec sends (testing a server) or the response it
//! answers with (testing a client) departs from the conforming one, and, testing a server, which
//! answers are correct. Applied to [`RequestSpec`] / [`ResponseSpec`], which can be wrong on purpose.

use std::ops::RangeInclusive;

use serde::{de, Deserialize, Deserializer};

use super::Payload;
use crate::handshake::{accept_key, random_key, Headers, RequestSpec, ResponseSpec};

/// The `handshake` table of a case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeDef {
    /// Changes to the request wsspec sends (server role).
    #[serde(default)]
    pub request: Option<HeadDef>,
    /// Changes to the 101 wsspec answers with (client role).
    #[serde(default)]
    pub response: Option<HeadDef>,
    /// The answers to the request that are correct (server role); without it only a 101. A set
    /// without 101 ends the case at the handshake.
    #[serde(default)]
    pub status: Vec<StatusSet>,
    /// Headers a correct answer carries, each `[name, token]`: the token must be one of the
    /// comma-separated elements of the value (`""`: the header is present).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// A status code or a range of them: `426`, `"4xx"`, `"400-499"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet(pub RangeInclusive<u16>);

impl<'de> Deserialize<'de> for StatusSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Code(u16),
            Text(String),
        }
        let bad = |text: &str| de::Error::custom(format!("status `{text}`: expected a code 100-599, \"4xx\" or \"400-499\""));
        let range = match Raw::deserialize(d).map_err(|_| bad("?"))? {
            Raw::Code(code) => code..=code,
            Raw::Text(text) => match (text.strip_suffix("xx").and_then(|c| c.parse::<u16>().ok()), text.split_once('-')) {
                (Some(class), _) => class * 100..=class * 100 + 99,
                (None, Some((a, b))) => match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                    (Ok(a), Ok(b)) if a <= b => a..=b,
                    _ => return Err(bad(&text)),
                },
                _ => return Err(bad(&text)),
            },
        };
        if *range.start() < 100 || *range.end() > 599 {
            return Err(de::Error::custom(format!("status {}-{} is outside 100-599", range.start(), range.end())));
        }
        Ok(Self(range))
    }
}

/// How a head departs from the conforming one. Header values may hold `{host}` (the target's
/// `Host` value), `{key}` (a fresh valid key) and `{accept}` (the `Sec-WebSocket-Accept` the
/// request's key asks for).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadDef {
    /// Request: the method (`POST`).
    pub method: Option<String>,
    /// Request: the target; response: unused.
    pub target: Option<String>,
    /// The protocol of the first line (`HTTP/1.0`).
    pub version: Option<String>,
    /// Response: the status code.
    pub status: Option<u16>,
    /// Response: the reason phrase (`""`: none).
    pub reason: Option<String>,
    /// Headers removed, by name (any case).
    #[serde(default)]
    pub remove: Vec<String>,
    /// `[name, value]`: each replaces the header's first line in place (spelled as given), or is
    /// appended.
    #[serde(default)]
    pub set: Vec<(String, String)>,
    /// `[name, value]`: lines appended, repeating a header already there.
    #[serde(default)]
    pub add: Vec<(String, String)>,
    /// Every header name rewritten: `"lower"`, `"upper"` or `"mixed"` (`hOsT`).
    pub names: Option<NameCase>,
    /// Bytes per write call (`1`: one byte per write).
    pub chop: Option<usize>,
    /// Bytes written right behind the head in the same write (a frame with the 101).
    pub then: Option<Payload>,
}

/// How header names are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameCase {
    Lower,
    Upper,
    Mixed,
}

impl HeadDef {
    fn edit_headers(&self, headers: &mut Headers, fill: &dyn Fn(&str) -> String) {
        for name in &self.remove {
            headers.remove(name);
        }
        for (name, value) in &self.set {
            headers.set(name, &fill(value));
        }
        for (name, value) in &self.add {
            headers.add(name, &fill(value));
        }
        if let Some(case) = self.names {
            for (name, _) in &mut headers.0 {
                *name = match case {
                    NameCase::Lower => name.to_ascii_lowercase(),
                    NameCase::Upper => name.to_ascii_uppercase(),
                    NameCase::Mixed => name
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i % 2 == 0 { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() })
                        .collect(),
                };
            }
        }
    }

    /// The request to send: `base` changed as this says.
    pub fn request(&self, mut base: RequestSpec) -> RequestSpec {
        let host = base.headers.get("Host").unwrap_or_default().to_string();
        let fill = |value: &str| value.replace("{host}", &host).replace("{key}", &random_key());
        self.edit_headers(&mut base.headers, &fill);
        base.method = self.method.clone().unwrap_or(base.method);
        base.target = self.target.clone().unwrap_or(base.target);
        base.version = self.version.clone().unwrap_or(base.version);
        base.chop = self.chop;
        base.trailer = self.then.as_ref().map(Payload::bytes).unwrap_or_default();
        base
    }

    /// The answer to a request with `key`: the conforming 101 changed as this says.
    pub fn response(&self, key: &str) -> ResponseSpec {
        let mut base = ResponseSpec::switching_protocols(key);
        let accept = accept_key(key);
        let fill = |value: &str| value.replace("{accept}", &accept).replace("{key}", &random_key());
        self.edit_headers(&mut base.headers, &fill);
        base.version = self.version.clone().unwrap_or(base.version);
        base.status = self.status.unwrap_or(base.status);
        base.reason = self.reason.clone().unwrap_or(base.reason);
        base.chop = self.chop;
        base.trailer = self.then.as_ref().map(Payload::bytes).unwrap_or_default();
        base
    }
}

impl HandshakeDef {
    /// Whether a 101 is among the correct answers (always, without a `status` list).
    pub fn may_open(&self) -> bool {
        self.status.is_empty() || self.status.iter().any(|s| s.0.contains(&101))
    }
}
