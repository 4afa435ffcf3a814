//! Worker processes, as the seed forked them: labour starts itself again as
//! a hidden subcommand, each process a current-thread tokio runtime driving
//! its share of the connections. The parent sends the job as one JSON line
//! on stdin (then `stop` to end early); each process answers with progress
//! lines and, last, its tally. A process that dies is reported, never
//! hidden.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::mix::Mix;
use super::tally::Tally;
use super::worker::{Prepared, Shared, WorkerContext, WorkerSpec, worker_loop};
use crate::plan::LoadSpec;

/// The hidden subcommand that runs a worker process.
pub(crate) const WORKER_SUBCOMMAND: &str = "load-worker";
/// How often a worker process reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Time the processes get to start before the load begins.
const START_DELAY: Duration = Duration::from_millis(50);

/// What one worker process is asked to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    /// Where the server listens.
    pub address: SocketAddr,
    /// What to send.
    pub mix: Mix,
    /// How.
    pub load: LoadSpec,
    /// Seed of the policies.
    pub seed: u64,
    /// This process's connections.
    pub workers: Vec<WorkerSpec>,
    /// When the load starts, nanoseconds since the Unix epoch: every
    /// process measures from the same moment.
    pub start_unix_nanos: u64,
    /// Instants to watch, since the load started: what was in flight
    /// around each is kept (a graceful stop's).
    #[serde(default)]
    pub marks: Vec<Duration>,
}

/// CPU time and peak memory of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Usage {
    /// User and system CPU seconds.
    pub cpu_secs: f64,
    /// Peak resident memory in bytes.
    pub peak_rss_bytes: u64,
}

impl Usage {
    /// This process's own usage so far.
    pub(crate) fn of_self() -> Usage {
        // SAFETY: getrusage only writes the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return Usage::default();
        }
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Usage {
            cpu_secs: secs(usage.ru_utime) + secs(usage.ru_stime),
            peak_rss_bytes: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        }
    }

    /// `self` and `other` together: CPU adds up, and so does the memory
    /// of processes that run side by side.
    pub(crate) fn plus(self, other: Usage) -> Usage {
        Usage {
            cpu_secs: self.cpu_secs + other.cpu_secs,
            peak_rss_bytes: self.peak_rss_bytes + other.peak_rss_bytes,
        }
    }
}

/// One line a worker process writes. Externally tagged: an internally
/// tagged enum would buffer the tally, and integer map keys do not survive
/// serde's buffering.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Message {
    Progress {
        done: u64,
        failed: u64,
        last_expected_ms: u64,
    },
    Done {
        tally: Box<Tally>,
        usage: Usage,
    },
}

fn unix_nanos(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The local instant for a Unix-nanosecond moment.
fn local_instant(unix_nanos: u64) -> Instant {
    let at = UNIX_EPOCH + Duration::from_nanos(unix_nanos);
    let now = Instant::now();
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) => now + ahead,
        Err(behind) => now.checked_sub(behind.duration()).unwrap_or(now),
    }
}

/// Run `job`'s connections in this process until done or `stop`.
pub(crate) async fn run_job(
    job: &Job,
    started: Instant,
    stop: &CancellationToken,
    shared: &Shared,
) -> Tally {
    let prepared = match Prepared::new(&job.mix, job.load.keep_alive) {
        Ok(prepared) => prepared,
        Err(_) => return Tally::new(job.mix.items.len()).watching(&job.marks),
    };
    tokio::time::sleep_until(started.into()).await;
    let tally = Mutex::new(Tally::new(job.mix.items.len()).watching(&job.marks));
    let context = WorkerContext {
        address: job.address,
        mix: &job.mix,
        prepared: &prepared,
        load: &job.load,
        seed: job.seed,
        started,
        stop,
        shared,
        tally: &tally,
    };
    let loops = job
        .workers
        .iter()
        .map(|worker| worker_loop(worker, &context));
    futures_util::future::join_all(loops).await;
    tally.into_inner().expect("a tally is never poisoned")
}

