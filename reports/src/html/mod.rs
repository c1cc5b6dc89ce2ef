//! The HTML report: `index.html` (counts, and a matrix of cases × agents with filters) and one page
//! per agent and case, named as Autobahn names them. Self-contained: CSS and JS are inline and
//! nothing is loaded from the network. Every text is escaped by tera's autoescape; file names come
//! from `index.json`'s `reportfile` when it is a plain file name, else `autobahn::agent_file_stem`, so
//! a hostile agent name stays inside the folder.

mod incomplete;
mod view;

use std::{
    collections::BTreeMap,
    io,
    path::{Path, PathBuf},
    sync::OnceLock,
    time::SystemTime,
};

use serde::Serialize;
use tera::{Context, Tera};

use crate::{
    autobahn::report_page_name,
    fs::write_atomically,
    iso_utc, section_of, subsection_of,
    text::clip,
    transport::{split_agent, Transport, HTTP_1_1_LABEL},
    BehaviorClose, CaseRecord, CaseResult, Output, ReportError, SectionTitles, Status, Unrun,
};
pub use incomplete::{write_unfinished, IncompleteRun};
use view::{badge, close_badge, legend_of, Badge, CasePage, LEGEND, MISSING};

/// The escape of every text a page shows: HTML's (`&`, `<`, `>`, quotes), and every control
/// character but tab, line feed and carriage return (ESC, NUL, DEL, the C1 range) written visibly as
/// `\u{1b}`, so nothing from the target reaches a page raw (an ESC in an agent name, a NUL in a reason).
fn escape_visibly(input: &str, out: &mut dyn io::Write) -> io::Result<()> {
    let mut rest = input;
    while let Some(at) = rest.find(|c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        tera::escape_html(&rest[..at], out)?;
        let c = rest[at..].chars().next().expect("found a character there");
        write!(out, "\\u{{{:x}}}", u32::from(c))?;
        rest = &rest[at + c.len_utf8()..];
    }
    tera::escape_html(rest, out)
}

/// Characters of a reason `index.html` shows on hover over a cell: the index has a row per case,
/// so it never repeats more of what a target made wsspec write (the page has the whole reason).
pub const TIP_CHARS: usize = 64;

/// The report's templates, parsed once, escaping with [`escape_visibly`].
fn templates() -> &'static Tera {
    static TEMPLATES: OnceLock<Tera> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut tera = Tera::new();
        tera.add_raw_templates([
            ("base.html", include_str!("templates/base.html")),
            ("index.html", include_str!("templates/index.html")),
            ("case.html", include_str!("templates/case.html")),
            ("unfinished.html", include_str!("templates/unfinished.html")),
            ("filter.js", include_str!("templates/filter.js")),
        ])
        .expect("the report templates are valid");
        tera.set_escape_fn(escape_visibly);
        tera
    })
}

/// The bytes of the page `record` gets in a report rendered without expectations (a failing result's
/// banner repeats its reason), so the sink can bound a case's page before it writes the record.
/// With expectations a banner may say a little more (at most `view::BANNER_CHARS` characters).
pub(crate) fn case_page_bytes(record: &CaseRecord) -> usize {
    let entry = record.index_entry();
    let status = Status::of_verdicts(&entry, Some(record.reason()));
    let page = CasePage::new(&record.agent, &record.id, &entry, Some(record), &status, String::new());
    Context::from_serialize(&page)
        .and_then(|context| templates().render("case.html", &context))
        .map_or(0, |html| html.len())
}

/// Closing verdicts in the order the agent table shows them.
const CLOSE_ORDER: [BehaviorClose; 6] = [
    BehaviorClose::Ok,
    BehaviorClose::Informational,
    BehaviorClose::FailedByClient,
    BehaviorClose::WrongCode,
    BehaviorClose::Unclean,
    BehaviorClose::Failed,
];

/// Writes the HTML report into a folder as results come.
pub struct Html {
    dir: PathBuf,
    sections: SectionTitles,
    agents: Vec<AgentSummary>,
    rows: Vec<PendingRow>,
    /// Lines the index page's header shows about how the runs were made (certificate checks off).
    notes: Vec<String>,
    /// Runs that did not complete, said at the top of the index page.
    incomplete: Vec<IncompleteRun>,
}

