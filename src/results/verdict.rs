//! A cell's verdict: what the server did, in one word from a small set,
//! computed once here from the cell's figures (renderers read it, they
//! never work it out), and the stalls it rests on.
//!
//! Worst first: `error` (the cell measured nothing it could stand by: its
//! server could not start, its load counted nothing, a fault came late, the
//! engine went away), `preflight_failed`, `down` (died and stayed down),
//! `unresponsive` (nothing as expected for the give-up time), `failed` (the
//! seed's rule: more than 10% not as expected), `stalled` (within 10%, but
//! innocent requests waited with none coming back for at least the stall
//! threshold), `held`. `skipped` and `interrupted` say the cell has no
//! verdict of the server.
//!
//! A graceful stop asks its own question, answered from the application's
//! log: `graceful` when the server finished and answered every request the
//! application had in hand at SIGTERM and then exited (whatever it refused
//! after), `abrupt` when it dropped one. Its cell has that verdict, unless
//! it measured nothing it can stand by or the application had nothing in
//! hand (then the rule above).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Cell, CellStatus};

/// What a cell says the server did.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The cell measured nothing it can stand by (see its `error`).
    Error,
    /// A behaviour of the test did not come back as expected when asked
    /// once before the load.
    PreflightFailed,
    /// The server died and stayed down.
    Down,
    /// Nothing came back as expected for the give-up time.
    Unresponsive,
    /// More than 10% of the requests were not as expected (the seed's
    /// `Failed`).
    Failed,
    /// A graceful stop dropped a request the application had in hand.
    Abrupt,
    /// Within 10%, but innocent requests waited with none coming back for
    /// at least the stall threshold (see `stalls`).
    Stalled,
    /// Within 10%, and innocent requests kept coming back.
    Held,
    /// A graceful stop: every request the application had in hand at
    /// SIGTERM finished and came back, then the server exited.
    Graceful,
    /// The runtime cannot run the server: no verdict.
    Skipped,
    /// Cut short by a signal before it could say.
    Interrupted,
}

impl Verdict {
    /// Every verdict, worst first.
    pub const ALL: [Verdict; 11] = [
        Verdict::Error,
        Verdict::PreflightFailed,
        Verdict::Down,
        Verdict::Unresponsive,
        Verdict::Failed,
        Verdict::Abrupt,
        Verdict::Stalled,
        Verdict::Held,
        Verdict::Graceful,
        Verdict::Skipped,
        Verdict::Interrupted,
    ];

    /// Its name, as in the JSON (`preflight_failed`).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Error => "error",
            Verdict::PreflightFailed => "preflight_failed",
            Verdict::Down => "down",
            Verdict::Unresponsive => "unresponsive",
            Verdict::Failed => "failed",
            Verdict::Abrupt => "abrupt",
            Verdict::Stalled => "stalled",
            Verdict::Held => "held",
            Verdict::Graceful => "graceful",
            Verdict::Skipped => "skipped",
            Verdict::Interrupted => "interrupted",
        }
    }

    /// What it means, for legends.
    pub fn meaning(self) -> &'static str {
        match self {
            Verdict::Error => "measured nothing it can stand by (see the cell's error)",
            Verdict::PreflightFailed => "a behaviour failed when asked once before the load",
            Verdict::Down => "the server died and stayed down",
            Verdict::Unresponsive => "nothing came back as expected for the give-up time",
            Verdict::Failed => "more than 10% of the requests not as expected",
            Verdict::Stalled => {
                "within 10%, but innocent requests waited with none coming back for a stall"
            }
            Verdict::Held => "within 10%, innocent requests kept coming back",
            Verdict::Abrupt => "a graceful stop dropped a request the application had in hand",
            Verdict::Graceful => {
                "a graceful stop: every request in hand at SIGTERM finished and came back, then the server exited"
            }
            Verdict::Skipped => "the runtime cannot run this server",
            Verdict::Interrupted => "cut short by a signal",
        }
    }

    /// Whether `self` is worse than `other` (for compare): both are
    /// verdicts of the server, and `self` comes first in [`Verdict::ALL`].
    pub fn worse_than(self, other: Verdict) -> bool {
        let of_the_server = |v: Verdict| !matches!(v, Verdict::Skipped | Verdict::Interrupted);
        of_the_server(self) && of_the_server(other) && self < other
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The stretches of a cell's load in which at least one innocent request
/// was waiting for its answer and no innocent request came back, each at
/// least `threshold_secs` long, to the end of the load: time the server
/// left innocent requests waiting. Not failures, and not connect stalls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stalls {
    /// The least stretch that counts, in seconds (`--stall`).
    pub threshold_secs: f64,
    /// How many stretches.
    pub count: u64,
    /// The longest, in seconds.
    pub longest_secs: f64,
    /// All of them, in seconds.
    pub total_secs: f64,
    /// `total_secs` over the load's time.
    pub share_of_load: f64,
    /// Innocent requests still waiting for their answer when the load
    /// ended (not counted as requests).
    pub waiting_at_end: u64,
    /// The first 20 stretches, as seconds since the load began.
    pub list: Vec<StallRecord>,
}

