//! The seed's multitest table: servers by tests, each cell
//! `f%: 1.00; RPS: 123.45`, or `Failed` when more than 10% of the requests
//! came back not as expected; then, per cell, what the failures were.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use prettytable::{Cell as TableCell, Row, Table, format};

use super::Report;
use crate::behaviour::Outcome;
use crate::results::{Cell, CellStatus, EndedBy, Results};

/// Lines of a server's log shown under a cell that could not run.
const ERROR_LOG_LINES: usize = 12;

/// Renders the seed's table and the failure breakdown.
pub struct TableReport;

/// A share as every report prints it: a percentage with two decimals
/// (`12.30` for 0.123).
pub fn percent_text(ratio: f64) -> String {
    format!("{:.2}", ratio * 100.0)
}

/// A cell's verdict in words when its figures are not the whole story:
/// `Failed` past the seed's 10%, `Down at 0.04 s`, `Skipped`,
/// `Interrupted`...; `None` for a completed cell within the 10%.
pub fn verdict(cell: &Cell) -> Option<String> {
    Some(match cell.status {
        CellStatus::Error => "Error".into(),
        CellStatus::Skipped => "Skipped".into(),
        CellStatus::PreflightFailed => "Pre-flight failed".into(),
        CellStatus::ServerDown => match cell.durability.down_at_secs {
            Some(at) => format!("Down at {at:.2} s"),
            None => "Down".into(),
        },
        CellStatus::Unresponsive => match cell.durability.unresponsive_since_secs {
            Some(at) => format!("Unresponsive since {at:.2} s"),
            None => "Unresponsive".into(),
        },
        _ if cell.requests == 0 => "Interrupted".into(),
        CellStatus::Interrupted if cell.is_disqualified() => "Failed (interrupted)".into(),
        _ if cell.is_disqualified() => "Failed".into(),
        CellStatus::Interrupted => "Interrupted".into(),
        CellStatus::Completed => return None,
    })
}

/// The text of one cell of the table.
pub fn cell_text(cell: &Cell) -> String {
    let figures = || {
        format!(
            "f%: {}; RPS: {:.2}",
            percent_text(cell.failure_ratio),
            cell.requests_per_sec
        )
    };
    match verdict(cell) {
        None if cell.ended_by == Some(EndedBy::Budget) => format!("{} (budget)", figures()),
        None => figures(),
        // Interrupted with its figures still meaningful.
        Some(_)
            if cell.status == CellStatus::Interrupted
                && cell.requests > 0
                && !cell.is_disqualified() =>
        {
            format!("{} (interrupted)", figures())
        }
        Some(word) => word,
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// One outcome's line: its count, the outcome, and its count per behaviour.
type OutcomeRow<'a> = (u64, Outcome, Vec<(&'a str, u64)>);

/// The failure breakdown of one cell, or nothing when all went as expected.
fn breakdown(cell: &Cell, out: &mut String) {
    let name = format!("{} / {}", cell.server, cell.test);
    if let Some(error) = &cell.error {
        let what = match cell.status {
            CellStatus::Skipped => "skipped",
            status if status.could_not_run() => "could not run",
            _ => "error",
        };
        let _ = writeln!(out, "{name}: {what}: {}", error.message);
        let tail = &error.log_tail;
        for line in &tail[tail.len().saturating_sub(ERROR_LOG_LINES)..] {
            let _ = writeln!(out, "    | {line}");
        }
        if cell.status.sent_no_load() {
            return;
        }
    }
    if cell.failed == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "{name}: {} of {} requests ({:.2}%) not as expected; innocent requests failed: {} of {} ({:.2}%)",
        cell.failed,
        cell.requests,
        cell.failure_ratio * 100.0,
        cell.innocent_failed,
        cell.innocent_requests,
        cell.innocent_failure_ratio * 100.0,
    );
    // outcome -> behaviour -> count, over the requests not as expected.
    let mut by_outcome: BTreeMap<Outcome, Vec<(&str, u64)>> = BTreeMap::new();
    for behaviour in &cell.behaviours {
        for (outcome, count) in &behaviour.unexpected {
            by_outcome
                .entry(*outcome)
                .or_default()
                .push((&behaviour.behaviour, *count));
        }
    }
    let mut rows: Vec<OutcomeRow> = by_outcome
        .into_iter()
        .map(|(outcome, split)| (split.iter().map(|(_, n)| n).sum(), outcome, split))
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.key().cmp(&b.1.key())));
    for (count, outcome, split) in rows {
        let split: Vec<String> = split.iter().map(|(b, n)| format!("{b} {n}")).collect();
        let _ = writeln!(
            out,
            "    {:<34} {:>7} ({:>6.2}%)  {}",
            outcome.to_string(),
            count,
            percent(count, cell.failed),
            split.join(", ")
        );
    }
}

