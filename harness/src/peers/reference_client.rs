//! The embedded reference client: tokio-tungstenite driven the way WebSocket libraries drive
//! Autobahn's fuzzingserver (getCaseCount → runCase for each → updateReports), echoing every
//! message. The demo of `wsspec client`, and the tests' known-good client.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::{net::TcpStream, time::timeout};
use tokio_tungstenite::{client_async_with_config, tungstenite::Message, WebSocketStream};

use super::reference_server::config;
use crate::{
    engine::{Target, Transport},
    tls::Connector,
};

/// Bound on one case as seen by the driver; wsspec's own timeouts end cases much sooner.
const CASE_BOUND: Duration = Duration::from_secs(300);

/// Runs every case the server at `base` (`ws://127.0.0.1:9001`) offers, as `agent`.
pub async fn run_driver(base: &str, agent: &str) -> Result<(), String> {
    run_driver_with(base, agent, None).await
}

/// As [`run_driver`], over TLS with `tls` for a `wss://` base (tokio-tungstenite over rustls;
/// a connector that does not verify certificates makes it a client the TLS section must catch).
pub async fn run_driver_with(base: &str, agent: &str, tls: Option<&Connector>) -> Result<(), String> {
    let agent: String = url::form_urlencoded::byte_serialize(agent.as_bytes()).collect();
    let count: usize = read_text(&format!("{base}/getCaseCount"), tls)
        .await?
        .trim()
        .parse()
        .map_err(|e| format!("getCaseCount did not answer a number: {e}"))?;
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        // A case may fail the connection on purpose; errors end the case, not the run.
        let _ = timeout(CASE_BOUND, echo(&url, tls)).await;
    }
    read_text(&format!("{base}/updateReports?agent={agent}"), tls).await.map(drop)
}

/// Echoes every data message until the connection ends.
async fn echo(url: &str, tls: Option<&Connector>) -> Result<(), String> {
    let mut ws = connect(url, tls).await?;
    while let Some(message) = ws.next().await {
        match message.map_err(|e| e.to_string())? {
            message @ (Message::Text(_) | Message::Binary(_)) => ws.send(message).await.map_err(|e| e.to_string())?,
            _ => ws.flush().await.map_err(|e| e.to_string())?,
        }
    }
    Ok(())
}

/// Connects and returns the text of the first message (empty if none came).
async fn read_text(url: &str, tls: Option<&Connector>) -> Result<String, String> {
    let mut ws = timeout(Duration::from_secs(10), connect(url, tls))
        .await
        .map_err(|_| format!("{url}: no answer within 10 s"))?
        .map_err(|e| format!("{url}: {e}"))?;
    let mut text = String::new();
    while let Ok(Some(Ok(message))) = timeout(Duration::from_secs(120), ws.next()).await {
        match message {
            Message::Text(t) if text.is_empty() => text = t.to_string(),
            Message::Binary(b) if text.is_empty() => text = String::from_utf8_lossy(&b).into_owned(),
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(text)
}

/// Opens a WebSocket to `url`, over TLS with `tls` for `wss://`.
async fn connect(url: &str, tls: Option<&Connector>) -> Result<WebSocketStream<Transport>, String> {
    let target = Target::parse(url)?;
    let tcp = TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let stream = match (target.secure, tls) {
        (false, _) => Transport::from(tcp),
        (true, Some(connector)) => Transport::from(connector.connect(&target.server_name, tcp).await?),
        (true, None) => return Err(format!("{url}: wss:// needs a TLS connector")),
    };
    let (ws, _) = client_async_with_config(url, stream, Some(config())).await.map_err(|e| e.to_string())?;
    Ok(ws)
}
