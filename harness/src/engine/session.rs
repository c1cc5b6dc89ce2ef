//! One case on one connection: connect, open the WebSocket, play the script while reading
//! everything the target sends, close as the case says, and report what happened. Every wait is
//! bounded; whatever the target does (stall, flood, lie about lengths, reset) ends in an
//! observation, never a hang or a panic.

use std::{
    collections::VecDeque,
    time::{Duration, Instant, SystemTime},
};

use tokio::{
    io::{split, AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf},
    net::TcpStream,
    time::{sleep_until, timeout},
};

use super::{
    event::{CompiledAlternative, Event, Tracker},
    script::{Op, Script, Write},
    wire_log::{Dir, WireLog},
    transport::Transport,
    RunOptions, Target,
};
use crate::{
    catalog::{Case, Closer, Role},
    frame::{parse_close_payload, CloseCode, DecodeError, Decoder, Frame, FrameSpec, OpCode},
    handshake,
    utf8::Utf8Validator,
};

/// How long wsspec waits for the rest of a closing handshake (Autobahn waits 1 s; 2 s keeps a loaded CI machine from turning a slow answer into UNCLEAN).
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// How long the opening handshake may take (Autobahn's 5 s).
const OPEN_WAIT: Duration = Duration::from_secs(5);
/// Events kept before a target counts as flooding.
const MAX_EVENTS: usize = 100_000;

/// Everything that happened on the connection, for the judge and the report.
#[derive(Debug)]
pub struct Observation {
    pub started: SystemTime,
    /// Why the WebSocket never opened, if it did not.
    pub open_error: Option<String>,
    pub request: String,
    pub response: String,
    pub events: Vec<Event>,
    /// The first thing the target sent that breaks the protocol.
    pub violation: Option<String>,
    pub closed_by_me: bool,
    pub dropped_by_me: bool,
    pub was_clean: bool,
    pub not_clean_reason: Option<String>,
    pub local_close: Option<(Option<u16>, String)>,
    pub remote_close: Option<(Option<u16>, String)>,
    /// wsspec failed the connection because the case's time ran out.
    pub timed_out: bool,
    /// What the target was: a server (wsspec the client) or a client.
    pub target_role: Role,
    pub duration: Duration,
    pub log: WireLog,
    /// What TLS negotiated (`wss://`); `None` over plain TCP.
    pub tls: Option<crate::tls::TlsInfo>,
    /// Why a client refused the TLS handshake (the TLS section's bad certificates): it never sent
    /// a request.
    pub tls_refusal: Option<String>,
}

impl Observation {
    /// An observation whose clock starts now.
    pub fn starting_now() -> Self {
        Self::new(Instant::now())
    }

    /// Records the opening handshake the server side of wsspec received and answered.
    pub fn record_handshake(&mut self, request: &[u8], response: &str) {
        self.log.chunk(Dir::Rx, request);
        self.log.chunk(Dir::Tx, response.as_bytes());
        self.request = String::from_utf8_lossy(request).into_owned();
        self.response = response.to_string();
    }

    /// A case wsspec could not finish through its own fault.
    pub fn aborted(reason: &str) -> Self {
        let mut obs = Self::new(Instant::now());
        obs.open_error = Some(reason.to_string());
        obs
    }

    fn new(start: Instant) -> Self {
        Self {
            started: SystemTime::now(),
            open_error: None,
            request: String::new(),
            response: String::new(),
            events: Vec::new(),
            violation: None,
            closed_by_me: false,
            dropped_by_me: false,
            was_clean: false,
            not_clean_reason: None,
            local_close: None,
            remote_close: None,
            timed_out: false,
            target_role: Role::Server,
            duration: Duration::ZERO,
            log: WireLog::new(start),
            tls: None,
            tls_refusal: None,
        }
    }
}

/// Runs `case` against the server at `target` (wsspec is the client).
pub async fn run_case(case: &Case, target: &Target, options: &RunOptions) -> Observation {
    let mut obs = Observation::new(Instant::now());
    let open_wait = OPEN_WAIT.mul_f64(options.timeout_scale);
    match timeout(open_wait, open(target, options.tls.as_ref(), &mut obs)).await {
        Ok(Ok((stream, leftover))) => drive_case(case, stream, &leftover, Role::Server, options, obs).await,
        Ok(Err(reason)) => {
            obs.open_error = Some(reason);
            obs
        }
        Err(_) => {
            obs.open_error = Some(format!("no complete opening handshake within {:.1} s", open_wait.as_secs_f64()));
            obs
        }
    }
}

