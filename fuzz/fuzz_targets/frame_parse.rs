//! Raw bytes into the incremental decoder, cut at arbitrary points: no panic, memory bounded by the
//! input alone whatever length (up to the limit) a header declares, and the same frames (or the same
//! error) as when all bytes come at once.
#![no_main]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicUsize, Ordering},
};

use libfuzzer_sys::fuzz_target;
use wsspec::{
    frame::{DecodeError, Decoder, Frame},
    fuzz::split::split_data,
};

const LIMIT: u64 = 1 << 16;

/// The system allocator, counting the bytes live and their peak. libFuzzer runs the target on one
/// thread, so the counters are read and written with plain loads and stores: an atomic
/// read-modify-write (and `fetch_max`, a compare-and-swap loop) on every allocation cost more than
/// the decoder's own work on small frames.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let live = LIVE.load(Ordering::Relaxed) + size;
    LIVE.store(live, Ordering::Relaxed);
    if live > PEAK.load(Ordering::Relaxed) {
        PEAK.store(live, Ordering::Relaxed);
    }
}

fn shrank(size: usize) {
    LIVE.store(LIVE.load(Ordering::Relaxed).wrapping_sub(size), Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Decodes the pieces in turn, handing each frame to `seen`; the number of frames and the error.
/// The frames are compared as they come rather than hashed: a hash of every payload cost more than
/// the decoder itself, and `==` on the payloads is one `memcmp`.
fn decode(pieces: &[&[u8]], mut seen: impl FnMut(usize, Frame)) -> (usize, Option<DecodeError>) {
    let mut decoder = Decoder::new(LIMIT);
    let mut frames = 0;
    for piece in pieces {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    seen(frames, frame);
                    frames += 1;
                }
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}

fuzz_target!(|input: &[u8]| {
    // The data whole is a slice of the input: no copy of the pieces joined.
    let (whole, pieces) = split_data(input);
    let mut frames = Vec::new();
    let (_, error) = decode(&[whole], |_, frame| frames.push(frame));

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let in_pieces = decode(&pieces, |n, frame| {
        assert_eq!(frames.get(n), Some(&frame), "frame {n}, cut into {} pieces", pieces.len())
    });
    let peak = PEAK.load(Ordering::Relaxed) - before;
    // The buffer (at most the input, doubled as it grows) and one frame: nothing by what a header
    // declares, which may be up to the limit with no payload behind it.
    let bound = 3 * whole.len() + 4096;
    assert!(peak <= bound, "{peak} bytes at peak for {} bytes of input", whole.len());
    assert_eq!(in_pieces, (frames.len(), error), "cut into {} pieces", pieces.len());
});
