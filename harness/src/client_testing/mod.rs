//! Testing WebSocket clients: wsspec listens and speaks Autobahn's fuzzingserver URL protocol, so a
//! client driver written for Autobahn (getCaseCount → runCase → updateReports) runs unchanged. Each
//! `/runCase` connection plays one case with wsspec as the server and judges the client.

mod protocol;
mod run_case;
mod tls;

use std::{
    collections::{BTreeMap, BTreeSet},
    io,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch, Notify, Semaphore},
    task::JoinHandle,
    time::timeout,
};
use wsspec_reports::{
    sink::{Recorded, Sink},
    CaseRecord, CaseSummary, ReportError, StoredResults,
};

pub use protocol::{parse as parse_command, BadRequest, Command};

use crate::{
    catalog::{AgentExclusions, Case},
    engine::{RunOptions, Transport},
    frame::{CloseCode, Decoder, FrameSpec, OpCode},
    handshake,
};

/// How long a request head may take to arrive.
const HEAD_WAIT: Duration = Duration::from_secs(5);

/// Called with every result as it is recorded.
pub type OnResult = Arc<dyn Fn(&CaseRecord) + Send + Sync>;

/// Called when the server refuses a request: the HTTP status, the request target (empty when the
/// head could not be read) and why.
pub type OnRefusal = Arc<dyn Fn(u16, &str, &str) + Send + Sync>;

/// What the server tests clients with.
pub struct ClientTestConfig {
    /// The selected cases, in id order; `/runCase?case=N` is the N-th.
    pub cases: Vec<Case>,
    /// Cases not run for some agents (Autobahn's `exclude-agent-cases`).
    pub exclude_agent_cases: AgentExclusions,
    /// Where results go; each agent's run begins in it with its first `/runCase`.
    pub sink: Arc<Sink>,
    pub options: RunOptions,
    pub on_result: Option<OnResult>,
    /// Listen with TLS (`wss://`), presenting these certificates; TLS cases run only then.
    pub tls: Option<crate::tls::Acceptor>,
    pub on_refusal: Option<OnRefusal>,
}

/// A running client-testing server; stops when dropped.
pub struct ClientTestServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
    reports: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
}

/// What a waiting caller hears from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// An agent asked for its reports (`/updateReports`); its cases in flight have ended.
    Reported(String),
    /// A client asked the server to stop (`/stopServer`, `shutdownOnComplete=true`).
    Stop,
}

struct State {
    config: ClientTestConfig,
    ids: Vec<String>,
    /// agent → case id → what is kept of its result (the record itself is in the sink's folder).
    results: Mutex<BTreeMap<String, BTreeMap<String, CaseSummary>>>,
    result_added: Notify,
    /// Cases being played right now, per agent: reports wait for them.
    in_flight: Mutex<BTreeMap<String, usize>>,
    /// Agents whose run began in the sink.
    begun: Mutex<BTreeSet<String>>,
    /// When each agent's first case started and its last result came, from its first `/runCase`.
    timing: Mutex<BTreeMap<String, (Instant, Instant)>>,
    /// wsspec's own failures, per agent: case id → what went wrong.
    errors: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    reported: mpsc::UnboundedSender<String>,
    /// The `Sec-WebSocket-Key` of every `/runCase` request so far: a client sends a fresh one on
    /// each connection (§4.1).
    keys: Mutex<BTreeSet<String>>,
    stop: watch::Sender<bool>,
    /// Set by `close`: no new case starts.
    closing: AtomicBool,
    /// Once raised (an interrupt), a case that ends is not judged: wsspec itself stops the client
    /// under test (kills `--exec`'s group), so how the case ended says nothing of the client.
    halt: std::sync::OnceLock<crate::engine::Stop>,
    tls: Option<tls::TlsState>,
    /// Connections accepted so far (any request, even one refused).
    connections: AtomicUsize,
    /// Complete request heads read so far: a client that connected but never got one through (its TLS
    /// handshake failed, or it sent nothing) never spoke to wsspec.
    requests: AtomicUsize,
    /// How the last TLS handshake of a connection meant to succeed failed (not a certificate
    /// case's, which is that case's verdict).
    tls_failure: Mutex<Option<String>>,
}

