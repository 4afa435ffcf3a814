//! How much load a cell sends, and how.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How much load a client sends, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadSpec {
    /// Requests in all, split evenly over the connections; `None`: until
    /// the duration ends.
    pub requests: Option<u64>,
    /// How long to send; with `requests` too, whichever ends first.
    #[serde(default, with = "crate::units::duration_secs_option")]
    #[schemars(with = "Option<f64>")]
    pub duration: Option<Duration>,
    /// Open loop: requests per second over all connections, each request
    /// on a schedule (wrk2-style); `None`: each connection sends its next
    /// request as soon as the last one ends.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Connections at once.
    pub concurrency: usize,
    /// Worker processes the connections are spread over.
    #[serde(default = "one")]
    pub processes: usize,
    /// Longest wait for one complete answer.
    #[serde(with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub timeout: Duration,
    /// The load stops when nothing came back as expected for this long:
    /// the server is unresponsive (a wedged single-process server would
    /// otherwise cost a timeout per request); `None`: never.
    #[serde(default, with = "crate::units::duration_secs_option")]
    #[schemars(with = "Option<f64>")]
    pub give_up_after: Option<Duration>,
    /// Reuse connections (HTTP keep-alive). Off, each request gets its own
    /// connection and asks for `Connection: close`, as the seed's client
    /// and nginx's default upstream did.
    #[serde(default)]
    pub keep_alive: bool,
    /// End the load once its answer is known (the client's settle rule):
    /// the failure share's interval wholly on one side of the seed's 10%
    /// and the rate's narrow. Off for a test with faults or a behaviour
    /// that adds up (see `TestSpec::may_settle`).
    #[serde(default)]
    pub settle: bool,
    /// The least stretch in which innocent requests waited with none
    /// coming back that counts as a stall (a cell within 10% with one is
    /// `stalled`).
    #[serde(default = "default_stall", with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub stall: Duration,
}

fn default_stall() -> Duration {
    super::options::DEFAULT_STALL
}

fn one() -> usize {
    1
}

/// The number of CPUs, the seed's number of request processes.
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for LoadSpec {
    /// A bench cell's load when nothing is said (see `plan::options`,
    /// where every default is written).
    fn default() -> Self {
        super::options::LoadOptions::default()
            .resolve(super::options::LoadDefaults::BENCH)
            .expect("the defaults make a load")
    }
}

impl LoadSpec {
    /// The load in words: `1000 requests over 8 connections, within 45.0 s`.
    pub(crate) fn describe(&self) -> String {
        let mut text = match (self.requests, self.duration) {
            (Some(requests), _) => format!("{requests} requests"),
            (None, Some(duration)) => format!("{:.1} s", duration.as_secs_f64()),
            (None, None) => "no requests".into(),
        };
        text.push_str(&format!(" over {} connections", self.concurrency));
        if self.processes > 1 {
            text.push_str(&format!(" in {} processes", self.processes));
        }
        if let Some(rate) = self.rate {
            text.push_str(&format!(" at {rate} req/s"));
        }
        if let (Some(_), Some(duration)) = (self.requests, self.duration) {
            text.push_str(&format!(", within {:.1} s", duration.as_secs_f64()));
        }
        text
    }
}
