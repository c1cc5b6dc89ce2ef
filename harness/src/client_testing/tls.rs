//! The TLS hook of the client-testing server (`wsspec client --tls`): each connection's handshake
//! with the certificate it is meant to see, and the outcome of the TLS section's certificate cases
//! (see [`crate::tls::cases`] for the sequencing and its limits).

use std::{net::SocketAddr, sync::Mutex, time::Duration};

use tokio::{io::AsyncReadExt, net::TcpStream, time::timeout};

use super::{http_error, State, HEAD_WAIT};
use crate::{
    catalog::{Case, TlsStimulus},
    engine::{report, Dir, Observation, Transport},
    tls::{cases::Sequencer, Acceptor, Presented},
};

/// What a TLS client-testing server keeps.
pub(super) struct TlsState {
    pub acceptor: Acceptor,
    pub sequencer: Sequencer,
    /// The host of the URL clients are given (what their SNI must say).
    pub url_host: String,
    /// The agent of the latest `/runCase`: certificate cases carry no agent of their own.
    last_agent: Mutex<Option<String>>,
    /// Certificate-case outcomes seen before any agent was named.
    pending: Mutex<Vec<(usize, Observation)>>,
}

impl TlsState {
    /// The state of a server listening on `addr` that runs `cases` (in `/runCase` order).
    pub fn new(acceptor: Acceptor, cases: &[Case], addr: SocketAddr) -> Self {
        let url_host = url_host(addr);
        Self { acceptor, sequencer: Sequencer::new(cases), url_host, last_agent: Mutex::new(None), pending: Mutex::new(Vec::new()) }
    }

    /// A request named `agent`: later certificate cases are filed under it, and so are those
    /// seen before any agent was named.
    pub fn agent_seen(&self, state: &State, agent: &str) {
        *self.last_agent.lock().expect("lock") = Some(agent.to_string());
        let pending = std::mem::take(&mut *self.pending.lock().expect("lock"));
        for (index, obs) in pending {
            record(state, agent, index, obs);
        }
    }

    fn finish(&self, state: &State, index: usize, obs: Observation) {
        let agent = self.last_agent.lock().expect("lock").clone();
        match agent {
            Some(agent) => record(state, &agent, index, obs),
            None => self.pending.lock().expect("lock").push((index, obs)),
        }
    }
}

/// The host in the URL clients are given: `localhost` for a loopback or unspecified address, so
/// that clients can indicate it (SNI; RFC 6066 §3 allows no IP address there).
fn url_host(addr: SocketAddr) -> String {
    let ip = addr.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        "localhost".into()
    } else {
        ip.to_string()
    }
}

/// A `/runCase` of case `index` by `agent`, before it is played: later certificate cases are filed
/// under `agent`, and the next connection is shown case `index + 1`'s certificate. Armed now, not
/// when the case ends: a sequential driver opens no other connection meanwhile, and the next one
/// may come before this case's result is written. Returns why the request is refused when case
/// `index` is itself a certificate case (judged on a connection of its own).
pub(super) async fn before_case(state: &State, index: usize, agent: &str) -> Option<String> {
    let tls = state.tls.as_ref()?;
    tls.agent_seen(state, agent);
    tls.sequencer.next_case(index + 1).await;
    let case = &state.config.cases[index];
    case.tls
        .is_some_and(TlsStimulus::is_certificate)
        .then(|| format!("case {} is judged on the TLS handshake of the connection after the previous case", case.id))
}

fn record(state: &State, agent: &str, index: usize, obs: Observation) {
    let case = &state.config.cases[index];
    let recorded = state.begin(agent).and_then(|()| state.record(agent, case, Ok(report(agent, case, obs))));
    if let Err(e) = recorded {
        eprintln!("wsspec: cannot write the result of {} for {agent:?}: {e}", case.id);
    }
    state.result_added.notify_waiters();
}

/// Completes TLS on `tcp` with the certificate this connection is meant to see. Returns the stream
/// to serve, or `None` when the handshake failed or the connection was a certificate case (whose
/// outcome is recorded here).
pub(super) async fn accept(state: &State, tls: &TlsState, tcp: TcpStream) -> Option<Transport> {
    let wait = HEAD_WAIT.mul_f64(state.config.options.timeout_scale);
    // Bounded: the connection holding it ends its handshake and first read within `wait` each.
    let armed = timeout(wait * 3, tls.sequencer.take()).await.ok().flatten();
    let shown = armed.as_ref().map_or(Presented::Good, |a| a.shown);
    let outcome = timeout(wait, tls.acceptor.accept(tcp, shown)).await;
    let Some(armed) = armed else {
        let failure = match outcome {
            Ok(Ok(stream)) => return Some(Transport::from(stream)),
            Ok(Err(e)) => format!("the TLS handshake ended with: {e}"),
            Err(_) => format!("no TLS handshake within {:.1} s", wait.as_secs_f64()),
        };
        *state.tls_failure.lock().expect("lock") = Some(failure);
        return None;
    };
    let index = armed.index;
    let mut obs = Observation::starting_now();
    obs.log.event(format!("wsspec presents {shown:?} for case {}", state.config.cases[index].id));
    match outcome {
        Ok(Ok(stream)) => {
            let mut stream = Transport::from(stream);
            obs.tls = stream.tls_info();
            let sent = first_bytes(&mut stream, wait).await;
            if sent.is_empty() {
                obs.tls_refusal = Some(format!(
                    "it completed the TLS handshake but closed the connection within {:.1} s without sending anything",
                    wait.as_secs_f64()
                ));
            } else {
                obs.log.chunk(Dir::Rx, &sent);
                obs.exchange.request = sent;
                let message = format!("case {}: the client accepted a certificate it must refuse", state.config.cases[index].id);
                http_error(stream, 400, &message).await;
            }
        }
        Ok(Err(e)) => obs.tls_refusal = Some(format!("the TLS handshake ended with: {e}")),
        Err(_) => obs.tls_refusal = Some(format!("no TLS handshake within {:.1} s", wait.as_secs_f64())),
    }
    armed.done();
    tls.finish(state, index, obs);
    None
}

/// What the client sends first, up to the end of a request head or 4 KiB, within `wait`.
async fn first_bytes(stream: &mut Transport, wait: Duration) -> Vec<u8> {
    let mut sent = Vec::new();
    let mut chunk = [0u8; 4096];
    let _ = timeout(wait, async {
        while let Ok(n @ 1..) = stream.read(&mut chunk).await {
            sent.extend_from_slice(&chunk[..n]);
            if sent.len() >= 4096 || sent.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    sent
}
