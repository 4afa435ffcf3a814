//! What the load measured in a cell: counts per behaviour and outcome,
//! latencies, worker pids, the timeline and failure samples.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::behaviour::Outcome;

/// Latency of a set of requests, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencySummary {
    /// Requests measured.
    pub count: u64,
    /// Fastest.
    pub min_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl LatencySummary {
    /// Summarise a histogram of microseconds.
    pub(crate) fn from_micros(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return LatencySummary::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        LatencySummary {
            count: histogram.len(),
            min_ms: ms(histogram.min()),
            mean_ms: histogram.mean() / 1000.0,
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p90_ms: ms(histogram.value_at_quantile(0.90)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            p999_ms: ms(histogram.value_at_quantile(0.999)),
            max_ms: ms(histogram.max()),
        }
    }
}

/// What one behaviour of the mix got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BehaviourResult {
    /// `Name?params`, as requested.
    pub behaviour: String,
    /// Whether it is an innocent request (PlainResponse).
    pub innocent: bool,
    /// Its weight in the mix.
    pub weight: u32,
    /// What counts as expected, in words.
    pub expectation: String,
    /// Requests sent.
    pub requests: u64,
    /// Requests that came back as expected.
    pub expected: u64,
    /// Requests per outcome (`status_200`, `reset`, `timeout`...).
    pub outcomes: BTreeMap<Outcome, u64>,
    /// The part of `outcomes` that is not what the behaviour expects.
    pub unexpected: BTreeMap<Outcome, u64>,
    /// Time to the full answer (or the failure), whatever the outcome.
    pub latency: LatencySummary,
    /// Time to the response headers, of requests that got them.
    pub headers_latency: LatencySummary,
    /// Open loop: time from the intended start to the full answer.
    pub corrected_latency: Option<LatencySummary>,
    /// Requests whose connect stalled (waited for the kernel's SYN retry,
    /// see `client.connect_stalls`), whatever their outcome.
    #[serde(default)]
    pub connect_stalls: u64,
}

/// Latency of the innocent requests and of the misbehaving ones, apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencySplit {
    /// Innocent requests (PlainResponse), time to the full answer.
    pub innocent: LatencySummary,
    /// The others.
    pub misbehaving: LatencySummary,
    /// Open loop: innocent requests, from their intended start.
    pub innocent_corrected: Option<LatencySummary>,
    /// Open loop: the others, from their intended start.
    pub misbehaving_corrected: Option<LatencySummary>,
    /// Open loop: requests that started more than 1 ms after their time.
    pub late_starts: u64,
}

/// A worker process that answered, by `X-Labour-Worker`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkerSeen {
    /// Its pid inside the container.
    pub pid: u32,
    /// When its first answer arrived, seconds since the load started.
    pub first_seen_secs: f64,
}

/// Requests per time bucket since the load started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Timeline {
    /// Bucket width in milliseconds.
    pub bucket_ms: u64,
    /// Requests that came back as expected, per bucket.
    pub expected: Vec<u64>,
    /// Requests that did not, per bucket.
    pub failed: Vec<u64>,
}

/// One failure kept as an example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailureSample {
    /// Seconds since the load started.
    pub at_secs: f64,
    /// `Name?params`.
    pub behaviour: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Worker pid, if a response arrived.
    pub worker_pid: Option<u32>,
    /// What went wrong.
    pub detail: String,
}