/// How many stalls a cell lists.
pub(crate) const STALLS_KEPT: usize = 20;

/// One stall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StallRecord {
    /// When it began, seconds since the load began.
    pub from_secs: f64,
    /// When it ended (an innocent request came back, or the load ended).
    pub to_secs: f64,
}

/// The verdict of `cell`, from its status, its failure share and its
/// stalls, or for a graceful stop from what became of the requests in hand.
pub(crate) fn verdict(cell: &Cell) -> Verdict {
    let graceful = cell
        .faults
        .iter()
        .find_map(|fault| fault.graceful.as_ref()?.graceful);
    if let (
        CellStatus::Completed | CellStatus::ServerDown | CellStatus::Unresponsive,
        Some(graceful),
    ) = (cell.status, graceful)
    {
        return match graceful {
            true => Verdict::Graceful,
            false => Verdict::Abrupt,
        };
    }
    match cell.status {
        CellStatus::Error | CellStatus::NoLoad | CellStatus::FaultLate | CellStatus::EngineLost => {
            Verdict::Error
        }
        CellStatus::Skipped => Verdict::Skipped,
        CellStatus::PreflightFailed => Verdict::PreflightFailed,
        CellStatus::ServerDown => Verdict::Down,
        CellStatus::Unresponsive => Verdict::Unresponsive,
        CellStatus::Interrupted => Verdict::Interrupted,
        CellStatus::Completed if cell.is_disqualified() => Verdict::Failed,
        CellStatus::Completed if cell.stalls.as_ref().is_some_and(|s| s.count > 0) => {
            Verdict::Stalled
        }
        CellStatus::Completed => Verdict::Held,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(status: CellStatus, failure_ratio: f64, stalls: u64) -> Cell {
        let mut cell = Cell::named("s", "1", "T", status);
        cell.failure_ratio = failure_ratio;
        cell.stalls = Some(Stalls {
            count: stalls,
            ..Stalls::default()
        });
        cell
    }

    #[test]
    fn a_completed_cell_is_failed_stalled_or_held_in_that_order() {
        assert_eq!(
            verdict(&cell(CellStatus::Completed, 0.2, 3)),
            Verdict::Failed
        );
        assert_eq!(
            verdict(&cell(CellStatus::Completed, 0.05, 1)),
            Verdict::Stalled
        );
        assert_eq!(
            verdict(&cell(CellStatus::Completed, 0.05, 0)),
            Verdict::Held
        );
        assert_eq!(
            verdict(&cell(CellStatus::ServerDown, 0.0, 0)),
            Verdict::Down
        );
        assert_eq!(verdict(&cell(CellStatus::NoLoad, 0.0, 0)), Verdict::Error);
    }

    #[test]
    fn a_graceful_stop_has_the_stops_verdict_whatever_its_failures() {
        let stop = |graceful| {
            let mut cell = cell(CellStatus::ServerDown, 0.9, 0);
            cell.faults.push(crate::results::FaultRecord {
                action: "graceful-stop".into(),
                declared: String::new(),
                planned_at_secs: 2.0,
                late_secs: 0.0,
                at_secs: 2.0,
                until_secs: None,
                target: None,
                error: None,
                innocent_lost_during: 0,
                innocent_lost_after: 0,
                recovered_after_secs: None,
                expected_per_sec_before: None,
                expected_per_sec_during: None,
                slow: None,
                graceful: Some(crate::results::GracefulRecord {
                    graceful,
                    ..Default::default()
                }),
            });
            cell
        };
        assert_eq!(verdict(&stop(Some(true))), Verdict::Graceful);
        // Thresholds judge the stop, not the refusals after it.
        let thresholds = crate::plan::Thresholds {
            max_failure_ratio: Some(0.01),
            max_innocent_failure_ratio: Some(0.01),
        };
        let mut graceful = stop(Some(true));
        graceful.verdict = Some(verdict(&graceful));
        assert_eq!(
            graceful.threshold_failures(&thresholds),
            Vec::<String>::new()
        );
        let mut abrupt = stop(Some(false));
        abrupt.verdict = Some(verdict(&abrupt));
        assert_eq!(abrupt.threshold_failures(&thresholds).len(), 1);
        assert_eq!(verdict(&stop(Some(false))), Verdict::Abrupt);
        // Nothing in hand at SIGTERM: the rule for every cell.
        assert_eq!(verdict(&stop(None)), Verdict::Down);
        let mut late = stop(Some(true));
        late.status = CellStatus::FaultLate;
        assert_eq!(verdict(&late), Verdict::Error);
    }

    #[test]
    fn worse_is_earlier_and_only_among_verdicts_of_the_server() {
        assert!(Verdict::Stalled.worse_than(Verdict::Held));
        assert!(Verdict::Down.worse_than(Verdict::Failed));
        assert!(!Verdict::Held.worse_than(Verdict::Stalled));
        assert!(!Verdict::Interrupted.worse_than(Verdict::Held));
        assert!(!Verdict::Error.worse_than(Verdict::Skipped));
    }
}
