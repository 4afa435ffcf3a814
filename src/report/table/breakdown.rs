//! The failure breakdown: per cell, the requests not as expected by
//! outcome and behaviour, and the collateral figure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::behaviour::Outcome;
use crate::results::{Cell, CellStatus};

/// Lines of a server's log shown under a cell that could not run.
const ERROR_LOG_LINES: usize = 12;

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// One outcome's line: its count, the outcome, and its count per behaviour.
pub type OutcomeRow<'a> = (u64, Outcome, Vec<(&'a str, u64)>);

/// The failure breakdown of one cell, or nothing when all went as expected.
pub fn render(cell: &Cell, out: &mut String) {
    let name = format!("{} / {}", cell.server, cell.test);
    if let Some(error) = &cell.error {
        let what = match cell.status {
            CellStatus::Skipped => "skipped",
            CellStatus::Error | CellStatus::PreflightFailed => "could not run",
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
    let _ = writeln!(out, "{name}: {}", summary(cell));
    for (count, outcome, split) in rows(cell) {
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

/// The requests of `cell` not as expected, by outcome (most first) and,
/// for each, by behaviour.
pub fn rows(cell: &Cell) -> Vec<OutcomeRow<'_>> {
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
    rows
}

/// The headline of a cell's failures: how many were not as expected, and
/// how many innocent requests failed.
pub fn summary(cell: &Cell) -> String {
    format!(
        "{} of {} requests ({:.2}%) not as expected; innocent requests failed: {} of {} ({:.2}%)",
        cell.failed,
        cell.requests,
        cell.failure_ratio * 100.0,
        cell.innocent_failed,
        cell.innocent_requests,
        cell.innocent_failure_ratio * 100.0,
    )
}
