//! `labour compare BASE NEW`: per cell (matched by server and test), how
//! f%, innocent f%, requests per second, recovery time and peak memory
//! changed; the cells only one run has; and which cells got worse by more
//! than the allowed regression. With repeated runs (`bench --repeat`) each
//! side is the median of its runs, and a change within the run-to-run noise
//! says so.

use std::fmt::Write as _;

use prettytable::{Cell as TableCell, Row, Table, format};
use serde::Serialize;

use super::Report;
use super::markdown::{escape, table};
use super::table::{cell_text, percent_text};
use crate::results::{Cell, Results, Spread, Verdict, verdict as verdict_of};
use crate::units::format_bytes;

/// One figure on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Change {
    /// The base run's value (the median of its runs, with `--repeat`).
    pub base: Option<f64>,
    /// The new run's.
    pub new: Option<f64>,
    /// The larger standard deviation of the two sides' runs, where both
    /// were repeated.
    pub noise: Option<f64>,
}

impl Change {
    fn of(base: Option<Spread>, new: Option<Spread>) -> Change {
        let noise = match (base.and_then(|s| s.stddev), new.and_then(|s| s.stddev)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        Change {
            base: base.map(|s| s.median),
            new: new.map(|s| s.median),
            noise,
        }
    }

    /// `new - base`, where both have a value.
    pub(crate) fn delta(&self) -> Option<f64> {
        Some(self.new? - self.base?)
    }

    /// Whether the change is more than twice the run-to-run noise; `None`
    /// without repeated runs on both sides.
    pub(crate) fn beyond_noise(&self) -> Option<bool> {
        Some(self.delta()?.abs() > 2.0 * self.noise?)
    }
}

/// One server x test in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Compared {
    /// Server name.
    pub server: String,
    /// Test name.
    pub test: String,
    /// The base run's cell as the table shows it.
    pub base_text: String,
    /// The new run's.
    pub new_text: String,
    /// Share of requests not as expected.
    pub failure_ratio: Change,
    /// Share of innocent requests that failed.
    pub innocent_failure_ratio: Change,
    /// Requests per second as the table shows them
    /// ([`Cell::shown_requests_per_sec`]).
    pub requests_per_sec: Change,
    /// Median time to recover after a death.
    pub recover_secs: Change,
    /// Peak memory, bytes.
    pub memory_peak_bytes: Change,
    /// The base run's verdict and the new run's.
    pub verdicts: (Option<Verdict>, Option<Verdict>),
    /// Whether f% or innocent f% got worse by more than the allowed
    /// regression, or the verdict got worse (held to stalled, failed to
    /// down...).
    pub regressed: bool,
}

/// Two runs side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Comparison {
    /// The most f% or innocent f% may grow, as a share.
    pub max_regression: f64,
    /// The cells both runs have, in the new run's order.
    pub cells: Vec<Compared>,
    /// Cells only the base run has (`server / test`).
    pub only_in_base: Vec<String>,
    /// Cells only the new run has.
    pub only_in_new: Vec<String>,
}

impl Comparison {
    /// The cells that regressed, in words.
    pub(crate) fn regressions(&self) -> Vec<String> {
        self.cells
            .iter()
            .filter(|c| c.regressed)
            .map(|c| {
                let worse = |name: &str, change: &Change| {
                    change
                        .delta()
                        .filter(|d| *d > self.max_regression)
                        .map(|d| format!("{name} +{} points", percent_text(d)))
                };
                let verdict = match c.verdicts {
                    (Some(base), Some(new)) if new.worse_than(base) => {
                        Some(format!("verdict {base} -> {new}"))
                    }
                    _ => None,
                };
                let reasons: Vec<String> = [
                    verdict,
                    worse("f%", &c.failure_ratio),
                    worse("innocent f%", &c.innocent_failure_ratio),
                ]
                .into_iter()
                .flatten()
                .collect();
                format!("{} / {}: {}", c.server, c.test, reasons.join(", "))
            })
            .collect()
    }
}