impl ClientTestServer {
    /// Listens on `addr` (e.g. `127.0.0.1:9001`, or port 0 for any). Cases this server cannot run
    /// (TLS cases without TLS, see [`crate::tls::cases::runnable`]) are left out.
    pub async fn start(addr: &str, mut config: ClientTestConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        config.cases = crate::tls::cases::runnable(std::mem::take(&mut config.cases), config.tls.as_ref()).0;
        let tls = config.tls.clone().map(|acceptor| tls::TlsState::new(acceptor, &config.cases, addr));
        let ids = config.cases.iter().map(|c| c.id.to_string()).collect();
        let (stop, _) = watch::channel(false);
        let (reported, reports) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            config,
            ids,
            results: Mutex::new(BTreeMap::new()),
            result_added: Notify::new(),
            in_flight: Mutex::new(BTreeMap::new()),
            begun: Mutex::new(BTreeSet::new()),
            timing: Mutex::new(BTreeMap::new()),
            errors: Mutex::new(BTreeMap::new()),
            reported,
            keys: Mutex::new(BTreeSet::new()),
            stop,
            closing: AtomicBool::new(false),
            halt: std::sync::OnceLock::new(),
            tls,
            connections: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            tls_failure: Mutex::new(None),
        });
        let task = tokio::spawn(accept_loop(listener, state.clone()));
        Ok(Self { addr, state, task, reports: tokio::sync::Mutex::new(reports) })
    }

    /// The base URL clients are given: `ws://IP:PORT`, or with TLS `wss://localhost:PORT` for a
    /// loopback address (a name, so that the client can send SNI, RFC 6066 §3).
    pub fn url(&self) -> String {
        match &self.state.tls {
            None => format!("ws://{}", self.addr),
            Some(tls) if tls.url_host.contains(':') => format!("wss://[{}]:{}", tls.url_host, self.addr.port()),
            Some(tls) => format!("wss://{}:{}", tls.url_host, self.addr.port()),
        }
    }

    /// The next agent to ask for its reports, or a client's request to stop the server.
    pub async fn next_event(&self) -> ServerEvent {
        let mut stop = self.state.stop.subscribe();
        let mut reports = self.reports.lock().await;
        tokio::select! {
            biased;
            Some(agent) = reports.recv() => ServerEvent::Reported(agent),
            _ = stop.wait_for(|stop| *stop) => ServerEvent::Stop,
        }
    }

    /// Agents that began a run here (ran a case, or were expected), in name order.
    pub fn agents(&self) -> Vec<String> {
        self.state.begun.lock().expect("lock").iter().cloned().collect()
    }

    /// Begins `agent`'s run before its first case (the client wsspec spawns), so a client that never
    /// connects is on record with every selected case missing.
    pub fn expect_agent(&self, agent: &str) -> Result<(), ReportError> {
        self.state.begin(agent)
    }

    /// From `agent`'s first case's start to its last result.
    pub fn elapsed(&self, agent: &str) -> Duration {
        self.state.timing.lock().expect("lock").get(agent).map_or(Duration::ZERO, |(first, last)| last.duration_since(*first))
    }

    /// Cases of `agent` wsspec could not run through its own fault: (id, what went wrong).
    pub fn errors(&self, agent: &str) -> Vec<(String, String)> {
        let errors = self.state.errors.lock().expect("lock");
        errors.get(agent).map(|e| e.iter().map(|(id, error)| (id.clone(), error.clone())).collect()).unwrap_or_default()
    }

    /// The sink results go to.
    pub fn sink(&self) -> &Sink {
        &self.state.config.sink
    }

    /// Starts no new case: later `/runCase` requests are refused with 503.
    pub fn close(&self) {
        self.state.closing.store(true, Ordering::SeqCst);
    }

    /// The results of one agent, in case order: verdicts and reasons.
    pub fn results(&self, agent: &str) -> Vec<CaseSummary> {
        let results = self.state.results.lock().expect("lock");
        let Some(by_id) = results.get(agent) else { return Vec::new() };
        self.state.ids.iter().filter_map(|id| by_id.get(id).cloned()).collect()
    }

    /// The full records of one agent's results, in case order, read back one at a time from the
    /// report folder (the server keeps only [`Self::results`]). A record that cannot be read is
    /// left out.
    pub fn records(&self, agent: &str) -> Vec<CaseRecord> {
        let Ok(stored) = StoredResults::load(self.sink().dir()) else { return Vec::new() };
        self.results(agent).iter().filter_map(|r| stored.record(agent, &r.id).ok()).collect()
    }

    /// Ids of selected cases that `agent` is expected to run but has no result (nor error) for.
    pub fn missing(&self, agent: &str) -> Vec<String> {
        let results = self.state.results.lock().expect("lock");
        let errors = self.state.errors.lock().expect("lock");
        let done = |id: &String| results.get(agent).is_some_and(|d| d.contains_key(id)) || errors.get(agent).is_some_and(|e| e.contains_key(id));
        self.state.ids.iter().filter(|id| !self.state.excluded(agent, id) && !done(id)).cloned().collect()
    }

    /// How many connections were accepted so far: 0 when no client ever connected.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// How many complete request heads were read so far: 0 when no client got one through (it
    /// never connected, failed every TLS handshake, or sent nothing wsspec could read).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// How the last TLS handshake failed on a connection that was to see the good certificate:
    /// the client under test refused it (a CA it does not trust) or spoke no TLS.
    pub fn tls_failure(&self) -> Option<String> {
        self.state.tls_failure.lock().expect("lock").clone()
    }

    pub fn case_count(&self) -> usize {
        self.state.ids.len()
    }

    /// Cases that end once `stop` is raised are not run rather than judged (see [`State::record`]):
    /// an interrupt ends the client under test with them.
    pub fn halt_on(&self, stop: &crate::engine::Stop) {
        let _ = self.state.halt.set(stop.clone());
    }

    /// Waits, for at most `bound`, until no case is being played, so every result is recorded.
    pub async fn settle(&self, bound: Duration) {
        self.state.settle(None, bound).await;
    }
}

