//! Incremental UTF-8 validation, so a judgment can say where a stream stopped being UTF-8 even when
//! a code point is split across frames or reads.

/// Validates a byte stream fed in pieces; fails at the first byte that cannot be UTF-8.
#[derive(Debug, Default, Clone)]
pub struct Utf8Validator {
    partial: [u8; 4],
    partial_len: usize,
}

/// The stream is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8")]
pub struct Utf8Error;

impl Utf8Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes; an error means no continuation can make the stream valid.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len > 0 {
            let take = (4 - self.partial_len).min(data.len());
            let mut joined = [0u8; 4];
            joined[..self.partial_len].copy_from_slice(&self.partial[..self.partial_len]);
            joined[self.partial_len..self.partial_len + take].copy_from_slice(&data[..take]);
            let joined = &joined[..self.partial_len + take];
            let consumed = match std::str::from_utf8(joined) {
                Ok(_) => take,
                Err(e) if e.valid_up_to() > 0 => e.valid_up_to() - self.partial_len,
                Err(e) if e.error_len().is_some() => return Err(Utf8Error),
                Err(_) => {
                    // Still incomplete: everything taken belongs to the pending code point.
                    self.partial[..joined.len()].copy_from_slice(joined);
                    self.partial_len = joined.len();
                    return Ok(());
                }
            };
            self.partial_len = 0;
            data = &data[consumed..];
        }
        match std::str::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(e) => {
                let tail = &data[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len();
                Ok(())
            }
        }
    }

    /// Ends the stream: an unfinished code point is an error.
    pub fn finish(&self) -> Result<(), Utf8Error> {
        if self.partial_len == 0 {
            Ok(())
        } else {
            Err(Utf8Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn validate_split(data: &[u8], split: usize) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        for chunk in data.chunks(split) {
            v.feed(chunk)?;
        }
        v.finish()
    }

    #[rstest]
    #[case::ascii(b"Hello".as_slice())]
    #[case::kosme("κόσμε".as_bytes())]
    #[case::four_byte("a\u{10FFFF}b𝄞".as_bytes())]
    #[case::surrogate(b"\xce\xba\xe1\xbd\xb9\xed\xa0\x80edited".as_slice())]
    #[case::beyond_max(b"\xf4\x90\x80\x80".as_slice())]
    #[case::overlong(b"\xc0\xaf".as_slice())]
    #[case::truncated(b"\xce".as_slice())]
    #[case::lone_continuation(b"ab\x80".as_slice())]
    #[case::fe(b"\xfe".as_slice())]
    fn agrees_with_std_at_every_split(#[case] data: &[u8]) {
        let expected = std::str::from_utf8(data).is_ok();
        for split in 1..=data.len().max(1) {
            assert_eq!(validate_split(data, split).is_ok(), expected, "split {split}");
        }
    }

    #[test]
    fn fails_fast_on_the_first_impossible_byte() {
        let mut v = Utf8Validator::new();
        assert!(v.feed("κόσμε".as_bytes()).is_ok());
        assert!(v.feed(b"\xf4").is_ok(), "F4 can still start U+10xxxx");
        assert_eq!(v.feed(b"\x90"), Err(Utf8Error), "F4 90 is beyond U+10FFFF");
    }
}
