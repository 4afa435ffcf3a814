//! The seed's PlainReport, per cell, in its own words: how many requests,
//! how long they took, how many came back OK (as expected) and how many
//! failed.

use std::fmt::Write as _;

use super::Report;
use super::table::{percent_text, verdict};
use crate::results::Results;

/// Renders the seed's plain report.
pub(crate) struct PlainReport;

impl Report for PlainReport {
    fn render(&self, results: &Results) -> anyhow::Result<Vec<u8>> {
        let mut out = String::new();
        for cell in &results.cells {
            let _ = writeln!(out, "{} / {}:", cell.server, cell.test);
            if cell.status.sent_no_load() {
                let why = cell.error.as_ref().map_or("", |e| e.message.as_str());
                let word = verdict(cell).unwrap_or_default();
                let _ = writeln!(out, "    {word}: no requests sent. {why}");
                continue;
            }
            let _ = writeln!(
                out,
                "    Test of {} requests complete in {:.2} seconds ({:.2}req/s).",
                cell.requests, cell.duration_secs, cell.requests_per_sec
            );
            let _ = writeln!(
                out,
                "    {} requests ({}%) returned OK and {} ({}%) failed.",
                cell.expected,
                percent_text(ratio(cell.expected, cell.requests)),
                cell.failed,
                percent_text(cell.failure_ratio)
            );
            if cell.client.connects.stalls > 0 {
                let _ = writeln!(
                    out,
                    "    {} connect(s) of {} stalled (SYN retry), {:.2} s waiting; {:.2}req/s \
                     without the {:.2} s every connection stalled.",
                    cell.client.connects.stalls,
                    cell.client.connects.count,
                    cell.client.connects.stalled_secs,
                    cell.shown_requests_per_sec(),
                    cell.client.all_stalled_secs
                );
            }
            if let Some(word) = verdict(cell) {
                let _ = writeln!(out, "    {word}.");
            }
        }
        Ok(out.into_bytes())
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
