//! The index page: per agent (a column pair, grouped under the agent's name when it ran over
//! several transports) the counts of each verdict, per section the counts and failures, and the
//! matrix of cases × agents whose cells link to the case pages. Cells come in as results are
//! rendered, in catalog order; the page is written once at the end.

use std::{collections::BTreeMap, time::SystemTime};

use serde::Serialize;

use super::{
    view::{badge, close_badge, legend_of, Badge, LEGEND, MISSING},
    Html, IncompleteRun, TIP_CHARS,
};
use crate::{
    iso_utc, section_of, subsection_of,
    text::clip,
    transport::{split_agent, Transport, HTTP_1_1_LABEL},
    BehaviorClose, CaseRecord, CaseResult, ReportError, Unrun,
};

/// Closing verdicts in the order the agent table shows them.
const CLOSE_ORDER: [BehaviorClose; 6] = [
    BehaviorClose::Ok,
    BehaviorClose::Informational,
    BehaviorClose::FailedByClient,
    BehaviorClose::WrongCode,
    BehaviorClose::Unclean,
    BehaviorClose::Failed,
];

#[derive(Debug, Serialize)]
pub(super) struct AgentSummary {
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
pub(super) struct PendingRow {
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

impl Html {
    /// Counts `result` (whose case page is `page`) and puts its cell into the matrix.
    pub(super) fn add_cell(&mut self, result: &CaseResult<'_>, page: String) {
        let CaseResult { agent, id, entry, record, status } = *result;
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
    }

    /// Counts a selected case without a result as Missing and puts into the matrix a failing cell
    /// that says why (see `Output::unrun` for `Html`).
    pub(super) fn unrun_cell(&mut self, agent: &str, id: &str, why: Unrun<'_>) {
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
    }

    /// Writes `index.html` from the cells and counts gathered.
    pub(super) fn render_index(&mut self) -> Result<(), ReportError> {
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
    pub(super) fn new(name: String) -> Self {
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
