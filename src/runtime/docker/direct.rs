//! Signals sent to a container's processes from this host, without the
//! engine: when the engine runs on this machine, a container's processes
//! are this host's processes, listed in its cgroup. Finding a worker and
//! signalling it is then a few reads of /proc and one `kill(2)`, a
//! millisecond or two whatever the engine is doing, where an `exec` in
//! the container waits on a busy engine for seconds.
//!
//! A pause is the container's cgroup freezer written directly, as runc
//! does for `docker pause`, and thawed the same way (the faults thaw every
//! freeze before the load ends, and the runtime thaws a container before it
//! stops or sweeps it).
//!
//! Used only when it can be: the container's first process is visible
//! here, its cgroup names the container, and labour may signal it.
//! Otherwise the runtime's `exec` path (and the engine's pause) carries
//! the act out.

use std::path::{Path, PathBuf};

use bollard::query_parameters::InspectContainerOptions;

use super::DockerRuntime;
use crate::runtime::{
    Act, ActTarget, DirectActs, RunningServer, RuntimeError, ServerProcess, send_signal as send,
    workers,
};

/// The cgroup v1 hierarchies that list every process of a container (any
/// one does), then cgroup v2's single one (`""`).
const HIERARCHIES: [&str; 4] = ["pids", "memory", "cpu", ""];

/// A container's processes as this host sees them.
pub(super) struct HostProcesses {
    /// The container's name, for errors.
    name: String,
    /// Its `cgroup.procs`: the host pids of all its processes, and of
    /// nothing else, across restarts.
    procs: PathBuf,
    /// Its freezer: cgroup v1's `freezer.state` or v2's `cgroup.freeze`,
    /// what `docker pause` writes through runc.
    freezer: Option<Freezer>,
}

/// Where a container's cgroup freezes it.
#[derive(Debug, Clone, PartialEq)]
enum Freezer {
    /// cgroup v1: `FROZEN` or `THAWED` into `freezer.state`.
    V1(PathBuf),
    /// cgroup v2: `1` or `0` into `cgroup.freeze`.
    V2(PathBuf),
}

/// How long a freeze may take to settle before it is an error.
const FREEZE_SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

impl Freezer {
    /// The freezer of the container `id` from its first process's cgroups.
    fn of(cgroups: &str, id: &str, root: &Path) -> Option<Freezer> {
        for line in cgroups.lines() {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            if !path.contains(id) {
                continue;
            }
            let path = path.trim_start_matches('/');
            if controllers.split(',').any(|c| c == "freezer") {
                let file = root.join(controllers).join(path).join("freezer.state");
                if file.exists() {
                    return Some(Freezer::V1(file));
                }
            } else if controllers.is_empty() {
                let file = root.join(path).join("cgroup.freeze");
                if file.exists() {
                    return Some(Freezer::V2(file));
                }
            }
        }
        None
    }

