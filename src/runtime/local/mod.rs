//! The local runtime: servers as processes on this machine, no Docker. Per
//! server a virtualenv in the user's cache (keyed by its pinned
//! requirements and the interpreter), the stress application from the
//! images tree, the catalogue's command run on 127.0.0.1 in a process group
//! of its own, supervised as a container would be.

mod procstat;
mod supervise;

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::supervise::{Groups, LaunchSpec, Seen, Supervisor};
use super::ports::{Port, Ports};
use super::probe::Readiness;
use super::{
    EngineInfo, LOG_TAIL_LINES, PreparedImage, RunningServer, Runtime, RuntimeError, StatsSample,
    StoppedServer, labour_cache_dir, new_run_id,
};
use crate::catalogue::Server;
use crate::images::Images;
use crate::plan::{ContainerOptions, Limits};
use crate::units::{fnv1a, format_bytes};

/// Written into a virtualenv once pip has installed everything.
const COMPLETE_MARKER: &str = ".labour-complete";
/// Interpreters older than this cannot run the stress application.
const OLDEST_PYTHON: (u32, u32) = (3, 8);

/// The interpreter virtualenvs are made from.
#[derive(Debug, Clone)]
struct Python {
    program: PathBuf,
    version: String,
}

impl Python {
    /// `LABOUR_PYTHON`, or `python3` from PATH; 3.8 or newer.
    fn find() -> Result<Python, RuntimeError> {
        let program =
            std::env::var_os("LABOUR_PYTHON").unwrap_or_else(|| OsString::from("python3"));
        let unavailable = |reason: String| RuntimeError::LocalUnavailable { reason };
        let (python, major_minor) =
            Python::probe(&program, "LABOUR_PYTHON").map_err(unavailable)?;
        if major_minor < OLDEST_PYTHON {
            return Err(unavailable(format!(
                "{} is Python {}; the stress application needs 3.8 or newer (LABOUR_PYTHON names another)",
                python.program.display(),
                python.version
            )));
        }
        Ok(python)
    }

    /// `LABOUR_PYTHON27`, or `python2.7` from PATH, with virtualenv (the
    /// seed's Python 2 servers); the error says why there is none.
    fn find_py27() -> Result<Python, String> {
        let program =
            std::env::var_os("LABOUR_PYTHON27").unwrap_or_else(|| OsString::from("python2.7"));
        let (python, major_minor) = Python::probe(&program, "LABOUR_PYTHON27")?;
        if major_minor != (2, 7) {
            return Err(format!(
                "{} is Python {}, not 2.7 (LABOUR_PYTHON27 names another)",
                python.program.display(),
                python.version
            ));
        }
        let virtualenv = std::process::Command::new(&python.program)
            .args(["-m", "virtualenv", "--version"])
            .stdin(Stdio::null())
            .output();
        if !virtualenv.is_ok_and(|output| output.status.success()) {
            return Err(format!(
                "{} has no virtualenv (pip install virtualenv==16.7.12 for it)",
                python.program.display()
            ));
        }
        Ok(python)
    }

    /// Run `program` for its version and path; `variable` names the
    /// environment variable that picks another.
    fn probe(program: &std::ffi::OsStr, variable: &str) -> Result<(Python, (u32, u32)), String> {
        let output = std::process::Command::new(program)
            .args([
                "-c",
                "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|error| {
                format!(
                    "cannot run {} ({error}); {variable} names another interpreter",
                    Path::new(program).display()
                )
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines = text.lines();
        let (Some(version), Some(executable)) = (lines.next(), lines.next()) else {
            return Err(format!(
                "{} did not say its version: {}",
                Path::new(program).display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        };
        let mut parts = version.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
        let major_minor = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        Ok((
            Python {
                program: PathBuf::from(executable),
                version: version.to_string(),
            },
            major_minor,
        ))
    }
}

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
    _port: Port,
    stats_stop: CancellationToken,
    stats: JoinHandle<Vec<StatsSample>>,
}

/// Servers as local processes.
pub struct LocalRuntime {
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
}

/// An I/O error at `path` while preparing `server`, as a build error.
fn file_error(server: &str, path: &Path) -> impl FnOnce(std::io::Error) -> RuntimeError {
    let (server, path) = (server.to_string(), path.display().to_string());
    move |error| RuntimeError::Build {
        server,
        reason: format!("{path}: {error}"),
        log_tail: Vec::new(),
        log_file: None,
    }
}

/// The limits the local runtime cannot enforce, in words.
pub fn not_enforced(limits: &Limits) -> Vec<String> {
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
    pub fn new(
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
            groups: Arc::new(Groups::default()),
            started: AtomicU64::new(0),
            ports: Ports::new(),
        })
    }

    /// Copy the application and the server's own files out of the images
    /// tree into this run's working directory.
    fn write_files(&self, server: &Server) -> Result<(PathBuf, PathBuf), RuntimeError> {
        let fail = |reason: String| RuntimeError::Build {
            server: server.name.clone(),
            reason,
            log_tail: Vec::new(),
            log_file: None,
        };
        let root = self.work.path().join(&server.name);
        let app = root.join("app");
        let files = root.join("labour");
        let mut wanted = self
            .images
            .files_under("app")
            .map_err(|e| fail(e.to_string()))?
            .into_iter()
            .map(|file| {
                (
                    app.join(file.path.strip_prefix("app").unwrap_or(&file.path)),
                    file,
                )
            })
            .collect::<Vec<_>>();
        for file in self
            .images
            .files_under(&server.name)
            .map_err(|e| fail(e.to_string()))?
        {
            let relative = file
                .path
                .strip_prefix(&server.name)
                .unwrap_or(&file.path)
                .to_path_buf();
            if relative == Path::new("Dockerfile") || relative == Path::new("requirements.txt") {
                continue;
            }
            wanted.push((files.join(relative), file));
        }
        // The working directory of the server, even if the tree has no
        // file in it; the files' own folders are made as they are written.
        std::fs::create_dir_all(&app).map_err(file_error(&server.name, &app))?;
        for (path, file) in wanted {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(file_error(&server.name, parent))?;
            }
            std::fs::write(&path, &file.contents).map_err(file_error(&server.name, &path))?;
        }
        Ok((app, files))
    }

