//! One case on one open connection: play the script while the receiver reads everything the target
//! sends, answer pings, close as the case says, and record what happened. The loop owns only the
//! writes, the timers and the close state; the opening handshake is [`super::opening`], the checks
//! on what arrives [`super::receiver`]. Every wait is bounded; whatever the target does (stall,
//! flood, lie about lengths, reset) ends in an observation, never a hang or a panic.

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
    outgoing::{SentFrame, Write},
    pings::Pings,
    receiver::{Received, Receiver},
    script::{Op, Script},
    session_write::{log_tx_frame, write_some, Written},
    transport::Transport,
    wire_log::Dir,
    kept_open::OpenWebSocket,
    observation::TIMER_TOLERANCE,
    Observation, RunOptions, Target,
};
use crate::{
    catalog::{Case, Closer, Role},
    frame::{parse_close_payload, CloseCode, FrameSpec, OpCode},
    handshake::{self, RequestSpec},
    rules::Violation,
};

/// How long wsspec waits for the rest of a closing handshake (Autobahn waits 1 s; 2 s keeps a loaded CI machine from turning a slow answer into UNCLEAN).
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Replies (pongs, a close) queued unwritten before a new pong replaces the last one.
const MAX_QUEUED_REPLIES: usize = 16;
/// Events a target may send in one case before it counts as flooding (they are counted, and only a
/// preview is kept: see `EventLog`).
const MAX_EVENTS: usize = 100_000;
/// The most data frames wsspec reads of one message from the target: 1,048,576, as many as a case
/// may cut one of its own messages into (`catalog::MAX_FRAGMENTS`), so a target echoing frame by
/// frame always fits. A message of more (an endless stream of tiny or empty fragments, which no
/// byte bound stops) reaches wsspec's own bound: wsspec fails the connection with 1009 (§7.4.1,
/// as §10.4 lets a receiver protect itself), the record says so, and the case is not the
/// target's failure unless its verdict was already settled (see `judge`).
pub const MAX_MESSAGE_FRAMES: u64 = crate::catalog::MAX_FRAGMENTS as u64;
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
                    self.obs.close_timed_out = true;
                    self.obs.log.event(format!("closing handshake timed out: wsspec {}", self.obs.end_words.drops));
                    if self.obs.not_clean_reason.is_none() {
                        self.obs.not_clean_reason = Some(if self.got_close && self.sent_close {
                            format!("the server did not {} after the closing handshake", self.obs.end_words.close)
                        } else {
                            "the target did not answer wsspec's close frame in time".into()
                        });
                    }
                    self.drop_connection();
                }
            }
        }
        let _ = self.writer.shutdown().await;
        self.obs.timers_late = self.timers_late;
        self.obs.was_clean = self.sent_close && self.got_close && !self.obs.dropped_by_me && self.obs.not_clean_reason.is_none();
        if !self.obs.was_clean && self.obs.not_clean_reason.is_none() {
            self.obs.not_clean_reason = Some(if !self.got_close {
                format!("the target {} without a closing handshake", self.obs.end_words.dropped)
            } else {
                "the closing handshake did not complete".into()
            });
        }
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

    /// Takes script operations until one has to wait.
    fn advance_script(&mut self) {
        while self.pending.is_none() && self.pause.is_none() && self.awaiting.is_none() && !self.script_done && !self.script_stopped {
            match self.script.next_op() {
                Some(Op::Write(write)) => {
                    if let Some(payload) = &write.close {
                        self.note_local_close(payload);
                    }
                    self.pending = Some(write);
                }
                Some(Op::Pause { duration, mark }) => {
                    self.deadline += duration;
                    self.pause = Some((Instant::now() + duration, mark));
                }
                Some(Op::AwaitMessage) => self.awaiting = Some(self.messages_received + 1),
                None => self.script_done = true,
            }
        }
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

    /// After the script, closes as soon as the events match an alternative in which wsspec closes.
    fn close_when_satisfied(&mut self) {
        if self.script_done && !self.sent_close && !self.got_close && self.tracker.complete_for(Closer::Wsspec) {
            self.send_close(CloseCode::NORMAL, "");
        }
    }

    fn note_local_close(&mut self, payload: &[u8]) {
        if !self.sent_close {
            self.sent_close = true;
            self.obs.closed_by_me = !self.got_close;
            let parsed = parse_close_payload(payload).ok().flatten();
            self.obs.local_close = Some((parsed.map(|(c, _)| c.0), parsed.map(|(_, r)| crate::preview(r, 123)).unwrap_or_default()));
            self.close_deadline = Some(Instant::now() + self.close_wait);
        }
    }

    /// Queues a close frame of wsspec's own and stops the script.
    fn send_close(&mut self, code: CloseCode, reason: &str) {
        let mut payload = code.0.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        let frame = self.own_frame(OpCode::Close, payload.clone());
        log_tx_frame(&mut self.obs.log, &frame, frame.payload.len());
        self.replies.push_back(frame.encode());
        self.note_local_close(&payload);
        self.stop_script();
    }

    fn stop_script(&mut self) {
        self.script_stopped = true;
        self.pause = None;
        self.awaiting = None;
        // A whole pending write may be abandoned; one already started must finish its frame.
        if self.pending.as_ref().is_some_and(|p| !p.started()) && !self.partial_frame {
            self.pending = None;
        }
    }

    /// Logs the frames a script write started (their bytes are on their way now), and notes the
    /// pings among them as awaiting a pong.
    fn on_frames_sent(&mut self, frames: Vec<SentFrame>) {
        for SentFrame { spec, payload_len } in frames {
            log_tx_frame(&mut self.obs.log, &spec, payload_len);
            if spec.opcode == OpCode::Ping {
                self.pings.sent(spec.payload);
            }
        }
    }

    /// `len` bytes were written (a reply, or the pending write's), starting with `prefix`.
    fn on_written(&mut self, prefix: &[u8], len: usize) {
        if let Some(sent) = self.pending.as_mut().map(Write::take_sent) {
            self.on_frames_sent(sent);
        }
        self.obs.log.chunk_of(Dir::Tx, prefix, len);
        self.unflushed = true;
        if let Some(pending) = &self.pending {
            if pending.is_done() {
                self.partial_frame = !pending.ends_frame;
                self.pending = None;
                if self.script_stopped && self.partial_frame {
                    // The rest of a split frame will never come; the stream cannot carry a close.
                    self.drop_connection();
                }
            }
        }
    }

    /// Whether a frame of wsspec's is partly written: nothing else (a reply, a close) may go on the
    /// wire until it is whole (§5.4).
    fn mid_frame(&self) -> bool {
        self.partial_frame || self.pending.as_ref().is_some_and(Write::started)
    }

    fn on_timeout(&mut self) {
        self.obs.timed_out = true;
        self.obs.log.event("case timeout: wsspec fails the connection");
        if self.mid_frame() {
            self.obs.closed_by_me = true;
            self.drop_connection();
        } else {
            self.pending = None;
            self.send_close(CloseCode::GOING_AWAY, "Going Away");
        }
    }

    /// A frame wsspec sends on its own account (pong, close), masked as its side must.
    fn own_frame(&self, opcode: OpCode, payload: Vec<u8>) -> FrameSpec {
        let frame = FrameSpec::new(opcode, payload);
        match self.role {
            Role::Server => frame.masked(rand::random()),
            Role::Client => frame,
        }
    }

    fn drop_connection(&mut self) {
        self.obs.dropped_by_me = true;
        self.obs.log.event(self.obs.end_words.dropped_by_wsspec);
        self.tcp_closed = true;
    }

    fn on_tcp_closed(&mut self, how: &str) {
        self.obs.log.event(how);
        if !self.sent_close && !self.got_close {
            self.obs.not_clean_reason = Some(format!("{how} without a closing handshake"));
        }
        self.tcp_closed = true;
    }

    /// TCP closed without TLS close_notify: §7.1.1 asks an endpoint to close the TLS session
    /// cleanly too (a SHOULD), so the close is not clean.
    fn on_tls_truncated(&mut self) {
        let how = "the target closed TCP without a TLS close_notify alert";
        if (self.sent_close || self.got_close) && self.obs.not_clean_reason.is_none() {
            self.obs.not_clean_reason = Some(format!("{how} (§7.1.1: it SHOULD close the TLS session cleanly too)"));
        }
        self.on_tcp_closed(how);
    }

    fn violation(&mut self, violation: Violation) {
        self.obs.log.event(format!("protocol violation by the target: {violation}"));
        let code = violation.close_code();
        self.obs.violation.get_or_insert(violation);
        if !self.sent_close {
            self.send_close(code, "");
        }
    }

    fn on_bytes(&mut self, data: &[u8]) {
        self.receiver.push(data);
        while !self.tcp_closed {
            let Some(received) = self.receiver.next(&mut self.obs.log) else { break };
            match received {
                Received::Message { binary, len, sha1, preview } => {
                    self.messages_received += 1;
                    if self.awaiting.is_some_and(|n| self.messages_received >= n) {
                        self.awaiting = None;
                    }
                    self.push_event(Event::Message { binary, len, sha1, preview });
                }
                Received::Ping(payload) => {
                    self.push_event(Event::Ping(payload.clone()));
                    if !self.sent_close {
                        let pong = self.own_frame(OpCode::Pong, payload);
                        log_tx_frame(&mut self.obs.log, &pong, pong.payload.len());
                        self.queue_pong(pong.encode());
                    }
                }
                Received::Pong(payload) => {
                    let event = self.pings.pong(payload);
                    self.push_event(event);
                }
                Received::Close { code, reason } => self.on_close(code, reason),
                Received::Violation(violation) => self.violation(violation),
                Received::Unreadable(violation) => {
                    self.violation(violation);
                    self.drop_connection();
                }
            }
        }
        self.check_open_message();
    }

    /// Settles what a message still arriving decides: one longer than any message the case expects
    /// next cannot match however it ends (an echo longer than what was sent), so the case ends
    /// soon, as when no alternative can match; one of more than [`MAX_MESSAGE_FRAMES`] frames
    /// reaches wsspec's bound, and wsspec fails the connection (1009).
    fn check_open_message(&mut self) {
        let Some(open) = self.receiver.open_message() else { return };
        if self.sent_close || self.got_close || self.tcp_closed {
            return;
        }
        // A compressed message is compared once inflated: its length on the wire says nothing yet.
        if !open.transformed && !self.open_message_settled && !self.tracker.may_take_message(open.binary, open.len) {
            self.open_message_settled = true;
            self.end_soon(&format!(
                "a message still arriving ({} bytes so far) is longer than any the case expects next: no expected alternative can match",
                open.len
            ));
        }
        if open.frames > MAX_MESSAGE_FRAMES {
            let settled = self.open_message_settled || self.tracker.is_dead();
            self.obs.frames_bound = Some(super::FramesBound { frames: open.frames, len: open.len, settled });
            self.obs.log.event(format!(
                "a message of more than {MAX_MESSAGE_FRAMES} frames ({} bytes so far), wsspec's bound: wsspec fails the connection",
                open.len
            ));
            self.send_close(CloseCode::MESSAGE_TOO_BIG, "");
        }
    }

    /// The behavior verdict is settled: gives the target the usual close wait to fail the
    /// connection itself rather than the whole case timeout (1,000 s for 9.5 and 9.6). `why` goes
    /// to the wire log.
    fn end_soon(&mut self, why: &str) {
        let soon = Instant::now() + self.close_wait;
        if soon < self.deadline {
            self.obs.log.event(format!("{why}: the case ends soon"));
            self.deadline = soon;
        }
    }

    /// Queues a pong; with [`MAX_QUEUED_REPLIES`] replies unwritten (a target that pings without
    /// reading), the last queued pong is replaced instead: §5.5.3 lets an endpoint answer only the
    /// most recent ping, and the queue stays bounded.
    fn queue_pong(&mut self, pong: Vec<u8>) {
        let full = self.replies.len() >= MAX_QUEUED_REPLIES;
        match self.replies.back_mut() {
            // Never the front: it may be partly written.
            Some(last) if full && last.first() == Some(&0x8A) => {
                *last = pong;
                self.obs.log.event("an unwritten pong replaced by the answer to the latest ping (§5.5.3)");
            }
            _ => self.replies.push_back(pong),
        }
        if self.mid_frame() {
            // The wire log shows the frame now; its bytes follow once the frame under way is whole.
            self.obs.log.event("the pong waits until the frame wsspec is sending is complete: a control frame cannot go inside a frame (§5.4)");
        }
    }

    fn push_event(&mut self, event: Event) {
        if self.obs.events.len() >= MAX_EVENTS {
            self.violation(Violation::Flood { limit: MAX_EVENTS });
            return self.drop_connection();
        }
        self.record(event);
    }

    fn record(&mut self, event: Event) {
        self.tracker.push(&event);
        self.obs.events.push(event);
        if self.tracker.is_dead() && !self.sent_close && !self.got_close {
            self.end_soon("no expected alternative can match any more");
        }
    }

    /// At the end of the case: a stray pong is the target's wrong answer to a ping of wsspec's
    /// when nothing else settled the case (see [`Pings::wrong_answer`]).
    fn settle_pongs(&mut self) {
        if self.obs.violation.is_none() {
            if let Some(violation) = self.pings.wrong_answer(self.tracker.completed().contains(&true)) {
                self.obs.log.event(format!("protocol violation by the target: {violation}"));
                self.obs.violation = Some(violation);
            }
        }
    }

    fn on_close(&mut self, code: Option<u16>, reason: String) {
        self.got_close = true;
        self.stop_script();
        self.obs.remote_close = Some((code, reason));
        if !self.sent_close {
            // Autobahn answers with 1000 rather than echoing the code.
            self.send_close(CloseCode::NORMAL, "");
        }
        self.close_deadline = Some(Instant::now() + self.close_wait);
    }
}
