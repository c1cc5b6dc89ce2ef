//! A case as the catalog declares it: who it applies to, the requirement it checks, the script of
//! steps and the graded expectations. Deserialized straight from TOML with every value checked.

use std::{cmp::Ordering, fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer};

use super::payload::{parse_hex, Payload};
use crate::frame::{CloseCode, FrameSpec, LengthEncoding, OpCode};

/// A dotted case id such as `6.4.3`, ordered as a tuple of numbers (`1.2` < `1.10`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseId {
    text: String,
    parts: Vec<u32>,
}

impl CaseId {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn parts(&self) -> &[u32] {
        &self.parts
    }

    /// The section: the first number.
    pub fn section(&self) -> u32 {
        self.parts[0]
    }
}

impl FromStr for CaseId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Option<Vec<u32>> = s.split('.').map(|p| p.parse().ok().filter(|_| !p.starts_with('+'))).collect();
        match parts {
            Some(parts) if !parts.is_empty() => Ok(Self { text: s.to_string(), parts }),
            _ => Err(format!("`{s}` is not a case id (dotted numbers like 6.4.3)")),
        }
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.text)
    }
}

impl Ord for CaseId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl PartialOrd for CaseId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<'de> Deserialize<'de> for CaseId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

/// The strength of the requirement a case checks (RFC 2119).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::May => "MAY",
        }
    }
}

/// Which kind of target a case tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// wsspec is the client, testing a server.
    Server,
    /// wsspec is the server, testing a client.
    Client,
}

/// The grade an alternative gives when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Grade {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "NON-STRICT")]
    NonStrict,
    #[serde(rename = "INFORMATIONAL")]
    Informational,
}

/// One conformance case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: CaseId,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub rfc: String,
    pub level: Level,
    pub requirement: String,
    #[serde(default = "both_roles")]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default = "one_second", deserialize_with = "positive_seconds")]
    pub timeout: f64,
    #[serde(default)]
    pub informational: bool,
    /// How the opening handshake departs from the conforming one, and the answers expected. Boxed,
    /// as `http2`: few cases have one, and every copy of every case would hold its room (half a
    /// kilobyte).
    #[serde(default)]
    pub handshake: Option<Box<super::HandshakeDef>>,
    /// The permessage-deflate offer and what its negotiation must come to (RFC 7692).
    #[serde(default)]
    pub deflate: Option<super::DeflateDef>,
    /// Section 22: the case tests WebSocket over HTTP/2 (RFC 8441) and runs only over it.
    #[serde(default)]
    pub http2: Option<Box<super::Http2Def>>,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Empty only for a case that ends at the handshake.
    #[serde(default)]
    pub expect: Vec<Alternative>,
    #[serde(default)]
    pub close: CloseExpectation,
    /// A TLS stimulus (the TLS section): the case runs only against clients over TLS.
    #[serde(default)]
    pub tls: Option<TlsStimulus>,
}

/// What the TLS section does to a client's connection (RFC 6455 §4.1 step 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsStimulus {
    /// Present a certificate, signed by the trusted CA, for another name.
    WrongName,
    /// Present an expired certificate, signed by the trusted CA, for the right name.
    Expired,
    /// Present a valid certificate for the right name from an issuer the client does not trust.
    UnknownIssuer,
    /// Play the case normally; the client's ClientHello must indicate the URL's host (SNI).
    Sni,
    /// Hold the opening handshake response back; the client must send nothing meanwhile.
    HoldResponse,
}

impl TlsStimulus {
    /// A bad certificate the client must refuse.
    pub fn is_certificate(self) -> bool {
        matches!(self, Self::WrongName | Self::Expired | Self::UnknownIssuer)
    }
}

impl Case {
    pub fn description(&self) -> &str {
        self.description.as_deref().unwrap_or(&self.title)
    }

