//! The read buffer of a session, reused from case to case: allocating and zeroing 64 KiB for every
//! case was a measurable share of a short case's CPU time (the network fuzzer runs thousands a
//! second). A buffer goes back to the pool when its case ends; the pool never holds more than the
//! cases that were in flight at once, and at most [`KEPT`].

use std::{
    ops::{Deref, DerefMut},
    sync::Mutex,
};

/// Bytes per read (64 KiB).
const SIZE: usize = 64 << 10;
/// Buffers kept for reuse at most (2 MiB).
const KEPT: usize = 32;

/// Buffers of finished cases.
struct Pool(Mutex<Vec<Vec<u8>>>);

static POOL: Pool = Pool(Mutex::new(Vec::new()));

/// A 64 KiB buffer taken from a pool (or made), returned to it when dropped.
pub(super) struct ReadBuffer {
    bytes: Vec<u8>,
    pool: &'static Pool,
}

impl ReadBuffer {
    pub(super) fn take() -> Self {
        Self::take_from(&POOL)
    }

    fn take_from(pool: &'static Pool) -> Self {
        let kept = pool.0.lock().ok().and_then(|mut kept| kept.pop());
        Self { bytes: kept.unwrap_or_else(|| vec![0; SIZE]), pool }
    }
}

impl Drop for ReadBuffer {
    fn drop(&mut self) {
        if let Ok(mut kept) = self.pool.0.lock() {
            if kept.len() < KEPT {
                kept.push(std::mem::take(&mut self.bytes));
            }
        }
    }
}

impl Deref for ReadBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl DerefMut for ReadBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_the_pool_stays_bounded() {
        let pool: &'static Pool = Box::leak(Box::new(Pool(Mutex::new(Vec::new()))));
        let first = ReadBuffer::take_from(pool);
        let address = first.as_ptr();
        assert_eq!(first.len(), SIZE);
        drop(first);
        let again = ReadBuffer::take_from(pool);
        assert_eq!((again.as_ptr(), again.len()), (address, SIZE), "the same buffer, whole");
        drop(again);
        let many: Vec<ReadBuffer> = (0..KEPT + 5).map(|_| ReadBuffer::take_from(pool)).collect();
        drop(many);
        assert_eq!(pool.0.lock().unwrap().len(), KEPT);
    }
}