#[derive(Debug, Serialize)]
struct AgentSummary {
    name: String,
    /// The transport's column heading (`HTTP/1.1`, `HTTP/2 (h2c)`, …; see [`crate::transport`]).
    transport: &'static str,
    /// Per `LEGEND` entry.
    counts: [usize; LEGEND.len()],
    /// Per `CLOSE_ORDER` entry.
    close_counts: [usize; CLOSE_ORDER.len()],
    failing: usize,
}

/// A matrix row while results come in.
struct PendingRow {
    id: String,
    title: String,
    level: String,
    rfc: String,
    /// Per agent, in `agents` order; `None` is Missing.
    cells: Vec<Option<Cell>>,
}

#[derive(Debug, Clone, Serialize)]
struct Cell {
    behavior: Badge,
    close: Badge,
    href: String,
    /// The reason, shown on hover.
    tip: String,
    /// Fails the run (see `Status::fails_run`).
    failing: bool,
    #[serde(skip)]
    legend: usize,
}

/// A matrix row as the template shows it: a section or subsection heading, or a case.
#[derive(Debug, Serialize)]
struct Row {
    heading: bool,
    id: String,
    title: String,
    level: String,
    rfc: String,
    section: String,
    group: String,
    failing: bool,
    search: String,
    cells: Vec<Cell>,
}

#[derive(Debug, Serialize)]
struct SectionSummary {
    id: String,
    title: String,
    counts: [usize; LEGEND.len()],
    failing: usize,
}

/// The agent heading over the columns of its transports.
#[derive(Debug, Serialize)]
struct AgentGroup {
    agent: String,
    /// Matrix columns (two per transport).
    span: usize,
}

#[derive(Serialize)]
struct IndexPage<'a> {
    generated: String,
    legend: Vec<(&'static str, &'static str)>,
    close_verdicts: Vec<&'static str>,
    agents: &'a [AgentSummary],
    /// One per agent name, when some agent ran over more than one transport or over HTTP/2: the
    /// matrix then heads its columns by agent, then by transport.
    groups: Vec<AgentGroup>,
    sections: Vec<SectionSummary>,
    rows: Vec<Row>,
    cases: usize,
    columns: usize,
    notes: &'a [String],
    incomplete: &'a [IncompleteRun],
}

/// The report pages' style sheet, written into the report folder beside them.
const STYLE_SHEET: &str = "wsspec.css";

impl Html {
    /// A report of `agents` (every agent of the results, in index order) written into `dir`.
    pub fn new(dir: &Path, agents: impl IntoIterator<Item = String>, sections: SectionTitles) -> Self {
        let agents = agents.into_iter().map(AgentSummary::new).collect();
        Self { dir: dir.to_path_buf(), sections, agents, rows: Vec::new(), notes: Vec::new(), incomplete: Vec::new() }
    }

    /// Says at the top of the index page which runs did not complete, why, and how many of their
    /// cases were not run ([`IncompleteRun::of`]).
    pub fn with_incomplete(mut self, runs: Vec<IncompleteRun>) -> Self {
        self.incomplete = runs;
        self
    }

    /// Adds lines to the index page's header about how the runs were made (see
    /// `sink::AgentRun::tls`), e.g. that a server's certificate was not verified.
    pub fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }

    fn render(&self, template: &str, page: &impl Serialize, file: &str) -> Result<(), ReportError> {
        let path = self.dir.join(file);
        let failed = |e: tera::Error| ReportError::write(&path, io::Error::other(format!("template {template}: {e}")));
        let context = Context::from_serialize(page).map_err(failed)?;
        let html = templates().render(template, &context).map_err(failed)?;
        write_atomically(&path, html.as_bytes()).map_err(|e| ReportError::write(&path, e))
    }
}

