//! What the client counted, as a cell's load figures: counts, latencies,
//! the timeline, stalls and the client's own costs; and `labour load`'s
//! results from the same counts.

use super::*;

/// The connections a load opened and those that stalled, as a cell's
/// client record and `labour load`'s results both keep them.
pub(super) fn connects(tally: &Tally) -> Connects {
    Connects {
        count: tally.connects,
        time: summary(&tally.connect_times),
        stalls: tally.connect_stalls(),
        stalled_secs: secs(tally.connect_stalled_time()),
    }
}

pub(super) fn summary(latency: &Latency) -> LatencySummary {
    LatencySummary::from_micros(&latency.0)
}

/// A cell with what the load measured: how it ended, the counts,
/// latencies, timeline and the client's own figures.
pub(super) fn loaded(
    server: &str,
    version: &str,
    test: &TestSpec,
    client: &ClientRun,
    halted: Option<Halted>,
) -> Cell {
    let ended_by = match client.ended {
        _ if halted == Some(Halted::Interrupted) => EndedBy::Interrupted,
        _ if halted == Some(Halted::EngineLost) => EndedBy::EngineLost,
        LoadEnd::Stopped => EndedBy::ServerDown,
        LoadEnd::GaveUp => EndedBy::Unresponsive,
        LoadEnd::Budget => EndedBy::Budget,
        LoadEnd::Duration => EndedBy::Duration,
        LoadEnd::Requests => EndedBy::Requests,
        LoadEnd::Settled => EndedBy::Settled,
    };
    let status = match ended_by {
        EndedBy::Interrupted => CellStatus::Interrupted,
        EndedBy::EngineLost => CellStatus::EngineLost,
        EndedBy::ServerDown => CellStatus::ServerDown,
        EndedBy::Unresponsive => CellStatus::Unresponsive,
        EndedBy::Budget | EndedBy::Requests | EndedBy::Duration | EndedBy::Settled => {
            CellStatus::Completed
        }
    };
    let mut cell = Cell::named(server, version, &test.name, status);
    cell.timeline.bucket_ms = TIMELINE_BUCKET.as_millis() as u64;
    cell.ended_by = Some(ended_by);
    fill(&mut cell, test, client);
    let all_stalled = client.tally.all_stalled_time();
    cell.client = ClientRecord {
        processes: client.processes,
        cpu_secs: client.usage.map(|u| u.cpu_secs),
        peak_rss_bytes: client.usage.map(|u| u.peak_rss_bytes),
        worker_failures: client.worker_failures.clone(),
        sequence_digest: Some(format!("{:016x}", client.tally.sequence_digest())),
        connects: connects(&client.tally),
        all_stalled_secs: secs(all_stalled),
    };
    cell.requests_per_sec_excluding_stalls =
        rate_excluding(cell.requests, client.elapsed, all_stalled);
    cell.stalls = Some(stalls(&client.tally, client.elapsed, test.load().stall));
    // The timeline runs to the end of the load, not to the last answer: a
    // freeze at the end is drawn.
    let buckets = client
        .elapsed
        .as_millis()
        .div_ceil(TIMELINE_BUCKET.as_millis()) as usize;
    if cell.timeline.expected.len() < buckets {
        cell.timeline.expected.resize(buckets, 0);
        cell.timeline.failed.resize(buckets, 0);
    }
    cell
}

/// The stretches of the load in which innocent requests waited and none
/// came back, of at least `threshold`.
pub(super) fn stalls(tally: &Tally, elapsed: Duration, threshold: Duration) -> Stalls {
    let resolution = AVAILABILITY_RESOLUTION.as_secs_f64();
    let runs = tally.innocent_waiting_ms.runs_unless(
        &tally.innocent_back_ms,
        (threshold.as_secs_f64() / resolution).ceil() as usize,
        (elapsed.as_secs_f64() / resolution).ceil() as usize,
    );
    let secs = |ms: usize| ms as f64 * resolution;
    let total: f64 = runs.iter().map(|(from, to)| secs(to - from)).sum();
    Stalls {
        threshold_secs: threshold.as_secs_f64(),
        count: runs.len() as u64,
        longest_secs: runs
            .iter()
            .map(|(from, to)| secs(to - from))
            .fold(0.0, f64::max),
        total_secs: total,
        share_of_load: if elapsed.is_zero() {
            0.0
        } else {
            total / elapsed.as_secs_f64()
        },
        waiting_at_end: tally.innocent_waiting_at_end,
        list: runs
            .iter()
            .take(STALLS_KEPT)
            .map(|&(from, to)| StallRecord {
                from_secs: secs(from),
                to_secs: secs(to),
            })
            .collect(),
    }
}

/// `requests` over the load's wall time less the time in which every
/// connection waited in a stalled connect; `None` when nothing is left.
pub(super) fn rate_excluding(
    requests: u64,
    elapsed: Duration,
    all_stalled: Duration,
) -> Option<f64> {
    let left = elapsed.saturating_sub(all_stalled);
    (!left.is_zero()).then(|| requests as f64 / left.as_secs_f64())
}