impl Drop for ClientTestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl State {
    fn excluded(&self, agent: &str, id: &str) -> bool {
        self.config.exclude_agent_cases.excludes(agent, id)
    }

    /// Waits, for at most `bound`, until no case of `agent` (of any agent with `None`) is in flight:
    /// a driver asks for its reports right after its last case ends, maybe before it is recorded.
    async fn settle(&self, agent: Option<&str>, bound: Duration) {
        let idle = || {
            let in_flight = self.in_flight.lock().expect("lock");
            match agent {
                Some(agent) => in_flight.get(agent).is_none_or(|n| *n == 0),
                None => in_flight.values().all(|n| *n == 0),
            }
        };
        let _ = timeout(bound, async {
            loop {
                let added = self.result_added.notified();
                if idle() {
                    return;
                }
                added.await;
            }
        })
        .await;
    }

    fn has_result(&self, agent: &str, id: &str) -> Option<String> {
        let results = self.results.lock().expect("lock");
        results.get(agent)?.get(id).map(|r| r.entry.behavior.as_str().to_string())
    }

    /// Begins `agent`'s run in the sink with its first case: its earlier results there are replaced.
    fn begin(&self, agent: &str) -> Result<(), ReportError> {
        let mut begun = self.begun.lock().expect("lock");
        if begun.contains(agent) {
            return Ok(());
        }
        let selected = self.ids.iter().filter(|id| !self.excluded(agent, id)).cloned().collect();
        self.config.sink.begin_agent(agent, selected)?;
        begun.insert(agent.to_string());
        Ok(())
    }

    /// Records a judged result, or wsspec's own failure to run the case.
    /// A case that ends after the halt was raised is left unrecorded, so it counts as not run.
    fn record(&self, agent: &str, case: &Case, outcome: Result<CaseRecord, String>) -> Result<(), ReportError> {
        if self.halt.get().is_some_and(|stop| stop.reason().is_some()) {
            return Ok(());
        }
        match outcome {
            Ok(mut record) => {
                if let Recorded::Error(error) = self.config.sink.record(&mut record)? {
                    // Recorded by the sink as wsspec's own error.
                    eprintln!("wsspec: [{agent}] {}: {error}", case.id);
                    self.errors.lock().expect("lock").entry(agent.to_string()).or_default().insert(case.id.to_string(), error);
                    return Ok(());
                }
                self.results.lock().expect("lock").entry(agent.to_string()).or_default().insert(record.id.clone(), record.summary());
                if let Some(on_result) = &self.config.on_result {
                    on_result(&record);
                }
            }
            Err(error) => {
                self.config.sink.error(agent, case.id.as_str(), &case.title, &error)?;
                eprintln!("wsspec: [{agent}] {}: {error}", case.id);
                self.errors.lock().expect("lock").entry(agent.to_string()).or_default().insert(case.id.to_string(), error);
            }
        }
        if let Some((_, last)) = self.timing.lock().expect("lock").get_mut(agent) {
            *last = Instant::now();
        }
        Ok(())
    }
}

