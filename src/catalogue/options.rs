//! Server options, the seed's wish to "enrich server creation (number of
//! processes, etc.)": four knobs, each mapped per server onto its own flags,
//! or declared missing with a reason.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Server;
use crate::plan::options::KnobOptions;

/// A server setting labour knows how to ask for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Knob {
    /// Worker processes.
    Workers,
    /// Threads per worker process.
    Threads,
    /// Seconds before a stuck worker is killed and replaced.
    WorkerTimeout,
    /// Requests before a worker is recycled.
    MaxRequests,
}

impl Knob {
    /// Every knob, in listing order.
    pub const ALL: [Knob; 4] = [
        Knob::Workers,
        Knob::Threads,
        Knob::WorkerTimeout,
        Knob::MaxRequests,
    ];

    /// The value `options` asks for this knob.
    pub fn asked(self, options: &KnobOptions) -> Option<u64> {
        match self {
            Knob::Workers => options.workers,
            Knob::Threads => options.threads,
            Knob::WorkerTimeout => options.worker_timeout,
            Knob::MaxRequests => options.max_requests,
        }
    }

    /// The `bench` flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Knob::Workers => "--workers",
            Knob::Threads => "--threads",
            Knob::WorkerTimeout => "--worker-timeout",
            Knob::MaxRequests => "--max-requests",
        }
    }
}

impl fmt::Display for Knob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Knob::Workers => "workers",
            Knob::Threads => "threads",
            Knob::WorkerTimeout => "worker_timeout",
            Knob::MaxRequests => "max_requests",
        })
    }
}

/// How a server takes one knob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnobSpec {
    /// Arguments to add; `{}` is replaced by the value.
    pub args: Vec<String>,
    /// The value labour passes when the user gives none; without one the
    /// server's own default holds and nothing is passed.
    #[serde(default)]
    pub default: Option<u64>,
}

/// Where a knob's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KnobSource {
    /// The user's flag.
    Flag,
    /// The catalogue's default for this server.
    Catalogue,
    /// Nothing passed: the server's built-in default holds.
    Server,
}

/// One knob as a server was started with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KnobSetting {
    /// The knob.
    pub knob: Knob,
    /// The value in force, when labour knows it.
    pub value: Option<u64>,
    /// Where it came from.
    pub source: KnobSource,
    /// Whether labour passed a value to the server (false: the server has
    /// no such knob, or its own default holds).
    pub applied: bool,
    /// Why not, when it was asked for and not applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Placeholder element of a command that the knob arguments replace.
pub const OPTIONS_PLACEHOLDER: &str = "{options}";

impl Server {
    /// This server with `settings` applied: the command's `{options}`
    /// element replaced by the knob arguments, and `settings_used` saying,
    /// knob by knob, what was used and what the server could not take.
    pub fn configure(&self, asked: &KnobOptions) -> Server {
        let mut args = Vec::new();
        let mut used = Vec::new();
        for knob in Knob::ALL {
            let asked = knob.asked(asked);
            let setting = match (self.options.get(&knob), asked) {
                (Some(spec), _) => {
                    let (value, source) = match (asked, spec.default) {
                        (Some(value), _) => (Some(value), KnobSource::Flag),
                        (None, Some(value)) => (Some(value), KnobSource::Catalogue),
                        (None, None) => (None, KnobSource::Server),
                    };
                    if let Some(value) = value {
                        args.extend(
                            spec.args
                                .iter()
                                .map(|a| a.replace("{}", &value.to_string())),
                        );
                    }
                    KnobSetting {
                        knob,
                        value,
                        source,
                        applied: value.is_some(),
                        note: None,
                    }
                }
                (None, Some(value)) => KnobSetting {
                    knob,
                    value: Some(value),
                    source: KnobSource::Flag,
                    applied: false,
                    note: Some(
                        self.unsupported
                            .get(&knob)
                            .cloned()
                            .unwrap_or_else(|| format!("{} has no {knob} setting", self.name)),
                    ),
                },
                (None, None) => continue,
            };
            used.push(setting);
        }
        let mut configured = self.clone();
        configured.command = self
            .command
            .iter()
            .flat_map(|arg| {
                if arg == OPTIONS_PLACEHOLDER {
                    args.clone()
                } else {
                    vec![arg.clone()]
                }
            })
            .collect();
        configured.settings_used = used;
        configured
    }

    /// Knobs asked for that this server cannot take, with why.
    pub fn ignored_settings(&self) -> impl Iterator<Item = &KnobSetting> {
        self.settings_used
            .iter()
            .filter(|s| !s.applied && s.source == KnobSource::Flag)
    }

    /// The knobs it takes, for listings: `workers=2 threads max_requests`.
    pub fn knobs_summary(&self) -> String {
        let knobs: Vec<String> = self
            .options
            .iter()
            .map(|(knob, spec)| match spec.default {
                Some(default) => format!("{knob}={default}"),
                None => knob.to_string(),
            })
            .collect();
        if knobs.is_empty() {
            "-".into()
        } else {
            knobs.join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn server() -> Server {
        Server {
            name: "pool".into(),
            description: String::new(),
            version: "1".into(),
            concurrency: vec![],
            command: vec!["serve".into(), OPTIONS_PLACEHOLDER.into(), "app".into()],
            options: BTreeMap::from([
                (
                    Knob::Workers,
                    KnobSpec {
                        args: vec!["-w".into(), "{}".into()],
                        default: Some(2),
                    },
                ),
                (
                    Knob::MaxRequests,
                    KnobSpec {
                        args: vec!["--max={}".into()],
                        default: None,
                    },
                ),
            ]),
            unsupported: BTreeMap::from([(Knob::Threads, "one thread per worker".into())]),
            cap_add: BTreeMap::new(),
            local_skip: None,
            python: None,
            groups: Vec::new(),
            settings_used: Vec::new(),
            limits: Default::default(),
        }
    }

    #[test]
    fn defaults_and_flags_become_arguments_in_place() {
        let configured = server().configure(&KnobOptions::default());
        assert_eq!(configured.command, ["serve", "-w", "2", "app"]);
        let settings = KnobOptions {
            workers: Some(4),
            max_requests: Some(100),
            ..KnobOptions::default()
        };
        let configured = server().configure(&settings);
        assert_eq!(configured.command, ["serve", "-w", "4", "--max=100", "app"]);
        assert!(configured.settings_used.iter().all(|s| s.applied));
    }

    #[test]
    fn a_missing_knob_is_recorded_with_its_reason_not_dropped() {
        let settings = KnobOptions {
            threads: Some(8),
            worker_timeout: Some(5),
            ..KnobOptions::default()
        };
        let configured = server().configure(&settings);
        let ignored: Vec<(Knob, Option<String>)> = configured
            .ignored_settings()
            .map(|s| (s.knob, s.note.clone()))
            .collect();
        assert_eq!(
            ignored,
            [
                (Knob::Threads, Some("one thread per worker".into())),
                (
                    Knob::WorkerTimeout,
                    Some("pool has no worker_timeout setting".into())
                ),
            ]
        );
        assert_eq!(configured.command, ["serve", "-w", "2", "app"]);
    }

    #[test]
    fn knobs_summary_lists_defaults() {
        assert_eq!(server().knobs_summary(), "workers=2 max_requests");
    }
}
