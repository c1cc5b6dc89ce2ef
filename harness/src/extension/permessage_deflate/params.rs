//! The four permessage-deflate parameters (RFC 7692 §7.1) in an offer (client → server) and in a
//! response (server → client), read from a parsed extension element and written in the exact order
//! Autobahn|Testsuite writes them.

use std::fmt;

use crate::extension::header::ExtensionElement;

/// The extension token (RFC 7692 §5).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// An LZ77 window size as a base-2 logarithm: 8 to 15 (RFC 7692 §7.1.2.1), 2^N octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WindowBits(u8);

impl WindowBits {
    /// 15, the value an absent `*_max_window_bits` means (RFC 7692 §7.1.2).
    pub const MAX: WindowBits = WindowBits(15);
    /// 8, the smallest value the RFC allows, and one zlib cannot produce raw streams with.
    pub const MIN: WindowBits = WindowBits(8);

    /// `bits` if it lies in 8..=15.
    pub fn new(bits: u8) -> Option<Self> {
        (8..=15).contains(&bits).then_some(Self(bits))
    }

    /// `bits` for constant tables; panics (at compile time in a `const`) outside 8..=15.
    pub const fn from_const(bits: u8) -> Self {
        assert!(bits >= 8 && bits <= 15, "window bits are 8 to 15");
        Self(bits)
    }

    /// The base-2 logarithm of the window size.
    pub fn get(self) -> u8 {
        self.0
    }

    /// Reads a value as RFC 7692 §7.1.2.1 spells it: "a decimal integer value without leading
    /// zeroes between 8 to 15, inclusive". `08`, `+9`, `9.0`, `abc` and the empty string are not.
    pub fn parse(text: &str) -> Option<Self> {
        match text.as_bytes() {
            [digit @ b'8'..=b'9'] => Some(Self(digit - b'0')),
            [b'1', digit @ b'0'..=b'5'] => Some(Self(10 + digit - b'0')),
            _ => None,
        }
    }
}

impl fmt::Display for WindowBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `client_max_window_bits` in an offer: absent, present without a value (the client only says it
/// supports the parameter), or a limit (RFC 7692 §7.1.2.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientWindowOffer {
    /// Not offered: the server must not answer with `client_max_window_bits`.
    #[default]
    Absent,
    /// Offered without a value (Chrome's form).
    Supported,
    /// Offered with a value: a hint that the client will use at most that window.
    Limit(WindowBits),
}

/// A permessage-deflate offer, the parameters one element of a client's request carries
/// (RFC 7692 §7.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateOffer {
    /// `server_no_context_takeover`: asks the server to reset its compressor per message.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover`: the client says it will reset its compressor per message.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`: the largest window the server may compress with.
    pub server_max_window_bits: Option<WindowBits>,
    /// `client_max_window_bits[=N]`.
    pub client_max_window_bits: ClientWindowOffer,
}

/// A permessage-deflate response, the parameters the server accepted (RFC 7692 §7.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateResponse {
    /// `server_no_context_takeover`: the server resets its compressor per message.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover`: the client MUST reset its compressor per message.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`: the server compresses with at most 2^N.
    pub server_max_window_bits: Option<WindowBits>,
    /// `client_max_window_bits=N`: the client MUST compress with at most 2^N.
    pub client_max_window_bits: Option<WindowBits>,
}

/// Why a permessage-deflate element's parameters are not acceptable (RFC 7692 §7.1: a server MUST
/// decline such an offer, a client MUST fail the connection on such a response).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// A parameter RFC 7692 does not define.
    #[error("unknown parameter '{0}' (RFC 7692 §7.1)")]
    Unknown(String),
    /// A parameter given twice.
    #[error("parameter '{0}' appears more than once (RFC 7692 §7.1)")]
    Repeated(String),
    /// A value on a parameter that takes none (`server_no_context_takeover=1`).
    #[error("parameter '{name}' takes no value, got '{value}' (RFC 7692 §7.1.1)")]
    UnexpectedValue {
        /// The parameter.
        name: String,
        /// The value it carried.
        value: String,
    },
    /// A window-bits parameter without the value it needs here.
    #[error("parameter '{0}' needs a value (RFC 7692 §7.1.2)")]
    MissingValue(String),
    /// A window-bits value that is not 8..15 written without leading zeroes.
    #[error("parameter '{name}' has invalid value '{value}': must be 8 to 15 without leading zeroes (RFC 7692 §7.1.2)")]
    InvalidWindowBits {
        /// The parameter.
        name: String,
        /// The value as written.
        value: String,
    },
}

/// Which side wrote an element: the rules for `client_max_window_bits` differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Writer {
    Client,
    Server,
}

/// The parameters of one element after the checks both sides share.
#[derive(Default)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<WindowBits>,
    client_max_window_bits: Option<Option<WindowBits>>,
}

