//! Testing WebSocket clients: wsspec listens and speaks Autobahn's fuzzingserver URL protocol, so a
//! client driver written for Autobahn (getCaseCount → runCase → updateReports) runs unchanged. Each
//! `/runCase` connection plays one case with wsspec as the server and judges the client.

mod protocol;
mod tls;

use std::{
    collections::{BTreeMap, BTreeSet},
    io,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{watch, Notify},
    task::JoinHandle,
    time::timeout,
};
use wsspec_reports::{autobahn, CaseRecord};

pub use protocol::{parse as parse_command, BadRequest, Command};

use crate::{
    catalog::{case_matches, full_match, Case, Role, TlsStimulus},
    engine::{drive_case, report, Observation, RunOptions, Transport},
    frame::{CloseCode, Decoder, FrameSpec, OpCode},
    handshake,
};

/// How long a request head may take to arrive.
const HEAD_WAIT: Duration = Duration::from_secs(5);

/// Called with every result as it is recorded.
pub type OnResult = Arc<dyn Fn(&CaseRecord) + Send + Sync>;

/// What the server tests clients with.
pub struct ClientTestConfig {
    /// The selected cases, in id order; `/runCase?case=N` is the N-th.
    pub cases: Vec<Case>,
    /// Agent pattern → case patterns not run for matching agents (Autobahn's `exclude-agent-cases`).
    pub exclude_agent_cases: BTreeMap<String, Vec<String>>,
    pub out_dir: PathBuf,
    pub options: RunOptions,
    pub on_result: Option<OnResult>,
    /// Listen with TLS (`wss://`), presenting these certificates; TLS cases run only then.
    pub tls: Option<crate::tls::Acceptor>,
}

/// A running client-testing server; stops when dropped.
pub struct ClientTestServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

struct State {
    config: ClientTestConfig,
    ids: Vec<String>,
    /// agent → case id → record.
    results: Mutex<BTreeMap<String, BTreeMap<String, CaseRecord>>>,
    result_added: Notify,
    /// Cases being played right now, per agent: reports wait for them.
    in_flight: Mutex<BTreeMap<String, usize>>,
    /// Agents that asked for their reports.
    reported: Mutex<BTreeSet<String>>,
    stop: watch::Sender<bool>,
    tls: Option<tls::TlsState>,
}

impl ClientTestServer {
    /// Listens on `addr` (e.g. `127.0.0.1:9001`, or port 0 for any). Cases this server cannot run
    /// (TLS cases without TLS, see [`crate::tls::cases::runnable`]) are left out.
    pub async fn start(addr: &str, mut config: ClientTestConfig) -> io::Result<Self> {
        std::fs::create_dir_all(&config.out_dir)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        config.cases = crate::tls::cases::runnable(std::mem::take(&mut config.cases), config.tls.as_ref()).0;
        let tls = config.tls.clone().map(|acceptor| {
            tls::TlsState::new(acceptor, crate::tls::cases::Sequencer::new(&config.cases), url_host(addr, true))
        });
        let ids = config.cases.iter().map(|c| c.id.to_string()).collect();
        let (stop, _) = watch::channel(false);
        let state = Arc::new(State {
            config,
            ids,
            results: Mutex::new(BTreeMap::new()),
            result_added: Notify::new(),
            in_flight: Mutex::new(BTreeMap::new()),
            reported: Mutex::new(BTreeSet::new()),
            stop,
            tls,
        });
        let accept_state = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(accept_state.clone(), stream));
            }
        });
        Ok(Self { addr, state, task })
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

    /// Resolves once a client asked the server to stop (`/stopServer`, `shutdownOnComplete`) or
    /// `agents` distinct agents have asked for their reports.
    pub async fn wait_for_stop(&self, agents: Option<usize>) {
        let mut stop = self.state.stop.subscribe();
        loop {
            if *stop.borrow_and_update() || agents.is_some_and(|n| self.state.reported.lock().expect("lock").len() >= n) {
                return;
            }
            if stop.changed().await.is_err() {
                return;
            }
        }
    }

    /// Agents that have at least one result.
    pub fn agents(&self) -> Vec<String> {
        self.state.results.lock().expect("lock").keys().cloned().collect()
    }

    /// The results of one agent, in case order.
    pub fn records(&self, agent: &str) -> Vec<CaseRecord> {
        let results = self.state.results.lock().expect("lock");
        let Some(by_id) = results.get(agent) else { return Vec::new() };
        self.state.ids.iter().filter_map(|id| by_id.get(id).cloned()).collect()
    }

    /// Ids of selected cases that `agent` is expected to run but has no result for.
    pub fn missing(&self, agent: &str) -> Vec<String> {
        let results = self.state.results.lock().expect("lock");
        let done = results.get(agent);
        self.state
            .ids
            .iter()
            .filter(|id| !self.state.excluded(agent, id) && !done.is_some_and(|d| d.contains_key(*id)))
            .cloned()
            .collect()
    }

    pub fn case_count(&self) -> usize {
        self.state.ids.len()
    }

    /// Waits (bounded) until no case is being played, so every result is recorded.
    pub async fn settle(&self) {
        self.state.settle(None).await;
    }
}

impl Drop for ClientTestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl State {
    fn excluded(&self, agent: &str, id: &str) -> bool {
        self.config
            .exclude_agent_cases
            .iter()
            .any(|(pattern, cases)| full_match(pattern, agent) && cases.iter().any(|p| case_matches(p, id)))
    }

