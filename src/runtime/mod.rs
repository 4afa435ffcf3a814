//! Where servers run. The [`Runtime`] trait is all the rest of labour sees:
//! prepare a server (build its image), start it and wait until it answers,
//! stop it, and at the end remove everything the run created.
//!
//! `docker/` is the Docker implementation and the only place that talks
//! to the Docker API; `local/` runs servers as processes on this machine;
//! `select.rs` picks one.

pub(crate) mod docker;
pub(crate) mod emergency;
pub(crate) mod local;
pub(crate) mod owner;
mod ports;
mod probe;
pub(crate) mod request_log;
mod select;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio_util::sync::CancellationToken;

pub(crate) use request_log::{AppLog, AppRequest};
pub(crate) use select::AnyRuntime;
pub use select::RuntimeChoice;

use crate::catalogue::Server;

/// Label every container and image labour creates carries: the run id.
pub(crate) const RUN_LABEL: &str = "labour.run";
/// Label carrying the server name.
pub(crate) const SERVER_LABEL: &str = "labour.server";
/// Lines of a container's log kept when it stops or fails.
pub(crate) const LOG_TAIL_LINES: usize = 100;
/// The environment variable that tells the stress application a memory
/// limit is in force (its value: the limit in bytes), so it lifts its own
/// bounds on the behaviours that allocate.
pub(crate) const MEMORY_LIMIT_ENV: &str = "LABOUR_MEMORY_LIMIT";

/// A built server image.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PreparedImage {
    /// The server it is for.
    pub server: String,
    /// Its tag.
    pub tag: String,
    /// Its id.
    pub id: String,
}

/// A started server that answered its readiness probe.
#[derive(Debug, Clone)]
pub(crate) struct RunningServer {
    /// Container id.
    pub id: String,
    /// Container name.
    pub name: String,
    /// Where it listens, always on 127.0.0.1.
    pub address: SocketAddr,
    /// How long it took from start to ready.
    pub startup: Duration,
    /// Cancelled when the server is down for good (it exited and the
    /// restart policy will not bring it back), or the run is cancelled.
    pub down: CancellationToken,
    /// The interpreter its application said it runs on (`X-Labour-Python`
    /// of the readiness answer).
    pub python: Option<String>,
}

/// Something the engine reported about a server's container.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServerEvent {
    /// When, by the engine's clock.
    pub at: SystemTime,
    /// The engine's action: `create`, `start`, `die`, `oom`, `kill`,
    /// `restart`, `stop`, `destroy`...
    pub action: String,
    /// Exit code, for `die`.
    pub exit_code: Option<i64>,
    /// Signal, for `kill`.
    pub signal: Option<String>,
    /// The container's log tail when it died, for `die`.
    pub log_tail: Vec<String>,
}

/// One sample of a server's resource use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StatsSample {
    /// When it was read.
    pub at: SystemTime,
    /// Memory in use, page cache excluded, in bytes.
    pub memory_bytes: u64,
    /// Highest memory use the kernel recorded so far, where it reports it.
    pub memory_peak_bytes: Option<u64>,
    /// CPU use since the previous sample, in percent of one CPU.
    pub cpu_percent: Option<f64>,
}

/// What was left of a server once stopped and removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StoppedServer {
    /// Exit code of its main process, when it had exited.
    pub exit_code: Option<i64>,
    /// Whether the kernel OOM killer ended its last run.
    pub oom_killed: bool,
    /// Times the engine restarted it.
    pub restart_count: u64,
    /// When labour asked it to stop.
    pub stop_requested_at: Option<SystemTime>,
    /// When it went down for good, if it did before the stop.
    pub down_at: Option<SystemTime>,
    /// Everything the engine reported, in order.
    pub events: Vec<ServerEvent>,
    /// Resource samples while it ran.
    pub stats: Vec<StatsSample>,
    /// The last lines of its log.
    pub log_tail: Vec<String>,
    /// How long stopping it took (SIGTERM, grace, SIGKILL).
    pub stop_took: Duration,
    /// How long removing it and settling its events took.
    pub remove_took: Duration,
    /// The application's own log of the requests that reached it.
    pub app_log: AppLog,
}

