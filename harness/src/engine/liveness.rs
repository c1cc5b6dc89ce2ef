//! Whether the target speaks WebSocket, told from the cases themselves. A case that opened its
//! WebSocket shows the target was alive and speaking WebSocket when it started: it vouches for the
//! cases that failed to open (or were refused, as a handshake case may be) before that moment, and
//! only for those. A long case that opened before the target died says nothing about the cases
//! that failed after it (they were graded as failures of a target that was gone).
//!
//! What no case vouches for is held. Held cases that failed to open count toward the run's stop;
//! held refusals do not (a server may refuse a handshake case, a permessage-deflate offer), but
//! they are not verdicts either until something shows the target opens WebSockets at all. When
//! the run ends with cases still held, one plain conforming opening handshake ([`probe`]) decides:
//! if it opens, the held cases are verdicts; if not, they were not run, and the run says what the
//! target answered (a target answering 404 to every request is not a WebSocket endpoint, and its
//! refused 18.x cases say nothing about its handshake).
//!
//! A case counts as opened the moment its opening handshake completes ([`announce_open`]), not when
//! it ends: a 6.4.x case opened 2 s before it ends, and the refusals of a target serving only so
//! many connections at once come back meanwhile.

use std::time::Instant;

use wsspec_reports::CaseRecord;

use super::{opening, Observation, RunOptions, Target, Transport};
use crate::handshake::{self, RequestSpec};

tokio::task_local! {
    /// What the case running in this task does when its WebSocket opens.
    static ON_OPEN: Box<dyn Fn() + Send + Sync>;
}

/// Runs `case` (one case's future) so that [`announce_open`] calls `on_open`.
pub(crate) async fn watch_open<F: std::future::Future>(on_open: impl Fn() + Send + Sync + 'static, case: F) -> F::Output {
    ON_OPEN.scope(Box::new(on_open), case).await
}

/// Says that the case running in this task opened its WebSocket (its opening handshake completed);
/// nothing outside a run's case task ([`watch_open`]), e.g. in client mode.
pub(crate) fn announce_open() {
    let _ = ON_OPEN.try_with(|on_open| on_open());
}

/// A judged case that did not open its WebSocket, waiting for a case that opened to vouch for it.
pub(super) struct Held {
    pub record: CaseRecord,
    /// What the target answered, when the case failed to open where it should have (it counts
    /// toward the stop); `None` for a refusal the case allows.
    pub open_failure: Option<String>,
    /// The TCP connect failed: nothing was exchanged, so the case is not run whatever happens.
    pub unreached: bool,
    /// The status of the target's answer, when one parsed.
    pub status: Option<u16>,
    /// When the case's task ended.
    pub ended: Instant,
}

/// The cases held, and how far the cases that opened vouch.
#[derive(Default)]
pub(super) struct Liveness {
    held: Vec<Held>,
    /// The latest start of a case that opened: everything that ended before it is vouched for.
    vouched_until: Option<Instant>,
    /// Whether any case opened.
    pub opened_any: bool,
}

impl Liveness {
    /// A case that opened, started at `started`: the held cases it vouches for (they ended before
    /// it started), in the order they came.
    pub fn opened(&mut self, started: Instant) -> Vec<Held> {
        self.opened_any = true;
        self.vouched_until = self.vouched_until.max(Some(started));
        let (vouched, held) = std::mem::take(&mut self.held).into_iter().partition(|h| h.ended <= started);
        self.held = held;
        vouched
    }

    /// A case that did not open: given back when a case that opened already vouches for it (one
    /// that started after it ended), else held.
    pub fn not_opened(&mut self, case: Held) -> Option<Held> {
        if self.vouched_until.is_some_and(|until| case.ended <= until) {
            return Some(case);
        }
        self.held.push(case);
        None
    }

    /// Whether the run stops: once `bound` held cases failed to open. What the first of them met,
    /// and whether every held case failed at its TCP connect (the target is gone, not refusing).
    pub fn stops(&self, bound: usize) -> Option<(String, bool)> {
        if self.failures() < bound.max(1) {
            return None;
        }
        let first = self.held.iter().find_map(|h| h.open_failure.clone());
        Some((first.unwrap_or_default(), self.held.iter().all(|h| h.unreached)))
    }

