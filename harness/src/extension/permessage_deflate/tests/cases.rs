//! The 216 Autobahn cases and the generated data sets.

use sha1::{Digest, Sha1};

use crate::extension::permessage_deflate::{
    autobahn_cases::autobahn_cases,
    datasets::{Dataset, MessageSlicer},
    deflater::MessageDeflater,
    params::DirectionParams,
    server,
};

#[test]
fn there_are_216_cases_in_autobahns_order() {
    let cases = autobahn_cases();
    assert_eq!(cases.len(), 216);
    assert_eq!(cases.iter().filter(|case| case.id.starts_with("12.")).count(), 90);
    assert_eq!((cases[0].id.as_str(), cases[89].id.as_str()), ("12.1.1", "12.5.18"));
    assert_eq!((cases[90].id.as_str(), cases[215].id.as_str()), ("13.1.1", "13.7.18"));
    let first = &cases[0];
    assert_eq!((first.size.len, first.size.count, first.size.timeout_secs, first.size.auto_fragment), (16, 1000, 60, 0));
    let case = cases.iter().find(|case| case.id == "12.3.15").unwrap();
    assert_eq!((case.dataset, case.size.len, case.size.auto_fragment), (Dataset::Prose, 131072, 256));
    assert_eq!(cases.iter().find(|case| case.id == "12.4.18").unwrap().size.auto_fragment, 32768);
    assert_eq!(cases.iter().find(|case| case.id == "13.5.3").unwrap().size.timeout_secs, 120);
}

#[test]
fn offers_and_accept_rules_are_autobahns() {
    let cases = autobahn_cases();
    let by_id = |id: &str| cases.iter().find(|case| case.id == id).unwrap();
    let default = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
    assert_eq!(by_id("12.2.7").offer_header(), default);
    assert_eq!(by_id("13.1.1").offer_header(), default);
    assert_eq!(by_id("13.2.1").offer_header(), format!("{default}; server_no_context_takeover"));
    assert_eq!(by_id("13.3.1").offer_header(), format!("{default}; server_max_window_bits=9"));
    assert_eq!(by_id("13.4.1").offer_header(), format!("{default}; server_max_window_bits=15"));
    assert_eq!(by_id("13.5.1").offer_header(), format!("{default}; server_no_context_takeover; server_max_window_bits=9"));
    assert_eq!(by_id("13.6.1").offer_header(), format!("{default}; server_no_context_takeover; server_max_window_bits=15"));
    assert_eq!(
        by_id("13.7.18").offer_header(),
        format!("{default}; server_no_context_takeover; server_max_window_bits=9, {default}; server_no_context_takeover, {default}")
    );
    assert_eq!(by_id("12.5.1").accept, server::ACCEPT_AS_OFFERED);
    assert_eq!(by_id("13.6.1").accept, server::ACCEPT_NO_CONTEXT_TAKEOVER_WINDOW_15);
    assert_eq!(by_id("13.7.1").accept, server::ACCEPT_FALLBACK);
    assert!(by_id("13.7.2").description.ends_with("[(True, 9), (True, 0), (False, 0)]"));
}

#[test]
fn data_sets_have_autobahns_sizes_and_kinds() {
    for set in Dataset::ALL {
        assert_eq!(set.bytes().len(), set.size(), "{set:?}");
    }
    let json = std::str::from_utf8(Dataset::Json.bytes()).unwrap();
    assert!(json.is_ascii());
    let parsed: serde_json::Value = serde_json::from_str(json).expect("the JSON set is JSON");
    assert!(parsed.as_array().unwrap().len() > 100);
    let html = std::str::from_utf8(Dataset::Html.bytes()).unwrap();
    assert_eq!(html.chars().count(), 263_620);
    assert_eq!(html.chars().filter(|c| !c.is_ascii()).count(), 26);
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(Dataset::Prose.bytes().is_ascii());
    let bmp = Dataset::Bitmap.bytes();
    assert_eq!(&bmp[..2], b"BM");
    assert_eq!(u32::from_le_bytes(bmp[2..6].try_into().unwrap()), 263_222);
    let pdf = Dataset::Pdf.bytes();
    assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
}