/// The hidden subcommand: read a job on stdin, run it, write progress and
/// the tally on stdout. `stop` on stdin, or stdin closing, ends it early.
pub(crate) fn serve_job() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let job: Job = serde_json::from_str(&line)?;
    let stop = CancellationToken::new();
    let watcher = stop.clone();
    std::thread::spawn(move || {
        // Anything but a line that is not "stop" ends the job: "stop", an
        // error, or the parent closing the pipe.
        let mut line = String::new();
        loop {
            line.clear();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(n) if n > 0 && line.trim() != "stop" => continue,
                _ => break,
            }
        }
        watcher.cancel();
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let started = local_instant(job.start_unix_nanos);
    let shared = Arc::new(Shared::default());
    let tally = runtime.block_on(async {
        let reporter = {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(PROGRESS_EVERY);
                loop {
                    ticks.tick().await;
                    let message = Message::Progress {
                        done: shared.done(),
                        failed: shared.failed(),
                        last_expected_ms: u64::try_from(shared.last_expected().as_millis())
                            .unwrap_or(u64::MAX),
                    };
                    if write_line(&message).is_err() {
                        break;
                    }
                }
            })
        };
        let tally = run_job(&job, started, &stop, &shared).await;
        reporter.abort();
        tally
    });
    write_line(&Message::Done {
        tally: Box::new(tally),
        usage: Usage::of_self(),
    })?;
    Ok(())
}