/// Runs `case` on a connection whose WebSocket is already open: `role` is what the target is.
/// `obs` carries what happened before (the handshake).
pub async fn drive_case(case: &Case, stream: Transport, leftover: &[u8], role: Role, options: &RunOptions, mut obs: Observation) -> Observation {
    let opened_at = Instant::now();
    obs.target_role = role;
    let tracker = Tracker::new(case.expect.iter().map(|a| CompiledAlternative::new(a, case.close_for(a).by)).collect());
    if obs.tls.is_none() {
        obs.tls = stream.tls_info();
        if let Some(info) = &obs.tls {
            obs.log.event(format!("over TLS: {info}"));
        }
    }
    let tls = obs.tls.is_some();
    let (reader, writer) = split(stream);
    let mut session = Session {
        tls,
        obs,
        role,
        reader,
        writer,
        script: Script::new(&case.steps, role, options.timeout_scale),
        tracker,
        decoder: Decoder::new(options.max_message as u64),
        max_message: options.max_message,
        message: None,
        messages_received: 0,
        last_mask: None,
        pending: None,
        partial_frame: false,
        replies: VecDeque::new(),
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
    };
    if !leftover.is_empty() {
        session.on_bytes(leftover);
    }
    session.drive().await;
    let mut obs = session.obs;
    obs.duration = opened_at.elapsed();
    obs
}

/// Connects (over TLS for `wss://`, §4.1 step 5) and completes the opening handshake; returns the
/// stream and any bytes read past it.
async fn open(target: &Target, tls: Option<&crate::tls::Connector>, obs: &mut Observation) -> Result<(Transport, Vec<u8>), String> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", target.host, target.port))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut stream = match (target.secure, tls) {
        (false, _) => Transport::from(tcp),
        (true, Some(connector)) => {
            let stream = Transport::from(connector.connect(&target.server_name, tcp).await?);
            obs.tls = stream.tls_info();
            if let Some(info) = &obs.tls {
                obs.log.event(format!("TLS established: {info}"));
            }
            stream
        }
        (true, None) => return Err("wss:// without a TLS connector (a bug in wsspec)".into()),
    };
    let key = handshake::random_key();
    obs.request = handshake::client_request(&target.host_header, &target.resource, &key);
    obs.log.chunk(Dir::Tx, obs.request.as_bytes());
    stream.write_all(obs.request.as_bytes()).await.map_err(|e| format!("sending the opening handshake: {e}"))?;
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.map_err(|e| format!("reading the opening handshake: {e}"))?;
        if n == 0 {
            obs.response = String::from_utf8_lossy(&buf).into_owned();
            return Err("the target closed the connection during the opening handshake".into());
        }
        obs.log.chunk(Dir::Rx, &chunk[..n]);
        buf.extend_from_slice(&chunk[..n]);
        match handshake::parse_response(&buf) {
            Ok(None) => continue,
            Ok(Some(response)) => {
                obs.response = String::from_utf8_lossy(&buf[..response.head_len]).into_owned();
                handshake::check_response(&response, &key).map_err(|e| format!("opening handshake: {e}"))?;
                return Ok((stream, buf[response.head_len..].to_vec()));
            }
            Err(e) => {
                obs.response = crate::preview(&buf, 1024);
                return Err(format!("opening handshake: {e}"));
            }
        }
    }
}

/// A write in progress.
struct Pending {
    write: Write,
    offset: usize,
}

/// A data message being reassembled.
struct Message {
    binary: bool,
    payload: Vec<u8>,
    utf8: Utf8Validator,
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
    decoder: Decoder,
    max_message: usize,
    message: Option<Message>,
    messages_received: usize,
    /// The mask key of the client's previous frame, to catch a key that never changes (§5.3).
    last_mask: Option<[u8; 4]>,
    pending: Option<Pending>,
    /// A frame has been partly written (a split frame between its parts).
    partial_frame: bool,
    /// Frames wsspec owes the target (pongs, its close), written between script frames.
    replies: VecDeque<Vec<u8>>,
    pause: Option<(Instant, Option<String>)>,
    awaiting: Option<usize>,
    script_done: bool,
    script_stopped: bool,
    sent_close: bool,
    got_close: bool,
    tcp_closed: bool,
    deadline: Instant,
    close_deadline: Option<Instant>,
    close_wait: Duration,
}

