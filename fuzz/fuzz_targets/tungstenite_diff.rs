//! Differential fuzzing: a structured client frame sequence (fragmented messages with control frames
//! between fragments; bad RSV bits, opcodes, lengths, masks, UTF-8 and close payloads) goes to
//! tungstenite as a server, in memory with the embedded server's limits, and to wsspec's model of a
//! conforming server. What tungstenite does must be one of the behaviours the model allows. A
//! disagreement is a bug on one side; fuzz/README.md records how each one found was decided.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsspec::fuzz::{case_file::describe, oracle, tungstenite_peer, Sequence};

fuzz_target!(|sequence: Sequence| {
    let outcome = oracle::expect(&sequence.frames);
    let seen = tungstenite_peer::run(&sequence.frames);
    assert!(
        outcome.admits(&seen),
        "tungstenite did what the model does not allow\nframes: {}\ntungstenite: {seen:?}\nmodel: {outcome:#?}",
        describe(&sequence)
    );
});