    pub fn applies_to(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the case runs over the transport: section 22 (`http2`) over HTTP/2 only, the
    /// HTTP/1.1 opening handshake (`handshake`) and permessage-deflate (`deflate`, not negotiated
    /// over HTTP/2 yet) over HTTP/1.1 only, frame cases over both.
    pub fn runs_over_http2(&self, http2: bool) -> bool {
        if http2 { self.handshake.is_none() && self.deflate.is_none() } else { self.http2.is_none() }
    }

    /// The closing expected with an alternative.
    pub fn close_for<'a>(&'a self, alternative: &'a Alternative) -> &'a CloseExpectation {
        alternative.close.as_ref().unwrap_or(&self.close)
    }
}

fn both_roles() -> Vec<Role> {
    vec![Role::Server, Role::Client]
}

fn one_second() -> f64 {
    1.0
}

fn positive_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v > 0.0 && v <= 3600.0 {
        Ok(v)
    } else {
        Err(de::Error::custom(format!("{v} is not a duration in seconds between 0 and 3600")))
    }
}

/// One step of a case's script.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "StepTable")]
pub struct Step {
    pub action: Action,
    pub write: WriteMode,
    pub mark: Option<String>,
    pub await_message: bool,
    pub repeat: u32,
    pub split: Vec<SplitPoint>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    Frames(Vec<FrameDef>),
    Message(MessageDef),
    Raw(Payload),
    Close(CloseDef),
    Pause(f64),
}

/// How a step's bytes reach the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Together,
    PerFrame,
    Chop(usize),
}

/// Where a frame written in parts is cut, and what happens after the part.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitPoint {
    pub at: usize,
    #[serde(default)]
    pub pause: f64,
    #[serde(default)]
    pub mark: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepTable {
    frame: Option<FrameDef>,
    frames: Option<Vec<FrameDef>>,
    message: Option<MessageDef>,
    raw: Option<Payload>,
    close: Option<CloseDef>,
    pause: Option<f64>,
    write: Option<String>,
    chop: Option<usize>,
    mark: Option<String>,
    #[serde(default)]
    await_message: bool,
    repeat: Option<u32>,
    #[serde(default)]
    split: Vec<SplitPoint>,
}

impl TryFrom<StepTable> for Step {
    type Error = String;

    fn try_from(t: StepTable) -> Result<Self, String> {
        let actions = [t.frame.is_some(), t.frames.is_some(), t.message.is_some(), t.raw.is_some(), t.close.is_some(), t.pause.is_some()];
        if actions.iter().filter(|a| **a).count() != 1 {
            return Err("a step has exactly one of `frame`, `frames`, `message`, `raw`, `close`, `pause`".into());
        }
        let action = if let Some(frame) = t.frame {
            Action::Frames(vec![frame])
        } else if let Some(frames) = t.frames {
            if frames.is_empty() {
                return Err("`frames` is empty".into());
            }
            Action::Frames(frames)
        } else if let Some(message) = t.message {
            Action::Message(message)
        } else if let Some(raw) = t.raw {
            Action::Raw(raw)
        } else if let Some(close) = t.close {
            Action::Close(close)
        } else {
            let seconds = t.pause.unwrap_or_default();
            if !(seconds.is_finite() && (0.0..=super::MAX_PAUSE).contains(&seconds)) {
                return Err(format!("pause {seconds} is not between 0 and {} seconds", super::MAX_PAUSE));
            }
            Action::Pause(seconds)
        };
        let write = match (t.write.as_deref(), t.chop) {
            (_, Some(0)) => return Err("`chop` must be at least 1".into()),
            (Some(_), Some(_)) => return Err("use `write` or `chop`, not both".into()),
            (None, Some(k)) => WriteMode::Chop(k),
            (None | Some("together"), None) => WriteMode::Together,
            (Some("per-frame"), None) => WriteMode::PerFrame,
            (Some(other), None) => return Err(format!("`write = \"{other}\"`: expected \"together\" or \"per-frame\"")),
        };
        if t.mark.is_some() && !matches!(action, Action::Pause(_)) {
            return Err("`mark` goes with `pause`".into());
        }
        if !t.split.is_empty() {
            let Action::Frames(frames) = &action else { return Err("`split` goes with `frame`".into()) };
            let len = frames.iter().map(|f| f.payload.len()).sum::<usize>();
            if frames.len() != 1 || t.split.windows(2).any(|w| w[0].at >= w[1].at) || t.split.iter().any(|s| s.at > len) {
                return Err("`split` needs one `frame` and increasing offsets within its payload".into());
            }
        }
        Ok(Step {
            action,
            write,
            mark: t.mark,
            await_message: t.await_message,
            repeat: t.repeat.unwrap_or(1).max(1),
            split: t.split,
        })
    }
}