impl Session<'_> {
    async fn drive(&mut self) {
        let mut buf = vec![0u8; 64 * 1024];
        while !self.tcp_closed {
            if self.role == Role::Client && self.sent_close && self.got_close && self.replies.is_empty() {
                // §7.1.1: the server closes the TCP connection first, once the handshake is done.
                self.obs.log.event("closing handshake complete: wsspec, the server, closes TCP");
                break;
            }
            self.advance_script();
            self.close_when_satisfied();
            let mid_frame = self.partial_frame || self.pending.as_ref().is_some_and(|p| p.offset > 0);
            let can_write = self.pending.is_some() || (!self.replies.is_empty() && !mid_frame);
            let far = Instant::now() + Duration::from_secs(86_400);
            let pause_at = self.pause.as_ref().map_or(far, |(at, _)| *at);
            let case_deadline = if self.sent_close || self.got_close { far } else { self.deadline };
            let close_deadline = self.close_deadline.unwrap_or(far);
            tokio::select! {
                read = self.reader.read(&mut buf) => match read {
                    Ok(0) => self.on_tcp_closed("the target closed the TCP connection"),
                    Ok(n) => {
                        self.obs.log.chunk(Dir::Rx, &buf[..n]);
                        let data = buf[..n].to_vec();
                        self.on_bytes(&data);
                    }
                    Err(e) if self.tls && e.kind() == std::io::ErrorKind::UnexpectedEof => self.on_tls_truncated(),
                    Err(e) => self.on_tcp_closed(&format!("reading failed: {e}")),
                },
                written = write_some(&mut self.writer, &mut self.pending, &mut self.replies, mid_frame), if can_write => {
                    match written {
                        Ok(chunk) => self.on_written(chunk),
                        Err(e) => self.on_tcp_closed(&format!("writing failed: {e}")),
                    }
                }
                _ = sleep_until(pause_at.into()), if self.pause.is_some() => {
                    let (_, mark) = self.pause.take().expect("pause is set");
                    if let Some(mark) = mark {
                        if !self.got_close {
                            self.obs.log.event(format!("mark {mark}"));
                            self.record(Event::Mark(mark));
                        }
                    }
                }
                _ = sleep_until(case_deadline.into()) => self.on_timeout(),
                _ = sleep_until(close_deadline.into()), if self.close_deadline.is_some() => {
                    self.obs.log.event("closing handshake timed out: wsspec drops the TCP connection");
                    if self.obs.not_clean_reason.is_none() {
                        self.obs.not_clean_reason = Some(if self.got_close && self.sent_close {
                            "the server did not close the TCP connection after the closing handshake".into()
                        } else {
                            "the target did not answer wsspec's close frame in time".into()
                        });
                    }
                    self.drop_connection();
                }
            }
        }
        let _ = self.writer.shutdown().await;
        self.obs.was_clean = self.sent_close && self.got_close && !self.obs.dropped_by_me && self.obs.not_clean_reason.is_none();
        if !self.obs.was_clean && self.obs.not_clean_reason.is_none() {
            self.obs.not_clean_reason = Some(if !self.got_close {
                "the target dropped the TCP connection without a closing handshake".into()
            } else {
                "the closing handshake did not complete".into()
            });
        }
    }

    /// Takes script operations until one has to wait.
    fn advance_script(&mut self) {
        while self.pending.is_none() && self.pause.is_none() && self.awaiting.is_none() && !self.script_done && !self.script_stopped {
            match self.script.next_op() {
                Some(Op::Write(write)) => {
                    for frame in &write.frames {
                        log_tx_frame(&mut self.obs.log, frame);
                    }
                    if let Some(payload) = &write.close {
                        self.note_local_close(payload);
                    }
                    self.pending = Some(Pending { write, offset: 0 });
                }
                Some(Op::Pause { duration, mark }) => self.pause = Some((Instant::now() + duration, mark)),
                Some(Op::AwaitMessage) => self.awaiting = Some(self.messages_received + 1),
                None => self.script_done = true,
            }
        }
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
        log_tx_frame(&mut self.obs.log, &frame);
        self.replies.push_back(frame.encode());
        self.note_local_close(&payload);
        self.stop_script();
    }

    fn stop_script(&mut self) {
        self.script_stopped = true;
        self.pause = None;
        self.awaiting = None;
        // A whole pending write may be abandoned; one already started must finish its frame.
        if self.pending.as_ref().is_some_and(|p| p.offset == 0) && !self.partial_frame {
            self.pending = None;
        }
    }

    fn on_written(&mut self, chunk: Vec<u8>) {
        self.obs.log.chunk(Dir::Tx, &chunk);
        if let Some(pending) = &self.pending {
            if pending.offset >= pending.write.data.len() {
                self.partial_frame = !pending.write.ends_frame;
                self.pending = None;
                if self.script_stopped && self.partial_frame {
                    // The rest of a split frame will never come; the stream cannot carry a close.
                    self.drop_connection();
                }
            }
        }
    }

    fn on_timeout(&mut self) {
        self.obs.timed_out = true;
        self.obs.log.event("case timeout: wsspec fails the connection");
        if self.partial_frame || self.pending.as_ref().is_some_and(|p| p.offset > 0) {
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
        self.obs.log.event("TCP dropped by wsspec");
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

    fn violation(&mut self, what: String) {
        self.obs.log.event(format!("protocol violation by the target: {what}"));
        if self.obs.violation.is_none() {
            self.obs.violation = Some(what);
        }
        if !self.sent_close {
            self.send_close(CloseCode::PROTOCOL_ERROR, "");
        }
    }

    fn on_bytes(&mut self, data: &[u8]) {
        self.decoder.push(data);
        while !self.tcp_closed {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.on_frame(frame),
                Ok(None) => break,
                Err(DecodeError::TooLarge { declared, limit }) => {
                    self.violation(format!("a frame declares {declared} bytes, more than the {limit} wsspec accepts"));
                    self.drop_connection();
                }
            }
        }
    }

    fn on_frame(&mut self, frame: Frame) {
        let Frame { header, payload } = frame;
        self.obs.log.frame(Dir::Rx, &header, &payload);
        if self.got_close {
            return self.violation(format!("a {} frame after its close frame (§5.5.1)", header.opcode));
        }
        match (self.role, header.mask) {
            (Role::Server, Some(_)) => return self.violation("a masked frame: a server MUST NOT mask any frames (§5.1)".into()),
            (Role::Client, None) => return self.violation("an unmasked frame: a client MUST mask all frames it sends (§5.1)".into()),
            (Role::Client, Some(key)) if self.last_mask == Some(key) => {
                return self.violation(format!(
                    "two frames in a row masked with the key {}: a client MUST pick a fresh key for each frame (§5.3)",
                    hex::encode(key)
                ));
            }
            (Role::Client, key) => self.last_mask = key,
            (Role::Server, None) => {}
        }
        if header.rsv != 0 {
            return self.violation(format!("RSV bits {:03b} without an extension (§5.2)", header.rsv));
        }
        if header.opcode.is_reserved() {
            return self.violation(format!("reserved opcode {} (§5.2)", header.opcode.as_u8()));
        }
        if header.opcode.is_control() && (!header.fin || payload.len() > 125) {
            return self.violation(format!("a fragmented or over-long {} frame (§5.5)", header.opcode));
        }
        match header.opcode {
            OpCode::Close => self.on_close(&payload),
            OpCode::Ping => {
                self.push_event(Event::Ping(payload.clone()));
                if !self.sent_close {
                    let pong = self.own_frame(OpCode::Pong, payload);
                    log_tx_frame(&mut self.obs.log, &pong);
                    self.replies.push_back(pong.encode());
                }
            }
            OpCode::Pong => self.push_event(Event::Pong(payload)),
            OpCode::Text | OpCode::Binary => {
                if self.message.is_some() {
                    return self.violation("a new data frame inside a fragmented message (§5.4)".into());
                }
                self.message = Some(Message { binary: header.opcode == OpCode::Binary, payload: Vec::new(), utf8: Utf8Validator::new() });
                self.on_fragment(payload, header.fin);
            }
            OpCode::Continuation => {
                if self.message.is_none() {
                    return self.violation("a continuation frame with no message to continue (§5.4)".into());
                }
                self.on_fragment(payload, header.fin);
            }
            OpCode::ReservedData(_) | OpCode::ReservedControl(_) => unreachable!("refused above"),
        }
    }

    fn on_fragment(&mut self, payload: Vec<u8>, fin: bool) {
        let message = self.message.as_mut().expect("a message is open");
        if message.payload.len() + payload.len() > self.max_message {
            return self.violation(format!("a message longer than the {} bytes wsspec accepts", self.max_message));
        }
        if !message.binary && message.utf8.feed(&payload).is_err() {
            return self.violation("a text message that is not UTF-8 (§8.1)".into());
        }
        message.payload.extend_from_slice(&payload);
        if fin {
            let message = self.message.take().expect("a message is open");
            if !message.binary && message.utf8.finish().is_err() {
                return self.violation("a text message that ends inside a UTF-8 sequence (§8.1)".into());
            }
            self.messages_received += 1;
            if self.awaiting.is_some_and(|n| self.messages_received >= n) {
                self.awaiting = None;
            }
            self.push_event(Event::message(message.binary, &message.payload));
        }
    }

    fn push_event(&mut self, event: Event) {
        if self.obs.events.len() >= MAX_EVENTS {
            self.violation(format!("more than {MAX_EVENTS} messages and control frames (flooding)"));
            return self.drop_connection();
        }
        self.record(event);
    }

    fn record(&mut self, event: Event) {
        self.tracker.push(&event);
        self.obs.events.push(event);
        if self.tracker.is_dead() && !self.sent_close && !self.got_close {
            // The behavior verdict is settled; give the target the usual close wait to fail the
            // connection itself rather than the whole case timeout (100 s for 9.x).
            let soon = Instant::now() + self.close_wait;
            if soon < self.deadline {
                self.obs.log.event("no expected alternative can match any more: the case ends soon");
                self.deadline = soon;
            }
        }
    }

    fn on_close(&mut self, payload: &[u8]) {
        self.got_close = true;
        self.stop_script();
        match parse_close_payload(payload) {
            Ok(None) => self.obs.remote_close = Some((None, String::new())),
            Ok(Some((code, reason))) => {
                self.obs.remote_close = Some((Some(code.0), crate::preview(reason, 123)));
                if !code.is_sendable() {
                    self.obs.violation.get_or_insert(format!("close code {} may not be sent (§7.4)", code.0));
                }
                if std::str::from_utf8(reason).is_err() {
                    self.obs.violation.get_or_insert("a close reason that is not UTF-8 (§5.5.1)".into());
                }
            }
            Err(()) => {
                self.obs.remote_close = Some((None, String::new()));
                self.obs.violation.get_or_insert("a close frame with a 1-byte payload (§5.5.1)".into());
            }
        }
        if !self.sent_close {
            // Autobahn answers with 1000 rather than echoing the code.
            self.send_close(CloseCode::NORMAL, "");
        }
        self.close_deadline = Some(Instant::now() + self.close_wait);
    }
}