pub(crate) use crate::plan::Signal;

/// The engine and host the servers ran on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct EngineInfo {
    /// Which runtime: `docker` or `local`.
    pub runtime: String,
    /// Why this runtime, in words (`--runtime`, or what `auto` found).
    #[serde(default)]
    pub selection: String,
    /// Engine version.
    pub version: String,
    /// API version in use.
    pub api_version: String,
    /// Kernel of the engine's host.
    pub kernel: String,
    /// Operating system of the engine's host.
    pub os: String,
    /// CPUs the engine sees.
    pub cpus: u64,
    /// Memory the engine sees, in bytes.
    pub memory_bytes: u64,
    /// Where labour reached the engine (`unix:///var/run/docker.sock`,
    /// `tcp://host:2376 (TLS)`, `ssh://user@host`; `local`).
    pub endpoint: String,
    /// The name of the engine's host.
    pub host: String,
    /// The address the servers were published on and dialled at.
    pub server_address: String,
    /// The network the servers used: `bridge` or `host`.
    pub network: String,
    /// The base images server images were built on (Python 3, Python 2.7).
    pub base_images: Vec<String>,
    /// What the engine had under each of `base_images` when the run began
    /// (none for a base the first build will pull).
    #[serde(default)]
    pub base_image_digests: Vec<BaseImageDigest>,
    /// What labour settled because nothing said otherwise, one line each.
    pub choices: Vec<String>,
}

/// The image the engine has under a base image's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct BaseImageDigest {
    /// The name it was asked by (`labour/base:bookworm`, `python@sha256:...`).
    pub image: String,
    /// The engine's image id (`sha256:...`): the same bytes on every host.
    pub id: String,
    /// `name@sha256:...` of each registry it was pulled from (none for an
    /// image made on this host, as labour's offline bases are).
    pub repo_digests: Vec<String>,
}

/// How to reach the engine, beyond what the environment says.
#[derive(Debug, Clone, Default)]
pub(crate) struct Connection {
    /// The docker CLI context to use (`--context`).
    pub context: Option<String>,
    /// The address servers are reached at when it is not the engine's
    /// host (`--server-host`).
    pub server_host: Option<String>,
}