/// The most connections served at once; more wait in the listen backlog. Well under the common
/// limit of 1,024 file descriptors, so wsspec never runs out of them itself.
pub const MAX_CONNECTIONS: usize = 256;
/// The longest any one connection is served beyond its case's timeout (scaled); then it is dropped.
const CONNECTION_GRACE: Duration = Duration::from_secs(120);
/// The longest pause after a failed accept (out of file descriptors, out of memory).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts connections until the server is dropped. An accept error (EMFILE when descriptors run
/// out, ECONNABORTED, …) is logged once per streak, waited out with a growing pause, and never ends
/// the loop; at most `MAX_CONNECTIONS` connections are served at once, each for a bounded time.
async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let longest_case = state.config.cases.iter().map(|c| c.timeout).fold(0.0, f64::max);
    let bound = Duration::from_secs_f64((longest_case + 60.0) * state.config.options.timeout_scale) + CONNECTION_GRACE;
    let mut backoff = Duration::ZERO;
    loop {
        let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
        match listener.accept().await {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                state.connections.fetch_add(1, Ordering::Relaxed);
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = timeout(bound, serve(state, stream)).await;
                    drop(slot);
                });
            }
            Err(e) => {
                if backoff.is_zero() {
                    eprintln!("wsspec: cannot accept a connection ({e}); retrying");
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                tokio::time::sleep(backoff).await;
            }
        }
    }
}

/// Where case 19.2.12 (`cases/19-handshake-client.toml`) redirects the client with a 302: a client
/// may follow it (RFC 6455 §4.1) and ask for it.
const REDIRECT_TARGET: &str = "/wsspec-redirect";

/// One connection: read the request, route it, answer.
async fn serve(state: Arc<State>, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let mut stream = match &state.tls {
        None => Transport::from(tcp),
        Some(tls) => match tls::accept(&state, tls, tcp).await {
            Some(stream) => stream,
            None => return,
        },
    };
    let read = timeout(HEAD_WAIT, read_head(&mut stream)).await;
    if matches!(read, Ok(Ok(_))) {
        state.requests.fetch_add(1, Ordering::Relaxed);
    }
    let (request, head, leftover) = match read {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(message)) => return refuse(&state, stream, 400, "", &message).await,
        Err(_) => return refuse(&state, stream, 408, "", "no complete request head within 5 s").await,
    };
    if request.target.split('?').next() == Some(REDIRECT_TARGET) {
        // A client following 19.2.12's redirect, as it may: answered 404, and no driver error.
        return http_error(stream, 404, "the redirect of case 19.2.12 leads nowhere; following it was the client's choice").await;
    }
    let command = match protocol::parse(&request.target, &state.ids) {
        Ok(command) => command,
        Err(bad) => return refuse(&state, stream, bad.status, &request.target, &bad.message).await,
    };
    if matches!(command, Command::RunCase { .. }) && state.closing.load(Ordering::SeqCst) {
        return refuse(&state, stream, 503, &request.target, "the server is shutting down and starts no new case").await;
    }
    if let Command::RunCase { case, agent } = command {
        if request.header("Upgrade").is_none() && request.header("Sec-WebSocket-Key").is_none() {
            // Plain HTTP (curl, a health check), not a client attempting a WebSocket: nothing to
            // judge, so no case is recorded. A request with one of them missing is judged (19.x).
            let message = format!("a plain HTTP request (no Upgrade, no Sec-WebSocket-Key), not a WebSocket opening handshake: case {} was not run", state.ids[case]);
            return refuse(&state, stream, 426, &request.target, &message).await;
        }
        if let Some(refusal) = tls::before_case(&state, case, &agent).await {
            return http_error(stream, 400, &refusal).await;
        }
        return run_case::play(&state, stream, case, agent, run_case::Opening { request, head, leftover }).await;
    }
    let key = match handshake::check_request(&request) {
        Ok(key) => key,
        Err(e) => return refuse(&state, stream, 400, &request.target, &format!("not a WebSocket opening handshake: {e}")).await,
    };
    let response = handshake::server_response(&key);
    if stream.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    match command {
        Command::GetCaseCount => {
            if let Some(tls) = &state.tls {
                tls.sequencer.next_case(0).await;
            }
            send_and_close(stream, Some(state.ids.len().to_string())).await
        }
        Command::GetCaseInfo { case } => {
            let case = &state.config.cases[case];
            let info = serde_json::json!({ "id": case.id.to_string(), "description": case.description() });
            send_and_close(stream, Some(info.to_string())).await
        }
        Command::GetCaseStatus { case, agent } => {
            let id = &state.ids[case];
            let bound = Duration::from_secs_f64((state.config.cases[case].timeout + 60.0) * state.config.options.timeout_scale);
            let behavior = timeout(bound, async {
                loop {
                    let added = state.result_added.notified();
                    if let Some(behavior) = state.has_result(&agent, id) {
                        return behavior;
                    }
                    added.await;
                }
            })
            .await
            .unwrap_or_else(|_| "MISSING".into());
            send_and_close(stream, Some(serde_json::json!({ "behavior": behavior }).to_string())).await
        }
        Command::UpdateReports { agent, shutdown } => {
            if let Some(tls) = &state.tls {
                tls.agent_seen(&state, &agent);
            }
            state.settle(Some(&agent), Duration::from_secs(30)).await;
            let _ = state.reported.send(agent);
            send_and_close(stream, None).await;
            state.stop.send_modify(|stop| *stop |= shutdown);
        }
        Command::StopServer => {
            send_and_close(stream, None).await;
            state.stop.send_replace(true);
        }
        Command::RunCase { .. } => unreachable!("played by run_case::play"),
    }
}

