//! Supervising one local server: its process group, started, restarted as
//! the restart policy says, stopped with escalation; events in the shape
//! Docker reports them (start, die with exit code, kill, stop).

use std::collections::{HashSet, VecDeque};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::plan::RestartPolicy;
use crate::runtime::{LOG_TAIL_LINES, ServerEvent};

/// First pause before a restart; doubled for each restart in a row, as
/// Docker does.
const FIRST_RESTART_DELAY: Duration = Duration::from_millis(100);
/// Longest pause before a restart.
const LONGEST_RESTART_DELAY: Duration = Duration::from_secs(60);
/// A run this long resets the restart delay (Docker: 10 s).
const RESET_DELAY_AFTER: Duration = Duration::from_secs(10);
/// Longest wait for a dead server's output to drain into the log tail.
const LOG_DRAIN: Duration = Duration::from_secs(1);

/// The process groups a runtime has running: killed when it goes away,
/// whatever the path.
#[derive(Debug, Default)]
pub(super) struct Groups(Mutex<HashSet<i32>>);

impl Groups {
    fn insert(&self, pgid: i32) {
        self.0.lock().unwrap().insert(pgid);
    }

    fn remove(&self, pgid: i32) {
        self.0.lock().unwrap().remove(&pgid);
    }

    /// SIGKILL every group still running; how many there were.
    pub(super) fn kill_all(&self) -> usize {
        let groups: Vec<i32> = self.0.lock().unwrap().drain().collect();
        for &pgid in &groups {
            signal_group(pgid, libc::SIGKILL);
        }
        groups.len()
    }
}

/// How to start the server's main process.
#[derive(Debug, Clone)]
pub(super) struct LaunchSpec {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: PathBuf,
    /// labour's own executable, to lead the group as its keeper (see
    /// `keeper.rs`); without one the server's main process leads it.
    pub keeper: Option<PathBuf>,
}

impl LaunchSpec {
    /// Start the main process in a process group of its own, so the
    /// terminal's Ctrl-C does not reach it and its workers go with it; with
    /// a keeper, under the keeper, so that the whole group dies with
    /// labour.
    pub(super) fn spawn(&self) -> io::Result<Child> {
        let mut command = match &self.keeper {
            Some(keeper) => Command::from(super::keeper::command(keeper, &self.program)),
            None => Command::new(&self.program),
        };
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: prctl is async-signal-safe. Should labour itself be
        // killed outright (SIGKILL, no chance to stop anything), the kernel
        // kills the group's leader (the keeper makes that the whole group).
        // Children are spawned from the runtime's worker threads, which
        // live as long as labour.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command.spawn()
    }
}

/// What supervision has seen so far, shared with the stats sampler and
/// the readiness wait.
#[derive(Debug, Default)]
pub(super) struct Seen {
    events: Mutex<Vec<ServerEvent>>,
    log: Mutex<VecDeque<String>>,
    /// Process group running now; 0 when none.
    pub pgid: AtomicI32,
    restarts: AtomicU64,
    last_exit: Mutex<Option<i64>>,
    down_at: Mutex<Option<SystemTime>>,
}

impl Seen {
    fn event(&self, action: &str, exit_code: Option<i64>, signal: Option<&str>, tail: bool) {
        let log_tail = if tail { self.log_tail() } else { Vec::new() };
        self.events.lock().unwrap().push(ServerEvent {
            at: SystemTime::now(),
            action: action.into(),
            exit_code,
            signal: signal.map(str::to_string),
            log_tail,
        });
    }

    fn log_line(&self, line: String) {
        let mut log = self.log.lock().unwrap();
        if log.len() == LOG_TAIL_LINES {
            log.pop_front();
        }
        log.push_back(line);
    }

    /// The last [`LOG_TAIL_LINES`] lines the server wrote, both streams.
    pub(super) fn log_tail(&self) -> Vec<String> {
        self.log.lock().unwrap().iter().cloned().collect()
    }

    /// The exit code of the first death, if the server died.
    pub(super) fn first_death(&self) -> Option<i64> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.action == "die")
            .and_then(|e| e.exit_code)
    }

    /// Every event so far.
    pub(super) fn events(&self) -> Vec<ServerEvent> {
        self.events.lock().unwrap().clone()
    }

    /// Times the server was restarted.
    pub(super) fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::SeqCst)
    }

    /// Exit code of its last exit.
    pub(super) fn last_exit(&self) -> Option<i64> {
        *self.last_exit.lock().unwrap()
    }

    /// When it went down for good, if it did.
    pub(super) fn down_at(&self) -> Option<SystemTime> {
        *self.down_at.lock().unwrap()
    }
}

