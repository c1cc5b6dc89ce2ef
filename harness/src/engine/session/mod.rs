//! One case on one open connection: play the script while the receiver reads everything the target
//! sends, answer pings, close as the case says, and record what happened. The loop owns only the
//! writes, the timers and the close state; the opening handshake is [`super::opening`], the checks
//! on what arrives [`super::receiver`]. Every wait is bounded; whatever the target does (stall,
//! flood, lie about lengths, reset) ends in an observation, never a hang or a panic.
//!
//! This module sets a case up and runs the loop that waits on the connection and the timers; what
//! each wake-up does is in its submodules: [`write`] (the script's operations and wsspec's
//! writes), [`incoming`] (what the target sends) and [`closing`] (the closing handshake).

mod closing;
mod incoming;
mod write;

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use tokio::{
    io::{split, AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf},
    time::sleep_until,
};

use super::{
    deflate,
    event::{CompiledAlternative, Event, Tracker},
    opening,
    outgoing::Write,
    pings::Pings,
    receiver::Receiver,
    script::Script,
    transport::Transport,
    wire_log::Dir,
    kept_open::OpenWebSocket,
    observation::TIMER_TOLERANCE,
    Observation, RunOptions, Target,
};
use crate::{
    catalog::{Case, Closer, Role},
    frame::{CloseCode, FrameSpec, OpCode},
    handshake::{self, RequestSpec},
    rules::Violation,
};
use closing::CLOSE_WAIT;
pub use incoming::MAX_MESSAGE_FRAMES;
use write::{write_some, Written};

/// Bytes moved (read or written) after which the session yields to the runtime (64 KiB): a case
/// streaming megabytes generates, masks and digests them a read or write at a time, and lets the
/// other cases in flight run between them.
const YIELD_EVERY: usize = 64 << 10;

/// Runs `case` against the server at `target` (wsspec is the client), opening with the conforming
/// request or the one the case's `handshake.request` makes of it. A case whose correct answers
/// exclude a 101 ends at the handshake.
pub async fn run_case(case: &Case, target: &Target, options: &RunOptions) -> Observation {
    let mut obs = Observation::starting_now();
    let mut request = RequestSpec::websocket(&target.host_header, &target.resource, &handshake::random_key());
    deflate::offer(case, &mut request);
    if let Some(handshake) = &case.handshake {
        if let Some(def) = &handshake.request {
            request = def.request(request);
        }
        if !handshake.may_open() {
            return opening::run_opening(&request, target, options).await;
        }
    }
    if let Some(def) = case.http2.as_ref().filter(|d| !d.runs_frames()) {
        return crate::http2::probe::run(case, def, target, options).await;
    }
    if options.http2 || case.http2.is_some() {
        let headers = crate::http2::client::websocket_headers(&request.headers.0);
        return match crate::http2::client::open(target, &headers, options, &mut obs).await {
            Some(stream) => drive_case(case, Transport::Http2(Box::new(stream)), &[], Role::Server, options, obs).await,
            None => obs,
        };
    }
    match opening::open(target, &request, options, &mut obs).await {
        Some((stream, leftover)) => {
            deflate::take_answer(case, &mut obs);
            drive_case(case, stream, &leftover, Role::Server, options, obs).await
        }
        None => obs,
    }
}

/// Runs `case` on a connection whose WebSocket is already open: `role` is what the target is.
/// `obs` carries what happened before (the handshake).
pub async fn drive_case(case: &Case, stream: Transport, leftover: &[u8], role: Role, options: &RunOptions, obs: Observation) -> Observation {
    let (inflate, deflater) = deflate::codecs(obs.deflate.as_ref(), role, options.max_message);
    let connection = OpenWebSocket { stream, receiver: Receiver::new(role, options.max_message, inflate), deflater, deflate: obs.deflate.clone() };
    drive(case, connection, leftover, role, options, obs, false).await.0
}