    /// Freeze (or thaw) every process of the cgroup, and wait until the
    /// kernel says it is done.
    fn set(&self, frozen: bool) -> std::io::Result<()> {
        let (file, word, done): (&Path, &str, &str) = match (self, frozen) {
            (Freezer::V1(file), true) => (file, "FROZEN", "FROZEN"),
            (Freezer::V1(file), false) => (file, "THAWED", "THAWED"),
            (Freezer::V2(file), true) => (file, "1", "1"),
            (Freezer::V2(file), false) => (file, "0", "0"),
        };
        let deadline = std::time::Instant::now() + FREEZE_SETTLE;
        loop {
            // v1 may stay FREEZING while a task is in a system call: write
            // again until it holds (what runc does).
            std::fs::write(file, word)?;
            let state = match self {
                Freezer::V1(_) => std::fs::read_to_string(file)?,
                // v2 reports the settled state in cgroup.events.
                Freezer::V2(file) => std::fs::read_to_string(file.with_file_name("cgroup.events"))?
                    .lines()
                    .find_map(|l| l.strip_prefix("frozen "))
                    .unwrap_or(done)
                    .to_string(),
            };
            if state.trim() == done {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(std::io::Error::other(format!(
                    "{} still says {:?}",
                    file.display(),
                    state.trim()
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

impl DockerRuntime {
    /// Signals from this host for `running`, when they can reach it.
    pub(super) async fn host_processes(&self, running: &RunningServer) -> Option<HostProcesses> {
        let inspect = self
            .docker
            .inspect_container(&running.id, None::<InspectContainerOptions>)
            .await
            .ok()?;
        let pid = inspect.state?.pid.filter(|&pid| pid > 0)?;
        let full_id = inspect.id.unwrap_or_else(|| running.id.clone());
        let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let procs = procs_file(&cgroups, &full_id, Path::new("/sys/fs/cgroup"))?;
        let pids = read_pids(&procs).ok()?;
        if !pids.contains(&(pid as u32)) {
            return None;
        }
        // Signal 0: whether labour may signal the container's processes.
        // SAFETY: kill with signal 0 checks permission and sends nothing.
        if unsafe { libc::kill(pid as i32, 0) } != 0 {
            return None;
        }
        Some(HostProcesses {
            name: running.name.clone(),
            procs,
            freezer: Freezer::of(&cgroups, &full_id, Path::new("/sys/fs/cgroup")),
        })
    }
}

/// The `cgroup.procs` of the container `id` from its first process's
/// `/proc/<pid>/cgroup` (`N:controllers:/path` lines), under `root`.
fn procs_file(cgroups: &str, id: &str, root: &Path) -> Option<PathBuf> {
    for hierarchy in HIERARCHIES {
        for line in cgroups.lines() {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let matches = if hierarchy.is_empty() {
                controllers.is_empty()
            } else {
                controllers.split(',').any(|c| c == hierarchy)
            };
            if !matches || !path.contains(id) {
                continue;
            }
            let mut dir = root.to_path_buf();
            if !hierarchy.is_empty() {
                // cpu is often mounted as cpu,cpuacct: its own folder name.
                dir.push(controllers);
            }
            dir.push(path.trim_start_matches('/'));
            let procs = dir.join("cgroup.procs");
            if procs.exists() {
                return Some(procs);
            }
            // The hierarchy may be mounted under its first controller only.
            let mut dir = root.join(hierarchy);
            dir.push(path.trim_start_matches('/'));
            let procs = dir.join("cgroup.procs");
            if !hierarchy.is_empty() && procs.exists() {
                return Some(procs);
            }
        }
    }
    None
}

/// Thaw container `id` if its freezer (as Docker's cgroupfs or systemd
/// driver names it, v1 or v2) says it is frozen: a freeze of labour's that
/// outlived its fault (a labour killed mid-pause) would otherwise keep the
/// engine from stopping it. Best effort, with no engine call.
pub(super) fn thaw_if_frozen(id: &str) {
    let root = Path::new("/sys/fs/cgroup");
    let scope = format!("system.slice/docker-{id}.scope");
    let candidates = [
        Freezer::V1(root.join("freezer/docker").join(id).join("freezer.state")),
        Freezer::V1(root.join("freezer").join(&scope).join("freezer.state")),
        Freezer::V2(root.join(&scope).join("cgroup.freeze")),
        Freezer::V2(root.join("docker").join(id).join("cgroup.freeze")),
    ];
    for freezer in candidates {
        let (Freezer::V1(file) | Freezer::V2(file)) = &freezer;
        let Ok(state) = std::fs::read_to_string(file) else {
            continue;
        };
        if matches!(state.trim(), "FROZEN" | "FREEZING" | "1") {
            let _ = freezer.set(false);
        }
        return;
    }
}

fn read_pids(procs: &Path) -> std::io::Result<Vec<u32>> {
    Ok(std::fs::read_to_string(procs)?
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect())
}

impl HostProcesses {
    fn failed(&self, act: Act) -> impl Fn(String) -> RuntimeError + '_ {
        move |reason| RuntimeError::Engine {
            operation: format!("{act:?} on {} from this host", self.name),
            reason,
        }
    }

    /// The container's processes now, and the first of them (its init):
    /// the one whose parent is outside the container, started first.
    fn processes(&self, act: Act) -> Result<(Vec<ServerProcess>, u32), RuntimeError> {
        let failed = self.failed(act);
        let pids = read_pids(&self.procs).map_err(|e| failed(e.to_string()))?;
        let mut processes = Vec::with_capacity(pids.len());
        let mut top: Option<(u64, u32)> = None;
        for pid in &pids {
            // A process may exit between the list and its stat.
            let Ok(stat) = procfs::process::Process::new(*pid as i32).and_then(|p| p.stat()) else {
                continue;
            };
            let ppid = stat.ppid as u32;
            if !pids.contains(&ppid) && top.is_none_or(|(start, _)| stat.starttime < start) {
                top = Some((stat.starttime, *pid));
            }
            processes.push(ServerProcess {
                pid: *pid,
                ppid,
                name: stat.comm,
            });
        }
        let (_, top) = top.ok_or_else(|| failed("the container has no process".into()))?;
        Ok((processes, top))
    }
}

impl DirectActs for HostProcesses {
    fn can(&self, act: Act) -> bool {
        match act {
            Act::SignalWorker { .. } | Act::SignalPid { .. } | Act::SignalServer(_) => true,
            Act::Pause | Act::Unpause => self.freezer.is_some(),
            Act::Restart => false,
        }
    }

    fn act(&self, act: Act) -> Result<ActTarget, RuntimeError> {
        let failed = self.failed(act);
        if let (Act::Pause | Act::Unpause, Some(freezer)) = (act, &self.freezer) {
            freezer
                .set(act == Act::Pause)
                .map_err(|e| failed(e.to_string()))?;
            return Ok(ActTarget {
                pid: None,
                description: "the container".into(),
            });
        }
        let (processes, top) = self.processes(act)?;
        match act {
            Act::SignalWorker { signal, pick } => {
                let workers = workers(&processes, top);
                if workers.is_empty() {
                    return Err(RuntimeError::Unsupported {
                        server: self.name.clone(),
                        reason: "no worker process is running".into(),
                    });
                }
                let worker = &workers[(pick % workers.len() as u64) as usize];
                send(worker.pid, signal).map_err(|e| failed(e.to_string()))?;
                Ok(ActTarget {
                    pid: Some(worker.pid),
                    description: format!(
                        "host pid {} ({}), 1 of {} worker(s)",
                        worker.pid,
                        worker.name,
                        workers.len()
                    ),
                })
            }
            Act::SignalPid { signal, pid } => {
                // Only a process still in the container: a pid the kernel
                // gave to someone else since is left alone.
                if !processes.iter().any(|p| p.pid == pid) {
                    return Err(failed(format!("pid {pid} is no longer the server's")));
                }
                send(pid, signal).map_err(|e| failed(e.to_string()))?;
                Ok(ActTarget {
                    pid: Some(pid),
                    description: format!("host pid {pid}"),
                })
            }
            Act::SignalServer(signal) => {
                // What `docker kill --signal` does: the container's first
                // process (the init, which passes it on).
                send(top, signal).map_err(|e| failed(e.to_string()))?;
                Ok(ActTarget {
                    pid: None,
                    description: "the container".into(),
                })
            }
            _ => Err(failed("not an act for this host".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_procs_file_is_found_in_a_v1_hierarchy_that_names_the_container() {
        let root = tempfile::tempdir().unwrap();
        let id = "0123abcd";
        let dir = root.path().join("pids/docker").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cgroup.procs"), "42\n43\n").unwrap();
        let cgroups = format!("9:freezer:/docker/{id}\n8:pids:/docker/{id}\n0::/\n");
        let found = procs_file(&cgroups, id, root.path()).unwrap();
        assert_eq!(found, dir.join("cgroup.procs"));
        assert_eq!(read_pids(&found).unwrap(), vec![42, 43]);
    }

    #[test]
    fn the_freezer_is_found_and_written_in_v1() {
        let root = tempfile::tempdir().unwrap();
        let id = "0123abcd";
        let dir = root.path().join("freezer/docker").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("freezer.state"), "THAWED\n").unwrap();
        let cgroups = format!("9:freezer:/docker/{id}\n8:pids:/docker/{id}\n");
        let freezer = Freezer::of(&cgroups, id, root.path()).unwrap();
        assert_eq!(freezer, Freezer::V1(dir.join("freezer.state")));
        // A plain file holds what was written, as a settled freezer reads.
        freezer.set(true).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("freezer.state")).unwrap(),
            "FROZEN"
        );
        freezer.set(false).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("freezer.state")).unwrap(),
            "THAWED"
        );
        assert_eq!(Freezer::of(&cgroups, "ffff", root.path()), None);
    }

    #[test]
    fn the_procs_file_is_found_in_v2_and_not_for_another_container() {
        let root = tempfile::tempdir().unwrap();
        let id = "0123abcd";
        let dir = root.path().join(format!("system.slice/docker-{id}.scope"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cgroup.procs"), "7\n").unwrap();
        let cgroups = format!("0::/system.slice/docker-{id}.scope\n");
        assert_eq!(
            procs_file(&cgroups, id, root.path()),
            Some(dir.join("cgroup.procs"))
        );
        assert_eq!(procs_file(&cgroups, "ffff", root.path()), None);
    }
}
