use std::fs;

use super::*;
use crate::{
    render,
    testing::{record, store},
    Behavior, BehaviorClose, CaseRecord, Status, StoredResults,
};

fn render_html(results: &StoredResults, out: &Path) {
    let agents: Vec<String> = results.index.keys().cloned().collect();
    let titles = SectionTitles([("1".to_string(), "Framing".to_string())].into());
    let html = Box::new(Html::new(out, agents, titles));
    render(results, |_, _, entry, record| Status::of_verdicts(entry, record.map(CaseRecord::reason)), vec![html]).unwrap();
}

#[test]
fn text_from_the_target_cannot_inject_markup() {
    let dir = tempfile::tempdir().unwrap();
    let agent = "evil<script>alert('agent')</script>";
    let mut r = record(agent, "1.1.1", Behavior::Failed, BehaviorClose::WrongCode);
    r.remote_close_reason = Some("</td></pre><script>alert('reason')</script>".into());
    r.received = vec!["text message (30 bytes): <img src=x onerror=alert('payload')>".into()];
    r.http_response = "HTTP/1.1 101 Switching Protocols\r\nX-Evil: <script>alert('header')</script>\r\n\r\n".into();
    r.wirelog[0].data = "\"><svg onload=alert('wire')>".into();
    r.result = "got <iframe src=javascript:alert('result')>".into();
    let results = store(dir.path(), &[r]);
    render_html(&results, dir.path());
    // A run's note may quote what the target sent: the index shows it, escaped.
    let sink = crate::sink::Sink::open(dir.path()).unwrap();
    sink.begin_agent("evil", vec!["1.1.1".into()]).unwrap();
    sink.set_notes("evil", vec!["it answered `<script>alert('note')</script>`".into()]).unwrap();
    drop(sink);
    let results = StoredResults::load(dir.path()).unwrap();
    let titles = SectionTitles([("1".to_string(), "Framing".to_string())].into());
    let html = Html::new(dir.path(), results.agents(), titles).with_notes(results.run.notes());
    render(&results, |_, _, entry, record| Status::of_verdicts(entry, record.map(CaseRecord::reason)), vec![Box::new(html)]).unwrap();

    let page = fs::read_to_string(dir.path().join("evil_script_alert__agent____script_case_1_1_1.html")).unwrap();
    let index = fs::read_to_string(dir.path().join("index.html")).unwrap();
    for (name, html) in [("case page", &page), ("index", &index)] {
        for raw in ["<script>alert", "<img src=x", "<svg", "<iframe", "</pre><script"] {
            assert!(!html.contains(raw), "{name} has unescaped `{raw}`");
        }
    }
    assert!(page.contains("&lt;/td&gt;&lt;/pre&gt;&lt;script&gt;alert(&#39;reason&#39;)"), "the close reason is shown, escaped");
    assert!(page.contains("X-Evil: &lt;script&gt;"), "the header is shown, escaped");
    assert!(index.contains("evil: it answered `&lt;script&gt;alert(&#39;note&#39;)"), "the run's note is shown, escaped");
    assert!(!page.contains("<script"), "a case page has no script at all");
    assert_eq!(index.matches("<script").count(), 1, "the index has only its filter script");
}

#[test]
fn control_characters_from_the_target_are_shown_escaped_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let agent = "ag\u{1b}[31mred\u{0}nul\u{9b}c1";
    let mut r = record(agent, "1.1.1", Behavior::Failed, BehaviorClose::WrongCode);
    r.remote_close_reason = Some("bye\u{1b}]0;title\u{7}".into());
    r.received = vec!["text message (3 bytes) \"\u{1b}x\"".into()];
    r.http_response = "HTTP/1.1 101 Switching Protocols\r\nX-Evil: a\u{0}b\u{7f}\r\n\r\n".into();
    r.result = "got \u{1b}[2J".into();
    let results = store(dir.path(), &[r]);
    render_html(&results, dir.path());
    for entry in fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "html") {
            let html = fs::read_to_string(&path).unwrap();
            let raw = html.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
            assert_eq!(raw, None, "{} has a raw control character", path.display());
            assert!(html.contains("ag\\u{1b}[31mred\\u{0}nul\\u{9b}c1"), "{} shows the agent escaped", path.display());
        }
    }
    let page = fs::read_to_string(dir.path().join("ag__31mred_nul_c1_case_1_1_1.html")).unwrap();
    for shown in ["bye\\u{1b}]0;title\\u{7}", "X-Evil: a\\u{0}b\\u{7f}", "got \\u{1b}[2J"] {
        assert!(page.contains(shown), "the case page shows {shown}");
    }
}

#[test]
fn hostile_names_write_only_inside_the_folder() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("a/b/out");
    fs::create_dir_all(&out).unwrap();
    let records = [
        record("../../x", "1.1.1", Behavior::Ok, BehaviorClose::Ok),
        record("/tmp/y", "1.1.1", Behavior::Ok, BehaviorClose::Ok),
        record("..", "1.1.1", Behavior::Ok, BehaviorClose::Ok),
    ];
    let mut results = store(&out, &records);
    // A doctored index: a case id that is a path.
    let entry = results.index["../../x"]["1.1.1"].clone();
    results.index.get_mut("../../x").unwrap().insert("../../../z".into(), entry);
    render_html(&results, &out);

    let mut everything: Vec<String> = Vec::new();
    let mut stack = vec![root.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            everything.push(path.strip_prefix(root.path()).unwrap().display().to_string());
        }
    }
    let outside: Vec<&String> = everything.iter().filter(|p| !p.starts_with("a/b/out") && !["a", "a/b"].contains(&p.as_str())).collect();
    assert!(outside.is_empty(), "written outside the folder: {outside:?}");
    // An agent whose name has no [a-z0-9] gets a stem that is its hash (`autobahn::unique_agent_stem`).
    for page in ["x_case_1_1_1.html", "tmp_y_case_1_1_1.html", "b4a03f2d_case_1_1_1.html", "x_case__________z.html"] {
        assert!(out.join(page).is_file(), "{page} in {everything:?}");
    }
}