#[test]
fn data_sets_compress_like_their_kinds() {
    let ratio = |set: Dataset| {
        let data = set.bytes();
        MessageDeflater::new(DirectionParams::default()).compress_message(data).len() as f64 / data.len() as f64
    };
    assert!(ratio(Dataset::Json) < 0.35, "JSON {}", ratio(Dataset::Json));
    assert!(ratio(Dataset::Html) < 0.35, "HTML {}", ratio(Dataset::Html));
    assert!(ratio(Dataset::Prose) < 0.45, "prose {}", ratio(Dataset::Prose));
    let bitmap = ratio(Dataset::Bitmap);
    assert!((0.3..0.9).contains(&bitmap), "bitmap {bitmap}");
    let pdf = ratio(Dataset::Pdf);
    assert!((0.4..0.95).contains(&pdf), "PDF {pdf}");
}

#[test]
fn data_sets_never_change() {
    let digests: Vec<String> = Dataset::ALL.iter().map(|set| hex::encode(&Sha1::digest(set.bytes())[..8])).collect();
    assert_eq!(digests, PINNED, "a generator changed: results stop being comparable across versions");
}

const PINNED: [&str; 5] = ["a2f7bd75a22d50c3", "9166b183379e483d", "402bcae76f0b35cf", "139f1a543a136cee", "5dec41e4225f3cfc"];

#[test]
fn slicing_wraps_and_counts_characters_in_text() {
    let mut slicer = MessageSlicer::new(Dataset::Bitmap, 100_000);
    let data = Dataset::Bitmap.bytes();
    assert_eq!(slicer.next_message(), data[..100_000]);
    assert_eq!(slicer.next_message(), data[100_000..200_000]);
    assert_eq!(slicer.next_message(), [&data[200_000..], &data[..36_778]].concat(), "wraps round");
    let mut text = MessageSlicer::new(Dataset::Html, 131_072);
    let mut total_chars = 0;
    for _ in 0..10 {
        let message = String::from_utf8(text.next_message()).expect("never cuts a UTF-8 sequence");
        assert_eq!(message.chars().count(), 131_072);
        total_chars += message.len() - message.chars().count();
    }
    assert!(total_chars > 0, "some messages hold non-ASCII characters and are longer in octets");
    assert_eq!(MessageSlicer::new(Dataset::Json, 0).next_message(), b"");
}

/// The slicer finds a character's octet from a sparse index: every message, of lengths around its
/// stride and past the end of the set, is the same as cut from a full list of character offsets.
#[test]
fn text_slices_match_a_full_character_index() {
    for set in [Dataset::Html, Dataset::Json] {
        let text = std::str::from_utf8(set.bytes()).unwrap();
        let starts: Vec<usize> = text.char_indices().map(|(at, _)| at).chain([text.len()]).collect();
        let chars = starts.len() - 1;
        for len in [1, 63, 64, 65, 4_099] {
            let mut slicer = MessageSlicer::new(set, len);
            let mut from = 0;
            while from < chars + 2 * len {
                let (start, end) = (from % chars, (from + len) % chars);
                let expected = if end > start {
                    text[starts[start]..starts[end]].to_string()
                } else {
                    [&text[starts[start]..], &text[..starts[end]]].concat()
                };
                assert_eq!(slicer.next_len(), expected.len(), "{set:?}, {len} characters from character {start}");
                assert_eq!(slicer.next_message(), expected.as_bytes(), "{set:?}, {len} characters from character {start}");
                from += len;
            }
        }
    }
}

#[test]
fn every_case_negotiates_against_wsspec_itself_in_both_roles() {
    use crate::extension::{header, permessage_deflate::client::validate_response};
    for case in autobahn_cases() {
        let acceptance = server::accept(&header::parse(&case.offer_header()).unwrap(), case.accept)
            .unwrap_or_else(|| panic!("{}: wsspec's server declines wsspec's own offer", case.id));
        let answer = acceptance.response.to_string();
        let accepted = validate_response(&case.offers, [answer.as_str()]).unwrap().unwrap();
        let expected_client_window = match case.id.as_str() {
            id if id.starts_with("13.3.") || id.starts_with("13.5.") || id.starts_with("13.7.") => Some(9),
            id if id.starts_with("13.4.") || id.starts_with("13.6.") => Some(15),
            _ => None,
        };
        assert_eq!(acceptance.response.client_max_window_bits.map(|bits| bits.get()), expected_client_window, "{}", case.id);
        assert!(accepted.agreed.client.no_context_takeover, "{}: wsspec offered client_no_context_takeover", case.id);
        if case.id.starts_with("13.7.") {
            assert_eq!(answer, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_no_context_takeover; client_max_window_bits=9");
        }
    }
}