/// Reads the request head; returns it parsed and raw, and any bytes after it.
async fn read_head(stream: &mut Transport) -> Result<(handshake::Request, Vec<u8>, Vec<u8>), String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed before a complete request head".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(request) = handshake::parse_request(&buf).map_err(|e| format!("bad request: {e}"))? {
            let leftover = buf.split_off(request.head_len);
            return Ok((request, buf, leftover));
        }
    }
}

/// Answers an HTTP error and tells `on_refusal`.
async fn refuse(state: &State, stream: Transport, status: u16, target: &str, message: &str) {
    if let Some(on_refusal) = &state.config.on_refusal {
        on_refusal(status, target, message);
    }
    http_error(stream, status, message).await
}

async fn http_error(mut stream: Transport, status: u16, message: &str) {
    let _ = stream.write_all(error_response(status, message).as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// An HTTP error answer whose body says what is wrong.
fn error_response(status: u16, message: &str) -> String {
    let reason = match status {
        404 => "Not Found",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        503 => "Service Unavailable",
        _ => "Bad Request",
    };
    let body = format!("{message}\n");
    // RFC 9110 §15.5.22: a 426 names the protocol to upgrade to.
    let upgrade = if status == 426 { "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" } else { "" };
    format!(
        "HTTP/1.1 {status} {reason}\r\n{upgrade}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends an optional text message and a normal close, waits briefly for the client's close, and
/// closes TCP (the server closes first, §7.1.1).
async fn send_and_close(mut stream: Transport, text: Option<String>) {
    let mut out = Vec::new();
    if let Some(text) = text {
        out.extend(FrameSpec::new(OpCode::Text, text.into_bytes()).encode());
    }
    out.extend(FrameSpec::new(OpCode::Close, CloseCode::NORMAL.0.to_be_bytes().to_vec()).encode());
    if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
        return;
    }
    let mut decoder = Decoder::new(1 << 20);
    let mut buf = [0u8; 1024];
    let _ = timeout(Duration::from_secs(2), async {
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            decoder.push(&buf[..n]);
            while let Ok(Some(frame)) = decoder.next_frame() {
                if frame.header.opcode == OpCode::Close {
                    return;
                }
            }
        }
    })
    .await;
    let _ = stream.shutdown().await;
}