fn log_tx_frame(log: &mut WireLog, frame: &FrameSpec) {
    let data = frame.encode();
    if let Some((header, _)) = crate::frame::parse_header(&data) {
        log.frame(Dir::Tx, &header, &frame.payload);
    }
}

/// One write call: a reply if the stream is between frames, else the next chunk of the pending
/// write. Returns the bytes written. Cancel-safe: a cancelled `write` wrote nothing.
async fn write_some(
    writer: &mut WriteHalf<Transport>,
    pending: &mut Option<Pending>,
    replies: &mut VecDeque<Vec<u8>>,
    mid_frame: bool,
) -> std::io::Result<Vec<u8>> {
    if !mid_frame {
        if let Some(reply) = replies.front_mut() {
            let n = writer.write(reply).await?;
            let written: Vec<u8> = reply.drain(..n).collect();
            if reply.is_empty() {
                replies.pop_front();
            }
            return Ok(written);
        }
    }
    let p = pending.as_mut().expect("a pending write");
    let end = (p.offset + p.write.chunk).min(p.write.data.len());
    let n = writer.write(&p.write.data[p.offset..end]).await?;
    if n == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "socket accepted no bytes"));
    }
    let written = p.write.data[p.offset..p.offset + n].to_vec();
    p.offset += n;
    Ok(written)
}
