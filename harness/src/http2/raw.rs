//! A minimal HTTP/2 frame writer and reader (RFC 9113 §4, §6) for the requests the h2 crate
//! refuses to send: it writes HEADERS as HPACK literals without indexing (RFC 7541 §6.2.2, no
//! Huffman), so a malformed extended CONNECT reaches the server exactly as the case wrote it, and
//! reads the server's SETTINGS and its answer (HEADERS decoded by the `loona-hpack` crate, RST_STREAM,
//! GOAWAY). Every read is bounded by the caller's timeout and by [`MAX_FRAME`].

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    engine::{Target, Transport},
    tls::Connector,
};

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3, §9.1).
pub const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;
/// The largest frame payload read: the default SETTINGS_MAX_FRAME_SIZE wsspec never raises.
const MAX_FRAME: usize = 16_384;
/// The largest header block (HEADERS and its CONTINUATION frames) read from a server: 64 KiB, far
/// over any answer to a CONNECT; a server that goes on (a CONTINUATION flood) is refused there.
const MAX_HEADER_BLOCK: usize = 64 * 1024;

const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const CONTINUATION: u8 = 0x9;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

/// How the server answered a request on a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A response HEADERS with this `:status` and fields.
    Status(u16, Vec<(String, String)>),
    /// RST_STREAM with this error code (RFC 9113 §7).
    Reset(u32),
    /// GOAWAY with this error code: the whole connection ended.
    GoAway(u32),
    /// The TCP connection closed.
    Closed,
}

/// One raw HTTP/2 connection, after the server's SETTINGS.
pub struct RawConnection {
    tcp: Transport,
    decoder: loona_hpack::Decoder<'static>,
    /// The server's first SETTINGS, as (identifier, value) pairs in order.
    pub settings: Vec<(u16, u32)>,
}

impl RawConnection {
    /// Connects (h2c, or TLS with ALPN `h2` for `wss://`: [`super::client::connect`]), sends the
    /// preface and an empty SETTINGS, and reads the server's SETTINGS, which must be its first
    /// frame (RFC 9113 §3.4). Errors are phrases.
    pub async fn open(target: &Target, tls: Option<&Connector>) -> Result<Self, String> {
        let mut tcp = super::client::connect(target, tls).await?;
        let mut hello = PREFACE.to_vec();
        hello.extend(frame(SETTINGS, 0, 0, &[]));
        tcp.write_all(&hello).await.map_err(|e| format!("sending the HTTP/2 preface: {e}"))?;
        let mut connection = Self { tcp, decoder: loona_hpack::Decoder::new(), settings: Vec::new() };
        let (kind, flags, _, payload) = connection.read_frame().await?;
        if kind != SETTINGS || flags & ACK != 0 || payload.len() % 6 != 0 {
            return Err("the target did not answer the HTTP/2 preface with SETTINGS: it does not speak HTTP/2 (RFC 9113 §3.4)".into());
        }
        connection.settings = payload.chunks(6).map(|s| (u16::from_be_bytes([s[0], s[1]]), u32::from_be_bytes([s[2], s[3], s[4], s[5]]))).collect();
        connection.tcp.write_all(&frame(SETTINGS, ACK, 0, &[])).await.map_err(|e| format!("acknowledging SETTINGS: {e}"))?;
        Ok(connection)
    }

    /// The last value of SETTINGS_ENABLE_CONNECT_PROTOCOL in the server's SETTINGS, if sent.
    pub fn connect_protocol(&self) -> Option<u32> {
        self.settings.iter().rev().find(|(id, _)| *id == ENABLE_CONNECT_PROTOCOL).map(|(_, v)| *v)
    }

    /// Sends `fields` (in order, names as given) as one HEADERS frame opening `stream`, without
    /// END_STREAM (a CONNECT stream stays open, RFC 9113 §8.5).
    pub async fn send_headers(&mut self, stream: u32, fields: &[(String, String)]) -> Result<(), String> {
        let mut block = Vec::new();
        for (name, value) in fields {
            block.push(0x00);
            string(&mut block, name.as_bytes());
            string(&mut block, value.as_bytes());
        }
        if block.len() > MAX_FRAME {
            return Err(format!("a header block of {} bytes is over one frame", block.len()));
        }
        self.tcp.write_all(&frame(HEADERS, END_HEADERS, stream, &block)).await.map_err(|e| format!("sending HEADERS: {e}"))
    }

