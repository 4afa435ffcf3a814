//! The request client: `concurrency` keep-alive connections, each a
//! self-contained worker loop that picks behaviours by the test's policy,
//! sends them, judges each outcome and counts it in its own [`Tally`].
//! The tallies merge at the end; nothing is stored per request.

mod connection;
pub mod tally;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use connection::{Connection, Exchange, WORKER_HEADER, exchange};
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
}

/// After a refused connection, a worker waits this long before its next
/// request, so a server that is restarting is not met by thousands of
/// refused requests in a millisecond (each still counts as a failure).
pub const REFUSED_PAUSE: Duration = Duration::from_millis(10);

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
    let started_wall = SystemTime::now();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in split(load) {
        let test = Arc::clone(&test);
        let cancel = cancel.clone();
        let timeout = load.timeout;
        tasks.push(tokio::spawn(async move {
            worker_loop(&test, &worker, address, timeout, seed, started, &cancel).await
        }));
    }
    let mut tally = Tally::new(test.mix.len());
    for task in tasks {
        let worker_tally = task.await.expect("a client worker never panics");
        tally.merge(worker_tally);
    }
    ClientRun {
        tally,
        started: started_wall,
        elapsed: started.elapsed(),
        stopped_early: cancel.is_cancelled(),
    }
}

/// One connection's loop: its share of requests, one at a time.
pub async fn worker_loop(
    test: &TestSpec,
    worker: &WorkerSpec,
    address: SocketAddr,
    timeout: Duration,
    seed: u64,
    started: Instant,
    cancel: &CancellationToken,
) -> Tally {
    let weights: Vec<u32> = test.mix.iter().map(|entry| entry.weight).collect();
    let targets: Vec<String> = test
        .mix
        .iter()
        .map(|entry| entry.behaviour.path_and_query())
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
                exchange(&mut slot, address, &targets[mix_index], behaviour.expected_body_len()),
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
        tally.record(Record {
            mix_index,
            outcome: answer.outcome,
            expected: behaviour.is_expected(&answer.outcome),
            latency,
            at: started.elapsed(),
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
        };
        let shares: Vec<u64> = split(&load(10, 4)).iter().map(|w| w.requests).collect();
        assert_eq!(shares, vec![3, 3, 2, 2]);
        let shares: Vec<u64> = split(&load(2, 4)).iter().map(|w| w.requests).collect();
        assert_eq!(shares, vec![1, 1]);
        assert!(split(&load(2, 4)).iter().all(|w| w.workers == 4));
    }
}
