//! The request client: `concurrency` connections, each a self-contained
//! worker loop that picks requests by the mix's policy, sends them (as
//! fast as answers come, or on a schedule at a given rate), judges each
//! outcome and counts it in its own [`Tally`]. With `processes` above one
//! the connections are spread over worker processes, as the seed did. The
//! tallies merge at the end; nothing is stored per request.

mod chunked;
mod connection;
mod mix;
mod preflight;
pub(crate) mod process;
pub(crate) mod settle;
pub(crate) mod slow;
pub(crate) mod tally;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::plan::LoadSpec;

pub(crate) use mix::Mix;
pub(crate) use preflight::{PreflightCheck, preflight};
pub(crate) use process::Usage;
pub(crate) use tally::Tally;
pub(crate) use worker::{Shared, split};

use process::{Job, run_job, run_processes};

/// After a refused connection, a closed-loop worker waits this long before
/// its next request, so a server that is restarting is not met by
/// thousands of refused requests in a millisecond (each still counts as a
/// failure).
pub(crate) const REFUSED_PAUSE: Duration = Duration::from_millis(10);

/// Why a load ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadEnd {
    /// Every request was sent and its outcome counted.
    Requests,
    /// Its time ([`LoadSpec::duration`]) ran out first.
    Budget,
    /// It had no request count and ran for its duration, as planned.
    Duration,
    /// Nothing came back as expected for [`LoadSpec::give_up_after`].
    GaveUp,
    /// Its cancellation token was cancelled (the server went down for
    /// good, or the run was interrupted).
    Stopped,
    /// Its answer was known before its end (see [`settle`]).
    Settled,
}

/// What one client run measured.
#[derive(Debug, Clone)]
pub(crate) struct ClientRun {
    /// Everything counted; times are relative to `started`.
    pub tally: Tally,
    /// When the load started, by the wall clock (to line up with events).
    pub started: SystemTime,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// Whether the run was cut short by its cancellation token.
    pub stopped_early: bool,
    /// Why the load ended.
    pub ended: LoadEnd,
    /// When the load gave up on an unresponsive server: the time of the
    /// last answer as expected (since the start).
    pub gave_up_at: Option<Duration>,
    /// Worker processes that died or did not report, and how.
    pub worker_failures: Vec<String>,
    /// CPU time and peak memory of the worker processes (none in-process).
    pub usage: Option<Usage>,
    /// Worker processes used; 1 when the load ran in labour's own process.
    pub processes: usize,
}

/// Where worker processes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Launcher {
    /// Every connection in this process, whatever `processes` says.
    InProcess,
    /// Worker processes started from this executable (labour itself).
    Executable(PathBuf),
}

impl Launcher {
    /// labour's own executable, when it can be found.
    pub(crate) fn current() -> Launcher {
        std::env::current_exe().map_or(Launcher::InProcess, Launcher::Executable)
    }
}

/// How often the give-up watchdog looks.
/// What the watchdog saw.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Watched {
    /// The load ran until its own end.
    Ran,
    /// Nothing came back as expected for the give-up time since the last
    /// answer as expected, at this time of the load.
    GaveUp(Duration),
    /// Its answer was known (see [`settle`]).
    Settled,
}

const WATCHDOG_TICK: Duration = Duration::from_millis(100);

/// Send `mix` to `address` as `load` says, seeded by `seed`, until done or
/// `cancel` is cancelled. `shared` shows the progress as it goes.
pub(crate) async fn run(
    mix: &Mix,
    address: SocketAddr,
    load: &LoadSpec,
    (seed, marks): (u64, &[Duration]),
    cancel: &CancellationToken,
    shared: Arc<Shared>,
    launcher: &Launcher,
) -> ClientRun {
    // The workers stop on `cancel`, or when the watchdog gives up.
    let stop = cancel.child_token();
    let done = CancellationToken::new();
    let watchdog = {
        let (shared, stop, done) = (Arc::clone(&shared), stop.clone(), done.clone());
        let give_up_after = load.give_up_after;
        let settle = load.settle;
        tokio::spawn(async move {
            let mut settling = settle::Settling::default();
            loop {
                tokio::select! {
                    _ = done.cancelled() => return Watched::Ran,
                    _ = stop.cancelled() => return Watched::Ran,
                    _ = tokio::time::sleep(WATCHDOG_TICK) => {}
                }
                // Times count from the load's start, as the workers' do.
                let Some(began) = shared.started() else {
                    continue;
                };
                let elapsed = began.elapsed();
                let last = shared.last_expected();
                if let Some(give_up_after) = give_up_after
                    && elapsed.saturating_sub(last) > give_up_after
                {
                    stop.cancel();
                    return Watched::GaveUp(last);
                }
                if settle && settling.settled(elapsed, shared.done(), shared.failed()) {
                    stop.cancel();
                    return Watched::Settled;
                }
            }
        })
    };
    let job = Job {
        address,
        mix: mix.clone(),
        load: load.clone(),
        seed,
        workers: split(load),
        start_unix_nanos: 0,
        marks: marks.to_vec(),
    };
    let processes = load.processes.clamp(1, job.workers.len().max(1));
    let (tally, started, elapsed, worker_failures, usage) = match launcher {
        Launcher::Executable(exe) if processes > 1 => {
            let run = run_processes(exe, job, processes, &stop, &shared).await;
            (
                run.tally,
                run.started,
                run.elapsed,
                run.failures,
                Some(run.usage),
            )
        }
        _ => {
            let started_wall = SystemTime::now();
            let started = Instant::now();
            shared.set_started(started);
            let tally = run_job(&job, started, &stop, &shared).await;
            (tally, started_wall, started.elapsed(), Vec::new(), None)
        }
    };
    done.cancel();
    let watched = watchdog.await.unwrap_or(Watched::Ran);
    let gave_up_at = match watched {
        Watched::GaveUp(last) => Some(last),
        _ => None,
    };
    let stopped_early = cancel.is_cancelled();
    let ended = if gave_up_at.is_some() {
        LoadEnd::GaveUp
    } else if stopped_early {
        LoadEnd::Stopped
    } else if watched == Watched::Settled {
        LoadEnd::Settled
    } else if load.requests.is_none() && load.duration.is_some() {
        LoadEnd::Duration
    } else if load
        .requests
        .is_none_or(|requests| tally.requests() < requests)
        && load.duration.is_some()
    {
        // Not every request was counted and nothing else stopped the load:
        // its time ran out (requests in flight then are not counted).
        LoadEnd::Budget
    } else {
        // Every request was counted, or a worker process died before
        // reporting (`worker_failures` says so).
        LoadEnd::Requests
    };
    ClientRun {
        tally,
        started,
        elapsed,
        stopped_early,
        ended,
        gave_up_at,
        worker_failures,
        processes: if usage.is_some() { processes } else { 1 },
        usage,
    }
}

#[cfg(test)]
mod tests;
