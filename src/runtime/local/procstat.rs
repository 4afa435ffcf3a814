//! Resource use of a local server from /proc: memory and CPU of every
//! process in its process group.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::supervise::Seen;
use crate::runtime::StatsSample;

/// Time between two samples, as for containers.
const STATS_INTERVAL: Duration = Duration::from_millis(250);

/// One reading of a process group.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    pgid: i32,
    /// Proportional set size summed over the group: shared pages are
    /// shared out, so forked workers are not counted twice.
    memory_bytes: u64,
    /// User and system CPU time of the group, and of its reaped children,
    /// in clock ticks.
    cpu_ticks: u64,
    at: Instant,
}

/// Read every process of group `pgid`; `None` when it has none.
fn read_group(pgid: i32) -> Option<Reading> {
    let page = procfs::page_size();
    let mut memory = 0;
    let mut ticks = 0;
    let mut members = 0;
    for process in procfs::process::all_processes().ok()?.flatten() {
        let Ok(stat) = process.stat() else { continue };
        if stat.pgrp != pgid {
            continue;
        }
        members += 1;
        ticks += stat.utime + stat.stime + stat.cutime.max(0) as u64 + stat.cstime.max(0) as u64;
        let pss = process.smaps_rollup().ok().and_then(|rollup| {
            rollup
                .memory_map_rollup
                .0
                .first()
                .and_then(|map| map.extension.map.get("Pss").copied())
        });
        memory += pss.unwrap_or(stat.rss * page);
    }
    (members > 0).then(|| Reading {
        pgid,
        memory_bytes: memory,
        cpu_ticks: ticks,
        at: Instant::now(),
    })
}

/// CPU use between two readings of the same group, in percent of one CPU;
/// `None` across a restart (another group) or when the counters went back.
fn cpu_percent(before: Reading, now: Reading, ticks_per_second: u64) -> Option<f64> {
    if before.pgid != now.pgid {
        return None;
    }
    let ticks = now.cpu_ticks.checked_sub(before.cpu_ticks)? as f64;
    let wall = now.at.duration_since(before.at).as_secs_f64();
    (wall > 0.0).then(|| ticks / ticks_per_second.max(1) as f64 / wall * 100.0)
}

/// Sample the group `seen` says is running until `stop`.
pub(super) fn sample(seen: Arc<Seen>, stop: CancellationToken) -> JoinHandle<Vec<StatsSample>> {
    tokio::spawn(async move {
        let ticks_per_second = procfs::ticks_per_second();
        let mut samples = Vec::new();
        let mut previous: Option<Reading> = None;
        while !stop.is_cancelled() {
            let pgid = seen.pgid.load(Ordering::SeqCst);
            let reading = if pgid > 0 {
                tokio::task::spawn_blocking(move || read_group(pgid))
                    .await
                    .ok()
                    .flatten()
            } else {
                None
            };
            if let Some(now) = reading {
                samples.push(StatsSample {
                    at: SystemTime::now(),
                    memory_bytes: now.memory_bytes,
                    memory_peak_bytes: None,
                    cpu_percent: previous
                        .and_then(|before| cpu_percent(before, now, ticks_per_second)),
                });
                previous = Some(now);
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(STATS_INTERVAL) => {}
            }
        }
        samples
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_group_has_memory_and_cpu() {
        // SAFETY: getpgrp has no preconditions.
        let pgid = unsafe { libc::getpgrp() };
        let reading = read_group(pgid).expect("the test's own group has members");
        assert!(reading.memory_bytes > 1024 * 1024, "{reading:?}");
        assert_eq!(read_group(i32::MAX), None);
    }

    #[test]
    fn cpu_use_is_ticks_over_wall_time() {
        let at = Instant::now();
        let before = Reading {
            pgid: 7,
            memory_bytes: 0,
            cpu_ticks: 100,
            at,
        };
        let now = Reading {
            cpu_ticks: 150,
            at: at + Duration::from_secs(1),
            ..before
        };
        assert_eq!(cpu_percent(before, now, 100), Some(50.0));
        assert_eq!(cpu_percent(before, Reading { pgid: 8, ..now }, 100), None);
        assert_eq!(cpu_percent(now, before, 100), None);
    }
}
