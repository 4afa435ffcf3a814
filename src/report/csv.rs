//! CSV: one row per cell with every scalar figure, under a stable header
//! ([`csv_columns`]). Seconds and ratios are plain numbers (a ratio is a
//! share from 0 to 1, not a percentage); a figure a cell does not have is
//! an empty field.

use super::Report;
use crate::results::{Cell, LatencySummary, Results};

/// One column: its name and how a cell fills it.
type Column = (&'static str, fn(&Cell) -> String);

fn number<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// How long the cell's connects took; none when it counted none.
fn connect_time(cell: &Cell) -> Option<&LatencySummary> {
    (cell.client.connects.count > 0).then_some(&cell.client.connects.time)
}

/// Every column, in order. Append new ones at the end: the order is part
/// of the format.
const COLUMNS: &[Column] = &[
    ("server", |c| c.server.clone()),
    ("server_version", |c| c.server_version.clone()),
    ("test", |c| c.test.clone()),
    ("status", |c| word(&c.status)),
    ("ended_by", |c| {
        c.ended_by.as_ref().map(word).unwrap_or_default()
    }),
    ("seed", |c| c.seed.to_string()),
    ("requests", |c| c.requests.to_string()),
    ("expected", |c| c.expected.to_string()),
    ("failed", |c| c.failed.to_string()),
    ("failure_ratio", |c| c.failure_ratio.to_string()),
    ("innocent_requests", |c| c.innocent_requests.to_string()),
    ("innocent_failed", |c| c.innocent_failed.to_string()),
    ("innocent_failure_ratio", |c| {
        c.innocent_failure_ratio.to_string()
    }),
    ("duration_secs", |c| c.duration_secs.to_string()),
    ("requests_per_sec", |c| c.requests_per_sec.to_string()),
    ("startup_secs", |c| number(c.startup_secs)),
    ("workers_seen", |c| c.workers_seen.len().to_string()),
    ("dies", |c| c.durability.dies.to_string()),
    ("oom_kills", |c| c.durability.oom_kills.to_string()),
    ("restarts", |c| c.durability.restarts.to_string()),
    ("restart_count", |c| c.durability.restart_count.to_string()),
    ("recover_median_secs", |c| {
        number(c.durability.time_to_recover_median_secs)
    }),
    ("recover_max_secs", |c| {
        number(c.durability.time_to_recover_max_secs)
    }),
    ("downtime_secs", |c| c.durability.downtime_secs.to_string()),
    ("outages", |c| c.durability.outages.to_string()),
    ("down_at_secs", |c| number(c.durability.down_at_secs)),
    ("unresponsive_since_secs", |c| {
        number(c.durability.unresponsive_since_secs)
    }),
    ("memory_peak_bytes", |c| {
        number(c.resources.memory_peak_bytes)
    }),
    ("memory_max_sampled_bytes", |c| {
        number(c.resources.memory_max_sampled_bytes)
    }),
    ("cpu_mean_percent", |c| number(c.resources.cpu_mean_percent)),
    ("cpu_max_percent", |c| number(c.resources.cpu_max_percent)),
    ("innocent_p50_ms", |c| c.latency.innocent.p50_ms.to_string()),
    ("innocent_p90_ms", |c| c.latency.innocent.p90_ms.to_string()),
    ("innocent_p99_ms", |c| c.latency.innocent.p99_ms.to_string()),
    ("innocent_p999_ms", |c| {
        c.latency.innocent.p999_ms.to_string()
    }),
    ("innocent_max_ms", |c| c.latency.innocent.max_ms.to_string()),
    ("misbehaving_p50_ms", |c| {
        c.latency.misbehaving.p50_ms.to_string()
    }),
    ("misbehaving_p99_ms", |c| {
        c.latency.misbehaving.p99_ms.to_string()
    }),
    ("misbehaving_max_ms", |c| {
        c.latency.misbehaving.max_ms.to_string()
    }),
    ("exit_code", |c| number(c.exit_code)),
    ("oom_killed", |c| c.oom_killed.to_string()),
    ("client_processes", |c| c.client.processes.to_string()),
    ("client_cpu_secs", |c| number(c.client.cpu_secs)),
    ("queued_secs", |c| number(c.phases.queued_secs)),
    ("prepare_secs", |c| number(c.phases.prepare_secs)),
    ("start_secs", |c| number(c.phases.start_secs)),
    ("preflight_secs", |c| number(c.phases.preflight_secs)),
    ("load_secs", |c| number(c.phases.load_secs)),
    ("stop_secs", |c| number(c.phases.stop_secs)),
    ("remove_secs", |c| number(c.phases.remove_secs)),
    ("overlapped_cells", |c| c.overlap.cells.len().to_string()),
    ("error", |c| {
        c.error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default()
    }),
    ("python", |c| c.python.clone().unwrap_or_default()),
    ("fault_firings", |c| c.faults.len().to_string()),
    ("fault_innocent_lost", |c| {
        c.faults
            .iter()
            .map(|f| f.innocent_lost_during + f.innocent_lost_after)
            .sum::<u64>()
            .to_string()
    }),
    ("connects", |c| c.client.connects.count.to_string()),
    ("connect_stalls", |c| c.client.connects.stalls.to_string()),
    ("connect_stalled_secs", |c| {
        c.client.connects.stalled_secs.to_string()
    }),
    ("connect_p99_ms", |c| {
        number(connect_time(c).map(|t| t.p99_ms))
    }),
    ("connect_max_ms", |c| {
        number(connect_time(c).map(|t| t.max_ms))
    }),
    ("all_stalled_secs", |c| {
        c.client.all_stalled_secs.to_string()
    }),
    ("requests_per_sec_excluding_stalls", |c| {
        number(c.requests_per_sec_excluding_stalls)
    }),
    ("verdict", |c| {
        c.verdict.map(|v| v.name().to_string()).unwrap_or_default()
    }),
    ("stalls", |c| number(c.stalls.as_ref().map(|s| s.count))),
    ("longest_stall_secs", |c| {
        number(c.stalls.as_ref().map(|s| s.longest_secs))
    }),
    ("stalled_secs", |c| {
        number(c.stalls.as_ref().map(|s| s.total_secs))
    }),
    ("innocent_waiting_at_end", |c| {
        number(c.stalls.as_ref().map(|s| s.waiting_at_end))
    }),
    ("max_fault_late_secs", |c| {
        number(c.faults.iter().map(|f| f.late_secs).reduce(f64::max))
    }),
    ("reached_app", |c| {
        number(c.funnel.as_ref().map(|f| f.all.reached))
    }),
    ("finished_in_app", |c| {
        number(c.funnel.as_ref().map(|f| f.all.finished))
    }),
    ("lost_refused", |c| {
        number(c.funnel.as_ref().map(|f| f.lost.refused))
    }),
    ("lost_before_app", |c| {
        number(c.funnel.as_ref().map(|f| f.lost.before_application))
    }),
    ("lost_inside_app", |c| {
        number(c.funnel.as_ref().map(|f| f.lost.inside_application))
    }),
    ("lost_on_the_way_back", |c| {
        number(c.funnel.as_ref().map(|f| f.lost.on_the_way_back))
    }),
    ("innocent_lost_inside_app", |c| {
        number(
            c.funnel
                .as_ref()
                .map(|f| f.innocent_lost.inside_application),
        )
    }),
    ("unmatched", |c| {
        number(
            c.funnel
                .as_ref()
                .map(|f| f.answered_unseen + f.unknown_to_client + f.bad_lines),
        )
    }),
];

/// The CSV header, in order.
pub(crate) fn csv_columns() -> Vec<&'static str> {
    COLUMNS.iter().map(|(name, _)| *name).collect()
}

/// Renders one row per cell.
pub(crate) struct CsvReport;

impl Report for CsvReport {
    fn render(&self, results: &Results) -> anyhow::Result<Vec<u8>> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(csv_columns())?;
        for cell in &results.cells {
            writer.write_record(COLUMNS.iter().map(|(_, value)| value(cell)))?;
        }
        Ok(writer.into_inner()?)
    }
}