/// [`drive_case`] on `connection`; with `keep_open`, a case that ends with the WebSocket open and
/// idle gives the connection back instead of closing it (see [`OpenWebSocket`]).
pub(super) async fn drive(
    case: &Case,
    connection: OpenWebSocket,
    leftover: &[u8],
    role: Role,
    options: &RunOptions,
    mut obs: Observation,
    keep_open: bool,
) -> (Observation, Option<OpenWebSocket>) {
    let OpenWebSocket { stream, receiver, deflater, deflate: agreed } = connection;
    let opened_at = Instant::now();
    super::liveness::announce_open();
    obs.target_role = role;
    let may_play = deflate::may_play(case, &obs);
    // A case that cannot play never needs its alternatives (12.x/13.x compile 1000 digests each).
    let alternatives = if may_play { case.expect.iter().map(|a| CompiledAlternative::new(a, case.close_for(a).by)).collect() } else { Vec::new() };
    let tracker = Tracker::new(alternatives);
    if obs.tls.is_none() {
        obs.tls = stream.tls_info();
        if let Some(info) = &obs.tls {
            obs.log.event(format!("over TLS: {info}"));
        }
    }
    let tls = obs.tls.is_some();
    obs.end_words = stream.end_words();
    let (reader, writer) = split(stream);
    let mut session = Session {
        tls,
        obs,
        role,
        reader,
        writer,
        script: Script::new(&case.steps, role, options.timeout_scale).with_deflater(deflater),
        tracker,
        receiver,
        messages_received: 0,
        open_message_settled: false,
        pings: Pings::default(),
        pending: None,
        partial_frame: false,
        replies: VecDeque::new(),
        unflushed: false,
        pause: None,
        awaiting: None,
        script_done: false,
        script_stopped: false,
        sent_close: false,
        got_close: false,
        tcp_closed: false,
        deadline: opened_at + Duration::from_secs_f64(case.timeout * options.timeout_scale),
        close_deadline: None,
        close_wait: CLOSE_WAIT.mul_f64(options.timeout_scale),
        timers_late: Duration::ZERO,
        keep_open,
    };
    if !may_play {
        // A refused permessage-deflate answer fails the connection; a declined one ends the case.
        let code = session.obs.violation.as_ref().map_or(CloseCode::NORMAL, Violation::close_code);
        session.obs.log.event("the case cannot play without permessage-deflate: wsspec closes at once");
        session.send_close(code, "");
    }
    if !leftover.is_empty() {
        session.on_bytes(leftover);
    }
    session.drive().await;
    session.settle_pongs();
    if let Some(open) = session.receiver.open_message() {
        session.obs.log.rx_message_cut(open.len);
        session.obs.unfinished = Some(open);
    }
    let Session { mut obs, tracker, reader, writer, receiver, script, .. } = session;
    obs.matched = Some(tracker.completed());
    obs.duration = opened_at.elapsed();
    let kept = obs.kept_open.then(|| OpenWebSocket { stream: reader.unsplit(writer), receiver, deflater: script.into_deflater(), deflate: agreed });
    (obs, kept)
}

struct Session<'a> {
    obs: Observation,
    /// The connection runs over TLS: an orderly end of the stream is close_notify, then TCP FIN.
    tls: bool,
    /// What the target is: a server (wsspec is the client) or a client.
    role: Role,
    reader: ReadHalf<Transport>,
    writer: WriteHalf<Transport>,
    script: Script<'a>,
    /// The events so far against the case's alternatives.
    tracker: Tracker,
    /// Checks and reassembles what the target sends.
    receiver: Receiver,
    messages_received: usize,
    /// The message the target is sending cannot match, however it ends (see `check_open_message`).
    open_message_settled: bool,
    /// wsspec's pings and which of them the target answered.
    pings: Pings,
    pending: Option<Write<'a>>,
    /// A frame has been partly written (a split frame between its parts).
    partial_frame: bool,
    /// Frames wsspec owes the target (pongs, its close), written between script frames.
    replies: VecDeque<Vec<u8>>,
    /// Bytes were written since the last flush (over TLS they may still sit in a buffer).
    unflushed: bool,
    pause: Option<(Instant, Option<String>)>,
    awaiting: Option<usize>,
    script_done: bool,
    script_stopped: bool,
    sent_close: bool,
    got_close: bool,
    tcp_closed: bool,
    /// When the case's time is up. wsspec's own pauses do not count against the target: each one
    /// moves the deadline by its length, and by how late it ended.
    deadline: Instant,
    close_deadline: Option<Instant>,
    close_wait: Duration,
    /// The most any of wsspec's timers fired late (a starved runtime on a loaded machine).
    timers_late: Duration,
    /// End the case without closing once the WebSocket is open and idle ([`Session::idle`]).
    keep_open: bool,
}

