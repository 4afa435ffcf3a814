//! A test: a weighted mix of behaviours, how to pick from it, its load; and
//! the thresholds a cell must meet.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FaultSpec, LoadSpec};
use crate::behaviour::{Behaviour, Interface};
use crate::policy::PolicyKind;

/// One behaviour of a test's mix, with its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MixEntry {
    /// What the request asks for.
    pub behaviour: Behaviour,
    /// Relative share of requests.
    pub weight: u32,
}

impl MixEntry {
    /// `behaviour` with `weight`.
    pub fn new(behaviour: Behaviour, weight: u32) -> Self {
        MixEntry { behaviour, weight }
    }
}

/// A test: a weighted mix of behaviours and how to pick from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestSpec {
    /// Name, CamelCase as in the seed (`Plain`, `SIGSEGV`).
    pub name: String,
    /// One line for listings.
    pub description: String,
    /// How workers pick from the mix.
    pub policy: PolicyKind,
    /// The behaviours and their weights.
    pub mix: Vec<MixEntry>,
    /// Load for this test, when it differs from the run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadSpec>,
    /// Its headline is throughput: its cells run with nothing else loading
    /// the host (no other cell, no image build). Cells of other tests
    /// mostly wait on sleeping, wedged or respawning workers, and share it.
    #[serde(default)]
    pub throughput: bool,
    /// Faults from outside the application during the load, in the order
    /// they were declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
    /// How long the load of a test with faults runs (its request count
    /// does not end it); `None`: past its faults' first firings by
    /// the recovery window (4 s).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::units::duration_secs_option"
    )]
    #[schemars(with = "Option<f64>")]
    pub runs_for: Option<std::time::Duration>,
}

impl TestSpec {
    /// The load this test runs with.
    pub fn load(&self) -> LoadSpec {
        let mut load = self.load.clone().unwrap_or_default();
        load.settle &= self.may_settle();
        load
    }

    /// Whether its cells may end once their answer is known: not with
    /// faults (their load runs to see the server recover), nor with a
    /// behaviour whose effect adds up over the load.
    pub(crate) fn may_settle(&self) -> bool {
        self.faults.is_empty() && !self.mix.iter().any(|m| m.behaviour.accumulates())
    }

    /// Why this test means nothing to a server of `interface`: the first
    /// behaviour of its mix that interface's application does not have,
    /// and why (a cell of it is skipped with this reason); `None`: it runs.
    pub(crate) fn unavailable_under(&self, interface: Interface) -> Option<String> {
        self.mix.iter().find_map(|entry| {
            entry.behaviour.unavailable_under(interface).map(|why| {
                format!(
                    "{} asks for {}, which only an ASGI application has: {why}",
                    self.name,
                    entry.behaviour.name()
                )
            })
        })
    }

    /// How long the load of a test with faults runs unless the run says:
    /// its own `runs_for`, else until [`super::fault::RECOVERY_WINDOW`]
    /// after the last fault's first firing has ended.
    pub(crate) fn fault_duration(&self) -> std::time::Duration {
        use super::fault::{Lasts, RECOVERY_WINDOW};
        self.runs_for.unwrap_or_else(|| {
            let last_end = self
                .faults
                .iter()
                .map(|fault| match fault.action.lasts() {
                    Lasts::For(duration) => fault.at + duration,
                    Lasts::Instant | Lasts::ToTheEnd => fault.at,
                })
                .max()
                .unwrap_or_default();
            last_end + RECOVERY_WINDOW
        })
    }
}

/// Limits on a cell's failures; a cell past one fails the run (exit 1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Thresholds {
    /// Largest share of requests not as expected.
    pub max_failure_ratio: Option<f64>,
    /// Largest share of innocent requests that failed.
    pub max_innocent_failure_ratio: Option<f64>,
}

impl Thresholds {
    /// Whether any threshold is set.
    pub(crate) fn any(&self) -> bool {
        self.max_failure_ratio.is_some() || self.max_innocent_failure_ratio.is_some()
    }
}