    /// Reads until the server answers on `stream`: response HEADERS, RST_STREAM, GOAWAY or the end
    /// of the connection. Answers its PINGs and SETTINGS on the way; DATA is skipped.
    pub async fn answer(&mut self, stream: u32) -> Result<Answer, String> {
        let mut block = Vec::new();
        loop {
            let (kind, flags, id, payload) = match self.read_frame().await {
                Ok(frame) => frame,
                Err(e) if e.contains("closed") => return Ok(Answer::Closed),
                Err(e) => return Err(e),
            };
            match kind {
                SETTINGS if flags & ACK == 0 => self.tcp.write_all(&frame(SETTINGS, ACK, 0, &[])).await.map_err(|e| e.to_string())?,
                PING if flags & ACK == 0 => self.tcp.write_all(&frame(PING, ACK, 0, &payload)).await.map_err(|e| e.to_string())?,
                GOAWAY if payload.len() >= 8 => return Ok(Answer::GoAway(u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]))),
                RST_STREAM if id == stream && payload.len() == 4 => return Ok(Answer::Reset(u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]))),
                HEADERS | CONTINUATION if id == stream => {
                    block.extend_from_slice(&header_fragment(kind, flags, &payload)?);
                    if block.len() > MAX_HEADER_BLOCK {
                        return Err(format!("the server's header block went past {MAX_HEADER_BLOCK} bytes without END_HEADERS"));
                    }
                    if flags & END_HEADERS != 0 {
                        return self.decode_status(&block);
                    }
                }
                _ => {}
            }
        }
    }

    fn decode_status(&mut self, block: &[u8]) -> Result<Answer, String> {
        let fields = self.decoder.decode(block).map_err(|e| format!("the target's HPACK block does not decode: {e:?}"))?;
        let fields: Vec<(String, String)> =
            fields.into_iter().map(|(n, v)| (String::from_utf8_lossy(&n).into_owned(), String::from_utf8_lossy(&v).into_owned())).collect();
        let status = fields.iter().find(|(n, _)| n == ":status").and_then(|(_, v)| v.parse().ok()).ok_or("the target's response HEADERS have no valid :status (RFC 9113 §8.3.2)")?;
        Ok(Answer::Status(status, fields))
    }

    async fn read_frame(&mut self) -> Result<(u8, u8, u32, Vec<u8>), String> {
        let mut head = [0u8; 9];
        self.tcp.read_exact(&mut head).await.map_err(|e| if e.kind() == std::io::ErrorKind::UnexpectedEof { "the target closed the connection".to_string() } else { format!("reading HTTP/2: {e}") })?;
        let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        if length > MAX_FRAME {
            return Err(format!("the target sent a frame of {length} bytes, over SETTINGS_MAX_FRAME_SIZE 16384 (RFC 9113 §4.2)"));
        }
        let mut payload = vec![0u8; length];
        self.tcp.read_exact(&mut payload).await.map_err(|e| format!("reading HTTP/2: {e}"))?;
        let stream = u32::from_be_bytes([head[5] & 0x7f, head[6], head[7], head[8]]);
        Ok((head[3], head[4], stream, payload))
    }
}

/// A HEADERS or CONTINUATION payload without padding and priority (RFC 9113 §6.2).
fn header_fragment(kind: u8, flags: u8, payload: &[u8]) -> Result<Vec<u8>, String> {
    let mut at = 0;
    let mut end = payload.len();
    if kind == HEADERS && flags & 0x8 != 0 {
        let pad = *payload.first().ok_or("an empty padded HEADERS frame")? as usize;
        at = 1;
        end = end.checked_sub(pad).ok_or("HEADERS padding longer than the frame")?;
    }
    if kind == HEADERS && flags & 0x20 != 0 {
        at += 5;
    }
    payload.get(at..end).map(<[u8]>::to_vec).ok_or_else(|| "a HEADERS frame shorter than its padding and priority".to_string())
}

/// A frame: 9-byte header (RFC 9113 §4.1) and payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = (payload.len() as u32).to_be_bytes();
    let mut out = vec![length[1], length[2], length[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An HPACK string literal without Huffman coding (RFC 7541 §5.2): a 7-bit-prefix length.
fn string(out: &mut Vec<u8>, text: &[u8]) {
    let mut length = text.len();
    if length < 127 {
        out.push(length as u8);
    } else {
        out.push(127);
        length -= 127;
        while length >= 128 {
            out.push((length % 128) as u8 | 0x80);
            length /= 128;
        }
        out.push(length as u8);
    }
    out.extend_from_slice(text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_decode_as_written() {
        let mut block = Vec::new();
        for (name, value) in [(":method", "GET"), ("x-long", &"v".repeat(300) as &str)] {
            block.push(0);
            string(&mut block, name.as_bytes());
            string(&mut block, value.as_bytes());
        }
        let fields = loona_hpack::Decoder::new().decode(&block).unwrap();
        assert_eq!(fields[0], (b":method".to_vec(), b"GET".to_vec()));
        assert_eq!(fields[1].1.len(), 300);
        assert_eq!(frame(RST_STREAM, 0, 1, &[0, 0, 0, 8]), [0, 0, 4, 3, 0, 0, 0, 0, 1, 0, 0, 0, 8]);
    }
}
