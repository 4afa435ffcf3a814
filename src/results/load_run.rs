//! What a `labour load` run measured: the client pointed at any URL.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Connects, LatencySummary};
use crate::behaviour::Outcome;
use crate::plan::LoadSpec;

/// What a `labour load` run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LoadResults {
    /// labour's version.
    pub labour_version: String,
    /// The URL loaded.
    pub url: String,
    /// The load as sent.
    pub load: LoadSpec,
    /// Requests sent.
    pub requests: u64,
    /// Requests answered 2xx.
    pub expected: u64,
    /// Requests that were not.
    pub failed: u64,
    /// Seconds from the first request to the last answer.
    pub duration_secs: f64,
    /// `requests / duration_secs`.
    pub requests_per_sec: f64,
    /// Requests per outcome key.
    pub outcomes: BTreeMap<Outcome, u64>,
    /// Time to the full answer.
    pub latency: LatencySummary,
    /// Time to the response headers.
    pub headers_latency: LatencySummary,
    /// Open loop: from the intended start to the full answer.
    pub corrected_latency: Option<LatencySummary>,
    /// Open loop: requests that started more than 1 ms late.
    pub late_starts: u64,
    /// The connections it opened, and those that stalled (a full listen
    /// queue at the target).
    #[serde(flatten)]
    pub connects: Connects,
    /// Processes that sent the load.
    pub processes: usize,
    /// Their CPU seconds.
    pub client_cpu_secs: f64,
    /// Their peak resident memory, summed.
    pub client_peak_rss_bytes: u64,
    /// The first failures of each kind.
    pub failure_samples: Vec<String>,
    /// Worker processes that died, and how.
    pub worker_failures: Vec<String>,
}
