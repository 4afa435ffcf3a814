//! The table format: the seed's multitest table, then what each server
//! process did (durability), the latency of innocent requests next to the
//! others', and per cell what the failures were. One file per section.

pub(super) mod breakdown;
pub(super) mod durability;
pub(super) mod faults;
pub(super) mod funnel;
mod latency;
mod matrix;

use std::fmt::Write as _;

pub(crate) use matrix::{
    BUDGET_NOTE, STALLED_NOTE, STALLS_NOTE, STOP_NOTE, cell_text, matrix_text, percent_text,
    stop_mark, verdict,
};

use super::Report;
use crate::results::Results;

/// Renders the seed's table and the sections under it.
pub(crate) struct TableReport;

impl Report for TableReport {
    fn render(&self, results: &Results) -> anyhow::Result<Vec<u8>> {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} test(s) against {} server(s) {}.",
            results.test_names().len(),
            results.servers_that_ran().len(),
            if results.complete {
                "finished"
            } else {
                "ran (incomplete)"
            }
        );
        let _ = writeln!(out, "\nReport of request failure percent and requests/sec:");

        matrix::render(results, &mut out);
        durability::render(results, &mut out);
        faults::render(results, &mut out);
        funnel::render(results, &mut out);
        latency::render(results, &mut out);

        let mut details = String::new();
        for cell in &results.cells {
            breakdown::render(cell, &mut details);
        }
        if !details.is_empty() {
            let _ = writeln!(
                out,
                "\nFailure breakdown (requests not as expected, and connect stalls):"
            );
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

/// `heading:` on a line, then a table of `columns` over `rows`; nothing
/// when there are no rows.
fn titled<R: AsRef<[String]>>(out: &mut String, heading: &str, columns: &[&str], rows: &[R]) {
    use prettytable::{Cell as TableCell, Row, Table, format};
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{heading}:");
    let mut table = Table::new();
    table.set_format(*format::consts::FORMAT_DEFAULT);
    table.set_titles(Row::new(
        columns.iter().map(|title| TableCell::new(title)).collect(),
    ));
    for row in rows {
        table.add_row(Row::new(
            row.as_ref()
                .iter()
                .map(|text| TableCell::new(text))
                .collect(),
        ));
    }
    let _ = write!(out, "{table}");
}
