//! The opening handshake from wsspec's client side (RFC 6455 §4.1): send a request, conforming or
//! not, read the server's answer within a bound, and record the exchange. A case that tests the
//! handshake itself ends here and is judged by [`judge_opening`].

use std::{ops::RangeInclusive, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    time::timeout,
};
use wsspec_reports::{Behavior, BehaviorClose};

use super::{judge::{missed, Verdict}, wire_log::Dir, Observation, RunOptions, Target, Transport};
use crate::{
    catalog::{Case, Level, Role},
    frame::{CloseCode, FrameSpec, OpCode},
    handshake::{self, RequestSpec},
};

/// How long the opening handshake may take (Autobahn's 5 s).
const OPEN_WAIT: Duration = Duration::from_secs(5);
/// How an opening the target did not answer in time is told, by what got no answer: the opening
/// handshake over HTTP/1.1 (within [`OPEN_WAIT`]), the HTTP/2 connection (its SETTINGS and PING),
/// an extended CONNECT (RFC 8441), an HTTP/2 probe case's exchange. The open error begins with one.
pub(crate) mod no_answer {
    pub const HANDSHAKE: &str = "no complete opening handshake";
    pub const HTTP2_CONNECTION: &str = "no HTTP/2 connection";
    pub const EXTENDED_CONNECT: &str = "no answer to the extended CONNECT";
    pub const HTTP2_PROBE: &str = "the probe got no complete answer";
}

/// Whether `open_error` says the target did not answer in time, whatever the transport (rather
/// than refusing, closing or resetting the connection): silence is no refusal to retry.
fn unanswered(open_error: &str) -> bool {
    [no_answer::HANDSHAKE, no_answer::HTTP2_CONNECTION, no_answer::EXTENDED_CONNECT, no_answer::HTTP2_PROBE]
        .iter()
        .any(|what| open_error.starts_with(what))
}

/// Whether the WebSocket of `obs` did not open because the target refused it with an answer (a
/// status, a closed or reset connection): the request was sent and the target neither stayed
/// silent past the opening wait nor was unreachable. A server at its limit of connections refuses
/// this way; a target that is gone does not answer at all.
pub(crate) fn refused_with_answer(obs: &Observation) -> bool {
    let reached = !obs.exchange.request.is_empty() || obs.http2.is_some();
    obs.open_error.as_deref().is_some_and(|error| reached && !unanswered(error))
}

/// Connects to `target`, sends `request` and reads the answer. Returns the stream and the bytes
/// read past the head when the answer opens the WebSocket (§4.1); otherwise `None`, with
/// `obs.open_error` saying why and `obs.exchange.error` what the target's head got wrong.
pub async fn open(target: &Target, request: &RequestSpec, options: &RunOptions, obs: &mut Observation) -> Option<(Transport, Vec<u8>)> {
    let open_wait = OPEN_WAIT.mul_f64(options.timeout_scale);
    match timeout(open_wait, exchange(target, request, options, obs)).await {
        Ok(Ok(opened)) => Some(opened),
        Ok(Err(reason)) => {
            obs.open_error = Some(reason);
            None
        }
        Err(_) => {
            obs.open_error = Some(format!("{} within {:.1} s", no_answer::HANDSHAKE, open_wait.as_secs_f64()));
            None
        }
    }
}

/// Connects (over TLS for `wss://`, §4.1 step 5: the TLS handshake comes before the HTTP upgrade)
/// and exchanges the opening handshake.
async fn exchange(target: &Target, request: &RequestSpec, options: &RunOptions, obs: &mut Observation) -> Result<(Transport, Vec<u8>), String> {
    let mut stream = Transport::connect(target, options.tls.as_ref()).await?;
    obs.tls = stream.tls_info();
    if let Some(info) = &obs.tls {
        obs.log.event(format!("TLS established: {info}"));
    }
    obs.exchange.request = request.encode();
    let chop = request.chop.unwrap_or(obs.exchange.request.len()).max(1);
    for part in obs.exchange.request.chunks(chop) {
        obs.log.chunk(Dir::Tx, part);
        stream.write_all(part).await.map_err(|e| format!("sending the opening handshake: {e}"))?;
        stream.flush().await.map_err(|e| format!("sending the opening handshake: {e}"))?;
    }
    let key = request.key().unwrap_or_default().to_string();
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.map_err(|e| format!("reading the opening handshake: {e}"))?;
        if n == 0 {
            obs.exchange.response = buf;
            return Err("the target closed the connection during the opening handshake".into());
        }
        obs.log.chunk(Dir::Rx, &chunk[..n]);
        buf.extend_from_slice(&chunk[..n]);
        match handshake::parse_response(&buf) {
            Ok(None) => obs.exchange.response = buf.clone(),
            Ok(Some(response)) => {
                obs.exchange.response = buf[..response.head_len].to_vec();
                obs.exchange.status = Some(response.status);
                obs.exchange.headers = response.headers.clone();
                let checked = handshake::check_response(&response, &key).and_then(|()| handshake::check_negotiation(&response, &request.headers));
                if let Err(e) = checked {
                    obs.exchange.error = Some(e.clone());
                    return Err(format!("opening handshake: {e}"));
                }
                return Ok((stream, buf.split_off(response.head_len)));
            }
            Err(e) => {
                obs.exchange.response = buf;
                obs.exchange.error = Some(e.clone());
                return Err(format!("opening handshake: {e}"));
            }
        }
    }
}

