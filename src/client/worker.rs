//! One connection's loop: pick a kind of request by the policy, send it
//! (now, or at its scheduled time in open-loop mode), judge the outcome and
//! count it in the worker's own tally. Each request carries its id
//! (`X-Labour-Request`: the connection's index and the request's number on
//! it) and leaves one letter, its fate, in the tally: that is all that is
//! stored per request.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::REFUSED_PAUSE;
use super::connection::{Connection, Exchange, Target, exchange};
use super::mix::Mix;
use super::tally::{Fate, Record, SEQUENCE_START, Tally, request_id, sequence_step};
use crate::behaviour::Outcome;
use crate::plan::LoadSpec;
use crate::policy::Policy;

/// How much later than `timeout` a request may be cut: the request timer
/// is moved on at most once per this much time, not for every request.
pub(super) const TIMER_SLACK: Duration = Duration::from_millis(5);

/// A start later than this after its scheduled time counts as late.
pub(super) const LATE_TOLERANCE: Duration = Duration::from_millis(1);

/// One connection's share of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WorkerSpec {
    /// This connection's number in the whole run, from 0.
    pub index: usize,
    /// Connections in the whole run (the policy offsets by it).
    pub workers: usize,
    /// Requests this connection sends; `None`: until the duration ends.
    pub requests: Option<u64>,
}

/// Split the run's requests over its connections, the remainder to the
/// first ones; connections with nothing to send are left out.
pub(crate) fn split(load: &LoadSpec) -> Vec<WorkerSpec> {
    let workers = load.concurrency.max(1);
    (0..workers)
        .map(|index| WorkerSpec {
            index,
            workers,
            requests: load.requests.map(|requests| {
                let base = requests / workers as u64;
                base + u64::from((index as u64) < requests % workers as u64)
            }),
        })
        .filter(|worker| worker.requests != Some(0))
        .collect()
}

/// What the workers of one process share: counts for progress and the
/// give-up watchdog.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    done: AtomicU64,
    failed: AtomicU64,
    last_expected_ms: AtomicU64,
    started: std::sync::OnceLock<Instant>,
}

impl Shared {
    /// The load starts (started) at `at`: every time the client counts is
    /// since then.
    pub(crate) fn set_started(&self, at: Instant) {
        let _ = self.started.set(at);
    }

    /// When the load starts, once the client has settled it.
    pub(crate) fn started(&self) -> Option<Instant> {
        self.started.get().copied()
    }

