//! WebSockets kept open between cases, for the network fuzzer: its sequences are short, and a TCP
//! connect, an opening handshake and a closing handshake per sequence cost more than the sequence.
//! A case run with `keep_open` that ends with the WebSocket open and idle — the script done, the
//! events a complete match of an alternative in which wsspec would close, nothing owed or under way
//! in either direction — gives its connection back instead of closing it, and the next case starts
//! on it where a fresh one would start after the handshake. The catalog runner never does this: a
//! catalog case always ends with its closing handshake.

use super::{
    deflate, opening,
    receiver::Receiver,
    session::{drive, run_case},
    Observation, RunOptions, Target, Transport,
};
use crate::{
    catalog::{Case, Role},
    extension::permessage_deflate::{deflater::MessageDeflater, params::Agreed},
    handshake::{self, RequestSpec},
};

/// An open WebSocket between two cases, with what its next case continues from: the receiver
/// (with its decoder and, with permessage-deflate, the inflater's context, RFC 7692 §7.2.2), wsspec's
/// deflater, and what permessage-deflate came to in the opening handshake.
pub struct OpenWebSocket {
    pub(super) stream: Transport,
    pub(super) receiver: Receiver,
    pub(super) deflater: Option<MessageDeflater>,
    pub(super) deflate: Option<Agreed>,
}

impl std::fmt::Debug for OpenWebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenWebSocket").field("deflate", &self.deflate).finish_non_exhaustive()
    }
}

/// Runs `case` against the server at `target` as [`run_case`] does, but on `reused` when given (a
/// WebSocket a previous case left open: no opening handshake, and the case's own permessage-deflate
/// offer is not made again, so `reused` must have been opened by a case with the same offer), and,
/// with `keep_open`, gives the connection back when the case ends with it open and idle
/// (`Observation::kept_open`) instead of closing it. Cases that test the opening handshake, and
/// HTTP/2, run as [`run_case`] runs them, never kept.
pub async fn run_case_keeping_open(
    case: &Case,
    reused: Option<OpenWebSocket>,
    keep_open: bool,
    target: &Target,
    options: &RunOptions,
) -> (Observation, Option<OpenWebSocket>) {
    if case.handshake.is_some() || case.http2.is_some() || options.http2 {
        return (run_case(case, target, options).await, None);
    }
    let mut obs = Observation::starting_now();
    if let Some(connection) = reused {
        obs.deflate = connection.deflate.clone();
        obs.log.event("on a WebSocket the previous case left open");
        return drive(case, connection, &[], Role::Server, options, obs, keep_open).await;
    }
    let mut request = RequestSpec::websocket(&target.host_header, &target.resource, &handshake::random_key());
    deflate::offer(case, &mut request);
    let Some((stream, leftover)) = opening::open(target, &request, options, &mut obs).await else { return (obs, None) };
    deflate::take_answer(case, &mut obs);
    let (inflate, deflater) = deflate::codecs(obs.deflate.as_ref(), Role::Server, options.max_message);
    let connection = OpenWebSocket { stream, receiver: Receiver::new(Role::Server, options.max_message, inflate), deflater, deflate: obs.deflate.clone() };
    drive(case, connection, &leftover, Role::Server, options, obs, keep_open).await
}
