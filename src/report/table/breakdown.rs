//! The failure breakdown: per cell, the requests not as expected by
//! outcome and behaviour, and the collateral figure; and the connects that
//! stalled, which are not failures (their requests count by outcome) but
//! are never left out.

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
pub(crate) type OutcomeRow<'a> = (u64, Outcome, Vec<(&'a str, u64)>);

/// What the breakdown calls a connect that waited for a SYN retry.
pub(crate) const STALL_WORDS: &str = "connect stalled (SYN retry)";

/// The connect stalls of `cell`: how many, and how many per behaviour
/// whose request made the connect; `None` when there were none.
pub(crate) fn stall_row(cell: &Cell) -> Option<(u64, Vec<(&str, u64)>)> {
    let stalls = cell.client.connects.stalls;
    (stalls > 0).then(|| {
        let split = cell
            .behaviours
            .iter()
            .filter(|b| b.connect_stalls > 0)
            .map(|b| (b.behaviour.as_str(), b.connect_stalls))
            .collect();
        (stalls, split)
    })
}

/// How a stall line qualifies its count: not failures, and the time the
/// stalled connects waited in all.
pub(crate) fn stall_note(cell: &Cell) -> String {
    format!(
        "not failures; {:.2} s waiting",
        cell.client.connects.stalled_secs
    )
}

/// The failure breakdown of one cell, or nothing when all went as expected.
pub(crate) fn render(cell: &Cell, out: &mut String) {
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
    let stalls = stall_row(cell);
    if cell.failed == 0 && stalls.is_none() {
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
    if let Some((count, split)) = stalls {
        let split: Vec<String> = split.iter().map(|(b, n)| format!("{b} {n}")).collect();
        let _ = writeln!(
            out,
            "    {STALL_WORDS:<34} {count:>7} ({})  {}",
            stall_note(cell),
            split.join(", ")
        );
    }
}

/// The requests of `cell` not as expected, by outcome (most first) and,
/// for each, by behaviour.
pub(crate) fn rows(cell: &Cell) -> Vec<OutcomeRow<'_>> {
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
pub(crate) fn summary(cell: &Cell) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Results;

    /// wsgiref's Plain cell of the fixture, with three stalled connects
    /// made by its innocent requests and no failure.
    fn stalled_cell() -> Cell {
        let results: Results =
            serde_json::from_str(include_str!("../../../tests/fixtures/results-small.json"))
                .unwrap();
        let mut cell = results
            .cells
            .into_iter()
            .find(|c| c.server == "wsgiref" && c.test == "Plain")
            .unwrap();
        assert_eq!(cell.failed, 0);
        cell.client.connects.count = 300;
        cell.client.connects.stalls = 3;
        cell.client.connects.stalled_secs = 3.03;
        cell.behaviours[0].connect_stalls = 3;
        cell
    }

    #[test]
    fn a_cell_with_stalls_and_no_failures_still_shows_its_stalls() {
        let cell = stalled_cell();
        let mut out = String::new();
        render(&cell, &mut out);
        let stall_line = out
            .lines()
            .find(|line| line.contains(STALL_WORDS))
            .unwrap_or_else(|| panic!("no stall line in {out:?}"));
        assert!(
            stall_line.contains(" 3 (not failures; 3.03 s waiting)"),
            "{stall_line}"
        );
        assert!(stall_line.ends_with("PlainResponse 3"), "{stall_line}");
        assert!(
            out.starts_with("wsgiref / Plain: 0 of 300 requests"),
            "{out}"
        );
    }

    #[test]
    fn a_cell_without_stalls_or_failures_shows_nothing() {
        let mut cell = stalled_cell();
        cell.client.connects.stalls = 0;
        assert_eq!(stall_row(&cell), None);
        let mut out = String::new();
        render(&cell, &mut out);
        assert_eq!(out, "");
    }
}
