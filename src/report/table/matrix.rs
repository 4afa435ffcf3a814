//! The seed's multitest table: servers by tests, each cell
//! `f%: 1.00; RPS: 123.45`, or `Failed` when more than 10% of the requests
//! came back not as expected. Its wording is every report's. RPS leaves
//! out the time in which every connection waited for a SYN retry, marked
//! `(stalls)` where there was any: a second of the kernel's timer is not
//! the server's throughput (the durability table counts the stalls).

use std::fmt::Write as _;

use prettytable::{Cell as TableCell, Row, Table, format};

use crate::results::{Cell, CellStatus, EndedBy, Results, Verdict};

/// A share as every report prints it: a percentage with two decimals
/// (`12.30` for 0.123).
pub(crate) fn percent_text(ratio: f64) -> String {
    format!("{:.2}", ratio * 100.0)
}

/// A cell's verdict in words when its figures are not the whole story:
/// `Failed` past the seed's 10%, `Down at 0.04 s`, `Skipped`,
/// `Interrupted`...; `None` for a completed cell within the 10%.
pub(crate) fn verdict(cell: &Cell) -> Option<String> {
    Some(match cell.status {
        CellStatus::Error => "Error".into(),
        CellStatus::Skipped => "Skipped".into(),
        CellStatus::PreflightFailed => "Pre-flight failed".into(),
        CellStatus::EngineLost => "Engine lost".into(),
        CellStatus::NoLoad => "No load".into(),
        CellStatus::FaultLate => "Fault late".into(),
        CellStatus::ServerDown => match cell.durability.down_at_secs {
            Some(at) => format!("Down at {at:.2} s"),
            None => "Down".into(),
        },
        CellStatus::Unresponsive => match cell.durability.unresponsive_since_secs {
            Some(at) => format!("Unresponsive since {at:.2} s"),
            None => "Unresponsive".into(),
        },
        // A document from before `no_load` calls such a load completed.
        CellStatus::Completed if cell.requests == 0 => "No load".into(),
        CellStatus::Interrupted if cell.requests == 0 => "Interrupted".into(),
        CellStatus::Interrupted if cell.is_disqualified() => "Failed (interrupted)".into(),
        _ if cell.is_disqualified() => "Failed".into(),
        CellStatus::Interrupted => "Interrupted".into(),
        CellStatus::Completed => return None,
    })
}