impl Report for TableReport {
    fn render(&self, results: &Results) -> anyhow::Result<Vec<u8>> {
        let tests: Vec<&str> = results
            .scenario
            .tests
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        let servers: Vec<&str> = results
            .scenario
            .servers
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let ran_servers: Vec<&str> = servers
            .iter()
            .copied()
            .filter(|server| results.cells.iter().any(|c| c.server == *server))
            .collect();

        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} test(s) against {} server(s) {}.",
            tests.len(),
            ran_servers.len(),
            if results.complete {
                "finished"
            } else {
                "ran (incomplete)"
            }
        );
        let _ = writeln!(out, "\nReport of request failure percent and requests/sec:");

        let mut table = Table::new();
        table.set_format(*format::consts::FORMAT_DEFAULT);
        let mut titles = vec![TableCell::new("Server")];
        titles.extend(tests.iter().map(|test| TableCell::new(test)));
        table.set_titles(Row::new(titles));
        for server in &ran_servers {
            let mut row = vec![TableCell::new(server)];
            for test in &tests {
                let text = results
                    .cell(server, test)
                    .map_or_else(|| "-".to_string(), cell_text);
                row.push(TableCell::new(&text));
            }
            table.add_row(Row::new(row));
        }
        let _ = write!(out, "{table}");
        if results
            .cells
            .iter()
            .any(|cell| cell.ended_by == Some(EndedBy::Budget))
        {
            let _ = writeln!(
                out,
                "(budget): the cell's time budget ended its load before all its requests were \
                 sent; f% and RPS count what was sent."
            );
        }
        let _ = writeln!(
            out,
            "{} cell(s) at once; {:.0} s in all, {:.0} s ({:.1}%) with no cell sending load.",
            results.jobs,
            results.wall_secs,
            results.orchestration_secs,
            results.orchestration_share * 100.0
        );
        super::durability::render(results, &mut out);
        super::latency::render(results, &mut out);

        let mut details = String::new();
        for cell in &results.cells {
            breakdown(cell, &mut details);
        }
        if !details.is_empty() {
            let _ = writeln!(out, "\nFailure breakdown (requests not as expected):");
            out.push_str(&details);
        }
        if !results.threshold_failures.is_empty() {
            let _ = writeln!(out, "\nThresholds failed:");
            for failure in &results.threshold_failures {
                let _ = writeln!(out, "    {failure}");
            }
        }
        Ok(out.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Results;

    fn cell(status: CellStatus, failed: u64) -> Cell {
        let results: Results =
            serde_json::from_str(include_str!("../../tests/fixtures/results-small.json")).unwrap();
        let mut cell = results.cells[0].clone();
        cell.status = status;
        cell.requests = 1000;
        cell.failed = failed;
        cell.failure_ratio = failed as f64 / 1000.0;
        cell.requests_per_sec = 12.345;
        cell
    }

    #[test]
    fn verdicts_and_cell_texts() {
        let ok = cell(CellStatus::Completed, 123);
        assert_eq!(verdict(&ok), Some("Failed".into()));
        assert_eq!(cell_text(&ok), "Failed");
        let ok = cell(CellStatus::Completed, 100);
        assert_eq!(verdict(&ok), None);
        assert_eq!(cell_text(&ok), "f%: 10.00; RPS: 12.35");
        let cut = cell(CellStatus::Interrupted, 5);
        assert_eq!(verdict(&cut), Some("Interrupted".into()));
        assert_eq!(cell_text(&cut), "f%: 0.50; RPS: 12.35 (interrupted)");
        let cut = cell(CellStatus::Interrupted, 500);
        assert_eq!(cell_text(&cut), "Failed (interrupted)");
        let mut down = cell(CellStatus::ServerDown, 500);
        down.durability.down_at_secs = Some(0.04);
        assert_eq!(cell_text(&down), "Down at 0.04 s");
        assert_eq!(percent_text(0.123), "12.30");
    }
}
