//! Faults carried out on a container: signals to the workers found in it
//! (by `exec`, from inside its pid namespace), Docker's pause, restart and
//! kill.

use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::{KillContainerOptions, RestartContainerOptions};
use futures_util::StreamExt;

use super::{DockerRuntime, engine_error};
use crate::runtime::{
    Act, ActTarget, RunningServer, RuntimeError, ServerProcess, parse_stat_lines, workers,
};

/// The pid of the container's first process: the init (or the server,
/// without one).
const TOP: u32 = 1;

/// How many times a pause is tried before its failure is the fault's.
const PAUSE_ATTEMPTS: u32 = 5;

/// The wait between two tries of a pause.
const PAUSE_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

impl DockerRuntime {
    /// Run `command` in container `id` as its own user; its stdout, or why
    /// it failed.
    async fn exec(&self, id: &str, command: &[&str]) -> Result<String, RuntimeError> {
        let operation = format!("running {:?} in container {id}", command.join(" "));
        let failed = |error| engine_error(operation.clone())(error);
        let created = self
            .docker
            .create_exec(
                id,
                CreateExecOptions {
                    cmd: Some(command.iter().map(|s| s.to_string()).collect()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(&failed)?;
        let mut stdout = String::new();
        let mut stderr = String::new();
        if let StartExecResults::Attached { mut output, .. } = self
            .docker
            .start_exec(&created.id, None)
            .await
            .map_err(&failed)?
        {
            while let Some(chunk) = output.next().await {
                match chunk {
                    Ok(bollard::container::LogOutput::StdOut { message }) => {
                        stdout.push_str(&String::from_utf8_lossy(&message));
                    }
                    Ok(bollard::container::LogOutput::StdErr { message }) => {
                        stderr.push_str(&String::from_utf8_lossy(&message));
                    }
                    Ok(_) => {}
                    Err(error) => return Err(failed(error)),
                }
            }
        }
        let inspect = self
            .docker
            .inspect_exec(&created.id)
            .await
            .map_err(&failed)?;
        match inspect.exit_code {
            Some(0) | None => Ok(stdout),
            Some(code) => Err(RuntimeError::Engine {
                operation: format!("{:?} in container {id}", command.join(" ")),
                reason: format!("exit code {code}: {}", stderr.trim()),
            }),
        }
    }

    /// The container's processes, as its own pid namespace numbers them.
    async fn processes(&self, id: &str) -> Result<Vec<ServerProcess>, RuntimeError> {
        // Every image has a shell; not every image has ps.
        let text = self
            .exec(id, &["sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null; true"])
            .await?;
        // The exec'd shell and cat have no parent in the namespace.
        Ok(parse_stat_lines(&text)
            .into_iter()
            .filter(|p| p.pid == TOP || p.ppid != 0)
            .collect())
    }

    /// Carry out `act` on the container of `running`.
    pub(super) async fn act_on(
        &self,
        running: &RunningServer,
        act: Act,
    ) -> Result<ActTarget, RuntimeError> {
        let id = running.id.as_str();
        let container = || ActTarget {
            pid: None,
            description: "the container".into(),
        };
        match act {
            Act::SignalWorker { signal, pick } => {
                let processes = self.processes(id).await?;
                let workers = workers(&processes, TOP);
                if workers.is_empty() {
                    return Err(RuntimeError::Unsupported {
                        server: running.name.clone(),
                        reason: "no worker process is running".into(),
                    });
                }
                let worker = &workers[(pick % workers.len() as u64) as usize];
                self.kill_pid(id, worker.pid, signal).await?;
                Ok(ActTarget {
                    pid: Some(worker.pid),
                    description: format!(
                        "pid {} ({}), 1 of {} worker(s)",
                        worker.pid,
                        worker.name,
                        workers.len()
                    ),
                })
            }
            Act::SignalPid { signal, pid } => {
                self.kill_pid(id, pid, signal).await?;
                Ok(ActTarget {
                    pid: Some(pid),
                    description: format!("pid {pid}"),
                })
            }
            Act::SignalServer(signal) => {
                let options = KillContainerOptions {
                    signal: signal.name().to_string(),
                };
                self.docker
                    .kill_container(id, Some(options))
                    .await
                    .map_err(engine_error(format!(
                        "sending {signal} to {}",
                        running.name
                    )))?;
                Ok(container())
            }
            Act::Pause => {
                self.pause(id, &running.name).await?;
                Ok(container())
            }
            Act::Unpause => {
                self.docker
                    .unpause_container(id)
                    .await
                    .map_err(engine_error(format!("unpausing {}", running.name)))?;
                Ok(container())
            }
            Act::Restart => {
                let grace = i32::try_from(self.options.stop_timeout.as_secs()).unwrap_or(i32::MAX);
                let restarting = self.restarting(id);
                let restarted = self
                    .docker
                    .restart_container(
                        id,
                        Some(RestartContainerOptions {
                            t: Some(grace),
                            ..Default::default()
                        }),
                    )
                    .await;
                drop(restarting);
                restarted.map_err(engine_error(format!("restarting {}", running.name)))?;
                Ok(container())
            }
        }
    }

    /// Docker's pause, tried up to [`PAUSE_ATTEMPTS`] times: on cgroup v1
    /// the freezer gives up ("unable to freeze") when it meets a task in
    /// the middle of a system call under load, and a moment later it
    /// succeeds. What fails every time is an error.
    async fn pause(&self, id: &str, name: &str) -> Result<(), RuntimeError> {
        let mut attempt = 1;
        loop {
            match self.docker.pause_container(id).await {
                Ok(()) => return Ok(()),
                Err(error)
                    if attempt < PAUSE_ATTEMPTS
                        && error.to_string().contains("unable to freeze") =>
                {
                    attempt += 1;
                    tokio::time::sleep(PAUSE_RETRY).await;
                }
                Err(error) => return Err(engine_error(format!("pausing {name}"))(error)),
            }
        }
    }

    /// `kill -s SIGNAL PID` inside container `id`.
    async fn kill_pid(
        &self,
        id: &str,
        pid: u32,
        signal: crate::plan::Signal,
    ) -> Result<(), RuntimeError> {
        let command = format!("kill -s {} {pid}", signal.name());
        self.exec(id, &["sh", "-c", &command]).await.map(|_| ())
    }
}
