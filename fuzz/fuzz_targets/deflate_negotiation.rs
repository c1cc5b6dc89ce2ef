//! Arbitrary `Sec-WebSocket-Extensions` values into the extension grammar and the permessage-deflate
//! negotiation, both roles: no panic; a parsed list written back parses the same; an offer written
//! back reads the same; whatever a server accepts, under each of Autobahn's accept rules, passes the
//! client's check against that offer (the answer never exceeds the offer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsspec::extension::{
    header,
    permessage_deflate::{
        client::validate_response,
        params::{DeflateOffer, WindowBits},
        server::{self, accept},
    },
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = validate_response(&[DeflateOffer::autobahn(true, WindowBits::new(9)), DeflateOffer::default()], [text]);
    let Ok(elements) = header::parse(text) else { return };
    assert_eq!(header::parse(&header::format(&elements)).as_ref(), Ok(&elements), "a written list parses the same");
    for grants in [
        server::ACCEPT_AS_OFFERED,
        server::ACCEPT_NO_CONTEXT_TAKEOVER,
        server::ACCEPT_WINDOW_9,
        server::ACCEPT_NO_CONTEXT_TAKEOVER_WINDOW_15,
        server::ACCEPT_FALLBACK,
    ] {
        let Some(acceptance) = accept(&elements, grants) else { continue };
        let written = acceptance.offer.to_string();
        let reread = DeflateOffer::from_element(&header::parse(&written).expect("an offer written back parses")[0]);
        assert_eq!(reread, Ok(acceptance.offer), "{written}");
        let answer = acceptance.response.to_string();
        let checked = validate_response(&[acceptance.offer], [answer.as_str()])
            .unwrap_or_else(|error| panic!("the server's answer {answer:?} to {written:?} fails the client check: {error}"));
        assert_eq!(checked.map(|accepted| accepted.response), Some(acceptance.response));
    }
});
