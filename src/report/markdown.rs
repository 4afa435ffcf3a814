//! GitHub-flavoured Markdown, for a CI job's step summary or a pull-request
//! comment: the seed's table, the durability table, and the cells that
//! failed, with why.

use std::fmt::Write as _;

use super::Report;
use super::table::{
    BUDGET_NOTE, STALLED_NOTE, STALLS_NOTE, STOP_NOTE, breakdown, durability, faults, funnel,
    matrix_text, stop_mark, verdict,
};
use crate::results::{EndedBy, Results, Verdict};

/// Renders the run as Markdown.
pub(crate) struct MarkdownReport;

/// `text` safe inside a Markdown table cell.
pub(super) fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// A Markdown table with `header` and `rows`.
pub(super) fn table(header: &[&str], rows: &[Vec<String>], out: &mut String) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|cell| escape(cell)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

impl Report for MarkdownReport {
    fn render(&self, results: &Results) -> anyhow::Result<Vec<u8>> {
        let mut out = String::new();
        let tests = results.test_names();
        let servers = results.servers_that_ran();
        let engine = &results.environment.engine;
        let _ = writeln!(
            out,
            "## labour: {} test(s) against {} server(s){}\n",
            tests.len(),
            servers.len(),
            if results.complete {
                ""
            } else {
                " (incomplete)"
            }
        );
        let _ = writeln!(
            out,
            "labour {} · {} {} · seed {} · {} job(s) · {:.0} s\n",
            results.labour_version,
            engine.runtime_name(),
            engine.version,
            results.seed,
            results.jobs,
            results.wall_secs
        );
        let _ = writeln!(
            out,
            "### Requests not as expected (f%) and requests per second\n"
        );
        // A run with an ASGI server says each server's interface beside it.
        let interfaces = results.has_asgi();
        let mut header = vec!["Server"];
        if interfaces {
            header.push("Interface");
        }
        header.extend(&tests);
        let rows: Vec<Vec<String>> = servers
            .iter()
            .map(|server| {
                let mut row = vec![server.to_string()];
                if interfaces {
                    row.push(results.interface_of(server).to_string());
                }
                for test in &tests {
                    row.push(results.cell(server, test).map_or_else(
                        || "-".to_string(),
                        |cell| match verdict(cell) {
                            Some(_) => format!("**{}**", matrix_text(results, cell)),
                            None => matrix_text(results, cell),
                        },
                    ));
                }
                row
            })
            .collect();
        table(&header, &rows, &mut out);
        if results
            .cells
            .iter()
            .any(|cell| cell.ended_by == Some(EndedBy::Budget))
        {
            let _ = writeln!(out, "\n{BUDGET_NOTE}");
        }
        if results.cells.iter().any(|cell| cell.rate_excludes_stalls()) {
            let _ = writeln!(out, "\n{STALLS_NOTE}");
        }
        if results
            .cells
            .iter()
            .any(|cell| cell.verdict == Some(Verdict::Stalled))
        {
            let _ = writeln!(out, "\n{STALLED_NOTE}");
        }
        if results.cells.iter().any(|cell| stop_mark(cell).is_some()) {
            let _ = writeln!(out, "\n{STOP_NOTE}");
        }
        let counts: Vec<String> = Verdict::ALL
            .iter()
            .filter_map(|&v| {
                let n = results
                    .cells
                    .iter()
                    .filter(|c| c.verdict == Some(v))
                    .count();
                (n > 0).then(|| format!("{v} {n}"))
            })
            .collect();
        if !counts.is_empty() {
            let _ = writeln!(out, "\nVerdicts: {}.", counts.join(", "));
        }

        let cells = durability::cells(results);
        if !cells.is_empty() {
            let _ = writeln!(
                out,
                "\n### Durability\n\n{}.\n",
                durability::heading(results)
            );
            let rows: Vec<Vec<String>> = cells
                .iter()
                .map(|cell| durability::row(cell).to_vec())
                .collect();
            table(&durability::COLUMNS, &rows, &mut out);
        }

        let fault_rows = faults::rows(results);
        if !fault_rows.is_empty() {
            let _ = writeln!(out, "\n### Faults\n\n{}.\n", faults::HEADING);
            let rows: Vec<Vec<String>> = fault_rows.into_iter().map(|row| row.to_vec()).collect();
            table(&faults::COLUMNS, &rows, &mut out);
        }

        let lost = funnel::cells(results);
        if !lost.is_empty() {
            let _ = writeln!(
                out,
                "\n### Where lost requests died\n\n{}.\n",
                funnel::HEADING
            );
            let rows: Vec<Vec<String>> = lost
                .into_iter()
                .map(|(cell, counts)| funnel::row(cell, counts).to_vec())
                .collect();
            table(&funnel::COLUMNS, &rows, &mut out);
        }

        let failing: Vec<_> = results
            .cells
            .iter()
            .filter(|cell| {
                verdict(cell).is_some() || cell.failed > 0 || cell.client.connects.stalls > 0
            })
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(
                out,
                "\n### Cells with requests not as expected or connect stalls\n"
            );
            for cell in failing {
                let word = verdict(cell).map(|w| format!(" ({w})")).unwrap_or_default();
                let why = match &cell.error {
                    Some(error) => error.message.clone(),
                    None => breakdown::summary(cell),
                };
                let _ = writeln!(
                    out,
                    "- **{} / {}**{word}: {}",
                    escape(&cell.server),
                    escape(&cell.test),
                    escape(&why)
                );
                for (count, outcome, split) in breakdown::rows(cell) {
                    let split: Vec<String> =
                        split.iter().map(|(b, n)| format!("`{b}` {n}")).collect();
                    let _ = writeln!(out, "  - {outcome}: {count} ({})", split.join(", "));
                }
                if let Some((count, split)) = breakdown::stall_row(cell) {
                    let split: Vec<String> =
                        split.iter().map(|(b, n)| format!("`{b}` {n}")).collect();
                    let _ = writeln!(
                        out,
                        "  - {}: {count}, {} ({})",
                        breakdown::STALL_WORDS,
                        breakdown::stall_note(cell),
                        split.join(", ")
                    );
                }
            }
        }
        if !results.threshold_failures.is_empty() {
            let _ = writeln!(out, "\n### Thresholds failed\n");
            for failure in &results.threshold_failures {
                let _ = writeln!(out, "- {}", escape(failure));
            }
        }
        Ok(out.into_bytes())
    }
}