/// What a case that tests the opening handshake expects of the server's answer to its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningExpectation {
    /// How strongly the RFC asks for it: a miss is FAILED for MUST, NON-STRICT for SHOULD.
    pub level: Level,
    /// The section of the requirement, e.g. `4.2.1`.
    pub rfc: String,
    /// Status codes that answer the request correctly (`400..=499`: "such as 400").
    pub statuses: Vec<RangeInclusive<u16>>,
    /// Headers a refusal must carry, each with a token its value must list (`""`: present), e.g.
    /// `Sec-WebSocket-Version` listing `13` with a 426 (§4.4).
    pub headers: Vec<(String, String)>,
}

impl OpeningExpectation {
    /// The expectation of a case that tests a server's handshake (a `handshake.status` list).
    pub fn of(case: &Case) -> Option<Self> {
        let handshake = case.handshake.as_ref().filter(|h| !h.status.is_empty())?;
        Some(Self {
            level: case.level,
            rfc: case.rfc.clone(),
            statuses: handshake.status.iter().map(|s| s.0.clone()).collect(),
            headers: handshake.headers.clone(),
        })
    }

    /// Whether a 101 is a correct answer.
    pub fn allows_opening(&self) -> bool {
        self.statuses.iter().any(|r| r.contains(&101))
    }
}

/// Sends `request` to the server at `target` and ends at its answer; a WebSocket opened anyway is
/// closed at once (a masked 1000). The observation holds the exchange for [`judge_opening`].
pub async fn run_opening(request: &RequestSpec, target: &Target, options: &RunOptions) -> Observation {
    let mut obs = Observation::starting_now();
    let started = std::time::Instant::now();
    if let Some((stream, _)) = open(target, request, options, &mut obs).await {
        obs.log.chunk(Dir::Tx, &close_at_once(stream).await);
        obs.closed_by_me = true;
    }
    obs.duration = started.elapsed();
    obs
}

/// How long [`close_at_once`] waits for the target to close the TCP connection.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Closes a WebSocket that just opened: sends a masked 1000 and shuts down the sending side, then
/// waits (within [`CLOSE_WAIT`], reading and discarding what comes) until the target closes the
/// TCP connection, as §7.1.1 has a client do. A target serving only so many connections at once
/// counts this one until then: a case started right after must not meet it. Returns the close
/// frame sent.
pub(super) async fn close_at_once(mut stream: Transport) -> Vec<u8> {
    let close = FrameSpec::new(OpCode::Close, CloseCode::NORMAL.0.to_be_bytes().to_vec()).masked(rand::random()).encode();
    let _ = timeout(CLOSE_WAIT, async {
        let _ = stream.write_all(&close).await;
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 4096];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    close
}

/// Judges the server's answer to a handshake case's request: a status in `expect.statuses` with
/// the required headers passes (a 101 only if it also passes the §4.1 checks and offers nothing
/// the request did not ask for); anything else (another status, no answer) misses the requirement
/// at the case's level. Nothing is judged about closing: `behaviorClose` is INFORMATIONAL.
pub fn judge_opening(expect: &OpeningExpectation, obs: &Observation) -> Verdict {
    let allowed: Vec<String> = expect
        .statuses
        .iter()
        .map(|r| if r.start() == r.end() { r.start().to_string() } else { format!("{}-{}", r.start(), r.end()) })
        .collect();
    let miss = |why: String| (missed(expect.level), format!("{why}; {} asks for status {}.", cite(&expect.rfc), allowed.join(" or ")));
    let (behavior, result) = match obs.exchange.status {
        None => miss(format!("The target gave no HTTP answer ({})", obs.open_error.as_deref().unwrap_or("none"))),
        Some(status) if !expect.statuses.iter().any(|r| r.contains(&status)) => match status {
            101 => miss("The target accepted the request with 101 Switching Protocols".into()),
            _ => miss(format!("The target answered status {status}")),
        },
        Some(101) if obs.exchange.error.is_some() => {
            let error = obs.exchange.error.as_ref().expect("checked");
            let (rfc, sentence) = error.requirement(Role::Server);
            (Behavior::Failed, format!("The target answered 101, but its answer breaks {}: {error}. \"{sentence}\"", cite(rfc)))
        }
        Some(status) => match expect.headers.iter().find(|(name, token)| !lists(obs, name, token)) {
            Some((name, token)) if token.is_empty() => {
                (missed(expect.level), format!("The target answered status {status} without the `{name}` header ({}).", cite(&expect.rfc)))
            }
            Some((name, token)) => (
                missed(expect.level),
                format!("The target answered status {status} without `{token}` in a `{name}` header ({}).", cite(&expect.rfc)),
            ),
            None => (Behavior::Ok, format!("The target answered status {status}, as expected.")),
        },
    };
    let result_close = "The case ends at the opening handshake: there is no closing handshake to judge.".to_string();
    Verdict { behavior, behavior_close: BehaviorClose::Informational, result, result_close }
}

/// Whether the target's answer has a header `name` whose value lists `token` (`""`: any value).
fn lists(obs: &Observation, name: &str, token: &str) -> bool {
    let values = handshake::tokens(&obs.exchange.headers, name);
    obs.exchange.header(name).is_some() && (token.is_empty() || values.iter().any(|v| v.eq_ignore_ascii_case(token)))
}

/// A section as a reason cites it: `§4.2.1` for RFC 6455, as given for another RFC (`RFC 9112 3.2`).
pub(super) fn cite(rfc: &str) -> String {
    if rfc.starts_with("RFC") { rfc.to_string() } else { format!("§{rfc}") }
}
