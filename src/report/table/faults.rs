//! The table format's faults section: each firing of a fault in each cell,
//! what it reached, the innocent requests lost while it lasted and after
//! it, how fast answers came back, the answer rate before and during it,
//! and what a graceful stop or slow connections met.

use crate::results::{Cell, FaultRecord, Results};

/// The columns of the faults table.
pub(crate) const COLUMNS: [&str; 9] = [
    "Server",
    "Test",
    "Fault",
    "At",
    "Target",
    "Innocent lost (during / after)",
    "Recovered",
    "Answers/s (before / during)",
    "Also",
];

/// Where the figures come from, in words.
pub(crate) const HEADING: &str = "Faults: each firing at its time after the load began, on what; the \
     innocent requests that failed while it lasted and after it until the next answer as \
     expected (or the next fault); the time to that answer; answers as expected a second in \
     the second before it and while it lasted (the second after, for an instant)";

fn secs(value: f64) -> String {
    format!("{value:.2} s")
}

fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |r| format!("{r:.0}"))
}

/// What else a firing met: a graceful stop's requests in flight and exit,
/// slow connections' fate, or the error.
fn also(fault: &FaultRecord) -> String {
    let mut parts = Vec::new();
    if let Some(error) = &fault.error {
        parts.push(format!("error: {error}"));
    }
    if let Some(graceful) = &fault.graceful {
        match (graceful.in_flight, graceful.in_flight_completed) {
            (Some(all), Some(completed)) => {
                parts.push(format!("{completed} of {all} in flight completed"));
            }
            _ => parts.push("in flight: not watched".into()),
        }
        parts.push(match graceful.exited_after_secs {
            Some(after) => format!("exited after {}", secs(after)),
            None => "had not exited at the load's end".into(),
        });
        parts.push(match graceful.refused_after_secs {
            Some(after) => format!("refused connections from {}", secs(after)),
            None => "refused none before exiting".into(),
        });
    }
    if let Some(slow) = &fault.slow {
        parts.push(format!(
            "{} opened, {} refused, {} closed by the server, {} open at the end",
            slow.opened, slow.refused, slow.closed_by_server, slow.open_at_end
        ));
    }
    parts.join("; ")
}

/// The cells with faults.
pub(crate) fn cells(results: &Results) -> Vec<&Cell> {
    results
        .cells
        .iter()
        .filter(|cell| !cell.faults.is_empty())
        .collect()
}

/// One firing's row, under [`COLUMNS`].
pub(crate) fn row(cell: &Cell, fault: &FaultRecord) -> [String; 9] {
    let at = match fault.until_secs {
        Some(until) => format!("{} - {}", secs(fault.at_secs), secs(until)),
        None => secs(fault.at_secs),
    };
    [
        cell.server.clone(),
        cell.test.clone(),
        fault.action.clone(),
        at,
        fault.target.clone().unwrap_or_else(|| "-".into()),
        format!(
            "{} / {}",
            fault.innocent_lost_during, fault.innocent_lost_after
        ),
        fault
            .recovered_after_secs
            .map_or_else(|| "not before the end".into(), secs),
        format!(
            "{} / {}",
            rate(fault.expected_per_sec_before),
            rate(fault.expected_per_sec_during)
        ),
        also(fault),
    ]
}

/// Every row of the faults table, in cell order.
pub(crate) fn rows(results: &Results) -> Vec<[String; 9]> {
    cells(results)
        .into_iter()
        .flat_map(|cell| cell.faults.iter().map(move |fault| row(cell, fault)))
        .collect()
}

/// The faults table, when any cell had faults.
pub(crate) fn render(results: &Results, out: &mut String) {
    super::titled(out, HEADING, &COLUMNS, &rows(results));
}
