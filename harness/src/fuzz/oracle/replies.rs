//! The replies an alternative expects: in which orders a server may send them, and whether what it
//! sent is one of those.

use super::{Expected, Reply, MAX_ORDERS};

/// Whether `seen` is `expected` in order, with optional replies left out or not.
pub(super) fn replies_match(expected: &[Expected], seen: &[Reply]) -> bool {
    // The positions in `expected` reachable after each reply seen (an NFA over the optional ones).
    let skip_optional = |at: &mut Vec<bool>| {
        for i in 0..expected.len() {
            if at[i] && expected[i].optional {
                at[i + 1] = true;
            }
        }
    };
    let mut at = vec![false; expected.len() + 1];
    at[0] = true;
    skip_optional(&mut at);
    for reply in seen {
        let mut next = vec![false; expected.len() + 1];
        for i in 0..expected.len() {
            next[i + 1] |= at[i] && expected[i].reply == *reply;
        }
        skip_optional(&mut next);
        at = next;
    }
    at[expected.len()]
}

/// Every order in which a server may send `replies` (given in the order the model owes them): echoes
/// keep their order, pongs keep theirs, and a pong may overtake echoes owed before it but no echo
/// may overtake a pong owed before it. `None` if there are more than [`MAX_ORDERS`].
pub(super) fn orders(replies: &[Expected]) -> Option<Vec<Vec<Expected>>> {
    let is_pong = |e: &Expected| matches!(e.reply, Reply::Pong(_));
    let pongs: Vec<&Expected> = replies.iter().filter(|e| is_pong(e)).collect();
    // Each echo with the number of pongs owed before it.
    let echoes: Vec<(&Expected, usize)> =
        replies.iter().enumerate().filter(|(_, e)| !is_pong(e)).map(|(i, e)| (e, replies[..i].iter().filter(|e| is_pong(e)).count())).collect();
    let mut out = Vec::new();
    let mut stack = vec![(0usize, 0usize, Vec::with_capacity(replies.len()))];
    while let Some((echo, pong, order)) = stack.pop() {
        if order.len() == replies.len() {
            if !out.contains(&order) {
                out.push(order);
            }
            if out.len() > MAX_ORDERS {
                return None;
            }
            continue;
        }
        if pong < pongs.len() {
            let mut next = order.clone();
            next.push(pongs[pong].clone());
            stack.push((echo, pong + 1, next));
        }
        if echo < echoes.len() && pong >= echoes[echo].1 {
            let mut next = order;
            next.push(echoes[echo].0.clone());
            stack.push((echo + 1, pong, next));
        }
    }
    Some(out)
}