    fn count(&self, expected: bool, at: Duration) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if expected {
            let ms = u64::try_from(at.as_millis()).unwrap_or(u64::MAX);
            self.last_expected_ms.fetch_max(ms, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Requests done so far.
    pub(crate) fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Requests not as expected so far.
    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// When an answer last came back as expected, since the start.
    pub(crate) fn last_expected(&self) -> Duration {
        Duration::from_millis(self.last_expected_ms.load(Ordering::Relaxed))
    }

    /// Set the counts from elsewhere (the sum of worker processes).
    pub(crate) fn set(&self, done: u64, failed: u64, last_expected: Duration) {
        self.done.store(done, Ordering::Relaxed);
        self.failed.store(failed, Ordering::Relaxed);
        let ms = u64::try_from(last_expected.as_millis()).unwrap_or(u64::MAX);
        self.last_expected_ms.fetch_max(ms, Ordering::Relaxed);
    }
}

/// The header that carries a request's id to the application, which logs
/// it (`images/app/labour_app.py`): 16 lowercase hex digits.
pub(crate) const REQUEST_ID_HEADER: &str = "X-Labour-Request";
/// Digits of a request id on the wire.
const ID_DIGITS: usize = 16;

/// A mix made ready to send: request heads and upload bodies, built once;
/// each head ends with the request id header, its digits patched in per
/// request.
pub(super) struct Prepared {
    heads: Vec<Vec<u8>>,
    uploads: Vec<Option<Vec<u8>>>,
}

/// `head` with the request id header added, and where its digits start.
fn with_id_header(mut head: Vec<u8>) -> Vec<u8> {
    debug_assert!(head.ends_with(b"\r\n\r\n"));
    head.truncate(head.len() - 2);
    head.extend_from_slice(REQUEST_ID_HEADER.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(&[b'0'; ID_DIGITS]);
    head.extend_from_slice(b"\r\n\r\n");
    head
}

/// Write `id` into `head` (made by [`with_id_header`]) in place.
fn patch_id(head: &mut [u8], id: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = head.len() - 4 - ID_DIGITS;
    for (i, byte) in head[digits..digits + ID_DIGITS].iter_mut().enumerate() {
        *byte = HEX[((id >> (4 * (ID_DIGITS - 1 - i))) & 0xf) as usize];
    }
}

impl Prepared {
    /// The bytes of every kind of request of `mix`.
    pub(super) fn new(mix: &Mix, keep_alive: bool) -> Result<Self, String> {
        if let Some(bad) = mix
            .host
            .chars()
            .find(|c| c.is_control() || c.is_whitespace())
        {
            return Err(format!(
                "{:?} is not a valid Host header ({bad:?})",
                mix.host
            ));
        }
        let mut heads = Vec::new();
        for item in &mix.items {
            if !item.path.starts_with('/') || item.path.chars().any(|c| c.is_control() || c == ' ')
            {
                return Err(format!("{:?} is not a request target", item.path));
            }
            let head = item.head(&mix.host, keep_alive);
            heads.push(match mix.ids {
                true => with_id_header(head),
                false => head,
            });
        }
        let uploads = mix.items.iter().map(|item| item.body()).collect();
        Ok(Prepared { heads, uploads })
    }
}

/// What a worker loop needs besides its share.
#[derive(Clone, Copy)]
pub(super) struct WorkerContext<'a> {
    /// Where the server listens.
    pub address: SocketAddr,
    /// What to send.
    pub mix: &'a Mix,
    /// The mix, parsed.
    pub prepared: &'a Prepared,
    /// How.
    pub load: &'a LoadSpec,
    /// Seed of the policy.
    pub seed: u64,
    /// When the run started; every time is relative to it.
    pub started: Instant,
    /// Stops the loop (the current request is dropped, not counted).
    pub stop: &'a CancellationToken,
    /// Counts shared with the other workers of this process.
    pub shared: &'a Shared,
    /// The tally every worker of this process counts into (one per
    /// process, not per connection: histograms are not small).
    pub tally: &'a Mutex<Tally>,
}

/// Sleep until `at`; `false` when stopped first.
async fn sleep_until(at: Instant, stop: &CancellationToken) -> bool {
    tokio::select! {
        biased;
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep_until(at.into()) => true,
    }
}

/// One connection's loop: its share of requests, one at a time.
pub(super) async fn worker_loop(worker: &WorkerSpec, context: &WorkerContext<'_>) {
    let WorkerContext {
        address,
        mix,
        prepared,
        load,
        seed,
        started,
        stop,
        shared,
        tally,
    } = *context;
    let deadline = load.duration.map(|duration| started + duration);
    // Open loop: this connection's share of the rate, its first request
    // offset by its index so connections do not fire together.
    let interval = load
        .rate
        .filter(|rate| *rate > 0.0)
        .map(|rate| Duration::from_secs_f64(worker.workers as f64 / rate));
    let offset = interval.map_or(Duration::ZERO, |interval| {
        interval.mul_f64(worker.index as f64 / worker.workers as f64)
    });
    let mut policy = Policy::new(
        mix.policy,
        &mix.weights(),
        seed,
        worker.index,
        worker.workers,
    );
    let mut slot: Option<Connection> = None;
    // One timer for the end of the run, not one per request.
    let end = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(end);
    // One registration with the stop token, not one per request.
    let stopped = stop.cancelled();
    tokio::pin!(stopped);
    // One request timer, moved on only when it would fire too early: the
    // timeout fires between `timeout` and `timeout + TIMER_SLACK` after a
    // request began, never before.
    let timer = tokio::time::sleep(load.timeout + TIMER_SLACK);
    tokio::pin!(timer);
    let mut sent: u64 = 0;
    let mut counted: u64 = 0;
    let mut digest = SEQUENCE_START;
    // When this connection sent its first request: from then until its
    // loop ends it is a connection sending.
    let mut first_began: Option<Instant> = None;
    // The request's head with its id, rewritten for every request.
    let mut head = Vec::new();
    let mut fates = String::new();
    loop {
        if worker.requests.is_some_and(|cap| sent >= cap) || stop.is_cancelled() {
            break;
        }
        let intended = interval.map(|interval| started + offset + interval.mul_f64(sent as f64));
        if let Some(intended) = intended
            && !sleep_until(intended, stop).await
        {
            break;
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            break;
        }
        let id = request_id(worker.index, sent);
        sent += 1;
        let index = policy.next_index();
        let item = &mix.items[index];
        head.clear();
        head.extend_from_slice(&prepared.heads[index]);
        if mix.ids {
            patch_id(&mut head, id);
        }
        let target = Target {
            head: &head,
            upload: prepared.uploads[index].as_deref(),
            keep_alive: load.keep_alive,
            body_check: item.body_check,
            body_contains: item.body_contains(),
        };
        let begin = Instant::now();
        first_began.get_or_insert(begin);
        if timer.deadline() < (begin + load.timeout).into() {
            timer
                .as_mut()
                .reset((begin + load.timeout + TIMER_SLACK).into());
        }
        let answer = tokio::select! {
            biased;
            _ = &mut stopped => {
                fates.push(Fate::Waiting.letter(item.innocent));
                unfinished(tally, id, begin.duration_since(started), started.elapsed(), item.innocent);
                break;
            }
            _ = &mut end => {
                fates.push(Fate::Waiting.letter(item.innocent));
                unfinished(tally, id, begin.duration_since(started), started.elapsed(), item.innocent);
                break;
            }
            _ = &mut timer => None,
            answer = exchange(&mut slot, address, target) => Some(answer),
        };
        let done = Instant::now();
        let answer = answer.unwrap_or_else(|| {
            slot = None;
            Exchange::failed(
                Outcome::Timeout,
                format!(
                    "no complete answer within {:.1} s",
                    load.timeout.as_secs_f64()
                ),
            )
        });
        let refused = answer.outcome == Outcome::Refused;
        let expected = item.judge.is_expected(&answer.outcome);
        fates.push(Fate::of(&answer.outcome, expected).letter(item.innocent));
        let at = done.duration_since(started);
        shared.count(expected, at);
        tally
            .lock()
            .expect("a tally is never poisoned")
            .record(Record {
                id,
                mix_index: index,
                outcome: answer.outcome,
                expected,
                innocent: item.innocent,
                latency: done.duration_since(begin),
                headers_after: answer.headers_after,
                corrected: intended.map(|intended| done.duration_since(intended)),
                late: intended
                    .is_some_and(|intended| begin.duration_since(intended) > LATE_TOLERANCE),
                at,
                worker_pid: answer.worker_pid,
                detail: answer.detail,
                connect: answer.connect,
            });
        counted += 1;
        digest = sequence_step(digest, index);
        if refused && interval.is_none() && !sleep_until(Instant::now() + REFUSED_PAUSE, stop).await
        {
            break;
        }
    }
    let mut tally = tally.lock().expect("a tally is never poisoned");
    tally.sequences.insert(worker.index, (counted, digest));
    if !fates.is_empty() {
        tally.fates.insert(worker.index, fates);
    }
    if let Some(first_began) = first_began {
        tally.connection_ended(first_began.duration_since(started), started.elapsed());
    }
}

/// A request still in flight when the load ended: not counted, but seen
/// by the marks it straddles (it did not come back in time).
fn unfinished(tally: &Mutex<Tally>, id: u64, began: Duration, ended: Duration, innocent: bool) {
    tally
        .lock()
        .expect("a tally is never poisoned")
        .unfinished(id, began, ended, innocent);
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::client::connection::request_head;

    #[test]
    fn every_request_carries_its_id_in_the_head() {
        let mut head = with_id_header(request_head("/PlainResponse", "h", None, true));
        patch_id(&mut head, request_id(3, 0x2a));
        let text = String::from_utf8(head).unwrap();
        assert!(
            text.ends_with("\r\nX-Labour-Request: 000000030000002a\r\n\r\n"),
            "{text:?}"
        );
        assert!(text.starts_with("GET /PlainResponse HTTP/1.1\r\n"));
    }

    #[test]
    fn split_spreads_the_remainder_and_skips_idle_workers() {
        let load = |requests, concurrency| LoadSpec {
            requests: Some(requests),
            concurrency,
            ..LoadSpec::default()
        };
        let shares: Vec<Option<u64>> = split(&load(10, 4)).iter().map(|w| w.requests).collect();
        assert_eq!(shares, [Some(3), Some(3), Some(2), Some(2)]);
        let shares: Vec<Option<u64>> = split(&load(2, 4)).iter().map(|w| w.requests).collect();
        assert_eq!(shares, [Some(1), Some(1)]);
        assert!(split(&load(2, 4)).iter().all(|w| w.workers == 4));
        let unbounded = LoadSpec {
            requests: None,
            duration: Some(Duration::from_secs(1)),
            concurrency: 3,
            ..LoadSpec::default()
        };
        assert_eq!(split(&unbounded).len(), 3);
        assert!(split(&unbounded).iter().all(|w| w.requests.is_none()));
    }
}
