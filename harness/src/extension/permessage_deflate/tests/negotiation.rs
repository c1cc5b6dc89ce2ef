//! The header grammar, the offer and response rules, both roles' choices.

use crate::extension::header::{self, HeaderErrorKind};
use crate::extension::permessage_deflate::{
    client::{validate_response, ResponseError},
    params::{ClientWindowOffer, DeflateOffer, DeflateResponse, ParamError, WindowBits},
    server::{self, accept},
};

fn bits(n: u8) -> WindowBits {
    WindowBits::new(n).unwrap()
}

#[test]
fn header_grammar_reads_lists_params_and_quoted_values() {
    let elements = header::parse("foo, permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\" ,bar;x=y").unwrap();
    assert_eq!(elements.len(), 3);
    assert_eq!(elements[1].name, "permessage-deflate");
    assert_eq!(
        elements[1].params,
        vec![("client_max_window_bits".into(), None), ("server_max_window_bits".into(), Some("10".into()))]
    );
    assert_eq!(elements[2].params, vec![("x".into(), Some("y".into()))]);
    let lines = header::parse_lines(["permessage-deflate; server_no_context_takeover", "permessage-deflate"]).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(header::parse("a, , b").unwrap().len(), 2);
}

#[test]
fn header_grammar_errors_name_the_byte() {
    for (value, at, kind) in [
        ("", 0, HeaderErrorKind::Empty),
        (" , ", 0, HeaderErrorKind::Empty),
        ("permessage-deflate; ", 20, HeaderErrorKind::ExpectedToken),
        ("permessage-deflate; a=", 22, HeaderErrorKind::ExpectedValue),
        ("permessage-deflate; a=\"10", 22, HeaderErrorKind::UnterminatedQuote),
        ("permessage-deflate; a=\"1 0\"", 22, HeaderErrorKind::QuotedValueNotToken),
        ("permessage-deflate; a=\"\"", 22, HeaderErrorKind::QuotedValueNotToken),
        ("permessage-deflate x", 19, HeaderErrorKind::ExpectedSeparator),
        ("permessage-deflate; a=b c", 24, HeaderErrorKind::ExpectedSeparator),
    ] {
        let error = header::parse(value).unwrap_err();
        assert_eq!((error.at, error.kind), (at, kind), "{value:?}");
    }
}

#[test]
fn header_format_round_trips() {
    let value = "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x; q=\"abc\"";
    let elements = header::parse(value).unwrap();
    let written = header::format(&elements);
    assert_eq!(written, "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x; q=abc");
    assert_eq!(header::parse(&written).unwrap(), elements);
}

#[test]
fn window_bits_are_8_to_15_without_leading_zeroes() {
    for ok in 8..=15u8 {
        assert_eq!(WindowBits::parse(&ok.to_string()), Some(bits(ok)));
    }
    for bad in ["7", "16", "08", "015", "abc", "", "+9", "9.0", " 9", "-9", "1"] {
        assert_eq!(WindowBits::parse(bad), None, "{bad:?}");
    }
}

fn offer_of(value: &str) -> Result<DeflateOffer, ParamError> {
    DeflateOffer::from_element(&header::parse(value).unwrap()[0])
}

#[test]
fn offers_read_every_parameter_and_refuse_bad_ones() {
    assert_eq!(offer_of("permessage-deflate").unwrap(), DeflateOffer::default());
    assert_eq!(offer_of("permessage-deflate; client_max_window_bits").unwrap().client_max_window_bits, ClientWindowOffer::Supported);
    assert_eq!(
        offer_of("permessage-deflate; client_max_window_bits=\"12\"").unwrap().client_max_window_bits,
        ClientWindowOffer::Limit(bits(12))
    );
    assert_eq!(
        offer_of("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9").unwrap(),
        DeflateOffer {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(bits(9)),
            client_max_window_bits: ClientWindowOffer::Absent,
        }
    );
    assert_eq!(offer_of("permessage-deflate; foo").unwrap_err(), ParamError::Unknown("foo".into()));
    assert_eq!(
        offer_of("permessage-deflate; server_no_context_takeover; server_no_context_takeover").unwrap_err(),
        ParamError::Repeated("server_no_context_takeover".into())
    );
    assert!(matches!(offer_of("permessage-deflate; server_no_context_takeover=1"), Err(ParamError::UnexpectedValue { .. })));
    assert_eq!(
        offer_of("permessage-deflate; server_max_window_bits").unwrap_err(),
        ParamError::MissingValue("server_max_window_bits".into())
    );
    for value in ["7", "16", "08", "abc"] {
        assert!(
            matches!(offer_of(&format!("permessage-deflate; client_max_window_bits={value}")), Err(ParamError::InvalidWindowBits { .. })),
            "{value}"
        );
    }
}

#[test]
fn offers_and_responses_are_written_in_autobahns_order() {
    assert_eq!(
        DeflateOffer::autobahn(false, None).to_string(),
        "permessage-deflate; client_no_context_takeover; client_max_window_bits"
    );
    assert_eq!(
        DeflateOffer::autobahn(true, Some(bits(9))).to_string(),
        "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9"
    );
    let response = DeflateResponse {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: Some(bits(9)),
        client_max_window_bits: Some(bits(15)),
    };
    assert_eq!(
        response.to_string(),
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_no_context_takeover; client_max_window_bits=15"
    );
    let again = DeflateResponse::from_element(&header::parse(&response.to_string()).unwrap()[0]).unwrap();
    assert_eq!(again, response);
}

fn server_answer(request: &str, grants: &[server::Grant]) -> Option<String> {
    accept(&header::parse(request).unwrap(), grants).map(|acceptance| acceptance.response.to_string())
}

