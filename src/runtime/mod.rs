//! Where servers run. The [`Runtime`] trait is all the rest of labour sees:
//! prepare a server (build its image), start it and wait until it answers,
//! stop it, and at the end remove everything the run created.
//!
//! `docker/` is the Docker implementation and the only place that talks
//! to the Docker API; `local/` runs servers as processes on this machine;
//! `select.rs` picks one.

pub mod docker;
pub mod local;
mod probe;
mod select;

use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio_util::sync::CancellationToken;

pub use probe::probe;
pub use select::{AnyRuntime, RuntimeChoice};

use crate::catalogue::Server;

/// Label every container and image labour creates carries: the run id.
pub const RUN_LABEL: &str = "labour.run";
/// Label carrying the server name.
pub const SERVER_LABEL: &str = "labour.server";
/// Lines of a container's log kept when it stops or fails.
pub const LOG_TAIL_LINES: usize = 100;

/// How a server container is networked.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// Docker's bridge; the server's port is published on 127.0.0.1 only.
    Bridge,
    /// The host's network; the server binds 127.0.0.1 on a free port.
    Host,
}

/// What the engine does when a server's main process exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Leave it down.
    No,
    /// Restart it when it exits non-zero, at most `max_retries` times
    /// (`None`: without limit).
    OnFailure {
        /// Restarts allowed.
        max_retries: Option<u32>,
    },
    /// Restart it whatever the exit code.
    Always,
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::OnFailure { max_retries: None } => f.write_str("on-failure"),
            RestartPolicy::OnFailure {
                max_retries: Some(n),
            } => write!(f, "on-failure:{n}"),
            RestartPolicy::Always => f.write_str("always"),
        }
    }
}

impl FromStr for RestartPolicy {
    type Err = String;

    /// `no`, `on-failure`, `on-failure:N` or `always`, as Docker writes them.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "no" => Ok(RestartPolicy::No),
            "always" => Ok(RestartPolicy::Always),
            "on-failure" => Ok(RestartPolicy::OnFailure { max_retries: None }),
            _ => text
                .strip_prefix("on-failure:")
                .and_then(|n| n.parse().ok())
                .map(|n| RestartPolicy::OnFailure {
                    max_retries: Some(n),
                })
                .ok_or_else(|| {
                    format!(
                        "{text:?} is not a restart policy: no, on-failure, on-failure:N or always"
                    )
                }),
        }
    }
}

impl Serialize for RestartPolicy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for RestartPolicy {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RestartPolicy".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(no|always|on-failure(:[0-9]+)?)$"
        })
    }
}

impl<'de> Deserialize<'de> for RestartPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// How servers are built and run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContainerOptions {
    /// Network of server containers.
    pub network: NetworkMode,
    /// Base image every Python 3 server image builds `FROM`.
    pub base_image: String,
    /// Base image every Python 2.7 server image builds `FROM`.
    pub base_image_py27: String,
    /// Network for image builds (`host` lets pip reach the registry on
    /// hosts without a bridge); `None` is Docker's default.
    pub build_network: Option<String>,
    /// Longest wait for a started server to answer its first request.
    #[serde(with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub ready_timeout: Duration,
    /// Grace between SIGTERM and SIGKILL when stopping a server.
    #[serde(with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub stop_timeout: Duration,
    /// Where each server's full build log is kept, as `<server>.log`.
    pub build_log_dir: Option<std::path::PathBuf>,
}

/// A server container's limits and supervision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Memory limit in bytes.
    pub memory_bytes: Option<u64>,
    /// Memory plus swap limit in bytes; equal to the memory limit (no swap)
    /// unless given.
    pub memory_swap_bytes: Option<u64>,
    /// CPU limit, in CPUs.
    pub cpus: Option<f64>,
    /// Largest number of processes and threads.
    pub pids_limit: Option<u64>,
    /// What the engine does when the server exits.
    pub restart: RestartPolicy,
    /// Whether an init process reaps children and forwards signals. Off,
    /// a server running as PID 1 ignores its own SIGSEGV.
    pub init: bool,
}

impl Default for Limits {
    /// No limits, restart on failure, with an init.
    fn default() -> Self {
        Limits {
            memory_bytes: None,
            memory_swap_bytes: None,
            cpus: None,
            pids_limit: None,
            restart: RestartPolicy::OnFailure { max_retries: None },
            init: true,
        }
    }
}

/// A built server image.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedImage {
    /// The server it is for.
    pub server: String,
    /// Its tag.
    pub tag: String,
    /// Its id.
    pub id: String,
}

/// A started server that answered its readiness probe.
#[derive(Debug, Clone)]
pub struct RunningServer {
    /// Server name.
    pub server: String,
    /// Container id.
    pub id: String,
    /// Container name.
    pub name: String,
    /// Where it listens, always on 127.0.0.1.
    pub address: SocketAddr,
    /// When it answered its first request.
    pub ready_at: Instant,
    /// How long it took from start to ready.
    pub startup: Duration,
    /// Cancelled when the server is down for good (it exited and the
    /// restart policy will not bring it back), or the run is cancelled.
    pub down: CancellationToken,
}

/// Something the engine reported about a server's container.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
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
pub struct StatsSample {
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
pub struct StoppedServer {
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
}

/// The engine and host the servers ran on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EngineInfo {
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
}

/// A runtime operation failed.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// No engine answers.
    #[error(
        "no Docker engine answers at {endpoint}: {reason} (is dockerd running? DOCKER_HOST selects another engine)"
    )]
    Unreachable {
        /// Where labour looked.
        endpoint: String,
        /// What the connection said.
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
    pub fn log_tail(&self) -> &[String] {
        match self {
            RuntimeError::Build { log_tail, .. }
            | RuntimeError::ExitedEarly { log_tail, .. }
            | RuntimeError::NotReady { log_tail, .. } => log_tail,
            _ => &[],
        }
    }
}

/// Somewhere servers can be built, started and stopped.
pub trait Runtime: Sync {
    /// Id of this run; every object created carries it as [`RUN_LABEL`].
    fn run_id(&self) -> &str;

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

    /// Remove everything this run created that is still there; returns how
    /// many objects were removed. Called on every path out of a run.
    fn shutdown(&self) -> impl Future<Output = Result<usize, RuntimeError>> + Send;
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

/// A port on 127.0.0.1 that nothing listens on right now.
pub(crate) fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// labour's directory in the user's cache: `$XDG_CACHE_HOME/labour`, or
/// `~/.cache/labour`.
pub fn labour_cache_dir() -> Option<std::path::PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cache"))
        })?;
    Some(cache.join("labour"))
}