fn parse_params(element: &ExtensionElement, writer: Writer) -> Result<Parsed, ParamError> {
    let mut parsed = Parsed::default();
    let mut seen: Vec<&str> = Vec::with_capacity(element.params.len());
    for (name, value) in &element.params {
        if seen.contains(&name.as_str()) {
            return Err(ParamError::Repeated(name.clone()));
        }
        seen.push(name);
        let window = |value: &Option<String>| -> Result<Option<WindowBits>, ParamError> {
            match value {
                None => Ok(None),
                Some(text) => WindowBits::parse(text)
                    .map(Some)
                    .ok_or_else(|| ParamError::InvalidWindowBits { name: name.clone(), value: text.clone() }),
            }
        };
        let flag = |value: &Option<String>| match value {
            None => Ok(true),
            Some(value) => Err(ParamError::UnexpectedValue { name: name.clone(), value: value.clone() }),
        };
        match name.as_str() {
            "server_no_context_takeover" => parsed.server_no_context_takeover = flag(value)?,
            "client_no_context_takeover" => parsed.client_no_context_takeover = flag(value)?,
            "server_max_window_bits" => {
                parsed.server_max_window_bits = Some(window(value)?.ok_or_else(|| ParamError::MissingValue(name.clone()))?);
            }
            "client_max_window_bits" => {
                let bits = window(value)?;
                if writer == Writer::Server && bits.is_none() {
                    return Err(ParamError::MissingValue(name.clone()));
                }
                parsed.client_max_window_bits = Some(bits);
            }
            _ => return Err(ParamError::Unknown(name.clone())),
        }
    }
    Ok(parsed)
}

impl DeflateOffer {
    /// The offer Autobahn|Testsuite's fuzzing client sends (`PerMessageDeflateOffer`):
    /// `client_no_context_takeover` and a valueless `client_max_window_bits` always, plus the two
    /// server-side requests given.
    pub fn autobahn(server_no_context_takeover: bool, server_max_window_bits: Option<WindowBits>) -> Self {
        Self {
            server_no_context_takeover,
            client_no_context_takeover: true,
            server_max_window_bits,
            client_max_window_bits: ClientWindowOffer::Supported,
        }
    }

    /// Reads an offer from a `permessage-deflate` element of a request.
    ///
    /// # Errors
    /// [`ParamError`] for an unknown or repeated parameter or an invalid value (RFC 7692 §7.1).
    pub fn from_element(element: &ExtensionElement) -> Result<Self, ParamError> {
        let parsed = parse_params(element, Writer::Client)?;
        Ok(Self {
            server_no_context_takeover: parsed.server_no_context_takeover,
            client_no_context_takeover: parsed.client_no_context_takeover,
            server_max_window_bits: parsed.server_max_window_bits,
            client_max_window_bits: match parsed.client_max_window_bits {
                None => ClientWindowOffer::Absent,
                Some(None) => ClientWindowOffer::Supported,
                Some(Some(bits)) => ClientWindowOffer::Limit(bits),
            },
        })
    }
}

impl fmt::Display for DeflateOffer {
    /// Autobahn's order (`PerMessageDeflateOffer.getExtensionString`): `client_no_context_takeover`,
    /// `client_max_window_bits[=N]`, `server_no_context_takeover`, `server_max_window_bits=N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXTENSION_NAME)?;
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        match self.client_max_window_bits {
            ClientWindowOffer::Absent => {}
            ClientWindowOffer::Supported => f.write_str("; client_max_window_bits")?,
            ClientWindowOffer::Limit(bits) => write!(f, "; client_max_window_bits={bits}")?,
        }
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        Ok(())
    }
}

impl DeflateResponse {
    /// Reads a response from a `permessage-deflate` element of a 101 response. Only the rules that
    /// need no offer are checked here; see [`super::client::validate_response`] for the rest.
    ///
    /// # Errors
    /// [`ParamError`] for an unknown or repeated parameter, an invalid value, or a
    /// `client_max_window_bits` without a value (RFC 7692 §7.1.2.2).
    pub fn from_element(element: &ExtensionElement) -> Result<Self, ParamError> {
        let parsed = parse_params(element, Writer::Server)?;
        Ok(Self {
            server_no_context_takeover: parsed.server_no_context_takeover,
            client_no_context_takeover: parsed.client_no_context_takeover,
            server_max_window_bits: parsed.server_max_window_bits,
            client_max_window_bits: parsed.client_max_window_bits.flatten(),
        })
    }
}

impl fmt::Display for DeflateResponse {
    /// Autobahn's order (`PerMessageDeflateOfferAccept.getExtensionString`):
    /// `server_no_context_takeover`, `server_max_window_bits=N`, `client_no_context_takeover`,
    /// `client_max_window_bits=N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXTENSION_NAME)?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(bits) = self.client_max_window_bits {
            write!(f, "; client_max_window_bits={bits}")?;
        }
        Ok(())
    }
}

/// The parameters one direction of a connection compresses with, once negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectionParams {
    /// The compressor of this direction is reset after every message.
    pub no_context_takeover: bool,
    /// The largest LZ77 window this direction's compressor may use.
    pub max_window_bits: WindowBits,
}

impl Default for DirectionParams {
    fn default() -> Self {
        Self { no_context_takeover: false, max_window_bits: WindowBits::MAX }
    }
}

/// What a connection agreed on, per direction (RFC 7692 §7.1: absent window bits mean 15).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Agreed {
    /// Server-to-client messages.
    pub server: DirectionParams,
    /// Client-to-server messages.
    pub client: DirectionParams,
}

impl From<DeflateResponse> for Agreed {
    fn from(response: DeflateResponse) -> Self {
        Self {
            server: DirectionParams {
                no_context_takeover: response.server_no_context_takeover,
                max_window_bits: response.server_max_window_bits.unwrap_or(WindowBits::MAX),
            },
            client: DirectionParams {
                no_context_takeover: response.client_no_context_takeover,
                max_window_bits: response.client_max_window_bits.unwrap_or(WindowBits::MAX),
            },
        }
    }
}