/// Fill `cell`'s load figures from what the client counted.
pub(super) fn fill(cell: &mut Cell, test: &TestSpec, client: &ClientRun) {
    let tally = &client.tally;
    let open_loop = test.load().rate.is_some();
    for (entry, counted) in test.mix.iter().zip(&tally.behaviours) {
        let requests = counted.requests();
        if entry.is_innocent() {
            cell.innocent_requests += requests;
            cell.innocent_failed += requests - counted.expected;
        }
        cell.behaviours.push(BehaviourResult {
            behaviour: entry.label(),
            innocent: entry.is_innocent(),
            weight: entry.weight,
            expectation: entry.expectation(),
            requests,
            expected: counted.expected,
            outcomes: counted
                .outcomes
                .iter()
                .map(|(outcome, count)| (*outcome, *count))
                .collect(),
            unexpected: counted
                .outcomes
                .iter()
                .filter(|(outcome, _)| !entry.is_expected(outcome))
                .map(|(outcome, count)| (*outcome, *count))
                .collect(),
            latency: summary(&counted.latency),
            headers_latency: summary(&counted.headers),
            corrected_latency: open_loop.then(|| summary(&counted.corrected)),
            connect_stalls: counted.connect_stalls,
        });
    }
    let mut innocent = (Latency::default(), Latency::default());
    let mut misbehaving = (Latency::default(), Latency::default());
    for (entry, counted) in test.mix.iter().zip(&tally.behaviours) {
        let into = if entry.is_innocent() {
            &mut innocent
        } else {
            &mut misbehaving
        };
        into.0.merge(&counted.latency);
        into.1.merge(&counted.corrected);
    }
    cell.latency = LatencySplit {
        innocent: summary(&innocent.0),
        misbehaving: summary(&misbehaving.0),
        innocent_corrected: open_loop.then(|| summary(&innocent.1)),
        misbehaving_corrected: open_loop.then(|| summary(&misbehaving.1)),
        late_starts: tally.late_starts,
    };
    cell.requests = tally.requests();
    cell.expected = tally.expected();
    cell.failed = cell.requests - cell.expected;
    cell.failure_ratio = ratio(cell.failed, cell.requests);
    cell.innocent_failure_ratio = ratio(cell.innocent_failed, cell.innocent_requests);
    cell.duration_secs = secs(client.elapsed);
    cell.requests_per_sec = if client.elapsed.is_zero() {
        0.0
    } else {
        cell.requests as f64 / cell.duration_secs
    };
    cell.workers_seen = tally
        .worker_pids
        .iter()
        .map(|(pid, at)| WorkerSeen {
            pid: *pid,
            first_seen_secs: secs(*at),
        })
        .collect();
    cell.timeline.expected = tally.timeline.iter().map(|bucket| bucket.0).collect();
    cell.timeline.failed = tally.timeline.iter().map(|bucket| bucket.1).collect();
    cell.failure_samples = tally
        .samples
        .iter()
        .map(|sample| FailureSample {
            at_secs: secs(sample.at),
            behaviour: test.mix[sample.mix_index].label(),
            outcome: sample.outcome,
            worker_pid: sample.worker_pid,
            detail: sample.detail.clone(),
        })
        .collect();
}

/// `labour load`'s results: what the client counted against `url`, the
/// load as `load` asked it, `usage` the client's costs (its processes and
/// labour's own).
pub(crate) fn load_results(
    url: &str,
    load: crate::plan::LoadSpec,
    run: &ClientRun,
    usage: crate::client::Usage,
) -> crate::results::LoadResults {
    let tally = &run.tally;
    let counted = &tally.behaviours[0];
    crate::results::LoadResults {
        labour_version: env!("CARGO_PKG_VERSION").to_string(),
        url: url.to_string(),
        requests: tally.requests(),
        expected: tally.expected(),
        failed: tally.requests() - tally.expected(),
        duration_secs: run.elapsed.as_secs_f64(),
        requests_per_sec: tally.requests() as f64 / run.elapsed.as_secs_f64().max(1e-9),
        outcomes: counted
            .outcomes
            .iter()
            .map(|(outcome, count)| (*outcome, *count))
            .collect(),
        latency: summary(&counted.latency),
        headers_latency: summary(&counted.headers),
        corrected_latency: load.rate.map(|_| summary(&counted.corrected)),
        late_starts: tally.late_starts,
        connects: connects(tally),
        processes: run.processes,
        client_cpu_secs: usage.cpu_secs,
        client_peak_rss_bytes: usage.peak_rss_bytes,
        failure_samples: tally
            .samples
            .iter()
            .map(|s| format!("{:.3} s: {}", s.at.as_secs_f64(), s.detail))
            .collect(),
        worker_failures: run.worker_failures.clone(),
        load,
    }
}