/// A frame as the catalog declares it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameDef {
    #[serde(deserialize_with = "opcode")]
    pub opcode: OpCode,
    #[serde(default = "yes")]
    pub fin: bool,
    #[serde(default, deserialize_with = "rsv")]
    pub rsv: u8,
    #[serde(default)]
    pub mask: MaskDef,
    #[serde(default = "Payload::empty")]
    pub payload: Payload,
    #[serde(default, deserialize_with = "length_encoding")]
    pub length_encoding: LengthEncoding,
    #[serde(default, deserialize_with = "declared_length")]
    pub declared_length: Option<u64>,
}

impl FrameDef {
    pub fn new(opcode: OpCode, payload: Payload) -> Self {
        Self {
            opcode,
            fin: true,
            rsv: 0,
            mask: MaskDef::RoleDefault,
            payload,
            length_encoding: LengthEncoding::Minimal,
            declared_length: None,
        }
    }

    /// The wire frame, with a mask key chosen for `role` unless the case fixes one.
    pub fn to_spec(&self, role: Role) -> FrameSpec {
        FrameSpec { declared_length: self.declared_length, payload: self.payload.bytes(), ..self.header_spec(role) }
    }

    /// The wire frame without its payload, for a frame whose payload is generated as it is
    /// written: `declared_length` always set (to the payload's length unless the case makes it
    /// lie), so the header encodes as the whole frame's would.
    pub fn header_spec(&self, role: Role) -> FrameSpec {
        let mask = match (&self.mask, role) {
            (MaskDef::None, _) | (MaskDef::RoleDefault, Role::Client) => None,
            (MaskDef::Key(key), _) => Some(*key),
            (MaskDef::Random, _) | (MaskDef::RoleDefault, Role::Server) => Some(rand::random()),
        };
        FrameSpec {
            fin: self.fin,
            rsv: self.rsv,
            opcode: self.opcode,
            mask,
            length_encoding: self.length_encoding,
            declared_length: Some(self.declared_length.unwrap_or(self.payload.len() as u64)),
            payload: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// The masking a frame asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MaskDef {
    /// Masked with a fresh key when wsspec is the client, unmasked when it is the server (§5.1).
    #[default]
    RoleDefault,
    Random,
    None,
    Key([u8; 4]),
}

impl<'de> Deserialize<'de> for MaskDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.as_str() {
            "random" => Ok(Self::Random),
            "none" => Ok(Self::None),
            hex if hex.len() == 8 => parse_hex(hex)
                .map(|b| Self::Key([b[0], b[1], b[2], b[3]]))
                .map_err(de::Error::custom),
            other => Err(de::Error::custom(format!("mask `{other}`: expected \"random\", \"none\" or 8 hex digits"))),
        }
    }
}

fn opcode<'de, D: Deserializer<'de>>(d: D) -> Result<OpCode, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Name(String),
    }
    match Raw::deserialize(d).map_err(|_| de::Error::custom("opcode: expected a name or an integer 0-15"))? {
        Raw::Number(n @ 0..=15) => Ok(OpCode::from_u8(n as u8)),
        Raw::Number(n) => Err(de::Error::custom(format!("opcode {n} is not within 0-15"))),
        Raw::Name(name) => OpCode::from_name(&name).ok_or_else(|| {
            de::Error::custom(format!("opcode `{name}`: expected continuation, text, binary, close, ping, pong or 0-15"))
        }),
    }
}

