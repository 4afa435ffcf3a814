//! The local runtime: servers as processes on this machine, no Docker. Per
//! server a virtualenv in the user's cache (keyed by its pinned
//! requirements and the interpreter), the stress application from the
//! images tree, the catalogue's command run on 127.0.0.1 in a process group
//! of its own, supervised as a container would be.
//!
//! `python.rs` finds the interpreters and makes the virtualenvs,
//! `launch.rs` writes the files and maps the command, `supervise.rs`
//! starts, restarts and stops the process group, `procstat.rs` samples it.

mod act;
pub(crate) mod keeper;
mod launch;
mod procstat;
mod python;
mod supervise;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::python::Python;
use self::supervise::{Groups, Supervisor};
use super::ports::{Port, Ports};
use super::request_log::{AppLog, REQUEST_LOG_ENV, REQUEST_LOG_MAX};
use super::{
    EngineInfo, PreparedImage, RunningServer, Runtime, RuntimeError, StatsSample, StoppedServer,
    labour_cache_dir, new_run_id,
};
use crate::catalogue::Server;
use crate::images::Images;
use crate::plan::{ContainerOptions, Limits};
use crate::runtime::owner::{OWNER_VARIABLE, Owner};
use crate::runtime::{Swept, emergency};
use crate::units::format_bytes;

/// Where a prepared server's files are.
#[derive(Debug, Clone)]
struct Prepared {
    /// The interpreter of a server without a virtualenv.
    interpreter: PathBuf,
    /// Its virtualenv, when it has requirements.
    venv: Option<PathBuf>,
    /// The stress application (`/app` in a container).
    app: PathBuf,
    /// The other files of its folder (`/opt/labour` in a container).
    files: PathBuf,
}

/// A server running locally.
struct Running {
    supervisor: Supervisor,
    /// The application's request log (removed when dropped).
    request_log: tempfile::TempPath,
    _port: Port,
    stats_stop: CancellationToken,
    stats: JoinHandle<Vec<StatsSample>>,
}

/// The application's request log at `path`, at most [`REQUEST_LOG_MAX`]
/// of it.
fn read_app_log(path: &std::path::Path) -> AppLog {
    use std::io::Read;
    let mut text = Vec::new();
    match std::fs::File::open(path)
        .and_then(|file| file.take(REQUEST_LOG_MAX).read_to_end(&mut text))
    {
        Ok(_) => AppLog::parse(&text),
        Err(error) => AppLog::Unread(format!("reading {}: {error}", path.display())),
    }
}

/// Servers as local processes.
pub(crate) struct LocalRuntime {
    run_id: String,
    options: ContainerOptions,
    images: Images,
    cancel: CancellationToken,
    python: Python,
    /// Python 2.7 with virtualenv, or why there is none.
    python27: Result<Python, String>,
    venvs: PathBuf,
    work: tempfile::TempDir,
    prepared: Mutex<HashMap<String, Prepared>>,
    running: Mutex<HashMap<String, Running>>,
    groups: Arc<Groups>,
    started: AtomicU64,
    ports: Ports,
    /// How to kill this run's servers should labour have to give up on its
    /// orderly shutdown.
    _emergency: emergency::Registration,
    /// labour's own executable, the keeper of every server's group.
    keeper: Option<PathBuf>,
}

/// An I/O error at `path` while preparing `server`, as a build error.
pub(super) fn file_error(server: &str, path: &Path) -> impl FnOnce(std::io::Error) -> RuntimeError {
    let (server, path) = (server.to_string(), path.display().to_string());
    move |error| RuntimeError::Build {
        server,
        reason: format!("{path}: {error}"),
        log_tail: Vec::new(),
        log_file: None,
    }
}

/// The limits the local runtime cannot enforce, in words.
pub(crate) fn not_enforced(limits: &Limits) -> Vec<String> {
    let mut notes = Vec::new();
    let no_cgroup = "local processes run without a cgroup (use --runtime docker)";
    if let Some(bytes) = limits.memory_bytes {
        notes.push(format!(
            "memory limit {} not enforced: {no_cgroup}",
            format_bytes(bytes)
        ));
    }
    if let Some(bytes) = limits.memory_swap_bytes {
        notes.push(format!(
            "memory+swap limit {} not enforced: {no_cgroup}",
            format_bytes(bytes)
        ));
    }
    if let Some(cpus) = limits.cpus {
        notes.push(format!("CPU limit {cpus} not enforced: {no_cgroup}"));
    }
    if let Some(pids) = limits.pids_limit {
        notes.push(format!("pids limit {pids} not enforced: {no_cgroup}"));
    }
    if !limits.init {
        notes.push(
            "init off not applied: a local server never runs as PID 1, so it always gets its own signals"
                .into(),
        );
    }
    notes
}

