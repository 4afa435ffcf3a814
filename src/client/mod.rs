//! The request client: `concurrency` keep-alive connections, each a
//! self-contained worker loop that picks behaviours by the test's policy,
//! sends them, judges each outcome and counts it in its own [`Tally`].
//! The tallies merge at the end; nothing is stored per request.

mod connection;
mod preflight;
pub mod tally;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use connection::{Connection, Exchange, Target, WORKER_HEADER, exchange};
pub use preflight::{PreflightCheck, preflight};
pub use tally::{Record, Tally};

use crate::behaviour::{Behaviour, Outcome};
use crate::policy::Policy;
use crate::scenario::TestSpec;

/// How much load a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadSpec {
    /// Requests in all, split evenly over the connections.
    pub requests: u64,
    /// Connections kept open at once.
    pub concurrency: usize,
    /// Longest wait for one complete answer.
    #[serde(with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub timeout: Duration,
    /// The load stops when nothing came back as expected for this long:
    /// the server is unresponsive (a wedged single-process server would
    /// otherwise cost a timeout per request).
    #[serde(with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub give_up_after: Duration,
    /// Reuse connections (HTTP keep-alive). Off, each request gets its own
    /// connection and asks for `Connection: close`, as the seed's client
    /// and nginx's default upstream did.
    #[serde(default)]
    pub keep_alive: bool,
}

/// After a refused connection, a worker waits this long before its next
/// request, so a server that is restarting is not met by thousands of
/// refused requests in a millisecond (each still counts as a failure).
pub const REFUSED_PAUSE: Duration = Duration::from_millis(10);

impl Default for LoadSpec {
    /// labour's defaults: 1000 requests over 8 connections, 30 s timeout,
    /// give up after 60 s without an answer as expected.
    fn default() -> Self {
        LoadSpec {
            requests: 1000,
            concurrency: 8,
            timeout: Duration::from_secs(30),
            give_up_after: Duration::from_secs(60),
            keep_alive: false,
        }
    }
}

/// What one client run measured.
#[derive(Debug, Clone)]
pub struct ClientRun {
    /// Everything counted; times are relative to `started`.
    pub tally: Tally,
    /// When the load started, by the wall clock (to line up with events).
    pub started: SystemTime,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// Whether the run was cut short by its cancellation token.
    pub stopped_early: bool,
    /// When the load gave up on an unresponsive server: the time of the
    /// last answer as expected (since the start).
    pub gave_up_at: Option<Duration>,
}

/// How often the give-up watchdog looks.
const WATCHDOG_TICK: Duration = Duration::from_millis(100);

/// What the workers of one run share: when an answer last came back as
/// expected, in milliseconds since the start.
#[derive(Debug, Default)]
pub struct Shared {
    last_expected_ms: AtomicU64,
}

impl Shared {
    fn expected_at(&self, at: Duration) {
        let ms = u64::try_from(at.as_millis()).unwrap_or(u64::MAX);
        self.last_expected_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn last_expected(&self) -> Duration {
        Duration::from_millis(self.last_expected_ms.load(Ordering::Relaxed))
    }
}

/// One worker loop's share of a client run.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// This worker's number, from 0.
    pub index: usize,
    /// Workers in the whole run (the policy offsets by it).
    pub workers: usize,
    /// Requests this worker sends.
    pub requests: u64,
}

/// Split `load.requests` over `load.concurrency` workers, the remainder to
/// the first ones.
pub fn split(load: &LoadSpec) -> Vec<WorkerSpec> {
    let workers = load.concurrency.max(1);
    let base = load.requests / workers as u64;
    let extra = (load.requests % workers as u64) as usize;
    (0..workers)
        .map(|index| WorkerSpec {
            index,
            workers,
            requests: base + u64::from(index < extra),
        })
        .filter(|worker| worker.requests > 0)
        .collect()
}

