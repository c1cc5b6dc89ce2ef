//! Autobahn|Testsuite's 216 permessage-deflate cases, 12.1.1 to 13.7.18, as data for the engine:
//! read from `case12_x_x.py` (autobahn-testsuite 25.10.1, engine autobahn-python 0.10.9).
//!
//! Every case sends `count` messages one at a time, each the next `len` units of its data set
//! ([`super::datasets::MessageSlicer`]), compressed whole and then cut into frames of
//! `auto_fragment` octets (0: one frame; RSV1 on the first frame only), waits for each echo and
//! compares type, length (characters for text) and SHA-1; the first mismatch is FAILED, all echoes
//! OK, the timer FAILED ("Case did not finish within N seconds"). If permessage-deflate was not
//! negotiated the case is UNIMPLEMENTED and wsspec closes with 1000 at once.
//!
//! Testing a server, wsspec offers [`AutobahnCase::offers`]; testing a client, it answers with
//! [`AutobahnCase::accept`] (see [`super::server::accept`]).

use super::datasets::Dataset;
use super::params::{DeflateOffer, WindowBits};
use super::server::{self, Grant};

/// `MSG_SIZES`: one row per case number within a subsection (x.y.1 to x.y.18).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageSize {
    /// Message length: characters for a text set, octets otherwise.
    pub len: usize,
    /// Messages sent, one at a time.
    pub count: u32,
    /// Whole-case timeout, in seconds.
    pub timeout_secs: u32,
    /// Frame size the compressed message is cut into, in octets; 0 sends one frame.
    pub auto_fragment: usize,
}

const fn size(len: usize, timeout_secs: u32, auto_fragment: usize) -> MessageSize {
    MessageSize { len, count: 1000, timeout_secs, auto_fragment }
}

/// Autobahn's `MSG_SIZES`, in case order.
pub const MESSAGE_SIZES: [MessageSize; 18] = [
    size(16, 60, 0),
    size(64, 60, 0),
    size(256, 120, 0),
    size(1024, 240, 0),
    size(4096, 480, 0),
    size(8192, 480, 0),
    size(16384, 480, 0),
    size(32768, 480, 0),
    size(65536, 480, 0),
    size(131072, 480, 0),
    size(8192, 480, 256),
    size(16384, 480, 256),
    size(32768, 480, 256),
    size(65536, 480, 256),
    size(131072, 480, 256),
    size(131072, 480, 1024),
    size(131072, 480, 4096),
    size(131072, 480, 32768),
];

/// One offer of Autobahn's client: `(requestNoContextTakeover, requestMaxWindowBits)`, 0 = none.
type OfferSpec = (bool, u8);

/// Autobahn's `DEFLATE_PARAMS` for 13.1 to 13.7: the client's offers and the server's accept rule.
pub const SECTION_13_PARAMETERS: [(&[OfferSpec], &[Grant]); 7] = [
    (&[(false, 0)], server::ACCEPT_AS_OFFERED),
    (&[(true, 0)], server::ACCEPT_NO_CONTEXT_TAKEOVER),
    (&[(false, 9)], server::ACCEPT_WINDOW_9),
    (&[(false, 15)], server::ACCEPT_WINDOW_15),
    (&[(true, 9)], server::ACCEPT_NO_CONTEXT_TAKEOVER_WINDOW_9),
    (&[(true, 15)], server::ACCEPT_NO_CONTEXT_TAKEOVER_WINDOW_15),
    (&[(true, 9), (true, 0), (false, 0)], server::ACCEPT_FALLBACK),
];

/// One of the 216 cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutobahnCase {
    /// `12.y.z` or `13.y.z`.
    pub id: String,
    /// The data set its messages are cut from.
    pub dataset: Dataset,
    /// Length, count, timeout and frame size.
    pub size: MessageSize,
    /// What wsspec offers when testing a server, in order (one `Sec-WebSocket-Extensions` value,
    /// elements joined by `, `).
    pub offers: Vec<DeflateOffer>,
    /// How wsspec accepts when testing a client.
    pub accept: &'static [Grant],
    /// Autobahn's description of the case.
    pub description: String,
    /// wsspec's title: unlike Autobahn's descriptions, which repeat across 12.1–12.5 (the data
    /// set is left out) and across 12.x and 13.x, it names the data set, the message size, the
    /// frame size and the offer, so every title of the 216 is distinct.
    pub title: String,
}

impl AutobahnCase {
    /// The `Sec-WebSocket-Extensions` value wsspec sends, exactly as Autobahn writes it.
    pub fn offer_header(&self) -> String {
        self.offers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// "1000 compressed text messages of 16 characters", with ", auto-fragment to N octets" when the
/// messages are cut into frames.
fn messages(dataset: Dataset, size: MessageSize) -> String {
    let (kind, unit) = if dataset.is_text() { ("text", "characters") } else { ("binary", "octets") };
    let frames = if size.auto_fragment > 0 { format!(", auto-fragment to {} octets", size.auto_fragment) } else { String::new() };
    format!("{} compressed {kind} messages of {} {unit}{frames}", size.count, size.len)
}

/// The 216 cases in Autobahn's order: 12.1.1–12.5.18 (one data set per subsection, default
/// offer), then 13.1.1–13.7.18 (JSON, one parameter set per subsection).
pub fn autobahn_cases() -> Vec<AutobahnCase> {
    let mut cases = Vec::with_capacity(216);
    for (y, dataset) in Dataset::ALL.into_iter().enumerate() {
        for (z, size) in MESSAGE_SIZES.into_iter().enumerate() {
            cases.push(AutobahnCase {
                id: format!("12.{}.{}", y + 1, z + 1),
                dataset,
                size,
                offers: vec![DeflateOffer::autobahn(false, None)],
                accept: server::ACCEPT_AS_OFFERED,
                description: format!(
                    "Send {} compressed messages each of payload size {}, auto-fragment to {} octets. Use default permessage-deflate offer.",
                    size.count, size.len, size.auto_fragment
                ),
                title: format!("{} data set: {}; the default offer (client_no_context_takeover; client_max_window_bits)", dataset.name(), messages(dataset, size)),
            });
        }
    }
    for (y, (offers, accept)) in SECTION_13_PARAMETERS.into_iter().enumerate() {
        let listed: Vec<String> = offers
            .iter()
            .map(|&(no_takeover, bits)| format!("({}, {bits})", if no_takeover { "True" } else { "False" }))
            .collect();
        for (z, size) in MESSAGE_SIZES.into_iter().enumerate() {
            cases.push(AutobahnCase {
                id: format!("13.{}.{}", y + 1, z + 1),
                dataset: Dataset::Json,
                size,
                offers: offers
                    .iter()
                    .map(|&(no_takeover, bits)| DeflateOffer::autobahn(no_takeover, WindowBits::new(bits)))
                    .collect(),
                accept,
                description: format!(
                    "Send {} compressed messages each of payload size {}, auto-fragment to {} octets. Use permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits): [{}]",
                    size.count,
                    size.len,
                    size.auto_fragment,
                    listed.join(", ")
                ),
                title: format!("Offers (requestNoContextTakeover, requestMaxWindowBits) {}: {}", listed.join(", "), messages(Dataset::Json, size)),
            });
        }
    }
    cases
}
