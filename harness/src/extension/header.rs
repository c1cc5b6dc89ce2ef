//! The `Sec-WebSocket-Extensions` header grammar (RFC 6455 §9.1):
//!
//! ```text
//! extension-list = 1#extension
//! extension      = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! A quoted value must be a token once unescaped (§9.1). Several header lines are one list (RFC 6455
//! §11.3.2: the header "MAY appear multiple times in an HTTP request"), so [`parse_lines`] joins them.
//! Names and values are kept as written: what a parameter means is the extension's business.

use std::fmt;

/// One element of an extension list: an extension name and its parameters, in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionElement {
    /// The extension token, e.g. `permessage-deflate`.
    pub name: String,
    /// Each parameter's name and its value (unquoted), `None` for a parameter without `=`.
    pub params: Vec<(String, Option<String>)>,
}

/// Why a `Sec-WebSocket-Extensions` value does not follow RFC 6455 §9.1; `at` is the byte offset
/// into the (joined) value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Sec-WebSocket-Extensions, byte {at}: {kind}")]
pub struct HeaderError {
    /// Byte offset of the problem in the value.
    pub at: usize,
    /// What is wrong there.
    pub kind: HeaderErrorKind,
}

/// The ways an extension list can break the §9.1 grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderErrorKind {
    /// An extension name or parameter name (a token) was expected.
    ExpectedToken,
    /// After `=`, neither a token nor a quoted-string.
    ExpectedValue,
    /// A quoted-string without its closing `"`.
    UnterminatedQuote,
    /// A quoted value that is not a token once unescaped (§9.1 requires it).
    QuotedValueNotToken,
    /// Something other than `;`, `,` or the end after an element or parameter.
    ExpectedSeparator,
    /// The list holds no extension at all (`1#extension` needs one).
    Empty,
}

impl fmt::Display for HeaderErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ExpectedToken => "expected a token (RFC 6455 §9.1)",
            Self::ExpectedValue => "expected a token or a quoted-string after '=' (RFC 6455 §9.1)",
            Self::UnterminatedQuote => "quoted-string without its closing '\"'",
            Self::QuotedValueNotToken => "a quoted value must be a token once unescaped (RFC 6455 §9.1)",
            Self::ExpectedSeparator => "expected ';', ',' or the end",
            Self::Empty => "no extension in the list",
        })
    }
}

/// `tchar` of RFC 7230 §3.2.6, the characters of a token.
pub fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Parses one `Sec-WebSocket-Extensions` value into its elements. Empty list elements (`a, , b`) are
/// skipped, as RFC 7230 §7 asks of a recipient; a list with no element at all is an error.
///
/// # Errors
/// [`HeaderError`] naming the first byte that breaks the grammar.
pub fn parse(value: &str) -> Result<Vec<ExtensionElement>, HeaderError> {
    let mut cursor = Cursor { bytes: value.as_bytes(), at: 0 };
    let mut elements = Vec::new();
    loop {
        cursor.skip_ows();
        match cursor.peek() {
            None => break,
            Some(b',') => {
                cursor.at += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = cursor.token()?;
        let mut params = Vec::new();
        loop {
            cursor.skip_ows();
            match cursor.peek() {
                Some(b';') => {
                    cursor.at += 1;
                    cursor.skip_ows();
                    let param = cursor.token()?;
                    cursor.skip_ows();
                    let value = if cursor.peek() == Some(b'=') {
                        cursor.at += 1;
                        cursor.skip_ows();
                        Some(cursor.value()?)
                    } else {
                        None
                    };
                    params.push((param, value));
                }
                Some(b',') | None => break,
                Some(_) => return Err(cursor.error(HeaderErrorKind::ExpectedSeparator)),
            }
        }
        elements.push(ExtensionElement { name, params });
    }
    if elements.is_empty() {
        return Err(HeaderError { at: 0, kind: HeaderErrorKind::Empty });
    }
    Ok(elements)
}

/// Parses every `Sec-WebSocket-Extensions` line of a head as one list (RFC 6455 §11.3.2, RFC 7230
/// §3.2.2: lines of a list header combine in order, joined by commas).
///
/// # Errors
/// [`HeaderError`] with the offset into the lines joined by `", "`.
pub fn parse_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Vec<ExtensionElement>, HeaderError> {
    parse(&lines.into_iter().collect::<Vec<_>>().join(", "))
}

/// Writes elements back as a header value: `name; param; param=value`, elements joined by `, `.
/// Values that are tokens are written bare, anything else as a quoted-string.
pub fn format(elements: &[ExtensionElement]) -> String {
    let mut out = String::new();
    for (i, element) in elements.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&element.name);
        for (name, value) in &element.params {
            out.push_str("; ");
            out.push_str(name);
            if let Some(value) = value {
                out.push('=');
                if !value.is_empty() && value.bytes().all(is_tchar) {
                    out.push_str(value);
                } else {
                    out.push('"');
                    for c in value.chars() {
                        if c == '"' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push('"');
                }
            }
        }
    }
    out
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn error(&self, kind: HeaderErrorKind) -> HeaderError {
        HeaderError { at: self.at, kind }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn token(&mut self) -> Result<String, HeaderError> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error(HeaderErrorKind::ExpectedToken));
        }
        Ok(String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
    }

    fn value(&mut self) -> Result<String, HeaderError> {
        if self.peek() != Some(b'"') {
            return self.token().map_err(|_| self.error(HeaderErrorKind::ExpectedValue));
        }
        let start = self.at;
        self.at += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(HeaderError { at: start, kind: HeaderErrorKind::UnterminatedQuote }),
                Some(b'"') => break,
                Some(b'\\') if self.at + 1 < self.bytes.len() => {
                    value.push(self.bytes[self.at + 1]);
                    self.at += 2;
                }
                Some(byte) => {
                    value.push(byte);
                    self.at += 1;
                }
            }
        }
        self.at += 1;
        if value.is_empty() || !value.iter().copied().all(is_tchar) {
            return Err(HeaderError { at: start, kind: HeaderErrorKind::QuotedValueNotToken });
        }
        Ok(String::from_utf8_lossy(&value).into_owned())
    }
}
