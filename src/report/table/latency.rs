//! The table format's latency table: how long the innocent requests took
//! next to the misbehaving ones (open loop: from their intended start).

use std::fmt::Write as _;

use prettytable::{Cell as TableCell, Row, Table, format};

use crate::results::{Cell, LatencySummary, Results};

fn ms(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.2} s", value / 1000.0)
    } else {
        format!("{value:.2} ms")
    }
}

fn row(cell: &Cell, innocent: &LatencySummary, misbehaving: &LatencySummary) -> Vec<String> {
    let mut row = vec![cell.server.clone(), cell.test.clone()];
    if innocent.count == 0 {
        row.extend(["-"; 5].map(String::from));
    } else {
        row.extend([
            ms(innocent.p50_ms),
            ms(innocent.p90_ms),
            ms(innocent.p99_ms),
            ms(innocent.p999_ms),
            ms(innocent.max_ms),
        ]);
    }
    row.push(if misbehaving.count == 0 {
        "-".into()
    } else {
        format!("{} / {}", ms(misbehaving.p50_ms), ms(misbehaving.p99_ms))
    });
    row
}

/// The latency table, for every cell that sent load.
pub(super) fn render(results: &Results, out: &mut String) {
    let cells: Vec<&Cell> = results
        .cells
        .iter()
        .filter(|cell| !cell.status.sent_no_load() && cell.requests > 0)
        .collect();
    if cells.is_empty() {
        return;
    }
    let open_loop = cells.iter().any(|c| c.latency.innocent_corrected.is_some());
    let _ = writeln!(
        out,
        "\nLatency of the innocent requests (PlainResponse), and p50 / p99 of the others{}:",
        if open_loop {
            ", from each request's intended start (open loop)"
        } else {
            ""
        }
    );
    let mut table = Table::new();
    table.set_format(*format::consts::FORMAT_DEFAULT);
    table.set_titles(Row::new(
        [
            "Server",
            "Test",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "others p50 / p99",
        ]
        .iter()
        .map(|title| TableCell::new(title))
        .collect(),
    ));
    for cell in cells {
        let latency = &cell.latency;
        let texts = match (&latency.innocent_corrected, &latency.misbehaving_corrected) {
            (Some(innocent), Some(misbehaving)) => row(cell, innocent, misbehaving),
            _ => row(cell, &latency.innocent, &latency.misbehaving),
        };
        table.add_row(Row::new(texts.iter().map(|t| TableCell::new(t)).collect()));
    }
    let _ = write!(out, "{table}");
}
