//! Section 22's probes of a server's RFC 8441 side: the setting, a crafted extended CONNECT and
//! its answer, several WebSockets on one connection, and the close and abort mappings. Each ends
//! in a [`Finding`] kept in the observation for [`super::judge`]; every wait is bounded.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    time::timeout,
};

use super::{
    client::{self, Connection},
    raw::{Answer, RawConnection},
    H2Stream,
};
use crate::{
    catalog::{Case, H2RequestDef, Http2Def, Probe},
    engine::{opening::no_answer, HttpExchange, Observation, RunOptions, Target},
    frame::{Decoder, FrameSpec, OpCode},
    tls::Connector,
};

/// Streams the multiplexing probe opens on one connection.
const STREAMS: usize = 3;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL was not sent (`None`) or was 0: no RFC 8441 here.
    NoSetting(Option<u32>),
    /// The setting had a value other than 0 or 1.
    BadSetting(u32),
    /// The server's answer to the crafted request.
    Answer(Answer),
    /// The probe saw the server do what the case asks; what it saw.
    Passed(String),
    /// The probe saw the server do otherwise; what it saw.
    Broken(String),
}

/// Runs a probe case (`http2.probe` or `http2.request`) against the server at `target`.
pub async fn run(case: &Case, def: &Http2Def, target: &Target, options: &RunOptions) -> Observation {
    let mut obs = Observation::starting_now();
    let started = std::time::Instant::now();
    let wait = client::OPEN_WAIT.mul_f64(options.timeout_scale) * 2;
    let tls = options.tls.as_ref();
    let probed = timeout(wait, async {
        match (def.probe, &def.request) {
            (Some(Probe::Setting), _) => setting(target, tls).await,
            (Some(probe), _) => on_streams(probe, target, tls, &mut obs.exchange).await,
            (None, Some(request)) => crafted(request, target, tls, &mut obs.exchange).await,
            (None, None) => Err(format!("case {}: an `http2` table without `probe` or `request` runs frames (a bug in wsspec)", case.id)),
        }
    })
    .await;
    match probed {
        Ok(Ok(finding)) => obs.http2 = Some(finding),
        Ok(Err(reason)) => obs.open_error = Some(reason),
        Err(_) => obs.open_error = Some(format!("{} within {:.1} s", no_answer::HTTP2_PROBE, wait.as_secs_f64())),
    }
    obs.duration = started.elapsed();
    obs
}

async fn setting(target: &Target, tls: Option<&Connector>) -> Result<Finding, String> {
    let connection = RawConnection::open(target, tls).await?;
    Ok(match connection.connect_protocol() {
        Some(1) => Finding::Passed("The server's SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.".into()),
        Some(0) | None => Finding::NoSetting(connection.connect_protocol()),
        Some(other) => Finding::BadSetting(other),
    })
}