impl LocalRuntime {
    /// A local runtime with the interpreter `LABOUR_PYTHON` names (or
    /// `python3`) and virtualenvs in the user's cache.
    pub(crate) fn new(
        options: ContainerOptions,
        images: Images,
        cancel: CancellationToken,
    ) -> Result<Self, RuntimeError> {
        let python = Python::find()?;
        let venvs = std::env::var_os("LABOUR_VENVS")
            .map(PathBuf::from)
            .or_else(|| labour_cache_dir().map(|dir| dir.join("venvs")))
            .ok_or_else(|| RuntimeError::LocalUnavailable {
                reason: "no HOME or XDG_CACHE_HOME to keep virtualenvs in (LABOUR_VENVS names a directory)".into(),
            })?;
        let run_id = new_run_id();
        let work = tempfile::Builder::new()
            .prefix(&format!("labour-{run_id}-"))
            .tempdir()
            .map_err(|error| RuntimeError::LocalUnavailable {
                reason: format!("cannot make a working directory: {error}"),
            })?;
        let groups = Arc::new(Groups::default());
        let emergency_groups = Arc::clone(&groups);
        Ok(LocalRuntime {
            run_id,
            options,
            images,
            cancel,
            python,
            python27: Python::find_py27(),
            venvs,
            work,
            prepared: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            groups,
            started: AtomicU64::new(0),
            ports: Ports::new(),
            keeper: std::env::current_exe().ok(),
            _emergency: emergency::register(move || {
                let killed = emergency_groups.kill_all();
                eprintln!("labour: killed {killed} server process group(s)");
            }),
        })
    }
}

/// Kernel release, operating system name and memory of this machine.
/// This machine's host name, as the kernel has it.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}

fn host_facts() -> (String, String, u64) {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|text| text.trim().to_string())
        .unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|name| name.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let memory = {
        use procfs::Current;
        procfs::Meminfo::current().map(|m| m.mem_total).unwrap_or(0)
    };
    (kernel, os, memory)
}

impl Runtime for LocalRuntime {
    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn halt(&self) -> &CancellationToken {
        &self.cancel
    }

    async fn engine_info(&self) -> Result<EngineInfo, RuntimeError> {
        let (kernel, os, memory_bytes) = host_facts();
        Ok(EngineInfo {
            runtime: "local".into(),
            version: format!(
                "Python {} ({})",
                self.python.version,
                self.python.program.display()
            ),
            api_version: String::new(),
            kernel,
            os,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            memory_bytes,
            selection: String::new(),
            endpoint: "local".into(),
            host: host_name(),
            server_address: "127.0.0.1".into(),
            network: "host".into(),
            base_images: Vec::new(),
            base_image_digests: Vec::new(),
            choices: Vec::new(),
        })
    }