#[test]
fn server_declines_invalid_offers_and_takes_the_next_valid_one() {
    for invalid in [
        "permessage-deflate; foo",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; server_max_window_bits",
    ] {
        assert_eq!(server_answer(invalid, server::ACCEPT_AS_OFFERED), None, "{invalid}");
        let acceptance =
            accept(&header::parse(&format!("{invalid}, permessage-deflate; server_max_window_bits=10")).unwrap(), server::ACCEPT_AS_OFFERED)
                .unwrap();
        assert_eq!((acceptance.element, acceptance.response.to_string()), (1, "permessage-deflate; server_max_window_bits=10".into()));
    }
    assert_eq!(server_answer("x-webkit-deflate-frame", server::ACCEPT_AS_OFFERED), None);
}

#[test]
fn server_answers_firefox_chrome_and_window_offers() {
    assert_eq!(server_answer("permessage-deflate", server::ACCEPT_AS_OFFERED).unwrap(), "permessage-deflate");
    // Without client_max_window_bits in the offer, a window rule cannot accept it (Autobahn's accept3..6).
    assert_eq!(server_answer("permessage-deflate", server::ACCEPT_WINDOW_9), None);
    assert_eq!(
        server_answer("permessage-deflate; client_max_window_bits", server::ACCEPT_WINDOW_9).unwrap(),
        "permessage-deflate; client_max_window_bits=9"
    );
    for n in 8..=15 {
        let answer = server_answer(&format!("permessage-deflate; server_max_window_bits={n}"), server::ACCEPT_AS_OFFERED).unwrap();
        assert_eq!(answer, format!("permessage-deflate; server_max_window_bits={n}"));
    }
    // accept7: no_context_takeover + 9 needs client_max_window_bits; else no_context_takeover.
    assert_eq!(
        server_answer("permessage-deflate; server_no_context_takeover", server::ACCEPT_FALLBACK).unwrap(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    );
    assert_eq!(
        server_answer(
            "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9, permessage-deflate",
            server::ACCEPT_FALLBACK
        )
        .unwrap(),
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_no_context_takeover; client_max_window_bits=9"
    );
}

fn client_check(offers: &[DeflateOffer], answer: &str) -> Result<Option<crate::extension::permessage_deflate::client::Accepted>, ResponseError> {
    validate_response(offers, [answer])
}

#[test]
fn client_fails_on_every_broken_rule() {
    let chrome = DeflateOffer { client_max_window_bits: ClientWindowOffer::Supported, ..DeflateOffer::default() };
    let limited = DeflateOffer { server_max_window_bits: Some(bits(10)), ..DeflateOffer::default() };
    let bare = DeflateOffer::default();
    assert!(matches!(client_check(&[bare], "permessage-deflate; foo"), Err(ResponseError::Parameter(ParamError::Unknown(_)))));
    assert!(matches!(
        client_check(&[bare], "permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
        Err(ResponseError::Parameter(ParamError::Repeated(_)))
    ));
    assert!(matches!(
        client_check(&[chrome], "permessage-deflate; client_max_window_bits=16"),
        Err(ResponseError::Parameter(ParamError::InvalidWindowBits { .. }))
    ));
    assert!(matches!(
        client_check(&[chrome], "permessage-deflate; client_max_window_bits"),
        Err(ResponseError::Parameter(ParamError::MissingValue(_)))
    ));
    assert_eq!(client_check(&[bare], "permessage-deflate; client_max_window_bits=10"), Err(ResponseError::ClientWindowNotOffered(bits(10))));
    assert_eq!(
        client_check(&[limited], "permessage-deflate; server_max_window_bits=11"),
        Err(ResponseError::ServerWindowAboveOffer { offered: bits(10), answered: bits(11) })
    );
    assert_eq!(client_check(&[bare, bare], "permessage-deflate, permessage-deflate"), Err(ResponseError::Repeated));
    assert_eq!(client_check(&[], "permessage-deflate"), Err(ResponseError::NotOffered("permessage-deflate".into())));
    assert_eq!(client_check(&[bare], "x-other"), Err(ResponseError::NotOffered("x-other".into())));
    assert!(matches!(client_check(&[bare], "permessage-deflate;"), Err(ResponseError::Header(_))));
}

#[test]
fn client_accepts_what_the_rfc_allows() {
    let bare = DeflateOffer::default();
    let accepted = client_check(&[bare], "permessage-deflate; server_no_context_takeover").unwrap().unwrap();
    assert!(accepted.agreed.server.no_context_takeover);
    let accepted = client_check(&[bare], "permessage-deflate; server_max_window_bits=12").unwrap().unwrap();
    assert_eq!(accepted.agreed.server.max_window_bits, bits(12));
    let limited = DeflateOffer { server_max_window_bits: Some(bits(10)), ..DeflateOffer::default() };
    assert!(client_check(&[limited], "permessage-deflate; server_max_window_bits=9").unwrap().is_some());
    assert_eq!(validate_response(&[bare], Vec::<&str>::new()), Ok(None));
    // Several offers: the answer fits the second (no window limit there).
    let accepted = client_check(&[limited, bare], "permessage-deflate; server_max_window_bits=15").unwrap().unwrap();
    assert_eq!(accepted.offer, 1);
}

#[test]
fn client_keeps_its_own_no_context_takeover_promise() {
    let offer = DeflateOffer::autobahn(false, None);
    let accepted = client_check(&[offer], "permessage-deflate").unwrap().unwrap();
    assert!(!accepted.response.client_no_context_takeover);
    assert!(accepted.agreed.client.no_context_takeover, "offered client_no_context_takeover: reset per message anyway");
    assert!(!accepted.agreed.server.no_context_takeover);
}
