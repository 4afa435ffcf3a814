//! Faults carried out on a local server: signals to the processes of its
//! group, SIGSTOP and SIGCONT of the whole group for a pause.

use crate::plan::Signal;
use crate::runtime::{Act, ActTarget, RuntimeError, ServerProcess, send_signal as send, workers};

/// The processes of group `pgid`, from /proc.
fn group(pgid: i32) -> Vec<ServerProcess> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    all.flatten()
        .filter_map(|process| process.stat().ok())
        .filter(|stat| stat.pgrp == pgid)
        .map(|stat| ServerProcess {
            pid: stat.pid as u32,
            ppid: stat.ppid as u32,
            name: stat.comm,
        })
        .collect()
}

fn send_group(pgid: i32, signal: Signal) -> Result<(), std::io::Error> {
    // SAFETY: as above, for the server's own group.
    match unsafe { libc::killpg(pgid, signal.number()) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Carry out `act` on the server whose group is `pgid` (its keeper leads
/// it; the server is the keeper's child).
pub(super) fn act(server: &str, pgid: i32, act: Act) -> Result<ActTarget, RuntimeError> {
    let failed = |reason: String| RuntimeError::Engine {
        operation: format!("{act:?} on {server}"),
        reason,
    };
    if pgid <= 0 {
        return Err(failed("the server is not running".into()));
    }
    let top = pgid as u32;
    let processes = group(pgid);
    let target = |process: &ServerProcess, of: usize| ActTarget {
        pid: Some(process.pid),
        description: format!(
            "pid {} ({}), 1 of {of} worker(s)",
            process.pid, process.name
        ),
    };
    match act {
        Act::SignalWorker { signal, pick } => {
            let workers = workers(&processes, top);
            if workers.is_empty() {
                return Err(failed("no worker process is running".into()));
            }
            let worker = &workers[(pick % workers.len() as u64) as usize];
            send(worker.pid, signal).map_err(|e| failed(e.to_string()))?;
            Ok(target(worker, workers.len()))
        }
        Act::SignalPid { signal, pid } => {
            // Only a process still in the server's group: a pid the kernel
            // gave to someone else since is left alone.
            if !processes.iter().any(|p| p.pid == pid) {
                return Err(failed(format!("pid {pid} is no longer the server's")));
            }
            send(pid, signal).map_err(|e| failed(e.to_string()))?;
            Ok(ActTarget {
                pid: Some(pid),
                description: format!("pid {pid}"),
            })
        }
        Act::SignalServer(signal) => {
            let server_process = processes
                .iter()
                .find(|p| p.ppid == top)
                .ok_or_else(|| failed("the server process is gone".into()))?;
            send(server_process.pid, signal).map_err(|e| failed(e.to_string()))?;
            Ok(ActTarget {
                pid: Some(server_process.pid),
                description: format!("pid {} ({})", server_process.pid, server_process.name),
            })
        }
        Act::Pause | Act::Unpause => {
            let signal = if act == Act::Pause {
                Signal::Stop
            } else {
                Signal::Cont
            };
            send_group(pgid, signal).map_err(|e| failed(e.to_string()))?;
            Ok(ActTarget {
                pid: None,
                description: format!("process group {pgid}"),
            })
        }
        Act::Restart => Err(RuntimeError::Unsupported {
            server: server.to_string(),
            reason: "the local runtime does not restart a server on request".into(),
        }),
    }
}