impl Output for Html {
    fn add(&mut self, result: &CaseResult<'_>) -> Result<(), ReportError> {
        let CaseResult { agent, id, entry, record, status } = *result;
        let page = report_page_name(agent, id, &entry.reportfile);
        let unreadable = if record.is_none() { format!("no readable case record for {agent} / {id}") } else { String::new() };
        self.render("case.html", &CasePage::new(agent, id, entry, record, status, unreadable), &page)?;

        let column = self.column(agent);
        let legend = legend_of(entry.behavior);
        let summary = &mut self.agents[column];
        summary.counts[legend] += 1;
        summary.close_counts[CLOSE_ORDER.iter().position(|c| *c == entry.behavior_close).expect("every close verdict is listed")] += 1;
        summary.failing += usize::from(status.fails_run());
        let row = self.row(id);
        if let (Some(record), true) = (record, row.title.is_empty()) {
            (row.title, row.level, row.rfc) = (record.title.clone(), record.level.clone(), record.rfc.clone());
        }
        row.cells[column] = Some(Cell {
            behavior: badge(legend),
            close: close_badge(entry.behavior_close, entry.remote_close_code),
            href: page,
            tip: clip(status.why().unwrap_or_else(|| record.map_or("", CaseRecord::reason)), TIP_CHARS),
            failing: status.fails_run(),
            legend,
        });
        Ok(())
    }

    /// A selected case without a result: a cell that says why (wsspec's own error, or not run),
    /// counted as Missing and shown by the failing-only filter, since it keeps the run from passing.
    fn unrun(&mut self, agent: &str, id: &str, why: Unrun<'_>) -> Result<(), ReportError> {
        let column = self.column(agent);
        let (label, tip) = match why {
            Unrun::Error(error) => ("wsspec error", format!("wsspec could not run this case through its own fault: {error}")),
            Unrun::NotRun(why) | Unrun::TargetFailed(why) => ("Not run", format!("not run: {why}")),
            Unrun::Missing => ("Missing", "no result: the run completed without this case (a client that never ran it)".to_string()),
        };
        self.agents[column].counts[MISSING] += 1;
        self.agents[column].failing += 1;
        if let (Unrun::NotRun(_) | Unrun::TargetFailed(_), Some(run)) = (why, self.incomplete.iter_mut().find(|r| r.agent == agent)) {
            run.not_run += 1;
        }
        let mut cell = Cell::missing();
        (cell.behavior.label, cell.close.label, cell.tip, cell.failing) = (label.to_string(), label.to_string(), clip(&tip, TIP_CHARS), true);
        self.row(id).cells[column] = Some(cell);
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ReportError> {
        // One style sheet beside the pages, not a copy in each of them: 3.5 KB a case page, a
        // fifth of a whole-catalog report folder.
        let css = self.dir.join(STYLE_SHEET);
        write_atomically(&css, include_str!("templates/style.css").as_bytes()).map_err(|e| ReportError::write(&css, e))?;
        self.group_by_agent();
        let mut sections: BTreeMap<Vec<u32>, SectionSummary> = BTreeMap::new();
        let mut rows = Vec::new();
        let (mut last_section, mut last_group) = (String::new(), String::new());
        for pending in std::mem::take(&mut self.rows) {
            let section = section_of(&pending.id).to_string();
            let group = subsection_of(&pending.id).unwrap_or(&section).to_string();
            let summary = sections.entry(crate::case_order(&section)).or_insert_with(|| SectionSummary {
                id: section.clone(),
                title: self.sections.title(&section).to_string(),
                counts: [0; LEGEND.len()],
                failing: 0,
            });
            let cells: Vec<Cell> = pending
                .cells
                .into_iter()
                .enumerate()
                .map(|(column, cell)| {
                    cell.unwrap_or_else(|| {
                        self.agents[column].counts[MISSING] += 1;
                        Cell::missing()
                    })
                })
                .collect();
            for cell in &cells {
                summary.counts[cell.legend] += 1;
                summary.failing += usize::from(cell.failing);
            }
            if section != last_section {
                rows.push(Row::heading(&section, self.sections.title(&section), &section));
                last_section = section.clone();
            }
            if group != section && group != last_group {
                rows.push(Row::heading(&group, self.sections.title(&group), &section));
                last_group = group.clone();
            }
            let failing = cells.iter().any(|c| c.failing);
            let search = format!("{} {}", pending.id, pending.title).to_lowercase();
            rows.push(Row {
                heading: false,
                id: pending.id,
                title: pending.title,
                level: pending.level,
                rfc: pending.rfc,
                section,
                group,
                failing,
                search,
                cells,
            });
        }
        let page = IndexPage {
            generated: iso_utc(SystemTime::now()),
            legend: LEGEND.to_vec(),
            close_verdicts: CLOSE_ORDER.iter().map(|c| c.as_str()).collect(),
            agents: &self.agents,
            sections: sections.into_values().collect(),
            groups: self.groups(),
            cases: rows.iter().filter(|r| !r.heading).count(),
            columns: 4 + 2 * self.agents.len(),
            rows,
            notes: &self.notes,
            incomplete: &self.incomplete,
        };
        self.render("index.html", &page, "index.html")
    }
}

impl Html {
    fn column(&mut self, agent: &str) -> usize {
        if let Some(column) = self.agents.iter().position(|a| a.name == agent) {
            return column;
        }
        self.agents.push(AgentSummary::new(agent.to_string()));
        self.rows.iter_mut().for_each(|row| row.cells.push(None));
        self.agents.len() - 1
    }

