//! `labour load`'s report: requests, outcomes, latency and the client's
//! own cost, as lines.

use super::Report;
use crate::behaviour::Outcome;
use crate::results::{LatencySummary, LoadResults};
use crate::units::format_bytes;

/// Renders a load's figures as lines.
pub(crate) struct LoadText;

impl Report<LoadResults> for LoadText {
    fn render(&self, report: &LoadResults) -> anyhow::Result<Vec<u8>> {
        Ok(render(report).into_bytes())
    }
}

fn percentiles(latency: &LatencySummary) -> String {
    format!(
        "p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
        latency.p50_ms, latency.p90_ms, latency.p99_ms, latency.p999_ms, latency.max_ms
    )
}

fn render(report: &LoadResults) -> String {
    let mut out = format!(
        "Load of {}: {}, {}\n",
        report.url,
        report.load.describe(),
        if report.load.keep_alive {
            "keep-alive"
        } else {
            "a connection per request"
        }
    );
    out.push_str(&format!(
        "  requests      {} in {:.2} s ({:.2} req/s)\n",
        report.requests, report.duration_secs, report.requests_per_sec
    ));
    out.push_str(&format!("  2xx           {}\n", report.expected));
    let others: Vec<String> = report
        .outcomes
        .iter()
        .filter(|(outcome, _)| !matches!(outcome, Outcome::Status(200..=299)))
        .map(|(outcome, count)| format!("{} {count}", outcome.key()))
        .collect();
    out.push_str(&format!(
        "  not 2xx       {}{}\n",
        report.failed,
        if others.is_empty() {
            String::new()
        } else {
            format!(" ({})", others.join(", "))
        }
    ));
    out.push_str(&format!(
        "  latency       {}\n",
        percentiles(&report.latency)
    ));
    out.push_str(&format!(
        "  to headers    {}\n",
        percentiles(&report.headers_latency)
    ));
    if report.connects.count > 0 {
        out.push_str(&format!(
            "  connects      {} (p50 {:.3} ms, max {:.3} ms); {} stalled for the SYN retry ({:.2} s waiting)\n",
            report.connects.count,
            report.connects.time.p50_ms,
            report.connects.time.max_ms,
            report.connects.stalls,
            report.connects.stalled_secs
        ));
    }
    if let Some(corrected) = &report.corrected_latency {
        out.push_str(&format!("  corrected     {}\n", percentiles(corrected)));
        out.push_str(&format!("  late starts   {}\n", report.late_starts));
    }
    let per_request = if report.requests > 0 {
        report.client_cpu_secs * 1e6 / report.requests as f64
    } else {
        0.0
    };
    out.push_str(&format!(
        "  client        {} process(es), {:.2} s CPU ({per_request:.1} µs per request), peak RSS {}\n",
        report.processes,
        report.client_cpu_secs,
        format_bytes(report.client_peak_rss_bytes)
    ));
    for failure in &report.worker_failures {
        out.push_str(&format!("  failed        {failure}\n"));
    }
    for sample in report.failure_samples.iter().take(5) {
        out.push_str(&format!("  e.g.          {sample}\n"));
    }
    out
}