/// A runtime operation failed.
#[derive(Debug, Error)]
pub(crate) enum RuntimeError {
    /// No engine answers.
    #[error("no Docker engine answers at {endpoint}: {reason}")]
    Unreachable {
        /// Where labour looked.
        endpoint: String,
        /// What the connection said, and what to check.
        reason: String,
    },
    /// The engine's address cannot be used as given.
    #[error("Docker engine {endpoint}: {reason}")]
    BadEndpoint {
        /// The address, or the context that names it.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The image build failed.
    #[error("building the image of {server} failed: {reason}{}", log_file.as_ref().map(|f| format!(" (full log: {})", f.display())).unwrap_or_default())]
    Build {
        /// The server.
        server: String,
        /// The failing step's error.
        reason: String,
        /// Last lines of the build output.
        log_tail: Vec<String>,
        /// The full build log, when it could be written.
        log_file: Option<std::path::PathBuf>,
    },
    /// A target's image cannot be used.
    #[error("target image {image}: {reason}")]
    TargetImage {
        /// The image as given.
        image: String,
        /// Why not.
        reason: String,
    },
    /// The container could not be created or started.
    #[error("starting {server} failed: {reason}")]
    Start {
        /// The server.
        server: String,
        /// What the engine said.
        reason: String,
    },
    /// The server exited before answering.
    #[error("{server} exited with code {exit_code} before it answered a request")]
    ExitedEarly {
        /// The server.
        server: String,
        /// Its exit code.
        exit_code: i64,
        /// Last lines of its log.
        log_tail: Vec<String>,
    },
    /// The server did not answer in time.
    #[error("{server} did not answer within {:.0} s of starting: {reason}", timeout.as_secs_f64())]
    NotReady {
        /// The server.
        server: String,
        /// The readiness deadline.
        timeout: Duration,
        /// The last probe's failure.
        reason: String,
        /// Last lines of its log.
        log_tail: Vec<String>,
    },
    /// Another engine call failed.
    #[error("{operation}: {reason}")]
    Engine {
        /// What labour was doing.
        operation: String,
        /// What the engine said.
        reason: String,
    },
    /// The runtime cannot run this server (the local runtime and a server
    /// that needs system packages): skipped, not failed.
    #[error("{server} skipped: {reason}")]
    Unsupported {
        /// The server.
        server: String,
        /// Why.
        reason: String,
    },
    /// The local runtime cannot work on this machine.
    #[error("the local runtime cannot run servers here: {reason}")]
    LocalUnavailable {
        /// Why.
        reason: String,
    },
    /// Cancelled (Ctrl-C, SIGTERM).
    #[error("interrupted")]
    Interrupted,
}

impl RuntimeError {
    /// Log or build output that explains the failure, if any.
    pub(crate) fn log_tail(&self) -> &[String] {
        match self {
            RuntimeError::Build { log_tail, .. }
            | RuntimeError::ExitedEarly { log_tail, .. }
            | RuntimeError::NotReady { log_tail, .. } => log_tail,
            _ => &[],
        }
    }
}

/// A fault's action on a running server, as a runtime carries it out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Act {
    /// Send `signal` to one worker: a process of the server with no child
    /// process, other than the init or keeper at the top (a one-process
    /// server's only process); `pick` chooses among them.
    SignalWorker {
        /// The signal.
        signal: Signal,
        /// Chooses the worker: `pick % workers`, workers by pid.
        pick: u64,
    },
    /// Send `signal` to process `pid` (as an earlier act named it).
    SignalPid {
        /// The signal.
        signal: Signal,
        /// The process, as the act that picked it named it.
        pid: u32,
    },
    /// Send `signal` to the server as a whole (its init, or its group).
    SignalServer(Signal),
    /// Freeze every process of the server.
    Pause,
    /// Thaw them.
    Unpause,
    /// Restart the server: SIGTERM, the stop grace, SIGKILL, start.
    Restart,
}

/// What an act reached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActTarget {
    /// A process, when the act reached one.
    pub pid: Option<u32>,
    /// The target in words: `pid 12 (gunicorn)`, `the container`.
    pub description: String,
}

/// Acts carried out from this host at once, with system calls only: no
/// engine round trip and nothing to await, so a fault lands when it is due
/// however busy the engine is. A runtime offers them for a running server
/// when it can reach its processes (see [`Runtime::direct`]).
pub(crate) trait DirectActs: Send + Sync {
    /// Whether `act` is one of them (the others go through the runtime).
    fn can(&self, act: Act) -> bool;
    /// Carry out `act` now.
    fn act(&self, act: Act) -> Result<ActTarget, RuntimeError>;
}

/// Somewhere servers can be built, started and stopped.
pub(crate) trait Runtime: Sync {
    /// Id of this run; every object created carries it as [`RUN_LABEL`].
    fn run_id(&self) -> &str;

    /// Cancelled when the run must stop: it was interrupted, or the
    /// engine was lost.
    fn halt(&self) -> &CancellationToken;

    /// When the engine is gone mid-run: where it was and what it said.
    fn lost(&self) -> Option<String> {
        None
    }

    /// The engine and host, for the results.
    fn engine_info(&self) -> impl Future<Output = Result<EngineInfo, RuntimeError>> + Send;