/// Sends the conforming extended CONNECT changed as `request` says, raw, and reads the answer.
async fn crafted(request: &H2RequestDef, target: &Target, tls: Option<&Connector>, exchange: &mut HttpExchange) -> Result<Finding, String> {
    let mut connection = RawConnection::open(target, tls).await?;
    if connection.connect_protocol() != Some(1) {
        return Ok(Finding::NoSetting(connection.connect_protocol()));
    }
    let mut fields: Vec<(String, String)> = [
        (":method", request.method.as_deref().unwrap_or("CONNECT")),
        (":protocol", request.protocol.as_deref().unwrap_or("websocket")),
        (":scheme", client::scheme(target)),
        (":authority", target.host_header.as_str()),
        (":path", target.resource.as_str()),
        ("sec-websocket-version", "13"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    fields.retain(|(n, _)| !request.remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
    fields.extend(request.add.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())));
    exchange.request = fields.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect::<String>().into_bytes();
    connection.send_headers(1, &fields).await?;
    let answer = connection.answer(1).await?;
    if let Answer::Status(status, headers) = &answer {
        exchange.status = Some(*status);
        exchange.headers = headers.iter().filter(|(n, _)| !n.starts_with(':')).cloned().collect();
        exchange.response = headers.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect::<String>().into_bytes();
    }
    Ok(Finding::Answer(answer))
}

/// The probes that open WebSockets with the h2 crate.
async fn on_streams(probe: Probe, target: &Target, tls: Option<&Connector>, exchange: &mut HttpExchange) -> Result<Finding, String> {
    let mut connection = Connection::open(target, tls).await?;
    if !connection.connect_protocol {
        return Ok(Finding::NoSetting(None));
    }
    let headers = [("sec-websocket-version".to_string(), "13".to_string())];
    let mut open = Vec::new();
    let count = match probe {
        Probe::Multiplex => STREAMS,
        Probe::Cancel => 2,
        _ => 1,
    };
    for _ in 0..count {
        match connection.connect_websocket(target, &headers, exchange).await {
            Ok(stream) => open.push(stream),
            Err(reason) => return Ok(Finding::Broken(format!("A conforming extended CONNECT was not opened: {reason}."))),
        }
    }
    match probe {
        Probe::Multiplex => multiplex(open).await,
        Probe::EndStream => end_stream(open.pop().expect("one stream")).await,
        Probe::Cancel => cancel(open).await,
        Probe::Setting => unreachable!("the setting probe opens no stream"),
    }
}

/// Interleaves one fragmented message per stream, then expects each echoed on its own stream.
async fn multiplex(mut streams: Vec<H2Stream>) -> Result<Finding, String> {
    let messages: Vec<Vec<u8>> = (0..streams.len()).map(|i| format!("stream {i}: {}", "x".repeat(100 * (i + 1))).into_bytes()).collect();
    for part in 0..2 {
        for (stream, message) in streams.iter_mut().zip(&messages) {
            let half = message.len() / 2;
            let mut frame = if part == 0 { FrameSpec::new(OpCode::Text, &message[..half]) } else { FrameSpec::new(OpCode::Continuation, &message[half..]) };
            frame.fin = part == 1;
            write(stream, &frame).await?;
        }
    }
    for (i, (stream, message)) in streams.iter_mut().zip(&messages).enumerate() {
        let mut decoder = Decoder::new(1 << 20);
        match next_frame(stream, &mut decoder).await {
            Ok(Some((OpCode::Text, payload))) if payload == *message => {}
            Ok(Some((opcode, payload))) => {
                return Ok(Finding::Broken(format!("Stream {i} of {} got back a {opcode:?} frame of {} bytes, not its own message of {} bytes.", messages.len(), payload.len(), message.len())))
            }
            Ok(None) => return Ok(Finding::Broken(format!("Stream {i} of {} ended before its message was echoed.", messages.len()))),
            Err(e) => return Ok(Finding::Broken(format!("Stream {i} of {} failed before its message was echoed: {e}.", messages.len()))),
        }
        close(stream).await?;
    }
    Ok(Finding::Passed(format!("{} WebSockets on one connection, their fragments interleaved, each echoed its own message.", messages.len())))
}

/// Completes a closing handshake, then expects END_STREAM (a read of 0 bytes), not RST_STREAM.
async fn end_stream(mut stream: H2Stream) -> Result<Finding, String> {
    write(&mut stream, &FrameSpec::new(OpCode::Close, 1000u16.to_be_bytes().to_vec())).await?;
    let mut decoder = Decoder::new(1 << 20);
    loop {
        match next_frame(&mut stream, &mut decoder).await {
            Ok(Some((OpCode::Close, _))) => break,
            Ok(Some(_)) => continue,
            Ok(None) => return Ok(Finding::Broken("The server ended the stream (END_STREAM) without answering the close frame.".into())),
            Err(e) => return Ok(Finding::Broken(format!("The server did not answer the close frame: {e}."))),
        }
    }
    match next_frame(&mut stream, &mut decoder).await {
        Ok(None) => Ok(Finding::Passed("After the closing handshake the server ended its stream with END_STREAM.".into())),
        Ok(Some((opcode, _))) => Ok(Finding::Broken(format!("After its close frame the server sent a {opcode:?} frame."))),
        Err(e) => Ok(Finding::Broken(format!("After the closing handshake the server did not end its stream with END_STREAM: {e}."))),
    }
}

/// Aborts the first stream mid-message with RST_STREAM(CANCEL); the second must still echo.
async fn cancel(mut streams: Vec<H2Stream>) -> Result<Finding, String> {
    let mut first = FrameSpec::new(OpCode::Text, b"cut short".to_vec());
    first.fin = false;
    write(&mut streams[0], &first).await?;
    streams[0].abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let other = &mut streams[1];
    write(other, &FrameSpec::new(OpCode::Text, b"after the other stream's RST_STREAM(CANCEL)".to_vec())).await?;
    let mut decoder = Decoder::new(1 << 20);
    match next_frame(other, &mut decoder).await {
        Ok(Some((OpCode::Text, payload))) if payload == b"after the other stream's RST_STREAM(CANCEL)" => {
            close(other).await?;
            Ok(Finding::Passed("After one WebSocket was aborted with RST_STREAM(CANCEL), the other on the connection still echoed.".into()))
        }
        Ok(Some((opcode, _))) => Ok(Finding::Broken(format!("After one stream was cancelled, the other got a {opcode:?} frame instead of its echo."))),
        Ok(None) => Ok(Finding::Broken("After one stream was cancelled, the server ended the other stream.".into())),
        Err(e) => Ok(Finding::Broken(format!("After one stream was cancelled, the other failed: {e}."))),
    }
}

/// Writes `frame` masked (wsspec is the client).
async fn write(stream: &mut H2Stream, frame: &FrameSpec) -> Result<(), String> {
    stream.write_all(&frame.clone().masked(rand::random()).encode()).await.map_err(|e| format!("writing to the stream: {e}"))
}

/// Sends a close frame and leaves the stream (its answer is not judged here).
async fn close(stream: &mut H2Stream) -> Result<(), String> {
    write(stream, &FrameSpec::new(OpCode::Close, 1000u16.to_be_bytes().to_vec())).await
}

/// The next WebSocket frame on `stream`: `None` at END_STREAM; an error names a reset.
async fn next_frame(stream: &mut H2Stream, decoder: &mut Decoder) -> Result<Option<(OpCode, Vec<u8>)>, String> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if let Some(frame) = decoder.next_frame().map_err(|e| e.to_string())? {
            return Ok(Some((frame.header.opcode, frame.payload)));
        }
        match stream.read(&mut buf).await {
            Ok(0) => return Ok(None),
            Ok(n) => decoder.push(&buf[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
}
