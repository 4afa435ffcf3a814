//! A test: a weighted mix of behaviours, how to pick from it, its load; and
//! the thresholds a cell must meet.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FaultSpec, LoadSpec, UserRequest};
use crate::behaviour::{Behaviour, Interface, Outcome};
use crate::policy::PolicyKind;

/// One behaviour of a test's mix, with its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MixEntry {
    /// What the request asks for.
    pub behaviour: Behaviour,
    /// Relative share of requests.
    pub weight: u32,
    /// A target's own innocent request, sent in the place of `behaviour`
    /// (the innocent `PlainResponse`); `None`: the behaviour is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<UserRequest>,
}

impl MixEntry {
    /// `behaviour` with `weight`.
    pub fn new(behaviour: Behaviour, weight: u32) -> Self {
        MixEntry {
            behaviour,
            weight,
            request: None,
        }
    }

    /// The user's `request` with `weight`, in the place of the innocent
    /// `PlainResponse`.
    pub fn user(request: UserRequest, weight: u32) -> Self {
        MixEntry {
            behaviour: Behaviour::plain(),
            weight,
            request: Some(request),
        }
    }

    /// Its name in reports: the behaviour (`Sleeping?sleep_duration=2`) or
    /// the user's request (`GET /health`).
    pub fn label(&self) -> String {
        match &self.request {
            Some(request) => request.name.clone(),
            None => self.behaviour.to_string(),
        }
    }

    /// Whether its failures are the innocent ones.
    pub fn is_innocent(&self) -> bool {
        self.request.is_some() || self.behaviour.is_innocent()
    }

    /// Whether `outcome` is as expected.
    pub fn is_expected(&self, outcome: &Outcome) -> bool {
        match &self.request {
            Some(request) => *outcome == Outcome::Status(request.status),
            None => self.behaviour.is_expected(outcome),
        }
    }

    /// What counts as expected, in words.
    pub fn expectation(&self) -> String {
        match &self.request {
            Some(request) => request.expectation(),
            None => self.behaviour.expectation(),
        }
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
    pub fn may_settle(&self) -> bool {
        self.faults.is_empty()
            && !self
                .mix
                .iter()
                .any(|m| m.request.is_none() && m.behaviour.accumulates())
    }

    /// Why this test means nothing to a server of `interface`: the first
    /// behaviour of its mix that interface's application does not have,
    /// and why (a cell of it is skipped with this reason); `None`: it runs.
    pub fn unavailable_under(&self, interface: Interface) -> Option<String> {
        self.mix
            .iter()
            .filter(|e| e.request.is_none())
            .find_map(|entry| {
                entry.behaviour.unavailable_under(interface).map(|why| {
                    format!(
                        "{} asks for {}, which only an ASGI application has: {why}",
                        self.name,
                        entry.behaviour.name()
                    )
                })
            })
    }

    /// The first behaviour of its mix that only labour's application has
    /// (every entry but the user's own requests), `None` when its mix is
    /// the user's requests alone.
    pub fn needs_behaviour(&self) -> Option<&Behaviour> {
        self.mix
            .iter()
            .find(|entry| entry.request.is_none() && entry.weight > 0)
            .map(|entry| &entry.behaviour)
    }

    /// This test with every innocent `PlainResponse` of its mix (the plain
    /// 200) replaced by `requests`, each with its weight: the ratios
    /// between the innocent part and the rest are kept exactly (the rest's
    /// weights are multiplied by the requests' total). `Err` when the
    /// weights would not fit the policies' counts.
    pub fn with_requests(&self, requests: &[(UserRequest, u32)]) -> Result<TestSpec, String> {
        let total: u64 = requests.iter().map(|(_, weight)| u64::from(*weight)).sum();
        let mut mix = Vec::new();
        for entry in &self.mix {
            if entry.request.is_none() && entry.behaviour == Behaviour::plain() {
                for (request, weight) in requests {
                    mix.push((
                        MixEntry::user(request.clone(), 0),
                        u64::from(entry.weight) * u64::from(*weight),
                    ));
                }
            } else {
                mix.push((entry.clone(), u64::from(entry.weight) * total));
            }
        }
        // The smallest weights with the same ratios.
        let gcd = mix
            .iter()
            .map(|(_, weight)| *weight)
            .filter(|weight| *weight > 0)
            .fold(0u64, |a, b| {
                let (mut a, mut b) = (a, b);
                while b != 0 {
                    (a, b) = (b, a % b);
                }
                a
            })
            .max(1);
        for (_, weight) in &mut mix {
            *weight /= gcd;
        }
        let sum: u64 = mix.iter().map(|(_, weight)| weight).sum();
        if sum > u64::from(u32::MAX) {
            return Err(format!(
                "test {}: its weights times the requests' weights pass {}",
                self.name,
                u32::MAX
            ));
        }
        let mut test = self.clone();
        test.mix = mix
            .into_iter()
            .map(|(mut entry, weight)| {
                entry.weight = weight as u32;
                entry
            })
            .collect();
        Ok(test)
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