    async fn prepare(
        &self,
        server: &Server,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<PreparedImage, RuntimeError> {
        if let Some(reason) = &server.local_skip {
            return Err(RuntimeError::Unsupported {
                server: server.name.clone(),
                reason: reason.clone(),
            });
        }
        for note in not_enforced(&server.limits) {
            on_step(&note);
        }
        let interpreter = self.interpreter(server)?;
        let (app, files) = self.write_files(server)?;
        let venv = self.virtualenv(server, interpreter, on_step).await?;
        let (tag, id) = match &venv {
            Some((venv, key)) => (venv.display().to_string(), key.clone()),
            None => (
                interpreter.program.display().to_string(),
                format!("python-{}", interpreter.version),
            ),
        };
        self.prepared.lock().unwrap().insert(
            server.name.clone(),
            Prepared {
                interpreter: interpreter.program.clone(),
                venv: venv.map(|(venv, _)| venv),
                app,
                files,
            },
        );
        Ok(PreparedImage {
            server: server.name.clone(),
            tag,
            id,
        })
    }

    async fn start(
        &self,
        server: &Server,
        _image: &PreparedImage,
        cell: &str,
    ) -> Result<RunningServer, RuntimeError> {
        let start_error = |reason: String| RuntimeError::Start {
            server: server.name.clone(),
            reason,
        };
        let prepared = self
            .prepared
            .lock()
            .unwrap()
            .get(&server.name)
            .cloned()
            .ok_or_else(|| start_error("it was not prepared".into()))?;
        let held = self
            .ports
            .take()
            .map_err(|e| start_error(format!("finding a free port: {e}")))?;
        let port = held.number;
        let mut spec = self.launch_spec(server, &prepared, port);
        // The application's request log: a file of this server's own,
        // read when it stops and removed with it.
        let request_log = tempfile::Builder::new()
            .prefix("labour-requests-")
            .tempfile()
            .map_err(|e| start_error(format!("making the request log: {e}")))?
            .into_temp_path();
        spec.env.push((
            REQUEST_LOG_ENV.to_string(),
            request_log.display().to_string(),
        ));
        let started = Instant::now();
        let first = spec
            .spawn()
            .map_err(|e| start_error(format!("cannot run {}: {e}", spec.program.display())))?;
        let down = self.cancel.child_token();
        let supervisor = Supervisor::start(
            first,
            spec,
            server.limits.restart,
            self.options.stop_timeout,
            Arc::clone(&self.groups),
            down.clone(),
        );
        let stats_stop = CancellationToken::new();
        let stats = procstat::sample(Arc::clone(&supervisor.seen), stats_stop.clone());
        let n = self.started.fetch_add(1, Ordering::SeqCst);
        let name = format!("labour-{}-{}-{}-{n}", self.run_id, server.name, cell);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let ready = self
            .wait_ready(&server.name, &supervisor.seen, address)
            .await;
        let running = Running {
            supervisor,
            request_log,
            _port: held,
            stats_stop,
            stats,
        };
        let ready = match ready {
            Ok(ready) => ready,
            Err(error) => {
                running.stats_stop.cancel();
                running.supervisor.stop().await;
                return Err(error);
            }
        };
        self.running.lock().unwrap().insert(name.clone(), running);
        Ok(RunningServer {
            id: name.clone(),
            name,
            address,
            startup: started.elapsed(),
            down,
            python: ready.python,
        })
    }

    async fn stop(&self, running: &RunningServer) -> Result<StoppedServer, RuntimeError> {
        let Some(entry) = self.running.lock().unwrap().remove(&running.id) else {
            return Err(RuntimeError::Engine {
                operation: format!("stopping {}", running.name),
                reason: "it is not running".into(),
            });
        };
        let stop_requested_at = std::time::SystemTime::now();
        let stopping = Instant::now();
        let seen = entry.supervisor.stop().await;
        let stop_took = stopping.elapsed();
        let removing = Instant::now();
        entry.stats_stop.cancel();
        let stats = entry.stats.await.unwrap_or_default();
        Ok(StoppedServer {
            exit_code: seen.last_exit(),
            oom_killed: false,
            restart_count: seen.restarts(),
            stop_requested_at: Some(stop_requested_at),
            down_at: seen.down_at(),
            events: seen.events(),
            stats,
            log_tail: seen.log_tail(),
            stop_took,
            app_log: read_app_log(&entry.request_log),
            remove_took: removing.elapsed(),
        })
    }

    fn not_enforced(&self, server: &Server) -> Vec<String> {
        not_enforced(&server.limits)
    }

    async fn act(
        &self,
        running: &RunningServer,
        act: crate::runtime::Act,
    ) -> Result<crate::runtime::ActTarget, RuntimeError> {
        let pgid = self
            .running
            .lock()
            .unwrap()
            .get(&running.id)
            .map(|entry| entry.supervisor.seen.pgid.load(Ordering::SeqCst))
            .unwrap_or(0);
        act::act(&running.name, pgid, act)
    }

    async fn shutdown(&self) -> Result<usize, RuntimeError> {
        let left: Vec<Running> = self
            .running
            .lock()
            .unwrap()
            .drain()
            .map(|(_, r)| r)
            .collect();
        let count = left.len();
        for running in left {
            running.stats_stop.cancel();
            running.supervisor.stop().await;
        }
        Ok(count + self.groups.kill_all())
    }
}

/// Kill the process groups earlier local runs left (their labour is gone,
/// or, with `all_runs`, any run but `own_run`): found by the owner each
/// server process carries in its environment, never by name.
pub(crate) fn sweep(own_run: &str, all_runs: bool) -> Swept {
    let mut groups: Vec<i32> = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Swept::default();
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let variable = |name: &str| {
            environ.split(|&b| b == 0).find_map(|pair| {
                let text = std::str::from_utf8(pair).ok()?;
                text.strip_prefix(name)?
                    .strip_prefix('=')
                    .map(str::to_string)
            })
        };
        let Some(owner) = variable(OWNER_VARIABLE) else {
            continue;
        };
        let run = variable("LABOUR_RUN").unwrap_or_default();
        let over = run != own_run
            && (all_runs
                || Owner::parse(&owner)
                    .and_then(|owner| owner.is_gone())
                    .unwrap_or(false));
        if !over {
            continue;
        }
        // SAFETY: getpgid has no memory effects.
        let pgid = unsafe { libc::getpgid(pid) };
        if pgid > 1 && !groups.contains(&pgid) {
            groups.push(pgid);
        }
    }
    for &pgid in &groups {
        // SAFETY: killpg has no memory effects; a group that is gone
        // answers ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
    Swept {
        process_groups: groups,
        ..Swept::default()
    }
}

impl Drop for LocalRuntime {
    /// Whatever the path out (a panic included), no server outlives labour.
    fn drop(&mut self) {
        self.groups.kill_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_that_cannot_be_enforced_are_named() {
        let limits = Limits {
            memory_bytes: Some(64 << 20),
            cpus: Some(0.5),
            ..Limits::default()
        };
        let notes = not_enforced(&limits);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("memory limit 64.0 MiB not enforced"),
            "{notes:?}"
        );
        assert!(not_enforced(&Limits::default()).is_empty());
    }
}