/// The figures of `server` x `test` in `results`: the medians of its runs
/// with `--repeat`, the cell's own otherwise.
fn figures(results: &Results, cell: &Cell) -> [Option<Spread>; 5] {
    let single = |value: Option<f64>| {
        value.map(|median| Spread {
            median,
            stddev: None,
            cv: None,
        })
    };
    match results.repeated(&cell.server, &cell.test) {
        Some(r) => [
            Some(r.failure_ratio),
            Some(r.innocent_failure_ratio),
            Some(r.requests_per_sec),
            r.recover_median_secs,
            r.memory_peak_bytes,
        ],
        None => {
            let sent = !cell.status.sent_no_load();
            [
                single(sent.then_some(cell.failure_ratio)),
                single(sent.then_some(cell.innocent_failure_ratio)),
                single(sent.then_some(cell.shown_requests_per_sec())),
                single(cell.durability.time_to_recover_median_secs),
                single(cell.resources.peak().map(|b| b as f64)),
            ]
        }
    }
}

/// The cells both runs have whose server speaks WSGI in one and ASGI in
/// the other, in words: a WSGI cell is never compared with an ASGI one
/// (`labour compare` refuses the pair of documents).
pub(crate) fn interface_mismatches(base: &Results, new: &Results) -> Vec<String> {
    let mut mismatches = Vec::new();
    for cell in &new.cells {
        let (was, is) = (
            base.interface_of(&cell.server),
            new.interface_of(&cell.server),
        );
        let key = format!("{} / {}", cell.server, cell.test);
        if was != is && base.cell(&cell.server, &cell.test).is_some() && !mismatches.contains(&key)
        {
            mismatches.push(key);
        }
    }
    mismatches
        .into_iter()
        .map(|key| {
            let server = key.split(" / ").next().unwrap_or_default();
            format!(
                "{key} is {} in BASE and {} in NEW",
                base.interface_of(server),
                new.interface_of(server)
            )
        })
        .collect()
}

/// `base` and `new` cell by cell; a cell regressed when its f% or innocent
/// f% grew by more than `max_regression` (a share: 0.01 is one point).
pub(crate) fn compare(base: &Results, new: &Results, max_regression: f64) -> Comparison {
    let key = |c: &Cell| format!("{} / {}", c.server, c.test);
    let firsts = |results: &Results| -> Vec<Cell> {
        let mut seen: Vec<Cell> = Vec::new();
        for cell in &results.cells {
            if !seen
                .iter()
                .any(|c| c.server == cell.server && c.test == cell.test)
            {
                seen.push(cell.clone());
            }
        }
        seen
    };
    let (base_cells, new_cells) = (firsts(base), firsts(new));
    let mut cells = Vec::new();
    for new_cell in &new_cells {
        let Some(base_cell) = base.cell(&new_cell.server, &new_cell.test) else {
            continue;
        };
        let [bf, bi, br, brec, bmem] = figures(base, base_cell);
        let [nf, ni, nr, nrec, nmem] = figures(new, new_cell);
        let failure_ratio = Change::of(bf, nf);
        let innocent_failure_ratio = Change::of(bi, ni);
        let verdicts = (
            base_cell.verdict.or_else(|| Some(verdict_of(base_cell))),
            new_cell.verdict.or_else(|| Some(verdict_of(new_cell))),
        );
        let worse_verdict = matches!(verdicts, (Some(b), Some(n)) if n.worse_than(b));
        let regressed = worse_verdict
            || [failure_ratio, innocent_failure_ratio]
                .iter()
                .any(|change| change.delta().is_some_and(|d| d > max_regression));
        cells.push(Compared {
            server: new_cell.server.clone(),
            test: new_cell.test.clone(),
            base_text: cell_text(base_cell),
            new_text: cell_text(new_cell),
            failure_ratio,
            innocent_failure_ratio,
            requests_per_sec: Change::of(br, nr),
            recover_secs: Change::of(brec, nrec),
            memory_peak_bytes: Change::of(bmem, nmem),
            verdicts,
            regressed,
        });
    }
    let missing_from = |from: &[Cell], other: &Results| -> Vec<String> {
        from.iter()
            .filter(|c| other.cell(&c.server, &c.test).is_none())
            .map(key)
            .collect()
    };
    Comparison {
        max_regression,
        only_in_base: missing_from(&base_cells, new),
        only_in_new: missing_from(&new_cells, base),
        cells,
    }
}

fn share(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{}%", percent_text(v)))
}

fn signed_points(change: &Change) -> String {
    change
        .delta()
        .map_or_else(String::new, |d| format!(" ({:+.2})", d * 100.0))
}

fn rate(change: &Change) -> String {
    match (change.base, change.new) {
        (Some(base), Some(new)) if base > 0.0 => {
            format!(
                "{base:.2} → {new:.2} ({:+.1}%)",
                (new - base) / base * 100.0
            )
        }
        (base, new) => format!(
            "{} → {}",
            base.map_or("-".into(), |v| format!("{v:.2}")),
            new.map_or("-".into(), |v| format!("{v:.2}"))
        ),
    }
}