    /// Make `server` ready to start (build its image); `on_step` hears
    /// each build step as it begins.
    fn prepare(
        &self,
        server: &Server,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> impl Future<Output = Result<PreparedImage, RuntimeError>> + Send;

    /// Start `server` from `image` for `cell` and wait until it answers. On
    /// error nothing is left running.
    fn start(
        &self,
        server: &Server,
        image: &PreparedImage,
        cell: &str,
    ) -> impl Future<Output = Result<RunningServer, RuntimeError>> + Send;

    /// Stop `running` (SIGTERM, grace, SIGKILL), keep its log tail and exit
    /// code, and remove it.
    fn stop(
        &self,
        running: &RunningServer,
    ) -> impl Future<Output = Result<StoppedServer, RuntimeError>> + Send;

    /// The limits of `server` this runtime cannot enforce, in words; they
    /// are recorded with every cell, never silently dropped.
    fn not_enforced(&self, _server: &Server) -> Vec<String> {
        Vec::new()
    }

    /// Carry out a fault's `act` on `running` during its load.
    fn act(
        &self,
        running: &RunningServer,
        act: Act,
    ) -> impl Future<Output = Result<ActTarget, RuntimeError>> + Send {
        let server = running.name.clone();
        async move {
            Err(RuntimeError::Unsupported {
                server,
                reason: format!("this runtime cannot carry out {act:?}"),
            })
        }
    }

    /// Acts on `running` that this host can carry out without the engine,
    /// found ahead of the faults that need them; `None` when every act
    /// goes through [`Runtime::act`].
    fn direct(
        &self,
        _running: &RunningServer,
    ) -> impl Future<Output = Option<std::sync::Arc<dyn DirectActs>>> + Send {
        async { None }
    }

    /// Remove everything this run created that is still there; returns how
    /// many objects were removed. Called on every path out of a run.
    fn shutdown(&self) -> impl Future<Output = Result<usize, RuntimeError>> + Send;
}

/// A process of a running server: its pid, its parent's and its name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServerProcess {
    /// Its pid, as the runtime addresses it.
    pub pid: u32,
    /// Its parent's pid.
    pub ppid: u32,
    /// Its command name.
    pub name: String,
}

/// The workers among `processes`: those under `top` (the init or keeper)
/// with no child of their own; `top`'s only child when that is all there
/// is. By pid.
pub(crate) fn workers(processes: &[ServerProcess], top: u32) -> Vec<ServerProcess> {
    let mut under = vec![top];
    let mut found: Vec<&ServerProcess> = Vec::new();
    while let Some(parent) = under.pop() {
        for process in processes
            .iter()
            .filter(|p| p.ppid == parent && p.pid != top)
        {
            found.push(process);
            under.push(process.pid);
        }
    }
    let mut leaves: Vec<ServerProcess> = found
        .iter()
        .filter(|p| !found.iter().any(|child| child.ppid == p.pid))
        .map(|p| (*p).clone())
        .collect();
    leaves.sort_by_key(|p| p.pid);
    leaves
}