    /// Waits, for at most 30 s, until no case of `agent` (of any agent with `None`) is in flight: a
    /// driver asks for its reports right after its last case ends, maybe before it is recorded.
    async fn settle(&self, agent: Option<&str>) {
        let idle = || {
            let in_flight = self.in_flight.lock().expect("lock");
            match agent {
                Some(agent) => in_flight.get(agent).is_none_or(|n| *n == 0),
                None => in_flight.values().all(|n| *n == 0),
            }
        };
        let _ = timeout(Duration::from_secs(30), async {
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
        results.get(agent)?.get(id).map(|r| r.behavior.as_str().to_string())
    }

    fn record(&self, record: CaseRecord) -> io::Result<()> {
        let out = &self.config.out_dir;
        autobahn::write_case(out, &record)?;
        {
            // Written under the lock, so the index on disk is never older than one written before.
            let mut results = self.results.lock().expect("lock");
            let by_id = results.entry(record.agent.clone()).or_default();
            by_id.insert(record.id.clone(), record.clone());
            let entries = by_id.iter().map(|(id, r)| (id.clone(), r.index_entry())).collect();
            autobahn::write_index(out, &record.agent, &entries)?;
        }
        if let Some(on_result) = &self.config.on_result {
            on_result(&record);
        }
        self.result_added.notify_waiters();
        Ok(())
    }
}

/// The host in the URL clients are given: with TLS, `localhost` for a loopback or unspecified
/// address, so that clients can indicate it (SNI).
pub fn url_host(addr: SocketAddr, tls: bool) -> String {
    let ip = addr.ip();
    if tls && (ip.is_loopback() || ip.is_unspecified()) {
        "localhost".into()
    } else {
        ip.to_string()
    }
}

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
    let (request, head, mut leftover) = match timeout(HEAD_WAIT, read_head(&mut stream)).await {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(message)) => return http_error(stream, 400, &message).await,
        Err(_) => return http_error(stream, 408, "no complete request head within 5 s").await,
    };
    let command = match protocol::parse(&request.target, &state.ids) {
        Ok(command) => command,
        Err(bad) => return http_error(stream, bad.status, &bad.message).await,
    };
    let key = match handshake::check_request(&request) {
        Ok(key) => key,
        Err(e) => return http_error(stream, 400, &format!("not a WebSocket opening handshake: {e}")).await,
    };
    let held = match (&command, &state.tls) {
        (Command::RunCase { case, .. }, Some(_)) if state.config.cases[*case].tls == Some(TlsStimulus::HoldResponse) => {
            let hold = crate::tls::cases::HOLD.mul_f64(state.config.options.timeout_scale);
            crate::tls::cases::hold_response(&mut stream, &mut leftover, hold).await
        }
        _ => None,
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
            state.settle(Some(&agent)).await;
            state.reported.lock().expect("lock").insert(agent);
            send_and_close(stream, None).await;
            state.stop.send_modify(|stop| *stop |= shutdown);
        }
        Command::StopServer => {
            send_and_close(stream, None).await;
            state.stop.send_replace(true);
        }
        Command::RunCase { case: index, agent } => {
            let case = &state.config.cases[index];
            if let Some(tls) = &state.tls {
                // Armed now, not when the case ends: a sequential driver opens no other connection
                // meanwhile, and the next one may come before this case's result is written.
                tls.agent_seen(&state, &agent);
                tls.sequencer.next_case(index + 1).await;
                if case.tls.is_some_and(TlsStimulus::is_certificate) {
                    let message = format!("case {} is judged on the TLS handshake of the connection after the previous case", case.id);
                    return http_error(stream, 400, &message).await;
                }
            }
            if state.excluded(&agent, case.id.as_str()) {
                return send_and_close(stream, None).await;
            }
            *state.in_flight.lock().expect("lock").entry(agent.clone()).or_default() += 1;
            let mut obs = Observation::starting_now();
            obs.record_handshake(&head, &response);
            obs.violation = held;
            let options = &state.config.options;
            let bound = Duration::from_secs_f64((case.timeout + 10.0) * options.timeout_scale + 10.0);
            let mut obs = match timeout(bound, drive_case(case, stream, &leftover, Role::Client, options, obs)).await {
                Ok(obs) => obs,
                Err(_) => Observation::aborted("the case overran wsspec's outer time bound (a bug in wsspec)"),
            };
            if let (Some(tls), Some(TlsStimulus::Sni)) = (&state.tls, case.tls) {
                if let Some(violation) = crate::tls::cases::check_sni(&obs, &tls.url_host) {
                    obs.violation.get_or_insert(violation);
                }
            }
            if let Err(e) = state.record(report(&agent, case, obs)) {
                eprintln!("wsspec: cannot write the result of {} for {agent}: {e}", case.id);
            }
            *state.in_flight.lock().expect("lock").entry(agent).or_default() -= 1;
            state.result_added.notify_waiters();
        }
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

async fn http_error(mut stream: Transport, status: u16, message: &str) {
    let reason = match status {
        404 => "Not Found",
        408 => "Request Timeout",
        _ => "Bad Request",
    };
    let body = format!("{message}\n");
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Sends an optional text message and a normal close, waits briefly for the client's close, and
/// closes TCP (the server closes first, §7.1.1).
async fn send_and_close(mut stream: Transport, text: Option<String>) {
    let mut out = Vec::new();
    if let Some(text) = text {
        out.extend(FrameSpec::new(OpCode::Text, text.into_bytes()).encode());
    }
    out.extend(FrameSpec::new(OpCode::Close, CloseCode::NORMAL.0.to_be_bytes().to_vec()).encode());
    if stream.write_all(&out).await.is_err() {
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