fn both(change: &Change, show: impl Fn(f64) -> String) -> String {
    match (change.base, change.new) {
        (None, None) => "-".into(),
        (base, new) => format!(
            "{} → {}",
            base.map_or("-".into(), &show),
            new.map_or("-".into(), &show)
        ),
    }
}

fn verdict(cell: &Compared) -> String {
    if cell.regressed {
        return "worse".into();
    }
    let noisy = [cell.failure_ratio, cell.requests_per_sec]
        .iter()
        .any(|c| c.beyond_noise() == Some(false) && c.delta().is_some_and(|d| d != 0.0));
    match cell.failure_ratio.delta() {
        Some(d) if d < 0.0 => "better".into(),
        _ if noisy => "within noise".into(),
        _ => "same".into(),
    }
}

/// The comparison's rows, for both renderings.
fn rows(comparison: &Comparison) -> Vec<Vec<String>> {
    comparison
        .cells
        .iter()
        .map(|c| {
            vec![
                c.server.clone(),
                c.test.clone(),
                format!(
                    "{} → {}{}",
                    share(c.failure_ratio.base),
                    share(c.failure_ratio.new),
                    signed_points(&c.failure_ratio)
                ),
                format!(
                    "{} → {}{}",
                    share(c.innocent_failure_ratio.base),
                    share(c.innocent_failure_ratio.new),
                    signed_points(&c.innocent_failure_ratio)
                ),
                rate(&c.requests_per_sec),
                both(&c.recover_secs, |s| format!("{s:.2} s")),
                both(&c.memory_peak_bytes, |b| format_bytes(b as u64)),
                verdict(c),
            ]
        })
        .collect()
}

const COLUMNS: [&str; 8] = [
    "Server",
    "Test",
    "f%",
    "Innocent f%",
    "RPS",
    "Recover",
    "Peak memory",
    "Change",
];

fn tail(comparison: &Comparison, out: &mut String, bullet: &str) {
    for (what, cells) in [
        ("Only in the base run", &comparison.only_in_base),
        ("Only in the new run", &comparison.only_in_new),
    ] {
        if !cells.is_empty() {
            let _ = writeln!(out, "\n{what}:");
            for cell in cells {
                let _ = writeln!(out, "{bullet}{cell}");
            }
        }
    }
    let regressions = comparison.regressions();
    let _ = writeln!(
        out,
        "\n{} cell(s) compared; {} got worse by more than {} points of f% or innocent f%.",
        comparison.cells.len(),
        regressions.len(),
        percent_text(comparison.max_regression)
    );
    for regression in regressions {
        let _ = writeln!(out, "{bullet}{regression}");
    }
}

/// The comparison as a text table.
pub(crate) struct CompareTable;

impl Report<Comparison> for CompareTable {
    fn render(&self, comparison: &Comparison) -> anyhow::Result<Vec<u8>> {
        let mut out = String::from("Base → new, per cell (f% in points; RPS in percent):\n");
        let mut grid = Table::new();
        grid.set_format(*format::consts::FORMAT_DEFAULT);
        grid.set_titles(Row::new(
            COLUMNS.iter().map(|t| TableCell::new(t)).collect(),
        ));
        for row in rows(comparison) {
            grid.add_row(Row::new(row.iter().map(|t| TableCell::new(t)).collect()));
        }
        let _ = write!(out, "{grid}");
        tail(comparison, &mut out, "    ");
        Ok(out.into_bytes())
    }
}

/// The comparison as Markdown, for a pull-request comment.
pub(crate) struct CompareMarkdown;

impl Report<Comparison> for CompareMarkdown {
    fn render(&self, comparison: &Comparison) -> anyhow::Result<Vec<u8>> {
        let mut out = String::from("## labour compare\n\nBase → new, per cell.\n\n");
        table(&COLUMNS, &rows(comparison), &mut out);
        let mut rest = String::new();
        tail(comparison, &mut rest, "- ");
        out.push_str(&escape_lines(&rest));
        Ok(out.into_bytes())
    }
}

/// `text`'s lines with Markdown's table characters left alone but `|`
/// escaped, so a cell name cannot break the page.
fn escape_lines(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("- ") {
            Some(item) => format!("- {}", escape(item)),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
