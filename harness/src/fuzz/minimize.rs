//! Delta debugging of a failing sequence (Zeller's ddmin): over its frames (each frame alone first),
//! then over each payload's bytes, then toward plain attributes (one write, no RSV bits, minimal
//! lengths). The candidates of a round are handed over together, so a live target can run them at
//! once, and the first failing one in order is kept, so the result does not depend on timing.

use std::future::Future;

use super::Sequence;
use crate::{
    catalog::WriteMode,
    frame::{FrameSpec, LengthEncoding},
};

/// The smallest sequence found, within `budget` candidate runs, for which `fails` still holds.
/// `fails` answers for a batch of candidates, in order.
pub async fn minimize<F, Fut>(sequence: Sequence, budget: usize, fails: F) -> Sequence
where
    F: Fn(Vec<Sequence>) -> Fut,
    Fut: Future<Output = Vec<bool>>,
{
    let mut budget = budget;
    let mut best = sequence;
    // Plain writes first: every later candidate then runs quicker.
    if best.write != WriteMode::Together {
        best = first_failing(vec![Sequence { write: WriteMode::Together, ..best.clone() }], &mut budget, &fails).await.unwrap_or(best);
    }
    let (write, deflate) = (best.write, best.deflate);
    // Most findings take one frame: every frame alone is one round of candidates run at once.
    if best.frames.len() > 1 {
        let alone = best.frames.iter().map(|frame| Sequence { frames: vec![frame.clone()], write, deflate }).collect();
        best = first_failing(alone, &mut budget, &fails).await.unwrap_or(best);
    }
    // Then ddmin, again from the coarsest cut while that helps: fragments often go only together.
    loop {
        let before = best.frames.len();
        best.frames = ddmin(best.frames, &mut budget, |candidates| fails(candidates.into_iter().map(|frames| Sequence { frames, write, deflate }).collect())).await;
        if best.frames.len() == before || budget == 0 {
            break;
        }
    }
    for i in 0..best.frames.len() {
        let mut empty = best.clone();
        empty.frames[i].payload.clear();
        if let Some(smaller) = first_failing(vec![empty], &mut budget, &fails).await {
            best = smaller;
            continue;
        }
        let base = best.clone();
        let with_payload = |payload: Vec<u8>| {
            let mut candidate = base.clone();
            candidate.frames[i].payload = payload;
            candidate
        };
        let payload = ddmin(base.frames[i].payload.clone(), &mut budget, |candidates| fails(candidates.into_iter().map(with_payload).collect())).await;
        best.frames[i].payload = payload;
    }
    while let Some(simpler) = first_failing(simplifications(&best), &mut budget, &fails).await {
        best = simpler;
    }
    best
}

/// Each single step toward a plainer frame: RSV bits cleared (or all but one), the minimal length,
/// no declared length.
fn simplifications(sequence: &Sequence) -> Vec<Sequence> {
    let mut out = Vec::new();
    for (i, frame) in sequence.frames.iter().enumerate() {
        let mut variant = |change: &dyn Fn(&mut FrameSpec)| {
            let mut candidate = sequence.clone();
            change(&mut candidate.frames[i]);
            if candidate != *sequence && candidate.frames[i].check().is_ok() {
                out.push(candidate);
            }
        };
        variant(&|f| f.rsv = 0);
        if frame.rsv.count_ones() > 1 {
            for bit in [4, 2, 1].into_iter().filter(|bit| frame.rsv & bit != 0) {
                variant(&|f| f.rsv = bit);
            }
        }
        variant(&|f| f.length_encoding = LengthEncoding::Minimal);
        if frame.declared_length.is_some() {
            variant(&|f| {
                f.declared_length = None;
                f.length_encoding = LengthEncoding::Minimal;
            });
        }
    }
    out
}