/// The text of one cell of the table.
pub(crate) fn cell_text(cell: &Cell) -> String {
    let figures = || {
        let mut text = format!(
            "f%: {}; RPS: {:.2}",
            percent_text(cell.failure_ratio),
            cell.shown_requests_per_sec()
        );
        if cell.rate_excludes_stalls() {
            text.push_str(" (stalls)");
        }
        text
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

/// A cell's entry in the matrix: its text, and with `--repeat` how many
/// runs there were and how much their requests per second varied.
pub(crate) fn matrix_text(results: &Results, cell: &Cell) -> String {
    let mut text = cell_text(cell);
    if let Some(mark) = stalled_mark(cell).or_else(|| stop_mark(cell)) {
        text.push(' ');
        text.push_str(&mark);
    }
    match results.repeated(&cell.server, &cell.test) {
        Some(repeated) => format!(
            "{text} [{} runs{}]",
            repeated.runs,
            repeated
                .requests_per_sec
                .cv
                .map(|cv| format!(", RPS ±{:.1}%", cv * 100.0))
                .unwrap_or_default()
        ),
        None => text,
    }
}

/// The table of `results`, with the line saying what ended cells early
/// and how the run spent its time.
pub(super) fn render(results: &Results, out: &mut String) {
    let tests = results.test_names();
    let mut table = Table::new();
    table.set_format(*format::consts::FORMAT_DEFAULT);
    // A run with an ASGI server says each server's interface beside it.
    let interfaces = results.has_asgi();
    let mut titles = vec![TableCell::new("Server")];
    if interfaces {
        titles.push(TableCell::new("Interface"));
    }
    titles.extend(tests.iter().map(|test| TableCell::new(test)));
    table.set_titles(Row::new(titles));
    for server in results.servers_that_ran() {
        let mut row = vec![TableCell::new(server)];
        if interfaces {
            row.push(TableCell::new(results.interface_of(server).name()));
        }
        for test in &tests {
            let text = results
                .cell(server, test)
                .map_or_else(|| "-".to_string(), |cell| matrix_text(results, cell));
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
        let _ = writeln!(out, "{BUDGET_NOTE}");
    }
    if results.cells.iter().any(Cell::rate_excludes_stalls) {
        let _ = writeln!(out, "{STALLS_NOTE}");
    }
    if results
        .cells
        .iter()
        .any(|cell| cell.verdict == Some(Verdict::Stalled))
    {
        let _ = writeln!(out, "{STALLED_NOTE}");
    }
    if results.cells.iter().any(|cell| stop_mark(cell).is_some()) {
        let _ = writeln!(out, "{STOP_NOTE}");
    }
    if results.repeat > 1 {
        let _ = writeln!(
            out,
            "Each cell ran {} times; shown is its first run, with the spread of the runs' \
             requests per second (coefficient of variation; medians in `repeated`).",
            results.repeat
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
}

/// The mark beside a stalled cell's figures: `[stalled 5.40 s]`, its
/// longest stall (the seed's words before it stay as they were).
pub(crate) fn stalled_mark(cell: &Cell) -> Option<String> {
    (cell.verdict == Some(Verdict::Stalled)).then(|| {
        let longest = cell.stalls.as_ref().map_or(0.0, |s| s.longest_secs);
        format!("[stalled {longest:.2} s]")
    })
}

/// The mark beside a graceful stop's cell: `[graceful 3/3]` or
/// `[abrupt 1/3]`, the requests the application had in hand at SIGTERM
/// that came back, of those it had.
pub(crate) fn stop_mark(cell: &Cell) -> Option<String> {
    let word = match cell.verdict? {
        Verdict::Graceful => "graceful",
        Verdict::Abrupt => "abrupt",
        _ => return None,
    };
    let stop = cell.faults.iter().find_map(|f| f.graceful.as_ref())?;
    Some(format!(
        "[{word} {}/{}]",
        stop.in_hand_came_back?, stop.in_hand?
    ))
}

/// What `[graceful ...]` and `[abrupt ...]` mean.
pub(crate) const STOP_NOTE: &str = "[graceful K/N], [abrupt K/N]: of the N requests the application \
                             had in hand at SIGTERM (its own log), K finished and came back; \
                             graceful when all did and the server then exited. Refusals after \
                             the stop are expected: the verdict is the stop's, not f%'s.";

/// What `[stalled ...]` after a cell's figures means.
pub(crate) const STALLED_NOTE: &str = "[stalled N s]: within 10%, but innocent requests waited with \
                                none coming back for N s at the longest (a stall: at least the \
                                --stall threshold); the verdict is stalled, not held.";

/// What `(budget)` after a cell's figures means.
pub(crate) const BUDGET_NOTE: &str = "(budget): the cell's time budget ended its load before all its \
                               requests were sent; f% and RPS count what was sent.";

/// What `(stalls)` after a cell's figures means.
pub(crate) const STALLS_NOTE: &str = "(stalls): RPS leaves out the time in which every connection \
                               waited for the kernel's SYN retry (a connect stall, see the \
                               durability table); requests_per_sec in the results counts it.";

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(status: CellStatus, failed: u64) -> Cell {
        let results: Results =
            serde_json::from_str(include_str!("../../../tests/fixtures/results-small.json"))
                .unwrap();
        let mut cell = results.cells[0].clone();
        cell.status = status;
        cell.requests = 1000;
        cell.failed = failed;
        cell.failure_ratio = failed as f64 / 1000.0;
        cell.requests_per_sec = 12.345;
        cell.requests_per_sec_excluding_stalls = Some(12.345);
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
        let mut empty = cell(CellStatus::Completed, 0);
        empty.requests = 0;
        assert_eq!(verdict(&empty), Some("No load".into()));
        empty.status = CellStatus::Interrupted;
        assert_eq!(verdict(&empty), Some("Interrupted".into()));
        let mut down = cell(CellStatus::ServerDown, 500);
        down.durability.down_at_secs = Some(0.04);
        assert_eq!(cell_text(&down), "Down at 0.04 s");
        assert_eq!(percent_text(0.123), "12.30");
    }

    #[test]
    fn rps_leaves_out_the_time_every_connection_stalled_and_says_so() {
        let mut stalled = cell(CellStatus::Completed, 0);
        stalled.requests_per_sec_excluding_stalls = Some(4000.0);
        stalled.client.all_stalled_secs = 1.0;
        assert_eq!(cell_text(&stalled), "f%: 0.00; RPS: 4000.00 (stalls)");
        // Stalls while some connection could send leave the rate as it is.
        stalled.requests_per_sec_excluding_stalls = Some(12.345);
        stalled.client.all_stalled_secs = 0.0;
        stalled.client.connects.stalls = 3;
        assert_eq!(cell_text(&stalled), "f%: 0.00; RPS: 12.35");
    }
}
