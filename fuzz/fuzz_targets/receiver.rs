//! Raw bytes into the engine's receiver (no I/O: frames in, events and typed violations out), from a
//! client or a server, cut at arbitrary points: no panic, and the same events and violations as when
//! all bytes come at once.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use wsspec::{
    catalog::Role,
    engine::{
        receiver::{Received, Receiver},
        WireLog,
    },
    fuzz::split::split,
};

/// The largest message the receiver takes: small, so the limit is reached too.
const LIMIT: usize = 1 << 16;

fn receive(sender: Role, pieces: &[&[u8]]) -> Vec<Received> {
    let mut receiver = Receiver::new(sender, LIMIT, None);
    let mut log = WireLog::new(Instant::now());
    let mut out = Vec::new();
    for piece in pieces {
        receiver.push(piece);
        out.extend(std::iter::from_fn(|| receiver.next(&mut log)));
    }
    out
}

fuzz_target!(|input: &[u8]| {
    // The first byte says who sent the bytes; the rest is cut as `split` reads it.
    let Some((&who, rest)) = input.split_first() else { return };
    let sender = if who & 1 == 1 { Role::Client } else { Role::Server };
    let pieces = split(rest);
    let whole = pieces.concat();
    assert_eq!(receive(sender, &pieces), receive(sender, &[&whole]), "the cut points changed what was received");
});
