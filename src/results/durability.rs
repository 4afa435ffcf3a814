//! What the server process did during a cell: the engine's events (deaths,
//! OOM kills, restarts), how fast requests came back as expected after each
//! death, how long nothing did, and the container's resource use.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Outages kept in detail per cell; the count and total cover them all.
pub(crate) const OUTAGES_KEPT: usize = 50;

/// When an event happened relative to the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the first request.
    Startup,
    /// While requests were being sent.
    Load,
    /// After labour asked the server to stop.
    Teardown,
}

/// What the engine (or the local runtime's supervision) reported.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventAction {
    /// The container was created.
    Create,
    /// Its main process started (again, after a death).
    Start,
    /// Its main process died (`exit_code` says how).
    Die,
    /// The kernel's OOM killer killed a process in it.
    Oom,
    /// A signal was sent to it (`signal` says which).
    Kill,
    /// The engine restarted it.
    Restart,
    /// It was stopped.
    Stop,
    /// It was removed.
    Destroy,
    /// It was paused (frozen).
    Pause,
    /// It was unpaused.
    Unpause,
    /// Anything else the engine says, by its name.
    Other(String),
}

impl EventAction {
    /// The action called `name` by the engine.
    pub(crate) fn named(name: &str) -> Self {
        match name {
            "create" => EventAction::Create,
            "start" => EventAction::Start,
            "die" => EventAction::Die,
            "oom" => EventAction::Oom,
            "kill" => EventAction::Kill,
            "restart" => EventAction::Restart,
            "stop" => EventAction::Stop,
            "destroy" => EventAction::Destroy,
            "pause" => EventAction::Pause,
            "unpause" => EventAction::Unpause,
            other => EventAction::Other(other.to_string()),
        }
    }

    /// Its name, as the engine writes it.
    pub(crate) fn name(&self) -> &str {
        match self {
            EventAction::Create => "create",
            EventAction::Start => "start",
            EventAction::Die => "die",
            EventAction::Oom => "oom",
            EventAction::Kill => "kill",
            EventAction::Restart => "restart",
            EventAction::Stop => "stop",
            EventAction::Destroy => "destroy",
            EventAction::Pause => "pause",
            EventAction::Unpause => "unpause",
            EventAction::Other(name) => name,
        }
    }
}

impl fmt::Display for EventAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for EventAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EventAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(EventAction::named(&String::deserialize(deserializer)?))
    }
}

impl JsonSchema for EventAction {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EventAction".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "create, start, die, oom, kill, restart, stop, destroy, pause, unpause, or another action the engine names",
            "type": "string"
        })
    }
}

/// One engine event about the cell's container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventRecord {
    /// Seconds since the load started (negative: before it).
    pub at_secs: f64,
    /// Startup, load or teardown.
    pub phase: Phase,
    /// The engine's action: start, die, oom, kill, stop, destroy...
    pub action: EventAction,
    /// Exit code, for `die`.
    pub exit_code: Option<i64>,
    /// Signal, for `kill`.
    pub signal: Option<String>,
    /// The container's log tail when it died, for `die`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
}

/// One death during the load, and the way back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recovery {
    /// Seconds since the load started.
    pub died_at_secs: f64,
    /// The exit code it died with.
    pub exit_code: Option<i64>,
    /// Seconds until a request next came back as expected; `None` when
    /// none did before the load ended.
    pub recovered_after_secs: Option<f64>,
}

/// A stretch in which requests failed and none came back as expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outage {
    /// Seconds since the load started: the first failure.
    pub from_secs: f64,
    /// The next answer as expected, or the end of the load.
    pub to_secs: f64,
    /// Whether it lasted to the end of the load.
    pub until_end: bool,
}

/// The durability figures of one cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Durability {
    /// Container deaths during the load.
    pub dies: u64,
    /// OOM kills during the load.
    pub oom_kills: u64,
    /// Restarts during the load (a start after a death).
    pub restarts: u64,
    /// The engine's restart count when the cell ended.
    pub restart_count: u64,
    /// Per death during the load.
    pub recoveries: Vec<Recovery>,
    /// Median of the recovery times of the deaths that recovered.
    pub time_to_recover_median_secs: Option<f64>,
    /// Longest recovery time of the deaths that recovered.
    pub time_to_recover_max_secs: Option<f64>,
    /// Seconds during which requests failed and none came back as expected.
    pub downtime_secs: f64,
    /// How many such stretches.
    pub outages: u64,
    /// The first 50 of them.
    pub outage_list: Vec<Outage>,
    /// When the server went down for good (it died and the restart policy
    /// did not bring it back), seconds since the load started.
    pub down_at_secs: Option<f64>,
    /// When the load gave up on an unresponsive server: the last answer as
    /// expected, seconds since the load started.
    pub unresponsive_since_secs: Option<f64>,
    /// Resolution of recovery and downtime figures, in milliseconds.
    pub resolution_ms: u64,
}

/// One resource sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceSample {
    /// Seconds since the load started.
    pub at_secs: f64,
    /// Memory in use, page cache excluded.
    pub memory_bytes: u64,
    /// CPU use since the previous sample, percent of one CPU.
    pub cpu_percent: Option<f64>,
}

impl Resources {
    /// The peak memory: the kernel's where the engine reports it, the
    /// highest sample otherwise.
    pub fn peak(&self) -> Option<u64> {
        self.memory_peak_bytes.or(self.memory_max_sampled_bytes)
    }
}

/// The container's resource use during a cell, from the stats API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Resources {
    /// About one a second.
    pub samples: Vec<ResourceSample>,
    /// Highest sampled memory use, page cache excluded.
    pub memory_max_sampled_bytes: Option<u64>,
    /// The kernel's own peak memory use (page cache included), where the
    /// engine reports it (cgroup v1).
    pub memory_peak_bytes: Option<u64>,
    /// Mean of the CPU samples.
    pub cpu_mean_percent: Option<f64>,
    /// Highest CPU sample.
    pub cpu_max_percent: Option<f64>,
}
