//! What each fault of a cell did and what it cost: when it was carried out
//! and on what, the innocent requests lost while it lasted and after it,
//! how long until requests came back as expected; for slow connections
//! what they met, for a graceful stop what became of the requests in
//! flight.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How late a firing may land before its cell is no measurement of its
/// test: past it, the fault hit the server at another moment of the load
/// than the one declared, and cells of two servers would not compare.
pub(crate) const LATE_FIRING: f64 = 0.5;

/// One firing of a fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FaultRecord {
    /// The action: `kill-worker`, `stop-worker`, `pause`, `restart`,
    /// `slow-clients`, `slow-readers` or `graceful-stop`.
    pub action: String,
    /// The fault as the test declares it, in words.
    pub declared: String,
    /// Seconds since the load began when it was due, as the test declares.
    #[serde(default)]
    pub planned_at_secs: f64,
    /// Seconds from when it was due until it landed (a restart: began).
    /// A firing later than half a second is not the test's fault: its
    /// cell says so (status `fault_late`).
    #[serde(default)]
    pub late_secs: f64,
    /// Seconds since the load began when it was carried out.
    pub at_secs: f64,
    /// When it was undone or ended (a thaw, an unpause, a restart's end,
    /// slow connections closed); `None` for an instant.
    pub until_secs: Option<f64>,
    /// What it reached: `pid 8 (gunicorn), 1 of 2 worker(s)`, `the
    /// container`, `20 connection(s)`.
    pub target: Option<String>,
    /// Why it could not be carried out, or undone.
    pub error: Option<String>,
    /// Innocent requests that failed between `at_secs` and `until_secs`
    /// (10 ms buckets).
    pub innocent_lost_during: u64,
    /// Innocent requests that failed from its end until the next answer as
    /// expected (or the next fault, or the load's end).
    pub innocent_lost_after: u64,
    /// Seconds from its end to the next answer as expected; `None` when
    /// none came before the load ended.
    pub recovered_after_secs: Option<f64>,
    /// Answers as expected a second in the second before it (whole 100 ms
    /// buckets of the timeline).
    pub expected_per_sec_before: Option<f64>,
    /// Answers as expected a second while it lasted (the second after it,
    /// for an instant).
    pub expected_per_sec_during: Option<f64>,
    /// What slow connections met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow: Option<SlowRecord>,
    /// What a graceful stop did to the requests in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graceful: Option<GracefulRecord>,
}

/// What a fault's slow connections met.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SlowRecord {
    /// Connections the server accepted.
    pub opened: u64,
    /// Connections refused, or not accepted within 5 s.
    pub refused: u64,
    /// Connections the server closed before the load ended.
    pub closed_by_server: u64,
    /// Connections still open when the load ended (labour closed them).
    pub open_at_end: u64,
    /// Bytes sent over all of them.
    pub bytes_sent: u64,
    /// Bytes read over all of them.
    pub bytes_read: u64,
    /// The median time the server let a connection live before closing it.
    pub closed_after_median_secs: Option<f64>,
}

/// What a graceful stop (SIGTERM while requests were in flight) did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GracefulRecord {
    /// Requests in flight when the server got SIGTERM (counted with those
    /// still in flight when the load ended, which did not complete); `None`
    /// when the client did not watch the moment (it came more than 0.5 s
    /// off plan).
    pub in_flight: Option<u64>,
    /// Of them, those that still came back as expected.
    pub in_flight_completed: Option<u64>,
    /// Seconds from SIGTERM to the server's exit; `None` when it had not
    /// exited when the load ended.
    pub exited_after_secs: Option<f64>,
    /// Seconds from SIGTERM to the first refused connection before the
    /// exit; `None` when it refused none meanwhile.
    pub refused_after_secs: Option<f64>,
    /// Requests the application had started and not finished at SIGTERM,
    /// from its own log; `None` without one.
    #[serde(default)]
    pub in_hand: Option<u64>,
    /// Of them, those the application finished.
    #[serde(default)]
    pub in_hand_finished: Option<u64>,
    /// Of them, those that came back as expected.
    #[serde(default)]
    pub in_hand_came_back: Option<u64>,
    /// Requests in flight at SIGTERM that never reached the application
    /// and failed: queued in the kernel (or the server), then reset.
    #[serde(default)]
    pub queued_reset: Option<u64>,
    /// Whether the stop was graceful: every request in hand finished and
    /// came back as expected, and the server exited; refusals after the
    /// stop are expected, not failures. `None` when the application had
    /// nothing in hand (or kept no log): the stop asked nothing.
    #[serde(default)]
    pub graceful: Option<bool>,
}
