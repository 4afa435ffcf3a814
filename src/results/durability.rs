//! What the server process did during a cell: the engine's events (deaths,
//! OOM kills, restarts), how fast requests came back as expected after each
//! death, how long nothing did, and the container's resource use.

use std::time::SystemTime;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::client::tally::{AVAILABILITY_RESOLUTION, MsBits};
use crate::runtime::{StatsSample, StoppedServer};

/// Outages kept in detail per cell; the count and total cover them all.
pub const OUTAGES_KEPT: usize = 50;

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

/// One engine event about the cell's container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventRecord {
    /// Seconds since the load started (negative: before it).
    pub at_secs: f64,
    /// Startup, load or teardown.
    pub phase: Phase,
    /// The engine's action: start, die, oom, kill, stop, destroy...
    pub action: String,
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
    /// The first [`OUTAGES_KEPT`] of them.
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

/// Seconds from `origin` to `at`, negative when `at` is earlier.
pub fn secs_since(origin: SystemTime, at: SystemTime) -> f64 {
    match at.duration_since(origin) {
        Ok(after) => after.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

/// The engine's events as records, phased against the load.
pub fn event_records(stopped: &StoppedServer, load_started: SystemTime) -> Vec<EventRecord> {
    let teardown_from = stopped
        .stop_requested_at
        .map(|at| secs_since(load_started, at));
    stopped
        .events
        .iter()
        .map(|event| {
            let at_secs = secs_since(load_started, event.at);
            let phase = if at_secs < 0.0 {
                Phase::Startup
            } else if teardown_from.is_some_and(|from| at_secs >= from) {
                Phase::Teardown
            } else {
                Phase::Load
            };
            EventRecord {
                at_secs,
                phase,
                action: event.action.clone(),
                exit_code: event.exit_code,
                signal: event.signal.clone(),
                log_tail: event.log_tail.clone(),
            }
        })
        .collect()
}

fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Stretches in which requests failed and none came back as expected,
/// from the per-millisecond record of a load that lasted `load_ms`.
pub fn outages(ok: &MsBits, failed: &MsBits, load_ms: usize) -> Vec<Outage> {
    let resolution = AVAILABILITY_RESOLUTION.as_secs_f64();
    let end = load_ms.max(ok.len()).max(failed.len());
    let mut found = Vec::new();
    let mut down_from: Option<usize> = None;
    for ms in 0..end {
        let (good, bad) = (ok.get(ms), failed.get(ms));
        match down_from {
            None if bad && !good => down_from = Some(ms),
            Some(from) if good => {
                found.push(Outage {
                    from_secs: from as f64 * resolution,
                    to_secs: ms as f64 * resolution,
                    until_end: false,
                });
                down_from = None;
            }
            _ => {}
        }
    }
    if let Some(from) = down_from {
        found.push(Outage {
            from_secs: from as f64 * resolution,
            to_secs: load_ms.max(from + 1) as f64 * resolution,
            until_end: true,
        });
    }
    found
}

/// The durability figures from the engine's events and the client's
/// per-millisecond record of answers.
pub fn durability(
    events: &[EventRecord],
    stopped: &StoppedServer,
    load_started: SystemTime,
    ok: &MsBits,
    failed: &MsBits,
    load_ms: usize,
) -> Durability {
    let resolution_ms = AVAILABILITY_RESOLUTION.as_millis() as u64;
    let during_load = |action: &str| {
        events
            .iter()
            .filter(|e| e.phase == Phase::Load && e.action == action)
            .count() as u64
    };
    let recoveries: Vec<Recovery> = events
        .iter()
        .filter(|e| e.phase == Phase::Load && e.action == "die")
        .map(|death| {
            // The first millisecond wholly after the death with an answer
            // as expected.
            let died_ms = (death.at_secs * 1000.0 / resolution_ms as f64).floor() as usize;
            let back = ok.next_set(died_ms + 1);
            Recovery {
                died_at_secs: death.at_secs,
                exit_code: death.exit_code,
                recovered_after_secs: back
                    .map(|ms| (ms as f64 * resolution_ms as f64 / 1000.0 - death.at_secs).max(0.0)),
            }
        })
        .collect();
    let mut times: Vec<f64> = recoveries
        .iter()
        .filter_map(|r| r.recovered_after_secs)
        .collect();
    times.sort_by(f64::total_cmp);
    let stretches = outages(ok, failed, load_ms);
    Durability {
        dies: recoveries.len() as u64,
        oom_kills: during_load("oom"),
        restarts: during_load("start") + during_load("restart"),
        restart_count: stopped.restart_count,
        time_to_recover_median_secs: median(&times),
        time_to_recover_max_secs: times.last().copied(),
        recoveries,
        downtime_secs: stretches
            .iter()
            .fold(0.0, |total, o| total + (o.to_secs - o.from_secs)),
        outages: stretches.len() as u64,
        outage_list: stretches.into_iter().take(OUTAGES_KEPT).collect(),
        down_at_secs: stopped.down_at.map(|at| secs_since(load_started, at)),
        unresponsive_since_secs: None,
        resolution_ms,
    }
}

/// Resource use from the stats samples read before `until` (labour's stop
/// request: a server shutting down is not using what it used).
pub fn resources(
    samples: &[StatsSample],
    load_started: SystemTime,
    until: Option<SystemTime>,
) -> Resources {
    let samples: Vec<&StatsSample> = samples
        .iter()
        .filter(|s| until.is_none_or(|until| s.at < until))
        .collect();
    let cpu: Vec<f64> = samples.iter().filter_map(|s| s.cpu_percent).collect();
    Resources {
        samples: samples
            .iter()
            .map(|s| ResourceSample {
                at_secs: secs_since(load_started, s.at),
                memory_bytes: s.memory_bytes,
                cpu_percent: s.cpu_percent,
            })
            .collect(),
        memory_max_sampled_bytes: samples.iter().map(|s| s.memory_bytes).max(),
        memory_peak_bytes: samples.iter().filter_map(|s| s.memory_peak_bytes).max(),
        cpu_mean_percent: (!cpu.is_empty()).then(|| cpu.iter().sum::<f64>() / cpu.len() as f64),
        cpu_max_percent: cpu.iter().copied().max_by(f64::total_cmp),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::runtime::ServerEvent;

    fn bits(marks: &[usize]) -> MsBits {
        let mut bits = MsBits::default();
        for &ms in marks {
            bits.set(ms);
        }
        bits
    }

    fn event(origin: SystemTime, at_ms: u64, action: &str, exit_code: Option<i64>) -> ServerEvent {
        ServerEvent {
            at: origin + Duration::from_millis(at_ms),
            action: action.into(),
            exit_code,
            signal: None,
            log_tail: Vec::new(),
        }
    }

    #[test]
    fn outages_run_from_the_first_failure_to_the_next_success() {
        let ok = bits(&[0, 1, 2, 10, 11, 30]);
        let failed = bits(&[3, 4, 5, 20, 40]);
        let found = outages(&ok, &failed, 50);
        assert_eq!(found.len(), 3);
        assert_eq!((found[0].from_secs, found[0].to_secs), (0.003, 0.010));
        assert_eq!((found[1].from_secs, found[1].to_secs), (0.020, 0.030));
        assert_eq!((found[2].from_secs, found[2].to_secs), (0.040, 0.050));
        assert!(found[2].until_end && !found[0].until_end);
    }

    #[test]
    fn a_millisecond_with_a_success_is_not_down() {
        let ok = bits(&[5]);
        let failed = bits(&[5, 6]);
        let found = outages(&ok, &failed, 7);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].from_secs, 0.006);
    }

    #[test]
    fn recovery_is_the_next_success_after_each_death() {
        let origin = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let stopped = StoppedServer {
            restart_count: 2,
            stop_requested_at: Some(origin + Duration::from_millis(900)),
            events: vec![
                event(origin, 0, "start", None).clone(),
                ServerEvent {
                    at: origin - Duration::from_millis(50),
                    ..event(origin, 0, "start", None)
                },
                event(origin, 100, "die", Some(139)),
                event(origin, 250, "start", None),
                event(origin, 400, "oom", None),
                event(origin, 400, "die", Some(137)),
                event(origin, 950, "die", Some(143)),
            ],
            ..StoppedServer::default()
        };
        let records = event_records(&stopped, origin);
        assert_eq!(records[1].phase, Phase::Startup);
        assert_eq!(records[6].phase, Phase::Teardown);
        let ok = bits(&[50, 300, 301]);
        let failed = bits(&[100, 200, 450]);
        let durability = durability(&records, &stopped, origin, &ok, &failed, 900);
        // "start" at 0 ms counts as load (it is not before the load).
        assert_eq!(durability.restarts, 2);
        assert_eq!(durability.dies, 2);
        assert_eq!(durability.oom_kills, 1);
        assert_eq!(durability.restart_count, 2);
        let back: Vec<Option<f64>> = durability
            .recoveries
            .iter()
            .map(|r| r.recovered_after_secs.map(|s| (s * 1000.0).round()))
            .collect();
        assert_eq!(back, [Some(200.0), None]);
        assert_eq!(
            durability
                .time_to_recover_max_secs
                .map(|s| (s * 1000.0).round()),
            Some(200.0)
        );
        assert_eq!(durability.outages, 2);
        let downtime_ms = (durability.downtime_secs * 1000.0).round();
        assert_eq!(downtime_ms, 200.0 + 450.0);
    }

    #[test]
    fn resources_summarise_the_samples() {
        let origin = SystemTime::UNIX_EPOCH;
        let sample = |ms, memory, peak, cpu| StatsSample {
            at: origin + Duration::from_millis(ms),
            memory_bytes: memory,
            memory_peak_bytes: peak,
            cpu_percent: cpu,
        };
        let summary = resources(
            &[
                sample(0, 10, None, None),
                sample(1000, 30, Some(40), Some(50.0)),
                sample(2000, 20, Some(35), Some(100.0)),
                sample(3000, 1, Some(99), Some(1.0)),
            ],
            origin,
            Some(origin + Duration::from_millis(2500)),
        );
        assert_eq!(summary.memory_max_sampled_bytes, Some(30));
        assert_eq!(summary.memory_peak_bytes, Some(40));
        assert_eq!(summary.cpu_mean_percent, Some(75.0));
        assert_eq!(summary.cpu_max_percent, Some(100.0));
        assert_eq!(summary.samples[2].at_secs, 2.0);
        assert_eq!(
            summary.samples.len(),
            3,
            "samples after the stop request are left out"
        );
    }
}
