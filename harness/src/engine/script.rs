//! Turns a case's steps into wire operations, one step at a time so a 16 MiB payload is built only
//! when its step comes up.

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use crate::{
    catalog::{Action, FrameDef, Payload, Role, Step, WriteMode},
    extension::permessage_deflate::{connection::RSV1, datasets::MessageSlicer, deflater::MessageDeflater},
    frame::{parse_header, FrameSpec, OpCode},
};

/// One thing the session does next.
#[derive(Debug)]
pub enum Op {
    Write(Write),
    Pause { duration: Duration, mark: Option<String> },
    AwaitMessage,
}

/// Bytes to write, `chunk` bytes per write call.
#[derive(Debug)]
pub struct Write {
    pub data: Vec<u8>,
    pub chunk: usize,
    /// The frames these bytes start, for the wire log (raw bytes have none).
    pub frames: Vec<FrameSpec>,
    /// False when the bytes stop inside a frame (a split frame's first parts).
    pub ends_frame: bool,
    /// The close frame's payload, when these bytes carry one.
    pub close: Option<Vec<u8>>,
    /// Written back-to-back with the next such write (the default mode): consecutive steps then
    /// reach the target together, as Autobahn's default writes do.
    pub together: bool,
}

impl Write {
    fn new(data: Vec<u8>, write: WriteMode, frames: Vec<FrameSpec>, ends_frame: bool, close: Option<Vec<u8>>) -> Self {
        let chunk = match write {
            WriteMode::Chop(k) => k,
            _ => data.len().max(1),
        };
        Self { data, chunk, frames, ends_frame, close, together: write == WriteMode::Together }
    }

    /// Appends `next`, written in the same call.
    fn absorb(&mut self, next: Write) {
        self.data.extend_from_slice(&next.data);
        self.chunk = self.data.len();
        self.frames.extend(next.frames);
        self.ends_frame = next.ends_frame;
        self.close = self.close.take().or(next.close);
    }
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
    queue: VecDeque<Op>,
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

    /// The next operation; consecutive `together` writes come merged into one of up to
    /// [`MAX_TOGETHER`] bytes, so a step repeated many times is built one write at a time, with the
    /// session awaiting (and its timeout and an interrupt acting) between writes.
    pub fn next_op(&mut self) -> Option<Op> {
        let mut op = self.pop()?;
        if let Op::Write(write) = &mut op {
            while write.together && write.data.len() < MAX_TOGETHER && self.peek_together() {
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

    fn pop(&mut self) -> Option<Op> {
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

    fn expand(&mut self, step: &Step) {
        match &step.action {
            Action::Frames(frames) if !step.split.is_empty() => self.push_split(&frames[0], step),
            Action::Frames(frames) => {
                let specs = frames.iter().map(|f| f.to_spec(self.role)).collect();
                self.push_frames(specs, step.write, None);
            }
            Action::Message(message) => {
                let payload = match &message.payload {
                    slices @ Payload::Slices { .. } => self
                        .slicers
                        .entry(self.next_step)
                        .or_insert_with(|| slices.slicer().expect("a data set payload has a slicer"))
                        .next_message(),
                    other => other.bytes(),
                };
                let (payload, rsv) = match (&mut self.deflater, message.compressed) {
                    (Some(deflater), true) => (deflater.compress_message(&payload), RSV1),
                    _ => (payload, 0),
                };
                let ranges = message.fragments_of(payload.len());
                let last = ranges.len() - 1;
                let specs = ranges
                    .into_iter()
                    .enumerate()
                    .map(|(i, range)| {
                        let opcode = if i == 0 { message.opcode } else { OpCode::Continuation };
                        let mut def = FrameDef::new(opcode, Payload::empty());
                        def.fin = i == last;
                        def.rsv = if i == 0 { rsv } else { 0 };
                        let mut spec = def.to_spec(self.role);
                        spec.payload = payload[range].to_vec();
                        spec
                    })
                    .collect();
                self.push_frames(specs, step.write, None);
            }
            Action::Raw(payload) => {
                self.queue.push_back(Op::Write(Write::new(payload.bytes(), step.write, Vec::new(), true, None)));
            }
            Action::Close(close) => {
                let payload = close.payload();
                let def = FrameDef::new(OpCode::Close, crate::catalog::Payload::Bytes(payload.clone()));
                self.push_frames(vec![def.to_spec(self.role)], step.write, Some(payload));
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

    /// Queues frames; `close` is the payload when they are wsspec's own close (a `close` step), which
    /// starts its closing handshake. A close-opcode `frame` is just bytes on the wire.
    fn push_frames(&mut self, specs: Vec<FrameSpec>, write: WriteMode, close: Option<Vec<u8>>) {
        let groups: Vec<Vec<FrameSpec>> = match write {
            WriteMode::PerFrame => specs.into_iter().map(|s| vec![s]).collect(),
            _ => vec![specs],
        };
        for frames in groups {
            let data: Vec<u8> = frames.iter().flat_map(FrameSpec::encode).collect();
            self.queue.push_back(Op::Write(Write::new(data, write, frames, true, close.clone())));
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
            self.queue.push_back(Op::Write(Write::new(part, step.write, std::mem::take(&mut frames), false, None)));
            let duration = Duration::from_secs_f64(point.pause * self.scale);
            self.queue.push_back(Op::Pause { duration, mark: point.mark.clone() });
            start = end;
        }
        self.queue.push_back(Op::Write(Write::new(data[start..].to_vec(), step.write, Vec::new(), true, None)));
    }
}
