//! The record of what happened on one connection: the HTTP exchange, what the target sent, how the
//! connection closed. The judge, the report, the fuzzer and client testing read it; nothing in it is
//! judged yet.

use std::time::{Duration, Instant, SystemTime};

use super::{event_log::EventLog, receiver::OpenMessage, wire_log::{Dir, WireLog}};
use crate::{
    catalog::Role,
    extension::permessage_deflate::params::Agreed,
    handshake::{self, HandshakeError},
    rules::Violation,
};

/// The opening handshake as it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpExchange {
    /// The request head, raw (as wsspec sent it, or as the client under test did).
    pub request: Vec<u8>,
    /// The response head, raw; when no complete head came, everything that came.
    pub response: Vec<u8>,
    /// The response's status code, when a response head parsed.
    pub status: Option<u16>,
    /// The target's header lines in order: the response's when the target is a server, the
    /// request's when it is a client.
    pub headers: Vec<(String, String)>,
    /// What the target got wrong in its head, when the handshake failed through its answer.
    pub error: Option<HandshakeError>,
}

impl HttpExchange {
    /// The first of the target's headers named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A head as report text: itself when it is text, else a cut hex preview.
    pub fn text(head: &[u8]) -> String {
        match std::str::from_utf8(head) {
            Ok(text) => text.to_string(),
            Err(_) => crate::preview(head, 1024),
        }
    }
}

/// How late wsspec's own timers may fire before a timeout they decide is no longer the target's
/// doing: beyond it the machine is overloaded and the case is wsspec's error, not a verdict.
pub(crate) const TIMER_TOLERANCE: Duration = Duration::from_millis(500);

/// Everything that happened on the connection, for the judge and the report.
#[derive(Debug)]
pub struct Observation {
    pub started: SystemTime,
    /// Why the WebSocket never opened, if it did not.
    pub open_error: Option<String>,
    pub exchange: HttpExchange,
    /// What the target sent (and the script's marks): a bounded preview and counts.
    pub events: EventLog,
    /// Per alternative of the case, in its order: whether every event received matched it
    /// completely, as the session followed them. `None` when no session followed them (the
    /// WebSocket never opened, or an observation made by hand): the judge then matches the kept
    /// events, which are all of them when none was elided.
    pub matched: Option<Vec<bool>>,
    /// The first thing the target sent that breaks the protocol.
    pub violation: Option<Violation>,
    pub closed_by_me: bool,
    pub dropped_by_me: bool,
    pub was_clean: bool,
    pub not_clean_reason: Option<String>,
    /// The close code and reason wsspec sent.
    pub local_close: Option<(Option<u16>, String)>,
    /// The close code and reason (a preview) the target sent.
    pub remote_close: Option<(Option<u16>, String)>,
    /// The case ended with the WebSocket open and idle, and wsspec kept the connection for the next
    /// case instead of closing it (only [`super::run_case_keeping_open`] does): there is no closing
    /// handshake to judge.
    pub kept_open: bool,
    /// wsspec failed the connection because the case's time ran out.
    pub timed_out: bool,
    /// wsspec gave up waiting for the rest of the closing handshake.
    pub close_timed_out: bool,
    /// The most any of wsspec's own timers (pauses, timeouts) fired late: how starved wsspec was.
    pub timers_late: Duration,
    /// What the target was: a server (wsspec the client) or a client.
    pub target_role: Role,
    /// What permessage-deflate came to in the opening handshake, per direction (RFC 7692 §7.1);
    /// `None` when it was not offered or the target declined it.
    pub deflate: Option<Agreed>,
    /// Testing a client: why the case's crafted permessage-deflate answer does not apply to the
    /// client's offer (section 21); the case is then UNIMPLEMENTED.
    pub deflate_unmet: Option<String>,
    /// What an HTTP/2 probe (section 22) found, or that the server lacks RFC 8441.
    pub http2: Option<crate::http2::probe::Finding>,
    pub duration: Duration,
    pub log: WireLog,
    /// What TLS negotiated (`wss://`); `None` over plain TCP.
    pub tls: Option<crate::tls::TlsInfo>,
    /// Why a client refused the TLS handshake (section 17's bad certificates): it never sent a
    /// request.
    pub tls_refusal: Option<String>,
    /// How the transport's end is worded in the log and the reasons (TCP, or an HTTP/2 stream).
    pub end_words: super::EndWords,
    /// The target's data message still unfinished when the case ended (its frames so far).
    pub unfinished: Option<OpenMessage>,
    /// wsspec stopped reading a message at its bound on frames per message
    /// (`session::MAX_MESSAGE_FRAMES`) and failed the connection.
    pub frames_bound: Option<FramesBound>,
}

/// A message of the target's that reached wsspec's bound on frames per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramesBound {
    /// Its data frames when wsspec stopped reading.
    pub frames: u64,
    /// Its payload bytes by then.
    pub len: u64,
    /// The behavior verdict was already settled (no alternative could match, or the message was
    /// already longer than any the case expects): the bound decides nothing. Otherwise whether
    /// the target was right cannot be told.
    pub settled: bool,
}

impl Observation {
    /// An observation whose clock starts now.
    pub fn starting_now() -> Self {
        Self {
            started: SystemTime::now(),
            open_error: None,
            exchange: HttpExchange::default(),
            events: EventLog::default(),
            matched: None,
            violation: None,
            closed_by_me: false,
            dropped_by_me: false,
            was_clean: false,
            not_clean_reason: None,
            local_close: None,
            remote_close: None,
            kept_open: false,
            timed_out: false,
            close_timed_out: false,
            timers_late: Duration::ZERO,
            target_role: Role::Server,
            deflate: None,
            deflate_unmet: None,
            http2: None,
            duration: Duration::ZERO,
            log: WireLog::new(Instant::now()),
            tls: None,
            tls_refusal: None,
            end_words: super::EndWords::default(),
            unfinished: None,
            frames_bound: None,
        }
    }

    /// wsspec's own fault, when a timeout decided the case while wsspec's timers ran more than
    /// [`TIMER_TOLERANCE`] late: the machine was overloaded, so the timeout cannot be blamed on the
    /// target.
    pub fn overload(&self) -> Option<String> {
        ((self.timed_out || self.close_timed_out) && self.timers_late > TIMER_TOLERANCE).then(|| {
            format!(
                "wsspec's own timers fired up to {} ms late (the machine is overloaded), so the timeout that decided this case is not the target's fault; rerun with fewer --jobs or a larger --timeout-scale",
                self.timers_late.as_millis()
            )
        })
    }

    /// Records the opening handshake the server side of wsspec received (`request`, the client's
    /// head) and answered (`response`, with the `status` it carries). A refused request keeps
    /// `error`, what the client got wrong, and `open_error` says the WebSocket never opened.
    pub fn record_handshake(&mut self, request: &[u8], response: &[u8], status: u16, error: Option<HandshakeError>) {
        self.target_role = Role::Client;
        self.log.chunk(Dir::Rx, request);
        self.log.chunk(Dir::Tx, response);
        self.exchange.request = request.to_vec();
        self.exchange.response = response.to_vec();
        self.exchange.status = Some(status);
        if let Ok(Some(parsed)) = handshake::parse_request(request) {
            self.exchange.headers = parsed.headers;
        }
        if let Some(error) = error {
            self.open_error = Some(format!("wsspec refused the client's opening handshake: {error}"));
            self.exchange.error = Some(error);
        }
    }

    /// A case wsspec could not finish through its own fault.
    pub fn aborted(reason: &str) -> Self {
        let mut obs = Self::starting_now();
        obs.open_error = Some(reason.to_string());
        obs
    }
}