    /// The interpreter `server` runs on: Python 2.7 for a 2.7 server
    /// (skipped, with why, when this machine has none), the runtime's
    /// Python 3 for the others.
    fn interpreter(&self, server: &Server) -> Result<&Python, RuntimeError> {
        if !server.is_python27() {
            return Ok(&self.python);
        }
        self.python27
            .as_ref()
            .map_err(|reason| RuntimeError::Unsupported {
                server: server.name.clone(),
                reason: format!("it runs on Python 2.7: {reason}; run it with --runtime docker"),
            })
    }

    /// The server's virtualenv, made with `interpreter` if missing (`-m
    /// venv` on Python 3, `-m virtualenv` on 2.7); `None` for a server
    /// without requirements (it runs on the interpreter itself).
    async fn virtualenv(
        &self,
        server: &Server,
        interpreter: &Python,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<Option<(PathBuf, String)>, RuntimeError> {
        let Ok(requirements) = self
            .images
            .read(&format!("{}/requirements.txt", server.name))
        else {
            return Ok(None);
        };
        let key = fnv1a(&[
            server.name.as_bytes(),
            interpreter.program.as_os_str().as_encoded_bytes(),
            interpreter.version.as_bytes(),
            &requirements,
        ]);
        let key = format!("{key:016x}");
        let venv = self.venvs.join(format!("{}-{}", server.name, &key[..12]));
        let fail = |reason: String, log_file: Option<&Path>| RuntimeError::Build {
            server: server.name.clone(),
            reason,
            log_tail: log_file.map(read_tail).unwrap_or_default(),
            log_file: log_file.map(Path::to_path_buf),
        };
        std::fs::create_dir_all(&self.venvs).map_err(file_error(&server.name, &self.venvs))?;
        // Another labour may be making the same virtualenv: one at a time.
        let lock_path = venv.with_extension("lock");
        let lock =
            std::fs::File::create(&lock_path).map_err(file_error(&server.name, &lock_path))?;
        let lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
            .await
            .map_err(|e| fail(e.to_string(), None))?
            .map_err(|e| fail(format!("locking {}: {e}", lock_path.display()), None))?;
        if venv.join(COMPLETE_MARKER).is_file() {
            on_step(&format!("virtualenv {} (cached)", venv.display()));
            drop(lock);
            return Ok(Some((venv, key)));
        }
        if venv.exists() {
            std::fs::remove_dir_all(&venv).map_err(|e| {
                fail(
                    format!("removing the unfinished {}: {e}", venv.display()),
                    None,
                )
            })?;
        }
        let log_dir = self
            .options
            .build_log_dir
            .clone()
            .unwrap_or_else(|| self.venvs.clone());
        std::fs::create_dir_all(&log_dir).map_err(file_error(&server.name, &log_dir))?;
        let log_path = log_dir.join(format!("{}.local.log", server.name));
        let mut log =
            std::fs::File::create(&log_path).map_err(file_error(&server.name, &log_path))?;
        let requirements_path = venv.with_extension("requirements.txt");
        std::fs::write(&requirements_path, &requirements)
            .map_err(file_error(&server.name, &requirements_path))?;
        let python = venv.join("bin").join("python");
        let module = if server.is_python27() {
            "virtualenv"
        } else {
            "venv"
        };
        let steps: [(String, Vec<OsString>); 2] = [
            (
                format!(
                    "{} -m {module} {}",
                    interpreter.program.display(),
                    venv.display()
                ),
                vec![
                    interpreter.program.clone().into(),
                    "-m".into(),
                    module.into(),
                    venv.clone().into(),
                ],
            ),
            (
                "pip install -r requirements.txt".into(),
                vec![
                    python.into(),
                    "-m".into(),
                    "pip".into(),
                    "install".into(),
                    "--disable-pip-version-check".into(),
                    "--no-input".into(),
                    "-r".into(),
                    requirements_path.clone().into(),
                ],
            ),
        ];
        for (words, argv) in steps {
            on_step(&words);
            let _ = writeln!(log, "$ {words}");
            let result = self.run_logged(&argv, &mut log).await;
            match result {
                Ok(()) => {}
                Err(StepError::Interrupted) => return Err(RuntimeError::Interrupted),
                Err(StepError::Failed(reason)) => {
                    let _ = std::fs::remove_dir_all(&venv);
                    let hint = if words.contains("-m venv") {
                        " (on Debian and Ubuntu the venv module is the python3-venv package)"
                    } else {
                        ""
                    };
                    return Err(fail(format!("{words}: {reason}{hint}"), Some(&log_path)));
                }
            }
        }
        std::fs::write(venv.join(COMPLETE_MARKER), &requirements)
            .map_err(file_error(&server.name, &venv))?;
        drop(lock);
        Ok(Some((venv, key)))
    }

    /// Run `argv` with its output appended to `log`.
    async fn run_logged(
        &self,
        argv: &[OsString],
        log: &mut std::fs::File,
    ) -> Result<(), StepError> {
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                StepError::Failed(format!("cannot run {}: {e}", Path::new(&argv[0]).display()))
            })?;
        let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = lines_tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        drop(lines_tx);
        let status = loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return Err(StepError::Interrupted),
                line = lines_rx.recv() => match line {
                    Some(line) => { let _ = writeln!(log, "{line}"); }
                    None => break child.wait().await,
                },
            }
        };
        match status {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(StepError::Failed(format!("exited with {status}"))),
            Err(error) => Err(StepError::Failed(error.to_string())),
        }
    }

    /// The catalogue's command for this machine: `/opt/venv`, `/app` and
    /// `/opt/labour` mapped onto the prepared directories, a bare `python3`
    /// (or `python2.7`) onto the virtualenv's interpreter.
    fn launch_spec(&self, server: &Server, prepared: &Prepared, port: u16) -> LaunchSpec {
        let interpreter = match &prepared.venv {
            Some(venv) => venv.join("bin").join("python"),
            None => prepared.interpreter.clone(),
        };
        let map = |arg: &str| -> String {
            if ["python3", "python", "python2.7"].contains(&arg) {
                return interpreter.display().to_string();
            }
            let mut arg = arg.to_string();
            if let Some(venv) = &prepared.venv {
                arg = arg.replace("/opt/venv/", &format!("{}/", venv.display()));
            }
            arg.replace("/opt/labour/", &format!("{}/", prepared.files.display()))
                .replace("/app/", &format!("{}/", prepared.app.display()))
        };
        let mut command: Vec<String> = server
            .command_for("127.0.0.1", port)
            .iter()
            .map(|arg| map(arg))
            .collect();
        let program = PathBuf::from(command.remove(0));
        let mut path = OsString::new();
        if let Some(venv) = &prepared.venv {
            path.push(venv.join("bin"));
            path.push(":");
        }
        path.push(std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()));
        let mut env = vec![
            ("PYTHONPATH".to_string(), prepared.app.display().to_string()),
            ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
            ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
            ("PATH".to_string(), path.to_string_lossy().into_owned()),
            // Marks every process of this run, so a leak can be found.
            ("LABOUR_RUN".to_string(), self.run_id.clone()),
        ];
        if let Some(venv) = &prepared.venv {
            env.push(("VIRTUAL_ENV".to_string(), venv.display().to_string()));
        }
        LaunchSpec {
            program,
            args: command,
            env,
            cwd: prepared.app.clone(),
        }
    }

    /// Wait until the server answers; fail fast, with its log tail, when
    /// it dies first.
    async fn wait_ready(
        &self,
        server: &str,
        seen: &Seen,
        address: SocketAddr,
    ) -> Result<(), RuntimeError> {
        let readiness = Readiness {
            server,
            address,
            timeout: self.options.ready_timeout,
            cancel: &self.cancel,
        };
        let gone = || async {
            match seen.first_death() {
                Some(exit_code) => Err(RuntimeError::ExitedEarly {
                    server: server.to_string(),
                    exit_code,
                    log_tail: seen.log_tail(),
                }),
                None => Ok(()),
            }
        };
        readiness.wait(gone, || async { seen.log_tail() }).await
    }
}

enum StepError {
    Interrupted,
    Failed(String),
}

/// The last lines of a log file.
fn read_tail(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..]
        .iter()
        .map(|line| line.to_string())
        .collect()
}

/// Kernel release, operating system name and memory of this machine.
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
        let spec = self.launch_spec(server, &prepared, port);
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
            _port: held,
            stats_stop,
            stats,
        };
        if let Err(error) = ready {
            running.stats_stop.cancel();
            running.supervisor.stop().await;
            return Err(error);
        }
        self.running.lock().unwrap().insert(name.clone(), running);
        Ok(RunningServer {
            server: server.name.clone(),
            id: name.clone(),
            name,
            address,
            ready_at: Instant::now(),
            startup: started.elapsed(),
            down,
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
            remove_took: removing.elapsed(),
        })
    }

    fn not_enforced(&self, server: &Server) -> Vec<String> {
        not_enforced(&server.limits)
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
