//! Just enough of the Chrome DevTools protocol to load a page in headless Chromium, run a check in
//! it, take a screenshot, and collect everything that went wrong: console errors, uncaught
//! exceptions, dialogs (an injected `alert`), and any request that leaves the file system.

use std::{path::Path, process::Stdio, time::Duration};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    net::TcpStream,
    process::{Child, Command},
    sync::oneshot,
    time::timeout,
};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

/// Flags known to work as root in a container, and quiet: no network of its own.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
];

/// Bound on every step, so a broken page fails the test instead of hanging it.
const STEP: Duration = Duration::from_secs(20);

pub struct Browser {
    _child: Child,
    _profile: tempfile::TempDir,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Whether the page's load event came since the last navigation.
    loaded: bool,
    /// What went wrong in the pages so far, one line each.
    pub problems: Vec<String>,
}

/// Whether a `chromium` binary runs.
pub fn installed() -> bool {
    std::process::Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success())
}

impl Browser {
    pub async fn launch() -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new("chromium")
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        // Chromium prints its DevTools address on stderr; the rest of stderr is drained unread.
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            let mut tx = Some(tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.trim().to_string());
                    }
                }
            }
        });
        let url = timeout(STEP, rx).await.expect("chromium prints its DevTools address").expect("stderr open");
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("DevTools connection");
        let mut browser =
            Self { _child: child, _profile: profile, ws, session: String::new(), next_id: 0, loaded: false, problems: Vec::new() };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" })).await;
        let attached = browser.call("Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true })).await;
        browser.session = attached["sessionId"].as_str().expect("session id").to_string();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
            browser.call(domain, json!({})).await;
        }
        let metrics = json!({ "width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false });
        browser.call("Emulation.setDeviceMetricsOverride", metrics).await;
        browser
    }

    /// Sends a command (to the page once attached) and returns its result; events that come
    /// meanwhile are looked at on the way.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::text(message.to_string())).await.expect("DevTools send");
        loop {
            let reply = self.next_message().await;
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {}", reply["error"]);
                return reply["result"].clone();
            }
        }
    }

    async fn next_message(&mut self) -> Value {
        loop {
            let message =
                timeout(STEP, self.ws.next()).await.expect("DevTools answers in time").expect("DevTools open").expect("DevTools message");
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text).expect("DevTools JSON");
                self.look_at(&value).await;
                return value;
            }
        }
    }

    /// Notes a page load; records what went wrong; answers a dialog so the page goes on.
    async fn look_at(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str().unwrap_or_default() {
            "Page.loadEventFired" => self.loaded = true,
            "Runtime.exceptionThrown" => self.problems.push(format!("exception: {}", params["exceptionDetails"])),
            "Runtime.consoleAPICalled" if ["error", "assert"].contains(&params["type"].as_str().unwrap_or_default()) => {
                self.problems.push(format!("console.{}: {}", params["type"], params["args"]));
            }
            "Log.entryAdded" if params["entry"]["level"] == "error" => self.problems.push(format!("log: {}", params["entry"]["text"])),
            "Network.requestWillBeSent" => {
                let url = params["request"]["url"].as_str().unwrap_or_default();
                if !url.starts_with("file://") {
                    self.problems.push(format!("the page loaded {url}"));
                }
            }
            "Page.javascriptDialogOpening" => {
                self.problems.push(format!("a dialog opened: {}", params["message"]));
                self.next_id += 1;
                let answer = json!({ "id": self.next_id, "method": "Page.handleJavaScriptDialog", "params": { "accept": true }, "sessionId": self.session });
                self.ws.send(Message::text(answer.to_string())).await.expect("DevTools send");
            }
            _ => {}
        }
    }

    /// Loads a page and waits for its load event.
    pub async fn open(&mut self, path: &Path) {
        let url = format!("file://{}", path.canonicalize().expect("page exists").display());
        self.loaded = false;
        self.call("Page.navigate", json!({ "url": url })).await;
        while !self.loaded {
            self.next_message().await;
        }
    }

    /// The value of a JavaScript expression in the page.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let reply = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true })).await;
        assert!(reply.get("exceptionDetails").is_none(), "{expression}: {}", reply["exceptionDetails"]);
        reply["result"]["value"].clone()
    }

    pub async fn screenshot(&mut self, path: &Path) {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" })).await;
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().expect("image data")).expect("base64");
        std::fs::write(path, png).expect("screenshot written");
    }
}