fn rsv<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    match u8::deserialize(d)? {
        v @ 0..=7 => Ok(v),
        v => Err(de::Error::custom(format!("rsv {v} is not within 0-7"))),
    }
}

fn length_encoding<'de, D: Deserializer<'de>>(d: D) -> Result<LengthEncoding, D::Error> {
    match String::deserialize(d)?.as_str() {
        "minimal" => Ok(LengthEncoding::Minimal),
        "7" => Ok(LengthEncoding::Bits7),
        "16" => Ok(LengthEncoding::Bits16),
        "64" => Ok(LengthEncoding::Bits64),
        other => Err(de::Error::custom(format!("length_encoding `{other}`: expected \"minimal\", \"7\", \"16\" or \"64\""))),
    }
}

fn declared_length<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    let parsed = match Raw::deserialize(d).map_err(|_| de::Error::custom("declared_length: expected a non-negative integer or a string"))? {
        Raw::Number(n) => Some(n),
        Raw::Text(t) => match t.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => t.parse().ok(),
        },
    };
    parsed.map(Some).ok_or_else(|| de::Error::custom("declared_length: not a 64-bit unsigned number"))
}

/// A message sent as several frames.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageDef {
    #[serde(deserialize_with = "opcode")]
    pub opcode: OpCode,
    #[serde(default = "Payload::empty")]
    pub payload: Payload,
    pub frames: Option<usize>,
    pub frame_size: Option<usize>,
    /// Compressed whole with the negotiated permessage-deflate (RFC 7692 §7.2.1), then cut into
    /// frames (`frames`, `frame_size` count compressed octets), RSV1 on the first frame only.
    #[serde(default)]
    pub compressed: bool,
}

impl MessageDef {
    /// The payload ranges of each frame.
    pub fn fragments(&self) -> Vec<std::ops::Range<usize>> {
        self.fragments_of(self.payload.len())
    }

    /// The ranges of each frame of a payload of `len` octets (a compressed one, a data set slice).
    pub fn fragments_of(&self, len: usize) -> Vec<std::ops::Range<usize>> {
        (0..self.fragment_count(len)).map(|i| self.fragment(i, len)).collect()
    }

    /// How many frames a payload of `len` octets is sent in.
    pub fn fragment_count(&self, len: usize) -> usize {
        match (self.frames, self.frame_size) {
            (_, Some(size)) => len.div_ceil(size).max(1),
            (Some(n), _) => n,
            (None, None) => 1,
        }
    }

    /// The range of frame `i` (below [`Self::fragment_count`]) of a payload of `len` octets.
    pub fn fragment(&self, i: usize, len: usize) -> std::ops::Range<usize> {
        match (self.frames, self.frame_size) {
            (_, Some(size)) => i * size..((i + 1) * size).min(len),
            (Some(n), _) => i * len / n..(i + 1) * len / n,
            (None, None) => 0..len,
        }
    }
}

/// A close frame by its parts, or by its whole payload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseDef {
    pub code: Option<u16>,
    pub reason: Option<Payload>,
    pub payload: Option<Payload>,
}

impl CloseDef {
    pub fn payload(&self) -> Vec<u8> {
        if let Some(payload) = &self.payload {
            return payload.bytes();
        }
        let mut out = Vec::new();
        if let Some(code) = self.code {
            out.extend_from_slice(&code.to_be_bytes());
        }
        if let Some(reason) = &self.reason {
            out.extend(reason.bytes());
        }
        out
    }
}

/// One graded alternative of what the target may do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    pub events: Vec<EventPattern>,
    #[serde(default = "ok_grade")]
    pub grade: Grade,
    #[serde(default)]
    pub why: Option<String>,
    #[serde(default)]
    pub close: Option<CloseExpectation>,
}

fn ok_grade() -> Grade {
    Grade::Ok
}

/// The most repetitions an expected event may declare.
const MAX_TIMES: u32 = 100_000;

/// An expected event with its repetition.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "EventTable")]
pub struct EventPattern {
    pub kind: EventKind,
    pub times: u32,
    pub optional: bool,
}