    /// Puts the columns of one agent over its transports (`srv`, `srv@h2c`, `srv@h2`) side by side,
    /// in the order each agent first appears, HTTP/1.1 first, then h2c, then h2.
    fn group_by_agent(&mut self) {
        let bases: Vec<&str> = self.agents.iter().map(|a| split_agent(&a.name).0).collect();
        let mut order: Vec<usize> = (0..self.agents.len()).collect();
        order.sort_by_key(|&i| (bases.iter().position(|b| *b == bases[i]), split_agent(&self.agents[i].name).1, i));
        let mut agents: Vec<Option<AgentSummary>> = std::mem::take(&mut self.agents).into_iter().map(Some).collect();
        self.agents = order.iter().map(|&i| agents[i].take().expect("each column once")).collect();
        for row in &mut self.rows {
            let mut cells: Vec<Option<Option<Cell>>> = std::mem::take(&mut row.cells).into_iter().map(Some).collect();
            row.cells = order.iter().map(|&i| cells[i].take().expect("each column once")).collect();
        }
    }

    /// The agent headings over the matrix, or none when every agent ran over HTTP/1.1 only.
    fn groups(&self) -> Vec<AgentGroup> {
        if self.agents.iter().all(|a| split_agent(&a.name).1.is_none()) {
            return Vec::new();
        }
        let mut groups: Vec<AgentGroup> = Vec::new();
        for agent in &self.agents {
            let base = split_agent(&agent.name).0;
            match groups.last_mut() {
                Some(group) if group.agent == base => group.span += 2,
                _ => groups.push(AgentGroup { agent: base.to_string(), span: 2 }),
            }
        }
        groups
    }

    /// The matrix row of `id`; results come in catalog order, so it is the last one or a new one.
    fn row(&mut self, id: &str) -> &mut PendingRow {
        if self.rows.last().is_none_or(|row| row.id != id) {
            let cells = vec![None; self.agents.len()];
            self.rows.push(PendingRow { id: id.to_string(), title: String::new(), level: String::new(), rfc: String::new(), cells });
        }
        self.rows.last_mut().expect("pushed above")
    }
}

impl AgentSummary {
    fn new(name: String) -> Self {
        let transport = split_agent(&name).1.map_or(HTTP_1_1_LABEL, Transport::label);
        Self { name, transport, counts: [0; LEGEND.len()], close_counts: [0; CLOSE_ORDER.len()], failing: 0 }
    }
}

impl Cell {
    fn missing() -> Self {
        let (href, tip) = (String::new(), String::new());
        Self { behavior: badge(MISSING), close: badge(MISSING), href, tip, failing: false, legend: MISSING }
    }
}

impl Row {
    fn heading(id: &str, title: &str, section: &str) -> Self {
        Self {
            heading: true,
            id: id.to_string(),
            title: title.to_string(),
            level: String::new(),
            rfc: String::new(),
            section: section.to_string(),
            group: id.to_string(),
            failing: false,
            search: String::new(),
            cells: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
