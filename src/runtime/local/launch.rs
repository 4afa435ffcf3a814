//! Launching a server locally: the application and the server's own
//! files written out of the images tree, the catalogue's command mapped
//! onto this machine, and the wait until it answers.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::supervise::{LaunchSpec, Seen};
use super::{LocalRuntime, Prepared, file_error};
use crate::catalogue::Server;
use crate::runtime::owner::{OWNER_VARIABLE, Owner};
use crate::runtime::probe::{Readiness, Ready};
use crate::runtime::{RuntimeError, memory_limit_env};

impl LocalRuntime {
    /// Copy the application and the server's own files out of the images
    /// tree into this run's working directory.
    pub(super) fn write_files(&self, server: &Server) -> Result<(PathBuf, PathBuf), RuntimeError> {
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
            let build_only = [
                "Dockerfile",
                crate::catalogue::PINS_FILE,
                crate::catalogue::LOCK_FILE,
            ];
            if build_only.iter().any(|name| relative == Path::new(name)) {
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

    /// The catalogue's command for this machine: `/opt/venv`, `/app` and
    /// `/opt/labour` mapped onto the prepared directories, a bare `python3`
    /// (or `python2.7`) onto the virtualenv's interpreter.
    pub(super) fn launch_spec(
        &self,
        server: &Server,
        prepared: &Prepared,
        port: u16,
    ) -> LaunchSpec {
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
            // Marks every process of this run, so a leak can be found, and
            // the labour that started it, so a later run can sweep it.
            ("LABOUR_RUN".to_string(), self.run_id.clone()),
            (OWNER_VARIABLE.to_string(), Owner::current().to_string()),
        ];
        if let Some(venv) = &prepared.venv {
            env.push(("VIRTUAL_ENV".to_string(), venv.display().to_string()));
        }
        // As in a container: the stress app lifts its bounds on what a
        // request may allocate when told of a memory limit (which this
        // runtime records as not enforced).
        env.extend(memory_limit_env(&server.limits));
        LaunchSpec {
            program,
            args: command,
            env,
            cwd: prepared.app.clone(),
            keeper: self.keeper.clone(),
        }
    }

    /// Wait until the server answers; fail fast, with its log tail, when
    /// it dies first.
    pub(super) async fn wait_ready(
        &self,
        server: &str,
        seen: &Seen,
        address: SocketAddr,
    ) -> Result<Ready, RuntimeError> {
        let readiness = Readiness {
            server,
            path: crate::runtime::probe::READY_PATH,
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