/// What an expected event matches.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    Text(Payload),
    Binary(Payload),
    TextLen(usize),
    BinaryLen(usize),
    Ping(Payload),
    Pong(Payload),
    Mark(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventTable {
    text: Option<Payload>,
    binary: Option<Payload>,
    text_len: Option<usize>,
    binary_len: Option<usize>,
    ping: Option<Payload>,
    pong: Option<Payload>,
    mark: Option<String>,
    times: Option<u32>,
    #[serde(default)]
    optional: bool,
}

impl TryFrom<EventTable> for EventPattern {
    type Error = String;

    fn try_from(t: EventTable) -> Result<Self, String> {
        let kinds = [
            t.text.map(EventKind::Text),
            t.binary.map(EventKind::Binary),
            t.text_len.map(EventKind::TextLen),
            t.binary_len.map(EventKind::BinaryLen),
            t.ping.map(EventKind::Ping),
            t.pong.map(EventKind::Pong),
            t.mark.map(EventKind::Mark),
        ];
        let mut kinds = kinds.into_iter().flatten();
        match (kinds.next(), kinds.next()) {
            // A bound on `times` keeps a hostile case file from making the matcher allocate billions.
            (Some(_), None) if t.times.is_some_and(|n| n == 0 || n > MAX_TIMES) => {
                Err(format!("`times` must be between 1 and {MAX_TIMES}"))
            }
            (Some(kind), None) => Ok(Self { kind, times: t.times.unwrap_or(1), optional: t.optional }),
            _ => Err("an event has exactly one of `text`, `binary`, `text_len`, `binary_len`, `ping`, `pong`, `mark`".into()),
        }
    }
}

/// Who must close, and how.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "CloseTable")]
pub struct CloseExpectation {
    pub by: Closer,
    pub codes: Vec<CloseCode>,
    pub clean: bool,
    pub wrong_closer_fails: bool,
    pub wrong_code_fails: bool,
    /// A TCP drop without a close frame after the target sent part of a message makes `behavior`
    /// FAILED: the target crashed mid-echo, it did not refuse the message (9.x).
    pub drop_mid_message_fails: bool,
    /// A close frame without a status code is NON-STRICT: failing the connection, the target
    /// SHOULD send an appropriate code (§7.1.7), and without one it cannot be told from a target
    /// that accepted what it had to refuse.
    pub code_required: bool,
}

impl Default for CloseExpectation {
    fn default() -> Self {
        Self {
            by: Closer::Wsspec,
            codes: vec![CloseCode::NORMAL],
            clean: true,
            wrong_closer_fails: false,
            wrong_code_fails: false,
            drop_mid_message_fails: false,
            code_required: false,
        }
    }
}

/// The endpoint expected to start the closing (Autobahn's `closedByMe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Closer {
    Wsspec,
    Peer,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseTable {
    #[serde(default = "wsspec_closes")]
    by: Closer,
    #[serde(default = "normal_only")]
    codes: Vec<u16>,
    clean: Option<bool>,
    #[serde(default)]
    wrong_closer_fails: bool,
    #[serde(default)]
    wrong_code_fails: bool,
    #[serde(default)]
    drop_mid_message_fails: bool,
    #[serde(default)]
    code_required: bool,
}

fn wsspec_closes() -> Closer {
    Closer::Wsspec
}

fn normal_only() -> Vec<u16> {
    vec![1000]
}

impl TryFrom<CloseTable> for CloseExpectation {
    type Error = String;

    fn try_from(t: CloseTable) -> Result<Self, String> {
        if t.codes.is_empty() {
            return Err("`codes` lists at least one close code".into());
        }
        Ok(Self {
            by: t.by,
            codes: t.codes.into_iter().map(CloseCode).collect(),
            clean: t.clean.unwrap_or(t.by == Closer::Wsspec),
            wrong_closer_fails: t.wrong_closer_fails,
            wrong_code_fails: t.wrong_code_fails,
            drop_mid_message_fails: t.drop_mid_message_fails,
            code_required: t.code_required,
        })
    }
}
