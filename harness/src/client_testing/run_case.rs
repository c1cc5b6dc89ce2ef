//! A `/runCase` connection: the client's opening request judged (§4.1: GET, HTTP/1.1, one `Host`,
//! `Upgrade`, `Connection`, a fresh 16-byte key, version 13, nothing sent before the answer), the
//! answer the case asks for (the conforming 101, or one crafted to test the client's checks), then
//! the case played and recorded. A permessage-deflate case answers the client's offer by the case's
//! accept rule or with its crafted answer (RFC 7692 §7.1, see `engine::answer_offer`). A request
//! that breaks a MUST is refused with a 400 that says why, and the case is FAILED with the RFC
//! sentence rather than left MISSING.

use std::{panic::AssertUnwindSafe, sync::Arc, time::{Duration, Instant}};

use futures_util::FutureExt;
use tokio::{io::AsyncWriteExt, time::timeout};

use super::{error_response, send_and_close, State};
use crate::{
    catalog::{Role, TlsStimulus},
    engine::{answer_offer, drive_case, report, runner, Observation, Transport},
    handshake::{self, HandshakeError, Request, ResponseSpec},
};

/// The most keys remembered for the freshness check; past it the memory starts over.
const MAX_KEYS: usize = 1 << 20;

/// What the client sent before its case starts.
pub(super) struct Opening {
    pub request: Request,
    /// The raw head.
    pub head: Vec<u8>,
    /// Bytes that came with the head.
    pub leftover: Vec<u8>,
}

/// Plays case number `index` (0-based) for `agent` on `stream`.
pub(super) async fn play(state: &Arc<State>, mut stream: Transport, index: usize, agent: String, mut opening: Opening) {
    let case = &state.config.cases[index];
    if state.excluded(&agent, case.id.as_str()) {
        if let Ok(key) = handshake::check_request(&opening.request) {
            if stream.write_all(handshake::server_response(&key).as_bytes()).await.is_ok() {
                send_and_close(stream, None).await;
            }
        }
        return;
    }
    if let Err(e) = state.begin(&agent) {
        eprintln!("wsspec: cannot begin the results of {agent:?}: {e}");
        return send_and_close(stream, None).await;
    }
    *state.in_flight.lock().expect("lock").entry(agent.clone()).or_default() += 1;
    state.timing.lock().expect("lock").entry(agent.clone()).or_insert_with(|| (Instant::now(), Instant::now()));
    let mut obs = Observation::starting_now();
    if let (Some(_), Some(TlsStimulus::HoldResponse)) = (&state.tls, case.tls) {
        // 17.3.x: whatever comes while the answer is held back is early data, like bytes that came
        // with the head.
        let hold = crate::tls::cases::HOLD.mul_f64(state.config.options.timeout_scale);
        crate::tls::cases::hold_response(&mut stream, &mut opening.leftover, hold).await;
    }
    let outcome = match judge_request(state, &opening) {
        Err(error) => {
            let (rfc, _) = error.requirement(Role::Client);
            let cite = if rfc.starts_with("RFC") { rfc.to_string() } else { format!("RFC 6455 §{rfc}") };
            let response = error_response(400, &format!("not a conforming WebSocket opening handshake: {error} ({cite})"));
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
            obs.record_handshake(&opening.head, response.as_bytes(), 400, Some(error));
            Ok(report(&agent, case, obs))
        }
        Ok(key) => {
            let mut answer = case.handshake.as_ref().and_then(|h| h.response.as_ref()).map_or_else(|| ResponseSpec::switching_protocols(&key), |def| def.response(&key));
            answer_offer(case, &opening.request, &mut answer, &mut obs);
            let bytes = answer.encode();
            obs.record_handshake(&opening.head, &bytes, answer.status, None);
            if write_chopped(&mut stream, &bytes, answer.chop).await.is_err() {
                obs.open_error = Some("the client closed the connection before wsspec's answer was written".into());
                Ok(report(&agent, case, obs))
            } else {
                let options = &state.config.options;
                let bound = Duration::from_secs_f64((case.timeout + 10.0) * options.timeout_scale + 10.0);
                let play = AssertUnwindSafe(async {
                    runner::inject_panic(case);
                    timeout(bound, drive_case(case, stream, &opening.leftover, Role::Client, options, obs)).await
                });
                match play.catch_unwind().await {
                    Ok(Ok(mut obs)) => {
                        if let (Some(tls), Some(TlsStimulus::Sni)) = (&state.tls, case.tls) {
                            if let Some(violation) = crate::tls::cases::check_sni(&obs, &tls.url_host) {
                                obs.violation.get_or_insert(violation);
                            }
                        }
                        obs.overload().map_or_else(|| Ok(report(&agent, case, obs)), Err)
                    }
                    Ok(Err(_)) => Err(format!("the case overran wsspec's outer time bound of {:.0} s (a bug in wsspec)", bound.as_secs_f64())),
                    Err(panic) => Err(runner::panic_message(&*panic)),
                }
            }
        }
    };
    if let Err(e) = state.record(&agent, case, outcome) {
        eprintln!("wsspec: cannot write the result of {} for {agent:?}: {e}", case.id);
    }
    *state.in_flight.lock().expect("lock").entry(agent).or_default() -= 1;
    state.result_added.notify_waiters();
}

/// The client's request against §4.1, the key's freshness and early data; returns the key.
fn judge_request(state: &State, opening: &Opening) -> Result<String, HandshakeError> {
    let key = handshake::check_request(&opening.request)?;
    if !opening.leftover.is_empty() {
        return Err(HandshakeError::EarlyData(opening.leftover.len()));
    }
    let mut keys = state.keys.lock().expect("lock");
    if keys.len() >= MAX_KEYS {
        keys.clear();
    }
    if !keys.insert(key.clone()) {
        return Err(HandshakeError::KeyReused(key));
    }
    Ok(key)
}

/// Writes `bytes`, `chop` bytes per write when it is set.
async fn write_chopped(stream: &mut Transport, bytes: &[u8], chop: Option<usize>) -> std::io::Result<()> {
    for part in bytes.chunks(chop.unwrap_or(bytes.len()).max(1)) {
        stream.write_all(part).await?;
        stream.flush().await?;
    }
    Ok(())
}