/// `kill(pid, signal)`: for a pid the caller just read as the server's
/// (a member of its group here, of its container's cgroup for a local
/// Docker engine).
pub(crate) fn send_signal(pid: u32, signal: Signal) -> Result<(), std::io::Error> {
    // SAFETY: kill has no memory effects; the pid was just read as one of
    // the server's processes.
    match unsafe { libc::kill(pid as i32, signal.number()) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// The processes of `/proc/<pid>/stat` lines: `pid (comm) state ppid ...`.
pub(crate) fn parse_stat_lines(text: &str) -> Vec<ServerProcess> {
    text.lines()
        .filter_map(|line| {
            let open = line.find('(')?;
            let close = line.rfind(')')?;
            let pid = line[..open].trim().parse().ok()?;
            let name = line[open + 1..close].to_string();
            let mut rest = line[close + 1..].split_whitespace();
            let _state = rest.next()?;
            let ppid = rest.next()?.parse().ok()?;
            Some(ServerProcess { pid, ppid, name })
        })
        .collect()
}

/// What a sweep removed: earlier runs' leftovers.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Swept {
    /// Containers, by name.
    pub containers: Vec<String>,
    /// Image tags that held an earlier run's images.
    pub image_tags: Vec<String>,
    /// Local process groups, by their leader's pid.
    pub process_groups: Vec<i32>,
}

impl Swept {
    /// Whether nothing was left.
    pub(crate) fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.image_tags.is_empty() && self.process_groups.is_empty()
    }

    /// What was removed, in one line.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.containers.is_empty() {
            parts.push(format!(
                "{} container(s) ({})",
                self.containers.len(),
                self.containers.join(", ")
            ));
        }
        if !self.image_tags.is_empty() {
            parts.push(format!("{} image tag(s)", self.image_tags.len()));
        }
        if !self.process_groups.is_empty() {
            parts.push(format!(
                "{} process group(s) (led by {})",
                self.process_groups.len(),
                self.process_groups
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        parts.join(", ")
    }
}

/// A run id: short, unique enough, valid in container names.
pub(crate) fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:08x}",
        (nanos as u64 ^ (u64::from(std::process::id()) << 32)) as u32
    )
}

/// [`MEMORY_LIMIT_ENV`] and its value when `limits` has a memory limit.
pub(crate) fn memory_limit_env(limits: &crate::plan::Limits) -> Option<(String, String)> {
    limits
        .memory_bytes
        .map(|bytes| (MEMORY_LIMIT_ENV.to_string(), bytes.to_string()))
}

/// labour's directory in the user's cache: `$XDG_CACHE_HOME/labour`, or
/// `~/.cache/labour`.
pub(crate) fn labour_cache_dir() -> Option<std::path::PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cache"))
        })?;
    Some(cache.join("labour"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Limits;

    #[test]
    fn a_memory_limit_is_told_to_the_app_and_its_absence_is_not() {
        let limits = Limits {
            memory_bytes: Some(64 << 20),
            ..Limits::default()
        };
        assert_eq!(
            memory_limit_env(&limits),
            Some(("LABOUR_MEMORY_LIMIT".to_string(), "67108864".to_string()))
        );
        assert_eq!(memory_limit_env(&Limits::default()), None);
    }

    fn process(pid: u32, ppid: u32, name: &str) -> ServerProcess {
        ServerProcess {
            pid,
            ppid,
            name: name.into(),
        }
    }

    #[test]
    fn workers_are_the_leaves_under_the_top_and_a_lone_server_is_its_own_worker() {
        // docker-init, gunicorn's master and two workers, and the exec'd
        // shell that read /proc (parent 0).
        let text = "1 (docker-init) S 0 1 1\n7 (gunicorn) S 1 7 7\n8 (gunicorn) S 7 7 7\n\
                    9 (gunicorn) S 7 7 7\n20 (sh) R 0 20 20\n";
        let processes = parse_stat_lines(text);
        assert_eq!(processes.len(), 5);
        let pids: Vec<u32> = workers(&processes, 1).iter().map(|p| p.pid).collect();
        assert_eq!(pids, [8, 9]);
        let lone = [process(1, 0, "docker-init"), process(7, 1, "python3")];
        let pids: Vec<u32> = workers(&lone, 1).iter().map(|p| p.pid).collect();
        assert_eq!(pids, [7]);
        assert!(workers(&[process(1, 0, "docker-init")], 1).is_empty());
    }

    #[test]
    fn a_command_name_with_spaces_and_parentheses_is_read_whole() {
        let processes = parse_stat_lines("12 (uWSGI (worker 1)) S 7 12 12 0");
        assert_eq!(processes, [process(12, 7, "uWSGI (worker 1)")]);
    }
}