    /// Held cases that failed to open where they should have: how many, toward the run's stop.
    pub fn failures(&self) -> usize {
        self.held.iter().filter(|h| h.open_failure.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Every held case, in the order they came.
    pub fn drain(&mut self) -> Vec<Held> {
        std::mem::take(&mut self.held)
    }

    /// Why the run stops when the closing [`probe`] did not open either (`answer`, what it met):
    /// when the held cases that got an answer and the probe all got one same status, says so.
    pub fn stop_reason(&self, answer: &str, probe_status: Option<u16>) -> String {
        let answered: Vec<u16> = self.held.iter().filter_map(|h| h.status).collect();
        match probe_status {
            Some(status) if !answered.is_empty() && answered.iter().all(|s| *s == status) => {
                // The held cases are "not run" in the summary: they were tried, not run.
                let cases = match (answered.len(), self.held.len()) {
                    (1, 1) => "the one case tried".to_string(),
                    (2, 2) => "both cases tried".to_string(),
                    (k, n) if k == n => format!("all {n} cases tried"),
                    (k, n) => format!("{k} of the {n} cases tried (the others got no answer)"),
                };
                format!("{cases} and a plain opening handshake got status {status}: {answer}")
            }
            _ => format!("a plain opening handshake did not open either: {answer}"),
        }
    }
}

/// Opens one WebSocket with a plain conforming opening handshake (an extended CONNECT over HTTP/2
/// with `options.http2`) and closes it at once ([`opening::close_at_once`]). Bounded by the
/// opening wait and the close wait. `Ok` (when its handshake completed) too when the target
/// answers with the upgrade (101; 200 over HTTP/2) in a way wsspec must fail.
pub(super) async fn probe(target: &Target, options: &RunOptions) -> Result<Instant, Refused> {
    let mut obs = Observation::starting_now();
    let request = RequestSpec::websocket(&target.host_header, &target.resource, &handshake::random_key());
    let opened = if options.http2 {
        let headers = crate::http2::client::websocket_headers(&request.headers.0);
        crate::http2::client::open(target, &headers, options, &mut obs).await.map(|stream| Transport::Http2(Box::new(stream)))
    } else {
        opening::open(target, &request, options, &mut obs).await.map(|(stream, _)| stream)
    };
    let Some(stream) = opened else {
        // An upgrade wsspec must fail (a wrong `Sec-WebSocket-Accept`, a subprotocol not offered)
        // still says the target answers WebSocket handshakes: the held cases' verdicts say how.
        if obs.exchange.status == Some(if options.http2 { 200 } else { 101 }) {
            return Ok(Instant::now());
        }
        let error = obs.open_error.unwrap_or_default();
        let reached = !obs.exchange.request.is_empty() || obs.http2.is_some();
        let answer = describe_open_failure(&error, &obs.exchange.response);
        return Err(Refused { answer, status: obs.exchange.status, reached });
    };
    let opened = Instant::now();
    opening::close_at_once(stream).await;
    Ok(opened)
}

/// What the target answered a [`probe`] instead of opening a WebSocket.
pub(super) struct Refused {
    /// One line saying what it answered.
    pub answer: String,
    /// The status of its answer, when one parsed.
    pub status: Option<u16>,
    /// Whether the request was sent: false when the TCP connect (or TLS) failed.
    pub reached: bool,
}

/// One line saying what the target answered instead of opening a WebSocket.
pub(super) fn describe_open_failure(error: &str, response: &[u8]) -> String {
    if response.starts_with(b"HTTP/") {
        let head = String::from_utf8_lossy(&response[..response.len().min(200)]).into_owned();
        let status = crate::preview(head.lines().next().unwrap_or_default().trim().as_bytes(), 120);
        if status.split_whitespace().nth(1) == Some("101") {
            format!("its answer `{status}` did not open a WebSocket: {error}")
        } else {
            format!("it answered `{status}` instead of 101 Switching Protocols ({error})")
        }
    } else if let Some(status) = response.strip_prefix(b":status: ") {
        // An HTTP/2 answer to the extended CONNECT (RFC 8441), recorded as `:status: 404` lines.
        let status = crate::preview(status.split(|b| *b == b'\r').next().unwrap_or_default(), 20);
        format!("it answered the extended CONNECT with status {status} instead of 200 ({error})")
    } else if matches!(response.first(), Some(0x15 | 0x16)) {
        "it answered with TLS: is it a wss:// (TLS) server? Give its URL as wss://".to_string()
    } else if response.is_empty() {
        error.to_string()
    } else {
        format!("it answered something that is not HTTP: {} ({error})", crate::preview(response, 60))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn open_failures_say_what_the_target_answered() {
        let line = describe_open_failure("opening handshake: status 404", b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n");
        assert!(line.starts_with("it answered `HTTP/1.1 404 Not Found` instead of 101"), "{line}");
        let bad_101 = describe_open_failure("Sec-WebSocket-Accept is wrong", b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
        assert_eq!(bad_101, "its answer `HTTP/1.1 101 Switching Protocols` did not open a WebSocket: Sec-WebSocket-Accept is wrong");
        assert!(describe_open_failure("opening handshake: bad", &[0x15, 0x03, 0x03, 0x00]).contains("TLS"));
        assert_eq!(describe_open_failure("cannot connect: refused", b""), "cannot connect: refused");
        assert!(describe_open_failure("x", b":status: 404\r\nserver: y\r\n").contains("status 404 instead of 200"));
    }

    /// A held record of case 1.1.1 (only its id matters here), named `id`.
    fn held(id: &str, open_failure: Option<&str>, status: Option<u16>, ended: Instant) -> Held {
        let catalog = crate::catalog::Catalog::embedded().unwrap();
        let mut record = super::super::report("t", catalog.case("1.1.1").unwrap(), Observation::starting_now());
        record.id = id.into();
        Held { record, open_failure: open_failure.map(String::from), unreached: false, status, ended }
    }

    /// A case that opened vouches only for what ended before it started: a long case that opened
    /// before the target died does not vouch for the cases that failed after.
    #[test]
    fn a_case_vouches_only_for_what_ended_before_it_started() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut live = Liveness::default();
        assert!(live.not_opened(held("a", Some("gone"), None, at(10))).is_none());
        assert!(live.not_opened(held("b", None, Some(400), at(30))).is_none());
        assert_eq!(live.failures(), 1, "a refusal does not count toward the stop");
        assert_eq!(live.stops(1), Some(("gone".to_string(), false)));
        // Started at 0 ms, before both ended: vouches for neither.
        assert!(live.opened(at(0)).is_empty());
        let vouched = live.opened(at(20));
        assert_eq!(vouched.iter().map(|h| h.record.id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert_eq!(live.failures(), 0);
        assert_eq!(live.stops(1), None);
        assert!(live.not_opened(held("c", None, Some(400), at(15))).is_some(), "ended before a case that opened started");
        assert!(live.not_opened(held("d", None, Some(400), at(40))).is_none());
        assert_eq!(live.drain().len(), 2);
        assert!(live.opened_any && live.is_empty());
    }

    #[test]
    fn the_stop_reason_names_a_status_every_answer_shared() {
        let now = Instant::now();
        let mut live = Liveness::default();
        live.not_opened(held("18.1.1", None, Some(404), now));
        assert_eq!(live.stop_reason("it answered 404", Some(404)), "the one case tried and a plain opening handshake got status 404: it answered 404");
        live.not_opened(held("18.1.2", None, Some(404), now));
        assert_eq!(live.stop_reason("it answered 404", Some(404)), "both cases tried and a plain opening handshake got status 404: it answered 404");
        assert_eq!(live.stop_reason("no answer", None), "a plain opening handshake did not open either: no answer");
        live.not_opened(held("18.8.1", None, None, now));
        assert!(live.stop_reason("x", Some(404)).starts_with("2 of the 3 cases tried (the others got no answer) and a plain opening handshake got status 404"));
        live.not_opened(held("18.1.3", None, Some(400), now));
        assert!(live.stop_reason("it answered 404", Some(404)).starts_with("a plain opening handshake did not open either"));
    }
}
