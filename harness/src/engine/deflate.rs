//! permessage-deflate (RFC 7692) in a case, wsspec testing a server: the offer goes into the
//! request, the server's answer is checked and what it agreed recorded in the observation, and the
//! judge's rules for a declined or refused offer.

use wsspec_reports::{Behavior, BehaviorClose};

use super::{judge::Verdict, Observation};
use crate::{
    catalog::{Case, Negotiation},
    extension::permessage_deflate::connection::negotiate,
    handshake::RequestSpec,
    rules::Violation,
};

/// The request header that carries the offer.
const HEADER: &str = "Sec-WebSocket-Extensions";

/// Puts the case's offer, if it has one, into `request`.
pub fn offer(case: &Case, request: &mut RequestSpec) {
    if let Some(deflate) = &case.deflate {
        request.headers.set(HEADER, &deflate.offer);
    }
}

/// Reads the server's answer to the case's offer from the exchange: what was agreed goes to
/// `obs.deflate`; an answer that breaks RFC 7692 §7.1 (or an invalid offer accepted) becomes the
/// observation's violation, and the session then fails the connection before the script starts.
pub fn take_answer(case: &Case, obs: &mut Observation) {
    let Some(deflate) = &case.deflate else { return };
    let answer: Vec<String> =
        obs.exchange.headers.iter().filter(|(name, _)| name.eq_ignore_ascii_case(HEADER)).map(|(_, value)| value.clone()).collect();
    match negotiate(&deflate.offer, answer.iter().map(String::as_str)) {
        Ok(agreed) => {
            let what = match &agreed {
                Some(_) => format!("permessage-deflate agreed: {}", answer.join(", ")),
                None => "permessage-deflate declined by the server".into(),
            };
            obs.log.event(what);
            obs.deflate = agreed;
        }
        Err(reason) => {
            obs.log.event(format!("permessage-deflate answer refused: {reason}"));
            obs.violation.get_or_insert(Violation::DeflateAnswer { reason });
        }
    }
}

/// Whether the script may run: not when the answer was refused or a required extension declined
/// (then wsspec closes at once, with the violation's code or 1000).
pub fn may_play(case: &Case, obs: &Observation) -> bool {
    obs.violation.is_none() && !declined_required(case, obs)
}

fn declined_required(case: &Case, obs: &Observation) -> bool {
    case.deflate.as_ref().is_some_and(|d| d.negotiation == Negotiation::Required) && obs.deflate.is_none() && obs.open_error.is_none()
}

/// The verdict for what the negotiation alone decides, `close` being the closing judged as usual:
/// a required extension declined is UNIMPLEMENTED (Autobahn's rule); an offer holding an invalid
/// element refused with a status other than 101 is NON-STRICT (declining means opening without the
/// extension, or with a later valid offer).
pub fn judge(case: &Case, obs: &Observation, close: impl FnOnce() -> (BehaviorClose, String)) -> Option<Verdict> {
    let deflate = case.deflate.as_ref()?;
    if deflate.negotiation.refusal_is_non_strict() && obs.exchange.status.is_some_and(|s| s != 101) {
        let status = obs.exchange.status.expect("checked");
        return Some(Verdict {
            behavior: Behavior::NonStrict,
            behavior_close: BehaviorClose::Informational,
            result: format!(
                "The server refused the whole handshake with status {status} instead of declining the invalid offer, i.e. \
                 opening without it (RFC 7692 7.1: the server MUST decline it)."
            ),
            result_close: "The WebSocket never opened: there is no closing handshake to judge.".into(),
        });
    }
    if declined_required(case, obs) && obs.violation.is_none() {
        let (behavior_close, result_close) = close();
        return Some(Verdict {
            behavior: Behavior::Unimplemented,
            behavior_close,
            result: "The server declined permessage-deflate (no Sec-WebSocket-Extensions in its 101): the case needs it, so \
                     it is UNIMPLEMENTED, as Autobahn reports it."
                .into(),
            result_close,
        });
    }
    None
}
