//! What the server process did: the engine's events phased against the
//! load, deaths and recoveries, outages, memory and CPU.

use super::*;

/// The engine's events as records, phased against the load.
pub(super) fn event_records(stopped: &StoppedServer, load_started: SystemTime) -> Vec<EventRecord> {
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
                action: EventAction::named(&event.action),
                exit_code: event.exit_code,
                signal: event.signal.clone(),
                log_tail: event.log_tail.clone(),
            }
        })
        .collect()
}

pub(super) fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Stretches in which requests failed and none came back as expected,
/// from the per-millisecond record of a load that lasted `load_ms`.
pub(super) fn outages(ok: &MsBits, failed: &MsBits, load_ms: usize) -> Vec<Outage> {
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
pub(super) fn durability(
    events: &[EventRecord],
    stopped: &StoppedServer,
    load_started: SystemTime,
    ok: &MsBits,
    failed: &MsBits,
    load_ms: usize,
) -> Durability {
    let resolution_ms = AVAILABILITY_RESOLUTION.as_millis() as u64;
    let during_load = |action: EventAction| {
        events
            .iter()
            .filter(|e| e.phase == Phase::Load && e.action == action)
            .count() as u64
    };
    let recoveries: Vec<Recovery> = events
        .iter()
        .filter(|e| e.phase == Phase::Load && e.action == EventAction::Die)
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
        oom_kills: during_load(EventAction::Oom),
        restarts: during_load(EventAction::Start) + during_load(EventAction::Restart),
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
pub(super) fn resources(
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