/// Send `test`'s mix to `address` as `load` says, seeded by `seed`, until
/// done or `cancel` is cancelled.
pub async fn run(
    test: &TestSpec,
    address: SocketAddr,
    load: &LoadSpec,
    seed: u64,
    cancel: &CancellationToken,
) -> ClientRun {
    let test = Arc::new(test.clone());
    let shared = Arc::new(Shared::default());
    // The workers stop on `cancel`, or when the watchdog gives up.
    let stop = cancel.child_token();
    let started_wall = SystemTime::now();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in split(load) {
        let (test, shared, stop) = (Arc::clone(&test), Arc::clone(&shared), stop.clone());
        let (timeout, keep_alive) = (load.timeout, load.keep_alive);
        tasks.push(tokio::spawn(async move {
            let context = WorkerContext {
                address,
                timeout,
                keep_alive,
                seed,
                started,
                stop: &stop,
                shared: &shared,
            };
            worker_loop(&test, &worker, &context).await
        }));
    }
    let done = CancellationToken::new();
    let watchdog = {
        let (shared, stop, done) = (Arc::clone(&shared), stop.clone(), done.clone());
        let give_up_after = load.give_up_after;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = done.cancelled() => return None,
                    _ = stop.cancelled() => return None,
                    _ = tokio::time::sleep(WATCHDOG_TICK) => {}
                }
                let last = shared.last_expected();
                if started.elapsed().saturating_sub(last) > give_up_after {
                    stop.cancel();
                    return Some(last);
                }
            }
        })
    };
    let mut tally = Tally::new(test.mix.len());
    for task in tasks {
        let worker_tally = task.await.expect("a client worker never panics");
        tally.merge(worker_tally);
    }
    let elapsed = started.elapsed();
    done.cancel();
    let gave_up_at = watchdog.await.unwrap_or(None);
    ClientRun {
        tally,
        started: started_wall,
        elapsed,
        stopped_early: cancel.is_cancelled(),
        gave_up_at,
    }
}

/// What a worker loop needs besides its share.
#[derive(Debug, Clone, Copy)]
pub struct WorkerContext<'a> {
    /// Where the server listens.
    pub address: SocketAddr,
    /// Longest wait for one answer.
    pub timeout: Duration,
    /// Reuse connections.
    pub keep_alive: bool,
    /// Seed of the policy.
    pub seed: u64,
    /// When the run started; every time is relative to it.
    pub started: Instant,
    /// Stops the loop after the current request.
    pub stop: &'a CancellationToken,
    /// State shared with the other workers.
    pub shared: &'a Shared,
}

/// One connection's loop: its share of requests, one at a time.
pub async fn worker_loop(
    test: &TestSpec,
    worker: &WorkerSpec,
    context: &WorkerContext<'_>,
) -> Tally {
    let WorkerContext {
        address,
        timeout,
        keep_alive,
        seed,
        started,
        stop: cancel,
        shared,
    } = *context;
    let weights: Vec<u32> = test.mix.iter().map(|entry| entry.weight).collect();
    let paths: Vec<String> = test
        .mix
        .iter()
        .map(|entry| entry.behaviour.path_and_query())
        .collect();
    let uploads: Vec<Option<Bytes>> = test
        .mix
        .iter()
        .map(|entry| {
            let len = entry.behaviour.upload_len()?;
            Some(Bytes::from(vec![
                b'u';
                usize::try_from(len).unwrap_or(usize::MAX)
            ]))
        })
        .collect();
    let mut policy = Policy::new(test.policy, &weights, seed, worker.index, worker.workers);
    let mut tally = Tally::new(test.mix.len());
    let mut slot: Option<Connection> = None;
    for _ in 0..worker.requests {
        let mix_index = policy.next_index();
        let behaviour: &Behaviour = &test.mix[mix_index].behaviour;
        let begin = Instant::now();
        let answer = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            answer = tokio::time::timeout(
                timeout,
                exchange(
                    &mut slot,
                    address,
                    Target {
                        path: &paths[mix_index],
                        upload: uploads[mix_index].as_ref(),
                        keep_alive,
                        body_check: behaviour.body_check(),
                    },
                ),
            ) => answer,
        };
        let latency = begin.elapsed();
        let answer = answer.unwrap_or_else(|_| {
            slot = None;
            Exchange {
                outcome: Outcome::Timeout,
                worker_pid: None,
                detail: Some(format!(
                    "no complete answer within {:.1} s",
                    timeout.as_secs_f64()
                )),
            }
        });
        let refused = answer.outcome == Outcome::Refused;
        let expected = behaviour.is_expected(&answer.outcome);
        let at = started.elapsed();
        if expected {
            shared.expected_at(at);
        }
        tally.record(Record {
            mix_index,
            outcome: answer.outcome,
            expected,
            latency,
            at,
            worker_pid: answer.worker_pid,
            detail: answer.detail,
        });
        if refused {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(REFUSED_PAUSE) => {}
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_spreads_the_remainder_and_skips_idle_workers() {
        let load = |requests, concurrency| LoadSpec {
            requests,
            concurrency,
            timeout: Duration::from_secs(1),
            give_up_after: Duration::from_secs(60),
            keep_alive: false,
        };
        let shares: Vec<u64> = split(&load(10, 4)).iter().map(|w| w.requests).collect();
        assert_eq!(shares, vec![3, 3, 2, 2]);
        let shares: Vec<u64> = split(&load(2, 4)).iter().map(|w| w.requests).collect();
        assert_eq!(shares, vec![1, 1]);
        assert!(split(&load(2, 4)).iter().all(|w| w.workers == 4));
    }
}
