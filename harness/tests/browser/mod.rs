//! The HTML report of a real run, seen in headless Chromium: the embedded server plus a broken one
//! with a hostile agent name, so failures show and escaping is put to a real parser. Screenshots of
//! the index and of one failing case page are kept in `target/tmp/browser-report/screenshots/`.

mod cdp;

use std::{collections::BTreeSet, path::Path};

use serde_json::Value;
use wsspec::peers::faulty::{Defect, FaultyServer};
use wsspec_reports::StoredResults;

use crate::support::wsspec;

/// A name from the target that would run script if it were not escaped.
const HOSTILE_AGENT: &str = "broken-rsv <img src=x onerror=alert(document.domain)>";
/// A few sections: enough for failures (3.x against the broken server), quick to run.
const CASES: &[&str] = &["1.1.1", "2.*", "3.*", "7.7.1", "7.7.2"];

#[tokio::test(flavor = "multi_thread")]
async fn the_report_works_in_a_real_browser() {
    if !cdp::installed() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "chromium is missing; .ci/run installs it (apt-get install chromium)");
        eprintln!("\n\n*** SKIPPED the_report_works_in_a_real_browser: no `chromium` on PATH (apt-get install chromium) ***\n\n");
        return;
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-report");
    let _ = std::fs::remove_dir_all(&out);
    let shots = out.join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let dir = out.to_str().unwrap();

    // The cases against a target (none: the embedded server); any verdict, but the run must be done.
    let run = |target: &[&str]| {
        let mut args = vec!["server"];
        args.extend_from_slice(target);
        args.extend_from_slice(&["--out", dir, "--cases"]);
        args.extend_from_slice(CASES);
        let (code, _, stderr) = wsspec(&args);
        assert!(matches!(code, 0 | 1), "the run could not be done: {stderr}");
        stderr
    };
    run(&[]);
    let broken = FaultyServer::start(Defect::AcceptRsv).await.unwrap();
    let stderr = run(&[&broken.url(), "--agent", HOSTILE_AGENT]);
    assert!(stderr.contains("HTML report"), "{stderr}");

    let results = StoredResults::load(&out).unwrap();
    assert_eq!(results.index.len(), 2, "both agents in one report");
    let ids: Vec<String> = results.case_ids().into_iter().map(str::to_string).collect();
    let failing: BTreeSet<String> =
        results.index.values().flat_map(|cases| cases.iter().filter(|(_, e)| e.is_failure()).map(|(id, _)| id.clone())).collect();
    assert!(!failing.is_empty() && failing.len() < ids.len(), "the broken server fails some cases: {failing:?}");

    let mut browser = cdp::Browser::launch().await;
    browser.open(&out.join("index.html")).await;
    browser.screenshot(&shots.join("index.png")).await;
    assert!(browser.problems.is_empty(), "problems loading the index: {:#?}", browser.problems);
    let rows = browser.eval("Array.from(document.querySelectorAll('#results tr.case'), r => r.id.slice('case-'.length))").await;
    assert_eq!(strings(&rows), ids, "one matrix row per case, in catalog order");

    browser.eval("document.getElementById('only-failing').click()").await;
    let visible = "Array.from(document.querySelectorAll('#results tr.case')).filter(r => r.getClientRects().length > 0).map(r => r.id.slice('case-'.length))";
    let shown: BTreeSet<String> = strings(&browser.eval(visible).await).into_iter().collect();
    assert_eq!(shown, failing, "the failing-only filter leaves exactly the failing rows");
    let counter = browser.eval("document.getElementById('shown').textContent").await;
    assert_eq!(counter, format!("{} of {} cases", failing.len(), ids.len()));

    browser.eval("document.getElementById('only-failing').click(); const s = document.getElementById('search'); s.value = 'PING'; s.dispatchEvent(new Event('input'))").await;
    let titles = browser.eval("Array.from(document.querySelectorAll('#results tr.case')).filter(r => r.getClientRects().length > 0).map(r => r.querySelector('.title').textContent)").await;
    let titles = strings(&titles);
    assert!(!titles.is_empty() && titles.iter().all(|t| t.to_lowercase().contains("ping")), "the search finds titles: {titles:?}");

    let page = browser.eval("document.querySelector('td.failing a').getAttribute('href')").await;
    let page = page.as_str().expect("a failing cell links to its page").to_string();
    browser.open(&out.join(&page)).await;
    browser.screenshot(&shots.join(page.replace(".html", ".png"))).await;
    let heading = browser.eval("document.querySelector('h1').textContent").await;
    assert!(heading.as_str().unwrap().starts_with("Case 3."), "{heading}");
    let wire_rows = browser.eval("document.querySelectorAll('table.wire tbody tr').length").await;
    assert!(wire_rows.as_u64().unwrap() > 3, "the wire log is shown");
    let banner = browser.eval("document.querySelector('.banner.fail').textContent").await;
    assert!(banner.as_str().unwrap().contains("Fails the run"), "{banner}");
    let agent = browser.eval("document.querySelector('.sub b').textContent").await;
    assert_eq!(agent, HOSTILE_AGENT, "the agent name is shown as text");

    assert!(browser.problems.is_empty(), "problems in the browser: {:#?}", browser.problems);
    eprintln!("screenshots: {}", shots.display());
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().expect("an array").iter().map(|v| v.as_str().expect("a string").to_string()).collect()
}
