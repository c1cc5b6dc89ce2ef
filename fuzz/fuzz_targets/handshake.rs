//! Arbitrary bytes into the opening-handshake parsers and checks, both sides: no panic, a complete
//! head lies within the input, and it parses the same from its own bytes alone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsspec::{
    fuzz::seeds::HANDSHAKE_KEY,
    handshake::{check_request, check_response, parse_request, parse_response},
};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(response)) = parse_response(data) {
        assert!(response.head_len <= data.len());
        let again = parse_response(&data[..response.head_len]).expect("the head parses alone").expect("and is complete");
        assert_eq!((again.status, &again.headers, again.head_len), (response.status, &response.headers, response.head_len));
        let _ = check_response(&response, HANDSHAKE_KEY);
    }
    if let Ok(Some(request)) = parse_request(data) {
        assert!(request.head_len <= data.len());
        let again = parse_request(&data[..request.head_len]).expect("the head parses alone").expect("and is complete");
        assert_eq!((&again.method, &again.target, &again.headers), (&request.method, &request.target, &request.headers));
        let _ = check_request(&request);
    }
});
