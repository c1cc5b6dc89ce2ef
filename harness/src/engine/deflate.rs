//! permessage-deflate (RFC 7692) in a case. Testing a server: the offer goes into the request, the
//! server's answer is checked and what it agreed recorded in the observation. Testing a client:
//! its offer is answered by the case's accept rule (Autobahn's) or with a crafted answer
//! (section 21). Then each direction's codec for the session, and the judge's rules for a declined
//! or refused offer.

use wsspec_reports::{Behavior, BehaviorClose};

use super::{judge::Verdict, receiver::Extension, Observation};
use crate::{
    catalog::{Case, Negotiation, Role},
    extension::{
        header,
        permessage_deflate::{
            connection::{negotiate, InflateOnReceive},
            crafted::{CraftedResponse, UNKNOWN_PARAMETER},
            deflater::MessageDeflater,
            params::Agreed,
            server,
        },
    },
    handshake::{self, HandshakeError, Request, RequestSpec, ResponseSpec},
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

/// Whether the server answered 101 but its `Sec-WebSocket-Extensions` broke the handshake rules
/// (repeated, empty, an extension not offered, RFC 6455 §4.1, §9.1, §11.3.2): the server broke a
/// MUST in this case, which is FAILED with the rule named; it does not show a target that cannot
/// open WebSockets, so the run goes on.
pub fn extensions_answer_broken(obs: &Observation) -> bool {
    obs.exchange.status == Some(101)
        && matches!(
            &obs.exchange.error,
            Some(HandshakeError::Repeated(HEADER) | HandshakeError::Empty(HEADER) | HandshakeError::NotOffered { name: HEADER, .. })
        )
}

/// Testing a client: answers the offer in `request` as the case says, in `response` (the 101).
/// With the case's accept rule, the first grant one of the client's valid offers can take is
/// answered and `obs.deflate` records what each direction uses; no such offer declines the
/// extension (the case is then UNIMPLEMENTED). A crafted answer is sent as built from the offer;
/// one that does not apply to this client's offer goes unsent and `obs.deflate_unmet` says why.
pub fn answer_offer(case: &Case, request: &Request, response: &mut ResponseSpec, obs: &mut Observation) {
    let Some(deflate) = &case.deflate else { return };
    let lines: Vec<&str> = request.headers.iter().filter(|(name, _)| name.eq_ignore_ascii_case(HEADER)).map(|(_, v)| v.as_str()).collect();
    let elements = match lines.is_empty() {
        true => Vec::new(),
        false => header::parse_lines(lines).unwrap_or_else(|e| {
            obs.log.event(format!("the client's Sec-WebSocket-Extensions is malformed ({e}): no offer to accept"));
            Vec::new()
        }),
    };
    if let Some(crafted) = &deflate.response {
        match crafted.answer(&elements) {
            Ok(answer) => {
                obs.log.event(format!("crafted permessage-deflate answer: {}", answer.value));
                response.headers.set(HEADER, &answer.value);
                obs.deflate = answer.agreed;
            }
            Err(why) => {
                obs.log.event(format!("the case does not apply to this client: {why}"));
                obs.deflate_unmet = Some(why);
            }
        }
        return;
    }
    let grants = deflate.grants().expect("checked when the catalog was loaded");
    match server::accept(&elements, &grants) {
        Some(accepted) => {
            obs.log.event(format!("permessage-deflate accepted: {}", accepted.response));
            response.headers.set(HEADER, &accepted.response.to_string());
            obs.deflate = Some(Agreed::from(accepted.response));
        }
        None => obs.log.event("no offer of the client fits the case's accept rule: permessage-deflate declined"),
    }
}

/// The session's codecs for what was agreed, `role` being what the target is: an inflater for the
/// target's messages (its direction's parameters, at most `limit` octets each) and a deflater for
/// wsspec's `compressed` messages (wsspec's direction, keeping its promises).
pub fn codecs(agreed: Option<&Agreed>, role: Role, limit: usize) -> (Option<Box<dyn Extension>>, Option<MessageDeflater>) {
    let Some(agreed) = agreed else { return (None, None) };
    let (theirs, ours) = match role {
        Role::Server => (agreed.server, agreed.client),
        Role::Client => (agreed.client, agreed.server),
    };
    (Some(Box::new(InflateOnReceive::new(theirs, limit))), Some(MessageDeflater::new(ours)))
}

/// Whether the script may run: not when the answer was refused or a required extension declined
/// (then wsspec closes at once, with the violation's code or 1000).
pub fn may_play(case: &Case, obs: &Observation) -> bool {
    obs.violation.is_none() && !declined_required(case, obs) && obs.deflate_unmet.is_none()
}

/// A case that needs permessage-deflate runs without it. A crafted answer the client must fail on
/// agrees on nothing by design.
fn declined_required(case: &Case, obs: &Observation) -> bool {
    case.deflate.as_ref().is_some_and(|d| d.negotiation == Negotiation::Required && d.response.as_ref().is_none_or(|r| r.acceptable()))
        && obs.deflate.is_none()
        && obs.open_error.is_none()
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
    let unimplemented = match (&obs.deflate_unmet, obs.target_role) {
        (Some(why), _) => format!("The case does not apply to this client: {why}. It is UNIMPLEMENTED."),
        _ if !declined_required(case, obs) || obs.violation.is_some() => return None,
        (None, Role::Server) => "The server declined permessage-deflate (no Sec-WebSocket-Extensions in its 101): the case needs it, so \
                                 it is UNIMPLEMENTED, as Autobahn reports it."
            .into(),
        (None, Role::Client) => "The client offered no permessage-deflate that the case's accept rule takes (Autobahn's), so wsspec \
                                 declined it: the case needs it, so it is UNIMPLEMENTED, as Autobahn reports it."
            .into(),
    };
    let (behavior_close, result_close) = close();
    Some(Verdict { behavior: Behavior::Unimplemented, behavior_close, result: unimplemented, result_close })
}

/// Testing a client with a crafted answer it MUST fail the connection on (21.1.x): when the client
/// went on instead, the reason names that fault (the answer it accepted and what makes the answer
/// invalid), then what showed it, `received` being the judge's preview of what the client sent.
/// Without it the reason would name only the symptom: a compressed message is "RSV bits 100 that no
/// negotiated extension gives a meaning to", since wsspec agreed to nothing. `None` when the case
/// has no such answer, the answer went unsent, or the client did fail the connection.
pub fn accepted_invalid_answer(case: &Case, obs: &Observation, received: &str) -> Option<String> {
    let crafted = case.deflate.as_ref()?.response.as_ref().filter(|r| !r.acceptable())?;
    if obs.target_role != Role::Client || obs.deflate_unmet.is_some() || obs.open_error.is_some() {
        return None;
    }
    let compressed = matches!(obs.violation, Some(Violation::ReservedBits { rsv }) if rsv & 0b100 != 0);
    let went_on = if compressed {
        "went on to use permessage-deflate: it sent a frame with RSV1 set, a compressed message".to_string()
    } else if obs.violation.is_none() && obs.events.heeded() > 0 {
        format!("went on with the connection: it sent {received}")
    } else if obs.violation.is_none() && obs.timed_out && obs.remote_close.is_none() {
        "kept the connection open until the case timeout".to_string()
    } else {
        return None;
    };
    let answer = handshake::parse_response(&obs.exchange.response).ok().flatten().map_or_else(String::new, |r| {
        r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(HEADER)).map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", ")
    });
    Some(format!(
        "The client accepted the answer `{}`, which {}: a client MUST fail the connection on such an answer (RFC 7692 §{}), \
         but it {went_on}.",
        crate::preview(answer.as_bytes(), 255),
        what_is_invalid(crafted),
        if *crafted == CraftedResponse::TwoElements || *crafted == CraftedResponse::NotOffered { "5" } else { "7.1" },
    ))
}

