//! The model's reading of a compressed message (RFC 7692 §7.2.2): what its data means to any
//! conforming server, or why that cannot be known.

use crate::extension::permessage_deflate::{
    inflater::{InflateError, MessageInflater},
    params::DirectionParams,
};

/// What a compressed message's data means to any conforming server.
pub(super) enum Inflated {
    Content(Vec<u8>),
    /// Not DEFLATE, whatever the server's context.
    Corrupt,
    Undecidable(&'static str),
}

/// The largest message the model inflates; the grammar's messages are far smaller.
const INFLATE_LIMIT: u64 = 1 << 20;

/// Inflates `data` (RFC 7692 §7.2.2) with a fresh inflater. An error while the data itself is read
/// is corruption wherever the data stands, except a reference before its start (a server keeping
/// its context holds data there); an error only once the tail is appended means the data stopped
/// inside a block, which zlib-based servers do not notice.
pub(super) fn inflate(data: &[u8]) -> Inflated {
    let (mut inflater, content) = match inflate_prefix(data) {
        Ok(read) => read,
        Err(inflated) => return inflated,
    };
    let mut content = content;
    match inflater.finish(&mut |piece| content.extend_from_slice(piece)) {
        Ok(_) => Inflated::Content(content),
        Err(_) => Inflated::Undecidable("compressed data that stops inside a DEFLATE block"),
    }
}

/// Inflates the start of a message's data, as a server inflating each frame as it comes does: the
/// inflater and what `data` inflates to so far, or why reading it stopped.
pub(super) fn inflate_prefix(data: &[u8]) -> Result<(MessageInflater, Vec<u8>), Inflated> {
    let mut inflater = MessageInflater::new(DirectionParams::default(), INFLATE_LIMIT);
    let mut content = Vec::new();
    match inflater.push(data, &mut |piece| content.extend_from_slice(piece)) {
        Ok(_) => Ok((inflater, content)),
        Err(InflateError::Corrupt { reason, .. }) if reason.contains("too far back") => {
            Err(Inflated::Undecidable("compressed data that refers to data before the message"))
        }
        Err(InflateError::Corrupt { .. }) => Err(Inflated::Corrupt),
        Err(InflateError::TooLarge { .. }) => Err(Inflated::Undecidable("compressed data that inflates beyond the model's limit")),
    }
}
