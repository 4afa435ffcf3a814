//! A server's limits and supervision: memory, CPUs, processes, the restart
//! policy and the init process; and the host's cap on listen queues.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where Linux says the longest listen queue it grants.
pub(crate) const SOMAXCONN_FILE: &str = "/proc/sys/net/core/somaxconn";

/// This host's `net.core.somaxconn`: the kernel silently shortens any
/// longer listen queue to it (and uWSGI refuses one longer). `None` where
/// it cannot be read (not Linux). With a remote engine (`DOCKER_HOST`) it
/// is this host's, not the engine's.
pub(crate) fn somaxconn() -> Option<u64> {
    parse_somaxconn(&std::fs::read_to_string(SOMAXCONN_FILE).ok()?)
}

/// The value of a `somaxconn` file: a positive whole number.
fn parse_somaxconn(text: &str) -> Option<u64> {
    text.trim().parse().ok().filter(|n| *n > 0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn somaxconn_is_a_positive_number_or_nothing() {
        assert_eq!(parse_somaxconn("4096\n"), Some(4096));
        assert_eq!(parse_somaxconn("0\n"), None);
        assert_eq!(parse_somaxconn("-1"), None);
        assert_eq!(parse_somaxconn(""), None);
        if std::path::Path::new(SOMAXCONN_FILE).exists() {
            assert!(somaxconn().is_some());
        }
    }
}
