//! Who made a container, an image tag or a process group: the host, the
//! process id and that process's start time (a pid alone is reused). A
//! run's leftovers (after `kill -9`, a panic, a power cut) carry an owner
//! that is gone, and the next run on the same host removes them; nothing
//! without labour's labels is ever touched.

use std::fmt;

/// Label (and environment variable, for local processes) carrying the
/// owner.
pub(crate) const OWNER_LABEL: &str = "labour.owner";
/// The environment variable that marks every local server process.
pub(crate) const OWNER_VARIABLE: &str = "LABOUR_OWNER";

/// The labour process that made something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    /// The host's name.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// Its start time, in clock ticks since boot.
    pub start: u64,
}

/// This machine's name.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .unwrap_or_else(|| "localhost".into())
}

/// When process `pid` started, in clock ticks since boot.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields
    // counted from after its closing one.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

impl Owner {
    /// This labour process.
    pub(crate) fn current() -> Owner {
        let pid = std::process::id();
        Owner {
            host: host_name(),
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    }

    /// An owner as written in a label: `host/pid/start`.
    pub(crate) fn parse(text: &str) -> Option<Owner> {
        let mut parts = text.rsplitn(3, '/');
        let start = parts.next()?.parse().ok()?;
        let pid = parts.next()?.parse().ok()?;
        let host = parts.next()?.to_string();
        Some(Owner { host, pid, start })
    }

    /// Whether this owner is gone: `None` when it lived on another host
    /// (this one cannot tell).
    pub(crate) fn is_gone(&self) -> Option<bool> {
        if self.host != host_name() {
            return None;
        }
        Some(start_time(self.pid) != Some(self.start))
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.host, self.pid, self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_not_gone_and_a_dead_one_is() {
        let me = Owner::current();
        assert!(me.start > 0);
        assert_eq!(Owner::parse(&me.to_string()), Some(me.clone()));
        assert_eq!(me.is_gone(), Some(false));
        let reborn = Owner {
            start: me.start + 1,
            ..me.clone()
        };
        assert_eq!(reborn.is_gone(), Some(true), "the same pid, started again");
        let elsewhere = Owner {
            host: "another-host".into(),
            ..me
        };
        assert_eq!(elsewhere.is_gone(), None);
        assert_eq!(Owner::parse("a/b"), None);
    }
}