/// A supervised server.
pub(super) struct Supervisor {
    /// What it has seen.
    pub seen: Arc<Seen>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Supervisor {
    /// Supervise `first`, already started from `spec`: restart it as
    /// `policy` says, cancel `down` when it is down for good.
    pub(super) fn start(
        first: Child,
        spec: LaunchSpec,
        policy: RestartPolicy,
        grace: Duration,
        groups: Arc<Groups>,
        down: CancellationToken,
    ) -> Self {
        let seen = Arc::new(Seen::default());
        let stop = CancellationToken::new();
        let task = tokio::spawn(supervise(Supervision {
            first: Some(first),
            spec,
            policy,
            grace,
            groups,
            down,
            stop: stop.clone(),
            seen: Arc::clone(&seen),
        }));
        Supervisor { seen, stop, task }
    }

    /// Stop the server (SIGTERM to its group, the grace, SIGKILL) and wait
    /// until it is gone.
    pub(super) async fn stop(self) -> Arc<Seen> {
        self.stop.cancel();
        let _ = self.task.await;
        self.seen
    }
}

struct Supervision {
    first: Option<Child>,
    spec: LaunchSpec,
    policy: RestartPolicy,
    grace: Duration,
    groups: Arc<Groups>,
    down: CancellationToken,
    stop: CancellationToken,
    seen: Arc<Seen>,
}

/// Exit code as a container reports it: the code, or 128 + the signal.
fn exit_code(status: ExitStatus) -> i64 {
    match (status.code(), status.signal()) {
        (Some(code), _) => i64::from(code),
        (None, Some(signal)) => 128 + i64::from(signal),
        (None, None) => -1,
    }
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: killpg has no memory effects; a group that is gone
        // answers ESRCH, which is fine.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

fn read_lines<R: AsyncRead + Unpin + Send + 'static>(
    stream: Option<R>,
    seen: &Arc<Seen>,
) -> Option<JoinHandle<()>> {
    let stream = stream?;
    let seen = Arc::clone(seen);
    Some(tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            seen.log_line(line);
        }
    }))
}

/// Whether `policy` restarts a server that exited with `code` after
/// `restarts` restarts.
pub(super) fn restarts_after(policy: RestartPolicy, code: i64, restarts: u64) -> bool {
    match policy {
        RestartPolicy::No => false,
        RestartPolicy::Always => true,
        RestartPolicy::OnFailure { max_retries } => {
            code != 0 && max_retries.is_none_or(|max| restarts < u64::from(max))
        }
    }
}

async fn supervise(mut s: Supervision) {
    let mut delay = FIRST_RESTART_DELAY;
    loop {
        let started = Instant::now();
        let spawned = match s.first.take() {
            Some(child) => Ok(child),
            None => s.spec.spawn(),
        };
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                s.seen.log_line(format!(
                    "labour: cannot restart {}: {error}",
                    s.spec.program.display()
                ));
                *s.seen.down_at.lock().unwrap() = Some(SystemTime::now());
                s.down.cancel();
                return;
            }
        };
        let pgid = child.id().map_or(0, |pid| pid as i32);
        s.groups.insert(pgid);
        s.seen.pgid.store(pgid, Ordering::SeqCst);
        s.seen.event("start", None, None, false);
        let readers: Vec<JoinHandle<()>> = [
            read_lines(child.stdout.take(), &s.seen),
            read_lines(child.stderr.take(), &s.seen),
        ]
        .into_iter()
        .flatten()
        .collect();
        let status = tokio::select! {
            status = child.wait() => status,
            _ = s.stop.cancelled() => terminate(&mut child, pgid, s.grace, &s.seen).await,
        };
        let stopping = s.stop.is_cancelled();
        // The rest of the group goes with its leader, as a container's
        // processes go with its main one.
        signal_group(pgid, libc::SIGKILL);
        s.groups.remove(pgid);
        s.seen.pgid.store(0, Ordering::SeqCst);
        for reader in readers {
            let abort = reader.abort_handle();
            if tokio::time::timeout(LOG_DRAIN, reader).await.is_err() {
                abort.abort();
            }
        }
        let code = status.map_or(-1, exit_code);
        *s.seen.last_exit.lock().unwrap() = Some(code);
        s.seen.event("die", Some(code), None, !stopping);
        if stopping {
            s.seen.event("stop", None, None, false);
            return;
        }
        if !restarts_after(s.policy, code, s.seen.restarts()) {
            *s.seen.down_at.lock().unwrap() = Some(SystemTime::now());
            s.down.cancel();
            return;
        }
        if started.elapsed() >= RESET_DELAY_AFTER {
            delay = FIRST_RESTART_DELAY;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = s.stop.cancelled() => {
                s.seen.event("stop", None, None, false);
                return;
            }
        }
        delay = (delay * 2).min(LONGEST_RESTART_DELAY);
        s.seen.restarts.fetch_add(1, Ordering::SeqCst);
    }
}

/// SIGTERM to the group, `grace`, then SIGKILL; the main process's status.
async fn terminate(
    child: &mut Child,
    pgid: i32,
    grace: Duration,
    seen: &Seen,
) -> io::Result<ExitStatus> {
    seen.event("kill", None, Some("15"), false);
    signal_group(pgid, libc::SIGTERM);
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            seen.event("kill", None, Some("9"), false);
            signal_group(pgid, libc::SIGKILL);
            child.wait().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies_decide_as_docker_does() {
        let on_failure = |max_retries| RestartPolicy::OnFailure { max_retries };
        assert!(!restarts_after(RestartPolicy::No, 139, 0));
        assert!(restarts_after(RestartPolicy::Always, 0, 99));
        assert!(restarts_after(on_failure(None), 139, 99));
        assert!(!restarts_after(on_failure(None), 0, 0));
        assert!(restarts_after(on_failure(Some(2)), 1, 1));
        assert!(!restarts_after(on_failure(Some(2)), 1, 2));
    }

    #[test]
    fn a_signal_is_reported_as_128_plus_its_number() {
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGSEGV)), 139);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
    }
}
