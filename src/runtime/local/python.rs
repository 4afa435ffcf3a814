//! The interpreters servers run on, and each server's virtualenv in the
//! user's cache: keyed by its lock (or its pins) and the interpreter,
//! made once under a lock, reused while both stay the same.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::{LocalRuntime, file_error};
use crate::catalogue::{LOCK_FILE, PINS_FILE, Server};
use crate::runtime::{LOG_TAIL_LINES, RuntimeError};
use crate::units::fnv1a;

/// Written into a virtualenv once pip has installed everything.
const COMPLETE_MARKER: &str = ".labour-complete";
/// Interpreters older than this cannot run the stress application.
const OLDEST_PYTHON: (u32, u32) = (3, 8);

/// The interpreter virtualenvs are made from.
#[derive(Debug, Clone)]
pub(super) struct Python {
    pub program: PathBuf,
    pub version: String,
}

impl Python {
    /// `LABOUR_PYTHON`, or `python3` from PATH; 3.8 or newer.
    pub(super) fn find() -> Result<Python, RuntimeError> {
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
    pub(super) fn find_py27() -> Result<Python, String> {
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

impl LocalRuntime {
    /// The interpreter `server` runs on: Python 2.7 for a 2.7 server
    /// (skipped, with why, when this machine has none), the runtime's
    /// Python 3 for the others.
    pub(super) fn interpreter(&self, server: &Server) -> Result<&Python, RuntimeError> {
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
    pub(super) async fn virtualenv(
        &self,
        server: &Server,
        interpreter: &Python,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<Option<(PathBuf, String)>, RuntimeError> {
        // The lock (every package with its hashes) as the image installs
        // it; the bare pins only for a folder of the user's without one.
        let (requirements, locked) = match self.images.read(&format!("{}/{LOCK_FILE}", server.name))
        {
            Ok(lock) => (lock, true),
            Err(_) => match self.images.read(&format!("{}/{PINS_FILE}", server.name)) {
                Ok(pins) => (pins, false),
                Err(_) => return Ok(None),
            },
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
                if locked {
                    format!("pip install --require-hashes -r {LOCK_FILE}")
                } else {
                    format!("pip install -r {PINS_FILE}")
                },
                [
                    python.into(),
                    "-m".into(),
                    "pip".into(),
                    "install".into(),
                    "--disable-pip-version-check".into(),
                    "--no-input".into(),
                ]
                .into_iter()
                .chain(locked.then(|| "--require-hashes".into()))
                .chain(["-r".into(), requirements_path.clone().into()])
                .collect(),
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
