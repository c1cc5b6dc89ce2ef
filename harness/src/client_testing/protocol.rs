//! Autobahn's fuzzingserver URL protocol: which command a request path asks for. Existing client
//! drivers (getCaseCount → runCase → updateReports) run unchanged.

use std::collections::BTreeMap;

/// What a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    GetCaseCount,
    /// `case` is a 0-based index into the selected cases.
    RunCase { case: usize, agent: String },
    GetCaseInfo { case: usize },
    GetCaseStatus { case: usize, agent: String },
    UpdateReports { agent: String, shutdown: bool },
    StopServer,
}

/// A request the protocol cannot serve: HTTP status and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    pub status: u16,
    pub message: String,
}

fn bad(message: impl Into<String>) -> BadRequest {
    BadRequest { status: 400, message: message.into() }
}

/// Parses a request target (`/runCase?case=3&agent=x`) against the selected case ids.
pub fn parse(target: &str, case_ids: &[String]) -> Result<Command, BadRequest> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut params = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.insert(key.to_string(), value.to_string()).is_some() {
            return Err(bad(format!("parameter `{key}` is given twice")));
        }
    }
    let agent = |params: &BTreeMap<String, String>| match params.get("agent") {
        Some(agent) if !agent.trim().is_empty() => Ok(agent.clone()),
        _ => Err(bad("missing parameter `agent` (the name results are filed under)")),
    };
    let case = |params: &BTreeMap<String, String>| case_index(params, case_ids);
    match path.trim_end_matches('/') {
        "/getCaseCount" => Ok(Command::GetCaseCount),
        "/runCase" => Ok(Command::RunCase { case: case(&params)?, agent: agent(&params)? }),
        "/getCaseInfo" => Ok(Command::GetCaseInfo { case: case(&params)? }),
        "/getCaseStatus" => Ok(Command::GetCaseStatus { case: case(&params)?, agent: agent(&params)? }),
        "/updateReports" => {
            let shutdown = match params.get("shutdownOnComplete").map(String::as_str) {
                None | Some("false") | Some("no") => false,
                Some("true") | Some("yes") => true,
                Some(other) => return Err(bad(format!("shutdownOnComplete=`{other}`: expected true or false"))),
            };
            Ok(Command::UpdateReports { agent: agent(&params)?, shutdown })
        }
        "/stopServer" => Ok(Command::StopServer),
        _ => Err(BadRequest {
            status: 404,
            message: format!(
                "unknown path `{path}`: expected /getCaseCount, /runCase, /getCaseInfo, /getCaseStatus, /updateReports or /stopServer"
            ),
        }),
    }
}

/// `case=N` (1-based into the selected cases) or `casetuple=X.Y.Z`.
fn case_index(params: &BTreeMap<String, String>, case_ids: &[String]) -> Result<usize, BadRequest> {
    match (params.get("case"), params.get("casetuple")) {
        (Some(_), Some(_)) => Err(bad("give `case` or `casetuple`, not both")),
        (Some(n), None) => match n.parse::<usize>() {
            Ok(n) if (1..=case_ids.len()).contains(&n) => Ok(n - 1),
            _ => Err(bad(format!("case=`{n}`: expected a number from 1 to {}", case_ids.len()))),
        },
        (None, Some(id)) => case_ids
            .iter()
            .position(|c| c == id)
            .ok_or_else(|| bad(format!("casetuple=`{id}` is not among the selected cases"))),
        (None, None) => Err(bad("missing parameter `case` (1-based) or `casetuple` (an id like 1.1.1)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["1.1.1".into(), "1.1.2".into(), "6.4.3".into()]
    }

    #[test]
    fn parses_autobahns_commands() {
        assert_eq!(parse("/getCaseCount", &ids()), Ok(Command::GetCaseCount));
        assert_eq!(parse("/runCase?case=3&agent=my%20client", &ids()), Ok(Command::RunCase { case: 2, agent: "my client".into() }));
        assert_eq!(parse("/runCase?casetuple=1.1.2&agent=a", &ids()), Ok(Command::RunCase { case: 1, agent: "a".into() }));
        assert_eq!(parse("/getCaseInfo?case=1", &ids()), Ok(Command::GetCaseInfo { case: 0 }));
        assert_eq!(
            parse("/updateReports?agent=a&shutdownOnComplete=true", &ids()),
            Ok(Command::UpdateReports { agent: "a".into(), shutdown: true })
        );
        assert_eq!(parse("/stopServer", &ids()), Ok(Command::StopServer));
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let message = |target: &str| parse(target, &ids()).unwrap_err().message;
        assert!(message("/runCase?case=4&agent=a").contains("from 1 to 3"));
        assert!(message("/runCase?case=0&agent=a").contains("from 1 to 3"));
        assert!(message("/runCase?case=x&agent=a").contains("case=`x`"));
        assert!(message("/runCase?case=1").contains("missing parameter `agent`"));
        assert!(message("/runCase?agent=a").contains("missing parameter `case`"));
        assert!(message("/runCase?case=1&case=2&agent=a").contains("twice"));
        assert!(message("/runCase?casetuple=9.9&agent=a").contains("not among"));
        assert_eq!(parse("/favicon.ico", &ids()).unwrap_err().status, 404);
    }
}
