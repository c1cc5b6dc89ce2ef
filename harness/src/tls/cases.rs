//! The TLS section for clients (RFC 6455 §4.1 step 5): which of its cases a client-testing server
//! can run, which certificate each connection is shown, and how a refused or accepted bad
//! certificate is judged.
//!
//! In client mode the case number arrives in the HTTP request, after TLS. Autobahn drivers run
//! cases strictly in order, one at a time (getCaseCount, runCase 1..N, updateReports), so when case
//! K shows a bad certificate, wsspec shows it to the *first connection after case K−1 ended* (after
//! getCaseCount when K is the first). A refused handshake is case K's outcome; a client that
//! completes the handshake and sends any request has accepted the certificate and fails K. Limits:
//! a driver that runs cases concurrently or out of order, or makes other connections between cases
//! (getCaseStatus), may be shown the bad certificate on another connection, which is still judged
//! as case K (it did trust that certificate); a driver that gives up on its first failed
//! connection never runs the cases after K.

use std::time::Duration;

use tokio::{io::AsyncReadExt, time::timeout};

use super::{Acceptor, Presented};
use crate::{
    catalog::{Case, TlsStimulus},
    engine::{Observation, Transport, Verdict},
    rules::Violation,
};
use wsspec_reports::{Behavior, BehaviorClose};

/// How long wsspec holds its opening handshake response back in 17.3.x (times the timeout scale).
pub const HOLD: Duration = Duration::from_millis(500);
/// The most bytes kept from a client while the response is held: enough to say it sent some.
const MAX_HELD: usize = 64 << 10;

/// The certificate a case with `stimulus` shows.
pub fn presented(stimulus: Option<TlsStimulus>) -> Presented {
    match stimulus {
        Some(TlsStimulus::WrongName) => Presented::WrongName,
        Some(TlsStimulus::Expired) => Presented::Expired,
        Some(TlsStimulus::UnknownIssuer) => Presented::UnknownIssuer,
        _ => Presented::Good,
    }
}

/// Why a client-testing server leaves a TLS case out.
pub const NEEDS_TLS: &str = "TLS cases: they run only with --tls";
/// Why a client-testing server with the operator's certificate leaves a bad-certificate case out.
pub const NEEDS_OWN_CA: &str = "they need wsspec's throw-away CA to sign the bad certificate: without --cert/--key";

/// Splits `cases` into those a client-testing server with `tls` can run and the ids of the others,
/// each with why not ([`NEEDS_TLS`], [`NEEDS_OWN_CA`]).
pub fn runnable(cases: Vec<Case>, tls: Option<&Acceptor>) -> (Vec<Case>, Vec<(String, &'static str)>) {
    let mut skipped = Vec::new();
    let cases = cases
        .into_iter()
        .filter(|case| {
            let why = match (case.tls, tls) {
                (None, _) => return true,
                (Some(_), None) => NEEDS_TLS,
                (Some(stimulus), Some(acceptor)) if !acceptor.can_present(presented(Some(stimulus))) => NEEDS_OWN_CA,
                (Some(_), Some(_)) => return true,
            };
            skipped.push((case.id.to_string(), why));
            false
        })
        .collect();
    (cases, skipped)
}

/// Which connection is shown which certificate: the next connection after the case before a
/// certificate case gets that case's certificate.
#[derive(Debug)]
pub struct Sequencer {
    /// The presented certificate of each selected case, by index.
    shown: Vec<Presented>,
    /// The certificate case the next connection is for. Held while that connection's handshake is
    /// judged, so that the driver's next connection (which can arrive before the refusal is read)
    /// waits to learn which certificate it gets.
    armed: tokio::sync::Mutex<Option<usize>>,
}

/// A connection shown a bad certificate for case `index`; [`Armed::done`] moves on to the next case.
pub struct Armed<'a> {
    guard: tokio::sync::MutexGuard<'a, Option<usize>>,
    sequencer: &'a Sequencer,
    pub index: usize,
    pub shown: Presented,
}

impl Armed<'_> {
    /// The case's outcome is known: the driver runs the next case next.
    pub fn done(mut self) {
        *self.guard = self.sequencer.arm(self.index + 1);
    }
}

impl Sequencer {
    pub fn new(cases: &[Case]) -> Self {
        Self { shown: cases.iter().map(|c| presented(c.tls)).collect(), armed: tokio::sync::Mutex::new(None) }
    }

    fn arm(&self, index: usize) -> Option<usize> {
        self.shown.get(index).is_some_and(|p| *p != Presented::Good).then_some(index)
    }

    /// Case `next` (an index) is the one the driver runs next.
    pub async fn next_case(&self, next: usize) {
        *self.armed.lock().await = self.arm(next);
    }

    /// For a new connection: the case whose bad certificate it is shown, if any. Waits while
    /// another connection's certificate case is being judged.
    pub async fn take(&self) -> Option<Armed<'_>> {
        let mut guard = self.armed.lock().await;
        let index = guard.take()?;
        Some(Armed { guard, sequencer: self, index, shown: self.shown[index] })
    }
}

/// 17.3.x: with the response held back, reads what the client sends for `hold`, appended to
/// `leftover` (which holds what came with the request head): anything there is data the client
/// sent before the server's response (§4.1), judged as such with the request.
pub async fn hold_response(stream: &mut Transport, leftover: &mut Vec<u8>, hold: Duration) {
    let mut chunk = [0u8; 4096];
    let _ = timeout(hold, async {
        while let Ok(n @ 1..) = stream.read(&mut chunk).await {
            leftover.extend_from_slice(&chunk[..n]);
            if leftover.len() >= MAX_HELD {
                break;
            }
        }
    })
    .await;
}

/// 17.2.x: the violation, if the client's SNI is not `url_host` (the host of the URL it was given).
/// `None` also when `url_host` is an IP address, where RFC 6066 §3 forbids SNI.
pub fn check_sni(obs: &Observation, url_host: &str) -> Option<Violation> {
    if url_host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    match obs.tls.as_ref().and_then(|t| t.sni.as_deref()) {
        Some(name) if name.eq_ignore_ascii_case(url_host) => None,
        indicated => Some(Violation::ServerName { indicated: indicated.map(str::to_string), host: url_host.to_string() }),
    }
}

/// The verdict of a bad-certificate case: refused (`obs.tls_refusal`) passes, anything else fails.
/// `None` for every other case.
pub fn judge(case: &Case, obs: &Observation) -> Option<Verdict> {
    let what = match case.tls? {
        TlsStimulus::WrongName => "a certificate for another name",
        TlsStimulus::Expired => "an expired certificate",
        TlsStimulus::UnknownIssuer => "a certificate from an unknown issuer",
        TlsStimulus::Sni | TlsStimulus::HoldResponse => return None,
    };
    Some(match &obs.tls_refusal {
        Some(how) => {
            let result = format!("The client refused {what} and sent nothing: {how}.");
            Verdict { behavior: Behavior::Ok, behavior_close: BehaviorClose::Ok, result: result.clone(), result_close: result }
        }
        None => {
            let request = String::from_utf8_lossy(&obs.exchange.request);
            let line = request.lines().next().unwrap_or("");
            let result = if line.is_empty() {
                format!("The client completed the TLS handshake with {what} (§4.1: it MUST fail the connection).")
            } else {
                format!("The client accepted {what} and sent `{}` over it (§4.1: it MUST fail the connection).", crate::preview(line.as_bytes(), 120))
            };
            Verdict { behavior: Behavior::Failed, behavior_close: BehaviorClose::Failed, result: result.clone(), result_close: result }
        }
    })
}