fn write_line(message: &Message) -> std::io::Result<()> {
    let mut text = serde_json::to_string(message)?;
    text.push('\n');
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// What the worker processes of one run produced.
#[derive(Debug)]
pub(crate) struct ProcessesRun {
    /// Their tallies, merged.
    pub tally: Tally,
    /// Their CPU and memory, together.
    pub usage: Usage,
    /// Every process that died or did not report, and how.
    pub failures: Vec<String>,
    /// When the load started.
    pub started: SystemTime,
    /// How long it ran.
    pub elapsed: Duration,
}

/// The progress of each process, summed into `shared`.
struct Counts {
    per_process: Mutex<Vec<(u64, u64, u64)>>,
}

impl Counts {
    fn update(&self, index: usize, counts: (u64, u64, u64), shared: &Shared) {
        let mut all = self.per_process.lock().unwrap();
        all[index] = counts;
        let done = all.iter().map(|c| c.0).sum();
        let failed = all.iter().map(|c| c.1).sum();
        let last = all.iter().map(|c| c.2).max().unwrap_or(0);
        shared.set(done, failed, Duration::from_millis(last));
    }
}

/// Run `workers` spread over `processes` copies of `exe`.
pub(crate) async fn run_processes(
    exe: &Path,
    template: Job,
    processes: usize,
    stop: &CancellationToken,
    shared: &Shared,
) -> ProcessesRun {
    let start = SystemTime::now() + START_DELAY;
    let local_start = Instant::now() + START_DELAY;
    shared.set_started(local_start);
    let mut shares: Vec<Vec<WorkerSpec>> = vec![Vec::new(); processes];
    for (position, worker) in template.workers.iter().enumerate() {
        shares[position % processes].push(*worker);
    }
    let counts = Arc::new(Counts {
        per_process: Mutex::new(vec![(0, 0, 0); processes]),
    });
    let children = shares.into_iter().enumerate().map(|(index, workers)| {
        let job = Job {
            workers,
            start_unix_nanos: unix_nanos(start),
            ..template.clone()
        };
        let counts = Arc::clone(&counts);
        async move { drive(exe, index, &job, stop, shared, &counts).await }
    });
    let mut tally = Tally::new(template.mix.items.len()).watching(&template.marks);
    let mut usage = Usage::default();
    let mut failures = Vec::new();
    for result in futures_util::future::join_all(children).await {
        match result {
            Ok((child_tally, child_usage)) => {
                tally.merge(child_tally);
                usage = usage.plus(child_usage);
            }
            Err(failure) => failures.push(failure),
        }
    }
    ProcessesRun {
        tally,
        usage,
        failures,
        started: start,
        elapsed: local_start.elapsed(),
    }
}

/// Start one worker process, feed it its job, follow it to the end.
async fn drive(
    exe: &Path,
    index: usize,
    job: &Job,
    stop: &CancellationToken,
    shared: &Shared,
    counts: &Counts,
) -> Result<(Tally, Usage), String> {
    let name = format!("load worker process {index}");
    // A process group of its own: a terminal's Ctrl-C reaches labour, which
    // stops the workers itself and still collects their counts. Should
    // labour die, their stdin closes and they stop.
    let mut child = Command::new(exe)
        .arg(WORKER_SUBCOMMAND)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{name} could not start ({}): {e}", exe.display()))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut line = serde_json::to_string(job).map_err(|e| format!("{name}: {e}"))?;
    line.push('\n');
    stdin
        .write_all(line.as_bytes())
        .await
        .map_err(|e| format!("{name} would not take its job: {e}"))?;
    let mut stdin = Some(stdin);
    let mut lines = BufReader::new(stdout).lines();
    let mut finished = None;
    loop {
        let next = tokio::select! {
            _ = stop.cancelled(), if stdin.is_some() => {
                if let Some(mut pipe) = stdin.take() {
                    let _ = pipe.write_all(b"stop\n").await;
                }
                continue;
            }
            next = lines.next_line() => next,
        };
        match next {
            Ok(Some(text)) => match serde_json::from_str::<Message>(&text) {
                Ok(Message::Progress {
                    done,
                    failed,
                    last_expected_ms,
                }) => counts.update(index, (done, failed, last_expected_ms), shared),
                Ok(Message::Done { tally, usage }) => finished = Some((*tally, usage)),
                Err(error) => return Err(format!("{name} wrote something else: {error}")),
            },
            Ok(None) | Err(_) => break,
        }
    }
    drop(stdin);
    let status = child.wait().await.map_err(|e| format!("{name}: {e}"))?;
    let errors = errors.await.unwrap_or_default();
    match finished {
        Some(result) if status.success() => Ok(result),
        _ => {
            let last = errors.lines().last().unwrap_or("").trim().to_string();
            Err(format!(
                "{name} ended with {status}{} before reporting its counts",
                if last.is_empty() {
                    String::new()
                } else {
                    format!(" ({last})")
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::Outcome;
    use crate::client::tally::Record;

    #[test]
    fn a_done_line_carries_the_whole_tally() {
        let mut tally = Tally::new(1);
        tally.record(Record {
            id: 0,
            mix_index: 0,
            outcome: Outcome::Status(200),
            expected: true,
            innocent: true,
            latency: Duration::from_millis(1003),
            headers_after: Some(Duration::from_millis(1002)),
            corrected: None,
            late: false,
            at: Duration::from_millis(1007),
            worker_pid: Some(4242),
            detail: None,
            // A connect that waited for a SYN retry: the stall crosses
            // the pipe with the rest.
            connect: Some(Duration::from_millis(1001)),
        });
        tally.connection_ended(Duration::from_millis(4), Duration::from_millis(1007));
        let line = serde_json::to_string(&Message::Done {
            tally: Box::new(tally),
            usage: Usage::of_self(),
        })
        .unwrap();
        let Message::Done { tally, usage } = serde_json::from_str(&line).unwrap() else {
            panic!("a Done line reads back as Done");
        };
        assert_eq!(tally.requests(), 1);
        assert_eq!(
            tally.worker_pids.keys().copied().collect::<Vec<_>>(),
            [4242]
        );
        assert_eq!((tally.connects, tally.connect_stalls()), (1, 1));
        assert_eq!(tally.connect_stalled_time(), Duration::from_millis(1001));
        assert_eq!(tally.all_stalled_time(), Duration::from_millis(1001));
        assert!(usage.peak_rss_bytes > 0);
    }

    #[test]
    fn every_process_measures_from_the_same_moment() {
        // A moment a minute ahead maps to a local instant about a minute
        // ahead (the wide margin is for a loaded machine, not a timing).
        let start = SystemTime::now() + Duration::from_secs(60);
        let local = local_instant(unix_nanos(start));
        let ahead = local.duration_since(Instant::now());
        assert!(ahead > Duration::from_secs(50) && ahead <= Duration::from_secs(60));
    }
}