/// What makes a crafted answer one the client must fail on, with the rule it breaks.
fn what_is_invalid(crafted: &CraftedResponse) -> String {
    match crafted {
        CraftedResponse::UnknownParameter => format!("holds {UNKNOWN_PARAMETER}, a parameter RFC 7692 does not define for a response"),
        CraftedResponse::RepeatedParameter => "holds client_no_context_takeover twice, two parameters with the same name".into(),
        CraftedResponse::ServerMaxWindowBits(text) if text.is_empty() => {
            "holds server_max_window_bits without a value, which a response must give (RFC 7692 §7.1.2.1)".into()
        }
        CraftedResponse::ServerMaxWindowBits(text) => format!(
            "gives server_max_window_bits the invalid value {} (RFC 7692 §7.1.2.1: a decimal integer from 8 to 15 without leading zeroes)",
            text.trim_start_matches('=')
        ),
        CraftedResponse::ClientWindowNotOffered => {
            "holds client_max_window_bits, which the client did not offer (RFC 7692 §7.1.2.2: the response MUST NOT include it then)".into()
        }
        CraftedResponse::ServerWindowAboveOffer => {
            "gives server_max_window_bits a value above the client's offer (RFC 7692 §7.1.2.1: the same or a smaller value)".into()
        }
        CraftedResponse::TwoElements => {
            "accepts permessage-deflate twice, two extensions that both use RSV1 (a server MUST NOT accept a PMCE together with such an \
             extension)"
                .into()
        }
        CraftedResponse::NotOffered => "accepts permessage-deflate, which the client did not offer".into(),
        CraftedResponse::UnsolicitedServerNoContextTakeover => "is valid".into(),
    }
}
