//! Turns a case's steps into wire operations, one step at a time; a frame's payload is generated
//! only as it is written ([`super::outgoing`]), so a 16 MiB payload never exists whole.

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use super::outgoing::Write;
use crate::{
    catalog::{Action, FrameDef, Payload, PayloadStream, Role, Step, WriteMode},
    extension::permessage_deflate::{connection::RSV1, datasets::MessageSlicer, deflater::MessageDeflater},
    frame::{parse_header, OpCode},
};

/// One thing the session does next.
#[derive(Debug)]
pub enum Op<'a> {
    Write(Write<'a>),
    Pause { duration: Duration, mark: Option<String> },
    AwaitMessage,
}

/// The most bytes consecutive `together` writes are merged into (1 MiB); a bigger write is on the
/// wire in many TCP segments anyway.
pub const MAX_TOGETHER: usize = 1 << 20;

/// A case's steps as a lazy sequence of operations.
pub struct Script<'a> {
    steps: &'a [Step],
    role: Role,
    next_step: usize,
    repeats_left: u32,
    queue: VecDeque<Op<'a>>,
    scale: f64,
    /// Compresses `compressed` messages once permessage-deflate is negotiated; without it they
    /// go uncompressed.
    deflater: Option<MessageDeflater>,
    /// Where each step with a data set payload is in its set, by step index.
    slicers: HashMap<usize, MessageSlicer>,
}

impl<'a> Script<'a> {
    pub fn new(steps: &'a [Step], role: Role, timeout_scale: f64) -> Self {
        Self { steps, role, next_step: 0, repeats_left: 0, queue: VecDeque::new(), scale: timeout_scale, deflater: None, slicers: HashMap::new() }
    }

    /// Compresses the script's `compressed` messages with `deflater` (RFC 7692 §7.2.1).
    pub fn with_deflater(mut self, deflater: Option<MessageDeflater>) -> Self {
        self.deflater = deflater;
        self
    }

    /// The deflater, with its context, for the next case on the same connection.
    pub fn into_deflater(self) -> Option<MessageDeflater> {
        self.deflater
    }

    /// The next operation; consecutive `together` writes come merged into one of up to
    /// [`MAX_TOGETHER`] bytes, so a step repeated many times is built one write at a time, with the
    /// session awaiting (and its timeout and an interrupt acting) between writes.
    pub fn next_op(&mut self) -> Option<Op<'a>> {
        let mut op = self.pop()?;
        if let Op::Write(write) = &mut op {
            while write.together && write.len() < MAX_TOGETHER as u64 && self.peek_together() {
                let Some(Op::Write(next)) = self.pop() else { unreachable!("peeked a write") };
                write.absorb(next);
            }
        }
        Some(op)
    }

    fn peek_together(&mut self) -> bool {
        self.fill();
        matches!(self.queue.front(), Some(Op::Write(w)) if w.together)
    }

    fn pop(&mut self) -> Option<Op<'a>> {
        self.fill();
        self.queue.pop_front()
    }

    /// Expands steps until there is an operation queued or the script is over.
    fn fill(&mut self) {
        while self.queue.is_empty() {
            let Some(step) = self.steps.get(self.next_step) else { return };
            if self.repeats_left == 0 {
                self.repeats_left = step.repeat;
            }
            self.expand(step);
            self.repeats_left -= 1;
            if self.repeats_left == 0 {
                self.next_step += 1;
            }
        }
    }

    fn expand(&mut self, step: &'a Step) {
        match &step.action {
            Action::Frames(frames) if !step.split.is_empty() => self.push_split(&frames[0], step),
            Action::Frames(frames) => match step.write {
                WriteMode::PerFrame => {
                    for def in frames {
                        self.queue.push_back(Op::Write(Write::frame(def, self.role, step.write)));
                    }
                }
                _ => {
                    let mut writes = frames.iter().map(|def| Write::frame(def, self.role, step.write));
                    let mut first = writes.next().expect("a frame step has frames");
                    writes.for_each(|w| first.append(w));
                    self.queue.push_back(Op::Write(first));
                }
            },
            Action::Message(message) => {
                let payload = match &message.payload {
                    slices @ Payload::Slices { .. } => Some(
                        self.slicers
                            .entry(self.next_step)
                            .or_insert_with(|| slices.slicer().expect("a data set payload has a slicer"))
                            .next_message(),
                    ),
                    _ => None,
                };
                let (payload, rsv) = match (&mut self.deflater, message.compressed) {
                    (Some(deflater), true) => {
                        let compressed = match payload {
                            Some(slice) => deflater.compress_message(&slice),
                            None => deflater.compress_stream(message.payload.stream()),
                        };
                        (PayloadStream::from_vec(compressed), RSV1)
                    }
                    _ => match payload {
                        Some(slice) => (PayloadStream::from_vec(slice), 0),
                        None => (message.payload.stream(), 0),
                    },
                };
                let count = message.fragment_count(payload.remaining());
                match step.write {
                    WriteMode::PerFrame => {
                        for i in 0..count {
                            let write = Write::message(message, self.role, rsv, payload.clone(), i..i + 1, step.write);
                            self.queue.push_back(Op::Write(write));
                        }
                    }
                    _ => self.queue.push_back(Op::Write(Write::message(message, self.role, rsv, payload, 0..count, step.write))),
                }
            }
            Action::Raw(payload) => self.queue.push_back(Op::Write(Write::raw(payload, step.write))),
            Action::Close(close) => {
                let payload = close.payload();
                let spec = FrameDef::new(OpCode::Close, Payload::Bytes(payload.clone())).to_spec(self.role);
                self.queue.push_back(Op::Write(Write::encoded(spec.encode(), vec![spec], step.write, true, Some(payload))));
            }
            Action::Pause(seconds) => {
                let duration = Duration::from_secs_f64(seconds * self.scale);
                self.queue.push_back(Op::Pause { duration, mark: step.mark.clone() });
            }
        }
        if step.await_message {
            self.queue.push_back(Op::AwaitMessage);
        }
    }

    /// One frame written in parts with pauses between them (a slow sender, 6.4.3).
    fn push_split(&mut self, def: &FrameDef, step: &Step) {
        let spec = def.to_spec(self.role);
        let data = spec.encode();
        let header_len = parse_header(&data).map(|(_, n)| n).unwrap_or(0);
        let mut start = 0;
        let mut frames = vec![spec];
        for point in &step.split {
            let end = header_len + point.at;
            let part = data[start..end].to_vec();
            self.queue.push_back(Op::Write(Write::encoded(part, std::mem::take(&mut frames), step.write, false, None)));
            let duration = Duration::from_secs_f64(point.pause * self.scale);
            self.queue.push_back(Op::Pause { duration, mark: point.mark.clone() });
            start = end;
        }
        self.queue.push_back(Op::Write(Write::encoded(data[start..].to_vec(), Vec::new(), step.write, true, None)));
    }
}