#[test]
fn a_16_mib_frame_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = record("big", "9.1.6", Behavior::Ok, BehaviorClose::Ok);
    r.wirelog[0].len = 16 << 20;
    r.wirelog[0].data = "A".repeat(2 << 20);
    r.received = vec![format!("text message (16777216 bytes): {}", "B".repeat(1 << 20))];
    r.wirelog_elided = 4_096;
    let results = store(dir.path(), &[r]);
    render_html(&results, dir.path());
    let page = fs::read_to_string(dir.path().join("big_case_9_1_6.html")).unwrap();
    assert!(page.len() < 64 * 1024, "the page is {} bytes", page.len());
    assert!(page.contains("16 MiB (16,777,216 bytes)"));
    assert!(page.contains("more characters not shown"));
    assert!(page.contains("4096 more not kept"));
}

#[test]
fn the_matrix_has_every_case_and_agent() {
    let dir = tempfile::tempdir().unwrap();
    let records = [
        record("alpha", "1.1.1", Behavior::Ok, BehaviorClose::Ok),
        record("alpha", "1.1.2", Behavior::Failed, BehaviorClose::Ok),
        record("beta", "1.1.2", Behavior::NonStrict, BehaviorClose::Ok),
        record("beta", "2.1", Behavior::Ok, BehaviorClose::Unclean),
    ];
    let results = store(dir.path(), &records);
    render_html(&results, dir.path());
    let index = fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert_eq!(index.matches("<tr class=\"case\"").count(), 3, "one row per case");
    assert_eq!(index.matches("data-failing=\"true\"").count(), 2, "1.1.2 fails for alpha, 2.1 closes unclean for beta");
    assert_eq!(index.matches("<td class=\"v missing\"").count(), 2, "alpha lacks 2.1, beta lacks 1.1.1");
    assert!(index.contains("<th colspan=\"8\">1 Framing</th>"), "section heading with its title");
    assert!(index.contains("href=\"alpha_case_1_1_2.html\""));
    for page in ["alpha_case_1_1_1.html", "alpha_case_1_1_2.html", "beta_case_1_1_2.html", "beta_case_2_1.html"] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
}

#[test]
fn a_missing_record_still_gets_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let results = store(dir.path(), &[record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok)]);
    fs::remove_file(dir.path().join("a_case_1_1_1.json")).unwrap();
    let agents = vec!["a".to_string()];
    let html = Box::new(Html::new(dir.path(), agents, SectionTitles::default()));
    let unreadable = render(&results, |_, _, entry, record| Status::of_verdicts(entry, record.map(CaseRecord::reason)), vec![html]).unwrap();
    assert_eq!(unreadable.len(), 1);
    assert!(unreadable[0].to_string().contains("a_case_1_1_1.json"));
    let page = fs::read_to_string(dir.path().join("a_case_1_1_1.html")).unwrap();
    assert!(page.contains("only the verdicts from index.json are shown"));
}

/// One server over HTTP/1.1 and HTTP/2 (`srv`, `srv@h2c`, `srv@h2`) gets one column per transport,
/// side by side under one agent heading, whatever order the index lists them in.
#[test]
fn the_transports_of_one_agent_are_columns_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<CaseRecord> = ["other", "srv@h2", "srv", "srv@h2c"]
        .iter()
        .map(|agent| record(agent, "1.1.1", if agent.ends_with("h2") { Behavior::Failed } else { Behavior::Ok }, BehaviorClose::Ok))
        .collect();
    let results = store(dir.path(), &records);
    render_html(&results, dir.path());
    let index = fs::read_to_string(dir.path().join("index.html")).unwrap();
    let headings: Vec<&str> = index.split("class=\"agent\">").skip(1).map(|s| s.split('<').next().unwrap()).collect();
    assert_eq!(headings, ["other", "srv"], "one heading per agent");
    assert!(index.contains("<th colspan=\"6\" class=\"agent\">srv</th>"), "srv spans its three transports");
    let transports: Vec<&str> = index.split("class=\"transport\" title=\"").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    assert_eq!(transports, ["other", "srv", "srv@h2c", "srv@h2"]);
    for label in ["HTTP/1.1", "HTTP/2 (h2c)", "HTTP/2 over TLS (h2)"] {
        assert!(index.contains(&format!(">{label}</th>")), "no column headed {label}");
    }
    // The cells follow their headings: srv@h2 (the one FAILED) is the last column.
    let row = index.split("id=\"case-1.1.1\"").nth(1).unwrap().split("</tr>").next().unwrap();
    let cells: Vec<&str> = row.split("<td class=\"v ").skip(1).filter(|c| !c.starts_with("close")).map(|c| c.split('"').next().unwrap()).collect();
    assert_eq!(cells, ["pass", "pass", "pass", "fail failing"]);
}

#[test]
fn agents_over_http1_only_keep_one_heading_row() {
    let dir = tempfile::tempdir().unwrap();
    let results = store(dir.path(), &[record("a", "1.1.1", Behavior::Ok, BehaviorClose::Ok), record("b", "1.1.1", Behavior::Ok, BehaviorClose::Ok)]);
    render_html(&results, dir.path());
    let index = fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(!index.contains("class=\"transport\""));
    assert!(index.contains("<th colspan=\"2\" class=\"agent\">a</th><th colspan=\"2\" class=\"agent\">b</th>"));
}

#[cfg(test)]
#[path = "incomplete_tests.rs"]
mod incomplete_tests;
