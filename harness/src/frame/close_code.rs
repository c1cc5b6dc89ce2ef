//! Close status codes (RFC 6455 §7.4) as values: unknown codes must round-trip, so this is an open
//! newtype rather than an enum.

/// A close status code as carried in the first two bytes of a close frame's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    pub const NORMAL: Self = Self(1000);
    pub const GOING_AWAY: Self = Self(1001);
    pub const PROTOCOL_ERROR: Self = Self(1002);
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    pub const INVALID_PAYLOAD: Self = Self(1007);
    pub const POLICY_VIOLATION: Self = Self(1008);
    pub const MESSAGE_TOO_BIG: Self = Self(1009);

    /// Where the code stands in RFC 6455 §7.4: the one table of close codes, for the receiver (may
    /// the target send it?) and the fuzz oracle (must a server answer or refuse it?).
    pub fn class(self) -> CloseCodeClass {
        match self.0 {
            1000..=1003 | 1007..=1011 => CloseCodeClass::Defined,
            1012..=1014 => CloseCodeClass::Registered,
            3000..=4999 => CloseCodeClass::Application,
            1004..=1006 | 1015 => CloseCodeClass::Reserved,
            5000.. => CloseCodeClass::Undefined,
            _ => CloseCodeClass::Unassigned,
        }
    }

    /// Whether an endpoint may put this code in a close frame: the codes §7.4.1 defines for use on
    /// the wire, those IANA registered since, and the 3000–4999 ranges.
    pub fn is_sendable(self) -> bool {
        matches!(self.class(), CloseCodeClass::Defined | CloseCodeClass::Registered | CloseCodeClass::Application)
    }
}

/// The classes of close codes (RFC 6455 §7.4.1, §7.4.2, and the IANA registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCodeClass {
    /// Defined by §7.4.1 for use in a close frame: 1000–1003, 1007–1011.
    Defined,
    /// Registered with IANA after RFC 6455 (Service Restart, Try Again Later, Bad Gateway): 1012–1014.
    Registered,
    /// For libraries, frameworks and applications (§7.4.2): 3000–4999.
    Application,
    /// Reserved and MUST NOT be sent in a close frame (§7.4.1): 1004–1006, 1015.
    Reserved,
    /// Not used (0–999) or reserved for future revisions and never assigned (1016–2999).
    Unassigned,
    /// Beyond every range §7.4.2 describes: 5000 and up.
    Undefined,
}

/// Splits a close frame payload into its code and reason; `None` for an empty payload. A one-byte
/// payload has no valid reading, so it is reported as an error for the caller to judge.
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<(CloseCode, &[u8])>, ()> {
    match payload {
        [] => Ok(None),
        [_] => Err(()),
        [hi, lo, reason @ ..] => Ok(Some((CloseCode(u16::from_be_bytes([*hi, *lo])), reason))),
    }
}