/// The first of `candidates` that fails, if any (within the budget).
async fn first_failing<F, Fut>(mut candidates: Vec<Sequence>, budget: &mut usize, fails: &F) -> Option<Sequence>
where
    F: Fn(Vec<Sequence>) -> Fut,
    Fut: Future<Output = Vec<bool>>,
{
    candidates.truncate(*budget);
    if candidates.is_empty() {
        return None;
    }
    *budget -= candidates.len();
    let results = fails(candidates.clone()).await;
    results.iter().position(|failed| *failed).map(|i| candidates.swap_remove(i))
}

/// ddmin: a 1-minimal sub-list of `items` for which `fails` holds (the whole list is taken to fail).
/// Each round tries the `n` chunks and their complements, refining `n` until no chunk can go.
pub async fn ddmin<T, F, Fut>(mut items: Vec<T>, budget: &mut usize, fails: F) -> Vec<T>
where
    T: Clone,
    F: Fn(Vec<Vec<T>>) -> Fut,
    Fut: Future<Output = Vec<bool>>,
{
    let mut n = 2;
    while items.len() >= 2 && *budget > 0 {
        let bounds: Vec<usize> = (0..=n).map(|i| i * items.len() / n).collect();
        let chunks: Vec<Vec<T>> = bounds.windows(2).map(|w| items[w[0]..w[1]].to_vec()).collect();
        let mut candidates = chunks.clone();
        if n > 2 {
            candidates.extend(bounds.windows(2).map(|w| [&items[..w[0]], &items[w[1]..]].concat()));
        }
        candidates.truncate(*budget);
        *budget -= candidates.len();
        let results = fails(candidates.clone()).await;
        match results.iter().position(|failed| *failed) {
            Some(i) => {
                let reduced_to_chunk = i < chunks.len();
                items = candidates.swap_remove(i);
                n = if reduced_to_chunk { 2 } else { (n - 1).max(2) };
            }
            None if n >= items.len() => break,
            None => n = (2 * n).min(items.len()),
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(future)
    }

    #[test]
    fn ddmin_finds_the_two_items_that_matter() {
        let mut budget = 1000;
        let batches = std::cell::Cell::new(0);
        let found = block_on(ddmin((0..40).collect(), &mut budget, |candidates: Vec<Vec<u32>>| {
            batches.set(batches.get() + 1);
            let answers = candidates.iter().map(|c| c.contains(&7) && c.contains(&31)).collect();
            async move { answers }
        }));
        assert_eq!(found, [7, 31]);
        assert!(1000 - budget < 200 && batches.get() < 40, "{} candidates in {} batches", 1000 - budget, batches.get());
    }

    #[test]
    fn ddmin_stops_at_its_budget() {
        let mut budget = 5;
        let found = block_on(ddmin((0..40).collect::<Vec<u32>>(), &mut budget, |candidates: Vec<Vec<u32>>| async move {
            candidates.iter().map(|c| c.contains(&7)).collect()
        }));
        assert_eq!(budget, 0);
        assert!(found.contains(&7) && found.len() < 40);
    }

    #[test]
    fn a_sequence_shrinks_to_the_frame_and_attribute_that_fail() {
        let key = [1, 2, 3, 4];
        let frames = vec![
            FrameSpec::new(OpCode::Text, "hello").masked(key),
            FrameSpec { rsv: 5, length_encoding: LengthEncoding::Bits64, ..FrameSpec::new(OpCode::Binary, vec![7; 300]).masked(key) },
            FrameSpec::new(OpCode::Ping, "p").masked(key),
        ];
        let sequence = Sequence { frames, write: WriteMode::Chop(3), deflate: false };
        // A server that only trips on RSV1 in a binary frame.
        let fails = |candidates: Vec<Sequence>| async move {
            candidates.iter().map(|s| s.frames.iter().any(|f| f.opcode == OpCode::Binary && f.rsv & 4 != 0)).collect::<Vec<_>>()
        };
        let small = block_on(minimize(sequence, 200, fails));
        let expected = FrameSpec { rsv: 4, ..FrameSpec::new(OpCode::Binary, vec![]).masked(key) };
        assert_eq!(small, Sequence { frames: vec![expected], write: WriteMode::Together, deflate: false });
    }
}
