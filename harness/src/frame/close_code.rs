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

    /// Whether an endpoint may put this code in a close frame: the codes RFC 6455 §7.4.1 defines
    /// for use on the wire, those IANA registered since (1012–1014), and the 3000–4999 ranges.
    /// 1004–1006 and 1015 are reserved and MUST NOT be sent; below 1000 and 5000+ are unused.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
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