impl Session<'_> {
    async fn drive(&mut self) {
        let mut buf = super::read_buffer::ReadBuffer::take();
        let mut moved = 0;
        while !self.tcp_closed {
            if moved >= YIELD_EVERY {
                moved = 0;
                tokio::task::yield_now().await;
            }
            if self.role == Role::Client && self.sent_close && self.got_close && self.replies.is_empty() {
                // §7.1.1: the server closes the TCP connection first, once the handshake is done.
                self.obs.log.event("closing handshake complete: wsspec, the server, closes TCP");
                break;
            }
            self.advance_script();
            if self.idle() {
                self.obs.kept_open = true;
                self.obs.timers_late = self.timers_late;
                self.obs.log.event("the case ended with the WebSocket open and idle: wsspec keeps it for the next case");
                let _ = self.writer.flush().await;
                return;
            }
            self.close_when_satisfied();
            let mid_frame = self.mid_frame();
            let can_write = self.pending.is_some() || (!self.replies.is_empty() && !mid_frame);
            let far = Instant::now() + Duration::from_secs(86_400);
            let pause_at = self.pause.as_ref().map_or(far, |(at, _)| *at);
            let case_deadline = if self.sent_close || self.got_close { far } else { self.deadline };
            let close_deadline = self.close_deadline.unwrap_or(far);
            tokio::select! {
                read = self.reader.read(&mut buf) => match read {
                    Ok(0) => self.on_tcp_closed(&format!("the target {}", self.obs.end_words.closed)),
                    Ok(n) => {
                        moved += n;
                        self.obs.log.chunk(Dir::Rx, &buf[..n]);
                        self.on_bytes(&buf[..n]);
                    }
                    Err(e) if self.tls && e.kind() == std::io::ErrorKind::UnexpectedEof => self.on_tls_truncated(),
                    Err(e) => self.on_tcp_closed(&format!("reading failed: {e}")),
                },
                written = write_some(&mut self.writer, &mut self.pending, &mut self.replies, mid_frame, can_write), if can_write || self.unflushed => {
                    match written {
                        Ok(Written::Reply(chunk)) => self.on_written(&chunk, chunk.len()),
                        Ok(Written::Script { prefix, len }) => {
                            moved += len;
                            self.on_written(&prefix, len);
                        }
                        Ok(Written::Flushed) => self.unflushed = false,
                        Err(e) => self.on_tcp_closed(&format!("writing failed: {e}")),
                    }
                }
                _ = sleep_until(pause_at.into()), if self.pause.is_some() => {
                    let (_, mark) = self.pause.take().expect("pause is set");
                    let late = self.note_lateness(pause_at);
                    self.deadline += late;
                    if let Some(mark) = mark {
                        if !self.got_close {
                            self.obs.log.event(format!("mark {mark}"));
                            self.record(Event::Mark(mark));
                        }
                    }
                }
                _ = sleep_until(case_deadline.into()) => {
                    self.note_lateness(case_deadline);
                    self.on_timeout();
                }
                _ = sleep_until(close_deadline.into()), if self.close_deadline.is_some() => {
                    self.note_lateness(close_deadline);
                    self.on_close_timeout();
                }
            }
        }
        let _ = self.writer.shutdown().await;
        self.obs.timers_late = self.timers_late;
        self.settle_clean();
    }

    /// With `keep_open`: the script is over, the events completely match an alternative in which
    /// wsspec closes, and nothing is under way in either direction (no write, reply or pong owed,
    /// no ping unanswered, no close, no message of the target's open): the next case may start here.
    fn idle(&self) -> bool {
        self.keep_open
            && self.script_done
            && !self.sent_close
            && !self.got_close
            && self.pending.is_none()
            && !self.partial_frame
            && self.replies.is_empty()
            && self.pings.all_answered()
            && self.pause.is_none()
            && self.obs.violation.is_none()
            && self.receiver.open_message().is_none()
            && self.tracker.complete_for(Closer::Wsspec)
    }

    /// Records how late a timer due at `due` fired, and returns it.
    fn note_lateness(&mut self, due: Instant) -> Duration {
        let late = Instant::now().saturating_duration_since(due);
        self.timers_late = self.timers_late.max(late);
        if late > TIMER_TOLERANCE {
            self.obs.log.event(format!("wsspec's timer fired {} ms late: the machine is overloaded", late.as_millis()));
        }
        late
    }

    /// A frame wsspec sends on its own account (pong, close), masked as its side must.
    pub(super) fn own_frame(&self, opcode: OpCode, payload: Vec<u8>) -> FrameSpec {
        let frame = FrameSpec::new(opcode, payload);
        match self.role {
            Role::Server => frame.masked(rand::random()),
            Role::Client => frame,
        }
    }
}
