//! The table format's second table: what each server process did during
//! each cell, from the engine's events, the worker pids the answers
//! carried, and the stats API.

use std::fmt::Write as _;

use crate::results::{Cell, Results, RuntimeKind};
use crate::units::format_bytes;

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |s| format!("{s:.2} s"))
}

fn recovery(cell: &Cell) -> String {
    let durability = &cell.durability;
    if durability.dies == 0 {
        return "-".into();
    }
    let never = durability
        .recoveries
        .iter()
        .filter(|r| r.recovered_after_secs.is_none())
        .count();
    let mut text = match (
        durability.time_to_recover_median_secs,
        durability.time_to_recover_max_secs,
    ) {
        (Some(median), Some(max)) => format!("{median:.2} / {max:.2} s"),
        _ => "never".to_string(),
    };
    if never > 0 && text != "never" {
        let _ = write!(text, " ({never} never)");
    }
    text
}

fn peak_memory(cell: &Cell) -> String {
    let resources = &cell.resources;
    resources
        .memory_peak_bytes
        .or(resources.memory_max_sampled_bytes)
        .map_or_else(|| "-".to_string(), format_bytes)
}

/// Connects that waited for a SYN retry, and the seconds they waited in
/// all; `-` where no connect was counted (a document from before labour
/// counted them, or a load that opened no connection).
fn stalls(cell: &Cell) -> String {
    let client = &cell.client;
    match (client.connects.count, client.connects.stalls) {
        (0, 0) => "-".into(),
        (_, 0) => "0".into(),
        (_, stalls) => format!("{stalls} ({:.2} s)", client.connects.stalled_secs),
    }
}

/// The columns of the durability table.
pub(crate) const COLUMNS: [&str; 11] = [
    "Server",
    "Test",
    "Dies",
    "OOM",
    "Restarts",
    "Workers",
    "Recover",
    "Downtime",
    "Down at",
    "Stalls",
    "Peak memory",
];

/// The cells the durability table shows: every one that sent load.
pub(crate) fn cells(results: &Results) -> Vec<&Cell> {
    results
        .cells
        .iter()
        .filter(|cell| !cell.status.sent_no_load())
        .collect()
}

/// Where the table's figures come from, in words.
pub(crate) fn heading(results: &Results) -> String {
    let source = if results.environment.engine.runtime == RuntimeKind::Local {
        "server process deaths and restarts from labour's own supervision (no OOM kills \
         without a memory limit)"
    } else {
        "container deaths, OOM kills and restarts from the engine's events"
    };
    format!(
        "Durability: {source}; workers from X-Labour-Worker; time to recover (median / max) \
         from each death to the next answer as expected; downtime while requests failed and \
         none came back as expected; stalls: connects that waited for the kernel's SYN retry \
         (over 900 ms), and how long they waited in all"
    )
}

/// One cell's row, under [`COLUMNS`].
pub(crate) fn row(cell: &Cell) -> [String; 11] {
    let durability = &cell.durability;
    [
        cell.server.clone(),
        cell.test.clone(),
        durability.dies.to_string(),
        durability.oom_kills.to_string(),
        durability.restarts.to_string(),
        cell.workers_seen.len().to_string(),
        recovery(cell),
        format!("{:.2} s", durability.downtime_secs),
        seconds(durability.down_at_secs),
        stalls(cell),
        peak_memory(cell),
    ]
}

/// The durability table, for every cell that sent load.
pub(crate) fn render(results: &Results, out: &mut String) {
    let rows: Vec<[String; 11]> = cells(results).into_iter().map(row).collect();
    super::titled(out, &heading(results), &COLUMNS, &rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stalls_column_counts_them_and_their_wait() {
        let mut cell = Cell::named(
            "wsgiref",
            "stdlib",
            "Plain",
            crate::results::CellStatus::Completed,
        );
        assert_eq!(stalls(&cell), "-", "no connect counted");
        cell.client.connects.count = 300;
        assert_eq!(stalls(&cell), "0");
        cell.client.connects.stalls = 2;
        cell.client.connects.stalled_secs = 2.014;
        assert_eq!(stalls(&cell), "2 (2.01 s)");
        let stalls_at = COLUMNS.iter().position(|c| *c == "Stalls").unwrap();
        assert_eq!(row(&cell)[stalls_at], "2 (2.01 s)");
    }
}
